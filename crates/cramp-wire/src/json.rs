//! The proto3 JSON of an in-process answer, written straight from the core assessment.
//!
//! Byte for byte what `serde_json` writes through the generated pbjson `Serialize` impls (field
//! order, default values left out, enums by name, serde_json's string escaping); the tests
//! compare both on thousands of synthetic answers in each view. It exists because formatting
//! is a large share of a screen's cost: the generic path escapes every key and every fixed
//! enum name byte by byte and collects repeated enums into a vector first, while here keys
//! and names are copied whole and a string needing no escape is copied in one piece.

use cramp_core::Assessment;

use crate::convert::View;

/// Writes the fields of one message: a key before each value, commas between them.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// `"key":`; keys are field names, which never need escaping.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string field, left out when empty (proto3 default).
    fn text(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            string(value, self.key(key));
        }
    }

    /// A repeated message field, left out when empty.
    fn list<T>(&mut self, key: &str, items: &[T], each: impl Fn(&T, &mut Vec<u8>)) {
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

    fn close(self) {
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
    core_assessment(assessment, view, out);
    out.push(b'}');
}

/// The core's text as the view puts it on the wire: all of it, or none.
fn shown(view: View, text: &str) -> &str {
    match view {
        View::Full => text,
        View::Basic => "",
    }
}

/// A repeated field that is never empty on the wire when non-empty in the core.
fn each<T>(o: &mut Object<'_>, key: &str, items: &[T], write: impl Fn(&T, &mut Vec<u8>)) {
    o.list(key, items, write);
}

fn core_assessment(a: &cramp_core::Assessment, view: View, out: &mut Vec<u8>) {
    let cramp_core::Assessment {
        urgency,
        urgency_rationale,
        flags,
        medication_findings,
        workups,
        self_care,
        missing_information,
        possible_flags,
        unread_inputs,
        knowledge_base_version,
    } = a;
    let mut o = Object::open(out);
    plain(urgency.name(), o.key("urgency"));
    o.text("urgency_rationale", shown(view, urgency_rationale));
    each(&mut o, "flags", flags, |f, out| core_flag(f, view, out));
    each(
        &mut o,
        "medication_findings",
        medication_findings,
        |m, out| {
            core_medication(m, view, out);
        },
    );
    each(&mut o, "workups", workups, |w, out| {
        core_workup(w, view, out)
    });
    each(&mut o, "self_care", self_care, |a, out| {
        let cramp_core::SelfCareAdvice {
            code,
            text,
            evidence,
        } = *a;
        let mut o = Object::open(out);
        o.text("code", code);
        o.text("text", shown(view, text));
        o.text("evidence", shown(view, evidence));
        o.close();
    });
    each(
        &mut o,
        "missing_information",
        missing_information,
        |m, out| {
            let cramp_core::MissingInformation {
                field,
                question,
                why,
            } = *m;
            let mut o = Object::open(out);
            o.text("field", field);
            o.text("question", shown(view, question));
            o.text("why", shown(view, why));
            o.close();
        },
    );
    o.text("knowledge_base_version", knowledge_base_version);
    o.text(
        "medication_lexicon_version",
        cramp_core::kb::MEDICATION_LEXICON_VERSION,
    );
    each(&mut o, "possible_flags", possible_flags, |p, out| {
        let cramp_core::PossibleFlag { risk, settled_by } = p;
        let mut o = Object::open(out);
        core_flag(risk, view, o.key("flag"));
        o.list("settled_by", settled_by, |field, out| string(field, out));
        o.close();
    });
    each(&mut o, "unread_inputs", unread_inputs, |u, out| {
        let cramp_core::UnreadInput { item, reason } = u;
        let mut o = Object::open(out);
        o.text("item", item);
        o.text("reason", reason);
        o.close();
    });
    o.close();
}

fn core_flag(f: &cramp_core::RiskFlag, view: View, out: &mut Vec<u8>) {
    let cramp_core::RiskFlag {
        flag,
        urgency,
        title,
        rationale,
        evidence,
        rule_id,
        rule_version,
        citations,
        codings,
    } = f;
    let mut o = Object::open(out);
    plain(flag.name(), o.key("flag"));
    plain(urgency.name(), o.key("urgency"));
    o.text("title", shown(view, title));
    o.text("rationale", shown(view, rationale));
    each(&mut o, "evidence", evidence, |e, out| {
        let cramp_core::Evidence { field, value } = e;
        let mut o = Object::open(out);
        o.text("field", field);
        o.text("value", value);
        o.close();
    });
    o.text("rule_id", rule_id);
    o.text("rule_version", rule_version);
    core_citations(&mut o, view, citations);
    core_codings(&mut o, view, codings);
    o.close();
}

fn core_workup(w: &cramp_core::SuggestedWorkup, view: View, out: &mut Vec<u8>) {
    let cramp_core::SuggestedWorkup {
        workup,
        urgency,
        rationale,
        for_flags,
        codings,
    } = w;
    let mut o = Object::open(out);
    plain(workup.name(), o.key("workup"));
    plain(urgency.name(), o.key("urgency"));
    o.text("rationale", shown(view, rationale));
    each(&mut o, "for_flags", for_flags, |f, out| {
        plain(f.name(), out)
    });
    core_codings(&mut o, view, codings);
    o.close();
}

fn core_medication(m: &cramp_core::MedicationFinding, view: View, out: &mut Vec<u8>) {
    let cramp_core::MedicationFinding {
        input_name,
        ingredient,
        drug_class,
        match_kind,
        evidence_strength,
        recent,
        rationale,
        advice,
        citations,
        codings,
    } = m;
    let mut o = Object::open(out);
    o.text("input_name", input_name);
    o.text("ingredient", ingredient);
    plain(drug_class.name(), o.key("drug_class"));
    plain(match_kind.name(), o.key("match"));
    plain(evidence_strength.name(), o.key("evidence_strength"));
    if *recent {
        o.key("recent").extend_from_slice(b"true");
    }
    o.text("rationale", shown(view, rationale));
    o.text("advice", shown(view, advice));
    core_citations(&mut o, view, citations);
    core_codings(&mut o, view, codings);
    o.close();
}

/// Citations are in the full view only.
fn core_citations(o: &mut Object<'_>, view: View, citations: &[cramp_core::Citation]) {
    if view == View::Full {
        each(o, "citations", citations, |c, out| {
            let cramp_core::Citation {
                key,
                title,
                source,
                url,
            } = *c;
            let mut o = Object::open(out);
            o.text("title", title);
            o.text("source", source);
            o.text("url", url);
            o.text("key", key);
            o.close();
        });
    }
}

/// Codings in both views; the display in the full view only.
fn core_codings(o: &mut Object<'_>, view: View, codings: &[cramp_core::Coding]) {
    each(o, "codings", codings, |c, out| {
        let cramp_core::Coding {
            system,
            code,
            display,
        } = *c;
        let mut o = Object::open(out);
        o.text("system", system);
        o.text("code", code);
        o.text("display", shown(view, display));
        o.close();
    });
}

/// A string known to need no escaping (an enum value name), quoted.
fn plain(value: &str, out: &mut Vec<u8>) {
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
