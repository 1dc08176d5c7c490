//! The one assessment path behind every door.
//!
//! Every door (unary gRPC and gRPC-Web, the batch stream, `screen` local and remote, the `assess`
//! command, CDS Hooks, `$cramp-assess`) translates its input into a wire request and calls
//! [`Assessor::assess`], which returns an [`Assessed`] or every bad field, named from the request
//! root. Keeping the checks, the evaluation, the log line, the metrics and the audit event here
//! means the doors cannot drift apart: they differ only in how they read the request and how they
//! render the core's answer.

use std::time::Instant;

use cramp_core::{FieldViolation, KnowledgeBase};

use crate::{
    audit::{Audit, Door},
    caller::Caller,
    convert, fhir, pb,
    pb::assess_request::Input,
    request_id::{MAX_REQUEST_ID_CHARS, loggable_id},
    telemetry::{self, Listed},
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

/// Which door a request came through, who sent it and what the audit event names it by: what
/// the assessor records besides the outcome.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The door (`AuditEvent.subtype`).
    pub door: Door,
    /// The authenticated caller, or anonymous.
    pub caller: &'a Caller,
    /// The id the audit event names (a hook instance, a QuestionnaireResponse id); `None` is the
    /// request's own `request_id`.
    pub audit_id: Option<&'a str>,
    /// The patient, pseudonymised in the audit event when the door knows one.
    pub patient_id: Option<&'a str>,
}

/// The caller of local doors (the CLI): nobody authenticated.
static LOCAL: Caller = Caller::Anonymous;

impl<'a> Call<'a> {
    /// A call through `door` by `caller`, named by its request id.
    #[must_use]
    pub const fn new(door: Door, caller: &'a Caller) -> Self {
        Self {
            door,
            caller,
            audit_id: None,
            patient_id: None,
        }
    }

    /// A call through a local door (`assess`, in-process `screen`): no caller.
    #[must_use]
    pub const fn local(door: Door) -> Call<'static> {
        Call::new(door, &LOCAL)
    }

    /// The same call, audited under `audit_id` and about `patient_id`.
    #[must_use]
    pub const fn about(mut self, audit_id: &'a str, patient_id: Option<&'a str>) -> Self {
        self.audit_id = Some(audit_id);
        self.patient_id = patient_id;
        self
    }
}

/// The one assessor: the only way from a request to an [`Assessed`].
///
/// Each door translates its input into a wire request (or the violations that stop it) and calls
/// [`Assessor::assess`], which validates, evaluates, logs, counts the assessment into the metrics
/// and writes the audit event. Doors cannot drift apart and cannot skip the audit trail: an
/// [`Assessed`] has no other constructor.
#[derive(Clone, Debug)]
pub struct Assessor {
    kb: KnowledgeBase,
    audit: Audit,
}

impl Assessor {
    /// Assesses against `kb`, recording into `audit`.
    #[must_use]
    pub const fn new(kb: KnowledgeBase, audit: Audit) -> Self {
        Self { kb, audit }
    }

    /// For local doors (the CLI) and tests: no audit trail (nobody else's request is served).
    #[must_use]
    pub fn local(kb: KnowledgeBase) -> Self {
        Self::new(kb, Audit::off())
    }

