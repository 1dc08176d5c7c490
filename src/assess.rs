//! The one assessment path behind every door.
//!
//! gRPC, the `assess` command and any later adapter call [`assess`] with a wire request and get a
//! wire response or every bad field, named from the request root. Keeping the checks, the
//! conversion and the log line here means the doors cannot drift apart: they differ only in how
//! they read the request and how they write the answer.

use std::time::Instant;

use cramp_core::{FieldViolation, KnowledgeBase};

use crate::{
    convert, pb,
    pb::assess_request::Input,
    request_id::{MAX_REQUEST_ID_CHARS, loggable_id},
};

/// Where violations of a QuestionnaireResponse input are named.
const QR_ROOT: &str = "questionnaire_response_json";

/// Why a request could not be assessed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssessError {
    /// One or more fields are missing, out of range, contradictory or unknown; nothing was
    /// assessed. Each violation's path starts at the request root (`history.patient.age_years`).
    #[error("the request has {} invalid field(s)", .0.len())]
    InvalidRequest(Vec<FieldViolation>),
}

impl AssessError {
    /// Every bad field, in the order of the request.
    #[must_use]
    pub fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::InvalidRequest(violations) => violations,
        }
    }
}

/// Validates and assesses one request.
///
/// Total and synchronous: it does no I/O, and the only log line it writes carries the request id,
/// rule ids, flag codes, counts, urgency and timing, never an answer.
///
/// # Errors
/// [`AssessError::InvalidRequest`] naming every bad field when anything is wrong: a `request_id`
/// over [`MAX_REQUEST_ID_CHARS`], a missing `history`, an unknown enum number or anything
/// [`cramp_core::validate`] rejects.
pub fn assess(
    kb: &KnowledgeBase,
    request: pb::AssessRequest,
) -> Result<pb::AssessResponse, AssessError> {
    assess_in_view(kb, request, pb::AssessmentView::Unspecified as i32)
}

/// [`assess`], answering in the `cramp.v1.AssessmentView` numbered `view` (UNSPECIFIED is FULL;
/// BASIC leaves the text fields empty and never builds them).
///
/// # Errors
/// As [`assess`], and a violation on `view` when the number is not a known view.
pub fn assess_in_view(
    kb: &KnowledgeBase,
    request: pb::AssessRequest,
    view: i32,
) -> Result<pb::AssessResponse, AssessError> {
    let Assessed {
        request_id,
        assessment,
        view,
    } = assess_to_core(kb, request, view)?;
    Ok(pb::AssessResponse {
        request_id,
        assessment: Some(convert::assessment_to_pb_view(&assessment, view)),
    })
}

/// An assessment before its conversion to the wire: what [`assess_to_core`] returns.
#[derive(Debug)]
pub struct Assessed {
    /// The request's id, echoed.
    pub request_id: String,
    /// The assessment, at the detail its view needs (no texts for the basic view).
    pub assessment: cramp_core::Assessment,
    /// The view it is to be answered in.
    pub view: convert::View,
}

