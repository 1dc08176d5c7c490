//! The one table of the gRPC statuses this service raises, and the one place they are built.
//!
//! Every refusal carries a `google.rpc.ErrorInfo` (AIP-193) whose reason a client can switch on
//! without parsing prose; the reason, its code and its domain live in [`Reason`], so a new
//! refusal is one row here and no door can invent a code of its own. It sits below every door
//! (auth, limits, batch, screen, the gRPC service all build from it, through the service's
//! `status` module) and imports nothing of the service. Invalid input follows AIP-193: `INVALID_ARGUMENT` with a `google.rpc.BadRequest`
//! naming every bad field.

use std::{collections::HashMap, time::Duration};

use cramp_core::FieldViolation;
use prost::Message as _;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// `ErrorInfo.domain` of every error this service raises.
pub const ERROR_DOMAIN: &str = "cramp-cds";

/// Why a call or a record was refused: the `ErrorInfo.reason` and the status code it goes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Fields are missing, out of range, contradictory or unknown (`INVALID_ARGUMENT`).
    InvalidHistory,
    /// A `screen` input line or row cannot be parsed into a request (`INVALID_ARGUMENT`).
    UnparseableRecord,
    /// No valid bearer token (`UNAUTHENTICATED`).
    Unauthenticated,
    /// The token lacks the route's scope (`PERMISSION_DENIED`).
    InsufficientScope,
    /// The server is at its concurrent-call limit (`RESOURCE_EXHAUSTED`, with `RetryInfo`).
    Overloaded,
    /// The call ran past its deadline (`DEADLINE_EXCEEDED`).
    CallDeadlineExceeded,
    /// A batch stream carried more than `batch.max_records_per_stream` (`RESOURCE_EXHAUSTED`).
    BatchRecordLimit,
    /// No batch record for `batch.idle_timeout_seconds` (`DEADLINE_EXCEEDED`).
    BatchIdleTimeout,
    /// The shutdown deadline ended an open stream (`UNAVAILABLE`, retryable).
    ServerShuttingDown,
    /// A record could not be evaluated: a bug, never bad input (`INTERNAL`).
    RecordNotEvaluated,
    /// A batch record is larger than `server.max_message_bytes` (`OUT_OF_RANGE`).
    RecordTooLarge,
}

impl Reason {
    /// Every reason, for tests that walk the table.
    pub const ALL: [Self; 11] = [
        Self::InvalidHistory,
        Self::UnparseableRecord,
        Self::Unauthenticated,
        Self::InsufficientScope,
        Self::Overloaded,
        Self::CallDeadlineExceeded,
        Self::BatchRecordLimit,
        Self::BatchIdleTimeout,
        Self::ServerShuttingDown,
        Self::RecordNotEvaluated,
        Self::RecordTooLarge,
    ];

    /// The `ErrorInfo.reason`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidHistory => "INVALID_HISTORY",
            Self::UnparseableRecord => "UNPARSEABLE_RECORD",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::InsufficientScope => "INSUFFICIENT_SCOPE",
            Self::Overloaded => "SERVER_OVERLOADED",
            Self::CallDeadlineExceeded => "CALL_DEADLINE_EXCEEDED",
            Self::BatchRecordLimit => "BATCH_RECORD_LIMIT",
            Self::BatchIdleTimeout => "BATCH_IDLE_TIMEOUT",
            Self::ServerShuttingDown => "SERVER_SHUTTING_DOWN",
            Self::RecordNotEvaluated => "RECORD_NOT_EVALUATED",
            Self::RecordTooLarge => "RECORD_TOO_LARGE",
        }
    }

    /// The status code the reason is raised with.
    #[must_use]
    pub const fn code(self) -> Code {
        match self {
            Self::InvalidHistory | Self::UnparseableRecord => Code::InvalidArgument,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::InsufficientScope => Code::PermissionDenied,
            Self::Overloaded | Self::BatchRecordLimit => Code::ResourceExhausted,
            Self::CallDeadlineExceeded | Self::BatchIdleTimeout => Code::DeadlineExceeded,
            Self::ServerShuttingDown => Code::Unavailable,
            Self::RecordNotEvaluated => Code::Internal,
            Self::RecordTooLarge => Code::OutOfRange,
        }
    }

    /// The reason named by `reason`, if it is one of ours.
    #[must_use]
    pub fn parse(reason: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == reason)
    }

    /// The reason a status carries in its `ErrorInfo`, if it is one of ours.
    #[must_use]
    pub fn of(status: &Status) -> Option<Self> {
        status
            .get_details_error_info()
            .and_then(|info| (info.domain == ERROR_DOMAIN).then(|| Self::parse(&info.reason))?)
    }
}

