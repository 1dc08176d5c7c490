//! The output contract: every field of an assessment on the wire, described once.
//!
//! Two encodings leave the service: the generated protobuf messages (gRPC, the batch stream, and
//! through pbjson the `assess` command) and the proto3 JSON written straight from the core for
//! in-process `screen` ([`crate::json`]), which skips building messages because that is a large
//! share of a screen's cost. Both are generated here from one table per message, by
//! [`output_contract!`], so they cannot disagree about a field, its name, its order or what the
//! BASIC view drops:
//!
//! - each message lists the core type's fields exhaustively (`let { .. }`) and the wire fields
//!   in proto order, each with its kind; the generated protobuf builder is a struct literal, so a
//!   field added to the core type or to the proto fails the build here until it is described;
//! - the kind says how a field is encoded and what each view keeps ([`View`]): `text` (human
//!   readable prose, FULL view only), `string`, `enumeration`, `enumerations`, `boolean`,
//!   `strings`, `message`, `messages` and `full_messages` (FULL view only).
//!
//! The JSON is what `serde_json` writes through the pbjson impls: original proto field names,
//! fields in proto order, defaults (empty strings and lists, `false`) left out, enums by name.
//! `screen`'s tests compare both encodings byte for byte on thousands of answers in each view.

use crate::{
    convert::{View, WireEnum},
    json::{Object, plain, string},
    pb,
};

/// A core output type and the wire message it becomes, in both encodings.
pub(crate) trait Output {
    /// The generated message.
    type Wire;

    /// The protobuf message in `view`.
    fn to_pb(&self, view: View) -> Self::Wire;

    /// The proto3 JSON object of [`Output::to_pb`]'s message, appended to `out`.
    fn write_json(&self, view: View, out: &mut Vec<u8>);
}

impl View {
    /// Whether human-readable prose (texts, citations, code displays) goes on the wire: the one
    /// rule of the BASIC view, which keeps every code and id and none of the fixed prose.
    const fn shows_text(self) -> bool {
        matches!(self, Self::Full)
    }

    /// `text` as the view puts it on the wire: all of it, or none.
    fn text(self, text: &str) -> &str {
        if self.shows_text() { text } else { "" }
    }
}

/// The proto3 JSON name of a field: its proto name (`r#match` is the Rust spelling of `match`).
const fn json_name(field: &'static str) -> &'static str {
    match field.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(name) => name,
            Err(_) => field,
        },
        _ => field,
    }
}

/// How each kind of field is encoded, once for protobuf (`pb`) and once for JSON (`json`). The
/// JSON side leaves out what proto3 JSON leaves out: empty strings and lists, `false`.
mod kind {
    use super::{Object, Output, View, WireEnum, plain, string};

    /// Prose: in the FULL view only.
    pub(super) mod text {
        use super::{Object, View, string};

        pub(crate) fn pb(value: impl AsRef<str>, view: View) -> String {
            view.text(value.as_ref()).to_owned()
        }

        #[inline(always)]
        pub(crate) fn json(o: &mut Object<'_>, key: &str, value: impl AsRef<str>, view: View) {
            let value = view.text(value.as_ref());
            if !value.is_empty() {
                string(value, o.key(key));
            }
        }
    }

    /// A code, id or version: in every view.
    pub(super) mod string {
        use super::{Object, View};

        pub(crate) fn pb(value: impl AsRef<str>, _: View) -> String {
            value.as_ref().to_owned()
        }

        #[inline(always)]
        pub(crate) fn json(o: &mut Object<'_>, key: &str, value: impl AsRef<str>, _: View) {
            let value = value.as_ref();
            if !value.is_empty() {
                super::string(value, o.key(key));
            }
        }
    }

    /// A core enum, by number on protobuf and by name in JSON. Core values never map to
    /// UNSPECIFIED (`convert`'s `enum_names_agree`), so the JSON always carries the field.
    pub(super) mod enumeration {
        use super::{Object, View, WireEnum, plain};

        pub(crate) fn pb<E: WireEnum>(value: &E, _: View) -> i32 {
            value.to_number()
        }

