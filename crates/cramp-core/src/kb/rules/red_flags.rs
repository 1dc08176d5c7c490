//! Red flags that need emergency or same-day care (clinical-reference.md b.6).
//!
//! Each rule reads only the answers given; an unknown answer never counts as "no" in a way that
//! lowers urgency, and where an unknown answer would raise it the rule asks for it.

use crate::engine::facts::{Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::{Laterality, Pulses, Swelling, UrineColor};
use crate::kb::sources::{S1, S4, S18, S19, S20, S21, S22, S23, S24, S26};
use crate::kb::{Rule, RuleMeta, codes};
use crate::output::{DrugClass, Flag, Urgency, Workup};

const V1: &str = "1.0.0";
/// Second edition (g.1-g.5): the rule fires on more inputs than 1.0.0 did.
const V2: &str = "2.0.0";

/// Chest pain, breathlessness, hemoptysis or syncope with leg symptoms: a clot may have travelled
/// to the lung, or the heart is involved. Always an emergency (b.6, seed A).
pub(crate) const PE: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.pulmonary_embolism",
        version: V1,
        title: "Possible pulmonary embolism or cardiac cause",
        flag: Flag::PeSuspected,
        rationale: "Chest pain, shortness of breath, coughing blood or fainting together with leg symptoms can mean a blood clot has travelled to the lung, or a heart problem. This is an emergency, never an outpatient work-up.",
        inputs: &[
            "symptoms.chest_pain",
            "symptoms.shortness_of_breath",
            "symptoms.coughing_blood",
            "symptoms.fainting",
            "findings.heart_rate_bpm",
            "conditions.prior_dvt_or_pe",
            "conditions.active_cancer",
            "conditions.recent_surgery",
            "conditions.bedridden_3_days_or_more",
        ],
        citations: &[S21, S1],
        codings: &[codes::SCT_PE],
        max_urgency: Urgency::Emergency,
    },
    eval: pe,
};

fn pe(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let signs = [
        s.chest_pain,
        s.shortness_of_breath,
        s.coughing_blood,
        s.fainting,
    ];
    if !signs.into_iter().any(|v| f.yes(v)) {
        return;
    }
    let mut evidence = trues(&[
        ("symptoms.chest_pain", s.chest_pain),
        ("symptoms.shortness_of_breath", s.shortness_of_breath),
        ("symptoms.coughing_blood", s.coughing_blood),
        ("symptoms.fainting", s.fainting),
    ]);
    let wells = f.wells_pe();
    let band = if wells.points > 4.0 {
        "PE likely"
    } else {
        "PE unlikely by score alone"
    };
    evidence.extend(wells.items);
    out.fire(
        Fire::new(
            Urgency::Emergency,
            if f.prose() {
                format!(
                    "Chest or breathing symptoms or fainting together with leg symptoms: a clot that has travelled to the lung, or a heart problem, must be excluded now. Wells PE score from the answers given: {:.1} ({band}; the score never overrides the emergency).",
                    wells.points
                )
            } else {
                String::new()
            },
            evidence,
        )
        .workup(Workup::EmergencyCare, "For possible pulmonary embolism the team will need the Wells score, D-dimer or CT pulmonary angiography, and an ECG."),
    );
}

/// Wells DVT (S20): likely (>= 2) goes to same-day duplex, unlikely to a same-day D-dimer.
pub(crate) const DVT: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.deep_vein_thrombosis",
        version: V2,
        title: "Possible deep vein thrombosis",
        flag: Flag::DvtSuspected,
        rationale: "A swollen, tender, red or warm leg with persistent pain unlike a cramp can be a blood clot in a deep vein. The Wells score decides between same-day duplex ultrasound (DVT likely) and a same-day D-dimer (DVT unlikely).",
        inputs: &[
            "symptoms.leg_swelling",
            "symptoms.calf_tenderness",
            "symptoms.calf_redness",
            "symptoms.calf_warmth",
            "cramps.persistent_pain",
            "cramps.laterality",
            "findings.deep_vein_tenderness",
            "findings.calf_circumference_difference_cm",
            "findings.pitting_edema_symptomatic_leg",
            "findings.collateral_superficial_veins",
            "conditions.active_cancer",
            "conditions.leg_paralysis_or_paresis",
            "conditions.leg_cast_or_recent_leg_fracture",
            "conditions.bedridden_3_days_or_more",
            "conditions.recent_surgery",
            "conditions.prior_dvt_or_pe",
        ],
        citations: &[S20, S1],
        codings: &[codes::SCT_DVT],
        max_urgency: Urgency::Urgent,
    },
    eval: dvt,
};

