//! Clinician-readable cases and the one checker of their expectations.
//!
//! The checker ([`check`], [`check_rules`]) speaks the vignette runner's expectation vocabulary
//! (`urgency`, `flags_present`, `invalid_fields`, ...) plus the core-only keys (possible flags,
//! per-flag urgency, the leading question) over an [`Observed`] outcome: what an assessment names.
//! The core's tests build it from a core [`Assessment`]; the server's tests build it from the
//! answers of the real doors (with the `test-support` feature), so both judge a case alike.
//!
//! Under `cargo test -p cramp-core` the golden rule cases of
//! `crates/cramp-core/tests/data/rules/*.json` and the public vignettes of
//! `tests/data/vignettes/*.json` run in the core alone, read from their proto3 JSON through the
//! core's own field table: in seconds, and a field path that is not in the intake schema fails
//! here.

#[cfg(test)]
use std::path::{Path, PathBuf};

use serde_json::Value;

#[cfg(test)]
use crate::input::fields::{self, Slot};
#[cfg(test)]
use crate::input::{CrampHistory, FieldViolation, Medication, validate};
use crate::output::Assessment;
#[cfg(test)]
use crate::{KnowledgeBase, evaluate};

#[cfg(test)]
pub(crate) fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

#[cfg(test)]
pub(crate) fn core_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[cfg(test)]
/// Reads a proto3-JSON `CrampHistory` by the core's field table. Unknown keys are an error (a
/// typo in a case must fail); an enum name the contract does not know is a field violation, as
/// the adapters report it.
pub(crate) fn parse_history(v: &Value) -> Result<(CrampHistory, Vec<FieldViolation>), String> {
    let mut h = CrampHistory::default();
    let mut violations = Vec::new();
    let Some(obj) = v.as_object() else {
        return Err("history is not an object".into());
    };
    let mut leaves: Vec<(String, &Value)> = Vec::new();
    for (section, body) in obj {
        if section == "medications" {
            for (i, m) in body
                .as_array()
                .ok_or("medications is not a list")?
                .iter()
                .enumerate()
            {
                let mut med = Medication::default();
                for (k, x) in m.as_object().ok_or("a medication is not an object")? {
                    match k.as_str() {
                        "name" => x.as_str().unwrap_or_default().clone_into(&mut med.name),
                        "rxnorm_cui" => med.rxnorm_cui = x.as_str().map(str::to_owned),
                        "atc_code" => med.atc_code = x.as_str().map(str::to_owned),
                        "weeks_since_started" => {
                            med.weeks_since_started =
                                x.as_u64().and_then(|w| u32::try_from(w).ok());
                        }
                        "recently_stopped" => med.recently_stopped = x.as_bool(),
                        other => {
                            return Err(format!("medications[{i}].{other} is not an intake field"));
                        }
                    }
                }
                h.medications.push(med);
            }
            continue;
        }
        for (k, x) in body
            .as_object()
            .ok_or_else(|| format!("{section} is not an object"))?
        {
            if section == "findings" && k == "labs" {
                for (lk, lx) in x.as_object().ok_or("labs is not an object")? {
                    leaves.push((format!("findings.labs.{lk}"), lx));
                }
            } else {
                leaves.push((format!("{section}.{k}"), x));
            }
        }
    }
    for (path, x) in leaves {
        let mut slots = fields::slots(&mut h);
        let Some((_, slot)) = slots.iter_mut().find(|(p, _)| *p == path) else {
            return Err(format!("{path} is not an intake field"));
        };
        let ok = match slot {
            Slot::Bool(s) => x.as_bool().map(|b| **s = Some(b)).is_some(),
            Slot::U32(s) => x
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| **s = Some(n))
                .is_some(),
            Slot::F64(s) => x.as_f64().map(|n| **s = Some(n)).is_some(),
            Slot::Enum(s) => x.as_str().is_some_and(|n| s.set_name(n)),
            Slot::List(s) => x
                .as_array()
                .is_some_and(|a| a.iter().all(|n| n.as_str().is_some_and(|n| s.set_name(n)))),
        };
        if !ok {
            violations.push(FieldViolation::new(path, "not a value of this field"));
        }
    }
    Ok((h, violations))
}

