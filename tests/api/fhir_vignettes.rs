//! Every vignette through all three doors: gRPC (the reference), FHIR `$cramp-assess` with the
//! history as a QuestionnaireResponse, and CDS Hooks `patient-view` with the history spread over
//! a chart prefetch (birth date, Conditions, LOINC Observations, MedicationRequests) plus a
//! QuestionnaireResponse for the rest. The doors must agree on the flags and the urgency.

use std::collections::BTreeSet;

use cramp_cds::{
    fhir::bundle::{Certainty, qualitative_risk},
    pb,
};
use cramp_core::Urgency;
use serde_json::Value;

use crate::{
    fhir_convert::{hook_request, now, parameters, prefetch, questionnaire_response},
    helpers::{spawn_app_at, test_settings},
    http_support::{assert_hygiene, save_fhir},
    vignettes::load_cases,
};

fn urgency_name(number: i32) -> &'static str {
    pb::Urgency::try_from(number).unwrap().as_str_name()
}

fn urgency(number: i32) -> Urgency {
    Urgency::from_name(urgency_name(number)).unwrap()
}

#[tokio::test]
async fn every_vignette_gives_the_same_flags_and_urgency_through_every_door() {
    let app = spawn_app_at(test_settings(), Some(now())).await;
    let http = app.http();
    let mut client = app.client().await;
    let mut failures = Vec::new();
    let mut compared = 0;

    for (n, case) in load_cases().iter().enumerate() {
        let Some(pb::assess_request::Input::History(_)) = &case.request.input else {
            continue;
        };
        let Ok(grpc) = client.assess(case.request.clone()).await else {
            continue; // vignettes that expect a rejection are covered by the gRPC suite
        };
        let assessment = grpc.into_inner().assessment.unwrap();
        let history = serde_json::to_value(&case.request).unwrap()["history"].clone();
        let expected_flags: BTreeSet<String> = assessment
            .flags
            .iter()
            .map(|f| pb::Flag::try_from(f.flag).unwrap().as_str_name().to_owned())
            .collect();
        let expected_rules: BTreeSet<String> =
            assessment.flags.iter().map(|f| f.rule_id.clone()).collect();
        // Red flags that cannot be excluded (g.1) travel apart from the established ones.
        let possible: Vec<&pb::RiskFlag> = assessment
            .possible_flags
            .iter()
            .filter_map(|p| p.flag.as_ref())
            .collect();
        let expected_possible: BTreeSet<String> = possible
            .iter()
            .map(|f| pb::Flag::try_from(f.flag).unwrap().as_str_name().to_owned())
            .collect();
        let expected_possible_rules: BTreeSet<String> =
            possible.iter().map(|f| f.rule_id.clone()).collect();

        // FHIR: QuestionnaireResponse (nested groups for even vignettes, flat for odd ones).
        let response = questionnaire_response(&history, &format!("qr-{}", case.id), n % 2 == 0);
        save_fhir("vignette-qr", &response);
        let answer = http
            .post("/fhir/$cramp-assess", &parameters(&response, &[]))
            .await;
        assert_eq!(answer.status, 200, "{}: {}", case.id, answer.text);
        assert_hygiene(&answer.body, &case.id);
        save_fhir("vignette-bundle", &answer.body);
        let risk = &answer.body["entry"][0]["resource"];
        let predictions = risk["prediction"].as_array().cloned().unwrap_or_default();
        let (established, possible_predictions): (Vec<&Value>, Vec<&Value>) =
            predictions.iter().partition(|p| {
                p["qualitativeRisk"]
                    == serde_json::to_value(qualitative_risk(Certainty::Established)).unwrap()
            });
        let codes = |predictions: &[&Value]| -> BTreeSet<String> {
            predictions
                .iter()
                .map(|p| {
                    p["outcome"]["coding"][0]["code"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        let got_flags = codes(&established);
        if got_flags != expected_flags {
            failures.push(format!(
                "{} $cramp-assess flags {got_flags:?} != {expected_flags:?}",
                case.id
            ));
        }
        let got_possible = codes(&possible_predictions);
        if got_possible != expected_possible {
            failures.push(format!(
                "{} $cramp-assess possible flags {got_possible:?} != {expected_possible:?}",
                case.id
            ));
        }
        let cannot_be_excluded =
            serde_json::to_value(qualitative_risk(Certainty::Possible)).unwrap();
        if possible_predictions
            .iter()
            .any(|p| p["qualitativeRisk"] != cannot_be_excluded)
        {
            failures.push(format!(
                "{} $cramp-assess has a prediction that is neither established nor possible",
                case.id
            ));
        }
        if risk["mitigation"] != assessment.urgency_rationale.as_str() {
            failures.push(format!(
                "{} $cramp-assess urgency rationale differs",
                case.id
            ));
        }

        // CDS Hooks patient-view with the chart prefetch.
        let request = hook_request("patient-view", &prefetch(&history, n % 2 == 1));
        let answer = http.post("/cds-services/leg-cramp-screen", &request).await;
        assert_eq!(answer.status, 200, "{}: {}", case.id, answer.text);
        assert_hygiene(&answer.body, &case.id);
        let cards = answer.body["cards"].as_array().unwrap();
        let mut got_rules = BTreeSet::new();
        let mut got_possible_rules = BTreeSet::new();
        let mut most_urgent = "info";
        for card in cards {
            let detail = card["detail"].as_str().unwrap();
            if let Some(rule) = detail.split("**Rule (not established):** ").nth(1) {
                got_possible_rules.insert(rule.split(" v").next().unwrap().to_owned());
                if card["indicator"] != "warning"
                    || !card["summary"]
                        .as_str()
                        .unwrap()
                        .contains("cannot be excluded")
                {
                    failures.push(format!(
                        "{} patient-view possible card is not a 'cannot be excluded' warning",
                        case.id
                    ));
                }
            }
            if let Some(rules) = detail.split("**Rule:** ").nth(1) {
                let rules = rules.split(';').next().unwrap();
                got_rules.extend(
                    rules
                        .split(", ")
                        .filter_map(|r| r.split(" v").next())
                        .filter(|r| r.contains('.'))
                        .map(str::to_owned),
                );
            }
            let indicator = card["indicator"].as_str().unwrap();
            let rank = |i: &str| ["info", "warning", "critical"].iter().position(|x| *x == i);
            if rank(indicator) > rank(most_urgent) {
                most_urgent = if indicator == "critical" {
                    "critical"
                } else {
                    "warning"
                };
            }
        }
        if got_rules != expected_rules {
            failures.push(format!(
                "{} patient-view rules {got_rules:?} != {expected_rules:?}",
                case.id
            ));
        }
        if got_possible_rules != expected_possible_rules {
            failures.push(format!(
                "{} patient-view possible rules {got_possible_rules:?} != {expected_possible_rules:?}",
                case.id
            ));
        }

        let expected_indicator = match urgency(assessment.urgency) {
            Urgency::Emergency => "critical",
            Urgency::Urgent | Urgency::Soon => "warning",
            Urgency::Routine | Urgency::SelfCare => "info",
        };
        let anything = !assessment.flags.is_empty() || !assessment.possible_flags.is_empty();
        if anything && most_urgent != expected_indicator {
            failures.push(format!(
                "{} patient-view indicator {most_urgent} != {expected_indicator} ({})",
                case.id,
                urgency_name(assessment.urgency)
            ));
        }
        compared += 1;
    }
    app.stop().await;
    assert!(compared >= 12, "only {compared} vignettes compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The vignette checker's expectations hold through `$cramp-assess` too (flags present and absent).
#[tokio::test]
async fn vignette_expectations_hold_through_cramp_assess() {
    let app = spawn_app_at(test_settings(), Some(now())).await;
    let http = app.http();
    let mut failures = Vec::new();
    for case in load_cases() {
        if case.expect.get("invalid_fields").is_some() {
            continue;
        }
        let history = serde_json::to_value(&case.request).unwrap()["history"].clone();
        let response = questionnaire_response(&history, "qr", true);
        let answer = http
            .post("/fhir/$cramp-assess", &parameters(&response, &[]))
            .await;
        // Established flags only, as the vignette checker reads `flags`: a red flag that cannot
        // be excluded is a prediction of its own, marked so.
        let established = serde_json::to_value(qualitative_risk(Certainty::Established)).unwrap();
        let flags: Vec<&str> = answer.body["entry"][0]["resource"]["prediction"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter(|p| p["qualitativeRisk"] == established)
                    .filter_map(|p| p["outcome"]["coding"][0]["code"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        for flag in case.expect["flags_present"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if !flags.contains(&flag.as_str().unwrap()) {
                failures.push(format!("{}: missing {flag}", case.id));
            }
        }
        for flag in case.expect["flags_absent"].as_array().into_iter().flatten() {
            if flags.contains(&flag.as_str().unwrap()) {
                failures.push(format!("{}: spurious {flag}", case.id));
            }
        }
        let _: &Value = &answer.body;
    }
    app.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The contract's internal enum prefixes that clinician-facing text must not show (g.8).
const INTERNAL_NAMES: &[&str] = &["URGENCY_", "FLAG_", "DRUG_CLASS_", "WORKUP_"];

/// Every text a clinician reads in a FHIR resource or a card: every string except codes,
/// code systems and references, which are for machines.
fn clinician_texts<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text)
            if !["code", "system", "reference", "url", "fullUrl"].contains(&key) =>
        {
            out.push(text);
        }
        Value::Array(items) => items.iter().for_each(|v| clinician_texts(v, key, out)),
        Value::Object(fields) => fields.iter().for_each(|(k, v)| clinician_texts(v, k, out)),
        Value::String(_) | Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Clinical reference g.8: card summaries and details, and the Bundle's texts, use titles and
/// displays, never the contract's enum names. Card and Bundle wording is the doors'; rationales
/// and advice are the core's (its medication rationale named `DRUG_CLASS_…` in the first
/// edition), so this holds for every vignette only with the second-edition knowledge base.
#[tokio::test]
async fn clinician_text_never_shows_contract_enum_names() {
    let app = spawn_app_at(test_settings(), Some(now())).await;
    let http = app.http();
    let mut failures = Vec::new();
    for (n, case) in load_cases().iter().enumerate() {
        if case.expect.get("invalid_fields").is_some() {
            continue;
        }
        let history = serde_json::to_value(&case.request).unwrap()["history"].clone();
        let request = hook_request("patient-view", &prefetch(&history, n % 2 == 1));
        let cards = http
            .post("/cds-services/leg-cramp-screen", &request)
            .await
            .body;
        let response = questionnaire_response(&history, &format!("qr-{}", case.id), true);
        let bundle = http
            .post("/fhir/$cramp-assess", &parameters(&response, &[]))
            .await
            .body;
        for (door, answer) in [("patient-view", &cards), ("$cramp-assess", &bundle)] {
            let mut texts = Vec::new();
            clinician_texts(answer, "", &mut texts);
            for text in texts {
                if let Some(name) = INTERNAL_NAMES.iter().find(|n| text.contains(*n)) {
                    failures.push(format!("{} {door}: {name}… in {text:?}", case.id));
                }
            }
        }
    }
    app.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
