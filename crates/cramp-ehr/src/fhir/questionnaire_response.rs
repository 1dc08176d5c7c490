//! QuestionnaireResponse → `CrampHistory`, through the linkId table.
//!
//! The walk is recursive over `item` and `answer.item`, so a response whose groups nest their
//! items, or list them flat, or nests follow-ups under answers, reads the same. Each answer's
//! value type is checked against its item. An answer that cannot be read (a wrong type, an
//! unknown code or a foreign code system) leaves its field absent, so the core treats it as
//! unknown and never as "no" (clinical-reference.md g.1), and is listed as unread so the
//! clinician knows it was not used; the rest of the response is still assessed. Only structural
//! faults (an unknown linkId, a second answer to a single-answer item) and unreadable answers to a
//! required item stay the caller's error. Either way the linkId is named, never the value.
//! Answers become the history's proto3 JSON form, which the generated serde impls read, so the
//! mapping cannot disagree with the gRPC door about what a field means.

use std::collections::BTreeMap;

use cramp_core::{FieldViolation, UnreadInput};
use serde_json::{Map, Number, Value};

use super::{
    is_ours,
    link_ids::{self, Answer, Form, MEDICATIONS},
    model::{QrAnswer, QrItem, QuestionnaireResponse},
};
use crate::pb;

/// The major version of the Questionnaire this release reads.
pub const MAJOR_VERSION: &str = "1";

/// How final an assessment of this response is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseStatus {
    /// `completed` or `amended`.
    Final,
    /// `in-progress` or `stopped`: the answers so far.
    Preliminary,
}

/// A response read into a history.
#[derive(Clone)]
pub struct MappedResponse {
    /// The Questionnaire it answers.
    pub form: Form,
    /// The answers as a wire history.
    pub history: pb::CrampHistory,
    /// Completed or not.
    pub status: ResponseStatus,
    /// For every answered history field path (`medications[1].name`), the linkId that gave it.
    pub answered: BTreeMap<String, String>,
    /// Answers that could not be read, by linkId: their fields are absent (unknown).
    pub unread: Vec<UnreadInput>,
}

impl std::fmt::Debug for MappedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The history is patient data; the count of answers is not.
        f.debug_struct("MappedResponse")
            .field("status", &self.status)
            .field("answered", &self.answered.len())
            .field("unread", &self.unread.len())
            .finish_non_exhaustive()
    }
}

/// Reads a QuestionnaireResponse given as JSON text (the gRPC `questionnaire_response_json`):
/// the history and the answers that could not be read.
///
/// # Errors
/// The violation of an item whose linkId the Questionnaire does not have: that linkId is the
/// caller's own string, so logs leave it out (see `crate::status::loggable_fields`).
pub const NOT_AN_ITEM: &str = "is not an item of the cramp-cds intake Questionnaire";

/// The violation of an item that the other of the two Questionnaires asks.
pub const OTHER_FORM: &str = "is an item of the other cramp-cds intake Questionnaire (the patient's cramp-intake or the clinician's cramp-intake-clinician), not of the one this response answers";

/// Violations naming JSON paths (unparseable JSON) or linkIds (bad answers).
pub fn history_from_json(
    json: &str,
) -> Result<(pb::CrampHistory, Vec<UnreadInput>), Vec<FieldViolation>> {
    let response: QuestionnaireResponse = super::from_json(json.as_bytes())
        .map_err(|err| vec![FieldViolation::new(err.path.clone(), err.description())])?;
    map(&response).map(|mapped| (mapped.history, mapped.unread))
}

