//! The conformance resources the service names by URL, so that the URLs it writes resolve: the
//! `CodeSystem` of the intake's answer codes (every `valueCoding.system` of the Questionnaire) and
//! the `OperationDefinition` of `$cramp-assess` (the CapabilityStatement's `definition`). Built
//! from the same tables as the Questionnaire, so a new answer code is published with it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    CODE_SYSTEM_PATH, QUESTIONNAIRE_VERSION,
    link_ids::{self, Answer},
    questionnaire::display,
};

/// Where `$cramp-assess`'s definition is published, under the FHIR base.
pub const OPERATION_DEFINITION_PATH: &str = "/OperationDefinition/cramp-assess";

/// The `CodeSystem` of every answer code of the intake Questionnaire, under `base_url`.
#[must_use]
pub fn code_system(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let mut codes = BTreeMap::new();
    for item in link_ids::items() {
        if let Answer::Choice(options) | Answer::MultiChoice(options) = item.answer {
            for code in options() {
                codes.entry(code).or_insert_with(|| display(code));
            }
        }
    }
    let concepts: Vec<Value> = codes
        .into_iter()
        .map(|(code, display)| json!({"code": code, "display": display}))
        .collect();
    json!({
        "resourceType": "CodeSystem",
        "id": "cramp-intake",
        "url": format!("{base}/fhir{CODE_SYSTEM_PATH}"),
        "version": QUESTIONNAIRE_VERSION,
        "name": "CrampIntakeAnswers",
        "title": "cramp-cds intake answer codes",
        "status": "active",
        "publisher": "cramp-cds",
        "description": "The answer codes of the cramp-cds intake Questionnaire (the proto enum value names of the intake contract).",
        "caseSensitive": true,
        "content": "complete",
        "count": concepts.len(),
        "concept": concepts,
    })
}

/// The `OperationDefinition` of `$cramp-assess`, under `base_url`.
#[must_use]
pub fn operation_definition(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let input = |name: &str, kind: &str, min: u8, max: &str, documentation: &str| {
        json!({"name": name, "use": "in", "min": min, "max": max, "type": kind,
            "documentation": documentation})
    };
    json!({
        "resourceType": "OperationDefinition",
        "id": "cramp-assess",
        "url": format!("{base}/fhir{OPERATION_DEFINITION_PATH}"),
        "version": QUESTIONNAIRE_VERSION,
        "name": "CrampAssess",
        "title": "Assess a leg-cramp intake",
        "status": "active",
        "kind": "operation",
        "publisher": "cramp-cds",
        "description": "Assesses a completed intake: a QuestionnaireResponse to the patient's Questionnaire cramp-intake, one to the clinician's companion cramp-intake-clinician (examination and labs), or one of each, with optional chart resources, and returns a collection Bundle holding a RiskAssessment, draft/proposal ServiceRequests and DetectedIssues. The body is a Parameters resource, or a QuestionnaireResponse alone.",
        "code": "cramp-assess",
        "system": true,
        "type": false,
        "instance": false,
        "parameter": [
            input("questionnaireResponse", "QuestionnaireResponse", 1, "2",
                "The completed intake, answering a Questionnaire at its canonical and version: the patient's cramp-intake, the clinician's cramp-intake-clinician, or one response to each (about the same patient; each field is answered once)."),
            input("patient", "Patient", 0, "1", "Birth date and sex."),
            input("condition", "Condition", 0, "*", "Coded conditions from the chart."),
            input("medication", "Resource", 0, "*",
                "MedicationRequest, MedicationStatement or Medication resources from the chart."),
            input("observation", "Observation", 0, "*", "Lab results coded in LOINC."),
            {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Bundle",
                "documentation": "A collection Bundle: RiskAssessment, ServiceRequests, DetectedIssues."},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::questionnaire;

    #[test]
    fn every_answer_code_of_the_questionnaire_is_in_the_code_system() {
        let system = code_system("https://cds.example.org");
        let published: Vec<&str> = system["concept"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        let questionnaire =
            serde_json::to_value(questionnaire::questionnaire("https://cds.example.org")).unwrap();
        let mut stack = vec![&questionnaire];
        let mut seen = 0;
        while let Some(node) = stack.pop() {
            for option in node["answerOption"].as_array().into_iter().flatten() {
                let coding = &option["valueCoding"];
                assert_eq!(coding["system"], system["url"]);
                assert!(published.contains(&coding["code"].as_str().unwrap()));
                seen += 1;
            }
            stack.extend(node["item"].as_array().into_iter().flatten());
        }
        assert!(seen > 20, "{seen}");
    }
}
