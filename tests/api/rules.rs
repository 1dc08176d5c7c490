//! Golden rule cases through the real server: clinician-readable JSON in
//! `crates/cramp-core/tests/data/rules/`,
//! one file per rule family, each case a history with the assessment it must (and must not)
//! produce (`expect`, the vignette vocabulary) and the rule ids that must fire or stay silent.
//!
//! That every rule fires in some case and stays silent in a near miss is a property of the data,
//! checked once, in the core (`golden::every_rule_fires_in_a_golden_case_and_stays_silent_in_a_near_miss`).

use serde_json::{Value, json};

use crate::helpers::{repo_path, spawn_app};
use crate::vignettes::{Case, check, observe};
use cramp_core::golden;

/// One golden case: the vignette-shaped part plus the rule expectations.
struct RuleCase {
    file: String,
    case: Case,
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

fn load() -> Vec<RuleCase> {
    let dir = repo_path("crates/cramp-core/tests/data/rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for c in doc["cases"].as_array().expect("a `cases` array") {
            let id = c["id"].as_str().expect("case id").to_owned();
            let request =
                serde_json::from_value(json!({"request_id": id, "history": c["history"]}))
                    .unwrap_or_else(|e| panic!("{file} {id}: history does not fit the proto: {e}"));
            out.push(RuleCase {
                file: file.clone(),
                case: Case {
                    id,
                    request,
                    expect: c.get("expect").cloned().unwrap_or_else(|| json!({})),
                },
                fires: strings(c, "fires"),
                silent: strings(c, "silent"),
            });
        }
    }
    out
}

#[tokio::test]
async fn every_rule_case_meets_its_expectations() {
    let cases = load();
    assert!(
        cases.len() >= 60,
        "expected the full case table, found {}",
        cases.len()
    );
    let app = spawn_app().await;
    let mut client = app.client().await;
    let mut failures = Vec::new();
    for rc in &cases {
        let outcome = client
            .assess(rc.case.request.clone())
            .await
            .map(tonic::Response::into_inner);
        let mut errs = check(&rc.case.expect, &outcome);
        if let Ok(observed) = observe(&outcome) {
            errs.extend(golden::check_rules(&rc.fires, &rc.silent, &observed));
        }
        if !errs.is_empty() {
            failures.push(format!("{} {}: {}", rc.file, rc.case.id, errs.join("; ")));
        }
    }
    app.stop().await;
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