    /// The rule set assessments run against.
    #[must_use]
    pub const fn kb(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// Validates and assesses one request, in the `cramp.v1.AssessmentView` numbered `view`
    /// (UNSPECIFIED is FULL; BASIC leaves the text fields empty and never builds them).
    ///
    /// Total and synchronous: it does no I/O but the log lines and the audit event, which carry
    /// the request id, rule ids, flag codes, counts, urgency and timing, never an answer.
    ///
    /// # Errors
    /// [`AssessError::InvalidRequest`] naming every bad field when anything is wrong: a
    /// `request_id` over [`MAX_REQUEST_ID_CHARS`], a missing `history`, an unknown enum number,
    /// an unknown `view` or anything [`cramp_core::validate`] rejects.
    pub fn assess(
        &self,
        call: &Call<'_>,
        request: pb::AssessRequest,
        view: i32,
    ) -> Result<Assessed, AssessError> {
        self.assess_translated(call, Ok(((), request)), view)
            .map(|((), assessed)| assessed)
    }

    /// [`Assessor::assess`] for a door whose own translation may already have failed (the EHR
    /// doors name bad answers by linkId): the refusal is audited like any other. What the door
    /// read beside the request (`T`, the EHR doors' provenance) comes back with the assessment.
    ///
    /// # Errors
    /// `translated`'s violations, or as [`Assessor::assess`].
    pub fn assess_translated<T>(
        &self,
        call: &Call<'_>,
        translated: Result<(T, pb::AssessRequest), Vec<FieldViolation>>,
        view: i32,
    ) -> Result<(T, Assessed), AssessError> {
        let (request_id, outcome) = match translated {
            Ok((read, request)) => (
                request.request_id.clone(),
                evaluate(&self.kb, request, view).map(|assessed| (read, assessed)),
            ),
            Err(violations) => (String::new(), Err(AssessError::InvalidRequest(violations))),
        };
        let audit_id = call.audit_id.unwrap_or(&request_id);
        match &outcome {
            Ok((_, assessed)) => self.audit.assessed(
                call.door,
                call.caller,
                audit_id,
                call.patient_id,
                &assessed.assessment,
            ),
            Err(_) => self
                .audit
                .refused(call.door, call.caller, audit_id, call.patient_id),
        }
        outcome
    }
}

/// An assessment that went through [`Assessor::assess`]: validated, logged, counted and audited.
/// Its fields are private and it has no other constructor, so holding one proves all of that
/// happened.
#[derive(Debug)]
pub struct Assessed {
    request_id: String,
    assessment: cramp_core::Assessment,
    view: convert::View,
}

impl Assessed {
    /// The request's id, echoed.
    #[must_use]
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The assessment, at the detail its view needs (no texts for the basic view).
    #[must_use]
    pub const fn assessment(&self) -> &cramp_core::Assessment {
        &self.assessment
    }

    /// The view it is to be answered in.
    #[must_use]
    pub const fn view(&self) -> convert::View {
        self.view
    }

    /// The assessment on the wire, in its view.
    #[must_use]
    pub fn to_pb(&self) -> pb::Assessment {
        convert::assessment_to_pb_view(&self.assessment, self.view)
    }

    /// The core assessment, for the EHR doors, which explain it in FHIR and CDS Hooks terms
    /// straight from the core's types rather than through the wire's numbers.
    #[must_use]
    pub fn into_core(self) -> cramp_core::Assessment {
        self.assessment
    }

