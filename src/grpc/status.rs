//! The one mapping from service errors to gRPC statuses.
//!
//! The orphan rule forbids `impl From<AssessError> for Status` outside tonic, and a named function
//! is easier to find anyway. Invalid input follows AIP-193: `INVALID_ARGUMENT` with a
//! `google.rpc.BadRequest` naming every bad field and a `google.rpc.ErrorInfo` a client can switch
//! on without parsing prose.

use std::collections::HashMap;

use cramp_core::FieldViolation;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::assess::AssessError;

/// `ErrorInfo.reason` for a request with invalid fields.
pub const INVALID_HISTORY_REASON: &str = "INVALID_HISTORY";
/// `ErrorInfo.domain` of every error this service raises.
pub const ERROR_DOMAIN: &str = "cramp-cds";

/// Maps an assessment failure to its status.
#[must_use]
pub fn from_assess_error(err: AssessError) -> Status {
    match err {
        AssessError::InvalidRequest(violations) => invalid_argument(&violations),
    }
}

/// `INVALID_ARGUMENT` naming every violation in a `BadRequest`, plus `ErrorInfo` with the count.
#[must_use]
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    details.set_error_info(
        INVALID_HISTORY_REASON,
        ERROR_DOMAIN,
        HashMap::from([("violations".to_owned(), violations.len().to_string())]),
    );
    Status::with_error_details(
        Code::InvalidArgument,
        format!(
            "the request has {} invalid field(s); see the BadRequest details",
            violations.len()
        ),
        details,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_violation_reaches_the_bad_request() {
        let status = invalid_argument(&[
            FieldViolation::new("history.patient.age_years", "is required"),
            FieldViolation::new("request_id", "must be at most 200 characters"),
        ]);
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad = status.get_details_bad_request().unwrap();
        let fields: Vec<_> = bad
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["history.patient.age_years", "request_id"]);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, INVALID_HISTORY_REASON);
        assert_eq!(info.domain, ERROR_DOMAIN);
        assert_eq!(
            info.metadata.get("violations").map(String::as_str),
            Some("2")
        );
    }
}
