//! Test support: every boolean answer of a history by path, and proptest strategies for valid
//! histories. Compiled only for tests.

use proptest::prelude::*;

use crate::input::*;

/// Every yes/no answer of the intake, by field path, for tests that flip answers generically.
pub(crate) fn bools_mut(h: &mut CrampHistory) -> Vec<(&'static str, &mut Option<bool>)> {
    let CrampHistory {
        patient,
        cramps: c,
        symptoms: s,
        conditions: k,
        lifestyle: l,
        findings: f,
        ..
    } = h;
    vec![
        ("patient.pregnant", &mut patient.pregnant),
        (
            "cramps.worse_uphill_or_hurrying",
            &mut c.worse_uphill_or_hurrying,
        ),
        (
            "cramps.starts_when_standing_still_or_sitting",
            &mut c.starts_when_standing_still_or_sitting,
        ),
        (
            "cramps.relieved_by_sitting_or_bending_forward",
            &mut c.relieved_by_sitting_or_bending_forward,
        ),
        (
            "cramps.relieved_by_hanging_leg_down",
            &mut c.relieved_by_hanging_leg_down,
        ),
        (
            "cramps.relieved_by_stretching",
            &mut c.relieved_by_stretching,
        ),
        ("cramps.sudden_onset", &mut c.sudden_onset),
        ("cramps.persistent_pain", &mut c.persistent_pain),
        (
            "cramps.pain_out_of_proportion",
            &mut c.pain_out_of_proportion,
        ),
        (
            "cramps.visible_muscle_tightening",
            &mut c.visible_muscle_tightening,
        ),
        ("cramps.wakes_from_sleep", &mut c.wakes_from_sleep),
        (
            "cramps.limits_daily_activities",
            &mut c.limits_daily_activities,
        ),
        ("symptoms.numbness", &mut s.numbness),
        ("symptoms.tingling", &mut s.tingling),
        ("symptoms.burning_pain", &mut s.burning_pain),
        (
            "symptoms.reduced_feeling_in_feet",
            &mut s.reduced_feeling_in_feet,
        ),
        (
            "symptoms.cannot_feel_temperature_with_feet",
            &mut s.cannot_feel_temperature_with_feet,
        ),
        ("symptoms.muscle_weakness", &mut s.muscle_weakness),
        ("symptoms.proximal_weakness", &mut s.proximal_weakness),
        ("symptoms.sudden_weakness", &mut s.sudden_weakness),
        ("symptoms.difficulty_walking", &mut s.difficulty_walking),
        (
            "symptoms.cannot_move_foot_or_toes",
            &mut s.cannot_move_foot_or_toes,
        ),
        ("symptoms.back_pain", &mut s.back_pain),
        (
            "symptoms.pain_radiating_down_leg",
            &mut s.pain_radiating_down_leg,
        ),
        ("symptoms.saddle_numbness", &mut s.saddle_numbness),
        (
            "symptoms.weakness_getting_worse",
            &mut s.weakness_getting_worse,
        ),
        ("symptoms.muscle_twitching", &mut s.muscle_twitching),
        ("symptoms.muscle_wasting", &mut s.muscle_wasting),
        (
            "symptoms.speech_or_swallowing_difficulty",
            &mut s.speech_or_swallowing_difficulty,
        ),
        (
            "symptoms.bladder_or_bowel_changes",
            &mut s.bladder_or_bowel_changes,
        ),
        (
            "symptoms.tingling_around_mouth",
            &mut s.tingling_around_mouth,
        ),
        ("symptoms.hand_or_foot_spasms", &mut s.hand_or_foot_spasms),
        ("symptoms.cold_feet", &mut s.cold_feet),
        ("symptoms.foot_pale_or_blue", &mut s.foot_pale_or_blue),
        ("symptoms.skin_changes_on_legs", &mut s.skin_changes_on_legs),
        ("symptoms.hair_loss_on_legs", &mut s.hair_loss_on_legs),
        (
            "symptoms.slow_healing_foot_wounds",
            &mut s.slow_healing_foot_wounds,
        ),
        ("symptoms.dry_cracked_feet", &mut s.dry_cracked_feet),
        ("symptoms.calf_redness", &mut s.calf_redness),
        ("symptoms.calf_warmth", &mut s.calf_warmth),
        ("symptoms.calf_tenderness", &mut s.calf_tenderness),
        ("symptoms.tense_calf", &mut s.tense_calf),
        ("symptoms.fever", &mut s.fever),
        ("symptoms.chest_pain", &mut s.chest_pain),
        ("symptoms.shortness_of_breath", &mut s.shortness_of_breath),
        ("symptoms.coughing_blood", &mut s.coughing_blood),
        ("symptoms.palpitations", &mut s.palpitations),
        ("symptoms.fainting", &mut s.fainting),
        ("symptoms.reduced_urine_output", &mut s.reduced_urine_output),
        ("symptoms.urination_changes", &mut s.urination_changes),
        ("symptoms.ankle_swelling", &mut s.ankle_swelling),
        ("symptoms.metallic_taste", &mut s.metallic_taste),
        ("symptoms.itching", &mut s.itching),
        (
            "symptoms.unexplained_weight_change",
            &mut s.unexplained_weight_change,
        ),
        ("symptoms.persistent_fatigue", &mut s.persistent_fatigue),
        ("symptoms.thirst", &mut s.thirst),
        ("symptoms.dry_mouth", &mut s.dry_mouth),
        (
            "symptoms.dizziness_on_standing",
            &mut s.dizziness_on_standing,
        ),
        (
            "symptoms.generalized_muscle_aches",
            &mut s.generalized_muscle_aches,
        ),
        ("symptoms.muscle_stiffness", &mut s.muscle_stiffness),
        ("symptoms.cold_intolerance", &mut s.cold_intolerance),
        ("symptoms.weight_gain", &mut s.weight_gain),
        ("symptoms.constipation", &mut s.constipation),
        ("symptoms.confusion", &mut s.confusion),
        ("conditions.hypertension", &mut k.hypertension),
        ("conditions.high_cholesterol", &mut k.high_cholesterol),
        (
            "conditions.coronary_or_cerebrovascular_disease",
            &mut k.coronary_or_cerebrovascular_disease,
        ),
        (
            "conditions.known_peripheral_artery_disease",
            &mut k.known_peripheral_artery_disease,
        ),
        (
            "conditions.family_history_of_pad",
            &mut k.family_history_of_pad,
        ),
        (
            "conditions.chronic_kidney_disease",
            &mut k.chronic_kidney_disease,
        ),
        ("conditions.on_dialysis", &mut k.on_dialysis),
        ("conditions.liver_disease", &mut k.liver_disease),
        (
            "conditions.spinal_stenosis_or_disc_disease",
            &mut k.spinal_stenosis_or_disc_disease,
        ),
        ("conditions.prior_dvt_or_pe", &mut k.prior_dvt_or_pe),
        ("conditions.active_cancer", &mut k.active_cancer),
        ("conditions.atrial_fibrillation", &mut k.atrial_fibrillation),
        (
            "conditions.chronic_lung_disease",
            &mut k.chronic_lung_disease,
        ),
        ("conditions.heavy_alcohol_use", &mut k.heavy_alcohol_use),
        (
            "conditions.recent_vomiting_or_diarrhea",
            &mut k.recent_vomiting_or_diarrhea,
        ),
        ("conditions.recent_surgery", &mut k.recent_surgery),
        (
            "conditions.bedridden_3_days_or_more",
            &mut k.bedridden_3_days_or_more,
        ),
        ("conditions.recent_long_travel", &mut k.recent_long_travel),
        (
            "conditions.leg_cast_or_recent_leg_fracture",
            &mut k.leg_cast_or_recent_leg_fracture,
        ),
        (
            "conditions.leg_paralysis_or_paresis",
            &mut k.leg_paralysis_or_paresis,
        ),
        (
            "lifestyle.recent_unaccustomed_strenuous_exercise",
            &mut l.recent_unaccustomed_strenuous_exercise,
        ),
        (
            "lifestyle.skips_warm_up_or_cool_down",
            &mut l.skips_warm_up_or_cool_down,
        ),
        (
            "lifestyle.hot_environment_or_heavy_sweating",
            &mut l.hot_environment_or_heavy_sweating,
        ),
        ("lifestyle.prolonged_sitting", &mut l.prolonged_sitting),
        ("lifestyle.prolonged_standing", &mut l.prolonged_standing),
        (
            "lifestyle.limited_sun_exposure",
            &mut l.limited_sun_exposure,
        ),
        (
            "lifestyle.tight_or_unsupportive_footwear",
            &mut l.tight_or_unsupportive_footwear,
        ),
        (
            "lifestyle.tight_clothing_on_legs_or_waist",
            &mut l.tight_clothing_on_legs_or_waist,
        ),
        (
            "lifestyle.sleeps_with_toes_pointed",
            &mut l.sleeps_with_toes_pointed,
        ),
        (
            "findings.pitting_edema_symptomatic_leg",
            &mut f.pitting_edema_symptomatic_leg,
        ),
        ("findings.deep_vein_tenderness", &mut f.deep_vein_tenderness),
        (
            "findings.collateral_superficial_veins",
            &mut f.collateral_superficial_veins,
        ),
        (
            "findings.pain_on_passive_stretch",
            &mut f.pain_on_passive_stretch,
        ),
    ]
}