fn dvt(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let c = &f.h.cramps;
    let signs = f.dvt_signs();
    let wells = f.wells_dvt();
    let likely = wells.points >= 2.0;
    // g.3: a Wells score of 2 or more from established items, with calf pain or tenderness,
    // establishes "DVT likely" even while other signs are unknown.
    let tender_or_pain =
        f.yes(s.calf_tenderness) || f.yes(f.h.findings.deep_vein_tenderness) || f.constant_pain();
    if signs.is_empty() && !(likely && tender_or_pain) {
        if s.leg_swelling.is_none()
            && f.unilateral()
            && (yes(c.persistent_pain) || yes(s.calf_tenderness))
        {
            out.ask("symptoms.leg_swelling", "Is one leg swollen?", "One-sided swelling with persistent calf pain points to a possible DVT (same-day assessment).");
        }
        return;
    }
    let mut evidence = signs;
    let pain_items = trues(&[
        ("symptoms.calf_tenderness", s.calf_tenderness),
        ("cramps.persistent_pain", c.persistent_pain),
        ("cramps.pain_out_of_proportion", c.pain_out_of_proportion),
    ]);
    for item in wells.items.into_iter().chain(pain_items) {
        if !evidence.contains(&item) {
            evidence.push(item);
        }
    }
    // Unscored but raising pretest probability (S20).
    let mut enhancers = Vec::new();
    if yes(f.h.patient.pregnant) {
        evidence.push(ev("patient.pregnant"));
        enhancers.push("pregnancy");
    }
    if yes(f.h.conditions.recent_long_travel) {
        evidence.push(ev("conditions.recent_long_travel"));
        enhancers.push("recent long travel");
    }
    if f.takes(DrugClass::Estrogen) || f.takes(DrugClass::Raloxifene) {
        enhancers.push("estrogen or raloxifene");
    }
    let mut rationale = String::new();
    if f.prose() {
        rationale = format!(
            "Leg signs that can mean a deep vein thrombosis. Wells DVT score from the answers given: {} ({}).",
            wells.points,
            if likely {
                "DVT likely"
            } else {
                "DVT unlikely by score; a D-dimer decides"
            }
        );
        if !enhancers.is_empty() {
            rationale.push_str(&format!(
                " Also raising the likelihood: {}.",
                enhancers.join(", ")
            ));
        }
    }
    let mut fire = Fire::new(Urgency::Urgent, rationale, evidence);
    if likely {
        fire.add_workup(
            Workup::VenousDuplex,
            "Same-day compression/duplex ultrasound of the leg veins (Wells DVT likely).",
        );
    } else {
        fire.add_workup(Workup::DDimer, "Same-day high-sensitivity D-dimer (Wells DVT unlikely): negative excludes DVT, positive leads to duplex ultrasound.");
    }
    match f.h.cramps.laterality {
        Some(Laterality::Left) => fire.codings.push(codes::ICD_DVT_LEFT),
        Some(Laterality::Right) => fire.codings.push(codes::ICD_DVT_RIGHT),
        Some(Laterality::Both) | None => {}
    }
    out.fire(fire);
    if s.chest_pain.is_none() || s.shortness_of_breath.is_none() {
        out.ask("symptoms.shortness_of_breath", "Any chest pain, shortness of breath or coughing blood?", "With a possible DVT, any of these makes it an emergency (possible pulmonary embolism).");
    }
    if s.leg_swelling.is_none() {
        out.ask(
            "symptoms.leg_swelling",
            "Is one leg swollen, both, or neither?",
            "One-sided swelling is a Wells item and the DVT pattern.",
        );
    }
    if f.h.cramps.laterality.is_none() {
        out.ask(
            "cramps.laterality",
            "Is it one leg or both?",
            "A one-sided swollen, painful leg is the DVT pattern.",
        );
    }
}

