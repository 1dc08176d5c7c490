//! Benign and self-care patterns, pregnancy, and disruptive cramps (clinical-reference.md a, b.5).
//!
//! The engine removes every benign label when a red flag fires (e.10), and the nocturnal label when
//! anything else needs a visit within two weeks; these rules also require the absence of the
//! seeds' warning signs themselves.

use crate::engine::facts::{Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::{ActivityLevel, Context, Location, Swelling, UrineColor};
use crate::kb::sources::{S1, S2, S13, S14, S16, S26, S29, S30};
use crate::kb::{Rule, RuleMeta, codes};
use crate::output::{Evidence, Flag, Urgency};

const V1: &str = "1.0.0";

/// A nocturnal cramp lasts seconds up to about 10 minutes (S29).
const TYPICAL_MAX_SECONDS: u32 = 600;

/// The seeds' warning signs that make cramps "not isolated": swelling, numbness, skin or colour
/// change, weakness, constant pain.
fn warning_signs_present(f: &Facts<'_>) -> bool {
    let s = &f.h.symptoms;
    [
        s.numbness,
        s.tingling,
        s.burning_pain,
        s.muscle_weakness,
        s.skin_changes_on_legs,
        s.cold_feet,
        s.foot_pale_or_blue,
        f.h.cramps.persistent_pain,
        f.h.cramps.pain_out_of_proportion,
    ]
    .into_iter()
    .any(yes)
        || matches!(s.leg_swelling, Some(Swelling::OneLeg | Swelling::BothLegs))
        || s.urine_color == Some(UrineColor::Cola)
}

/// Pregnancy (S16): cramps are common; supplements have inconsistent, low-certainty evidence.
pub(crate) const PREGNANCY: Rule = Rule {
    meta: RuleMeta {
        id: "pattern.pregnancy_associated",
        // 1.1.0: ROUTINE, not SELF_CARE (outputs.md lists this flag among the soon/routine
        // patterns, and the p02 vignette allows ROUTINE); self-care advice is still given.
        version: "1.1.0",
        title: "Pregnancy-associated cramps",
        flag: Flag::PregnancyAssociated,
        rationale: "Leg cramps, often at night, are common in pregnancy (extra weight, circulation and hormone changes). Trials of magnesium, calcium and vitamins give inconsistent, low-certainty results, so self-care comes first, with the cramps mentioned at the next antenatal visit. Pregnancy also raises the risk of a blood clot, so one swollen, painful leg needs same-day care.",
        inputs: &["patient.pregnant", "patient.pregnancy_weeks"],
        citations: &[S16, S2],
        codings: &[],
        max_urgency: Urgency::Routine,
    },
    eval: pregnancy,
};

fn pregnancy(f: &Facts<'_>, out: &mut RuleOut) {
    if !yes(f.h.patient.pregnant) {
        return;
    }
    let mut evidence = vec![ev("patient.pregnant")];
    if let Some(w) = f.h.patient.pregnancy_weeks {
        evidence.push(ev_val("patient.pregnancy_weeks", w));
    }
    out.fire(Fire::new(Urgency::Routine, "Cramps in pregnancy are common; self-care first and a mention at the next antenatal visit, with a low threshold for same-day care if one leg swells or hurts.", evidence));
}

/// Frequent, sleep- or activity-disrupting cramps warrant evaluation (seed B).
pub(crate) const DISRUPTIVE: Rule = Rule {
    meta: RuleMeta {
        id: "pattern.disruptive_cramps",
        version: V1,
        title: "Disruptive cramps",
        flag: Flag::DisruptiveCramps,
        rationale: "Cramps that wake a person from sleep or limit daily activities warrant evaluation at a planned visit, with a medication review and a symptom diary.",
        inputs: &["cramps.wakes_from_sleep", "cramps.limits_daily_activities"],
        citations: &[S2, S13],
        codings: &[],
        max_urgency: Urgency::Routine,
    },
    eval: disruptive,
};

fn disruptive(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.cramps;
    let evidence = trues(&[
        ("cramps.wakes_from_sleep", c.wakes_from_sleep),
        ("cramps.limits_daily_activities", c.limits_daily_activities),
    ]);
    if evidence.is_empty() {
        return;
    }
    out.fire(Fire::new(
        Urgency::Routine,
        "Cramps that disturb sleep or daily life warrant evaluation at a planned visit.",
        evidence,
    ));
}

/// Typical nocturnal leg cramps (S29, S13): at night or rest, calf or foot, seconds to 10 minutes,
/// without warning signs. No labs needed (e.7).
pub(crate) const NOCTURNAL: Rule = Rule {
    meta: RuleMeta {
        id: "benign.nocturnal_cramps",
        version: V1,
        title: "Typical nocturnal leg cramps",
        flag: Flag::BenignNocturnalCramps,
        rationale: "Sudden, hard, painful calf or foot cramps at night or at rest, lasting seconds to 10 minutes and eased by stretching, without warning signs, are typical nocturnal leg cramps. History and examination usually suffice; routine labs are not needed. Quinine is not recommended.",
        inputs: &[
            "cramps.contexts",
            "cramps.locations",
            "cramps.typical_duration_seconds",
            "cramps.relieved_by_stretching",
            "cramps.visible_muscle_tightening",
        ],
        citations: &[S29, S13, S14, S30],
        codings: &[codes::ICD_SLEEP_LEG_CRAMPS, codes::ICD_CRAMP],
        max_urgency: Urgency::SelfCare,
    },
    eval: nocturnal,
};

fn nocturnal(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.cramps;
    if !f.nocturnal_or_rest()
        || f.exertional()
        || f.has_context(Context::AfterExercise)
        || warning_signs_present(f)
    {
        return;
    }
    if c.locations
        .iter()
        .any(|l| !matches!(l, Location::Calf | Location::Foot | Location::Toes))
    {
        return; // thigh or buttock cramps are not the typical picture (S29)
    }
    if c.typical_duration_seconds
        .is_some_and(|d| d > TYPICAL_MAX_SECONDS)
    {
        return;
    }
    let mut evidence: Vec<Evidence> = [Context::Night, Context::Rest]
        .into_iter()
        .filter(|x| f.has_context(*x))
        .map(|x| ev_val("cramps.contexts", x.name()))
        .collect();
    for l in &c.locations {
        evidence.push(ev_val("cramps.locations", l.name()));
    }
    if let Some(d) = c.typical_duration_seconds {
        evidence.push(ev_val("cramps.typical_duration_seconds", d));
    }
    evidence.extend(trues(&[
        ("cramps.relieved_by_stretching", c.relieved_by_stretching),
        (
            "cramps.visible_muscle_tightening",
            c.visible_muscle_tightening,
        ),
    ]));
    out.fire(Fire::new(
        Urgency::SelfCare,
        "Typical nocturnal leg cramps without warning signs: self-care, no routine labs.",
        evidence,
    ));
    if c.typical_duration_seconds.is_none() {
        out.ask("cramps.typical_duration_seconds", "How long does one cramp last?", "Typical night cramps last seconds to 10 minutes; longer, constant pain is not a typical cramp.");
    }
}

/// Exercise-associated muscle cramps (S26): during or just after exercise, multifactorial; gentle
/// static stretching.
pub(crate) const EXERCISE_ASSOCIATED: Rule = Rule {
    meta: RuleMeta {
        id: "benign.exercise_associated_cramps",
        version: V1,
        title: "Exercise-associated muscle cramps",
        flag: Flag::ExerciseAssociatedCramps,
        rationale: "Painful contractions during or just after exercise, without warning signs, are exercise-associated muscle cramps: multifactorial (fatigue more than heat or salt), treated with gentle static stretching. Cramps that repeatedly force stopping or come with systemic signs need medical review.",
        inputs: &[
            "cramps.contexts",
            "lifestyle.recent_unaccustomed_strenuous_exercise",
            "lifestyle.skips_warm_up_or_cool_down",
            "lifestyle.hot_environment_or_heavy_sweating",
        ],
        citations: &[S26, S1, S2],
        codings: &[codes::ICD_CRAMP],
        max_urgency: Urgency::SelfCare,
    },
    eval: exercise_associated,
};

fn exercise_associated(f: &Facts<'_>, out: &mut RuleOut) {
    let during = f.has_context(Context::Exercise) || f.has_context(Context::AfterExercise);
    if !during || warning_signs_present(f) {
        return;
    }
    let mut evidence: Vec<Evidence> = [Context::Exercise, Context::AfterExercise]
        .into_iter()
        .filter(|x| f.has_context(*x))
        .map(|x| ev_val("cramps.contexts", x.name()))
        .collect();
    let l = &f.h.lifestyle;
    evidence.extend(trues(&[
        (
            "lifestyle.recent_unaccustomed_strenuous_exercise",
            l.recent_unaccustomed_strenuous_exercise,
        ),
        (
            "lifestyle.skips_warm_up_or_cool_down",
            l.skips_warm_up_or_cool_down,
        ),
        (
            "lifestyle.hot_environment_or_heavy_sweating",
            l.hot_environment_or_heavy_sweating,
        ),
    ]));
    let mut fire = Fire::new(
        Urgency::SelfCare,
        "Cramps during or just after exercise without warning signs: exercise-associated muscle cramps.",
        evidence,
    );
    if f.h.cramps.locations.contains(&Location::Calf) {
        fire.codings.push(codes::ICD_CALF_SPASM);
    }
    out.fire(fire);
}

/// Postural and sedentary triggers (seeds A and B): long sitting or standing, tight clothing or
/// footwear, toes pointed in bed.
pub(crate) const POSTURAL_SEDENTARY: Rule = Rule {
    meta: RuleMeta {
        id: "benign.postural_or_sedentary_triggers",
        version: V1,
        title: "Postural or sedentary triggers",
        flag: Flag::PosturalOrSedentaryTriggers,
        rationale: "Holding one position for long (sitting, standing, toes pointed down in bed), a sedentary life, and tight clothing or unsupportive footwear are common, modifiable cramp triggers; movement breaks and position changes are low-risk self-care.",
        inputs: &[
            "cramps.contexts",
            "lifestyle.prolonged_sitting",
            "lifestyle.prolonged_standing",
            "lifestyle.activity_level",
            "lifestyle.tight_or_unsupportive_footwear",
            "lifestyle.tight_clothing_on_legs_or_waist",
            "lifestyle.sleeps_with_toes_pointed",
        ],
        citations: &[S1, S2],
        codings: &[],
        max_urgency: Urgency::SelfCare,
    },
    eval: postural_sedentary,
};

fn postural_sedentary(f: &Facts<'_>, out: &mut RuleOut) {
    let l = &f.h.lifestyle;
    let mut evidence: Vec<Evidence> = [Context::ProlongedSitting, Context::ProlongedStanding]
        .into_iter()
        .filter(|x| f.has_context(*x))
        .map(|x| ev_val("cramps.contexts", x.name()))
        .collect();
    evidence.extend(trues(&[
        ("lifestyle.prolonged_sitting", l.prolonged_sitting),
        ("lifestyle.prolonged_standing", l.prolonged_standing),
        (
            "lifestyle.tight_or_unsupportive_footwear",
            l.tight_or_unsupportive_footwear,
        ),
        (
            "lifestyle.tight_clothing_on_legs_or_waist",
            l.tight_clothing_on_legs_or_waist,
        ),
        (
            "lifestyle.sleeps_with_toes_pointed",
            l.sleeps_with_toes_pointed,
        ),
    ]));
    if l.activity_level == Some(ActivityLevel::Sedentary) {
        evidence.push(ev_val(
            "lifestyle.activity_level",
            ActivityLevel::Sedentary.name(),
        ));
    }
    if evidence.is_empty() {
        return;
    }
    out.fire(Fire::new(Urgency::SelfCare, "Modifiable postural or sedentary triggers: movement breaks, position changes and looser clothing or better footwear.", evidence));
}