/// Maps a response onto a wire history.
///
/// # Errors
/// Every problem found: the resource type, the Questionnaire canonical, the status, and each
/// item (by linkId) whose answers do not fit the Questionnaire.
pub fn map(response: &QuestionnaireResponse) -> Result<MappedResponse, Vec<FieldViolation>> {
    let mut mapper = Mapper::default();
    if response.resource_type.as_deref() != Some("QuestionnaireResponse") {
        mapper.fail("resourceType", "must be QuestionnaireResponse");
    }
    let canonical = response.questionnaire.as_deref();
    let form = canonical.and_then(form_answered);
    match (canonical, form) {
        (None, _) => mapper.fail("questionnaire", "is required: the canonical of the cramp-cds intake Questionnaire"),
        (Some(_), None) => mapper.fail(
            "questionnaire",
            "names a Questionnaire this service does not know (expected the cramp-cds intake Questionnaire or its clinician companion, major version 1)",
        ),
        (Some(_), Some(_)) => {}
    }
    let form = form.unwrap_or(Form::Patient);
    // Before 1.1 one Questionnaire asked everything: a response to it (or one that names no
    // version) may answer the clinician's items too.
    mapper.form = form;
    mapper.single_form = form == Form::Patient && canonical.is_some_and(is_single_form_version);
    let status = match response.status.as_deref() {
        Some("completed" | "amended") => Some(ResponseStatus::Final),
        Some("in-progress" | "stopped") => Some(ResponseStatus::Preliminary),
        Some("entered-in-error") => {
            mapper.fail(
                "status",
                "is entered-in-error: the response must not be used",
            );
            None
        }
        _ => {
            mapper.fail(
                "status",
                "must be completed, amended, in-progress or stopped",
            );
            None
        }
    };
    mapper.walk(&response.item, None);

    let Mapper {
        root,
        medications,
        answered,
        unread,
        violations,
        ..
    } = mapper;
    let Some(status) = status.filter(|_| violations.is_empty()) else {
        return Err(violations);
    };
    let mut root = root;
    if !medications.is_empty() {
        root.insert(
            MEDICATIONS.to_owned(),
            Value::Array(medications.into_iter().map(Value::Object).collect()),
        );
    }
    let history: pb::CrampHistory = serde_json::from_value(Value::Object(root)).map_err(|_| {
        // INVARIANT: every value was type-checked against the table, which a test proves agrees
        // with the proto, so the generated reader accepts it.
        vec![FieldViolation::new(
            "item",
            "could not be read as an intake history",
        )]
    })?;
    Ok(MappedResponse {
        form,
        history,
        status,
        answered,
        unread,
    })
}

/// Which of our Questionnaires `canonical` (`url` or `url|version`) names, at a major version we
/// read. The base URL is deployment configuration, and a stored response outlives a host move,
/// so the path identifies the Questionnaire, not the host.
#[must_use]
pub fn form_answered(canonical: &str) -> Option<Form> {
    let (url, version) = match canonical.split_once('|') {
        Some((url, version)) => (url, Some(version)),
        None => (canonical, None),
    };
    if version.is_some_and(|v| v.split('.').next() != Some(MAJOR_VERSION)) {
        return None;
    }
    Form::ALL.into_iter().find(|form| is_ours(url, form.path()))
}

/// Whether `canonical` names our patient intake Questionnaire at a major version we read.
#[must_use]
pub fn answers_our_questionnaire(canonical: &str) -> bool {
    form_answered(canonical).is_some()
}

/// A canonical without a version, or with a 1.0 one: the single Questionnaire before the split.
fn is_single_form_version(canonical: &str) -> bool {
    canonical
        .split_once('|')
        .is_none_or(|(_, version)| version == "1.0" || version.starts_with("1.0."))
}

/// The strict check of the HTTP doors, which know their deployment: `canonical` is this
/// deployment's Questionnaire of `form` (`{base_url}/fhir/Questionnaire/cramp-intake`, or
/// `.../cramp-intake-clinician`, exactly) with a version of the major version read (`|1.x.y`).
/// A look-alike on another host, or a response that does not say which version it answers, is
/// not ours.
#[must_use]
pub fn answers_our_questionnaire_at(canonical: &str, base_url: &str, form: Form) -> bool {
    canonical.split_once('|').is_some_and(|(url, version)| {
        url == super::questionnaire::canonical_of(form, base_url)
            && version.split('.').next() == Some(MAJOR_VERSION)
            && version.split('.').all(|part| part.parse::<u32>().is_ok())
    })
}

