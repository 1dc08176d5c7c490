//! The assessment as FHIR: a `collection` Bundle of one RiskAssessment, draft/proposal
//! ServiceRequests for coded workups and DetectedIssues for medication culprits.
//!
//! The RiskAssessment carries a qualitative risk and a rationale per flag, never a probability:
//! rules give no calibrated numbers (integration.md §4.5). `basis` lists every resource the
//! answers came from, and `method` names the knowledge base and its version, so a clinician can
//! review the basis of each flag. ServiceRequests are the CDS Hooks suggestions' resources too.

use cramp_core::{Flag, Urgency, Workup};
use serde::Serialize;

use super::{
    chart::LOINC,
    intake::Assessed,
    model::{CodeableConcept, Coding, Reference},
    questionnaire::display,
    questionnaire_response::ResponseStatus,
};
use crate::pb;

/// HL7's risk-probability code system (`qualitativeRisk`).
pub const RISK_PROBABILITY: &str = "http://terminology.hl7.org/CodeSystem/risk-probability";
/// CPT.
pub const CPT: &str = "http://www.ama-assn.org/go/cpt";

/// `Annotation` (text only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Markdown text.
    pub text: String,
}

/// `ServiceRequest` (written): always `draft` / `proposal`, advice from decision support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRequest {
    resource_type: &'static str,
    status: &'static str,
    intent: &'static str,
    priority: &'static str,
    code: CodeableConcept,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    authored_on: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reason_code: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reason_reference: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
}

/// `RiskAssessment.prediction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Prediction {
    outcome: CodeableConcept,
    qualitative_risk: CodeableConcept,
    rationale: String,
}

/// `RiskAssessment` (written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct RiskAssessment {
    resource_type: &'static str,
    status: &'static str,
    method: CodeableConcept,
    code: CodeableConcept,
    subject: Reference,
    occurrence_date_time: String,
    basis: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    prediction: Vec<Prediction>,
    mitigation: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
}

/// `DetectedIssue.mitigation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct Mitigation {
    action: CodeableConcept,
}

/// `DetectedIssue` (written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct DetectedIssue {
    resource_type: &'static str,
    status: &'static str,
    code: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    patient: Option<Reference>,
    identified_date_time: String,
    implicated: Vec<Reference>,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    mitigation: Vec<Mitigation>,
}

/// A Bundle entry's resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
enum Resource {
    RiskAssessment(Box<RiskAssessment>),
    ServiceRequest(Box<ServiceRequest>),
    DetectedIssue(Box<DetectedIssue>),
}

/// `Bundle.entry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    full_url: String,
    resource: Resource,
}

/// `Bundle` (written): `collection`, `urn:uuid:` full URLs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    resource_type: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    entry: Vec<Entry>,
}

/// The core's value for a wire enum number.
#[must_use]
pub fn urgency_of(number: i32) -> Urgency {
    pb::Urgency::try_from(number)
        .ok()
        .and_then(|u| Urgency::from_name(u.as_str_name()))
        // An assessment always names an urgency; self-care is the floor if it ever did not.
        .unwrap_or(Urgency::SelfCare)
}

/// The core flag for a wire number.
#[must_use]
pub fn flag_of(number: i32) -> Option<Flag> {
    pb::Flag::try_from(number)
        .ok()
        .and_then(|f| Flag::from_name(f.as_str_name()))
}

/// The core workup for a wire number.
#[must_use]
pub fn workup_of(number: i32) -> Option<Workup> {
    pb::Workup::try_from(number)
        .ok()
        .and_then(|w| Workup::from_name(w.as_str_name()))
}

/// "Ankle brachial index" for `WORKUP_ANKLE_BRACHIAL_INDEX`.
#[must_use]
pub fn workup_display(workup: Workup) -> String {
    display(workup.name().trim_start_matches("WORKUP_"))
}

