//! A QuestionnaireResponse plus chart resources → one history the core accepts, ready for the
//! one assessment path.
//!
//! Both EHR doors (CDS Hooks and `$cramp-assess`) come here, so they read answers, codes and
//! units identically. The core validates the combined history; a value the chart supplied that
//! the core rejects (an implausible lab, an impossible age) is dropped and reported as not used,
//! an answer that cannot be read is left unknown, and both are named in the assessment's
//! `unread_inputs`; an answer the core rejects is the caller's error, named by its linkId. Only
//! validation runs here (it is pure): the door assesses the result once, on the path that also
//! writes the audit event and the metrics.

use cramp_core::{FieldViolation, UnreadInput};
use time::Date;

use super::{
    chart::{self, Chart, Provenance},
    model::{QuestionnaireResponse, Reference},
    questionnaire_response::{self, ResponseStatus},
    valuesets::ValueSets,
};
use crate::{convert, pb};

/// An assessment with everything the FHIR and CDS Hooks writers need to explain it: the intake
/// it was made from (reached through `Deref`, so `assessed.history` reads the intake's history).
#[derive(Clone)]
pub struct Assessed {
    /// The core assessment every door renders: the writers read its enums, not wire numbers.
    pub assessment: cramp_core::Assessment,
    /// What was assessed and where each part came from.
    pub intake: Intake,
}

impl std::ops::Deref for Assessed {
    type Target = Intake;

    fn deref(&self) -> &Intake {
        &self.intake
    }
}

impl std::fmt::Debug for Assessed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assessed")
            .field("status", &self.status)
            .field("flags", &self.assessment.flags.len())
            .finish_non_exhaustive()
    }
}

/// `a[1].b` → `a.b`.
fn without_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0_u32;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Where a questionnaire answer lives, as an evidence pointer.
fn answer_pointer(response: &QuestionnaireResponse, link_id: &str) -> String {
    match response.id.as_deref() {
        Some(id) if !id.is_empty() => format!("QuestionnaireResponse/{id}#linkId={link_id}"),
        _ => format!("QuestionnaireResponse#linkId={link_id}"),
    }
}

/// A history read from the intake and the chart, which the core accepts, with where each field
/// came from: what [`Intake::assessed`] explains an assessment with.
#[derive(Clone)]
pub struct Intake {
    /// The history to assess (questionnaire plus chart).
    pub history: pb::CrampHistory,
    /// Final or preliminary (an unfinished questionnaire).
    pub status: ResponseStatus,
    /// Where each field came from, the resources used and the chart data not used.
    pub provenance: Provenance,
    /// The patient, as the questionnaires' subject names it.
    pub subject: Option<Reference>,
    /// Answers and chart entries not read (unknown to the rules), added to the assessment.
    pub unread: Vec<UnreadInput>,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Intake {
    /// The wire request that assesses [`Intake::history`].
    #[must_use]
    pub fn request(&self) -> pb::AssessRequest {
        pb::AssessRequest {
            request_id: String::new(),
            input: Some(pb::assess_request::Input::History(self.history.clone())),
        }
    }

    /// The assessment of [`Intake::history`], with its explanation.
    #[must_use]
    pub fn assessed(self, mut assessment: cramp_core::Assessment) -> Assessed {
        assessment.unread_inputs.extend(self.unread.iter().cloned());
        Assessed {
            assessment,
            intake: self,
        }
    }

    /// The evidence pointer for a history field path (`cramps.contexts`, `medications[0].name`).
    #[must_use]
    pub fn pointer(&self, field: &str) -> Option<&str> {
        let pointers = &self.provenance.pointers;
        pointers
            .get(field)
            .or_else(|| pointers.get(&without_indexes(field)))
            .or_else(|| {
                // `medications[1].weeks_since_started` points where the medicine's name came from.
                let (medication, _) = field.split_once("].")?;
                pointers.get(&format!("{medication}].name"))
            })
            .map(String::as_str)
    }

    /// The evidence pointer of the medicine the core reported under `input_name`.
    #[must_use]
    pub fn medication_pointer(&self, input_name: &str) -> Option<&str> {
        let index = self
            .history
            .medications
            .iter()
            .position(|m| m.name == input_name)?;
        self.provenance
            .pointers
            .get(&format!("medications[{index}].name"))
            .map(String::as_str)
    }
}

/// What the doors could not read, as the assessment names it: unreadable answers by their
/// pointer (`QuestionnaireResponse/qr-1#linkId=symptoms.fever`), then the chart entries not
/// used (a unit or status the mapper does not take, a value the core rejects), by resource.
/// Their fields were left absent, so the rules saw them as unknown.
fn unread_inputs<'a>(
    answers: &'a [UnreadInput],
    chart: &'a [chart::NotUsed],
) -> impl Iterator<Item = UnreadInput> + 'a {
    answers
        .iter()
        .cloned()
        .chain(chart.iter().map(|n| UnreadInput {
            item: n.resource.clone(),
            reason: n.reason.clone(),
        }))
}