/// Which of this deployment's Questionnaires `canonical` strictly names (see
/// [`answers_our_questionnaire_at`]).
#[must_use]
pub fn form_at(canonical: &str, base_url: &str) -> Option<Form> {
    Form::ALL
        .into_iter()
        .find(|form| answers_our_questionnaire_at(canonical, base_url, *form))
}

/// Where the walk is: at the history root or inside one medication group.
#[derive(Default)]
struct Mapper {
    /// The Questionnaire the response answers: only its items are read.
    form: Form,
    /// A 1.0 response, whose one Questionnaire asked the clinician's items too.
    single_form: bool,
    /// The history in proto3 JSON, minus medications.
    root: Map<String, Value>,
    /// One object per `medications` group instance.
    medications: Vec<Map<String, Value>>,
    /// History field path → linkId.
    answered: BTreeMap<String, String>,
    /// Answers left unknown because they could not be read.
    unread: Vec<UnreadInput>,
    violations: Vec<FieldViolation>,
}

impl Mapper {
    fn fail(&mut self, field: &str, description: &str) {
        self.violations
            .push(FieldViolation::new(field, description));
    }

    fn walk(&mut self, items: &[QrItem], medication: Option<usize>) {
        for item in items {
            self.item(item, medication);
        }
    }

    fn item(&mut self, item: &QrItem, medication: Option<usize>) {
        let Some(link_id) = item.link_id.as_deref() else {
            self.fail("item.linkId", "is required on every item");
            return;
        };
        match link_ids::form_of(link_id) {
            None => {
                self.fail(link_id, NOT_AN_ITEM);
                return;
            }
            Some(form) if form != self.form && !self.single_form => {
                self.fail(link_id, OTHER_FORM);
                return;
            }
            Some(_) => {}
        }
        if link_id == MEDICATIONS {
            if medication.is_some() {
                self.fail(link_id, "a medications group cannot sit inside another");
                return;
            }
            let index = self.medications.len();
            self.medications.push(Map::new());
            self.children(item, link_id, Some(index));
            return;
        }
        if link_ids::is_group(link_id) {
            self.children(item, link_id, medication);
            return;
        }
        let Some(definition) = link_ids::item(link_id) else {
            self.fail(link_id, NOT_AN_ITEM);
            return;
        };
        let field = link_id.strip_prefix("medications.");
        let path = match (field, medication) {
            (Some(field), Some(index)) => format!("medications[{index}].{field}"),
            (Some(_), None) => {
                self.fail(link_id, "must be answered inside a medications group");
                return;
            }
            (None, _) => link_id.to_owned(),
        };
        match read_answers(definition.answer, &item.answer) {
            // A required answer cannot be left unknown: the assessment needs it.
            Err(Problem::Unreadable(reason)) if !definition.required => {
                if !self.unread.iter().any(|u| u.item == link_id) {
                    self.unread.push(UnreadInput {
                        item: link_id.to_owned(),
                        reason: format!("{reason}; treated as unknown"),
                    });
                }
            }
            Err(Problem::Unreadable(problem) | Problem::Invalid(problem)) => {
                self.fail(link_id, problem);
            }
            Ok(None) => {}
            Ok(Some(value)) => {
                let target = match (field, medication) {
                    (Some(_), Some(index)) => self.medications.get_mut(index),
                    _ => Some(&mut self.root),
                };
                let inserted = target.is_some_and(|t| insert(t, field.unwrap_or(link_id), value));
                if inserted {
                    self.answered.insert(path, link_id.to_owned());
                } else {
                    self.fail(link_id, "is answered more than once");
                }
            }
        }
        // Follow-up questions may nest under an answer or under the item.
        self.walk(&item.item, medication);
        for answer in &item.answer {
            self.walk(&answer.item, medication);
        }
    }

    /// A group's children, under the item or under its answers; a group has no value itself.
    fn children(&mut self, item: &QrItem, link_id: &str, medication: Option<usize>) {
        if item.answer.iter().any(has_value) {
            self.fail(link_id, "is a group and takes no answer value");
        }
        self.walk(&item.item, medication);
        for answer in &item.answer {
            self.walk(&answer.item, medication);
        }
    }
}

