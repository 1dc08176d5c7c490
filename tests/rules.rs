//! Golden rule cases: clinician-readable JSON in `tests/data/rules/`, each case a history with the
//! assessment it must (and must not) produce and the rule ids that must fire or stay silent.
//!
//! Cases run through the same `assess` path every door uses. A coverage test requires every rule
//! of the knowledge base to fire in at least one case and stay silent in at least one near miss.

use std::fs;
use std::path::PathBuf;

use cramp_cds::assess::assess;
use cramp_cds::pb;
use cramp_core::KnowledgeBase;
use serde_json::{Value, json};

struct Case {
    file: String,
    id: String,
    history: Value,
    expect: Value,
    fires: Vec<String>,
    silent: Vec<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/rules");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/data/rules exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).expect("readable case file");
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for c in doc["cases"].as_array().expect("a `cases` array") {
            out.push(Case {
                file: file.clone(),
                id: c["id"].as_str().expect("case id").to_owned(),
                history: c["history"].clone(),
                expect: c.get("expect").cloned().unwrap_or_else(|| json!({})),
                fires: strings(c, "fires"),
                silent: strings(c, "silent"),
            });
        }
    }
    out
}

/// Runs one case and returns the assessment as proto3 JSON (enum names, original field names).
fn run(case: &Case) -> Value {
    let request: pb::AssessRequest =
        serde_json::from_value(json!({"request_id": case.id, "history": case.history}))
            .unwrap_or_else(|e| {
                panic!(
                    "{} {}: history does not fit the proto: {e}",
                    case.file, case.id
                )
            });
    let response = assess(&KnowledgeBase::standard(), request)
        .unwrap_or_else(|e| panic!("{} {}: rejected: {e:?}", case.file, case.id));
    serde_json::to_value(&response).expect("serializable")["assessment"].clone()
}

fn names(a: &Value, list: &str, key: &str) -> Vec<String> {
    a[list]
        .as_array()
        .map(|xs| {
            xs.iter()
                .filter_map(|x| x[key].as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The vignette `expect` vocabulary of shared/README.md, plus the case's rule ids.
fn check(case: &Case, a: &Value) -> Vec<String> {
    let e = &case.expect;
    let mut errs = Vec::new();
    let urgency = a["urgency"]
        .as_str()
        .unwrap_or("URGENCY_UNSPECIFIED")
        .to_owned();
    let allowed = strings(e, "urgency");
    if !allowed.is_empty() && !allowed.contains(&urgency) {
        errs.push(format!("urgency {urgency} not in {allowed:?}"));
    }
    let flags = names(a, "flags", "flag");
    let workups = names(a, "workups", "workup");
    let classes = names(a, "medication_findings", "drug_class");
    let inputs = names(a, "medication_findings", "input_name");
    let missing = names(a, "missing_information", "field");
    let rules = names(a, "flags", "rule_id");
    for (key, got, present) in [
        ("flags_present", &flags, true),
        ("flags_absent", &flags, false),
        ("workups_present", &workups, true),
        ("workups_absent", &workups, false),
        ("drug_classes_present", &classes, true),
        ("drug_classes_absent", &classes, false),
        ("medications_not_flagged", &inputs, false),
        ("missing_information_fields", &missing, true),
    ] {
        for want in strings(e, key) {
            if got.contains(&want) != present {
                errs.push(format!("{key}: {want} (got {got:?})"));
            }
        }
    }
    if let Some(lead) = e.get("leading_drug_class").and_then(Value::as_str)
        && classes.first().map(String::as_str) != Some(lead)
    {
        errs.push(format!(
            "leading drug class {:?} != {lead}",
            classes.first()
        ));
    }
    for r in &case.fires {
        if !rules.contains(r) {
            errs.push(format!("rule {r} did not fire (fired: {rules:?})"));
        }
    }
    for r in &case.silent {
        if rules.contains(r) {
            errs.push(format!("rule {r} fired but must stay silent"));
        }
    }
    errs
}

#[test]
fn every_rule_case_meets_its_expectations() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(
        all.len() >= 60,
        "expected the full case table, found {}",
        all.len()
    );
    for case in &all {
        let errs = check(case, &run(case));
        if !errs.is_empty() {
            failures.push(format!("{} {}: {}", case.file, case.id, errs.join("; ")));
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
fn every_rule_fires_in_some_case_and_stays_silent_in_a_near_miss() {
    let all = cases();
    let mut gaps = Vec::new();
    for rule in KnowledgeBase::standard().rules() {
        if !all.iter().any(|c| c.fires.iter().any(|r| r == rule.id)) {
            gaps.push(format!("{}: no firing case", rule.id));
        }
        if !all.iter().any(|c| c.silent.iter().any(|r| r == rule.id)) {
            gaps.push(format!("{}: no near-miss case", rule.id));
        }
    }
    for c in &all {
        for r in c.fires.iter().chain(&c.silent) {
            if KnowledgeBase::standard().rule(r).is_none() {
                gaps.push(format!("{} names unknown rule {r}", c.id));
            }
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}
