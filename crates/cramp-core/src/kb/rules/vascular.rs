//! Arterial patterns: ECQ claudication, the guideline PAD risk groups, and critical limb ischemia
//! (clinical-reference.md b.1, c.1, e.2, e.3, e.13).

use crate::engine::facts::{Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::{Location, Pulses, Relief};
use crate::kb::sources::{S1, S3, S4, S5, S6, S8, S11, S31};
use crate::kb::{Rule, RuleMeta, codes};
use crate::output::{Evidence, Flag, Urgency, Workup};

const V1: &str = "1.0.0";

/// ABI at or below this is abnormal: PAD diagnosed (S3, S4).
const ABI_ABNORMAL_MAX: f64 = 0.90;
/// ABI above this is non-compressible, never normal: measure the toe-brachial index (S3, S4).
const ABI_NONCOMPRESSIBLE_OVER: f64 = 1.40;
/// TBI at or below this is abnormal (S3).
const TBI_ABNORMAL_MAX: f64 = 0.70;

/// Signs on history or examination that suggest PAD (2024 Table 6, seed A warning signs).
fn pad_signs(f: &Facts<'_>) -> Vec<Evidence> {
    let s = &f.h.symptoms;
    let mut e = trues(&[
        ("symptoms.cold_feet", s.cold_feet),
        ("symptoms.hair_loss_on_legs", s.hair_loss_on_legs),
        ("symptoms.skin_changes_on_legs", s.skin_changes_on_legs),
        (
            "symptoms.slow_healing_foot_wounds",
            s.slow_healing_foot_wounds,
        ),
        (
            "conditions.known_peripheral_artery_disease",
            f.h.conditions.known_peripheral_artery_disease,
        ),
    ]);
    if let Some(p @ (Pulses::Diminished | Pulses::Absent)) = f.h.findings.foot_pulses {
        e.push(ev_val("findings.foot_pulses", p.name()));
    }
    if let Some(abi) =
        f.h.findings
            .ankle_brachial_index
            .filter(|a| *a <= ABI_ABNORMAL_MAX)
    {
        e.push(ev_val("findings.ankle_brachial_index", abi));
    }
    if let Some(tbi) =
        f.h.findings
            .toe_brachial_index
            .filter(|t| *t <= TBI_ABNORMAL_MAX)
    {
        e.push(ev_val("findings.toe_brachial_index", tbi));
    }
    e
}

/// Objective evidence of arterial disease (not just symptoms).
fn arterial_evidence(f: &Facts<'_>) -> bool {
    let fi = &f.h.findings;
    f.one_of(fi.foot_pulses, &[Pulses::Diminished, Pulses::Absent])
        || f.at_most(fi.ankle_brachial_index, ABI_ABNORMAL_MAX)
        || f.at_most(fi.toe_brachial_index, TBI_ABNORMAL_MAX)
        || f.yes(f.h.conditions.known_peripheral_artery_disease)
}

/// The ABI pathway of b.5: resting ABI first; TBI when > 1.40 (or when arteries are likely
/// non-compressible); exercise ABI when normal or borderline with exertional symptoms.
fn abi_pathway(f: &Facts<'_>, fire: &mut Fire, exertional_symptoms: bool) {
    let fi = &f.h.findings;
    match fi.ankle_brachial_index {
        None => {
            fire.add_workup(Workup::AnkleBrachialIndex, "Resting ankle-brachial index is the first test for PAD (ABI <= 0.90 abnormal; > 1.40 non-compressible).");
            if f.on_dialysis() {
                fire.add_workup(Workup::ToeBrachialIndex, "Arteries are often non-compressible on dialysis, so measure the toe-brachial index as well.");
            }
        }
        Some(abi) if abi > ABI_NONCOMPRESSIBLE_OVER => {
            if fi.toe_brachial_index.is_none() {
                fire.add_workup(Workup::ToeBrachialIndex, "ABI above 1.40 means non-compressible arteries, never normal: measure the toe-brachial index (TBI <= 0.70 abnormal).");
            }
        }
        Some(abi) if abi > ABI_ABNORMAL_MAX => {
            if exertional_symptoms {
                fire.add_workup(Workup::ExerciseAbi, "Normal or borderline resting ABI with exertional leg symptoms: an exercise (treadmill) ABI can unmask PAD.");
            }
        }
        Some(_) => {}
    }
}

/// Did the ECQ criteria all hold (c.1)?
pub(super) fn ecq_positive(f: &Facts<'_>) -> bool {
    let c = &f.h.cramps;
    let site = c
        .locations
        .iter()
        .any(|l| matches!(l, Location::Calf | Location::Thigh | Location::Buttock));
    f.has_context(crate::input::Context::Walking)
        && c.starts_when_standing_still_or_sitting == Some(false)
        && c.worse_uphill_or_hurrying == Some(true)
        && c.relief_on_standing_still == Some(Relief::Within10Minutes)
        && site
}

/// Claudication by the Edinburgh Claudication Questionnaire (S5): exertional calf (or thigh or
/// buttock) pain, never at rest, worse uphill, gone within 10 minutes of standing still.
pub(crate) const PAD_PATTERN: Rule = Rule {
    meta: RuleMeta {
        id: "vascular.ecq_claudication",
        version: V1,
        title: "Claudication pattern (Edinburgh Claudication Questionnaire)",
        flag: Flag::PadPattern,
        rationale: "Leg pain on walking that never starts at rest, is worse uphill or hurrying, and goes within 10 minutes of standing still is the claudication pattern of the Edinburgh Claudication Questionnaire, a useful rule-in for peripheral artery disease. Rest or night cramps are not claudication. Resting ABI comes first.",
        inputs: &[
            "cramps.contexts",
            "cramps.starts_when_standing_still_or_sitting",
            "cramps.worse_uphill_or_hurrying",
            "cramps.relief_on_standing_still",
            "cramps.locations",
            "cramps.limits_daily_activities",
            "findings.ankle_brachial_index",
            "findings.toe_brachial_index",
            "findings.foot_pulses",
        ],
        citations: &[S5, S6, S3, S4, S1],
        codings: &[codes::SCT_CLAUDICATION, codes::ICD_PVD],
        max_urgency: Urgency::Routine,
    },
    eval: pad_pattern,
};

fn pad_pattern(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.cramps;
    if f.has_context(crate::input::Context::Walking) {
        if c.starts_when_standing_still_or_sitting.is_none() {
            out.ask(
                "cramps.starts_when_standing_still_or_sitting",
                "Does the pain ever begin while standing still or sitting?",
                "ECQ Q2: pain that begins at rest is not claudication.",
            );
        }
        if c.worse_uphill_or_hurrying.is_none() {
            out.ask(
                "cramps.worse_uphill_or_hurrying",
                "Does it come on when walking uphill or hurrying?",
                "ECQ Q3: required for the claudication pattern.",
            );
        }
        if c.relief_on_standing_still.is_none() {
            out.ask("cramps.relief_on_standing_still", "If you stop and stand still, does the pain go within 10 minutes?", "ECQ Q5: relief within 10 minutes of standing still separates claudication from other walking pain.");
        }
        if c.locations.is_empty() {
            out.ask("cramps.locations", "Where is the pain: calf, thigh, buttock, foot?", "ECQ Q6: calf pain is definite claudication; thigh or buttock without calf is atypical.");
        }
    }
    if !ecq_positive(f) {
        return;
    }
    let definite = c.locations.contains(&Location::Calf);
    let mut evidence = vec![
        ev_val("cramps.contexts", crate::input::Context::Walking.name()),
        ev_val("cramps.starts_when_standing_still_or_sitting", "false"),
        ev("cramps.worse_uphill_or_hurrying"),
        ev_val(
            "cramps.relief_on_standing_still",
            Relief::Within10Minutes.name(),
        ),
    ];
    for l in &c.locations {
        evidence.push(ev_val("cramps.locations", l.name()));
    }
    evidence.extend(pad_signs(f));
    let kind = if definite {
        "definite (calf)"
    } else {
        "atypical (thigh or buttock without calf)"
    };
    let mut fire = Fire::new(
        Urgency::Routine,
        if f.prose() {
            format!(
                "Edinburgh Claudication Questionnaire pattern: {kind} claudication. A positive ECQ rules PAD in well; a resting ABI confirms it."
            )
        } else {
            String::new()
        },
        evidence,
    );
    abi_pathway(f, &mut fire, true);
    let abnormal =
        f.h.findings
            .ankle_brachial_index
            .is_some_and(|a| a <= ABI_ABNORMAL_MAX)
            || f.h
                .findings
                .toe_brachial_index
                .is_some_and(|t| t <= TBI_ABNORMAL_MAX);
    if abnormal && yes(c.limits_daily_activities) {
        fire.add_workup(Workup::VascularReferral, "Abnormal ABI/TBI with lifestyle-limiting claudication: vascular referral to discuss treatment options.");
        fire.add_workup(
            Workup::ArterialDuplex,
            "Duplex imaging locates and grades stenosis when revascularization is considered.",
        );
    }
    out.fire(fire);
}

/// The b.1 at-risk groups or PAD-suggestive findings without the claudication pattern: ABI at
/// routine urgency (Class IIa for risk alone, Class I with findings), never duplex (e.13).
pub(crate) const PAD_RISK_PROFILE: Rule = Rule {
    meta: RuleMeta {
        id: "vascular.pad_risk_profile",
        version: V1,
        title: "Peripheral artery disease risk profile or suggestive findings",
        flag: Flag::PadRiskProfile,
        rationale: "Age 65 or over, age 50-64 with an atherosclerosis risk factor, diabetes with another risk factor under 50, known atherosclerosis elsewhere, or findings such as weak pulses, cold feet or slow-healing wounds put a person in the guideline group for whom a resting ABI is reasonable, even without claudication. A negative claudication questionnaire must not stop an ABI in this group.",
        inputs: &[
            "patient.age_years",
            "conditions.diabetes",
            "conditions.smoking",
            "conditions.high_cholesterol",
            "conditions.hypertension",
            "conditions.chronic_kidney_disease",
            "conditions.family_history_of_pad",
            "conditions.coronary_or_cerebrovascular_disease",
            "conditions.known_peripheral_artery_disease",
            "findings.foot_pulses",
            "findings.ankle_brachial_index",
            "symptoms.cold_feet",
            "symptoms.hair_loss_on_legs",
            "symptoms.skin_changes_on_legs",
            "symptoms.slow_healing_foot_wounds",
            "cramps.relief_on_standing_still",
        ],
        citations: &[S3, S4, S8, S31, S1],
        codings: &[],
        max_urgency: Urgency::Routine,
    },
    eval: pad_risk_profile,
};

fn pad_risk_profile(f: &Facts<'_>, out: &mut RuleOut) {
    if ecq_positive(f) {
        return;
    }
    let group = f.pad_risk_group();
    let signs = pad_signs(f);
    // 2024 Table 6: exertional symptoms needing more than 10 minutes' rest are PAD-suggestive too.
    let atypical = f.has_context(crate::input::Context::Walking)
        && matches!(
            f.h.cramps.relief_on_standing_still,
            Some(Relief::After10Minutes | Relief::None)
        );
    if group.is_none() && signs.is_empty() && !atypical {
        let age = f.age();
        if (50..65).contains(&age) && f.atherosclerosis_risk_factors().is_empty() {
            let c = &f.h.conditions;
            if c.smoking.is_none() {
                out.ask("conditions.smoking", "Have you ever smoked?", "At 50-64, any atherosclerosis risk factor (smoking, diabetes, high cholesterol, high blood pressure, kidney disease, family history of PAD) makes an ABI reasonable.");
            }
            if c.diabetes.is_none() {
                out.ask("conditions.diabetes", "Do you have diabetes?", "At 50-64, diabetes makes an ABI reasonable; it also changes neuropathy and kidney checks.");
            }
        }
        return;
    }
    let in_group = group.is_some();
    let mut evidence = group.unwrap_or_default();
    let exam_findings = !signs.is_empty();
    evidence.extend(signs);
    if atypical {
        evidence.push(ev_val(
            "cramps.relief_on_standing_still",
            f.h.cramps.relief_on_standing_still.map_or("", |r| r.name()),
        ));
    }
    let why = match (in_group, exam_findings || atypical) {
        (true, true) => "In a guideline at-risk group for PAD, with findings that suggest it.",
        (true, false) => "In a guideline at-risk group for PAD, without a claudication pattern.",
        (false, _) => "Findings that suggest PAD, without the full claudication pattern.",
    };
    let mut fire = Fire::new(
        Urgency::Routine,
        if f.prose() {
            format!(
                "{why} A resting ABI is reasonable at the next planned visit; duplex is not a first test."
            )
        } else {
            String::new()
        },
        evidence,
    );
    abi_pathway(f, &mut fire, f.exertional());
    out.fire(fire);
}

/// Chronic limb-threatening ischemia (b.1 tiers, b.6): ischemic rest pain relieved by hanging the
/// leg down, or a non-healing wound with arterial disease: urgent vascular referral.
pub(crate) const CRITICAL_LIMB_ISCHEMIA: Rule = Rule {
    meta: RuleMeta {
        id: "vascular.critical_limb_ischemia",
        version: "2.0.0",
        title: "Possible chronic limb-threatening ischemia",
        flag: Flag::CriticalLimbIschemia,
        rationale: "Pain at rest that eases when the leg hangs down (ischemic rest pain), or a slow-healing foot wound with weak pulses, a low ABI, known PAD or in a guideline at-risk group for PAD, can mean the limb is threatened by arterial disease: urgent vascular referral.",
        inputs: &[
            "cramps.relieved_by_hanging_leg_down",
            "symptoms.slow_healing_foot_wounds",
            "findings.foot_pulses",
            "findings.ankle_brachial_index",
            "findings.toe_brachial_index",
            "conditions.known_peripheral_artery_disease",
            "conditions.on_dialysis",
            "patient.age_years",
            "conditions.coronary_or_cerebrovascular_disease",
            "conditions.diabetes",
            "conditions.smoking",
            "conditions.high_cholesterol",
            "conditions.hypertension",
        ],
        citations: &[S4, S3, S11],
        codings: &[codes::SCT_PAD],
        max_urgency: Urgency::Urgent,
    },
    eval: critical_limb_ischemia,
};

fn critical_limb_ischemia(f: &Facts<'_>, out: &mut RuleOut) {
    let rest_pain = f.yes(f.h.cramps.relieved_by_hanging_leg_down);
    let wound_given = f.yes(f.h.symptoms.slow_healing_foot_wounds);
    // g.1 table: a slow-healing wound with PAD risk or known PAD establishes it.
    let at_risk = arterial_evidence(f) || f.pad_risk_group().is_some();
    let wound = wound_given && at_risk;
    if !(rest_pain || wound) {
        if yes(f.h.symptoms.slow_healing_foot_wounds) && f.h.findings.foot_pulses.is_none() {
            out.ask("findings.foot_pulses", "Are the foot pulses normal, weak or absent?", "A slow-healing foot wound with weak pulses is limb-threatening ischemia (urgent vascular referral).");
        }
        return;
    }
    let mut evidence = trues(&[
        (
            "cramps.relieved_by_hanging_leg_down",
            f.h.cramps.relieved_by_hanging_leg_down,
        ),
        (
            "symptoms.slow_healing_foot_wounds",
            f.h.symptoms.slow_healing_foot_wounds,
        ),
    ]);
    for e in pad_signs(f)
        .into_iter()
        .chain(f.pad_risk_group().unwrap_or_default())
    {
        if !evidence.contains(&e) {
            evidence.push(e);
        }
    }
    let mut fire = Fire::new(
        Urgency::Urgent,
        if rest_pain {
            "Pain relieved by hanging the leg down is the ischemic rest-pain pattern: possible limb-threatening ischemia."
        } else {
            "A slow-healing foot wound in a person with arterial disease or in a guideline at-risk group for it: possible limb-threatening ischemia."
        },
        evidence,
    )
    .workup(Workup::VascularReferral, "Urgent vascular referral for possible limb-threatening ischemia.");
    abi_pathway(f, &mut fire, false);
    fire.add_workup(
        Workup::ArterialDuplex,
        "Duplex imaging to plan revascularization in limb-threatening ischemia.",
    );
    out.fire(fire);
}