        #[inline(always)]
        pub(crate) fn json<E: WireEnum>(o: &mut Object<'_>, key: &str, value: &E, _: View) {
            plain(value.name(), o.key(key));
        }
    }

    /// A repeated core enum.
    pub(super) mod enumerations {
        use super::{Object, View, WireEnum, plain};

        pub(crate) fn pb<E: WireEnum>(values: impl AsRef<[E]>, _: View) -> Vec<i32> {
            values.as_ref().iter().map(|v| v.to_number()).collect()
        }

        #[inline(always)]
        pub(crate) fn json<E: WireEnum>(
            o: &mut Object<'_>,
            key: &str,
            values: impl AsRef<[E]>,
            _: View,
        ) {
            o.list(key, values.as_ref(), |v, out| plain(v.name(), out));
        }
    }

    /// A repeated code or id.
    pub(super) mod strings {
        use super::{Object, View, string};

        pub(crate) fn pb<S: AsRef<str>>(values: impl AsRef<[S]>, _: View) -> Vec<String> {
            values
                .as_ref()
                .iter()
                .map(|v| v.as_ref().to_owned())
                .collect()
        }

        #[inline(always)]
        pub(crate) fn json<S: AsRef<str>>(
            o: &mut Object<'_>,
            key: &str,
            values: impl AsRef<[S]>,
            _: View,
        ) {
            o.list(key, values.as_ref(), |v, out| string(v.as_ref(), out));
        }
    }

    /// A flag.
    pub(super) mod boolean {
        use super::{Object, View};

        pub(crate) fn pb(value: &bool, _: View) -> bool {
            *value
        }

        #[inline(always)]
        pub(crate) fn json(o: &mut Object<'_>, key: &str, value: &bool, _: View) {
            if *value {
                o.key(key).extend_from_slice(b"true");
            }
        }
    }

    /// A sub-message, always present.
    pub(super) mod message {
        use super::{Object, Output, View};

        pub(crate) fn pb<T: Output>(value: &T, view: View) -> Option<T::Wire> {
            Some(value.to_pb(view))
        }

        #[inline(always)]
        pub(crate) fn json<T: Output>(o: &mut Object<'_>, key: &str, value: &T, view: View) {
            value.write_json(view, o.key(key));
        }
    }

    /// Repeated sub-messages.
    pub(super) mod messages {
        use super::{Object, Output, View};

        pub(crate) fn pb<T: Output>(values: impl AsRef<[T]>, view: View) -> Vec<T::Wire> {
            values.as_ref().iter().map(|v| v.to_pb(view)).collect()
        }

        #[inline(always)]
        pub(crate) fn json<T: Output>(
            o: &mut Object<'_>,
            key: &str,
            values: impl AsRef<[T]>,
            view: View,
        ) {
            o.list(key, values.as_ref(), |v, out| v.write_json(view, out));
        }
    }

    /// Repeated sub-messages that are prose as a whole (citations): in the FULL view only.
    pub(super) mod full_messages {
        use super::{Object, Output, View};

        pub(crate) fn pb<T: Output>(values: impl AsRef<[T]>, view: View) -> Vec<T::Wire> {
            if view.shows_text() {
                super::messages::pb(values, view)
            } else {
                Vec::new()
            }
        }

        #[inline(always)]
        pub(crate) fn json<T: Output>(
            o: &mut Object<'_>,
            key: &str,
            values: impl AsRef<[T]>,
            view: View,
        ) {
            if view.shows_text() {
                super::messages::json(o, key, values, view);
            }
        }
    }
}