/// The one constructor: `reason`'s code, `message`, and an `ErrorInfo` with `metadata` added to
/// `details` (a `BadRequest`, a `RetryInfo`, or nothing).
fn build(
    reason: Reason,
    message: impl Into<String>,
    metadata: HashMap<String, String>,
    mut details: ErrorDetails,
) -> Status {
    details.set_error_info(reason.as_str(), ERROR_DOMAIN, metadata);
    Status::with_error_details(reason.code(), message, details)
}

fn one(key: &str, value: impl ToString) -> HashMap<String, String> {
    HashMap::from([(key.to_owned(), value.to_string())])
}

fn bad_request(violations: &[FieldViolation]) -> ErrorDetails {
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    details
}

/// `INVALID_ARGUMENT` naming every violation in a `BadRequest`, plus `ErrorInfo` with the count.
#[must_use]
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    build(
        Reason::InvalidHistory,
        format!(
            "the request has {} invalid field(s); see the BadRequest details",
            violations.len()
        ),
        one("violations", violations.len()),
        bad_request(violations),
    )
}

/// A `screen` input record that cannot be parsed: the line in the message and the metadata, and
/// a `BadRequest` when particular cells are at fault.
#[must_use]
pub fn unparseable(line: u64, message: String, violations: &[FieldViolation]) -> Status {
    build(
        Reason::UnparseableRecord,
        message,
        one("line", line),
        bad_request(violations),
    )
}

/// No valid bearer token.
#[must_use]
pub fn unauthenticated() -> Status {
    build(
        Reason::Unauthenticated,
        "a valid bearer token is required",
        HashMap::new(),
        ErrorDetails::new(),
    )
}

/// The token does not grant `scope`.
#[must_use]
pub fn insufficient_scope(scope: &str) -> Status {
    build(
        Reason::InsufficientScope,
        format!("the token does not grant the scope `{scope}`"),
        one("required_scope", scope),
        ErrorDetails::new(),
    )
}

