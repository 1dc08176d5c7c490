//! Medication culprits (clinical-reference.md b.4, e.5, e.12): the drug classes Garrison 2012 and
//! the AFP review link to cramps, statin muscle symptoms by the CK rules, and quinine as a safety
//! note. Advice is always to review with the prescriber, never to stop.

use crate::engine::facts::{self, Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::UrineColor;
use crate::kb::sources::{S1, S2, S4, S12, S13, S14, S17, S18, S25};
use crate::kb::{Rule, RuleMeta};
use crate::meds;
use crate::output::{DrugClass, Evidence, EvidenceStrength, Flag, Urgency, Workup};

const V1: &str = "1.0.0";

/// A recognised culprit other than a plain statin (statins have their own CK rules, e.5).
pub(crate) const MEDICATION_ASSOCIATED: Rule = Rule {
    meta: RuleMeta {
        id: "medication.associated",
        version: V1,
        title: "Medication possibly contributing to cramps",
        flag: Flag::MedicationAssociated,
        rationale: "Diuretics (especially potassium-sparing and thiazide), inhaled long-acting beta-agonists, proton pump inhibitors and a few other drugs are linked to cramps; a drug started within the last 12 weeks is the stronger suspect. Quinine is listed as a safety concern. Review with the prescriber; never stop on one's own. Inhaled anticholinergics and beta blockers (negative controls) are never flagged.",
        inputs: &["medications"],
        citations: &[S12, S13, S14, S25, S1, S2],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: medication_associated,
};

fn medication_associated(f: &Facts<'_>, out: &mut RuleOut) {
    let culprits: Vec<_> = f
        .current_meds()
        .filter(|m| m.class != DrugClass::Statin)
        .collect();
    if culprits.is_empty() {
        return;
    }
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut soon = false;
    for m in &culprits {
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
        soon |= recent && meds::strength(m.class) != EvidenceStrength::Weak;
        if f.prose() {
            names.push(format!(
                "{} ({}{})",
                m.ingredient,
                m.class.name(),
                if recent {
                    ", started within 12 weeks"
                } else {
                    ""
                }
            ));
        }
    }
    let quinine = culprits.iter().any(|m| m.class == DrugClass::Quinine);
    let mut rationale = String::new();
    if f.prose() {
        rationale = format!("Medications linked to cramps: {}.", names.join("; "));
        if quinine {
            rationale
                .push_str(" Quinine is not recommended for cramps because of serious toxicity.");
        }
    }
    out.fire(
        Fire::new(if soon { Urgency::Soon } else { Urgency::Routine }, rationale, evidence)
            .workup(Workup::MedicationReview, "Review each listed medicine with the prescriber against the timing of the cramps; do not stop any on your own."),
    );
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
        version: V1,
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
    fire.add_workup(
        Workup::CreatineKinase,
        "CK: EAS tiers separate symptoms with normal CK from myopathy (>10x ULN with symptoms).",
    );
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