/// Sets `object[a][b]...` for the dotted `path`; false when the field is already set.
fn insert(object: &mut Map<String, Value>, path: &str, value: Value) -> bool {
    let mut parts = path.split('.').peekable();
    let mut current = object;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            if current.contains_key(part) {
                return false;
            }
            current.insert(part.to_owned(), value);
            return true;
        }
        let next = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(next) = next else {
            return false;
        };
        current = next;
    }
    false
}

fn has_value(answer: &QrAnswer) -> bool {
    present_values(answer).next().is_some()
}

/// The `value[x]` elements present on an answer, by name.
fn present_values(answer: &QrAnswer) -> impl Iterator<Item = (&'static str, &Value)> {
    [
        ("valueBoolean", &answer.value_boolean),
        ("valueInteger", &answer.value_integer),
        ("valueDecimal", &answer.value_decimal),
        ("valueString", &answer.value_string),
        ("valueCoding", &answer.value_coding),
        ("valueDate", &answer.value_date),
        ("valueDateTime", &answer.value_date_time),
        ("valueTime", &answer.value_time),
        ("valueUri", &answer.value_uri),
        ("valueAttachment", &answer.value_attachment),
        ("valueQuantity", &answer.value_quantity),
        ("valueReference", &answer.value_reference),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| (name, v)))
}