/// The number of boolean answers [`bools_mut`] exposes.
pub(crate) fn bool_count() -> usize {
    bools_mut(&mut CrampHistory::default()).len()
}

/// Mostly unknown, sometimes no, sometimes yes: real histories answer a few questions, and dense
/// random answers would make nearly every case an emergency and the properties trivially true.
fn sparse_answer() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![16 => Just(None), 2 => Just(Some(false)), 1 => Just(Some(true))]
}

fn sometimes<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    proptest::option::weighted(0.15, s)
}

fn pick<T: Copy + std::fmt::Debug + 'static>(
    all: &'static [T],
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(proptest::sample::select(all))
}

const MED_NAMES: &[&str] = &[
    "HCTZ 25 mg",
    "furosemide 40mg",
    "spironolactone",
    "atorvastatin 40 mg",
    "simvastatin",
    "fluticasone/salmeterol 250/50",
    "omeprazole 20 mg",
    "quinine",
    "clarithromycin 500 mg",
    "tiotropium",
    "metoprolol succinate 50 mg",
    "metformin 1000 mg",
    "amlodipine 5 mg",
    "naproxen",
    "gabapentin 300 mg",
    "raloxifene",
    "apixaban",
];

prop_compose! {
    fn medication()(name in proptest::sample::select(MED_NAMES), weeks in proptest::option::of(0u32..600),
                    stopped in sometimes(any::<bool>())) -> Medication {
        Medication { name: (*name).to_owned(), weeks_since_started: weeks, recently_stopped: stopped, ..Medication::default() }
    }
}