/// The 6 Ps (S22): sudden persistent pain with pallor, pulselessness, cold, paresthesia or
/// paralysis. Threatened limb: emergency vascular evaluation (S4).
pub(crate) const ACUTE_LIMB_ISCHEMIA: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.acute_limb_ischemia",
        version: V2,
        title: "Possible acute limb ischemia",
        flag: Flag::AcuteLimbIschemia,
        rationale: "Sudden, persistent leg pain with a pale or blue, cold, pulseless, numb or paralysed foot (the 6 Ps) can mean the artery is suddenly blocked; a sudden onset with two of the other Ps is enough even when the pain answers are missing or no, because pain can be masked. Damage can begin within 4-6 hours: emergency vascular evaluation, never an outpatient ABI.",
        inputs: &[
            "cramps.sudden_onset",
            "cramps.persistent_pain",
            "cramps.pain_out_of_proportion",
            "symptoms.foot_pale_or_blue",
            "symptoms.cold_feet",
            "symptoms.numbness",
            "symptoms.tingling",
            "symptoms.cannot_move_foot_or_toes",
            "findings.foot_pulses",
            "conditions.atrial_fibrillation",
            "conditions.known_peripheral_artery_disease",
            "cramps.hours_since_onset",
            "cramps.weeks_since_onset",
            "cramps.contexts",
        ],
        citations: &[S22, S4],
        codings: &[],
        max_urgency: Urgency::Emergency,
    },
    eval: acute_limb_ischemia,
};

fn acute_limb_ischemia(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.cramps;
    let s = &f.h.symptoms;
    if !f.yes(c.sudden_onset) {
        return;
    }
    let pain = f.yes(c.persistent_pain) || f.yes(c.pain_out_of_proportion);
    let pale = f.yes(s.foot_pale_or_blue);
    let cold = f.yes(s.cold_feet);
    let pulseless = f.is(f.h.findings.foot_pulses, Pulses::Absent);
    let sensory = f.yes(s.numbness) || f.yes(s.tingling);
    let paralysed = f.yes(s.cannot_move_foot_or_toes);
    let perfusion = pale || pulseless || cold;
    let threatened = (pale || pulseless) && paralysed;
    // g.2: sudden onset with two of the Ps is enough, whatever the pain answers say.
    let two_ps = [pale, cold, pulseless, sensory, paralysed]
        .into_iter()
        .filter(|x| *x)
        .count()
        >= 2;
    if !((pain && (perfusion || sensory || paralysed)) || threatened || two_ps) {
        if pain && s.foot_pale_or_blue.is_none() {
            out.ask("symptoms.foot_pale_or_blue", "Is the foot pale, blue or cold, and can the toes move?", "Sudden persistent pain with a pale, cold or paralysed foot is an emergency (acute limb ischemia).");
        }
        return;
    }
    let mut evidence = trues(&[
        ("cramps.sudden_onset", c.sudden_onset),
        ("cramps.persistent_pain", c.persistent_pain),
        ("cramps.pain_out_of_proportion", c.pain_out_of_proportion),
        ("symptoms.foot_pale_or_blue", s.foot_pale_or_blue),
        ("symptoms.cold_feet", s.cold_feet),
        ("symptoms.numbness", s.numbness),
        ("symptoms.tingling", s.tingling),
        (
            "symptoms.cannot_move_foot_or_toes",
            s.cannot_move_foot_or_toes,
        ),
    ]);
    if f.h.findings.foot_pulses == Some(Pulses::Absent) {
        evidence.push(ev_val("findings.foot_pulses", Pulses::Absent.name()));
    }
    if let Some(h) = c.hours_since_onset {
        evidence.push(ev_val("cramps.hours_since_onset", h));
    }
    let mut rationale = String::from(
        "Sudden onset with signs that the foot is not getting blood (pale or blue, cold, pulseless, numb or unable to move): an emergency.",
    );
    if !pain {
        rationale.push_str(" Pain was not reported, but pain can be masked (for example by neuropathy in diabetes), so its absence does not lower the urgency.");
    }
    if yes(f.h.conditions.atrial_fibrillation) {
        evidence.push(ev("conditions.atrial_fibrillation"));
        rationale.push_str(" Atrial fibrillation is a source of emboli.");
    }
    let prior_claudication = yes(f.h.conditions.known_peripheral_artery_disease)
        || f.has_context(crate::input::Context::Walking);
    if !prior_claudication {
        rationale.push_str(
            " Sudden onset without known claudication or arterial disease supports an embolus.",
        );
    }
    if f.h.medications.iter().any(|m| yes(m.recently_stopped)) {
        rationale
            .push_str(" A medicine was recently stopped; check whether it was an anticoagulant.");
    }
    out.fire(
        Fire::new(Urgency::Emergency, rationale, evidence)
            .workup(Workup::EmergencyCare, "For possible acute limb ischemia the team will need Doppler signals, urgent vascular imaging (CT angiography) and an ECG for atrial fibrillation; never an outpatient ankle-brachial index."),
    );
}

