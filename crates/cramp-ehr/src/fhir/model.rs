//! Hand-written FHIR R4 JSON types for the subset the service reads and writes.
//!
//! Generated FHIR crates are tens of megabytes, young, or R4B/R5 only (integration.md §3), and we
//! touch a dozen elements. So: inputs tolerate unknown elements and `extension`s (no
//! `deny_unknown_fields`), choice types are spelled out as the `value[x]` names we accept, and
//! every output field that can be empty is skipped, because FHIR forbids `null`, `""`, `[]` and
//! `{}`. Values a client may send with the wrong JSON type (answers) are read as raw JSON so the
//! mapper can name the item at fault instead of failing the whole parse.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `Coding`: a code from a code system.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    /// Code system URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Code system version (the ruleset version for `RiskAssessment.method`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// A coding with system, code and display (no version).
    #[must_use]
    pub fn new(system: &str, code: &str, display: &str) -> Self {
        Self {
            system: Some(system.to_owned()),
            version: None,
            code: Some(code.to_owned()),
            display: non_empty(display),
        }
    }
}

/// `CodeableConcept`: codings and/or text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codes for the concept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// A concept that is text only.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            coding: Vec::new(),
            text: Some(text.into()),
        }
    }

    /// Whether any coding has this system and one of these codes.
    #[must_use]
    pub fn has_code(&self, system: &str, codes: &[&str]) -> bool {
        self.coding.iter().any(|c| {
            c.system.as_deref() == Some(system)
                && c.code.as_deref().is_some_and(|k| codes.contains(&k))
        })
    }
}

/// `Reference`: a literal reference and/or a display.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// `Type/id`, a `urn:uuid:` or a `#contained` reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Text for the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    /// A literal reference.
    #[must_use]
    pub fn to(reference: impl Into<String>) -> Self {
        Self {
            reference: Some(reference.into()),
            display: None,
        }
    }

    /// A reference that is a display only (the target has no id we can point at).
    #[must_use]
    pub fn display(display: impl Into<String>) -> Self {
        Self {
            reference: None,
            display: Some(display.into()),
        }
    }
}

/// `Quantity`, as an Observation carries it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity {
    /// The number; raw JSON so that a string is "not a number" rather than a parse failure.
    #[serde(default)]
    pub value: Option<Value>,
    /// `<`, `<=`, `>=`, `>`: a bound, not a value.
    #[serde(default)]
    pub comparator: Option<String>,
    /// The unit as printed.
    #[serde(default)]
    pub unit: Option<String>,
    /// The unit's code system (UCUM: `http://unitsofmeasure.org`).
    #[serde(default)]
    pub system: Option<String>,
    /// The unit's code.
    #[serde(default)]
    pub code: Option<String>,
}

/// `Period`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// Start date(time).
    #[serde(default)]
    pub start: Option<String>,
}

/// `QuestionnaireResponse` (read).
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponse {
    /// Must be `QuestionnaireResponse`.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Logical id, for evidence pointers.
    #[serde(default)]
    pub id: Option<String>,
    /// Canonical of the Questionnaire answered (`url|version`).
    #[serde(default)]
    pub questionnaire: Option<String>,
    /// `completed`, `amended`, `in-progress`, `stopped`, `entered-in-error`.
    #[serde(default)]
    pub status: Option<String>,
    /// The patient.
    #[serde(default)]
    pub subject: Option<Reference>,
    /// When it was answered; picks the latest of several.
    #[serde(default)]
    pub authored: Option<String>,
    /// Top-level items.
    #[serde(default)]
    pub item: Vec<QrItem>,
}

/// An item of a QuestionnaireResponse: a group or a question.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrItem {
    /// The Questionnaire item answered; the only key the mapper reads.
    #[serde(default)]
    pub link_id: Option<String>,
    /// Answers.
    #[serde(default)]
    pub answer: Vec<QrAnswer>,
    /// Nested items (groups).
    #[serde(default)]
    pub item: Vec<QrItem>,
}