/// [`assess_in_view`] without the last step, turning the core's assessment into `pb`: checks,
/// validation, evaluation, metrics and the log line are the same (this is where they happen).
/// For a door that renders the assessment itself (`screen` writes its JSON straight from it);
/// `convert::assessment_to_pb_view(&assessed.assessment, assessed.view)` is the wire answer.
///
/// # Errors
/// As [`assess_in_view`].
#[tracing::instrument(name = "assess", skip_all, fields(request_id = %loggable_id(&request.request_id)))]
pub fn assess_to_core(
    kb: &KnowledgeBase,
    request: pb::AssessRequest,
    view: i32,
) -> Result<Assessed, AssessError> {
    let started = Instant::now();
    let pb::AssessRequest { request_id, input } = request;

    let mut violations = Vec::new();
    if request_id.chars().count() > MAX_REQUEST_ID_CHARS {
        violations.push(FieldViolation::new(
            "request_id",
            format!("must be at most {MAX_REQUEST_ID_CHARS} characters"),
        ));
    }
    // A QuestionnaireResponse is read into a history first; its problems, and the history's,
    // are named under `questionnaire_response_json` (linkIds are the history's field paths).
    let (root, history) = match input {
        None => {
            violations.push(FieldViolation::new("history", "is required"));
            ("history", None)
        }
        Some(Input::History(history)) => ("history", Some(history)),
        Some(Input::QuestionnaireResponseJson(json)) => {
            match crate::fhir::questionnaire_response::history_from_json(&json) {
                Ok(history) => (QR_ROOT, Some(history)),
                Err(problems) => {
                    violations.extend(problems.into_iter().map(|v| {
                        FieldViolation::new(format!("{QR_ROOT}.{}", v.field), v.description)
                    }));
                    (QR_ROOT, None)
                }
            }
        }
    };
    let valid = history.and_then(|history| {
        let (history, unknown_enums) = convert::history_from_pb(history);
        cramp_core::validate(history, unknown_enums)
            .map_err(|err| {
                violations.extend(err.violations().iter().map(|v| {
                    FieldViolation::new(format!("{root}.{}", v.field), v.description.clone())
                }));
            })
            .ok()
    });

    // After the history: violations come in the order of the request's fields.
    let view = convert::View::from_number(view).unwrap_or_else(|| {
        violations.push(FieldViolation::new(
            "view",
            "is not a known value of its enum",
        ));
        convert::View::Full
    });

    let valid = match valid {
        Some(valid) if violations.is_empty() => valid,
        _ => {
            // Field paths and descriptions never carry submitted values, so they are safe to log.
            let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
            tracing::info!(
                invalid_fields = violations.len(),
                fields = %fields.join(","),
                elapsed_us = elapsed_us(started),
                "request rejected"
            );
            return Err(AssessError::InvalidRequest(violations));
        }
    };

    let evaluation = Instant::now();
    // The basic view drops every rationale and citation, so the core does not build them.
    let detail = match view {
        convert::View::Full => cramp_core::Detail::Full,
        convert::View::Basic => cramp_core::Detail::Codes,
    };
    let assessment = cramp_core::evaluate_with(kb, &valid, detail);
    // An event on the call's span in exported traces: how long the rules took, and counts only.
    // DEBUG so that logs keep one line per assessment (`assessed`); telemetry exports it anyway.
    tracing::debug!(
        evaluation_us = elapsed_us(evaluation),
        rule_count = kb.rules().len(),
        flag_count = assessment.flags.len(),
        "rules_evaluated"
    );
    // Aggregates by urgency and flag name, never tied to a request; see `telemetry::metrics`.
    crate::telemetry::metrics::record_assessment(&assessment);
    // Rule ids, counts and timings only: urgency, flags and drug classes describe the patient and
    // belong to the separately routed audit trail, not to operational logs.
    tracing::info!(
        rules = %join(assessment.flags.iter().map(|f| f.rule_id)),
        medication_findings = assessment.medication_findings.len(),
        workups = assessment.workups.len(),
        missing_information = assessment.missing_information.len(),
        knowledge_base_version = assessment.knowledge_base_version,
        elapsed_us = elapsed_us(started),
        "assessed"
    );
    Ok(Assessed {
        request_id,
        assessment,
        view,
    })
}

/// The published knowledge base, as `GetKnowledgeBase` and `kb --json` return it.
#[must_use]
pub fn knowledge_base(kb: &KnowledgeBase) -> pb::GetKnowledgeBaseResponse {
    pb::GetKnowledgeBaseResponse {
        knowledge_base: Some(convert::knowledge_base_to_pb(kb)),
    }
}

