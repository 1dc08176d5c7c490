//! The published intake Questionnaires (FHIR R4), generated from [`super::link_ids`]: the
//! patient-facing `cramp-intake` and the clinician's `cramp-intake-clinician`.
//!
//! Generated, not hand-written, so the Questionnaire a form fills and the mapper that reads the
//! answers cannot drift apart. The copies committed under `fhir/` ([`committed_path`]) are this
//! generator's output for the default base URL; a test in the service (`http::fhir`, beside
//! the settings that default lives in) keeps them equal (run it with `UPDATE_FHIR=1` to
//! rewrite the files after changing the table).

use serde::Serialize;

use super::{
    CODE_SYSTEM_PATH, QUESTIONNAIRE_VERSION,
    chart::{LOINC, lab_for_field},
    link_ids::{Answer, Form, Group, Item, When},
    model::Coding,
};

/// Where the committed copy of the patient intake lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "fhir/Questionnaire-cramp-intake.json";

/// Where the committed copy of `form` lives, relative to the repository root.
#[must_use]
pub fn committed_path(form: Form) -> String {
    format!("fhir/Questionnaire-{}.json", form.id())
}

/// The standard R4 extension that keeps an item out of the rendered form.
const HIDDEN: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden";

/// `Questionnaire` (written).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    resource_type: &'static str,
    id: &'static str,
    url: String,
    version: &'static str,
    name: &'static str,
    title: &'static str,
    status: &'static str,
    subject_type: Vec<&'static str>,
    description: &'static str,
    item: Vec<QuestionnaireItem>,
}

/// `Questionnaire.item`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct QuestionnaireItem {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
    link_id: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code: Vec<Coding>,
    text: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    enable_when: Vec<EnableWhen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_behavior: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repeats: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    answer_option: Vec<AnswerOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    item: Vec<QuestionnaireItem>,
}

/// `Extension` with a boolean value.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    url: &'static str,
    value_boolean: bool,
}

/// `Questionnaire.item.enableWhen`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EnableWhen {
    question: &'static str,
    operator: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer_coding: Option<Coding>,
}

/// `Questionnaire.item.answerOption`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AnswerOption {
    value_coding: Coding,
}

/// The canonical URL of the patient intake Questionnaire served under `base_url`.
#[must_use]
pub fn canonical(base_url: &str) -> String {
    canonical_of(Form::Patient, base_url)
}

/// The canonical URL of `form` served under `base_url`.
#[must_use]
pub fn canonical_of(form: Form, base_url: &str) -> String {
    format!("{}/fhir{}", base_url.trim_end_matches('/'), form.path())
}

/// The patient intake Questionnaire as served under `base_url`.
#[must_use]
pub fn questionnaire(base_url: &str) -> Questionnaire {
    questionnaire_of(Form::Patient, base_url)
}

/// The Questionnaire of `form` as served under `base_url`.
#[must_use]
pub fn questionnaire_of(form: Form, base_url: &str) -> Questionnaire {
    let code_system = format!("{}/fhir{CODE_SYSTEM_PATH}", base_url.trim_end_matches('/'));
    let (name, title, description) = match form {
        Form::Patient => (
            "CrampIntake",
            "Leg and foot cramp intake",
            "The patient's leg-cramp history that cramp-cds assesses: only questions a patient can answer (examination findings and laboratory results are in the companion Questionnaire cramp-intake-clinician). Each item's linkId is the intake field path; choice answers are codes of the Questionnaire's own CodeSystem named after the intake enum values. Unanswered items mean 'not asked', never 'no'. No names, record numbers or dates of birth are asked.",
        ),
        Form::Clinician => (
            "CrampIntakeClinician",
            "Leg and foot cramp intake: examination and laboratory results (clinician)",
            "The clinician's part of the leg-cramp intake that cramp-cds assesses: examination findings and laboratory results, in the unit each item names. It companions the patient's Questionnaire cramp-intake (same version); $cramp-assess reads a response to either or both. Unanswered items mean 'not examined' or 'not measured', never normal.",
        ),
    };
    Questionnaire {
        resource_type: "Questionnaire",
        id: form.id(),
        url: canonical_of(form, base_url),
        version: QUESTIONNAIRE_VERSION,
        name,
        title,
        status: "active",
        subject_type: vec!["Patient"],
        description,
        item: form
            .top_groups()
            .iter()
            .map(|g| group(g, &code_system))
            .collect(),
    }
}