/// One answer. Every `value[x]` R4 allows is listed as raw JSON, so the mapper can check the
/// value type against the item type and name the item when they disagree.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "one field per FHIR value[x] name, documented by the spec"
)]
pub struct QrAnswer {
    #[serde(default)]
    pub value_boolean: Option<Value>,
    #[serde(default)]
    pub value_integer: Option<Value>,
    #[serde(default)]
    pub value_decimal: Option<Value>,
    #[serde(default)]
    pub value_string: Option<Value>,
    #[serde(default)]
    pub value_coding: Option<Value>,
    #[serde(default)]
    pub value_date: Option<Value>,
    #[serde(default)]
    pub value_date_time: Option<Value>,
    #[serde(default)]
    pub value_time: Option<Value>,
    #[serde(default)]
    pub value_uri: Option<Value>,
    #[serde(default)]
    pub value_attachment: Option<Value>,
    #[serde(default)]
    pub value_quantity: Option<Value>,
    #[serde(default)]
    pub value_reference: Option<Value>,
    /// Follow-up items nested under this answer.
    #[serde(default)]
    pub item: Vec<QrItem>,
}

/// `Patient` (read): only what the rules may use. Names and identifiers are never read.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// Logical id.
    #[serde(default)]
    pub id: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; the age is computed from it against the request time.
    #[serde(default)]
    pub birth_date: Option<String>,
}

/// `Condition` (read).
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Logical id.
    #[serde(default)]
    pub id: Option<String>,
    /// active, recurrence, relapse, inactive, remission, resolved.
    #[serde(default)]
    pub clinical_status: Option<CodeableConcept>,
    /// confirmed, refuted, entered-in-error, ...
    #[serde(default)]
    pub verification_status: Option<CodeableConcept>,
    /// SNOMED CT or ICD-10-CM.
    #[serde(default)]
    pub code: Option<CodeableConcept>,
}

/// `Observation` (read): a lab value by LOINC.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Logical id.
    #[serde(default)]
    pub id: Option<String>,
    /// final, amended, corrected are used; anything else is not.
    #[serde(default)]
    pub status: Option<String>,
    /// LOINC.
    #[serde(default)]
    pub code: Option<CodeableConcept>,
    /// The value with its unit.
    #[serde(default)]
    pub value_quantity: Option<Quantity>,
    /// When the value was measured: a chart value is shown with its date, and the newest wins.
    #[serde(default)]
    pub effective_date_time: Option<String>,
    /// When the result was released, the date shown when `effectiveDateTime` is absent.
    #[serde(default)]
    pub issued: Option<String>,
}

/// `MedicationRequest` and `MedicationStatement` (read): the fields both share, plus the start.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedicationUse {
    /// `MedicationRequest` or `MedicationStatement`.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Logical id.
    #[serde(default)]
    pub id: Option<String>,
    /// Request: active, draft, ...; statement: active, intended, completed, ...
    #[serde(default)]
    pub status: Option<String>,
    /// The drug as a concept (RxNorm codings and/or text).
    #[serde(default)]
    pub medication_codeable_concept: Option<CodeableConcept>,
    /// The drug as a reference to a `Medication`.
    #[serde(default)]
    pub medication_reference: Option<Reference>,
    /// Contained resources (a contained `Medication`).
    #[serde(default)]
    pub contained: Vec<Value>,
    /// Request: when it was written.
    #[serde(default)]
    pub authored_on: Option<String>,
    /// Statement: when it was taken.
    #[serde(default)]
    pub effective_date_time: Option<String>,
    /// Statement: the period it was taken.
    #[serde(default)]
    pub effective_period: Option<Period>,
}

/// `Medication` (read): to resolve a `medicationReference`.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Medication {
    /// Logical id.
    #[serde(default)]
    pub id: Option<String>,
    /// The drug.
    #[serde(default)]
    pub code: Option<CodeableConcept>,
}

/// `OperationOutcome`: the body of every error answer. Details are generic and never carry
/// submitted values; `expression` names the element (a JSON path or a linkId).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: String,
    /// One per problem.
    pub issue: Vec<Issue>,
}

/// One problem of an [`OperationOutcome`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// `error` for everything the service reports.
    pub severity: String,
    /// FHIR issue type: `invalid`, `required`, `structure`, `not-found`, `not-supported`, ...
    pub code: String,
    /// What is wrong, in words that never repeat a submitted value.
    pub details: CodeableConcept,
    /// Where: a JSON path, a linkId, or both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

/// `Debug` that names the type and nothing else: these hold patient data.
macro_rules! redacted_debug {
    ($($name:ident),+ $(,)?) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )+};
}
pub(crate) use redacted_debug;

redacted_debug!(
    QuestionnaireResponse,
    QrItem,
    QrAnswer,
    Patient,
    Condition,
    Observation,
    MedicationUse,
    Medication,
);

/// Returns `None` for an empty string, so outputs never carry `""`.
#[must_use]
pub fn non_empty(text: &str) -> Option<String> {
    (!text.trim().is_empty()).then(|| text.to_owned())
}
