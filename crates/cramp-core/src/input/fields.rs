//! Every intake field path, by type: the core's own copy of the `intake.md` schema.
//!
//! Rules, evidence, questions and the "settled by" lists name answers by path
//! (`symptoms.leg_swelling`). A typo there would silently never match, so tests check every path
//! the knowledge base uses against this table, and the engine reads "is this answer known?"
//! through it instead of re-spelling each field.

use super::{
    ActivityLevel, CkdStage, Context, CrampHistory, Diabetes, Laterality, Location, Pulses, Relief,
    Sensation, Sex, Smoking, Swelling, Thyroid, UrineColor,
};

/// One answer of a history, borrowed for reading or writing by its type.
pub(crate) enum Slot<'a> {
    /// A yes/no answer.
    Bool(&'a mut Option<bool>),
    /// A whole number.
    U32(&'a mut Option<u32>),
    /// A measurement.
    F64(&'a mut Option<f64>),
    /// One contract-named value.
    Enum(&'a mut dyn NamedAnswer),
    /// A list of contract-named values; empty is unknown.
    List(&'a mut dyn NamedAnswer),
}

impl Slot<'_> {
    /// Whether the answer was given.
    pub(crate) fn known(&self) -> bool {
        match self {
            Self::Bool(v) => v.is_some(),
            Self::U32(v) => v.is_some(),
            Self::F64(v) => v.is_some(),
            Self::Enum(v) | Self::List(v) => v.known(),
        }
    }

    /// Makes the answer unknown (not asked).
    #[cfg(test)]
    pub(crate) fn clear(&mut self) {
        match self {
            Self::Bool(v) => **v = None,
            Self::U32(v) => **v = None,
            Self::F64(v) => **v = None,
            Self::Enum(v) | Self::List(v) => v.clear(),
        }
    }
}

/// An answer whose values are contract names (an enum, or a list of one).
pub(crate) trait NamedAnswer {
    /// Whether the answer was given.
    fn known(&self) -> bool;
    /// Makes it unknown.
    #[cfg(test)]
    fn clear(&mut self);
    /// Sets (an enum) or adds (a list) the value with this contract name; false if no such name.
    #[cfg(test)]
    fn set_name(&mut self, name: &str) -> bool;
}

macro_rules! named_answers {
    ($($t:ty),+) => {$(
        impl NamedAnswer for Option<$t> {
            fn known(&self) -> bool {
                self.is_some()
            }
            #[cfg(test)]
            fn clear(&mut self) {
                *self = None;
            }
            #[cfg(test)]
            fn set_name(&mut self, name: &str) -> bool {
                *self = <$t>::from_name(name);
                self.is_some()
            }
        }
        impl NamedAnswer for Vec<$t> {
            fn known(&self) -> bool {
                !self.is_empty()
            }
            #[cfg(test)]
            fn clear(&mut self) {
                self.clear();
            }
            #[cfg(test)]
            fn set_name(&mut self, name: &str) -> bool {
                <$t>::from_name(name).map(|v| self.push(v)).is_some()
            }
        }
    )+};
}

named_answers!(
    Sex,
    Location,
    Laterality,
    Context,
    Relief,
    Swelling,
    UrineColor,
    Diabetes,
    Smoking,
    Thyroid,
    CkdStage,
    ActivityLevel,
    Pulses,
    Sensation
);

macro_rules! intake_fields {
    ($($kind:ident $a:ident . $b:ident $(. $c:ident)? ;)+) => {
        /// Every answer's path, in `intake.md` order.
        pub(crate) const PATHS: &[&str] = &[
            $(concat!(stringify!($a), ".", stringify!($b) $(, ".", stringify!($c))?)),+
        ];

        /// Every answer of `h`, by path, for generic reading and writing.
        pub(crate) fn slots(h: &mut CrampHistory) -> Vec<(&'static str, Slot<'_>)> {
            vec![$(
                (
                    concat!(stringify!($a), ".", stringify!($b) $(, ".", stringify!($c))?),
                    Slot::$kind(&mut h.$a.$b $(.$c)?),
                )
            ),+]
        }
    };
}

intake_fields! {
    U32 patient.age_years;
    Enum patient.sex;
    Bool patient.pregnant;
    U32 patient.pregnancy_weeks;
    List cramps.locations;
    Enum cramps.laterality;
    List cramps.contexts;
    F64 cramps.episodes_per_week;
    U32 cramps.typical_duration_seconds;
    U32 cramps.weeks_since_onset;
    U32 cramps.hours_since_onset;
    U32 cramps.severity;
    Bool cramps.worse_uphill_or_hurrying;
    Bool cramps.starts_when_standing_still_or_sitting;
    Enum cramps.relief_on_standing_still;
    Bool cramps.relieved_by_sitting_or_bending_forward;
    Bool cramps.relieved_by_hanging_leg_down;
    Bool cramps.relieved_by_stretching;
    U32 cramps.pain_free_walking_meters;
    Bool cramps.sudden_onset;
    Bool cramps.persistent_pain;
    Bool cramps.pain_out_of_proportion;
    Bool cramps.visible_muscle_tightening;
    Bool cramps.wakes_from_sleep;
    Bool cramps.limits_daily_activities;
    Bool symptoms.numbness;
    Bool symptoms.tingling;
    Bool symptoms.burning_pain;
    Bool symptoms.reduced_feeling_in_feet;
    Bool symptoms.cannot_feel_temperature_with_feet;
    Bool symptoms.muscle_weakness;
    Bool symptoms.proximal_weakness;
    Bool symptoms.sudden_weakness;
    Bool symptoms.difficulty_walking;
    Bool symptoms.cannot_move_foot_or_toes;
    Bool symptoms.back_pain;
    Bool symptoms.pain_radiating_down_leg;
    Bool symptoms.saddle_numbness;
    Bool symptoms.bladder_or_bowel_changes;
    Bool symptoms.tingling_around_mouth;
    Bool symptoms.hand_or_foot_spasms;
    Bool symptoms.cold_feet;
    Bool symptoms.foot_pale_or_blue;
    Bool symptoms.skin_changes_on_legs;
    Bool symptoms.hair_loss_on_legs;
    Bool symptoms.slow_healing_foot_wounds;
    Bool symptoms.dry_cracked_feet;
    Enum symptoms.leg_swelling;
    Bool symptoms.calf_redness;
    Bool symptoms.calf_warmth;
    Bool symptoms.calf_tenderness;
    Bool symptoms.tense_calf;
    Bool symptoms.fever;
    Bool symptoms.chest_pain;
    Bool symptoms.shortness_of_breath;
    Bool symptoms.coughing_blood;
    Bool symptoms.palpitations;
    Bool symptoms.fainting;
    Enum symptoms.urine_color;
    Bool symptoms.reduced_urine_output;
    Bool symptoms.urination_changes;
    Bool symptoms.ankle_swelling;
    Bool symptoms.metallic_taste;
    Bool symptoms.itching;
    Bool symptoms.unexplained_weight_change;
    Bool symptoms.persistent_fatigue;
    Bool symptoms.thirst;
    Bool symptoms.dry_mouth;
    Bool symptoms.dizziness_on_standing;
    Bool symptoms.generalized_muscle_aches;
    Bool symptoms.muscle_stiffness;
    Bool symptoms.cold_intolerance;
    Bool symptoms.weight_gain;
    Bool symptoms.constipation;
    Bool symptoms.confusion;
    Bool symptoms.weakness_getting_worse;
    Bool symptoms.muscle_twitching;
    Bool symptoms.muscle_wasting;
    Bool symptoms.speech_or_swallowing_difficulty;
    Enum conditions.diabetes;
    U32 conditions.diabetes_years;
    Enum conditions.smoking;
    Bool conditions.hypertension;
    Bool conditions.high_cholesterol;
    Bool conditions.coronary_or_cerebrovascular_disease;
    Bool conditions.known_peripheral_artery_disease;
    Bool conditions.family_history_of_pad;
    Bool conditions.chronic_kidney_disease;
    Bool conditions.on_dialysis;
    Bool conditions.liver_disease;
    Bool conditions.spinal_stenosis_or_disc_disease;
    Bool conditions.prior_dvt_or_pe;
    Bool conditions.active_cancer;
    Bool conditions.atrial_fibrillation;
    Bool conditions.chronic_lung_disease;
    Bool conditions.heavy_alcohol_use;
    Bool conditions.recent_vomiting_or_diarrhea;
    Bool conditions.recent_surgery;
    Bool conditions.bedridden_3_days_or_more;
    Bool conditions.recent_long_travel;
    Bool conditions.leg_cast_or_recent_leg_fracture;
    Bool conditions.leg_paralysis_or_paresis;
    Enum conditions.thyroid;
    Enum conditions.ckd_stage;
    Enum lifestyle.activity_level;
    F64 lifestyle.daily_fluid_liters;
    Bool lifestyle.recent_unaccustomed_strenuous_exercise;
    Bool lifestyle.skips_warm_up_or_cool_down;
    Bool lifestyle.hot_environment_or_heavy_sweating;
    Bool lifestyle.prolonged_sitting;
    Bool lifestyle.prolonged_standing;
    Bool lifestyle.limited_sun_exposure;
    Bool lifestyle.tight_or_unsupportive_footwear;
    Bool lifestyle.tight_clothing_on_legs_or_waist;
    Bool lifestyle.sleeps_with_toes_pointed;
    Enum findings.foot_pulses;
    F64 findings.ankle_brachial_index;
    F64 findings.toe_brachial_index;
    Enum findings.monofilament_sensation;
    Enum findings.vibration_sense;
    U32 findings.heart_rate_bpm;
    F64 findings.calf_circumference_difference_cm;
    Bool findings.pitting_edema_symptomatic_leg;
    Bool findings.deep_vein_tenderness;
    Bool findings.collateral_superficial_veins;
    Bool findings.pain_on_passive_stretch;
    F64 findings.labs.potassium_mmol_l;
    F64 findings.labs.sodium_mmol_l;
    F64 findings.labs.magnesium_mg_dl;
    F64 findings.labs.calcium_mg_dl;
    F64 findings.labs.phosphate_mg_dl;
    F64 findings.labs.egfr_ml_min_1_73m2;
    F64 findings.labs.hba1c_percent;
    F64 findings.labs.ck_u_l;
    F64 findings.labs.tsh_miu_l;
    F64 findings.labs.vitamin_d_ng_ml;
    F64 findings.labs.vitamin_b12_pg_ml;
}

/// The fields of one `medications[i]` entry.
pub(crate) const MEDICATION_FIELDS: &[&str] = &[
    "name",
    "rxnorm_cui",
    "atc_code",
    "weeks_since_started",
    "recently_stopped",
];

/// Whether `path` names an intake field: a path of [`PATHS`], `medications[i].<field>`, or
/// `medications.<field>` (a question about every entry, as the Questionnaire's repeating group
/// names it).
pub(crate) fn is_intake_path(path: &str) -> bool {
    if PATHS.contains(&path)
        || path
            .strip_prefix("medications.")
            .is_some_and(|f| MEDICATION_FIELDS.contains(&f))
    {
        return true;
    }
    path.strip_prefix("medications[")
        .and_then(|rest| rest.split_once("]."))
        .is_some_and(|(index, field)| {
            !index.is_empty()
                && index.chars().all(|c| c.is_ascii_digit())
                && MEDICATION_FIELDS.contains(&field)
        })
}

/// The paths of the answers given in `h` (a scratch copy is read; the history is not changed).
pub(crate) fn known_paths(h: &CrampHistory) -> Vec<&'static str> {
    let mut copy = h.clone();
    slots(&mut copy)
        .into_iter()
        .filter(|(_, s)| s.known())
        .map(|(p, _)| p)
        .collect()
}