fn group(group: &Group, code_system: &str) -> QuestionnaireItem {
    let mut items: Vec<QuestionnaireItem> = group
        .items
        .iter()
        .map(|i| question(i, code_system))
        .collect();
    items.extend(group.groups.iter().map(|g| self::group(g, code_system)));
    QuestionnaireItem {
        extension: Vec::new(),
        link_id: group.link_id,
        code: Vec::new(),
        text: group.text,
        kind: "group",
        enable_when: Vec::new(),
        enable_behavior: None,
        required: None,
        repeats: group.repeats.then_some(true),
        answer_option: Vec::new(),
        item: items,
    }
}

fn question(item: &Item, code_system: &str) -> QuestionnaireItem {
    let (kind, options, repeats) = match item.answer {
        Answer::Boolean => ("boolean", Vec::new(), false),
        Answer::Integer => ("integer", Vec::new(), false),
        Answer::Decimal => ("decimal", Vec::new(), false),
        Answer::String => ("string", Vec::new(), false),
        Answer::Choice(names) => ("choice", names(), false),
        Answer::MultiChoice(names) => ("choice", names(), true),
    };
    let enable_when: Vec<EnableWhen> = item
        .enable_when
        .iter()
        .map(|w| match *w {
            When::Is(question, value) => EnableWhen {
                question,
                operator: "=",
                answer_boolean: Some(value),
                answer_coding: None,
            },
            When::Coded(question, code) | When::NotCoded(question, code) => EnableWhen {
                question,
                operator: if matches!(w, When::Coded(..)) {
                    "="
                } else {
                    "!="
                },
                answer_boolean: None,
                answer_coding: Some(Coding::new(code_system, code, &display(code))),
            },
        })
        .collect();
    let code = lab_for_field(item.link_id)
        .and_then(|lab| lab.codes.first())
        .map(|(code, display)| Coding::new(LOINC, code, display))
        .into_iter()
        .collect();
    QuestionnaireItem {
        extension: if item.hidden {
            vec![Extension {
                url: HIDDEN,
                value_boolean: true,
            }]
        } else {
            Vec::new()
        },
        link_id: item.link_id,
        code,
        text: item.text,
        kind,
        enable_behavior: (enable_when.len() > 1).then_some("any"),
        enable_when,
        required: item.required.then_some(true),
        repeats: repeats.then_some(true),
        answer_option: options
            .into_iter()
            .map(|code| AnswerOption {
                value_coding: Coding::new(code_system, code, &display(code)),
            })
            .collect(),
        item: Vec::new(),
    }
}

/// A readable display for an enum value name: the enum prefix dropped, sentence case
/// (`RELIEF_WITHIN_10_MINUTES` → "Within 10 minutes").
#[must_use]
pub fn display(code: &str) -> String {
    let prefix_end = ENUM_PREFIXES
        .iter()
        .find(|p| code.starts_with(*p))
        .map_or(0, |p| p.len());
    let words = code
        .get(prefix_end..)
        .unwrap_or(code)
        .replace('_', " ")
        .to_lowercase();
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The value-name prefix of every intake enum (longest first where one contains another).
const ENUM_PREFIXES: &[&str] = &[
    "SEX_",
    "LOCATION_",
    "LATERALITY_",
    "CONTEXT_",
    "RELIEF_",
    "SWELLING_",
    "URINE_COLOR_",
    "DIABETES_",
    "SMOKING_",
    "THYROID_",
    "CKD_STAGE_",
    "ACTIVITY_LEVEL_",
    "PULSES_",
    "SENSATION_",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::link_ids;

    #[test]
    fn displays_read_as_words() {
        assert_eq!(display("RELIEF_WITHIN_10_MINUTES"), "Within 10 minutes");
        assert_eq!(display("CKD_STAGE_G3A"), "G3a");
        assert_eq!(display("URINE_COLOR_COLA"), "Cola");
    }

    #[test]
    fn every_enum_value_has_a_known_prefix() {
        for item in link_ids::items() {
            if let Answer::Choice(names) | Answer::MultiChoice(names) = item.answer {
                for name in names() {
                    assert!(ENUM_PREFIXES.iter().any(|p| name.starts_with(p)), "{name}");
                }
            }
        }
    }
}
