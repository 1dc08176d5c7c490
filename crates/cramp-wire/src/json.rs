//! The proto3 JSON of an in-process answer, written straight from the core assessment: the
//! writer's primitives and the batch answer's envelope. Which fields an assessment has, in which
//! order, and what each view keeps is `contract`'s one description, which generates
//! this writer and the protobuf conversion alike.
//!
//! Byte for byte what `serde_json` writes through the generated pbjson `Serialize` impls (field
//! order, default values left out, enums by name, serde_json's string escaping); the tests
//! compare both on thousands of synthetic answers in each view. It exists because formatting
//! is a large share of a screen's cost: the generic path escapes every key and every fixed
//! enum name byte by byte and collects repeated enums into a vector first, while here keys
//! and names are copied whole and a string needing no escape is copied in one piece.

use cramp_core::Assessment;

use crate::{contract::Output as _, convert::View};

/// Writes the fields of one message: a key before each value, commas between them. The fields
/// themselves, and which to leave out, are `contract`'s.
pub(crate) struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    pub(crate) fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// `"key":`; keys are field names, which never need escaping. Inlined with one reservation:
    /// every field of every answer passes here, and at each call site the key is a literal, so
    /// the copies become fixed-size moves (out of line, this was a tenth of a FULL screen's
    /// instructions).
    #[inline(always)]
    pub(crate) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        let out = &mut *self.out;
        out.reserve(key.len() + 4);
        if !std::mem::replace(&mut self.empty, false) {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        out
    }

    /// A repeated message field, left out when empty.
    pub(crate) fn list<T>(&mut self, key: &str, items: &[T], each: impl Fn(&T, &mut Vec<u8>)) {
        if items.is_empty() {
            return;
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            each(item, out);
        }
        out.push(b']');
    }

    pub(crate) fn close(self) {
        self.out.push(b'}');
    }
}

/// The NDJSON line (without its newline) of the batch answer carrying what
/// [`crate::convert::assessment_to_pb_view`] makes of `assessment`, written from the core's
/// assessment: the same fields, each left out where the wire one would be empty (texts,
/// citations and code displays in the basic view). Core enums always have a wire name
/// (`convert`'s `enum_names_agree`), so this cannot decline.
pub fn batch_answer(record_id: &str, assessment: &Assessment, view: View, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"record_id\":");
    string(record_id, out);
    out.extend_from_slice(b",\"assessment\":");
    assessment.write_json(view, out);
    out.push(b'}');
}

/// A string known to need no escaping (an enum value name), quoted.
pub(crate) fn plain(value: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
}

/// A JSON string exactly as serde_json escapes it: `"` and `\` backslashed, the control
/// characters below U+0020 as `\b \t \n \f \r` or `\u00xx` (lower-case hex), everything
/// else (DEL and non-ASCII included) as is.
pub fn string(value: &str, out: &mut Vec<u8>) {
    let bytes = value.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // No early exit, so the check compiles to a branch-free scan over the whole string.
    let needs_escape = bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        escaped(bytes, out);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

fn escaped(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
            }
            _ => out.push(b),
        }
    }
}
