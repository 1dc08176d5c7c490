//! Clinician-readable cases run in the core alone (`cargo test -p cramp-core`): the golden rule
//! cases of `crates/cramp-core/tests/data/rules/*.json` and the public vignettes of
//! `tests/data/vignettes/*.json`, read from their proto3 JSON through the core's own field table,
//! with the vignette runner's expectation vocabulary. The server runs the same files through the
//! real doors; this runs them in seconds, and a field path that is not in the intake schema fails
//! here.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::input::fields::{self, Slot};
use crate::input::{CrampHistory, FieldViolation, Medication, validate};
use crate::output::Assessment;
use crate::{KnowledgeBase, evaluate};

pub(crate) fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

pub(crate) fn core_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

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

/// The vignette runner's checks (tests/api/vignettes.rs `check`), on a core assessment.
pub(crate) fn check(expect: &Value, outcome: &Result<Assessment, Vec<String>>) -> Vec<String> {
    let a = match outcome {
        Err(fields) if expect.get("invalid_fields").is_some() => {
            return list(expect, "invalid_fields")
                .into_iter()
                .filter(|f| {
                    let tail = f.split_once("history.").map_or(*f, |(_, t)| t);
                    !fields.iter().any(|g| g.ends_with(tail))
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
    let urgency = a.urgency.name();
    if expect.get("urgency").is_some() && !list(expect, "urgency").contains(&urgency) {
        errs.push(format!(
            "urgency {urgency} not in {:?}",
            list(expect, "urgency")
        ));
    }
    let flags: Vec<&str> = a.flags.iter().map(|f| f.flag.name()).collect();
    let workups: Vec<&str> = a.workups.iter().map(|w| w.workup.name()).collect();
    let classes: Vec<&str> = a
        .medication_findings
        .iter()
        .map(|m| m.drug_class.name())
        .collect();
    for (kind, got) in [
        ("flags", &flags),
        ("workups", &workups),
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
    // Core-only keys (the server's runner ignores them): possible red flags (g.1) and the question
    // that must lead `missing_information`.
    let possible: Vec<&str> = a
        .possible_flags
        .iter()
        .map(|p| p.risk.flag.name())
        .collect();
    for item in list(expect, "possible_flags_present") {
        if !possible.contains(&item) {
            errs.push(format!(
                "missing possible flag {item} (possible: {possible:?})"
            ));
        }
    }
    for item in list(expect, "possible_flags_absent") {
        if possible.contains(&item) {
            errs.push(format!("spurious possible flag {item}"));
        }
    }
    if let Some(map) = expect.get("flag_urgency").and_then(Value::as_object) {
        for (flag, want) in map {
            let got = a
                .flags
                .iter()
                .find(|f| f.flag.name() == flag)
                .map(|f| f.urgency.name());
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
        && a.missing_information.first().map(|m| m.field) != Some(first)
    {
        errs.push(format!(
            "missing_information does not lead with {first} (got {:?})",
            a.missing_information.first().map(|m| m.field)
        ));
    }
    for n in list(expect, "medications_not_flagged") {
        if a.medication_findings.iter().any(|m| m.input_name == n) {
            errs.push(format!("flagged negative-control medication {n:?}"));
        }
    }
    if let Some(leading) = expect.get("leading_drug_class").and_then(Value::as_str)
        && a.medication_findings.first().map(|m| m.drug_class.name()) != Some(leading)
    {
        errs.push(format!("leading drug class is not {leading}"));
    }
    for field in list(expect, "missing_information_fields") {
        if !a
            .missing_information
            .iter()
            .any(|m| m.field == field || m.field.ends_with(field))
        {
            errs.push(format!("missing_information lacks {field}"));
        }
    }
    errs
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One golden rule case.
pub(crate) struct RuleCase {
    pub(crate) id: String,
    pub(crate) history: Value,
    pub(crate) expect: Value,
    pub(crate) fires: Vec<String>,
    pub(crate) silent: Vec<String>,
}

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

    #[test]
    fn every_vignette_meets_its_expectations_in_the_core() {
        let cases = vignettes();
        assert!(cases.len() >= 18, "p01-p18 expected, found {}", cases.len());
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(id, h, expect)| {
                let errs = check(expect, &assess_json(h));
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
            let outcome = assess_json(&c.history);
            let fired: Vec<&str> = outcome
                .as_ref()
                .map(|a| a.flags.iter().map(|f| f.rule_id).collect())
                .unwrap_or_default();
            let mut errs = if c.expect.is_null() {
                Vec::new()
            } else {
                check(&c.expect, &outcome)
            };
            errs.extend(
                c.fires
                    .iter()
                    .filter(|r| !fired.contains(&r.as_str()))
                    .map(|r| format!("rule {r} did not fire (fired: {fired:?})")),
            );
            errs.extend(
                c.silent
                    .iter()
                    .filter(|r| fired.contains(&r.as_str()))
                    .map(|r| format!("rule {r} fired but must stay silent")),
            );
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
        assert_eq!(check(&expect, &assess_json(&sparse)).len(), 4);
        let tender: Value = serde_json::from_str(
            r#"{"patient": {"age_years": 49}, "symptoms": {"calf_tenderness": true}, "conditions": {"recent_surgery": true}}"#,
        )
        .expect("json");
        let absent: Value =
            serde_json::from_str(r#"{"possible_flags_absent": ["FLAG_DVT_SUSPECTED"]}"#)
                .expect("json");
        assert_eq!(check(&absent, &assess_json(&tender)).len(), 1);
    }

    #[test]
    fn a_typo_in_a_case_fails_to_parse() {
        let v: Value = serde_json::from_str(r#"{"symptoms": {"chest_pian": true}}"#).expect("json");
        assert!(parse_history(&v).is_err());
        assert!(!is_intake_path("symptoms.chest_pian"));
        assert!(is_intake_path("medications[3].name"));
        assert!(!is_intake_path("medications[x].name"));
    }
}