prop_compose! {
    fn labs()(k in sometimes(1.0f64..10.0), na in sometimes(90.0f64..200.0),
              mg in sometimes(0.3f64..10.0), ca in sometimes(3.0f64..20.0),
              p in sometimes(0.3f64..20.0), egfr in sometimes(1.0f64..200.0),
              ck in sometimes(1.0f64..100_000.0), tsh in sometimes(0.001f64..50.0),
              d in sometimes(1.0f64..150.0), b12 in sometimes(20.0f64..2000.0)) -> Labs {
        Labs { potassium_mmol_l: k, sodium_mmol_l: na, magnesium_mg_dl: mg, calcium_mg_dl: ca, phosphate_mg_dl: p,
               egfr_ml_min_1_73m2: egfr, ck_u_l: ck, tsh_miu_l: tsh, vitamin_d_ng_ml: d, vitamin_b12_pg_ml: b12,
               hba1c_percent: None }
    }
}

type Enums1 = (
    Option<Sex>,
    Option<Laterality>,
    Option<Relief>,
    Option<Swelling>,
    Option<UrineColor>,
);
type Enums2 = (
    Option<Diabetes>,
    Option<Smoking>,
    Option<Thyroid>,
    Option<CkdStage>,
);
type Enums3 = (
    Option<ActivityLevel>,
    Option<Pulses>,
    Option<Sensation>,
    Option<Sensation>,
);

fn enums1() -> impl Strategy<Value = Enums1> {
    (
        pick(Sex::ALL),
        pick(Laterality::ALL),
        pick(Relief::ALL),
        pick(Swelling::ALL),
        pick(UrineColor::ALL),
    )
}

fn enums2() -> impl Strategy<Value = Enums2> {
    (
        pick(Diabetes::ALL),
        pick(Smoking::ALL),
        pick(Thyroid::ALL),
        pick(CkdStage::ALL),
    )
}

fn enums3() -> impl Strategy<Value = Enums3> {
    (
        pick(ActivityLevel::ALL),
        pick(Pulses::ALL),
        pick(Sensation::ALL),
        pick(Sensation::ALL),
    )
}