/// Rhabdomyolysis (S18, S19, reference f): cola-coloured urine or a markedly raised CK with
/// muscle symptoms.
pub(crate) const RHABDOMYOLYSIS: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.rhabdomyolysis",
        version: V2,
        title: "Possible rhabdomyolysis",
        flag: Flag::RhabdomyolysisSuspected,
        rationale: "Muscle pain, weakness or swelling with cola-coloured urine, or a markedly raised CK, can mean muscle breakdown that threatens the kidneys. Dark urine with muscle symptoms, or a CK of about five times the upper limit with reduced urine output, is an emergency; a raised CK otherwise needs same-day tests, and a CK already given is followed by its trend, not re-ordered to confirm.",
        inputs: &[
            "symptoms.urine_color",
            "symptoms.muscle_weakness",
            "symptoms.generalized_muscle_aches",
            "symptoms.leg_swelling",
            "cramps.persistent_pain",
            "findings.labs.ck_u_l",
            "symptoms.reduced_urine_output",
            "symptoms.tense_calf",
            "findings.labs.potassium_mmol_l",
            "lifestyle.recent_unaccustomed_strenuous_exercise",
            "lifestyle.hot_environment_or_heavy_sweating",
            "conditions.bedridden_3_days_or_more",
        ],
        citations: &[S19, S18],
        codings: &[codes::ICD_RHABDO],
        max_urgency: Urgency::Emergency,
    },
    eval: rhabdomyolysis,
};

/// About five times the upper reference limit, the figure the reference quotes (f, ck_u_l; marked
/// there as widely quoted but not read in a primary source).
pub(crate) const CK_MARKED_U_L: f64 = 1000.0;

/// Potassium at which g.5 adds an ECG to the muscle-breakdown work-up (mmol/L; f, the moderate
/// high band).
const K_ECG: f64 = 6.0;

