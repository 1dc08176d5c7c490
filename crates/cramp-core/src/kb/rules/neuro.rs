//! Nerve patterns: neurogenic claudication (b.1 table, S7) and peripheral neuropathy by
//! MNSI-style signs, where cramps never count (b.2, c.2, e.4).

use crate::engine::facts::{Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::{Context, Diabetes, Location, Sensation};
use crate::kb::sources::{L22, L23, S1, S2, S7, S8, S9, S13, S32, S33, S35};
use crate::kb::{Rule, RuleMeta, codes};
use crate::output::{Flag, Urgency, Workup};

const V1: &str = "1.0.0";

/// B12 at or below this is deficient or borderline (L22: < 180 deficient, 180-350 borderline).
const B12_BORDERLINE_MAX_PG_ML: f64 = 350.0;

/// Lumbar spinal stenosis pattern (S7): brought on by standing or walking, relieved by sitting or
/// bending forward; pulses are normal.
pub(crate) const NEUROGENIC_CLAUDICATION: Rule = Rule {
    meta: RuleMeta {
        id: "neuro.neurogenic_claudication",
        version: V1,
        title: "Neurogenic claudication pattern (lumbar spinal stenosis)",
        flag: Flag::NeurogenicClaudication,
        rationale: "Leg symptoms brought on by standing or walking and relieved by sitting or bending forward (the shopping-cart sign) point to nerve compression from lumbar spinal stenosis rather than to the arteries; pulses are normal in this pattern.",
        inputs: &[
            "cramps.relieved_by_sitting_or_bending_forward",
            "cramps.contexts",
            "cramps.starts_when_standing_still_or_sitting",
            "cramps.locations",
            "symptoms.back_pain",
            "symptoms.pain_radiating_down_leg",
            "conditions.spinal_stenosis_or_disc_disease",
        ],
        citations: &[S7, S2, S13],
        codings: &[],
        max_urgency: Urgency::Routine,
    },
    eval: neurogenic_claudication,
};

fn neurogenic_claudication(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.cramps;
    let s = &f.h.symptoms;
    let trigger = f.has_context(Context::Walking)
        || f.has_context(Context::ProlongedStanding)
        || yes(c.starts_when_standing_still_or_sitting);
    if !trigger {
        return;
    }
    if !yes(c.relieved_by_sitting_or_bending_forward) {
        if c.relieved_by_sitting_or_bending_forward.is_none()
            && (yes(s.back_pain) || yes(s.pain_radiating_down_leg))
        {
            out.ask("cramps.relieved_by_sitting_or_bending_forward", "Is it relieved by sitting down or bending forward?", "Relief by sitting or bending forward separates spinal stenosis from arterial claudication.");
        }
        return;
    }
    let mut evidence = vec![ev("cramps.relieved_by_sitting_or_bending_forward")];
    for ctx in [Context::Walking, Context::ProlongedStanding] {
        if f.has_context(ctx) {
            evidence.push(ev_val("cramps.contexts", ctx.name()));
        }
    }
    evidence.extend(trues(&[
        (
            "cramps.starts_when_standing_still_or_sitting",
            c.starts_when_standing_still_or_sitting,
        ),
        ("symptoms.back_pain", s.back_pain),
        (
            "symptoms.pain_radiating_down_leg",
            s.pain_radiating_down_leg,
        ),
        (
            "conditions.spinal_stenosis_or_disc_disease",
            f.h.conditions.spinal_stenosis_or_disc_disease,
        ),
    ]));
    for l in c
        .locations
        .iter()
        .filter(|l| matches!(l, Location::Thigh | Location::Buttock))
    {
        evidence.push(ev_val("cramps.locations", l.name()));
    }
    let mut fire = Fire::new(
        Urgency::Routine,
        "Symptoms brought on by standing or walking and relieved by sitting or bending forward: the neurogenic (spinal stenosis) pattern. Pulses are normal in this pattern; weak pulses or PAD risk factors call for an ABI to look for coexisting arterial disease.",
        evidence,
    );
    if yes(f.h.conditions.spinal_stenosis_or_disc_disease) {
        fire.codings.push(codes::ICD_STENOSIS_NEUROGENIC);
    }
    out.fire(fire);
}

/// Neuropathy signs (S8, S9): numbness, burning, prickling, reduced feeling or temperature loss
/// in the feet, or an abnormal monofilament or vibration exam. Cramps are never scored (e.4).
pub(crate) const PERIPHERAL_NEUROPATHY: Rule = Rule {
    meta: RuleMeta {
        id: "neuro.peripheral_neuropathy",
        version: "1.1.0",
        title: "Peripheral neuropathy signs",
        flag: Flag::PeripheralNeuropathy,
        rationale: "Numbness, burning, tingling, reduced feeling or loss of temperature sense in the feet, or an abnormal monofilament or vibration test, are the scored neuropathy items of the Michigan Neuropathy Screening Instrument (cramps are not scored). They call for a foot examination and tests for treatable causes: diabetes, B12 deficiency, thyroid and kidney disease.",
        inputs: &[
            "symptoms.numbness",
            "symptoms.burning_pain",
            "symptoms.tingling",
            "symptoms.reduced_feeling_in_feet",
            "symptoms.cannot_feel_temperature_with_feet",
            "symptoms.dry_cracked_feet",
            "symptoms.slow_healing_foot_wounds",
            "findings.monofilament_sensation",
            "findings.vibration_sense",
            "conditions.diabetes",
            "conditions.heavy_alcohol_use",
            "findings.labs.vitamin_b12_pg_ml",
            "findings.labs.hba1c_percent",
            "findings.labs.egfr_ml_min_1_73m2",
            "medications",
        ],
        citations: &[S8, S9, S32, S33, S1, L22, L23],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: peripheral_neuropathy,
};

/// Progressive weakness, wasting or bulbar symptoms with cramps (g.4, NICE NG42 [S35], seed B):
/// a neuromuscular disease such as motor neurone disease must be considered without delay.
pub(crate) const NEUROMUSCULAR_WEAKNESS: Rule = Rule {
    meta: RuleMeta {
        id: "neuro.neuromuscular_weakness",
        version: V1,
        title: "Progressive weakness, wasting or speech or swallowing difficulty with cramps",
        flag: Flag::NeuromuscularWeakness,
        rationale: "Cramps with weakness that is getting worse over weeks or months, with visible muscle wasting, or with speech or swallowing difficulty, especially without sensory symptoms, can be a neuromuscular disease; motor neurone disease is among those to consider. Refer to neurology without delay, with a CK and nerve conduction studies with EMG. Twitching strengthens the picture but does not raise it alone: cramps with twitching and no weakness or wasting are common and usually benign.",
        inputs: &[
            "symptoms.weakness_getting_worse",
            "symptoms.muscle_wasting",
            "symptoms.speech_or_swallowing_difficulty",
            "symptoms.muscle_twitching",
            "symptoms.muscle_weakness",
            "symptoms.numbness",
            "symptoms.tingling",
            "findings.labs.ck_u_l",
        ],
        citations: &[S35, S2],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: neuromuscular_weakness,
};

fn neuromuscular_weakness(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let progressive = yes(s.weakness_getting_worse);
    let wasting = yes(s.muscle_wasting);
    let bulbar = yes(s.speech_or_swallowing_difficulty);
    if !(progressive || wasting || bulbar) {
        let weak_or_twitching = yes(s.muscle_weakness) || yes(s.muscle_twitching);
        if weak_or_twitching && s.weakness_getting_worse.is_none() {
            out.ask("symptoms.weakness_getting_worse", "Is there weakness that has been getting worse over weeks or months?", "Progressive weakness with cramps or twitching needs neurology without delay (neuromuscular disease); twitching alone is usually benign.");
        }
        if weak_or_twitching && s.muscle_wasting.is_none() {
            out.ask(
                "symptoms.muscle_wasting",
                "Has any muscle become visibly thinner?",
                "Muscle wasting with cramps or twitching needs neurology without delay.",
            );
        }
        return;
    }
    let evidence = trues(&[
        ("symptoms.weakness_getting_worse", s.weakness_getting_worse),
        ("symptoms.muscle_wasting", s.muscle_wasting),
        (
            "symptoms.speech_or_swallowing_difficulty",
            s.speech_or_swallowing_difficulty,
        ),
        ("symptoms.muscle_twitching", s.muscle_twitching),
        ("symptoms.muscle_weakness", s.muscle_weakness),
    ]);
    let mut rationale = String::new();
    if f.prose() {
        let mut what = Vec::new();
        if progressive {
            what.push("weakness getting worse");
        }
        if wasting {
            what.push("muscle wasting");
        }
        if bulbar {
            what.push("speech or swallowing difficulty");
        }
        if yes(s.muscle_twitching) {
            what.push("twitching");
        }
        rationale = format!(
            "Cramps with {}: a neuromuscular disease (motor neurone disease among those to consider, also myopathy or a motor neuropathy) must be excluded. Refer to neurology without delay.",
            what.join(", ")
        );
        if s.numbness == Some(false) && s.tingling == Some(false) {
            rationale.push_str(" No numbness or tingling: a purely motor picture.");
        }
        if f.takes(crate::output::DrugClass::Statin) {
            rationale.push_str(" A statin is on the list; a CK serves both questions.");
        }
    }
    let mut fire = Fire::new(Urgency::Soon, rationale, evidence);
    match f.h.findings.labs.ck_u_l {
        // g.5: a value already given is not ordered again to confirm it.
        Some(_) => {}
        None => fire.add_workup(
            Workup::CreatineKinase,
            "CK: raised in muscle disease and in some motor neurone disease.",
        ),
    }
    if let Some(ck) = f.h.findings.labs.ck_u_l {
        fire.evidence.push(ev_val("findings.labs.ck_u_l", ck));
    }
    fire.add_workup(
        Workup::NerveConductionStudy,
        "Nerve conduction studies with EMG (requested with the neurology referral).",
    );
    out.fire(fire);
    if s.speech_or_swallowing_difficulty.is_none() {
        out.ask(
            "symptoms.speech_or_swallowing_difficulty",
            "Any difficulty with speech or swallowing?",
            "Bulbar symptoms with progressive weakness make the neurology referral more pressing.",
        );
    }
}

fn peripheral_neuropathy(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let fi = &f.h.findings;
    let mut evidence = trues(&[
        ("symptoms.numbness", s.numbness),
        ("symptoms.burning_pain", s.burning_pain),
        ("symptoms.tingling", s.tingling),
        (
            "symptoms.reduced_feeling_in_feet",
            s.reduced_feeling_in_feet,
        ),
        (
            "symptoms.cannot_feel_temperature_with_feet",
            s.cannot_feel_temperature_with_feet,
        ),
    ]);
    if let Some(x @ (Sensation::Reduced | Sensation::Absent)) = fi.monofilament_sensation {
        evidence.push(ev_val("findings.monofilament_sensation", x.name()));
    }
    if let Some(x @ (Sensation::Reduced | Sensation::Absent)) = fi.vibration_sense {
        evidence.push(ev_val("findings.vibration_sense", x.name()));
    }
    if evidence.is_empty() {
        return;
    }
    // Scored MNSI items that support, but do not establish, the pattern.
    evidence.extend(trues(&[
        ("symptoms.dry_cracked_feet", s.dry_cracked_feet),
        (
            "symptoms.slow_healing_foot_wounds",
            s.slow_healing_foot_wounds,
        ),
    ]));
    let labs = &fi.labs;
    let b12_low = labs
        .vitamin_b12_pg_ml
        .filter(|b| *b <= B12_BORDERLINE_MAX_PG_ML);
    let mut urgency = Urgency::Routine;
    let mut rationale = String::from(
        "Sensory symptoms or exam findings of peripheral neuropathy (scored items only; cramps do not count).",
    );
    if let Some(b) = b12_low {
        urgency = Urgency::Soon;
        evidence.push(ev_val("findings.labs.vitamin_b12_pg_ml", b));
        rationale.push_str(
            " Low or borderline B12 with neurological signs: act without waiting for confirmation.",
        );
    }
    let metformin = f.takes_metformin();
    if metformin {
        evidence.push(ev_val("medications", "metformin"));
        rationale.push_str(" Long-term metformin lowers B12.");
    }
    let mut fire = Fire::new(urgency, rationale, evidence);
    fire.add_workup(Workup::DiabeticFootExam, "Foot examination: 10-g monofilament, 128-Hz vibration, pinprick or temperature, ankle reflexes.");
    if labs.hba1c_percent.is_none() {
        fire.add_workup(
            Workup::Hba1c,
            "HbA1c to look for diabetes or judge its control as a cause of neuropathy.",
        );
    }
    if labs.vitamin_b12_pg_ml.is_none() {
        fire.add_workup(
            Workup::VitaminB12,
            if metformin {
                "B12 to exclude deficiency, a treatable cause; long-term metformin raises the risk."
            } else {
                "B12 to exclude deficiency, a treatable cause of neuropathy."
            },
        );
    } else if b12_low.is_some() {
        fire.add_workup(
            Workup::VitaminB12,
            "Borderline or low B12: confirm with methylmalonic acid and treat.",
        );
    }
    fire.add_workup(
        Workup::Tsh,
        "TSH: hypothyroidism is a treatable cause of neuropathy.",
    );
    if labs.egfr_ml_min_1_73m2.is_none() {
        fire.add_workup(
            Workup::KidneyFunction,
            "Kidney function (eGFR): kidney disease is a cause of neuropathy.",
        );
    }
    if metformin || yes(f.h.conditions.heavy_alcohol_use) {
        fire.add_workup(
            Workup::Cbc,
            "Blood count for anemia with B12 deficiency or alcohol use.",
        );
    }
    // Nerve conduction only for an atypical *neuropathy*: motor-predominant (weakness or wasting
    // beside the sensory signs). A one-sided cramp is not an asymmetric neuropathy (g.4), and the
    // intake does not record on which side the sensory signs are, so asymmetry cannot be read.
    if yes(s.muscle_weakness) || yes(s.muscle_wasting) {
        fire.add_workup(Workup::NerveConductionStudy, "Weakness or wasting beside the sensory signs (a motor-predominant neuropathy): nerve conduction studies are warranted.");
    }
    match f.h.conditions.diabetes {
        Some(Diabetes::Type2) => {
            fire.codings.push(codes::SCT_DIABETIC_NEUROPATHY);
            fire.codings.push(codes::ICD_T2DM_POLYNEUROPATHY);
        }
        Some(Diabetes::Type1) => fire.codings.push(codes::SCT_DIABETIC_NEUROPATHY),
        Some(Diabetes::None | Diabetes::Prediabetes) | None => {}
    }
    out.fire(fire);
    if fi.monofilament_sensation.is_none() && fi.vibration_sense.is_none() {
        out.ask(
            "findings.monofilament_sensation",
            "Monofilament and vibration findings on foot examination?",
            "An abnormal exam confirms neuropathy signs and sets foot-care frequency.",
        );
    }
}
