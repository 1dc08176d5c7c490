//! Property tests of the clinical invariants: determinism, order independence, monotonic urgency
//! (adding a finding never lowers it; an unknown answer never sits below "no"), and totality.

use proptest::prelude::*;

use crate::input::{CrampHistory, validate};
use crate::output::{Assessment, Urgency};
use crate::test_util::{bool_count, bools_mut, history};
use crate::{KnowledgeBase, evaluate};

fn assess(h: &CrampHistory) -> Assessment {
    let valid = validate(h.clone(), Vec::new()).expect("strategies produce valid histories");
    evaluate(&KnowledgeBase::standard(), &valid)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

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