fn rhabdomyolysis(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let c = &f.h.cramps;
    let cola = f.is(s.urine_color, UrineColor::Cola);
    let ck = f.h.findings.labs.ck_u_l;
    let ck_high = f.at_least(ck, CK_MARKED_U_L);
    let oliguria = f.yes(s.reduced_urine_output);
    let muscle_items = [
        ("symptoms.muscle_weakness", s.muscle_weakness),
        (
            "symptoms.generalized_muscle_aches",
            s.generalized_muscle_aches,
        ),
        ("cramps.persistent_pain", c.persistent_pain),
        ("symptoms.tense_calf", s.tense_calf),
    ];
    let muscle = muscle_items.iter().any(|(_, v)| f.yes(*v))
        || f.one_of(s.leg_swelling, &[Swelling::OneLeg, Swelling::BothLegs]);
    let mut evidence = trues(&muscle_items);
    if matches!(s.leg_swelling, Some(Swelling::OneLeg | Swelling::BothLegs)) {
        evidence.push(ev_val(
            "symptoms.leg_swelling",
            s.leg_swelling.map_or("", |x| x.name()),
        ));
    }
    if !cola && !ck_high {
        let trigger =
            yes(f.h.lifestyle.recent_unaccustomed_strenuous_exercise) || f.takes(DrugClass::Statin);
        if muscle && (trigger || oliguria) && s.urine_color.is_none() {
            out.ask("symptoms.urine_color", "What colour is the urine: pale, dark yellow, or cola/tea-coloured?", "Cola-coloured urine with muscle pain after exertion, on a statin or with little urine is an emergency (rhabdomyolysis).");
        }
        if muscle && oliguria && ck.is_none() {
            out.ask("findings.labs.ck_u_l", "Has a CK been measured?", "Muscle pain with reduced urine output can be muscle breakdown injuring the kidneys; a CK of five times the upper limit or more makes it an emergency.");
        }
        return;
    }
    if s.urine_color == Some(UrineColor::Cola) {
        evidence.push(ev_val("symptoms.urine_color", UrineColor::Cola.name()));
    }
    if let Some(v) = ck.filter(|v| *v >= CK_MARKED_U_L) {
        evidence.push(ev_val("findings.labs.ck_u_l", v));
    }
    evidence.extend(trues(&[
        ("symptoms.reduced_urine_output", s.reduced_urine_output),
        (
            "lifestyle.recent_unaccustomed_strenuous_exercise",
            f.h.lifestyle.recent_unaccustomed_strenuous_exercise,
        ),
        (
            "lifestyle.hot_environment_or_heavy_sweating",
            f.h.lifestyle.hot_environment_or_heavy_sweating,
        ),
        (
            "conditions.bedridden_3_days_or_more",
            f.h.conditions.bedridden_3_days_or_more,
        ),
    ]));
    let statin = if f.takes(DrugClass::Statin) {
        " A statin is on the medication list."
    } else {
        ""
    };
    // g.5: a CK of five times the limit with cola urine or with reduced urine output (acute kidney
    // injury) is an emergency; so is cola urine with muscle symptoms.
    let emergency = (cola && (muscle || ck_high)) || (ck_high && oliguria);
    if emergency {
        let why = if cola {
            "Cola-coloured urine with muscle symptoms or a raised CK: possible muscle breakdown with myoglobin in the urine."
        } else {
            "A CK of about five times the upper reference limit or more with reduced urine output: possible muscle breakdown with acute kidney injury."
        };
        out.fire(
            Fire::new(Urgency::Emergency, if f.prose() { format!("{why}{statin}") } else { String::new() }, evidence)
                .workup(Workup::EmergencyCare, "For possible rhabdomyolysis the team will need CK (repeated to see the trend), creatinine, potassium, calcium and phosphate, a urinalysis (blood-positive dipstick without red cells) and an ECG if potassium is high."),
        );
        return;
    }
    let why = if cola {
        "Cola-coloured urine in someone with cramps can be myoglobin from muscle breakdown."
    } else {
        "A CK of about five times the upper reference limit or more with muscle symptoms can mean muscle breakdown."
    };
    let mut fire = Fire::new(
        Urgency::Urgent,
        if f.prose() {
            format!("{why}{statin} Same-day tests decide.")
        } else {
            String::new()
        },
        evidence,
    );
    // g.5: a CK already given is never ordered again "to confirm"; the next step is its trend.
    if ck.is_some() {
        fire.add_workup(
            Workup::CreatineKinase,
            "Repeat CK within 24 hours to see the trend (the value given is not re-ordered to confirm it).",
        );
    } else {
        fire.add_workup(
            Workup::CreatineKinase,
            "Same-day CK to confirm or exclude muscle breakdown.",
        );
    }
    fire.add_workup(
        Workup::KidneyFunction,
        "Creatinine and eGFR: muscle breakdown can injure the kidneys.",
    );
    fire.add_workup(
        Workup::BasicMetabolicPanel,
        "Potassium and calcium, which muscle breakdown disturbs.",
    );
    fire.add_workup(
        Workup::Urinalysis,
        "Dipstick blood without red cells on microscopy suggests myoglobin.",
    );
    if f.h
        .findings
        .labs
        .potassium_mmol_l
        .is_some_and(|k| k >= K_ECG)
    {
        fire.add_workup(
            Workup::Ecg,
            "Same-day ECG: potassium of 6.0 mmol/L or more with muscle breakdown.",
        );
    }
    out.fire(fire);
    if s.reduced_urine_output.is_none() {
        out.ask(
            "symptoms.reduced_urine_output",
            "Is less urine being passed than usual?",
            "With a raised CK, reduced urine output (acute kidney injury) makes it an emergency.",
        );
    }
    if !muscle && s.urine_color == Some(UrineColor::Cola) {
        out.ask(
            "symptoms.muscle_weakness",
            "Any muscle weakness, swelling or constant muscle pain?",
            "Dark urine with muscle symptoms makes it an emergency.",
        );
    }
}

