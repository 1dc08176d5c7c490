//! Property tests of the clinical invariants: determinism, order independence, monotonic urgency
//! (adding a finding never lowers it; an unknown answer never sits below "no"), totality, and the
//! three-valued reasoning of clinical-reference.md g.1 (blanking answers never makes an
//! established red flag vanish while one of its specific signs is still given).
//!
//! The case count is `CRAMP_PROPTEST_CASES` (default 256, modest for CI); run it large with
//! `CRAMP_PROPTEST_CASES=50000 cargo test -p cramp-core --release proptests`.

use proptest::prelude::*;

use crate::input::fields;
use crate::input::{CrampHistory, validate};
use crate::kb::certainty;
use crate::output::{Assessment, Flag, Urgency};
use crate::test_util::{bool_count, bools_mut, history, red_flag_history};
use crate::{KnowledgeBase, evaluate};

/// Cases per property: `CRAMP_PROPTEST_CASES`, else 256.
fn cases() -> u32 {
    std::env::var("CRAMP_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Blanks the answers whose positions `mask` marks (age, required, is kept).
fn blank(h: &CrampHistory, mask: &[bool]) -> CrampHistory {
    let mut out = h.clone();
    for ((path, mut slot), &b) in fields::slots(&mut out).into_iter().zip(mask) {
        if b && path != "patient.age_years" {
            slot.clear();
        }
    }
    out
}

fn field_count() -> usize {
    fields::PATHS.len()
}

/// The red flags established in `a`, with their urgency.
fn established(a: &Assessment) -> Vec<(Flag, Urgency)> {
    a.flags
        .iter()
        .filter(|f| f.flag.is_red_flag())
        .map(|f| (f.flag, f.urgency))
        .collect()
}

fn assess(h: &CrampHistory) -> Assessment {
    let valid = validate(h.clone(), Vec::new()).expect("strategies produce valid histories");
    evaluate(&KnowledgeBase::standard(), &valid)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn evaluation_is_total_and_deterministic(h in history()) {
        let a = assess(&h);
        let b = assess(&h);
        prop_assert_eq!(&a, &b);
        prop_assert!(!a.urgency_rationale.is_empty());
        // Workups trace back to flags that fired; every flag comes from a catalog rule.
        for w in &a.workups {
            prop_assert!(w.for_flags.iter().all(|f| a.flags.iter().any(|r| r.flag == *f) || a.possible_flags.iter().any(|p| p.risk.flag == *f)));
        }
        for f in &a.flags {
            prop_assert!(KnowledgeBase::standard().rule(f.rule_id).is_some());
            prop_assert!(f.urgency >= a.urgency);
        }
        // An emergency's only workup is emergency care (e.11); no benign label beside a red flag (e.10).
        if a.urgency == Urgency::Emergency {
            prop_assert!(a.workups.iter().all(|w| w.workup == crate::Workup::EmergencyCare));
        }
        if a.flags.iter().any(|f| f.flag.is_red_flag()) {
            prop_assert!(a.flags.iter().all(|f| !f.flag.is_benign()));
        }
        // g.1: a possible red flag has a specific sign as evidence, answers that settle it, sets
        // the urgency to at least URGENT, keeps benign labels away, and is never also established.
        for p in &a.possible_flags {
            prop_assert!(p.risk.flag.is_red_flag());
            prop_assert!(!p.risk.evidence.is_empty());
            prop_assert!(!p.settled_by.is_empty());
            prop_assert!(a.urgency <= Urgency::Urgent);
            prop_assert!(a.flags.iter().all(|f| f.flag != p.risk.flag && !f.flag.is_benign()));
        }
        // Unknown answers alone never produce EMERGENCY.
        if a.urgency == Urgency::Emergency {
            prop_assert!(a.flags.iter().any(|f| f.urgency == Urgency::Emergency));
        }
        // The questions that settle a possible flag lead missing_information (when any of its g.1
        // questions is still unknown; its other unknown inputs are in settled_by only).
        let known = fields::known_paths(&h);
        let open_questions = a.possible_flags.iter().any(|p| {
            certainty::of(p.risk.flag)
                .is_some_and(|row| row.settle.iter().any(|q| !known.contains(&q.field)))
        });
        if let (Some(first), true) = (a.missing_information.first(), open_questions) {
            prop_assert!(
                a.possible_flags.iter().any(|p| p.settled_by.contains(&first.field)),
                "{} leads, not a settling question; possible: {:?}",
                first.field,
                a.possible_flags.iter().map(|p| (p.risk.flag, p.settled_by.clone())).collect::<Vec<_>>()
            );
        }
    }

    /// g.1 and issue 11: for every red flag, blanking any subset of answers never turns an
    /// established red flag into nothing while one of its specific signs is still given (it stays
    /// established or becomes possible), and never lowers the urgency below what g.1 requires:
    /// still established, at least the urgency it had; possible, at least URGENT.
    #[test]
    fn blanking_answers_never_makes_an_established_red_flag_vanish(
        h in red_flag_history(),
        masks in proptest::collection::vec(proptest::collection::vec(proptest::bool::weighted(0.3), field_count()), 4),
    ) {
        let before = assess(&h);
        let red = established(&before);
        for mask in &masks {
            let sparse = blank(&h, mask);
            let after = assess(&sparse);
            for (flag, urgency) in &red {
                let Some(row) = certainty::of(*flag) else { continue };
                if (row.signs)(&sparse).is_empty() {
                    // g.1: no specific sign left, nothing is reported (p18). Not this property.
                    continue;
                }
                let still = after.flags.iter().find(|f| f.flag == *flag);
                let possible = after.possible_flags.iter().any(|p| p.risk.flag == *flag);
                prop_assert!(
                    still.is_some() || possible,
                    "{} vanished after blanking; answers before {:?}, after {:?}",
                    flag, fields::known_paths(&h), fields::known_paths(&sparse)
                );
                if let Some(f) = still {
                    // A flag that stays established may lose an urgency-raising answer, but never
                    // drops below URGENT, and the overall urgency is at least its own.
                    prop_assert!(f.urgency <= Urgency::Urgent || f.urgency <= *urgency);
                    prop_assert!(after.urgency <= f.urgency);
                }
                prop_assert!(after.urgency <= Urgency::Urgent, "{} left {}", flag, after.urgency);
            }
        }
    }

    /// Blanking is the same as never having asked: a history with answers blanked is assessed no
    /// less urgently than the same history with those answers "no" (e.14, g.1).
    #[test]
    fn a_blanked_answer_never_sits_below_no(
        h in red_flag_history(),
        which in proptest::collection::vec(any::<proptest::sample::Index>(), 1..6),
    ) {
        let n = bool_count();
        let mut no = h.clone();
        let mut unknown = h;
        for i in &which {
            let k = i.index(n);
            {
                let mut f = bools_mut(&mut no);
                let (path, slot) = f.swap_remove(k);
                if path == "patient.pregnant" || path == "conditions.on_dialysis" {
                    continue;
                }
                *slot = Some(false);
            }
            let mut f = bools_mut(&mut unknown);
            let (_, slot) = f.swap_remove(k);
            *slot = None;
        }
        prop_assert!(assess(&unknown).urgency <= assess(&no).urgency);
    }

    #[test]
    fn list_order_does_not_change_the_result(h in history(), seed in any::<u64>()) {
        let mut shuffled = h.clone();
        let n = shuffled.medications.len();
        if n > 1 {
            let k = usize::try_from(seed % n as u64).unwrap_or(0);
            shuffled.medications.rotate_left(k.max(1));
        }
        shuffled.cramps.locations.reverse();
        shuffled.cramps.contexts.reverse();
        let a = assess(&h);
        let b = assess(&shuffled);
        prop_assert_eq!(a.urgency, b.urgency);
        prop_assert_eq!(
            a.flags.iter().map(|f| f.flag).collect::<Vec<_>>(),
            b.flags.iter().map(|f| f.flag).collect::<Vec<_>>()
        );
        prop_assert_eq!(
            a.workups.iter().map(|w| (w.workup, w.urgency)).collect::<Vec<_>>(),
            b.workups.iter().map(|w| (w.workup, w.urgency)).collect::<Vec<_>>()
        );
        let meds = |x: &Assessment| {
            let mut v: Vec<_> = x.medication_findings.iter().map(|m| (m.drug_class, m.ingredient, m.input_name.clone())).collect();
            v.sort();
            v
        };
        prop_assert_eq!(meds(&a), meds(&b));
        prop_assert_eq!(
            a.medication_findings.iter().map(|m| (m.recent, m.evidence_strength)).collect::<Vec<_>>(),
            b.medication_findings.iter().map(|m| (m.recent, m.evidence_strength)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn answering_yes_never_lowers_urgency(h in history()) {
        let first = assess(&h);
        let before = first.urgency;
        for which in 0..bool_count() {
            let mut more = h.clone();
            let mut fields = bools_mut(&mut more);
            let (path, slot) = fields.swap_remove(which);
            if path == "patient.pregnant" && h.patient.sex == Some(crate::Sex::Male) {
                continue;
            }
            // Dialysis is not a risk factor but the explanation of a G5 eGFR: the reference's own
            // action row is "G5 not on dialysis -> URGENT" (f, egfr), so it may lower urgency.
            if path == "conditions.on_dialysis" {
                continue;
            }
            // "No" and "unknown" both become "yes".
            *slot = Some(true);
            let second = assess(&more);
            let after = second.urgency;
            // The one way down: with nothing recognised the answer is ROUTINE ("no finding is not
            // reassurance"), and a yes that completes a benign self-care pattern (e.g. prolonged
            // sitting) may replace that default with SELF_CARE. It never lowers a recognised
            // finding, and never a benign label beside anything else.
            let benign_replaces_the_default = first.flags.is_empty()
                && before == Urgency::Routine
                && after == Urgency::SelfCare
                && second.flags.iter().all(|f| f.flag.is_benign());
            prop_assert!(
                after <= before || benign_replaces_the_default,
                "{} = true lowered urgency from {} to {}", path, before, after
            );
        }
    }

    #[test]
    fn an_unknown_answer_never_sits_below_no(h in history()) {
        for which in 0..bool_count() {
            let mut no = h.clone();
            let mut unknown = h.clone();
            let path = {
                let mut f = bools_mut(&mut no);
                let (path, slot) = f.swap_remove(which);
                *slot = Some(false);
                path
            };
            {
                let mut f = bools_mut(&mut unknown);
                let (_, slot) = f.swap_remove(which);
                *slot = None;
            }
            let with_no = assess(&no).urgency;
            let with_unknown = assess(&unknown).urgency;
            prop_assert!(with_unknown <= with_no, "{} unknown gave {} but no gave {}", path, with_unknown, with_no);
        }
    }

    #[test]
    fn adding_a_medication_never_lowers_urgency(h in history(), name in proptest::sample::select(&["HCTZ", "quinine", "clarithromycin", "atorvastatin", "salmeterol"][..])) {
        let before = assess(&h).urgency;
        let mut more = h;
        if more.medications.len() < 100 {
            more.medications.push(crate::Medication { name: name.to_owned(), weeks_since_started: Some(2), ..crate::Medication::default() });
        }
        prop_assert!(assess(&more).urgency <= before);
    }
}

/// The blanking property bites: over a fixed corpus, many (red flag, blanked history) pairs are
/// checked, and blanking turns some established red flags into possible ones.
#[test]
fn the_blanking_property_is_not_vacuous() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (
        red_flag_history(),
        proptest::collection::vec(proptest::bool::weighted(0.3), field_count()),
    );
    let (mut histories, mut with_red, mut checked, mut became_possible) = (0, 0, 0, 0);
    for _ in 0..2_000 {
        let (h, mask) = strategy
            .new_tree(&mut runner)
            .expect("the strategies always generate")
            .current();
        histories += 1;
        let before = assess(&h);
        let red = established(&before);
        if red.is_empty() {
            continue;
        }
        with_red += 1;
        let sparse = blank(&h, &mask);
        let after = assess(&sparse);
        for (flag, _) in red {
            if certainty::of(flag).is_some_and(|row| !(row.signs)(&sparse).is_empty()) {
                checked += 1;
                if after.possible_flags.iter().any(|p| p.risk.flag == flag) {
                    became_possible += 1;
                }
            }
        }
    }
    println!(
        "{histories} histories, {with_red} with an established red flag, {checked} (flag, blanked) pairs checked, {became_possible} became possible"
    );
    assert!(
        with_red * 4 > histories,
        "too few red flags: {with_red} of {histories}"
    );
    assert!(checked > 500, "only {checked} pairs checked");
    assert!(
        became_possible > 20,
        "only {became_possible} became possible"
    );
}