    /// The unary answer.
    #[must_use]
    pub fn into_response(self) -> pb::AssessResponse {
        pb::AssessResponse {
            assessment: Some(self.to_pb()),
            request_id: self.request_id,
        }
    }
}

/// Checks, validation, evaluation, metrics and the log line: everything but the audit event,
/// which is written outside this span, as the door's own event.
#[tracing::instrument(name = "assess", skip_all, fields(request_id = %loggable_id(&request.request_id)))]
fn evaluate(
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
    // Answers it could not read stay unknown and are echoed in the assessment (reference g.1).
    let mut unread = Vec::new();
    let (root, history) = match input {
        None => {
            violations.push(FieldViolation::new("history", "is required"));
            ("history", None)
        }
        Some(Input::History(history)) => ("history", Some(history)),
        Some(Input::QuestionnaireResponseJson(json)) => {
            match fhir::questionnaire_response::history_from_json(&json) {
                Ok((history, unread_answers)) => {
                    unread = unread_answers;
                    (QR_ROOT, Some(history))
                }
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
        let (mut history, unknown_enums) = convert::history_from_pb(history);
        history.unread_inputs = unread;
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
            // Field paths, never values; a path ending in the caller's own name (an unknown
            // linkId) is replaced.
            tracing::info!(
                invalid_fields = violations.len(),
                fields = %crate::status::loggable_fields(&violations),
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
    telemetry::metrics::record_assessment(&assessment);
    // Rule ids, counts and timings only: urgency, flags and drug classes describe the patient and
    // belong to the separately routed audit trail, not to operational logs.
    tracing::info!(
        rules = %Listed(assessment.flags.iter().map(|f| f.rule_id)),
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

    fn assess(
        kb: &KnowledgeBase,
        request: pb::AssessRequest,
    ) -> Result<pb::AssessResponse, AssessError> {
        assess_in_view(kb, request, 0)
    }

    fn assess_in_view(
        kb: &KnowledgeBase,
        request: pb::AssessRequest,
        view: i32,
    ) -> Result<pb::AssessResponse, AssessError> {
        Assessor::local(*kb)
            .assess(&Call::local(Door::Cli), request, view)
            .map(Assessed::into_response)
    }

    /// Counts the audit events written while `run` runs, by outcome (`0` answered, `4` refused).
    fn audit_outcomes(run: impl FnOnce()) -> Vec<String> {
        use std::sync::{Arc, Mutex};

        use tracing_subscriber::layer::SubscriberExt as _;

        #[derive(Clone, Default)]
        struct Outcomes(Arc<Mutex<Vec<String>>>);
        struct Outcome<'a>(&'a mut Option<String>);
        impl tracing::field::Visit for Outcome<'_> {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "outcome" {
                    *self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Outcomes {
            fn on_event(
                &self,
                event: &tracing::Event<'_>,
                _: tracing_subscriber::layer::Context<'_, S>,
            ) {
                if event.metadata().target() == crate::audit::TARGET {
                    let mut outcome = None;
                    event.record(&mut Outcome(&mut outcome));
                    self.0.lock().unwrap().push(outcome.unwrap_or_default());
                }
            }
        }
        let outcomes = Outcomes::default();
        let subscriber = tracing_subscriber::registry().with(outcomes.clone());
        tracing::subscriber::with_default(subscriber, run);
        outcomes.0.lock().unwrap().clone()
    }

    /// The audit trail is the assessor's, not the door's: an answer and a refusal (including one
    /// the door's own translation made) each write exactly one event; the local assessor none.
    #[test]
    fn the_assessor_writes_one_audit_event_per_outcome() {
        let kb = KnowledgeBase::standard();
        let assessor = Assessor::new(kb, Audit::ephemeral());
        let caller = Caller::default();
        let call = Call::new(Door::GrpcAssess, &caller);
        let seen = audit_outcomes(|| {
            assert!(assessor.assess(&call, request(Some(40)), 0).is_ok());
            assert!(assessor.assess(&call, request(None), 0).is_err());
            let refused: Result<((), pb::AssessRequest), _> =
                Err(vec![FieldViolation::new("item", "is required")]);
            assert!(assessor.assess_translated(&call, refused, 0).is_err());
        });
        assert_eq!(seen, ["0", "4", "4"]);

        let local = audit_outcomes(|| {
            assert!(
                Assessor::local(kb)
                    .assess(&call, request(Some(40)), 0)
                    .is_ok()
            );
        });
        assert!(local.is_empty(), "{local:?}");
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

        // An answer of the wrong type is unknown and named; the rest is assessed (g.1).
        let unreadable = qr(
            r#"[{"linkId": "patient.age_years", "answer": [{"valueInteger": 61}]},
            {"linkId": "symptoms.chest_pain", "answer": [{"valueBoolean": true}]},
            {"linkId": "cramps.severity", "answer": [{"valueString": "7"}]}]"#,
        );
        let assessment = assess(&kb, request(unreadable))
            .unwrap()
            .assessment
            .unwrap();
        assert_eq!(assessment.urgency, pb::Urgency::Emergency as i32);
        assert_eq!(assessment.unread_inputs.len(), 1);
        assert_eq!(assessment.unread_inputs[0].item, "cramps.severity");
        assert!(!assessment.unread_inputs[0].reason.contains('7'));
        let bad = qr(
            r#"[{"linkId": "patient.age_years", "answer": [{"valueInteger": 0}]},
            {"linkId": "cramps.severity", "answer": [{"valueString": "7"}]}]"#,
        );
        assert_eq!(
            fields(assess(&kb, request(bad))),
            ["questionnaire_response_json.patient.age_years"]
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