/// Acute compartment syndrome (S24): pain out of proportion with pain on passive stretch, a tense
/// compartment, or after a fracture or cast.
pub(crate) const COMPARTMENT_SYNDROME: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.compartment_syndrome",
        version: V2,
        title: "Possible acute compartment syndrome",
        flag: Flag::CompartmentSyndromeSuspected,
        rationale: "Pain out of proportion with pain on passive stretch, a tense calf, or a recent fracture or cast can mean raised pressure in a muscle compartment. Tissue tolerates about 4-6 hours: emergency surgical assessment.",
        inputs: &[
            "cramps.pain_out_of_proportion",
            "findings.pain_on_passive_stretch",
            "symptoms.tense_calf",
            "conditions.leg_cast_or_recent_leg_fracture",
            "symptoms.numbness",
            "symptoms.tingling",
        ],
        citations: &[S24],
        codings: &[],
        max_urgency: Urgency::Emergency,
    },
    eval: compartment_syndrome,
};

fn compartment_syndrome(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.cramps;
    let s = &f.h.symptoms;
    let stretch = f.yes(f.h.findings.pain_on_passive_stretch);
    let tense = f.yes(s.tense_calf);
    let fracture = f.yes(f.h.conditions.leg_cast_or_recent_leg_fracture);
    let disproportionate = f.yes(c.pain_out_of_proportion);
    // g.1 table: a tense calf or pain out of proportion after a fracture or cast is enough.
    if !((disproportionate && (stretch || tense || fracture))
        || (stretch && tense)
        || (tense && fracture))
    {
        if yes(c.pain_out_of_proportion)
            && f.h.findings.pain_on_passive_stretch.is_none()
            && s.tense_calf.is_none()
        {
            out.ask("symptoms.tense_calf", "Is the calf tense or hard, and does stretching the muscle hurt?", "Pain out of proportion with a tense compartment is an emergency (compartment syndrome).");
        }
        return;
    }
    let evidence = trues(&[
        ("cramps.pain_out_of_proportion", c.pain_out_of_proportion),
        (
            "findings.pain_on_passive_stretch",
            f.h.findings.pain_on_passive_stretch,
        ),
        ("symptoms.tense_calf", s.tense_calf),
        (
            "conditions.leg_cast_or_recent_leg_fracture",
            f.h.conditions.leg_cast_or_recent_leg_fracture,
        ),
        ("symptoms.numbness", s.numbness),
        ("symptoms.tingling", s.tingling),
    ]);
    out.fire(
        Fire::new(Urgency::Emergency, "Severe pain out of proportion or a tense calf, with pain on stretching or after a recent fracture or cast: possible acute compartment syndrome.", evidence)
            .workup(Workup::EmergencyCare, "For possible compartment syndrome the team will need urgent surgical assessment (compartment pressures, fasciotomy if confirmed) and a CK."),
    );
}

/// Cauda equina early red flags (S23): saddle numbness, new bladder or bowel change with back or
/// leg symptoms, or bilateral radicular pain with sensory or motor loss.
pub(crate) const CAUDA_EQUINA: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.cauda_equina",
        version: V2,
        title: "Possible cauda equina syndrome",
        flag: Flag::CaudaEquinaSuspected,
        rationale: "Numbness between the legs, new bladder or bowel changes with back or leg symptoms, or pain running down both legs with numbness or weakness can mean compression of the nerve roots at the base of the spine: emergency MRI and spinal surgery referral.",
        inputs: &[
            "symptoms.saddle_numbness",
            "symptoms.bladder_or_bowel_changes",
            "symptoms.back_pain",
            "symptoms.pain_radiating_down_leg",
            "symptoms.numbness",
            "symptoms.muscle_weakness",
            "symptoms.difficulty_walking",
            "cramps.laterality",
        ],
        citations: &[S23],
        codings: &[codes::ICD_CAUDA_EQUINA],
        max_urgency: Urgency::Emergency,
    },
    eval: cauda_equina,
};