/// The orderable codings of a workup: LOINC for labs, CPT for procedures. Workups without one
/// (referrals, reviews, emergency care, examinations) are advice, not orders.
#[must_use]
pub fn orderable_codings(workup: &pb::SuggestedWorkup) -> Vec<Coding> {
    workup
        .codings
        .iter()
        .filter(|c| c.system == LOINC || c.system == CPT)
        .map(|c| Coding::new(&c.system, &c.code, &c.display))
        .collect()
}

/// `qualitativeRisk` for an urgency: how likely it is that the pattern needs care, in HL7's
/// risk-probability terms (an emergency pattern is a high likelihood of needing care now).
#[must_use]
pub fn qualitative_risk(urgency: Urgency) -> Coding {
    let (code, display) = match urgency {
        Urgency::Emergency | Urgency::Urgent => ("high", "High likelihood"),
        Urgency::Soon => ("moderate", "Moderate likelihood"),
        Urgency::Routine => ("low", "Low likelihood"),
        Urgency::SelfCare => ("negligible", "Negligible likelihood"),
    };
    Coding::new(RISK_PROBABILITY, code, display)
}

/// FHIR `request-priority` for an urgency.
const fn priority(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Emergency => "stat",
        Urgency::Urgent => "urgent",
        Urgency::Soon | Urgency::Routine | Urgency::SelfCare => "routine",
    }
}

/// A draft/proposal ServiceRequest for `workup`, or `None` when it has no orderable code.
#[must_use]
pub fn service_request(
    workup: &pb::SuggestedWorkup,
    subject: Reference,
    reason: Option<Reference>,
    reason_text: String,
    authored_on: Option<String>,
) -> Option<ServiceRequest> {
    let codings = orderable_codings(workup);
    let kind = workup_of(workup.workup)?;
    if codings.is_empty() {
        return None;
    }
    Some(ServiceRequest {
        resource_type: "ServiceRequest",
        status: "draft",
        intent: "proposal",
        priority: priority(urgency_of(workup.urgency)),
        code: CodeableConcept {
            coding: codings,
            text: Some(workup_display(kind)),
        },
        subject,
        authored_on,
        reason_code: vec![CodeableConcept::text(reason_text)],
        reason_reference: reason.into_iter().collect(),
        note: super::model::non_empty(&workup.rationale)
            .map(|text| Annotation { text })
            .into_iter()
            .collect(),
    })
}

/// The names of the flags that asked for `workup`, for a human-readable reason.
#[must_use]
pub fn workup_reason(assessment: &pb::Assessment, workup: &pb::SuggestedWorkup) -> String {
    let titles: Vec<String> = assessment
        .flags
        .iter()
        .filter(|f| workup.for_flags.contains(&f.flag))
        .map(|f| format!("{} ({} {})", f.title, f.rule_id, f.rule_version))
        .collect();
    if titles.is_empty() {
        "Suggested by the cramp-cds leg-cramp screen".to_owned()
    } else {
        format!("cramp-cds leg-cramp screen: {}", titles.join("; "))
    }
}

/// Everything the Bundle needs besides the assessment.
#[derive(Clone, Copy)]
#[expect(missing_debug_implementations, reason = "holds a closure")]
pub struct BundleContext<'a> {
    /// `{base_url}/fhir`, for our code systems.
    pub fhir_base: &'a str,
    /// The request time (RFC 3339).
    pub now: &'a str,
    /// Generates `urn:uuid:` ids (random in service, fixed in tests).
    pub uuid: &'a dyn Fn() -> String,
}

