//! Clinical vignettes through the real server: every `tests/data/vignettes/*.json` (copied
//! unchanged from the shared ground truth) and every `tests/data/cases/*.json` (the project's own
//! cases, same schema) is sent with the generated client over TCP and checked the way
//! `shared/tools/vignette_runner.py` checks it, key for key.
//!
//! All failures are collected and reported together with the vignette id, so one run shows the
//! whole state of the knowledge base.

use std::path::Path;

use cramp_cds::pb;
use serde_json::Value;
use tonic_types::StatusExt as _;

use crate::helpers::{repo_path, spawn_app};

/// One case file: an id, a request and expectations.
pub(crate) struct Case {
    /// The vignette id, used in failure messages.
    pub(crate) id: String,
    /// The request as the runner would build it from proto3 JSON.
    pub(crate) request: pb::AssessRequest,
    /// The `expect` object.
    pub(crate) expect: Value,
}

/// Every case in the vignette and case directories, sorted by file name within each.
pub(crate) fn load_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for dir in ["tests/data/vignettes", "tests/data/cases"] {
        let dir = repo_path(dir);
        if !dir.is_dir() {
            continue;
        }
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        cases.extend(paths.iter().map(|p| load_case(p)));
    }
    cases
}

fn load_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let id = value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no id", path.display()))
        .to_owned();
    let request = serde_json::from_value(value["request"].clone())
        .unwrap_or_else(|e| panic!("{id}: request does not fit the proto: {e}"));
    Case {
        id,
        request,
        expect: value["expect"].clone(),
    }
}

#[tokio::test]
async fn every_vignette_meets_its_expectations() {
    let cases = load_cases();
    assert!(
        cases.len() >= 12,
        "the shared vignettes are missing from tests/data/vignettes"
    );
    let app = spawn_app().await;
    let mut client = app.client().await;

    let mut failures = Vec::new();
    for case in &cases {
        let outcome = client
            .assess(case.request.clone())
            .await
            .map(tonic::Response::into_inner);
        let errors = check(&case.expect, outcome);
        if !errors.is_empty() {
            failures.push(format!("FAIL {}: {}", case.id, errors.join("; ")));
        }
    }
    app.stop().await;

    assert!(
        failures.is_empty(),
        "{} of {} vignettes failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The string items of `expect[key]` (absent means none).
fn list<'a>(expect: &'a Value, key: &str) -> Vec<&'a str> {
    expect
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The groups of `expect[key]` (a list of lists).
fn groups<'a>(expect: &'a Value, key: &str) -> Vec<Vec<&'a str>> {
    expect
        .get(key)
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