fn join<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    codes.collect::<Vec<_>>().join(",")
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(age: Option<u32>) -> pb::AssessRequest {
        pb::AssessRequest {
            request_id: "r-1".into(),
            input: Some(Input::History(pb::CrampHistory {
                patient: Some(pb::Patient {
                    age_years: age,
                    ..pb::Patient::default()
                }),
                ..pb::CrampHistory::default()
            })),
        }
    }

    fn fields(result: Result<pb::AssessResponse, AssessError>) -> Vec<String> {
        result
            .err()
            .map(|e| e.violations().iter().map(|v| v.field.clone()).collect())
            .unwrap_or_default()
    }

    /// The basic view is assessed at `Detail::Codes` (no rationales built); it must be exactly
    /// the full assessment converted to the basic view, as it was before that shortcut.
    #[test]
    fn the_basic_view_skips_the_texts_and_nothing_else() {
        let kb = KnowledgeBase::standard();
        let mut compared = 0;
        for record in crate::screen::synthetic::records(11).take(4000) {
            let Some(history) = record.request.history else {
                continue;
            };
            let (core, unknown) = convert::history_from_pb(history.clone());
            let Ok(valid) = cramp_core::validate(core, unknown) else {
                continue;
            };
            let full = cramp_core::evaluate(&kb, &valid);
            let codes = cramp_core::evaluate_with(&kb, &valid, cramp_core::Detail::Codes);
            let expected = convert::assessment_to_pb_view(&full, convert::View::Basic);
            assert_eq!(
                convert::assessment_to_pb_view(&codes, convert::View::Basic),
                expected
            );
            let response = assess_in_view(
                &kb,
                pb::AssessRequest {
                    request_id: record.request.record_id,
                    input: Some(Input::History(history)),
                },
                pb::AssessmentView::Basic as i32,
            )
            .unwrap();
            assert_eq!(response.assessment, Some(expected));
            compared += 1;
        }
        assert!(compared > 3500, "{compared} assessments compared");
    }

    #[test]
    fn a_valid_request_is_assessed_and_its_id_echoed() {
        let kb = KnowledgeBase::standard();
        let response = assess(&kb, request(Some(40))).unwrap();
        assert_eq!(response.request_id, "r-1");
        let assessment = response.assessment.unwrap();
        assert_eq!(assessment.knowledge_base_version, kb.version());
        assert_ne!(assessment.urgency, 0);
    }

    #[test]
    fn paths_start_at_the_request_root() {
        let kb = KnowledgeBase::standard();
        let mut req = request(None);
        req.request_id = "x".repeat(MAX_REQUEST_ID_CHARS + 1);
        if let Some(Input::History(h)) = req.input.as_mut() {
            h.medications.push(pb::Medication::default());
            h.cramps = Some(pb::Cramps {
                locations: vec![99],
                ..pb::Cramps::default()
            });
        }
        assert_eq!(
            fields(assess(&kb, req)),
            [
                "request_id",
                "history.cramps.locations[0]",
                "history.patient.age_years",
                "history.medications[0].name"
            ]
        );
    }

    #[test]
    fn a_missing_history_is_a_violation_on_history() {
        let kb = KnowledgeBase::standard();
        let req = pb::AssessRequest {
            request_id: "r".into(),
            input: None,
        };
        assert_eq!(fields(assess(&kb, req)), ["history"]);
    }

    #[test]
    fn a_questionnaire_response_is_assessed_and_its_problems_named_by_link_id() {
        let kb = KnowledgeBase::standard();
        let qr = |items: &str| {
            format!(
                r#"{{"resourceType": "QuestionnaireResponse", "status": "completed",
                "questionnaire": "https://cds.example.org/fhir/Questionnaire/cramp-intake",
                "item": {items}}}"#
            )
        };
        let request = |json: String| pb::AssessRequest {
            request_id: "qr".into(),
            input: Some(Input::QuestionnaireResponseJson(json)),
        };
        let ok = qr(
            r#"[{"linkId": "patient.age_years", "answer": [{"valueInteger": 61}]},
            {"linkId": "symptoms.chest_pain", "answer": [{"valueBoolean": true}]}]"#,
        );
        let assessment = assess(&kb, request(ok)).unwrap().assessment.unwrap();
        assert_eq!(assessment.urgency, pb::Urgency::Emergency as i32);

        let bad = qr(
            r#"[{"linkId": "patient.age_years", "answer": [{"valueInteger": 0}]},
            {"linkId": "cramps.severity", "answer": [{"valueString": "7"}]}]"#,
        );
        assert_eq!(
            fields(assess(&kb, request(bad))),
            ["questionnaire_response_json.cramps.severity"]
        );
        let invalid = qr(r#"[{"linkId": "patient.age_years", "answer": [{"valueInteger": 0}]}]"#);
        assert_eq!(
            fields(assess(&kb, request(invalid))),
            ["questionnaire_response_json.patient.age_years"]
        );
    }

    #[test]
    fn a_request_id_of_exactly_the_limit_is_accepted() {
        let kb = KnowledgeBase::standard();
        let mut req = request(Some(30));
        req.request_id = "é".repeat(MAX_REQUEST_ID_CHARS);
        assert!(assess(&kb, req).is_ok());
    }
}
