//! The service's statuses: the gRPC table of the wire crate ([`cramp_wire::status`]) and, beside
//! it, [`HttpError`], the one mapping of HTTP failures to `OperationOutcome`s (it reads FHIR
//! types, so it cannot live in the wire crate).

mod http;

pub use cramp_wire::status::*;

pub use self::http::HttpError;

use cramp_core::FieldViolation;

use crate::{fhir::questionnaire_response::NOT_AN_ITEM, request_id};

/// Longest field path written to a log line as it is.
const MAX_LOGGED_FIELD_CHARS: usize = 128;

/// The fields of `violations` as a log line may carry them, comma-separated.
///
/// Field paths are ours (`history.patient.age_years`, `parameter[0].resource`), but a path can
/// end in something the caller chose: a linkId the Questionnaire does not have, a JSON object
/// key. Those are written as `replaced:` stand-ins (see [`request_id::replaced`]), so a log line
/// never carries a caller's string: an unknown linkId always, any other path when it is long or
/// holds characters no path of ours has.
#[must_use]
pub fn loggable_fields<'a>(violations: impl IntoIterator<Item = &'a FieldViolation>) -> String {
    violations
        .into_iter()
        .map(|v| loggable_field(&v.field, &v.description))
        .collect::<Vec<_>>()
        .join(",")
}

fn loggable_field(field: &str, description: &str) -> String {
    let ours = description != NOT_AN_ITEM
        && field.len() <= MAX_LOGGED_FIELD_CHARS
        && field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.[]#=$-".contains(&b));
    if ours {
        field.to_owned()
    } else {
        request_id::replaced(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_link_ids_and_odd_paths_are_not_logged() {
        let violations = [
            FieldViolation::new("history.patient.age_years", "is required"),
            FieldViolation::new("questionnaire_response_json.patient.name", NOT_AN_ITEM),
            FieldViolation::new("prefetch.John Smith.entry[0]", "has the wrong type"),
            FieldViolation::new("parameter[1].resource", "is required"),
        ];
        let logged = loggable_fields(&violations);
        let parts: Vec<&str> = logged.split(',').collect();
        assert_eq!(parts[0], "history.patient.age_years");
        assert!(
            parts[1].starts_with(request_id::REPLACED_PREFIX),
            "{logged}"
        );
        assert!(
            parts[2].starts_with(request_id::REPLACED_PREFIX),
            "{logged}"
        );
        assert_eq!(parts[3], "parameter[1].resource");
        assert!(
            !logged.contains("name") && !logged.contains("Smith"),
            "{logged}"
        );
    }
}
