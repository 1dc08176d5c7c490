//! The intake model: a patient's structured leg-cramp history, as `intake.md` defines it.
//!
//! Every scalar is an `Option` because "not asked" is not "no": rules read absence as unknown, and
//! missing data never lowers urgency. Enums carry no unknown variant; an adapter that meets an enum
//! number it does not know reports it as a [`FieldViolation`] to [`validate`] instead.
//!
//! These types hold patient data, so their `Debug` is redacting: a history can be logged by
//! accident without leaking an answer.

pub(crate) mod fields;
mod validate;

use std::fmt;

use crate::names::named_enum;
pub use validate::{
    FieldViolation, InputError, MAX_MEDICATIONS, MAX_STRING_CHARS, ValidHistory, validate,
};

named_enum! {
    /// Sex at birth, for pregnancy and guideline criteria.
    pub enum Sex { Female = "SEX_FEMALE", Male = "SEX_MALE", Other = "SEX_OTHER" }
}
named_enum! {
    /// Where the cramp is felt.
    pub enum Location {
        Calf = "LOCATION_CALF", Foot = "LOCATION_FOOT", Toes = "LOCATION_TOES", Shin = "LOCATION_SHIN",
        Thigh = "LOCATION_THIGH", Hamstring = "LOCATION_HAMSTRING", Buttock = "LOCATION_BUTTOCK",
    }
}
named_enum! {
    /// One side or both.
    pub enum Laterality { Left = "LATERALITY_LEFT", Right = "LATERALITY_RIGHT", Both = "LATERALITY_BOTH" }
}
named_enum! {
    /// When the cramp happens.
    pub enum Context {
        Night = "CONTEXT_NIGHT", Rest = "CONTEXT_REST", Walking = "CONTEXT_WALKING",
        Exercise = "CONTEXT_EXERCISE", AfterExercise = "CONTEXT_AFTER_EXERCISE",
        ProlongedStanding = "CONTEXT_PROLONGED_STANDING", ProlongedSitting = "CONTEXT_PROLONGED_SITTING",
        DuringDialysis = "CONTEXT_DURING_DIALYSIS",
    }
}
named_enum! {
    /// Edinburgh Claudication Questionnaire Q5: what happens on standing still.
    pub enum Relief {
        Within10Minutes = "RELIEF_WITHIN_10_MINUTES", After10Minutes = "RELIEF_AFTER_10_MINUTES",
        None = "RELIEF_NONE",
    }
}
named_enum! {
    /// Leg swelling.
    pub enum Swelling { None = "SWELLING_NONE", OneLeg = "SWELLING_ONE_LEG", BothLegs = "SWELLING_BOTH_LEGS" }
}
named_enum! {
    /// Urine colour.
    pub enum UrineColor {
        Pale = "URINE_COLOR_PALE", DarkYellow = "URINE_COLOR_DARK_YELLOW", Cola = "URINE_COLOR_COLA",
    }
}
named_enum! {
    /// Diabetes status.
    pub enum Diabetes {
        None = "DIABETES_NONE", Prediabetes = "DIABETES_PREDIABETES", Type1 = "DIABETES_TYPE_1",
        Type2 = "DIABETES_TYPE_2",
    }
}
named_enum! {
    /// Smoking status.
    pub enum Smoking { Never = "SMOKING_NEVER", Former = "SMOKING_FORMER", Current = "SMOKING_CURRENT" }
}
named_enum! {
    /// Thyroid status.
    pub enum Thyroid { None = "THYROID_NONE", Hypo = "THYROID_HYPO", Hyper = "THYROID_HYPER" }
}
named_enum! {
    /// KDIGO GFR category.
    pub enum CkdStage {
        G1 = "CKD_STAGE_G1", G2 = "CKD_STAGE_G2", G3a = "CKD_STAGE_G3A", G3b = "CKD_STAGE_G3B",
        G4 = "CKD_STAGE_G4", G5 = "CKD_STAGE_G5",
    }
}
named_enum! {
    /// Habitual activity.
    pub enum ActivityLevel {
        Sedentary = "ACTIVITY_LEVEL_SEDENTARY", Moderate = "ACTIVITY_LEVEL_MODERATE",
        Vigorous = "ACTIVITY_LEVEL_VIGOROUS",
    }
}
named_enum! {
    /// Foot pulses on examination.
    pub enum Pulses { Normal = "PULSES_NORMAL", Diminished = "PULSES_DIMINISHED", Absent = "PULSES_ABSENT" }
}
named_enum! {
    /// Sensation on examination.
    pub enum Sensation { Normal = "SENSATION_NORMAL", Reduced = "SENSATION_REDUCED", Absent = "SENSATION_ABSENT" }
}

