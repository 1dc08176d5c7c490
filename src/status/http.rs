//! The one mapping from HTTP-door failures to status codes and `OperationOutcome` bodies.
//!
//! Every non-2xx answer of the HTTP door (CDS Hooks and FHIR alike) is an `OperationOutcome`
//! (the CDS Hooks 3.0 ballot's recommendation), built here so that no handler can leak a
//! submitted value into an error: issues carry element paths or linkIds and fixed descriptions.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use cramp_core::FieldViolation;

use crate::fhir::{
    JsonError,
    model::{CodeableConcept, Issue, OperationOutcome},
};

/// Why an HTTP request was not answered with a 2xx.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The body is not JSON, or a value has the wrong type (400).
    #[error("the body cannot be read")]
    Json(#[from] JsonError),
    /// Elements or answers are missing or invalid (400); paths or linkIds.
    #[error("{} invalid element(s)", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Required prefetch is absent and the service will not query the FHIR server (412).
    #[error("required prefetch is missing")]
    PrefetchMissing(Vec<String>),
    /// No such CDS service or resource (404).
    #[error("not found")]
    NotFound,
    /// The path exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not declared as JSON: no `Content-Type`, or one that is not
    /// `application/json`, `application/fhir+json` or another `application/*+json` (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is larger than `limits.max_http_body_bytes` (413).
    #[error("payload too large")]
    PayloadTooLarge,
    /// The JSON body holds more values, a longer array or deeper nesting than `[limits]` allows
    /// (413); counted before the body is parsed. The path is that of the array or value at fault.
    #[error("body too complex")]
    TooComplex {
        /// Where in the body the limit was passed (`item[10000]`).
        path: String,
        /// The `[limits]` key that was passed.
        limit: &'static str,
    },
    /// The server is at its concurrent-call limit (503, with `Retry-After`).
    #[error("overloaded")]
    Overloaded,
    /// The request did not complete within `limits.call_timeout_seconds` (408).
    #[error("timeout")]
    Timeout,
}

impl HttpError {
    /// One invalid element.
    #[must_use]
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, description)])
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::Json(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::PrefetchMissing(_) => StatusCode::PRECONDITION_FAILED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge | Self::TooComplex { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The `OperationOutcome` body.
    #[must_use]
    pub fn outcome(&self) -> OperationOutcome {
        let issue = |code: &str, text: String, expression: Vec<String>| Issue {
            severity: "error".into(),
            code: code.into(),
            details: CodeableConcept::text(text),
            expression,
        };
        let issues = match self {
            Self::Json(err) => vec![issue(
                if err.syntax { "structure" } else { "invalid" },
                format!("The body {}", err.description()),
                vec![err.path.clone()],
            )],
            Self::Invalid(violations) => violations
                .iter()
                .map(|v| {
                    let code = if v.description.starts_with("is required") {
                        "required"
                    } else {
                        "invalid"
                    };
                    issue(
                        code,
                        format!("`{}` {}", v.field, v.description),
                        vec![v.field.clone()],
                    )
                })
                .collect(),
            Self::PrefetchMissing(keys) => keys
                .iter()
                .map(|key| {
                    issue(
                        "required",
                        format!(
                            "Prefetch `{key}` is required and could not be had from fhirServer"
                        ),
                        vec![format!("prefetch.{key}")],
                    )
                })
                .collect(),
            Self::NotFound => vec![issue(
                "not-found",
                "No such resource or service".into(),
                Vec::new(),
            )],
            Self::MethodNotAllowed => vec![issue(
                "not-supported",
                "This method is not supported here".into(),
                Vec::new(),
            )],
            Self::UnsupportedMediaType => vec![issue(
                "not-supported",
                "The body must be JSON: Content-Type application/json or application/fhir+json"
                    .into(),
                vec!["Content-Type".into()],
            )],
            Self::PayloadTooLarge => vec![issue(
                "too-costly",
                "The body is larger than this server accepts".into(),
                Vec::new(),
            )],
            Self::TooComplex { path, limit } => vec![issue(
                "too-costly",
                format!("`{path}`: the body passes `limits.{limit}`; send less or split it"),
                vec![path.clone()],
            )],
            Self::Overloaded => vec![issue(
                "throttled",
                "The server is at its concurrent-request limit; retry after Retry-After seconds"
                    .into(),
                Vec::new(),
            )],
            Self::Timeout => vec![issue(
                "timeout",
                "The request did not complete in time".into(),
                Vec::new(),
            )],
        };
        OperationOutcome {
            resource_type: "OperationOutcome".into(),
            issue: issues,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        // Field paths only, and of those only what is ours: an unknown linkId or a caller's JSON
        // key is replaced (`super::loggable_fields`). The answer itself names them all.
        let fields = if let Self::Invalid(violations) = &self {
            super::loggable_fields(violations)
        } else {
            super::loggable_fields(
                &self
                    .outcome()
                    .issue
                    .into_iter()
                    .flat_map(|i| i.expression)
                    .map(|path| FieldViolation::new(path, ""))
                    .collect::<Vec<_>>(),
            )
        };
        tracing::info!(status = self.status().as_u16(), fields = %fields, "request refused");
        let body = serde_json::to_vec(&self.outcome()).unwrap_or_default();
        (
            self.status(),
            [(header::CONTENT_TYPE, crate::fhir::FHIR_JSON)],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_name_paths_and_carry_no_nulls() {
        let err = HttpError::Invalid(vec![
            FieldViolation::new("hook", "is required"),
            FieldViolation::new("cramps.severity", "must be 0 to 10"),
        ]);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let json = serde_json::to_value(err.outcome()).unwrap();
        assert_eq!(json["issue"][0]["code"], "required");
        assert_eq!(json["issue"][1]["expression"][0], "cramps.severity");
        assert!(!json.to_string().contains("null"));
        assert_eq!(
            serde_json::to_value(HttpError::NotFound.outcome()).unwrap()["issue"][0]
                .get("expression"),
            None
        );
    }
}