fn cauda_equina(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let spinal = yes(s.back_pain) || yes(s.pain_radiating_down_leg);
    let deficit = f.yes(s.numbness) || f.yes(s.muscle_weakness) || f.yes(s.difficulty_walking);
    let bilateral_radicular = f.yes(s.pain_radiating_down_leg)
        && f.is(f.h.cramps.laterality, Laterality::Both)
        && deficit;
    // g.1 table: saddle numbness or a new bladder or bowel change alone establishes it (b.6 early
    // red flags, act now).
    if !(f.yes(s.saddle_numbness) || f.yes(s.bladder_or_bowel_changes) || bilateral_radicular) {
        if spinal && (s.saddle_numbness.is_none() || s.bladder_or_bowel_changes.is_none()) {
            out.ask("symptoms.saddle_numbness", "Any numbness between the legs or around the back passage, or new bladder or bowel problems?", "With back pain or pain down the leg, either is an emergency (cauda equina syndrome).");
        }
        return;
    }
    let mut evidence = trues(&[
        ("symptoms.saddle_numbness", s.saddle_numbness),
        (
            "symptoms.bladder_or_bowel_changes",
            s.bladder_or_bowel_changes,
        ),
        ("symptoms.back_pain", s.back_pain),
        (
            "symptoms.pain_radiating_down_leg",
            s.pain_radiating_down_leg,
        ),
        ("symptoms.numbness", s.numbness),
        ("symptoms.muscle_weakness", s.muscle_weakness),
        ("symptoms.difficulty_walking", s.difficulty_walking),
    ]);
    if f.h.cramps.laterality == Some(Laterality::Both) && yes(s.pain_radiating_down_leg) {
        evidence.push(ev_val("cramps.laterality", Laterality::Both.name()));
    }
    out.fire(
        Fire::new(Urgency::Emergency, "Early red flags of nerve-root compression at the base of the spine (saddle numbness, bladder or bowel change, or bilateral radicular symptoms).", evidence)
            .workup(Workup::EmergencyCare, "For possible cauda equina syndrome the team will need an emergency lumbar MRI and spinal surgery referral."),
    );
}

/// Seed A's emergency sign: sudden weakness with numbness, tingling or difficulty walking (nerve
/// compression or a neurological event; b.6 maps it to stroke, cauda equina or ALI).
pub(crate) const ACUTE_NEUROLOGIC_DEFICIT: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.acute_neurologic_deficit",
        version: V1,
        title: "Sudden weakness with sensory or walking change",
        flag: Flag::AcuteNeurologicDeficit,
        rationale: "Sudden muscle weakness with numbness, tingling or difficulty walking can mean a stroke, spinal cord or nerve-root compression, or a blocked artery: an emergency. Sudden weakness alone needs same-day assessment.",
        inputs: &[
            "symptoms.sudden_weakness",
            "symptoms.numbness",
            "symptoms.tingling",
            "symptoms.difficulty_walking",
            "symptoms.cannot_move_foot_or_toes",
        ],
        citations: &[S1, S23, S22],
        codings: &[],
        max_urgency: Urgency::Emergency,
    },
    eval: acute_neurologic_deficit,
};

fn acute_neurologic_deficit(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    if !f.yes(s.sudden_weakness) {
        return;
    }
    let deficit = [
        s.numbness,
        s.tingling,
        s.difficulty_walking,
        s.cannot_move_foot_or_toes,
    ]
    .into_iter()
    .any(|v| f.yes(v));
    let with = trues(&[
        ("symptoms.numbness", s.numbness),
        ("symptoms.tingling", s.tingling),
        ("symptoms.difficulty_walking", s.difficulty_walking),
        (
            "symptoms.cannot_move_foot_or_toes",
            s.cannot_move_foot_or_toes,
        ),
    ]);
    let mut evidence = trues(&[("symptoms.sudden_weakness", s.sudden_weakness)]);
    if !deficit {
        out.fire(
            Fire::new(Urgency::Urgent, "Sudden new weakness needs same-day assessment; with numbness, tingling or difficulty walking it is an emergency.", evidence)
                .workup(Workup::EmergencyCare, "Sudden weakness: same-day assessment, emergency care at once if numbness, tingling or difficulty walking appear."),
        );
        if s.numbness.is_none() || s.difficulty_walking.is_none() {
            out.ask(
                "symptoms.difficulty_walking",
                "With the sudden weakness, any numbness, tingling or difficulty walking?",
                "Any of these makes sudden weakness an emergency.",
            );
        }
        return;
    }
    evidence.extend(with);
    out.fire(
        Fire::new(Urgency::Emergency, "Sudden weakness with numbness, tingling or difficulty walking: possible stroke, spinal cord or nerve-root compression, or acute limb ischemia.", evidence)
            .workup(Workup::EmergencyCare, "For sudden weakness with sensory or walking change the team will assess for stroke, spinal compression (MRI) and limb ischemia."),
    );
}

