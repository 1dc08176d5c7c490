//! Medication culprits (clinical-reference.md b.4, e.5, e.12): the drug classes Garrison 2012 and
//! the AFP review link to cramps, statin muscle symptoms by the CK rules, and quinine as a safety
//! note. Advice is always to review with the prescriber, never to stop.

use crate::engine::facts::{self, Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::UrineColor;
use crate::kb::rules::metabolic::{
    K_MODERATE_HIGH, K_MODERATE_LOW, MG_SEVERE_LOW, NA_MODERATE_LOW,
};
use crate::kb::sources::{S1, S2, S4, S12, S13, S14, S17, S18, S25, S37};
use crate::kb::{Rule, RuleMeta};
use crate::meds;
use crate::output::{DrugClass, Evidence, EvidenceStrength, Flag, Urgency, Workup};

/// A recognised culprit other than a plain statin (statins have their own CK rules, e.5).
pub(crate) const MEDICATION_ASSOCIATED: Rule = Rule {
    meta: RuleMeta {
        id: "medication.associated",
        version: "2.0.0",
        title: "Medication possibly contributing to cramps",
        flag: Flag::MedicationAssociated,
        rationale: "Diuretics (especially potassium-sparing and thiazide), inhaled long-acting beta-agonists, proton pump inhibitors and a few other drugs are linked to cramps; a drug started within the last 12 weeks is the stronger suspect. Quinine is listed as a safety concern. The review takes the urgency of the harm it explains: a medicine behind a markedly abnormal electrolyte, simvastatin or lovastatin with a contraindicated strong CYP3A4 inhibitor, or any statin with such an inhibitor and muscle symptoms need a same-day review; two medicines of the same class (therapeutic duplication) need review within days. Review with the prescriber; never stop on one's own. Inhaled anticholinergics and beta blockers (negative controls) are never flagged.",
        inputs: &[
            "medications",
            "findings.labs.magnesium_mg_dl",
            "findings.labs.sodium_mmol_l",
            "findings.labs.potassium_mmol_l",
            "symptoms.muscle_weakness",
            "symptoms.proximal_weakness",
            "symptoms.generalized_muscle_aches",
            "cramps.persistent_pain",
        ],
        citations: &[S12, S13, S14, S25, S37, S17, S1, S2],
        codings: &[],
        max_urgency: Urgency::Urgent,
    },
    eval: medication_associated,
};

/// A class in a clinician's words (g.8: never the internal enum name).
const fn class_words(class: DrugClass) -> &'static str {
    match class {
        DrugClass::ThiazideDiuretic => "thiazide or thiazide-like diuretic",
        DrugClass::LoopDiuretic => "loop diuretic",
        DrugClass::PotassiumSparingDiuretic => "potassium-sparing diuretic",
        DrugClass::Statin => "statin",
        DrugClass::LongActingBetaAgonist => "inhaled long-acting beta-agonist",
        DrugClass::ProtonPumpInhibitor => "proton pump inhibitor",
        DrugClass::Raloxifene => "raloxifene",
        DrugClass::Estrogen => "estrogen",
        DrugClass::Teriparatide => "teriparatide",
        DrugClass::IntravenousIron => "intravenous iron",
        DrugClass::Naproxen => "naproxen",
        DrugClass::Quinine => "quinine",
        DrugClass::OtherReported => "reported with cramps, weak evidence",
        DrugClass::StatinInteracting => "strong CYP3A4 inhibitor taken with a statin",
    }
}