/// The Bundle for one assessment.
#[must_use]
pub fn bundle(assessed: &Assessed, context: &BundleContext<'_>) -> Bundle {
    let assessment = &assessed.assessment;
    let subject = assessed
        .subject
        .clone()
        .unwrap_or_else(|| Reference::display("The subject of the intake QuestionnaireResponse"));
    let patient = subject
        .reference
        .as_deref()
        .filter(|r| r.starts_with("Patient/"))
        .map(|_| subject.clone());
    let risk_url = format!("urn:uuid:{}", (context.uuid)());
    let flag_system = format!("{}/CodeSystem/cramp-flag", context.fhir_base);

    let mut note: Vec<Annotation> = assessment
        .missing_information
        .iter()
        .map(|m| Annotation {
            text: format!("Would sharpen this assessment: {} ({})", m.question, m.why),
        })
        .collect();
    note.extend(assessed.provenance.not_used.iter().map(|n| Annotation {
        text: format!("Not used: {}: {}", n.resource, n.reason),
    }));
    let risk = RiskAssessment {
        resource_type: "RiskAssessment",
        status: match assessed.status {
            ResponseStatus::Final => "final",
            ResponseStatus::Preliminary => "preliminary",
        },
        method: CodeableConcept {
            coding: vec![Coding {
                system: Some(format!("{}/CodeSystem/cramp-ruleset", context.fhir_base)),
                version: Some(assessment.knowledge_base_version.clone()),
                code: Some("cramp-cds-rules".into()),
                display: Some("cramp-cds leg-cramp rules".into()),
            }],
            text: Some(format!(
                "cramp-cds leg-cramp rules, knowledge base {}",
                assessment.knowledge_base_version
            )),
        },
        code: CodeableConcept::text("Leg and foot cramp risk screen"),
        subject: subject.clone(),
        occurrence_date_time: context.now.to_owned(),
        basis: assessed.provenance.basis.clone(),
        prediction: assessment
            .flags
            .iter()
            .map(|f| {
                let name = flag_of(f.flag).map_or("FLAG_UNSPECIFIED", Flag::name);
                Prediction {
                    outcome: CodeableConcept {
                        coding: vec![Coding::new(&flag_system, name, &f.title)],
                        text: Some(f.title.clone()),
                    },
                    qualitative_risk: CodeableConcept {
                        coding: vec![qualitative_risk(urgency_of(f.urgency))],
                        text: None,
                    },
                    rationale: format!("{} (rule {} {})", f.rationale, f.rule_id, f.rule_version),
                }
            })
            .collect(),
        mitigation: assessment.urgency_rationale.clone(),
        note,
    };
    let mut entry = vec![Entry {
        full_url: risk_url.clone(),
        resource: Resource::RiskAssessment(Box::new(risk)),
    }];
    for workup in &assessment.workups {
        if let Some(request) = service_request(
            workup,
            subject.clone(),
            Some(Reference::to(risk_url.clone())),
            workup_reason(assessment, workup),
            Some(context.now.to_owned()),
        ) {
            entry.push(Entry {
                full_url: format!("urn:uuid:{}", (context.uuid)()),
                resource: Resource::ServiceRequest(Box::new(request)),
            });
        }
    }
    for finding in &assessment.medication_findings {
        let implicated = assessed
            .medication_pointer(&finding.input_name)
            .filter(|p| p.contains('/') && !p.contains('#'))
            .map_or_else(
                || Reference::display(finding.input_name.clone()),
                Reference::to,
            );
        let class = pb::DrugClass::try_from(finding.drug_class)
            .map(|c| display(c.as_str_name().trim_start_matches("DRUG_CLASS_")))
            .unwrap_or_default();
        entry.push(Entry {
            full_url: format!("urn:uuid:{}", (context.uuid)()),
            resource: Resource::DetectedIssue(Box::new(DetectedIssue {
                resource_type: "DetectedIssue",
                status: "preliminary",
                code: CodeableConcept::text(format!(
                    "Medication possibly contributing to muscle cramps: {class}"
                )),
                patient: patient.clone(),
                identified_date_time: context.now.to_owned(),
                implicated: vec![implicated],
                detail: finding.rationale.clone(),
                reference: finding
                    .citations
                    .iter()
                    .find(|c| c.url.starts_with("https://"))
                    .map(|c| c.url.clone()),
                mitigation: vec![Mitigation {
                    action: CodeableConcept::text(finding.advice.clone()),
                }],
            })),
        });
    }
    Bundle {
        resource_type: "Bundle",
        kind: "collection",
        timestamp: context.now.to_owned(),
        entry,
    }
}