/// A patient's leg-cramp history: the whole input of one assessment.
#[derive(Clone, Default, PartialEq)]
pub struct CrampHistory {
    /// Who the patient is, clinically.
    pub patient: Patient,
    /// The complaint itself.
    pub cramps: Cramps,
    /// Accompanying symptoms.
    pub symptoms: Symptoms,
    /// Medical history.
    pub conditions: Conditions,
    /// Current and recently stopped medications.
    pub medications: Vec<Medication>,
    /// Lifestyle factors and triggers.
    pub lifestyle: Lifestyle,
    /// Clinician-entered findings and labs.
    pub findings: Findings,
    /// Answers or chart items the adapter could not read (clinical-reference.md g.1): their
    /// fields stay absent, so they are unknown and never "no", and the assessment names them so a
    /// clinician knows what was not used.
    pub unread_inputs: Vec<UnreadInput>,
}

/// An answer or chart item an adapter could not read.
#[derive(Clone, PartialEq, Eq)]
pub struct UnreadInput {
    /// Where it was: an intake field path or linkId (`symptoms.fever`), or a chart item
    /// (`Condition/abc.code`).
    pub item: String,
    /// Why it was not used, in words a clinician reads (never the submitted value).
    pub reason: String,
}

impl fmt::Debug for UnreadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A chart item can name a patient's resource; show neither part in logs.
        f.debug_struct("UnreadInput").finish_non_exhaustive()
    }
}

impl fmt::Debug for CrampHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Patient answers never reach a log line through Debug; the count is safe and useful.
        f.debug_struct("CrampHistory")
            .field("medications", &self.medications.len())
            .finish_non_exhaustive()
    }
}

/// Patient demographics needed by the rules.
#[derive(Clone, Default, PartialEq)]
pub struct Patient {
    /// Required; 1 to 120.
    pub age_years: Option<u32>,
    /// Sex at birth.
    pub sex: Option<Sex>,
    /// Currently pregnant.
    pub pregnant: Option<bool>,
    /// Gestational age in weeks, 1 to 45.
    pub pregnancy_weeks: Option<u32>,
}

/// The complaint.
#[derive(Clone, Default, PartialEq)]
pub struct Cramps {
    /// Where it is felt.
    pub locations: Vec<Location>,
    /// One side or both.
    pub laterality: Option<Laterality>,
    /// When it happens.
    pub contexts: Vec<Context>,
    /// 0 to 500.
    pub episodes_per_week: Option<f64>,
    /// How long one episode lasts, at most a week.
    pub typical_duration_seconds: Option<u32>,
    /// How long the problem has existed.
    pub weeks_since_onset: Option<u32>,
    /// For an acute, ongoing episode.
    pub hours_since_onset: Option<u32>,
    /// 0 to 10.
    pub severity: Option<u32>,
    /// ECQ Q3.
    pub worse_uphill_or_hurrying: Option<bool>,
    /// ECQ Q2: pain ever begins at rest.
    pub starts_when_standing_still_or_sitting: Option<bool>,
    /// ECQ Q5.
    pub relief_on_standing_still: Option<Relief>,
    /// Neurogenic (spinal stenosis) relief pattern.
    pub relieved_by_sitting_or_bending_forward: Option<bool>,
    /// Dependency relief: ischemic rest pain.
    pub relieved_by_hanging_leg_down: Option<bool>,
    /// Typical of a true cramp.
    pub relieved_by_stretching: Option<bool>,
    /// Distance before symptoms start.
    pub pain_free_walking_meters: Option<u32>,
    /// Began abruptly.
    pub sudden_onset: Option<bool>,
    /// Constant pain that does not come and go like a cramp.
    pub persistent_pain: Option<bool>,
    /// Severe pain unlike usual cramps.
    pub pain_out_of_proportion: Option<bool>,
    /// Hard, knotted muscle during the episode.
    pub visible_muscle_tightening: Option<bool>,
    /// Wakes the patient from sleep.
    pub wakes_from_sleep: Option<bool>,
    /// Limits daily activities.
    pub limits_daily_activities: Option<bool>,
}

