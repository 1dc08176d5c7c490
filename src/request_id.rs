//! Request ids: how long one may be, and how one may appear in a log line.
//!
//! A leaf module because the assessor (which rejects a long id), the audit trail and the doors'
//! log spans all need the same bound, and none of them may import the others for it.

/// Longest `request_id` accepted, in characters (intake.md: strings over 200 are rejected).
pub const MAX_REQUEST_ID_CHARS: usize = 200;

/// The request id as it may appear in a log line: at most [`MAX_REQUEST_ID_CHARS`] characters,
/// control characters replaced, so an oversized or hostile id cannot flood or forge log lines.
#[must_use]
pub fn loggable_id(request_id: &str) -> String {
    request_id
        .chars()
        .take(MAX_REQUEST_ID_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loggable_ids_are_bounded_and_single_line() {
        assert_eq!(loggable_id("a\nb"), "a\u{fffd}b");
        assert_eq!(
            loggable_id(&"z".repeat(500)).chars().count(),
            MAX_REQUEST_ID_CHARS
        );
    }
}