/// Cellulitis with fever and spreading redness (b.6 "other urgent items"; seed A: redness or
/// warmth can be infection).
pub(crate) const SKIN_INFECTION: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.skin_infection",
        version: V1,
        title: "Possible skin or soft-tissue infection",
        flag: Flag::SkinInfectionSuspected,
        rationale: "A red or warm calf with fever can be a spreading skin infection (cellulitis) and needs same-day assessment; a clot must be considered too.",
        inputs: &[
            "symptoms.calf_redness",
            "symptoms.calf_warmth",
            "symptoms.fever",
        ],
        citations: &[S1],
        codings: &[],
        max_urgency: Urgency::Urgent,
    },
    eval: skin_infection,
};

fn skin_infection(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let local = f.yes(s.calf_redness) || f.yes(s.calf_warmth);
    if !local {
        return;
    }
    if !f.yes(s.fever) {
        if s.fever.is_none() {
            out.ask(
                "symptoms.fever",
                "Any fever?",
                "A red, warm calf with fever points to a skin infection needing same-day care.",
            );
        }
        return;
    }
    let evidence = trues(&[
        ("symptoms.calf_redness", s.calf_redness),
        ("symptoms.calf_warmth", s.calf_warmth),
        ("symptoms.fever", s.fever),
    ]);
    out.fire(
        Fire::new(Urgency::Urgent, "A red or warm calf with fever: possible spreading skin infection; same-day clinical assessment.", evidence)
            .workup(Workup::Cbc, "Blood count as part of the same-day assessment of possible infection."),
    );
}

/// Heat illness (b.6 "other urgent items": confusion, collapse) or severe dehydration after fluid
/// losses.
pub(crate) const HEAT_ILLNESS: Rule = Rule {
    meta: RuleMeta {
        id: "red_flag.heat_illness",
        version: V1,
        title: "Possible heat illness or severe dehydration",
        flag: Flag::HeatIllnessOrSevereDehydration,
        rationale: "Confusion or collapse after heat exposure, heavy sweating or fluid losses can mean heat illness or severe dehydration: an emergency.",
        inputs: &[
            "lifestyle.hot_environment_or_heavy_sweating",
            "conditions.recent_vomiting_or_diarrhea",
            "symptoms.confusion",
            "symptoms.fainting",
        ],
        citations: &[S1, S26],
        codings: &[],
        max_urgency: Urgency::Emergency,
    },
    eval: heat_illness,
};

fn heat_illness(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let l = &f.h.lifestyle;
    let exposed = f.yes(l.hot_environment_or_heavy_sweating)
        || f.yes(f.h.conditions.recent_vomiting_or_diarrhea);
    let collapsed = f.yes(s.confusion) || f.yes(s.fainting);
    if !exposed {
        return;
    }
    let exposure = trues(&[
        (
            "lifestyle.hot_environment_or_heavy_sweating",
            f.h.lifestyle.hot_environment_or_heavy_sweating,
        ),
        (
            "conditions.recent_vomiting_or_diarrhea",
            f.h.conditions.recent_vomiting_or_diarrhea,
        ),
    ]);
    let signs = trues(&[
        ("symptoms.confusion", s.confusion),
        ("symptoms.fainting", s.fainting),
    ]);
    if !collapsed {
        if s.confusion.is_none() && (yes(s.dizziness_on_standing) || yes(s.reduced_urine_output)) {
            out.ask("symptoms.confusion", "Any confusion or collapse?", "After heat or fluid losses, either is an emergency (heat illness or severe dehydration).");
        }
        return;
    }
    let mut evidence = exposure;
    evidence.extend(signs);
    out.fire(
        Fire::new(Urgency::Emergency, "Confusion or collapse after heat, heavy sweating or fluid losses: possible heat illness or severe dehydration.", evidence)
            .workup(Workup::EmergencyCare, "For possible heat illness the team will need core temperature, electrolytes, kidney function and CK."),
    );
}