/// Accompanying symptoms; each `None` means not asked.
#[derive(Clone, Default, PartialEq)]
#[expect(
    missing_docs,
    reason = "field names are the intake contract's own words"
)]
pub struct Symptoms {
    pub numbness: Option<bool>,
    pub tingling: Option<bool>,
    pub burning_pain: Option<bool>,
    pub reduced_feeling_in_feet: Option<bool>,
    pub cannot_feel_temperature_with_feet: Option<bool>,
    pub muscle_weakness: Option<bool>,
    pub proximal_weakness: Option<bool>,
    pub sudden_weakness: Option<bool>,
    pub difficulty_walking: Option<bool>,
    pub cannot_move_foot_or_toes: Option<bool>,
    pub back_pain: Option<bool>,
    pub pain_radiating_down_leg: Option<bool>,
    pub saddle_numbness: Option<bool>,
    pub bladder_or_bowel_changes: Option<bool>,
    pub tingling_around_mouth: Option<bool>,
    pub hand_or_foot_spasms: Option<bool>,
    pub cold_feet: Option<bool>,
    pub foot_pale_or_blue: Option<bool>,
    pub skin_changes_on_legs: Option<bool>,
    pub hair_loss_on_legs: Option<bool>,
    pub slow_healing_foot_wounds: Option<bool>,
    pub dry_cracked_feet: Option<bool>,
    pub leg_swelling: Option<Swelling>,
    pub calf_redness: Option<bool>,
    pub calf_warmth: Option<bool>,
    pub calf_tenderness: Option<bool>,
    pub tense_calf: Option<bool>,
    pub fever: Option<bool>,
    pub chest_pain: Option<bool>,
    pub shortness_of_breath: Option<bool>,
    pub coughing_blood: Option<bool>,
    pub palpitations: Option<bool>,
    pub fainting: Option<bool>,
    pub urine_color: Option<UrineColor>,
    pub reduced_urine_output: Option<bool>,
    pub urination_changes: Option<bool>,
    pub ankle_swelling: Option<bool>,
    pub metallic_taste: Option<bool>,
    pub itching: Option<bool>,
    pub unexplained_weight_change: Option<bool>,
    pub persistent_fatigue: Option<bool>,
    pub thirst: Option<bool>,
    pub dry_mouth: Option<bool>,
    pub dizziness_on_standing: Option<bool>,
    pub generalized_muscle_aches: Option<bool>,
    pub muscle_stiffness: Option<bool>,
    pub cold_intolerance: Option<bool>,
    pub weight_gain: Option<bool>,
    pub constipation: Option<bool>,
    pub confusion: Option<bool>,
    pub weakness_getting_worse: Option<bool>,
    pub muscle_twitching: Option<bool>,
    pub muscle_wasting: Option<bool>,
    pub speech_or_swallowing_difficulty: Option<bool>,
}

/// Medical history; each `None` means not asked.
#[derive(Clone, Default, PartialEq)]
#[expect(
    missing_docs,
    reason = "field names are the intake contract's own words"
)]
pub struct Conditions {
    pub diabetes: Option<Diabetes>,
    pub diabetes_years: Option<u32>,
    pub smoking: Option<Smoking>,
    pub hypertension: Option<bool>,
    pub high_cholesterol: Option<bool>,
    pub coronary_or_cerebrovascular_disease: Option<bool>,
    pub known_peripheral_artery_disease: Option<bool>,
    pub family_history_of_pad: Option<bool>,
    pub chronic_kidney_disease: Option<bool>,
    pub on_dialysis: Option<bool>,
    pub liver_disease: Option<bool>,
    pub spinal_stenosis_or_disc_disease: Option<bool>,
    pub prior_dvt_or_pe: Option<bool>,
    pub active_cancer: Option<bool>,
    pub atrial_fibrillation: Option<bool>,
    pub chronic_lung_disease: Option<bool>,
    pub heavy_alcohol_use: Option<bool>,
    pub recent_vomiting_or_diarrhea: Option<bool>,
    pub recent_surgery: Option<bool>,
    pub bedridden_3_days_or_more: Option<bool>,
    pub recent_long_travel: Option<bool>,
    pub leg_cast_or_recent_leg_fracture: Option<bool>,
    pub leg_paralysis_or_paresis: Option<bool>,
    pub thyroid: Option<Thyroid>,
    pub ckd_stage: Option<CkdStage>,
}