/// `items[*][key]` as strings (absent items have no value, as in the runner's `names`).
fn names<'a>(items: Option<&'a Value>, key: &str) -> Vec<&'a str> {
    items
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get(key).and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// `a[...]` → `a....` normalisation the runner applies to field paths.
fn dotted(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// Every way the outcome misses the expectations; empty when it meets them all.
pub(crate) fn check(
    expect: &Value,
    outcome: Result<pb::AssessResponse, tonic::Status>,
) -> Vec<String> {
    let invalid_fields = list(expect, "invalid_fields");
    let response = match outcome {
        Err(status)
            if expect.get("invalid_fields").is_some()
                && status.code() == tonic::Code::InvalidArgument =>
        {
            let got: Vec<String> = status
                .get_details_bad_request()
                .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
                .unwrap_or_default();
            return invalid_fields
                .iter()
                .filter(|f| {
                    let tail = f.split_once("history.").map_or(**f, |(_, t)| t);
                    !got.iter()
                        .any(|g| g.ends_with(tail) || dotted(g).ends_with(&dotted(tail)))
                })
                .map(|f| format!("BadRequest lacks field {f} (got {got:?})"))
                .collect();
        }
        Err(status) => {
            return vec![format!(
                "RPC failed: {:?}: {}",
                status.code(),
                status.message()
            )];
        }
        Ok(_) if expect.get("invalid_fields").is_some() => {
            return vec!["accepted an invalid request".into()];
        }
        Ok(response) => response,
    };

    let d = serde_json::to_value(&response).unwrap();
    let a = d.get("assessment").unwrap_or(&d);
    let urgency = a.get("urgency").and_then(Value::as_str);
    let flags = names(a.get("flags"), "flag");
    let workups = names(a.get("workups"), "workup");
    let meds = a.get("medication_findings");
    let classes = names(meds, "drug_class");
    let mut errs = Vec::new();

    if expect.get("urgency").is_some()
        && !urgency.is_some_and(|u| list(expect, "urgency").contains(&u))
    {
        errs.push(format!(
            "urgency {urgency:?} not in {:?}",
            list(expect, "urgency")
        ));
    }
    // `_present` / `_absent` lists and `_one_of` groups, checked alike for each kind of item.
    for (kind, got, what) in [
        ("flags", &flags, "flag"),
        ("workups", &workups, "workup"),
        ("drug_classes", &classes, "drug class"),
    ] {
        for item in list(expect, &format!("{kind}_present")) {
            if !got.contains(&item) {
                errs.push(format!("missing {what} {item}"));
            }
        }
        for item in list(expect, &format!("{kind}_absent")) {
            if got.contains(&item) {
                errs.push(format!("spurious {what} {item}"));
            }
        }
        for group in groups(expect, &format!("{kind}_one_of")) {
            if !group.iter().any(|item| got.contains(item)) {
                errs.push(format!("none of {kind} {group:?}"));
            }
        }
    }
    let input_names = names(meds, "input_name");
    for n in list(expect, "medications_not_flagged") {
        if input_names.contains(&n) {
            errs.push(format!("flagged negative-control medication {n:?}"));
        }
    }
    if let Some(leading) = expect.get("leading_drug_class").and_then(Value::as_str) {
        // The first finding's class, even when that finding has none (the runner's `classes[0]`).
        let first = meds
            .and_then(Value::as_array)
            .and_then(|m| m.first())
            .map(|m| m.get("drug_class").and_then(Value::as_str));
        if first != Some(Some(leading)) {
            errs.push(format!("leading drug class {first:?} != {leading}"));
        }
    }
    let asked = names(a.get("missing_information"), "field");
    for field in list(expect, "missing_information_fields") {
        if !asked.iter().any(|g| *g == field || g.ends_with(field)) {
            errs.push(format!("missing_information lacks {field} (got {asked:?})"));
        }
    }
    errs
}

#[cfg(test)]
mod checker {
    //! The checker itself, on hand-made outcomes, so a lenient checker cannot hide a failing
    //! vignette.

    use serde_json::json;

    use super::*;

    fn response(assessment: Value) -> Result<pb::AssessResponse, tonic::Status> {
        Ok(serde_json::from_value(json!({ "request_id": "t", "assessment": assessment })).unwrap())
    }

    #[test]
    fn every_expectation_kind_can_fail() {
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
        let outcome = response(json!({
            "urgency": "URGENCY_SOON",
            "flags": [{"flag": "FLAG_PAD_PATTERN"}],
            "workups": [{"workup": "WORKUP_ANKLE_BRACHIAL_INDEX"}],
            "medication_findings": [{"input_name": "HCTZ", "drug_class": "DRUG_CLASS_THIAZIDE_DIURETIC"}],
        }));
        assert_eq!(check(&expect, outcome).len(), 12);
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
        let outcome = response(json!({
            "urgency": "URGENCY_SOON",
            "flags": [{"flag": "FLAG_PAD_PATTERN"}],
            "medication_findings": [{"input_name": "atorvastatin", "drug_class": "DRUG_CLASS_STATIN"}],
            "missing_information": [{"field": "cramps.relief_on_standing_still"}],
        }));
        assert_eq!(check(&expect, outcome), Vec::<String>::new());
    }

    #[test]
    fn invalid_fields_match_from_the_history_root_or_with_dotted_indexes() {
        use tonic_types::{ErrorDetails, StatusExt as _};

        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("history.medications[0].name", "is required");
        let status = || {
            tonic::Status::with_error_details(tonic::Code::InvalidArgument, "bad", details.clone())
        };
        let expect =
            json!({ "invalid_fields": ["history.medications[0].name", "medications.0.name"] });
        assert_eq!(check(&expect, Err(status())), Vec::<String>::new());
        let expect = json!({ "invalid_fields": ["history.patient.age_years"] });
        assert_eq!(check(&expect, Err(status())).len(), 1);
        assert_eq!(
            check(&expect, response(json!({}))),
            ["accepted an invalid request"]
        );
    }
}