/// The answers of every response, read and merged into one history.
struct Answers {
    history: pb::CrampHistory,
    status: ResponseStatus,
    /// History field path → linkId.
    answered: std::collections::BTreeMap<String, String>,
    /// Unreadable answers, already named by their pointer.
    unread: Vec<UnreadInput>,
    subject: Option<Reference>,
}

/// Reads each response and merges their answers: at most one response per Questionnaire (the
/// patient's intake and the clinician's companion), about one patient, answering each field
/// once.
fn read_responses(
    responses: &[&QuestionnaireResponse],
    provenance: &mut Provenance,
) -> Result<Answers, Vec<FieldViolation>> {
    if responses.is_empty() {
        return Err(vec![FieldViolation::new(
            "questionnaire",
            "is required: a response to the intake Questionnaire or its clinician companion",
        )]);
    }
    let mut violations = Vec::new();
    let mut mapped = Vec::new();
    for response in responses {
        match questionnaire_response::map(response) {
            Ok(m) => mapped.push((*response, m)),
            Err(v) => violations.extend(v),
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let mut forms: Vec<_> = mapped.iter().map(|(_, m)| m.form).collect();
    forms.sort_unstable();
    forms.dedup();
    if forms.len() < mapped.len() {
        violations.push(FieldViolation::new(
            "questionnaire",
            "is answered by more than one response: send at most one response to each Questionnaire",
        ));
    }
    let subjects: Vec<&str> = mapped
        .iter()
        .filter_map(|(r, _)| r.subject.as_ref()?.reference.as_deref())
        .collect();
    if subjects.windows(2).any(|pair| pair.first() != pair.last()) {
        violations.push(FieldViolation::new(
            "subject",
            "differs between the responses: they must be about one patient",
        ));
    }
    let mut merged = serde_json::Map::new();
    let mut answers = Answers {
        history: pb::CrampHistory::default(),
        status: ResponseStatus::Final,
        answered: std::collections::BTreeMap::new(),
        unread: Vec::new(),
        subject: None,
    };
    for (response, mapped) in mapped {
        if let Ok(serde_json::Value::Object(history)) = serde_json::to_value(&mapped.history) {
            merge(&mut merged, history, "", &mut violations);
        }
        if mapped.status == ResponseStatus::Preliminary {
            answers.status = ResponseStatus::Preliminary;
        }
        for (path, link_id) in mapped.answered {
            provenance
                .pointers
                .insert(path.clone(), answer_pointer(response, &link_id));
            answers.answered.insert(path, link_id);
        }
        answers
            .unread
            .extend(mapped.unread.into_iter().map(|u| UnreadInput {
                // Where the answer is, like a chart entry's resource: the pointer names the linkId.
                item: answer_pointer(response, &u.item),
                reason: u.reason,
            }));
        provenance.basis.push(match response.id.as_deref() {
            Some(id) if !id.is_empty() => Reference::to(format!("QuestionnaireResponse/{id}")),
            _ => Reference::display("The submitted intake QuestionnaireResponse"),
        });
        if answers.subject.is_none() {
            answers.subject.clone_from(&response.subject);
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    answers.history = serde_json::from_value(serde_json::Value::Object(merged)).map_err(|_| {
        // INVARIANT: each part was read by the generated reader, and the parts share no field.
        vec![FieldViolation::new(
            "item",
            "could not be read as an intake history",
        )]
    })?;
    Ok(answers)
}

/// Adds `from` into `into`; a field both set is named (by its path, never its values).
fn merge(
    into: &mut serde_json::Map<String, serde_json::Value>,
    from: serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    violations: &mut Vec<FieldViolation>,
) {
    use serde_json::Value;
    for (key, value) in from {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (into.get_mut(&key), value) {
            (None, value) => {
                into.insert(key, value);
            }
            (Some(Value::Object(inner)), Value::Object(more)) => {
                merge(inner, more, &path, violations);
            }
            (Some(_), _) => violations.push(FieldViolation::new(
                path,
                "is answered in more than one response",
            )),
        }
    }
}

/// Reads `responses` (the patient's intake, the clinician's companion, or both) with `chart`
/// (its codes read by `sets`) as of `today` (the request date: the one date any door reads, used for age and medication
/// recency) into a history the core accepts.
///
/// # Errors
/// Violations named by linkId (or by the response element at fault) when a questionnaire
/// cannot be read or its answers are invalid.
pub fn read(
    responses: &[&QuestionnaireResponse],
    chart: &Chart,
    sets: &ValueSets,
    extra_medications: &[(pb::Medication, String)],
    today: Date,
) -> Result<Intake, Vec<FieldViolation>> {
    let mut provenance = Provenance::default();
    let mapped = read_responses(responses, &mut provenance)?;
    let mut history = mapped.history.clone();
    // Orders being placed (order-select) come first, so a chart copy of the same drug is
    // recognised as a duplicate; their pointer is the draft order.
    for (medication, pointer) in extra_medications {
        // An order named only by a code no configured value set holds is unknown, and said so.
        if let Some(reason) = chart::unresolved(medication) {
            provenance.not_used.push(chart::NotUsed {
                resource: pointer.clone(),
                reason,
            });
            continue;
        }
        let index = history.medications.len();
        history.medications.push(medication.clone());
        provenance
            .pointers
            .insert(format!("medications[{index}].name"), pointer.clone());
    }
    chart::apply(&mut history, chart, sets, today, &mut provenance);

    // At most one retry per chart-filled field the core can reject (age and eleven labs).
    for _ in 0..=chart::LABS.len() + 1 {
        let (core, unknown_enums) = convert::history_from_pb(history.clone());
        let violations = match cramp_core::validate(core, unknown_enums) {
            Ok(_) => {
                let unread = unread_inputs(&mapped.unread, &provenance.not_used).collect();
                return Ok(Intake {
                    unread,
                    history,
                    status: mapped.status,
                    provenance,
                    subject: mapped.subject,
                });
            }
            Err(err) => err.violations().to_vec(),
        };
        let mut from_answers = Vec::new();
        let mut dropped = false;
        for violation in violations {
            let field = violation
                .field
                .strip_prefix("history.")
                .unwrap_or(&violation.field)
                .to_owned();
            let from_chart = provenance
                .pointers
                .get(&field)
                .filter(|p| !p.starts_with("QuestionnaireResponse"))
                .cloned();
            match from_chart {
                Some(resource) if chart::clear(&mut history, &field) => {
                    provenance.pointers.remove(&field);
                    provenance.not_used.push(chart::NotUsed {
                        resource,
                        reason: format!("`{field}` {}", violation.description),
                    });
                    dropped = true;
                }
                _ => {
                    let link_id = mapped
                        .answered
                        .get(&field)
                        .cloned()
                        .unwrap_or_else(|| without_indexes(&field));
                    from_answers.push(FieldViolation::new(link_id, violation.description));
                }
            }
        }
        if !from_answers.is_empty() {
            return Err(from_answers);
        }
        if !dropped {
            break;
        }
    }
    Err(vec![FieldViolation::new("item", "could not be assessed")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_dropped_for_link_ids() {
        assert_eq!(without_indexes("medications[12].name"), "medications.name");
        assert_eq!(without_indexes("cramps.locations[0]"), "cramps.locations");
    }
}
