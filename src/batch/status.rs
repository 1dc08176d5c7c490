//! The statuses of batch streams: a record's own error, and the few limits that end a stream.
//!
//! Kept beside the pipeline rather than in `grpc::status` because a record's error is not a call
//! status: it travels inside an answer as a `google.rpc.Status` message. Each limit status
//! carries a `google.rpc.ErrorInfo` (AIP-193) whose reason a client can switch on, for instance
//! to open a new stream after `BATCH_RECORD_LIMIT`.

use std::collections::HashMap;

use cramp_core::FieldViolation;
use prost::Message as _;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use super::BatchLimits;
use crate::grpc::status::{ERROR_DOMAIN, invalid_argument};

/// `ErrorInfo.reason` when a stream carries more records than `batch.max_records_per_stream`.
pub const RECORD_LIMIT_REASON: &str = "BATCH_RECORD_LIMIT";
/// `ErrorInfo.reason` when no record arrives for `batch.idle_timeout_seconds`.
pub const IDLE_TIMEOUT_REASON: &str = "BATCH_IDLE_TIMEOUT";
/// `ErrorInfo.reason` when the server's shutdown deadline ends an open stream.
pub const SHUTTING_DOWN_REASON: &str = "SERVER_SHUTTING_DOWN";
/// `ErrorInfo.reason` of a record that could not be evaluated (a bug, never bad input).
pub const INTERNAL_REASON: &str = "RECORD_NOT_EVALUATED";

/// A record's own `INVALID_ARGUMENT`: the same `BadRequest` and `ErrorInfo` the unary `Assess`
/// returns, as the `google.rpc.Status` message that travels inside the record's answer.
#[must_use]
pub fn invalid_record(violations: &[FieldViolation]) -> tonic_types::Status {
    to_message(&invalid_argument(violations))
}

/// A record whose evaluation task died: `INTERNAL`, with no detail that could leak its data.
#[must_use]
pub fn internal_record() -> tonic_types::Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(INTERNAL_REASON, ERROR_DOMAIN, HashMap::new());
    to_message(&Status::with_error_details(
        Code::Internal,
        "the record could not be evaluated; it was not assessed",
        details,
    ))
}

/// The server is shutting down and its grace period is over: `UNAVAILABLE` (retryable), after
/// every record already read has been answered. The client resends the records after the last
/// `record_id` it received, on a new stream (to another replica).
#[must_use]
pub fn shutting_down() -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(SHUTTING_DOWN_REASON, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(
        Code::Unavailable,
        "the server is shutting down; every record read so far was answered: send the rest on a \
         new stream",
        details,
    )
}

/// The stream carried more than `max_records`: `RESOURCE_EXHAUSTED`, a per-stream quota.
#[must_use]
pub fn record_limit(limits: BatchLimits) -> Status {
    let max = limits.max_records.get();
    let mut details = ErrorDetails::new();
    details.set_error_info(
        RECORD_LIMIT_REASON,
        ERROR_DOMAIN,
        HashMap::from([("max_records".to_owned(), max.to_string())]),
    );
    Status::with_error_details(
        Code::ResourceExhausted,
        format!(
            "a batch stream carries at most {max} records (batch.max_records_per_stream); the \
             first {max} were answered, send the rest on a new stream"
        ),
        details,
    )
}

/// No record arrived within `idle_timeout` while the server waited for one:
/// `DEADLINE_EXCEEDED`, the stream's own deadline (tonic's call timeout does not cover streams).
#[must_use]
pub fn idle_timeout(limits: BatchLimits) -> Status {
    let seconds = limits.idle_timeout.as_secs_f64();
    let mut details = ErrorDetails::new();
    details.set_error_info(
        IDLE_TIMEOUT_REASON,
        ERROR_DOMAIN,
        HashMap::from([("idle_timeout_seconds".to_owned(), seconds.to_string())]),
    );
    Status::with_error_details(
        Code::DeadlineExceeded,
        format!(
            "no record for {seconds} s (batch.idle_timeout_seconds); the stream was closed after \
             answering every record received"
        ),
        details,
    )
}

/// A short, fixed name for why a stream ended, for its log line (never the status message,
/// which a transport error could fill with anything).
#[must_use]
pub fn ending_reason(status: &Status) -> &'static str {
    match status
        .get_details_error_info()
        .as_ref()
        .map(|i| i.reason.as_str())
    {
        Some(RECORD_LIMIT_REASON) => "record_limit",
        Some(IDLE_TIMEOUT_REASON) => "idle_timeout",
        Some(SHUTTING_DOWN_REASON) => "shutting_down",
        Some(crate::limits::DEADLINE_REASON) => "deadline_exceeded",
        _ if status.code() == Code::OutOfRange => "message_too_large",
        _ if status.code() == Code::Cancelled => "cancelled",
        _ => "transport_error",
    }
}

/// The `google.rpc.Status` message behind a call status (what `with_error_details` encoded),
/// for carrying it inside a record's answer.
#[must_use]
pub fn to_message(status: &Status) -> tonic_types::Status {
    tonic_types::Status::decode(status.details()).unwrap_or_else(|_| tonic_types::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: Vec::new(),
    })
}

/// The field paths a record error's `BadRequest` names, in order (tests read answers this way).
#[cfg(test)]
pub(crate) fn bad_request_fields(status: &tonic_types::pb::Status) -> Vec<String> {
    use tonic_types::RpcStatusExt as _;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::{
        num::{NonZeroU64, NonZeroUsize},
        time::Duration,
    };

    use tonic_types::RpcStatusExt as _;

    use super::*;

    fn limits() -> BatchLimits {
        BatchLimits {
            window: NonZeroUsize::new(4).unwrap(),
            max_records: NonZeroU64::new(7).unwrap(),
            idle_timeout: Duration::from_millis(1500),
        }
    }

    #[test]
    fn a_record_error_is_the_google_rpc_status_of_the_unary_error() {
        let violations = [FieldViolation::new(
            "history.patient.age_years",
            "is required",
        )];
        let message = invalid_record(&violations);
        let unary = invalid_argument(&violations);
        assert_eq!(message.code, Code::InvalidArgument as i32);
        assert_eq!(message.message, unary.message());
        assert_eq!(message.encode_to_vec(), unary.details());
        let bad = message.get_details_bad_request().unwrap();
        assert_eq!(bad.field_violations[0].field, "history.patient.age_years");
    }

    #[test]
    fn limit_statuses_carry_their_code_reason_and_limit() {
        let limit = record_limit(limits());
        assert_eq!(limit.code(), Code::ResourceExhausted);
        let info = limit.get_details_error_info().unwrap();
        assert_eq!(info.reason, RECORD_LIMIT_REASON);
        assert_eq!(info.metadata["max_records"], "7");
        assert_eq!(ending_reason(&limit), "record_limit");

        let idle = idle_timeout(limits());
        assert_eq!(idle.code(), Code::DeadlineExceeded);
        let info = idle.get_details_error_info().unwrap();
        assert_eq!(info.reason, IDLE_TIMEOUT_REASON);
        assert_eq!(info.metadata["idle_timeout_seconds"], "1.5");
        assert!(idle.message().contains("1.5 s"), "{}", idle.message());
        assert_eq!(ending_reason(&idle), "idle_timeout");

        assert_eq!(
            ending_reason(&Status::out_of_range("big")),
            "message_too_large"
        );
        assert_eq!(internal_record().code, Code::Internal as i32);
    }
}