/// One medication as the patient or the EHR wrote it.
#[derive(Clone, Default, PartialEq)]
pub struct Medication {
    /// Required: generic, brand, abbreviation or combination, with or without dose.
    pub name: String,
    /// RxNorm concept id, when the EHR has one.
    pub rxnorm_cui: Option<String>,
    /// WHO ATC code, when known.
    pub atc_code: Option<String>,
    /// Recency matters: a new drug is a stronger suspect.
    pub weeks_since_started: Option<u32>,
    /// E.g. an anticoagulant stopped.
    pub recently_stopped: Option<bool>,
}

impl fmt::Debug for Medication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Medication").finish_non_exhaustive()
    }
}

/// Lifestyle factors and triggers; each `None` means not asked.
#[derive(Clone, Default, PartialEq)]
#[expect(
    missing_docs,
    reason = "field names are the intake contract's own words"
)]
pub struct Lifestyle {
    pub activity_level: Option<ActivityLevel>,
    pub daily_fluid_liters: Option<f64>,
    pub recent_unaccustomed_strenuous_exercise: Option<bool>,
    pub skips_warm_up_or_cool_down: Option<bool>,
    pub hot_environment_or_heavy_sweating: Option<bool>,
    pub prolonged_sitting: Option<bool>,
    pub prolonged_standing: Option<bool>,
    pub limited_sun_exposure: Option<bool>,
    pub tight_or_unsupportive_footwear: Option<bool>,
    pub tight_clothing_on_legs_or_waist: Option<bool>,
    pub sleeps_with_toes_pointed: Option<bool>,
}

/// Clinician-entered findings; each `None` means not examined.
#[derive(Clone, Default, PartialEq)]
#[expect(
    missing_docs,
    reason = "field names are the intake contract's own words"
)]
pub struct Findings {
    pub foot_pulses: Option<Pulses>,
    pub ankle_brachial_index: Option<f64>,
    pub toe_brachial_index: Option<f64>,
    pub monofilament_sensation: Option<Sensation>,
    pub vibration_sense: Option<Sensation>,
    pub heart_rate_bpm: Option<u32>,
    pub calf_circumference_difference_cm: Option<f64>,
    pub pitting_edema_symptomatic_leg: Option<bool>,
    pub deep_vein_tenderness: Option<bool>,
    pub collateral_superficial_veins: Option<bool>,
    pub pain_on_passive_stretch: Option<bool>,
    pub labs: Labs,
}

/// Laboratory results, each in the unit its name gives.
#[derive(Clone, Default, PartialEq)]
#[expect(
    missing_docs,
    reason = "field names are the intake contract's own words"
)]
pub struct Labs {
    pub potassium_mmol_l: Option<f64>,
    pub sodium_mmol_l: Option<f64>,
    pub magnesium_mg_dl: Option<f64>,
    pub calcium_mg_dl: Option<f64>,
    pub phosphate_mg_dl: Option<f64>,
    pub egfr_ml_min_1_73m2: Option<f64>,
    pub hba1c_percent: Option<f64>,
    pub ck_u_l: Option<f64>,
    pub tsh_miu_l: Option<f64>,
    pub vitamin_d_ng_ml: Option<f64>,
    pub vitamin_b12_pg_ml: Option<f64>,
}

macro_rules! redacted_debug {
    ($($t:ident),+) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )+};
}
redacted_debug!(
    Patient, Cramps, Symptoms, Conditions, Lifestyle, Findings, Labs
);
