//! Clinical vignettes through the real server: every `tests/data/vignettes/*.json` (copied
//! unchanged from the shared ground truth) and every `tests/data/cases/*.json` (the project's own
//! cases, same schema) is sent with the generated client over TCP and judged by the core's one
//! checker (`cramp_core::golden::check`, the vocabulary of `shared/tools/vignette_runner.py`),
//! over what the answer names.
//!
//! All failures are collected and reported together with the vignette id, so one run shows the
//! whole state of the knowledge base.

use std::path::Path;

use cramp_cds::pb;
use cramp_core::golden::{self, Observed};
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
        let errors = check(&case.expect, &outcome);
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

/// What the door's answer names, for the core's checker; a refusal is the fields it named.
pub(crate) fn observe(
    outcome: &Result<pb::AssessResponse, tonic::Status>,
) -> Result<Result<Observed<'_>, Vec<String>>, String> {
    let response = match outcome {
        Ok(response) => response,
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            return Ok(Err(status
                .get_details_bad_request()
                .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
                .unwrap_or_default()));
        }
        Err(status) => {
            return Err(format!(
                "RPC failed: {:?}: {}",
                status.code(),
                status.message()
            ));
        }
    };
    let Some(a) = response.assessment.as_ref() else {
        return Ok(Ok(Observed::default()));
    };
    let urgency = |n: i32| pb::Urgency::try_from(n).map_or("", |u| u.as_str_name());
    let flag = |n: i32| pb::Flag::try_from(n).map_or("", |f| f.as_str_name());
    Ok(Ok(Observed {
        urgency: urgency(a.urgency),
        flags: a
            .flags
            .iter()
            .map(|f| (flag(f.flag), urgency(f.urgency)))
            .collect(),
        workups: a
            .workups
            .iter()
            .map(|w| pb::Workup::try_from(w.workup).map_or("", |w| w.as_str_name()))
            .collect(),
        medications: a
            .medication_findings
            .iter()
            .map(|m| {
                let class = pb::DrugClass::try_from(m.drug_class).map_or("", |c| c.as_str_name());
                (m.input_name.as_str(), class)
            })
            .collect(),
        possible_flags: a
            .possible_flags
            .iter()
            .filter_map(|p| p.flag.as_ref().map(|f| flag(f.flag)))
            .collect(),
        missing_information: a
            .missing_information
            .iter()
            .map(|m| m.field.as_str())
            .collect(),
        rule_ids: a.flags.iter().map(|f| f.rule_id.as_str()).collect(),
    }))
}

/// Every way the door's outcome misses the expectations (the core's checker); empty when it
/// meets them all.
pub(crate) fn check(
    expect: &Value,
    outcome: &Result<pb::AssessResponse, tonic::Status>,
) -> Vec<String> {
    match observe(outcome) {
        Ok(observed) => golden::check(expect, &observed),
        Err(failed) => vec![failed],
    }
}
