//! Request ids and other client-chosen names: how long an id may be, and how any of them may
//! appear in a log line.
//!
//! A leaf module because the assessor (which rejects a long id), the audit trail and the doors'
//! log spans all need the same rules, and none of them may import the others for them.

use std::{fmt::Write as _, sync::OnceLock};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Longest `request_id` accepted, in characters (intake.md: strings over 200 are rejected).
pub const MAX_REQUEST_ID_CHARS: usize = 200;

/// Longest client-chosen id written to a log line as it is. UUIDs (36), ULIDs and the usual
/// `system:id` forms fit; anything longer is replaced.
pub const MAX_LOGGED_ID_CHARS: usize = 64;

/// Prefix of a replacement: the id was not logged, this stands for it.
pub const REPLACED_PREFIX: &str = "replaced:";

/// The request id (or hook instance, card id) as it may appear in a log line: itself when it is
/// at most [`MAX_LOGGED_ID_CHARS`] characters of a safe set (ASCII letters, digits and
/// `-_.:@/+=~`), otherwise a generated stand-in, `replaced:` and 16 hex digits.
///
/// A client chooses these strings. Written as they are, a long or odd one could carry patient
/// data, forge log fields or explode a log index; a bounded charset keeps every logged id an id.
/// The stand-in is an HMAC under a key drawn when the process starts: the same id gives the same
/// stand-in in every line of this process (the request log and the audit event still match),
/// while nobody can test a guess against it.
///
/// Borrowed when the id is safe as it is, which is the case for every well-behaved client on
/// every call: this runs in every assessment's log line and audit event.
#[must_use]
pub fn loggable_id(request_id: &str) -> std::borrow::Cow<'_, str> {
    if is_safe_id(request_id) {
        std::borrow::Cow::Borrowed(request_id)
    } else {
        std::borrow::Cow::Owned(replaced(request_id))
    }
}

/// Whether `id` may be logged as it is.
#[must_use]
pub fn is_safe_id(id: &str) -> bool {
    id.len() <= MAX_LOGGED_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@/+=~".contains(&b))
}

/// The stand-in for a client-chosen string that is not logged: `replaced:` and the first 8
/// bytes of its HMAC-SHA256 under this process's key, in hex.
#[must_use]
pub fn replaced(text: &str) -> String {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key = [0; 32];
        let (a, b) = key.split_at_mut(16);
        a.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        b.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key
    });
    let mut out = String::from(REPLACED_PREFIX);
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        mac.update(text.as_bytes());
        for byte in mac.finalize().into_bytes().iter().take(8) {
            let _ = write!(out, "{byte:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ids_are_logged_as_they_are_and_others_replaced_consistently() {
        for safe in [
            "p01",
            "example-claudication",
            "0b8e4a52-7f1e-4bd4-9a43-6f1c2d9a9e11",
            "urn:uuid:1234",
            "",
        ] {
            assert_eq!(loggable_id(safe), safe);
        }
        for unsafe_id in [
            "a\nb",
            "John Smith 1950-01-01",
            &"z".repeat(MAX_LOGGED_ID_CHARS + 1),
            "é",
            "x\"y",
        ] {
            let logged = loggable_id(unsafe_id);
            assert!(logged.starts_with(REPLACED_PREFIX), "{logged}");
            assert_eq!(logged.len(), REPLACED_PREFIX.len() + 16);
            assert_eq!(logged, loggable_id(unsafe_id), "stable within the process");
        }
        assert_ne!(loggable_id("a b"), loggable_id("a c"));
    }
}