/// The abnormality a medicine of this class is the likely cause of, when a given lab shows it at
/// a same-day level of reference (f) (g.7: the review takes that urgency).
fn harm(f: &Facts<'_>, class: DrugClass) -> Option<&'static str> {
    let l = &f.h.findings.labs;
    let mg_low = l.magnesium_mg_dl.is_some_and(|v| v < MG_SEVERE_LOW);
    match class {
        DrugClass::ProtonPumpInhibitor if mg_low => Some("magnesium below 1.2 mg/dL"),
        DrugClass::ThiazideDiuretic | DrugClass::LoopDiuretic => {
            if l.sodium_mmol_l.is_some_and(|v| v < NA_MODERATE_LOW) {
                Some("sodium below 130 mmol/L")
            } else if l.potassium_mmol_l.is_some_and(|v| v < K_MODERATE_LOW) {
                Some("potassium below 3.0 mmol/L")
            } else if mg_low {
                Some("magnesium below 1.2 mg/dL")
            } else {
                None
            }
        }
        DrugClass::PotassiumSparingDiuretic
            if l.potassium_mmol_l.is_some_and(|v| v >= K_MODERATE_HIGH) =>
        {
            Some("potassium 6.0 mmol/L or more")
        }
        DrugClass::ProtonPumpInhibitor
        | DrugClass::PotassiumSparingDiuretic
        | DrugClass::Statin
        | DrugClass::LongActingBetaAgonist
        | DrugClass::Raloxifene
        | DrugClass::Estrogen
        | DrugClass::Teriparatide
        | DrugClass::IntravenousIron
        | DrugClass::Naproxen
        | DrugClass::Quinine
        | DrugClass::OtherReported
        | DrugClass::StatinInteracting => None,
    }
}

/// Classes whose duplication raises the harm the class causes (g.7).
const DUPLICATION_CLASSES: [DrugClass; 3] = [
    DrugClass::Statin,
    DrugClass::ThiazideDiuretic,
    DrugClass::LoopDiuretic,
];

fn medication_associated(f: &Facts<'_>, out: &mut RuleOut) {
    let all: Vec<_> = f.current_meds().collect();
    let culprits: Vec<_> = all
        .iter()
        .filter(|m| m.class != DrugClass::Statin)
        .copied()
        .collect();
    // g.7: two different ingredients of one class (two statins, two thiazide-type or two loop
    // diuretics, a combination product's part included).
    let mut duplicates: Vec<(DrugClass, Vec<&'static str>)> = Vec::new();
    for class in DUPLICATION_CLASSES {
        let mut ingredients: Vec<&'static str> = all
            .iter()
            .filter(|m| m.class == class)
            .map(|m| m.ingredient)
            .collect();
        ingredients.sort_unstable();
        ingredients.dedup();
        if ingredients.len() >= 2 {
            duplicates.push((class, ingredients));
        }
    }
    // g.7, S37: simvastatin or lovastatin with a contraindicated strong CYP3A4 inhibitor, or any
    // statin with one and muscle symptoms.
    let inhibitor = all.iter().any(|m| m.class == DrugClass::StatinInteracting);
    let contraindicated = inhibitor
        && all.iter().any(|m| {
            m.class == DrugClass::Statin && matches!(m.ingredient, "simvastatin" | "lovastatin")
        });
    let s = &f.h.symptoms;
    let muscle = [
        s.muscle_weakness,
        s.proximal_weakness,
        s.generalized_muscle_aches,
        f.h.cramps.persistent_pain,
    ]
    .into_iter()
    .any(yes);
    let interaction = contraindicated || (inhibitor && muscle);
    if culprits.is_empty() && duplicates.is_empty() && !interaction {
        return;
    }
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut urgency = Urgency::Routine;
    let mut harms: Vec<String> = Vec::new();
    let listed: Vec<_> = if duplicates.iter().any(|(c, _)| *c == DrugClass::Statin) || interaction {
        all.clone()
    } else {
        culprits.clone()
    };
    for m in &listed {
        evidence.push(Evidence {
            field: facts::medication_name_field(m.index),
            value: m.input_name.clone().into(),
        });
        if let Some(w) = m.weeks_since_started {
            evidence.push(Evidence {
                field: facts::medication_weeks_field(m.index),
                value: w.to_string().into(),
            });
        }
        let recent = m.recent();
        if recent && meds::strength(m.class) != EvidenceStrength::Weak {
            urgency = urgency.min(Urgency::Soon);
        }
        if let Some(what) = harm(f, m.class) {
            urgency = urgency.min(Urgency::Urgent);
            if f.prose() {
                harms.push(format!(
                    "{} ({}) is the likely cause of the {what}",
                    m.ingredient,
                    class_words(m.class)
                ));
            }
        }
        if f.prose() {
            names.push(format!(
                "{} ({}{})",
                m.ingredient,
                class_words(m.class),
                if recent {
                    ", started within 12 weeks"
                } else {
                    ""
                }
            ));
        }
    }
    if !duplicates.is_empty() {
        urgency = urgency.min(Urgency::Soon);
    }
    if interaction {
        urgency = urgency.min(Urgency::Urgent);
        evidence.extend(trues(&[
            ("symptoms.muscle_weakness", s.muscle_weakness),
            ("symptoms.proximal_weakness", s.proximal_weakness),
            (
                "symptoms.generalized_muscle_aches",
                s.generalized_muscle_aches,
            ),
            ("cramps.persistent_pain", f.h.cramps.persistent_pain),
        ]));
    }
    for (field, value) in [
        (
            "findings.labs.magnesium_mg_dl",
            f.h.findings.labs.magnesium_mg_dl,
        ),
        (
            "findings.labs.sodium_mmol_l",
            f.h.findings.labs.sodium_mmol_l,
        ),
        (
            "findings.labs.potassium_mmol_l",
            f.h.findings.labs.potassium_mmol_l,
        ),
    ] {
        if let Some(v) = value
            && !harms.is_empty()
        {
            evidence.push(ev_val(field, v));
        }
    }
    let quinine = culprits.iter().any(|m| m.class == DrugClass::Quinine);
    let mut rationale = String::new();
    if f.prose() {
        rationale = format!("Medications linked to cramps: {}.", names.join("; "));
        for h in &harms {
            rationale.push_str(&format!(" {h}: review the same day."));
        }
        if contraindicated {
            rationale.push_str(" Simvastatin or lovastatin with a strong CYP3A4 inhibitor is a contraindicated combination (FDA 2011): call the prescriber or pharmacist the same day and measure CK.");
        } else if interaction {
            rationale.push_str(" A statin with a strong CYP3A4 inhibitor and muscle symptoms: call the prescriber or pharmacist the same day and measure CK.");
        }
        for (class, ingredients) in &duplicates {
            rationale.push_str(&format!(
                " Therapeutic duplication: two {}s ({}); the combined dose raises the harm the class causes.",
                class_words(*class),
                ingredients.join(", ")
            ));
        }
        if quinine {
            rationale
                .push_str(" Quinine is not recommended for cramps because of serious toxicity.");
        }
    }
    let mut fire = Fire::new(urgency, rationale, evidence)
        .workup(Workup::MedicationReview, "Review each listed medicine with the prescriber against the timing of the cramps; do not stop any on your own.");
    if interaction {
        fire.add_workup(
            Workup::CreatineKinase,
            "Same-day CK with a statin and a strong CYP3A4 inhibitor (myopathy risk).",
        );
    }
    out.fire(fire);
    if culprits.iter().any(|m| m.weeks_since_started.is_none()) {
        out.ask(
            "medications.weeks_since_started",
            "When was each medicine started?",
            "A medicine started within 12 weeks of the cramps is the stronger suspect.",
        );
    }
}

/// Statin-associated muscle symptoms (S17, S18; e.5): CK only with severe symptoms, objective
/// weakness or dark urine; otherwise the medication list carries a low-probability note.
pub(crate) const STATIN_MUSCLE_SYMPTOMS: Rule = Rule {
    meta: RuleMeta {
        id: "medication.statin_muscle_symptoms",
        version: "1.1.0",
        title: "Statin with significant muscle symptoms",
        flag: Flag::StatinMuscleSymptoms,
        rationale: "On a statin, muscle symptoms that are severe (limiting daily life or out of proportion), objective weakness or dark urine call for a CK, creatinine, potassium and urinalysis (ACC/AHA 2018 Class I; EAS tiers). Milder cramps on a long-standing statin are a low-probability association. Never stop a statin on one's own, especially with arterial disease.",
        inputs: &[
            "medications",
            "symptoms.muscle_weakness",
            "symptoms.proximal_weakness",
            "symptoms.urine_color",
            "symptoms.generalized_muscle_aches",
            "cramps.limits_daily_activities",
            "cramps.pain_out_of_proportion",
            "findings.labs.ck_u_l",
        ],
        citations: &[S17, S18, S12, S4],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: statin_muscle_symptoms,
};

fn statin_muscle_symptoms(f: &Facts<'_>, out: &mut RuleOut) {
    let Some(statin) = f.current_meds().find(|m| m.class == DrugClass::Statin) else {
        return;
    };
    let s = &f.h.symptoms;
    let c = &f.h.cramps;
    let mut evidence = trues(&[
        ("symptoms.muscle_weakness", s.muscle_weakness),
        ("symptoms.proximal_weakness", s.proximal_weakness),
        ("cramps.limits_daily_activities", c.limits_daily_activities),
        ("cramps.pain_out_of_proportion", c.pain_out_of_proportion),
    ]);
    let dark = s.urine_color == Some(UrineColor::Cola);
    if dark {
        evidence.push(ev_val("symptoms.urine_color", UrineColor::Cola.name()));
    }
    if evidence.is_empty() {
        if s.muscle_weakness.is_none() || s.urine_color.is_none() {
            out.ask("symptoms.muscle_weakness", "On the statin: any muscle weakness, or dark (cola-coloured) urine?", "Either calls for a CK on a statin; without them, cramps on a long-standing statin are a low-probability association.");
        }
        return;
    }
    evidence.insert(
        0,
        Evidence {
            field: facts::medication_name_field(statin.index),
            value: statin.input_name.clone().into(),
        },
    );
    if f.takes(DrugClass::StatinInteracting) {
        evidence.push(ev_val("medications", "strong CYP3A4 inhibitor"));
    }
    if yes(s.generalized_muscle_aches) {
        evidence.push(ev("symptoms.generalized_muscle_aches"));
    }
    let mut fire = Fire::new(
        Urgency::Soon,
        "Significant muscle symptoms on a statin (severe, with weakness, or with dark urine): measure CK and look for non-statin causes before any change, decided with the prescriber.",
        evidence,
    );
    // g.5: a CK already given is not ordered again to confirm it; it is evidence.
    match f.h.findings.labs.ck_u_l {
        Some(ck) => fire.evidence.push(ev_val("findings.labs.ck_u_l", ck)),
        None => fire.add_workup(
            Workup::CreatineKinase,
            "CK: EAS tiers separate symptoms with normal CK from myopathy (>10x ULN with symptoms).",
        ),
    }
    fire.add_workup(
        Workup::KidneyFunction,
        "Creatinine and eGFR: renal impairment raises statin myopathy risk.",
    );
    fire.add_workup(
        Workup::BasicMetabolicPanel,
        "Potassium and other electrolytes.",
    );
    fire.add_workup(
        Workup::Urinalysis,
        "Urinalysis: blood-positive dipstick without red cells suggests myoglobin.",
    );
    fire.add_workup(Workup::MedicationReview, "Review the statin with the prescriber (dose, interacting drugs); do not stop it on your own.");
    out.fire(fire);
}