/// Why an item's answers were not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    /// The answer cannot be read as this item's type or options: the item is unknown.
    Unreadable(&'static str),
    /// The response is malformed or the value is out of range: the caller's error.
    Invalid(&'static str),
}

/// The item's answers as one proto3 JSON value; `None` when unanswered.
///
/// One unreadable answer makes the whole item unknown: a multiple-choice list read without it
/// would look complete, and an option missing from it could be read as "no".
fn read_answers(kind: Answer, answers: &[QrAnswer]) -> Result<Option<Value>, Problem> {
    let mut values = Vec::new();
    for answer in answers {
        let mut present = present_values(answer);
        let Some((name, value)) = present.next() else {
            continue;
        };
        if present.next().is_some() {
            return Err(Problem::Unreadable(
                "an answer has more than one value, so which one was meant is unknown",
            ));
        }
        values.push(read_value(kind, name, value)?);
    }
    match (kind, values.len()) {
        (_, 0) => Ok(None),
        (Answer::MultiChoice(_), _) => Ok(Some(Value::Array(values))),
        (_, 1) => Ok(values.pop()),
        _ => Err(Problem::Invalid("takes one answer but has several")),
    }
}

/// The reason an answer of another type is unreadable, naming the type the item takes.
const fn wrong_type(kind: Answer) -> Problem {
    Problem::Unreadable(match kind {
        Answer::Boolean => "the answer is not a yes/no (valueBoolean) answer",
        Answer::Integer => "the answer is not a whole number (valueInteger)",
        Answer::Decimal => "the answer is not a number (valueDecimal)",
        Answer::String => "the answer is not text (valueString)",
        Answer::Choice(_) | Answer::MultiChoice(_) => {
            "the answer is not a coded answer (valueCoding with a code)"
        }
    })
}

fn read_value(kind: Answer, name: &str, value: &Value) -> Result<Value, Problem> {
    let wrong = wrong_type(kind);
    match (kind, name) {
        (Answer::Boolean, "valueBoolean") => value.as_bool().map(Value::Bool).ok_or(wrong),
        (Answer::Integer, "valueInteger") => {
            let number = value.as_i64().ok_or(wrong)?;
            u32::try_from(number)
                .map(|n| Value::Number(n.into()))
                .map_err(|_| Problem::Invalid("must be a whole number from 0 to 4294967295"))
        }
        (Answer::Decimal, "valueDecimal") => value
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or(wrong),
        (Answer::String, "valueString") => value
            .as_str()
            .map(|s| Value::String(s.to_owned()))
            .ok_or(wrong),
        (Answer::Choice(names) | Answer::MultiChoice(names), "valueCoding") => {
            let code = value.get("code").and_then(Value::as_str).ok_or(wrong)?;
            let system = value.get("system").and_then(Value::as_str);
            if system.is_some_and(|s| !is_ours(s, super::CODE_SYSTEM_PATH)) {
                return Err(Problem::Unreadable(
                    "the answer is coded in a code system other than the Questionnaire's own",
                ));
            }
            if names().contains(&code) {
                Ok(Value::String(code.to_owned()))
            } else {
                Err(Problem::Unreadable(
                    "the answer's code is not one of this item's answer options",
                ))
            }
        }
        _ => Err(wrong),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn response(items: Value) -> QuestionnaireResponse {
        serde_json::from_value(json!({
            "resourceType": "QuestionnaireResponse",
            "id": "qr-1",
            "questionnaire": "https://cds.example.org/fhir/Questionnaire/cramp-intake|1.0.0",
            "status": "completed",
            "item": items,
        }))
        .unwrap()
    }

    fn fields(result: Result<MappedResponse, Vec<FieldViolation>>) -> Vec<String> {
        result.err().unwrap().into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn flat_nested_and_answer_nested_items_read_the_same() {
        let flat = response(json!([
            {"linkId": "patient.age_years", "answer": [{"valueInteger": 68}]},
            {"linkId": "cramps.contexts", "answer": [
                {"valueCoding": {"system": "https://x.org/fhir/CodeSystem/cramp-intake", "code": "CONTEXT_WALKING"}},
                {"valueCoding": {"code": "CONTEXT_NIGHT"}}]},
            {"linkId": "medications", "item": [
                {"linkId": "medications.name", "answer": [{"valueString": "HCTZ 25 mg"}]},
                {"linkId": "medications.weeks_since_started", "answer": [{"valueInteger": 3}]}]},
            {"linkId": "medications", "item": [
                {"linkId": "medications.name", "answer": [{"valueString": "atorvastatin"}]}]},
            {"linkId": "findings.labs.potassium_mmol_l", "answer": [{"valueDecimal": 3.1}]}
        ]));
        let nested = response(json!([
            {"linkId": "patient", "item": [{"linkId": "patient.age_years", "answer": [{"valueInteger": 68}]}]},
            {"linkId": "cramps", "item": [{"linkId": "cramps.contexts", "answer": [
                {"valueCoding": {"code": "CONTEXT_WALKING"}, "item": []},
                {"valueCoding": {"code": "CONTEXT_NIGHT"}}]}]},
            {"linkId": "medications", "item": [
                {"linkId": "medications.name", "answer": [{"valueString": "HCTZ 25 mg",
                    "item": [{"linkId": "medications.weeks_since_started", "answer": [{"valueInteger": 3}]}]}]}]},
            {"linkId": "medications", "item": [
                {"linkId": "medications.name", "answer": [{"valueString": "atorvastatin"}]}]},
            {"linkId": "findings", "item": [{"linkId": "findings.labs", "item": [
                {"linkId": "findings.labs.potassium_mmol_l", "answer": [{"valueDecimal": 3.1}]}]}]}
        ]));
        let a = map(&flat).unwrap();
        let b = map(&nested).unwrap();
        assert_eq!(a.history, b.history);
        assert_eq!(a.answered, b.answered);
        assert_eq!(a.status, ResponseStatus::Final);
        let h = a.history;
        assert_eq!(h.patient.unwrap().age_years, Some(68));
        assert_eq!(
            h.cramps.unwrap().contexts,
            [pb::Context::Walking as i32, pb::Context::Night as i32]
        );
        assert_eq!(h.medications.len(), 2);
        assert_eq!(h.medications[0].weeks_since_started, Some(3));
        assert_eq!(
            h.findings.unwrap().labs.unwrap().potassium_mmol_l,
            Some(3.1)
        );
        assert_eq!(a.answered["medications[1].name"], "medications.name");
    }

    #[test]
    fn bad_answers_are_named_by_link_id_only() {
        let bad = response(json!([
            {"linkId": "patient.age_years", "answer": [{"valueString": "sixty-eight zzqx"}]},
            {"linkId": "cramps.severity", "answer": [{"valueInteger": -4}]},
            {"linkId": "cramps.relief_on_standing_still", "answer": [{"valueCoding": {"code": "RELIEF_SOMETIMES"}}]},
            {"linkId": "cramps.wakes_from_sleep", "answer": [{"valueBoolean": true}, {"valueBoolean": false}]},
            {"linkId": "cramps.made_up", "answer": [{"valueBoolean": true}]},
            {"linkId": "medications.name", "answer": [{"valueString": "x"}]},
            {"linkId": "symptoms.fever", "answer": [{"valueBoolean": true}]},
            {"linkId": "symptoms.fever", "answer": [{"valueBoolean": true}]}
        ]));
        let violations = map(&bad).err().unwrap();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "patient.age_years",
                "cramps.severity",
                "cramps.wakes_from_sleep",
                "cramps.made_up",
                "medications.name",
                "symptoms.fever"
            ]
        );
        assert!(violations.iter().all(|v| !v.description.contains("zzqx")));
    }

    #[test]
    fn unreadable_answers_are_unknown_and_named_while_the_rest_is_read() {
        let r = response(json!([
            {"linkId": "patient.age_years", "answer": [{"valueInteger": 70}]},
            {"linkId": "symptoms.fever", "answer": [{"valueString": "zzqx-no"}]},
            {"linkId": "symptoms.calf_tenderness", "answer": [{"valueBoolean": true}]},
            {"linkId": "symptoms.leg_swelling", "answer": [{"valueCoding": {"code": "SWELLING_ZZQX"}}]},
            {"linkId": "cramps.contexts", "answer": [
                {"valueCoding": {"code": "CONTEXT_WALKING"}},
                {"valueCoding": {"system": "http://snomed.info/sct", "code": "CONTEXT_NIGHT"}}]},
            {"linkId": "cramps.sudden_onset", "answer": [{"valueBoolean": true, "valueString": "zzqx"}]},
            {"linkId": "findings.labs.potassium_mmol_l", "answer": [{"valueString": "zzqx"}]},
            {"linkId": "medications", "item": [
                {"linkId": "medications.name", "answer": [{"valueString": "atorvastatin"}]},
                {"linkId": "medications.weeks_since_started", "answer": [{"valueDecimal": 2.5}]}]}
        ]));
        let mapped = map(&r).unwrap();
        let unread: Vec<&str> = mapped.unread.iter().map(|u| u.item.as_str()).collect();
        assert_eq!(
            unread,
            [
                "symptoms.fever",
                "symptoms.leg_swelling",
                "cramps.contexts",
                "cramps.sudden_onset",
                "findings.labs.potassium_mmol_l",
                "medications.weeks_since_started"
            ]
        );
        assert!(
            mapped
                .unread
                .iter()
                .all(|u| !u.reason.contains("zzqx") && u.reason.ends_with("treated as unknown"))
        );
        let h = mapped.history;
        let symptoms = h.symptoms.unwrap();
        // Unknown, never "no": the fields stay absent.
        assert_eq!(symptoms.fever, None);
        assert_eq!(symptoms.leg_swelling, pb::Swelling::Unspecified as i32);
        assert_eq!(symptoms.calf_tenderness, Some(true));
        let cramps = h.cramps.unwrap_or_default();
        assert!(cramps.contexts.is_empty(), "a partly read list is not read");
        assert_eq!(cramps.sudden_onset, None);
        assert_eq!(
            h.findings
                .and_then(|f| f.labs)
                .and_then(|l| l.potassium_mmol_l),
            None
        );
        assert_eq!(h.medications[0].name, "atorvastatin");
        assert_eq!(h.medications[0].weeks_since_started, None);
        assert_eq!(h.patient.unwrap().age_years, Some(70));
        assert!(!mapped.answered.contains_key("symptoms.fever"));
    }

    #[test]
    fn an_unreadable_required_answer_stays_an_error() {
        let r = response(json!([
            {"linkId": "patient.age_years", "answer": [{"valueString": "zzqx"}]},
            {"linkId": "symptoms.fever", "answer": [{"valueString": "zzqx"}]}
        ]));
        let violations = map(&r).err().unwrap();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "patient.age_years");
        assert!(!violations[0].description.contains("zzqx"));
    }

    #[test]
    fn canonical_status_and_type_are_checked() {
        let mut r = response(json!([]));
        r.questionnaire = Some("https://cds.example.org/fhir/Questionnaire/phq-9".into());
        r.status = Some("entered-in-error".into());
        r.resource_type = Some("Questionnaire".into());
        assert_eq!(fields(map(&r)), ["resourceType", "questionnaire", "status"]);
        r = response(json!([]));
        r.questionnaire =
            Some("https://cds.example.org/fhir/Questionnaire/cramp-intake|2.0.0".into());
        assert_eq!(fields(map(&r)), ["questionnaire"]);
        r.questionnaire = Some("http://localhost:8080/fhir/Questionnaire/cramp-intake".into());
        r.status = Some("in-progress".into());
        assert_eq!(map(&r).unwrap().status, ResponseStatus::Preliminary);
    }

    #[test]
    fn each_response_reads_only_its_own_questionnaires_items() {
        let findings = json!([
            {"linkId": "findings", "item": [
                {"linkId": "findings.foot_pulses", "answer": [{"valueCoding": {"code": "PULSES_ABSENT"}}]},
                {"linkId": "findings.labs", "item": [
                    {"linkId": "findings.labs.potassium_mmol_l", "answer": [{"valueDecimal": 3.1}]}]}]}
        ]);
        // 1.1: the patient's form no longer asks for examination or labs.
        let mut r = response(findings.clone());
        r.questionnaire =
            Some("https://cds.example.org/fhir/Questionnaire/cramp-intake|1.1.0".into());
        assert_eq!(fields(map(&r)), ["findings"]);
        // The clinician's companion does.
        r.questionnaire =
            Some("https://cds.example.org/fhir/Questionnaire/cramp-intake-clinician|1.1.0".into());
        let mapped = map(&r).unwrap();
        assert_eq!(mapped.form, Form::Clinician);
        let f = mapped.history.findings.unwrap();
        assert_eq!(f.labs.unwrap().potassium_mmol_l, Some(3.1));
        assert_eq!(f.foot_pulses, pb::Pulses::Absent as i32);
        // And nothing else.
        let mut r = response(json!([
            {"linkId": "patient.age_years", "answer": [{"valueInteger": 70}]},
            {"linkId": "medications", "item": [
                {"linkId": "medications.name", "answer": [{"valueString": "atorvastatin"}]}]}
        ]));
        r.questionnaire =
            Some("https://cds.example.org/fhir/Questionnaire/cramp-intake-clinician|1.1.0".into());
        assert_eq!(fields(map(&r)), ["patient.age_years", "medications"]);
        // A 1.0 response (one form then) still reads everything it answered.
        let r = response(findings);
        assert_eq!(map(&r).unwrap().form, Form::Patient);
        assert_eq!(
            form_answered("https://x.org/fhir/Questionnaire/cramp-intake-clinician"),
            Some(Form::Clinician)
        );
        assert_eq!(
            form_at(
                "https://cds.example.org/fhir/Questionnaire/cramp-intake-clinician|1.1.0",
                "https://cds.example.org/"
            ),
            Some(Form::Clinician)
        );
        assert_eq!(
            form_at(
                "https://evil.example.org/fhir/Questionnaire/cramp-intake-clinician|1.1.0",
                "https://cds.example.org"
            ),
            None
        );
    }

    #[test]
    fn json_text_errors_name_the_json_path() {
        let err = history_from_json(r#"{"resourceType": "QuestionnaireResponse", "item": 5}"#)
            .err()
            .unwrap();
        assert_eq!(err[0].field, "item");
    }
}