/// Describes one output message: the core type (destructured exhaustively by `let`), the
/// generated message, and its fields in proto order, each `wire_name: kind(value)`. Generates
/// [`Output`] for the core type: the protobuf struct literal and the JSON writer.
macro_rules! output_contract {
    ($(
        $core:ty => $wire:ident {
            let { $($bind:ident),+ $(,)? };
            $($field:ident : $kind:ident ( $value:expr )),+ $(,)?
        }
    )+) => {$(
        impl Output for $core {
            type Wire = pb::$wire;

            fn to_pb(&self, view: View) -> pb::$wire {
                let Self { $($bind),+ } = self;
                pb::$wire { $($field: kind::$kind::pb($value, view)),+ }
            }

            fn write_json(&self, view: View, out: &mut Vec<u8>) {
                let Self { $($bind),+ } = self;
                let mut o = Object::open(out);
                $({
                    const KEY: &str = json_name(stringify!($field));
                    kind::$kind::json(&mut o, KEY, $value, view);
                })+
                o.close();
            }
        }
    )+};
}

output_contract! {
    cramp_core::Assessment => Assessment {
        let {
            urgency, urgency_rationale, flags, medication_findings, workups, self_care,
            missing_information, possible_flags, unread_inputs, knowledge_base_version,
        };
        urgency: enumeration(urgency),
        urgency_rationale: text(urgency_rationale),
        flags: messages(flags),
        medication_findings: messages(medication_findings),
        workups: messages(workups),
        self_care: messages(self_care),
        missing_information: messages(missing_information),
        knowledge_base_version: string(knowledge_base_version),
        // The lexicon is compiled in beside the rules, so this build's lexicon produced it.
        medication_lexicon_version: string(cramp_core::kb::MEDICATION_LEXICON_VERSION),
        possible_flags: messages(possible_flags),
        // Kept in both views: they say what the assessment did not use.
        unread_inputs: messages(unread_inputs),
    }

    cramp_core::RiskFlag => RiskFlag {
        let { flag, urgency, title, rationale, evidence, rule_id, rule_version, citations, codings };
        flag: enumeration(flag),
        urgency: enumeration(urgency),
        title: text(title),
        rationale: text(rationale),
        evidence: messages(evidence),
        rule_id: string(rule_id),
        rule_version: string(rule_version),
        citations: full_messages(citations),
        codings: messages(codings),
    }

    cramp_core::Evidence => Evidence {
        let { field, value };
        field: string(field),
        value: string(value),
    }

    cramp_core::SuggestedWorkup => SuggestedWorkup {
        let { workup, urgency, rationale, for_flags, codings };
        workup: enumeration(workup),
        urgency: enumeration(urgency),
        rationale: text(rationale),
        for_flags: enumerations(for_flags),
        codings: messages(codings),
    }

    cramp_core::MedicationFinding => MedicationFinding {
        let {
            input_name, ingredient, drug_class, match_kind, evidence_strength, recent, rationale,
            advice, citations, codings,
        };
        input_name: string(input_name),
        ingredient: string(ingredient),
        drug_class: enumeration(drug_class),
        r#match: enumeration(match_kind),
        evidence_strength: enumeration(evidence_strength),
        recent: boolean(recent),
        rationale: text(rationale),
        advice: text(advice),
        citations: full_messages(citations),
        codings: messages(codings),
    }

    cramp_core::SelfCareAdvice => SelfCareAdvice {
        let { code, text, evidence };
        code: string(code),
        text: text(text),
        evidence: text(evidence),
    }

    cramp_core::MissingInformation => MissingInformation {
        let { field, question, why };
        field: string(field),
        question: text(question),
        why: text(why),
    }

    cramp_core::PossibleFlag => PossibleRiskFlag {
        let { risk, settled_by };
        flag: message(risk),
        settled_by: strings(settled_by),
    }

    cramp_core::UnreadInput => UnreadInput {
        let { item, reason };
        item: string(item),
        reason: string(reason),
    }

    cramp_core::Citation => Citation {
        let { key, title, source, url };
        title: string(title),
        source: string(source),
        url: string(url),
        key: string(key),
    }

    // The BASIC view keeps each system and code and leaves out the display, the code system's
    // fixed text for that code.
    cramp_core::Coding => Coding {
        let { system, code, display };
        system: string(system),
        code: string(code),
        display: text(display),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_proto_names() {
        assert_eq!(json_name("r#match"), "match");
        assert_eq!(json_name("rule_id"), "rule_id");
    }
}