fn numbers() -> impl Strategy<Value = (Option<f64>, Option<u32>, Option<u32>)> {
    (
        proptest::option::of(0.0f64..=2.0),
        proptest::option::of(20u32..=250),
        proptest::option::of(0u32..=4000),
    )
}

prop_compose! {
    /// A valid history: every answer random (yes, no or unknown), enums random, labs in bounds.
    pub(crate) fn history()(
        age in 1u32..=120,
        answers in proptest::collection::vec(sparse_answer(), bool_count()),
        lists in (
            proptest::collection::vec(proptest::sample::select(Location::ALL), 0..4),
            proptest::collection::vec(proptest::sample::select(Context::ALL), 0..4),
        ),
        e1 in enums1(),
        e2 in enums2(),
        e3 in enums3(),
        nums in numbers(),
        meds in proptest::collection::vec(medication(), 0..6),
        labs in labs(),
        course in (sometimes(0u32..60), sometimes(0u32..72), sometimes(0.0f64..8.0)),
    ) -> CrampHistory {
        let (sex, laterality, relief, swelling, urine) = e1;
        let (diabetes, smoking, thyroid, ckd) = e2;
        let (activity, pulses, mono, vib) = e3;
        let (abi, hr, duration) = nums;
        let mut h = CrampHistory::default();
        for ((_, slot), v) in bools_mut(&mut h).into_iter().zip(answers) {
            *slot = v;
        }
        h.patient.age_years = Some(age);
        h.patient.sex = sex;
        if sex == Some(Sex::Male) && h.patient.pregnant == Some(true) {
            h.patient.pregnant = Some(false);
        }
        (h.cramps.locations, h.cramps.contexts) = lists;
        h.cramps.laterality = laterality;
        h.cramps.relief_on_standing_still = relief;
        h.cramps.typical_duration_seconds = duration;
        h.symptoms.leg_swelling = swelling;
        h.symptoms.urine_color = urine;
        h.conditions.diabetes = diabetes;
        h.conditions.smoking = smoking;
        h.conditions.thyroid = thyroid;
        h.conditions.ckd_stage = ckd;
        h.lifestyle.activity_level = activity;
        h.findings.foot_pulses = pulses;
        h.findings.monofilament_sensation = mono;
        h.findings.vibration_sense = vib;
        h.findings.ankle_brachial_index = abi;
        h.findings.heart_rate_bpm = hr;
        h.findings.labs = labs;
        h.medications = meds;
        (
            h.cramps.weeks_since_onset,
            h.cramps.hours_since_onset,
            h.findings.calf_circumference_difference_cm,
        ) = course;
        h
    }
}

/// The yes/no answers the red-flag rules read, from the knowledge base itself.
fn red_flag_answers() -> Vec<&'static str> {
    let mut h = CrampHistory::default();
    let bools: Vec<&'static str> = bools_mut(&mut h).into_iter().map(|(p, _)| p).collect();
    let mut out: Vec<&'static str> = Vec::new();
    for rule in crate::KnowledgeBase::standard().rules() {
        if rule.flag.is_red_flag() {
            for input in rule.inputs {
                if let Some(p) = bools.iter().find(|b| *b == input)
                    && !out.contains(p)
                {
                    out.push(p);
                }
            }
        }
    }
    out
}

prop_compose! {
    /// A history as [`history`] makes it, with some of the answers red-flag rules read set to
    /// "yes" (each with a per-history probability of 1/50, 1/15 or 1/5), so that red flags are
    /// established or possible often enough for the certainty properties to bite, from a single
    /// sign to many.
    pub(crate) fn red_flag_history()(
        p in proptest::sample::select(&[0.02, 0.066, 0.2][..])
    )(
        h in history(),
        lifts in proptest::collection::vec(proptest::bool::weighted(p), red_flag_answers().len()),
    ) -> CrampHistory {
        let mut h = h;
        let red = red_flag_answers();
        for (path, slot) in bools_mut(&mut h) {
            if let Some(i) = red.iter().position(|p| *p == path)
                && lifts.get(i).copied().unwrap_or(false)
            {
                *slot = Some(true);
            }
        }
        if h.patient.sex == Some(Sex::Male) {
            h.patient.pregnant = h.patient.pregnant.map(|_| false);
        }
        h
    }
}

/// `n` generated histories from a fixed seed, for corpus-wide checks outside `proptest!`.
pub(crate) fn corpus(n: usize) -> Vec<CrampHistory> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = history();
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the history strategy always generates")
                .current()
        })
        .collect()
}