/// The assessment of a case's history, or the validation error's field paths.
#[cfg(test)]
pub(crate) fn assess_json(history: &Value) -> Result<Assessment, Vec<String>> {
    let (h, prior) = parse_history(history).map_err(|e| vec![e])?;
    match validate(h, prior) {
        Ok(valid) => Ok(evaluate(&KnowledgeBase::standard(), &valid)),
        Err(e) => Err(e.violations().iter().map(|v| v.field.clone()).collect()),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn groups<'a>(v: &'a Value, key: &str) -> Vec<Vec<&'a str>> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|g| {
                    g.as_array()
                        .map(|g| g.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What an outcome names, in the vocabulary of the expectations: enum value names, field
/// paths, medication names and rule ids, in the assessment's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed<'a> {
    /// The overall urgency.
    pub urgency: &'a str,
    /// Each flag with its own urgency.
    pub flags: Vec<(&'a str, &'a str)>,
    /// The suggested workups.
    pub workups: Vec<&'a str>,
    /// Each medication finding: the name as given, and its drug class.
    pub medications: Vec<(&'a str, &'a str)>,
    /// The red flags that cannot be excluded (g.1).
    pub possible_flags: Vec<&'a str>,
    /// The fields asked about, most useful first.
    pub missing_information: Vec<&'a str>,
    /// The rule ids behind the flags.
    pub rule_ids: Vec<&'a str>,
}

impl<'a> Observed<'a> {
    /// What a core assessment names.
    #[must_use]
    pub fn of(a: &'a Assessment) -> Self {
        Self {
            urgency: a.urgency.name(),
            flags: a
                .flags
                .iter()
                .map(|f| (f.flag.name(), f.urgency.name()))
                .collect(),
            workups: a.workups.iter().map(|w| w.workup.name()).collect(),
            medications: a
                .medication_findings
                .iter()
                .map(|m| (m.input_name.as_str(), m.drug_class.name()))
                .collect(),
            possible_flags: a
                .possible_flags
                .iter()
                .map(|p| p.risk.flag.name())
                .collect(),
            missing_information: a.missing_information.iter().map(|m| m.field).collect(),
            rule_ids: a.flags.iter().map(|f| f.rule_id).collect(),
        }
    }
}

/// `a[...]` → `a....`: the runner's normalisation of field paths.
fn dotted(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// Every way `outcome` misses `expect`; empty when it meets them all. `outcome` is what was
/// assessed, or the field paths a refusal named.
#[must_use]
pub fn check(expect: &Value, outcome: &Result<Observed<'_>, Vec<String>>) -> Vec<String> {
    let a = match outcome {
        Err(fields) if expect.get("invalid_fields").is_some() => {
            return list(expect, "invalid_fields")
                .into_iter()
                .filter(|f| {
                    let tail = f.split_once("history.").map_or(*f, |(_, t)| t);
                    !fields
                        .iter()
                        .any(|g| g.ends_with(tail) || dotted(g).ends_with(&dotted(tail)))
                })
                .map(|f| format!("validation lacks field {f} (got {fields:?})"))
                .collect();
        }
        Err(fields) => return vec![format!("rejected: {fields:?}")],
        Ok(_) if expect.get("invalid_fields").is_some() => {
            return vec!["accepted an invalid history".into()];
        }
        Ok(a) => a,
    };
    let mut errs = Vec::new();
    if expect.get("urgency").is_some() && !list(expect, "urgency").contains(&a.urgency) {
        errs.push(format!(
            "urgency {} not in {:?}",
            a.urgency,
            list(expect, "urgency")
        ));
    }
    let flags: Vec<&str> = a.flags.iter().map(|(flag, _)| *flag).collect();
    let classes: Vec<&str> = a.medications.iter().map(|(_, class)| *class).collect();
    for (kind, got) in [
        ("flags", &flags),
        ("workups", &a.workups),
        ("drug_classes", &classes),
    ] {
        for item in list(expect, &format!("{kind}_present")) {
            if !got.contains(&item) {
                errs.push(format!("missing {kind} {item}"));
            }
        }
        for item in list(expect, &format!("{kind}_absent")) {
            if got.contains(&item) {
                errs.push(format!("spurious {kind} {item}"));
            }
        }
        for group in groups(expect, &format!("{kind}_one_of")) {
            if !group.iter().any(|item| got.contains(item)) {
                errs.push(format!("none of {kind} {group:?}"));
            }
        }
    }
    // Keys beyond the shared runner's: possible red flags (g.1), a flag's own urgency and the
    // question that must lead `missing_information`.
    for item in list(expect, "possible_flags_present") {
        if !a.possible_flags.contains(&item) {
            errs.push(format!(
                "missing possible flag {item} (possible: {:?})",
                a.possible_flags
            ));
        }
    }
    for item in list(expect, "possible_flags_absent") {
        if a.possible_flags.contains(&item) {
            errs.push(format!("spurious possible flag {item}"));
        }
    }
    if let Some(map) = expect.get("flag_urgency").and_then(Value::as_object) {
        for (flag, want) in map {
            let got = a
                .flags
                .iter()
                .find(|(f, _)| f == flag)
                .map(|(_, urgency)| *urgency);
            let allowed: Vec<&str> = want
                .as_array()
                .map(|w| w.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !got.is_some_and(|g| allowed.contains(&g)) {
                errs.push(format!("{flag} urgency {got:?} not in {allowed:?}"));
            }
        }
    }
    if let Some(first) = expect
        .get("missing_information_first")
        .and_then(Value::as_str)
        && a.missing_information.first() != Some(&first)
    {
        errs.push(format!(
            "missing_information does not lead with {first} (got {:?})",
            a.missing_information.first()
        ));
    }
    for n in list(expect, "medications_not_flagged") {
        if a.medications.iter().any(|(name, _)| *name == n) {
            errs.push(format!("flagged negative-control medication {n:?}"));
        }
    }
    if let Some(leading) = expect.get("leading_drug_class").and_then(Value::as_str)
        && classes.first() != Some(&leading)
    {
        errs.push(format!(
            "leading drug class {:?} is not {leading}",
            classes.first()
        ));
    }
    for field in list(expect, "missing_information_fields") {
        if !a
            .missing_information
            .iter()
            .any(|m| *m == field || m.ends_with(field))
        {
            errs.push(format!(
                "missing_information lacks {field} (got {:?})",
                a.missing_information
            ));
        }
    }
    errs
}

/// The rule ids that must have fired and those that must have stayed silent.
#[must_use]
pub fn check_rules(
    fires: &[String],
    silent: &[String],
    outcome: &Result<Observed<'_>, Vec<String>>,
) -> Vec<String> {
    let fired: &[&str] = outcome.as_ref().map_or(&[], |a| a.rule_ids.as_slice());
    fires
        .iter()
        .filter(|r| !fired.contains(&r.as_str()))
        .map(|r| format!("rule {r} did not fire (fired: {fired:?})"))
        .chain(
            silent
                .iter()
                .filter(|r| fired.contains(&r.as_str()))
                .map(|r| format!("rule {r} fired but must stay silent")),
        )
        .collect()
}

#[cfg(test)]
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
}

#[cfg(test)]
fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One golden rule case.
#[cfg(test)]
pub(crate) struct RuleCase {
    pub(crate) id: String,
    pub(crate) history: Value,
    pub(crate) expect: Value,
    pub(crate) fires: Vec<String>,
    pub(crate) silent: Vec<String>,
}

#[cfg(test)]
pub(crate) fn rule_cases() -> Vec<RuleCase> {
    let mut out = Vec::new();
    for path in json_files(&core_path("tests/data/rules")) {
        let doc = read_json(&path);
        for c in doc["cases"].as_array().expect("a `cases` array") {
            let strings = |k: &str| list(c, k).into_iter().map(str::to_owned).collect();
            out.push(RuleCase {
                id: format!(
                    "{} {}",
                    path.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    c["id"].as_str().expect("case id")
                ),
                history: c["history"].clone(),
                expect: c.get("expect").cloned().unwrap_or(Value::Null),
                fires: strings("fires"),
                silent: strings("silent"),
            });
        }
    }
    out
}

/// Every vignette: (id, history, expect).
#[cfg(test)]
pub(crate) fn vignettes() -> Vec<(String, Value, Value)> {
    json_files(&repo_path("tests/data/vignettes"))
        .iter()
        .map(|p| {
            let v = read_json(p);
            (
                v["id"].as_str().expect("vignette id").to_owned(),
                v["request"]["history"].clone(),
                v["expect"].clone(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::fields::is_intake_path;
    use crate::kb::certainty;
    use serde_json::json;

    /// What a core outcome names.
    fn observe(outcome: &Result<Assessment, Vec<String>>) -> Result<Observed<'_>, Vec<String>> {
        outcome.as_ref().map(Observed::of).map_err(Clone::clone)
    }

    #[test]
    fn every_vignette_meets_its_expectations_in_the_core() {
        let cases = vignettes();
        assert!(cases.len() >= 18, "p01-p18 expected, found {}", cases.len());
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(id, h, expect)| {
                let errs = check(expect, &observe(&assess_json(h)));
                (!errs.is_empty()).then(|| format!("{id}: {}", errs.join("; ")))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn every_golden_rule_case_meets_its_expectations_in_the_core() {
        let cases = rule_cases();
        assert!(cases.len() >= 60, "found only {} cases", cases.len());
        let mut failures = Vec::new();
        for c in &cases {
            let assessed = assess_json(&c.history);
            let outcome = observe(&assessed);
            let mut errs = if c.expect.is_null() {
                Vec::new()
            } else {
                check(&c.expect, &outcome)
            };
            errs.extend(check_rules(&c.fires, &c.silent, &outcome));
            if !errs.is_empty() {
                failures.push(format!("{}: {}", c.id, errs.join("; ")));
            }
        }
        assert!(
            failures.is_empty(),
            "{} case(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn every_rule_fires_in_a_golden_case_and_stays_silent_in_a_near_miss() {
        let cases = rule_cases();
        let kb = KnowledgeBase::standard();
        let mut gaps = Vec::new();
        for rule in kb.rules() {
            if !cases.iter().any(|c| c.fires.iter().any(|r| r == rule.id)) {
                gaps.push(format!("{}: no firing case", rule.id));
            }
            if !cases.iter().any(|c| c.silent.iter().any(|r| r == rule.id)) {
                gaps.push(format!("{}: no near-miss case", rule.id));
            }
        }
        for c in &cases {
            for r in c.fires.iter().chain(&c.silent) {
                if kb.rule(r).is_none() {
                    gaps.push(format!("{} names unknown rule {r}", c.id));
                }
            }
        }
        assert!(gaps.is_empty(), "{}", gaps.join("\n"));
    }

    /// Every field path the knowledge base names (rule inputs, the g.1 table) and every path an
    /// assessment names (evidence, questions, `settled_by`) over the golden cases, the vignettes
    /// and a generated corpus is an intake field: a typo fails here.
    #[test]
    fn every_field_path_the_knowledge_base_uses_is_in_the_intake_schema() {
        let ok = |p: &str| p == "medications" || is_intake_path(p);
        let mut bad: Vec<String> = Vec::new();
        for rule in KnowledgeBase::standard().rules() {
            for input in rule.inputs {
                if !ok(input) {
                    bad.push(format!("{} input {input}", rule.id));
                }
            }
        }
        for row in certainty::TABLE {
            for s in row.settle {
                if !ok(s.field) {
                    bad.push(format!("{} settle {}", row.flag, s.field));
                }
            }
        }
        let mut histories: Vec<Value> = rule_cases().into_iter().map(|c| c.history).collect();
        histories.extend(vignettes().into_iter().map(|(_, h, _)| h));
        let mut assessments: Vec<Assessment> = histories
            .iter()
            .filter_map(|h| assess_json(h).ok())
            .collect();
        assessments.extend(crate::test_util::corpus(2_000).iter().map(|h| {
            let valid = validate(h.clone(), Vec::new()).expect("generated histories are valid");
            evaluate(&KnowledgeBase::standard(), &valid)
        }));
        for a in &assessments {
            let paths = a
                .flags
                .iter()
                .chain(a.possible_flags.iter().map(|p| &p.risk))
                .flat_map(|f| f.evidence.iter().map(|e| e.field.as_ref()))
                .chain(a.missing_information.iter().map(|m| m.field))
                .chain(
                    a.possible_flags
                        .iter()
                        .flat_map(|p| p.settled_by.iter().copied()),
                );
            for p in paths {
                if !ok(p) && !bad.iter().any(|b| b == p) {
                    bad.push(p.to_owned());
                }
            }
        }
        assert!(bad.is_empty(), "not intake paths: {bad:?}");
    }

    /// The checker itself can fail on every core-only key, so a lenient checker cannot hide a
    /// failing case.
    #[test]
    fn every_core_only_expectation_can_fail() {
        let sparse: Value = serde_json::from_str(
            r#"{"patient": {"age_years": 45}, "cramps": {"contexts": ["CONTEXT_NIGHT"]}}"#,
        )
        .expect("json");
        let expect: Value = serde_json::from_str(
            r#"{"possible_flags_present": ["FLAG_DVT_SUSPECTED"],
                "flag_urgency": {"FLAG_MEDICATION_ASSOCIATED": ["URGENCY_URGENT"]},
                "missing_information_first": "symptoms.leg_swelling",
                "urgency": ["URGENCY_EMERGENCY"]}"#,
        )
        .expect("json");
        assert_eq!(check(&expect, &observe(&assess_json(&sparse))).len(), 4);
        let tender: Value = serde_json::from_str(
            r#"{"patient": {"age_years": 49}, "symptoms": {"calf_tenderness": true}, "conditions": {"recent_surgery": true}}"#,
        )
        .expect("json");
        let absent: Value =
            serde_json::from_str(r#"{"possible_flags_absent": ["FLAG_DVT_SUSPECTED"]}"#)
                .expect("json");
        assert_eq!(check(&absent, &observe(&assess_json(&tender))).len(), 1);
    }

    #[test]
    fn a_typo_in_a_case_fails_to_parse() {
        let v: Value = serde_json::from_str(r#"{"symptoms": {"chest_pian": true}}"#).expect("json");
        assert!(parse_history(&v).is_err());
        assert!(!is_intake_path("symptoms.chest_pian"));
        assert!(is_intake_path("medications[3].name"));
        assert!(!is_intake_path("medications[x].name"));
    }

    /// Every key of the shared runner's vocabulary can fail, so a lenient checker cannot hide a
    /// failing vignette (the server's tests judge the real doors with this checker).
    #[test]
    fn every_runner_expectation_can_fail() {
        let expect = json!({
            "urgency": ["URGENCY_EMERGENCY"],
            "flags_present": ["FLAG_PE_SUSPECTED"],
            "flags_absent": ["FLAG_PAD_PATTERN"],
            "flags_one_of": [["FLAG_DVT_SUSPECTED", "FLAG_ACUTE_LIMB_ISCHEMIA"]],
            "workups_present": ["WORKUP_EMERGENCY_CARE"],
            "workups_absent": ["WORKUP_ANKLE_BRACHIAL_INDEX"],
            "workups_one_of": [["WORKUP_CBC"]],
            "drug_classes_present": ["DRUG_CLASS_STATIN"],
            "drug_classes_absent": ["DRUG_CLASS_THIAZIDE_DIURETIC"],
            "medications_not_flagged": ["HCTZ"],
            "leading_drug_class": "DRUG_CLASS_STATIN",
            "missing_information_fields": ["cramps.relief_on_standing_still"]
        });
        let observed = Observed {
            urgency: "URGENCY_SOON",
            flags: vec![("FLAG_PAD_PATTERN", "URGENCY_SOON")],
            workups: vec!["WORKUP_ANKLE_BRACHIAL_INDEX"],
            medications: vec![("HCTZ", "DRUG_CLASS_THIAZIDE_DIURETIC")],
            ..Observed::default()
        };
        assert_eq!(check(&expect, &Ok(observed)).len(), 12);
    }

    #[test]
    fn a_matching_outcome_passes() {
        let expect = json!({
            "urgency": ["URGENCY_SOON", "URGENCY_ROUTINE"],
            "flags_present": ["FLAG_PAD_PATTERN"],
            "flags_one_of": [["FLAG_DVT_SUSPECTED", "FLAG_PAD_PATTERN"]],
            "leading_drug_class": "DRUG_CLASS_STATIN",
            "missing_information_fields": ["relief_on_standing_still"]
        });
        let observed = Observed {
            urgency: "URGENCY_SOON",
            flags: vec![("FLAG_PAD_PATTERN", "URGENCY_SOON")],
            medications: vec![("atorvastatin", "DRUG_CLASS_STATIN")],
            missing_information: vec!["cramps.relief_on_standing_still"],
            ..Observed::default()
        };
        assert_eq!(check(&expect, &Ok(observed)), Vec::<String>::new());
    }

    #[test]
    fn invalid_fields_match_from_the_history_root_or_with_dotted_indexes() {
        let refused = Err(vec!["history.medications[0].name".to_owned()]);
        let expect =
            json!({ "invalid_fields": ["history.medications[0].name", "medications.0.name"] });
        assert_eq!(check(&expect, &refused), Vec::<String>::new());
        let expect = json!({ "invalid_fields": ["history.patient.age_years"] });
        assert_eq!(check(&expect, &refused).len(), 1);
        assert_eq!(
            check(&expect, &Ok(Observed::default())),
            ["accepted an invalid history"]
        );
    }

    #[test]
    fn rule_expectations_can_fail() {
        let observed = Ok(Observed {
            rule_ids: vec!["R1"],
            ..Observed::default()
        });
        let (r1, r2) = (vec!["R1".to_owned()], vec!["R2".to_owned()]);
        assert!(check_rules(&r1, &r2, &observed).is_empty());
        assert_eq!(check_rules(&r2, &r1, &observed).len(), 2);
    }
}