/// The concurrent-call limit is reached: retry after `retry_after`.
#[must_use]
pub fn overloaded(retry_after: Duration) -> Status {
    build(
        Reason::Overloaded,
        "the server is at its concurrent-call limit; retry after the delay in RetryInfo",
        HashMap::new(),
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

/// The call did not finish before its deadline.
#[must_use]
pub fn deadline_exceeded() -> Status {
    build(
        Reason::CallDeadlineExceeded,
        "the call did not finish before its deadline (the client's grpc-timeout or \
         limits.call_timeout_seconds)",
        HashMap::new(),
        ErrorDetails::new(),
    )
}

/// A record whose evaluation task died, with no detail that could leak its data.
#[must_use]
pub fn record_not_evaluated() -> Status {
    build(
        Reason::RecordNotEvaluated,
        "the record could not be evaluated; it was not assessed",
        HashMap::new(),
        ErrorDetails::new(),
    )
}

/// The server is shutting down and its grace period is over, after every record already read
/// has been answered. The client resends the records after the last `record_id` it received, on
/// a new stream (to another replica).
#[must_use]
pub fn shutting_down() -> Status {
    build(
        Reason::ServerShuttingDown,
        "the server is shutting down; every record read so far was answered: send the rest on a \
         new stream",
        HashMap::new(),
        ErrorDetails::new(),
    )
}

/// The stream carried more than `max` records: a per-stream quota.
#[must_use]
pub fn record_limit(max: u64) -> Status {
    build(
        Reason::BatchRecordLimit,
        format!(
            "a batch stream carries at most {max} records (batch.max_records_per_stream); the \
             first {max} were answered, send the rest on a new stream"
        ),
        one("max_records", max),
        ErrorDetails::new(),
    )
}

/// No record arrived within `idle` while the server waited for one: the stream's own deadline
/// (tonic's call timeout does not cover streams).
#[must_use]
pub fn idle_timeout(idle: Duration) -> Status {
    let seconds = idle.as_secs_f64();
    build(
        Reason::BatchIdleTimeout,
        format!(
            "no record for {seconds} s (batch.idle_timeout_seconds); the stream was closed after \
             answering every record received"
        ),
        one("idle_timeout_seconds", seconds),
        ErrorDetails::new(),
    )
}

/// A batch record over `server.max_message_bytes`: the `record`th of its stream, which the server
/// could not decode (the stream ends after every earlier answer), or one of `bytes` that `screen
/// --server` did not send and answers with this status instead.
#[must_use]
pub fn record_too_large(
    record: Option<u64>,
    bytes: Option<usize>,
    max_bytes: Option<usize>,
) -> Status {
    let mut metadata = HashMap::new();
    let mut message = String::from("the record is larger than the server decodes");
    if let Some(bytes) = bytes {
        metadata.insert("bytes".to_owned(), bytes.to_string());
        message = format!("the record is {bytes} bytes, larger than the server decodes");
    }
    if let Some(max) = max_bytes {
        metadata.insert("max_bytes".to_owned(), max.to_string());
        message.push_str(&format!(" ({max} bytes, server.max_message_bytes)"));
    } else {
        message.push_str(" (server.max_message_bytes)");
    }
    if let Some(record) = record {
        metadata.insert("record".to_owned(), record.to_string());
        message.push_str(&format!(
            "; it is record {record} of the stream, which ends after every earlier answer"
        ));
    } else {
        message.push_str("; it was not sent");
    }
    build(
        Reason::RecordTooLarge,
        message,
        metadata,
        ErrorDetails::new(),
    )
}

/// The `record`th message of a batch stream is not a protobuf `AssessBatchRequest`: the stream
/// cannot be read past it, so it ends after every earlier answer.
#[must_use]
pub fn undecodable_record(record: u64) -> Status {
    build(
        Reason::UnparseableRecord,
        format!(
            "record {record} of the stream is not an AssessBatchRequest (protobuf); the stream \
             ends after every earlier answer: send the records after it on a new stream"
        ),
        one("record", record),
        ErrorDetails::new(),
    )
}

/// What a batch stream's inbound error becomes: a record too large or not decodable is named by
/// its place in the stream (`record`, 1-based) with a documented reason, not tonic's bare
/// `OUT_OF_RANGE`/`INTERNAL`; a request stream that broke off (the client reset it or its
/// connection went away: tonic says `CANCELLED` or, for a dropped connection, `UNKNOWN`) is
/// [`client_disconnected`], so metrics count departures apart from failures; an HTTP/2 protocol
/// error stays as it is.
#[must_use]
pub fn inbound_error(status: Status, record: u64) -> Status {
    let code = status.code();
    if code == Code::OutOfRange {
        record_too_large(Some(record), None, None)
    } else if code == Code::Internal
        // tonic's Protobuf decoder (prost's `DecodeError`) reports this way, and nothing else
        // on the inbound side does.
        && status.message().starts_with("failed to decode Protobuf message")
    {
        undecodable_record(record)
    } else if matches!(code, Code::Cancelled | Code::Unknown) {
        client_disconnected()
    } else {
        status
    }
}

/// Message of [`client_disconnected`], which [`ending_reason`] knows it by.
const CLIENT_DISCONNECTED: &str = "the client went away: its request stream broke off";

/// The client reset its request stream or its connection closed mid-stream: `CANCELLED`, as gRPC
/// names a call its client gave up on (nobody is left to read it; metrics and logs are).
#[must_use]
pub fn client_disconnected() -> Status {
    Status::cancelled(CLIENT_DISCONNECTED)
}

/// A short, fixed name for why a stream ended, for its log line (never the status message,
/// which a transport error could fill with anything).
#[must_use]
pub fn ending_reason(status: &Status) -> &'static str {
    match Reason::of(status) {
        Some(Reason::BatchRecordLimit) => "record_limit",
        Some(Reason::BatchIdleTimeout) => "idle_timeout",
        Some(Reason::ServerShuttingDown) => "shutting_down",
        Some(Reason::CallDeadlineExceeded) => "deadline_exceeded",
        Some(Reason::RecordTooLarge) => "message_too_large",
        Some(Reason::UnparseableRecord) => "undecodable_record",
        _ if status.code() == Code::OutOfRange => "message_too_large",
        _ if status.code() == Code::Cancelled && status.message() == CLIENT_DISCONNECTED => {
            "client_disconnected"
        }
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

/// The field paths a record error's `BadRequest` names, in order (tests and clients read answers
/// this way).
#[must_use]
pub fn bad_request_fields(status: &tonic_types::pb::Status) -> Vec<String> {
    use tonic_types::RpcStatusExt as _;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tonic_types::RpcStatusExt as _;

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
        assert_eq!(info.reason, "INVALID_HISTORY");
        assert_eq!(info.domain, ERROR_DOMAIN);
        assert_eq!(
            info.metadata.get("violations").map(String::as_str),
            Some("2")
        );
    }

    #[test]
    fn every_reason_is_read_back_from_the_status_it_builds() {
        let built = [
            invalid_argument(&[]),
            unparseable(3, "x".into(), &[]),
            unauthenticated(),
            insufficient_scope("s"),
            overloaded(Duration::from_secs(1)),
            deadline_exceeded(),
            record_limit(7),
            idle_timeout(Duration::from_millis(1500)),
            shutting_down(),
            record_not_evaluated(),
            record_too_large(None, Some(9), Some(8)),
        ];
        for (reason, status) in Reason::ALL.into_iter().zip(&built) {
            assert_eq!(Reason::of(status), Some(reason));
            assert_eq!(status.code(), reason.code(), "{reason:?}");
        }
        assert_eq!(Reason::parse("NOT_OURS"), None);
    }

    #[test]
    fn a_record_error_is_the_google_rpc_status_of_the_unary_error() {
        let violations = [FieldViolation::new(
            "history.patient.age_years",
            "is required",
        )];
        let unary = invalid_argument(&violations);
        let message = to_message(&unary);
        assert_eq!(message.code, Code::InvalidArgument as i32);
        assert_eq!(message.message, unary.message());
        assert_eq!(message.encode_to_vec(), unary.details());
        let bad = message.get_details_bad_request().unwrap();
        assert_eq!(bad.field_violations[0].field, "history.patient.age_years");
    }

    #[test]
    fn limit_statuses_carry_their_code_reason_and_limit() {
        let limit = record_limit(7);
        let info = limit.get_details_error_info().unwrap();
        assert_eq!(info.metadata["max_records"], "7");
        assert_eq!(ending_reason(&limit), "record_limit");

        let idle = idle_timeout(Duration::from_millis(1500));
        let info = idle.get_details_error_info().unwrap();
        assert_eq!(info.metadata["idle_timeout_seconds"], "1.5");
        assert!(idle.message().contains("1.5 s"), "{}", idle.message());
        assert_eq!(ending_reason(&idle), "idle_timeout");

        assert_eq!(
            ending_reason(&Status::out_of_range("big")),
            "message_too_large"
        );
        assert_eq!(ending_reason(&Status::cancelled("gone")), "cancelled");
    }

    #[test]
    fn inbound_decode_errors_become_documented_statuses_naming_the_record() {
        let too_large = inbound_error(
            Status::out_of_range("Error, decoded message length too large"),
            4,
        );
        assert_eq!(Reason::of(&too_large), Some(Reason::RecordTooLarge));
        assert_eq!(
            too_large.get_details_error_info().unwrap().metadata["record"],
            "4"
        );
        let bad = inbound_error(
            Status::internal("failed to decode Protobuf message: invalid wire type"),
            2,
        );
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert_eq!(Reason::of(&bad), Some(Reason::UnparseableRecord));
        assert_eq!(ending_reason(&bad), "undecodable_record");
        let protocol = inbound_error(Status::internal("h2 protocol error"), 2);
        assert_eq!(protocol.code(), Code::Internal);
        assert_eq!(Reason::of(&protocol), None);
        for gone in [
            Status::unknown("error reading a body from connection"),
            Status::cancelled("h2 protocol error: stream reset"),
        ] {
            let gone = inbound_error(gone, 2);
            assert_eq!(gone.code(), Code::Cancelled);
            assert_eq!(ending_reason(&gone), "client_disconnected");
        }
    }
}
