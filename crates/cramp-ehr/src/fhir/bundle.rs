//! The assessment as FHIR: a `collection` Bundle of one RiskAssessment, draft/proposal
//! ServiceRequests for coded workups and DetectedIssues for medication culprits.
//!
//! The RiskAssessment carries a qualitative risk and a rationale per flag, never a probability:
//! rules give no calibrated numbers (integration.md §4.5). The qualitative risk follows the
//! finding's certainty (clinical-reference.md g.8), not its urgency: a red flag the answers cannot
//! exclude is a prediction of its own that says so, beside the established ones. `basis` lists
//! every resource the answers came from, and `method` names the knowledge base and its version,
//! so a clinician can review the basis of each flag. What could not be read is a `note`.
//! ServiceRequests are the CDS Hooks suggestions' resources too.

use cramp_core::{Assessment, RiskFlag, SuggestedWorkup, Urgency, Workup};
use serde::Serialize;

use super::{
    chart::LOINC,
    intake::Assessed,
    link_ids,
    model::{CodeableConcept, Coding, Reference},
    questionnaire::display,
    questionnaire_response::ResponseStatus,
};

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

/// "Ankle brachial index" for `WORKUP_ANKLE_BRACHIAL_INDEX`; the abbreviations clinicians
/// write in capitals ("TSH", not "Tsh") are spelled out here, since sentence case would mangle
/// them.
#[must_use]
pub fn workup_display(workup: Workup) -> String {
    match workup {
        Workup::Tsh => "TSH".to_owned(),
        Workup::Hba1c => "HbA1c".to_owned(),
        Workup::Cbc => "CBC".to_owned(),
        Workup::Ecg => "ECG".to_owned(),
        Workup::DDimer => "D-dimer".to_owned(),
        Workup::ExerciseAbi => "Exercise ABI".to_owned(),
        Workup::EmergencyCare
        | Workup::VascularReferral
        | Workup::MedicationReview
        | Workup::DialysisPrescriptionReview
        | Workup::AnkleBrachialIndex
        | Workup::ToeBrachialIndex
        | Workup::ArterialDuplex
        | Workup::VenousDuplex
        | Workup::BasicMetabolicPanel
        | Workup::ComprehensiveMetabolicPanel
        | Workup::Magnesium
        | Workup::Calcium
        | Workup::Phosphate
        | Workup::KidneyFunction
        | Workup::UrineAlbuminCreatinineRatio
        | Workup::Urinalysis
        | Workup::CreatineKinase
        | Workup::VitaminB12
        | Workup::VitaminD
        | Workup::LipidPanel
        | Workup::DiabeticFootExam
        | Workup::NerveConductionStudy
        | Workup::LumbarSpineMri => display(workup.name().trim_start_matches("WORKUP_")),
    }
}

/// The orderable codings of a workup: LOINC for labs, CPT for procedures. Workups without one
/// (referrals, reviews, emergency care, examinations) are advice, not orders.
#[must_use]
pub fn orderable_codings(workup: &SuggestedWorkup) -> Vec<Coding> {
    workup
        .codings
        .iter()
        .filter(|c| c.system == LOINC || c.system == CPT)
        .map(|c| Coding::new(c.system, c.code, c.display))
        .collect()
}

/// How sure the answers make a finding (outputs.md, Certainty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certainty {
    /// The answers given meet the rule's criteria.
    Established,
    /// A red flag not established, which the unknown answers cannot exclude (g.1).
    Possible,
}

/// `qualitativeRisk` for a finding's certainty, in HL7's risk-probability terms
/// (<http://terminology.hl7.org/CodeSystem/risk-probability>, whose definitions are quoted).
///
/// The outcome is the flag's pattern, and how urgent it is says nothing about how likely it is
/// (g.8: an established PAD pattern is not "low"). An established finding meets its screening
/// criteria: `high`, "more likely to occur than not"; never `certain`, since a screen is not a
/// diagnosis. A possible red flag has a specific sign present and only unanswered questions in
/// the way: `moderate`, "a reasonable likelihood of occurrence"; `low` ("possible but unlikely")
/// would claim an unlikelihood nothing established. The concept's text says which it is.
#[must_use]
pub fn qualitative_risk(certainty: Certainty) -> CodeableConcept {
    let (code, display, text) = match certainty {
        Certainty::Established => (
            "high",
            "High likelihood",
            "Established: the answers given meet this rule's criteria (a screening finding, not a diagnosis)",
        ),
        Certainty::Possible => (
            "moderate",
            "Moderate likelihood",
            "Cannot be excluded: not established by the answers given, and unanswered questions could establish it",
        ),
    };
    CodeableConcept {
        coding: vec![Coding::new(RISK_PROBABILITY, code, display)],
        text: Some(text.to_owned()),
    }
}

/// "Urgent" for `URGENCY_URGENT`: clinician-facing text never shows the enum name (g.8).
#[must_use]
pub fn urgency_display(urgency: Urgency) -> String {
    display(urgency.name().trim_start_matches("URGENCY_"))
}

/// The questions that would settle a possible red flag, most decisive first: the assessment's own
/// question for each field, or the Questionnaire's item text when it asked none.
#[must_use]
pub fn settling_questions(assessment: &Assessment, settled_by: &[&str]) -> Vec<String> {
    settled_by
        .iter()
        .map(|field| {
            assessment
                .missing_information
                .iter()
                .find(|m| m.field == *field)
                .map(|m| m.question.to_owned())
                .or_else(|| link_ids::item(field).map(|i| i.text.to_owned()))
                .unwrap_or_else(|| display(field.rsplit('.').next().unwrap_or(field)))
        })
        .collect()
}

/// The prediction for a flag at a certainty; a possible flag's rationale says what would settle it.
fn prediction(
    assessment: &Assessment,
    flag: &RiskFlag,
    certainty: Certainty,
    settled_by: &[&str],
    flag_system: &str,
) -> Prediction {
    let name = flag.flag.name();
    let urgency = urgency_display(flag.urgency);
    let rationale = match certainty {
        Certainty::Established => format!(
            "{} Urgency: {urgency}. (rule {} {})",
            flag.rationale, flag.rule_id, flag.rule_version
        ),
        Certainty::Possible => format!(
            "Cannot be excluded: {} Ask: {}. Urgency if established: {urgency}. (rule {} {}, not established)",
            flag.rationale,
            settling_questions(assessment, settled_by).join(" "),
            flag.rule_id,
            flag.rule_version
        ),
    };
    Prediction {
        outcome: CodeableConcept {
            coding: vec![Coding::new(flag_system, name, flag.title)],
            text: Some(flag.title.to_owned()),
        },
        qualitative_risk: qualitative_risk(certainty),
        rationale,
    }
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
    workup: &SuggestedWorkup,
    subject: Reference,
    reason: Option<Reference>,
    reason_text: String,
    authored_on: Option<String>,
) -> Option<ServiceRequest> {
    let codings = orderable_codings(workup);
    let kind = workup.workup;
    if codings.is_empty() {
        return None;
    }
    Some(ServiceRequest {
        resource_type: "ServiceRequest",
        status: "draft",
        intent: "proposal",
        priority: priority(workup.urgency),
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
pub fn workup_reason(assessment: &Assessment, workup: &SuggestedWorkup) -> String {
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
    note.extend(assessment.unread_inputs.iter().map(|u| Annotation {
        // Issue 13: a chart resource not used is named apart from an answer not read.
        text: if u.item.starts_with("QuestionnaireResponse")
            || !u.item.starts_with(|c: char| c.is_ascii_uppercase())
        {
            format!("Not read, treated as unknown: {}: {}", u.item, u.reason)
        } else {
            format!("Not used from the chart: {}: {}", u.item, u.reason)
        },
    }));
    let risk = RiskAssessment {
        resource_type: "RiskAssessment",
        // A red flag that unanswered questions could establish leaves the assessment open
        // (integration.md §6.4: preliminary when inputs are missing).
        status: match assessed.status {
            ResponseStatus::Final if assessment.possible_flags.is_empty() => "final",
            ResponseStatus::Final | ResponseStatus::Preliminary => "preliminary",
        },
        method: CodeableConcept {
            coding: vec![Coding {
                system: Some(format!("{}/CodeSystem/cramp-ruleset", context.fhir_base)),
                version: Some(assessment.knowledge_base_version.to_owned()),
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
            .map(|f| prediction(assessment, f, Certainty::Established, &[], &flag_system))
            .chain(assessment.possible_flags.iter().map(|p| {
                prediction(
                    assessment,
                    &p.risk,
                    Certainty::Possible,
                    &p.settled_by,
                    &flag_system,
                )
            }))
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
        let class = display(finding.drug_class.name().trim_start_matches("DRUG_CLASS_"));
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
                    .map(|c| c.url.to_owned()),
                mitigation: vec![Mitigation {
                    action: CodeableConcept::text(finding.advice),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fhir::chart::Provenance;
    use crate::fhir::intake::Intake;
    use crate::pb;
    use cramp_core::Flag;

    #[test]
    fn workup_titles_keep_clinical_abbreviations() {
        assert_eq!(workup_display(Workup::Tsh), "TSH");
        assert_eq!(workup_display(Workup::Hba1c), "HbA1c");
        assert_eq!(workup_display(Workup::DDimer), "D-dimer");
        assert_eq!(
            workup_display(Workup::AnkleBrachialIndex),
            "Ankle brachial index"
        );
    }

    /// An assessment with one established flag, one red flag that cannot be excluded and one
    /// unread answer, built by hand so the writers can be tested whatever the rules fire.
    pub(crate) fn assessed_with_a_possible_flag() -> Assessed {
        let citation = cramp_core::Citation {
            title: "Acute limb ischaemia",
            source: "Test",
            url: "https://example.org/ali",
            key: "S22",
        };
        let possible = RiskFlag {
            flag: Flag::AcuteLimbIschemia,
            urgency: Urgency::Emergency,
            title: "Possible acute limb ischemia",
            rationale: "A cold foot with absent pulses can be an acute arterial occlusion.".into(),
            evidence: vec![
                cramp_core::Evidence {
                    field: "symptoms.cold_feet".into(),
                    value: "true".into(),
                },
                cramp_core::Evidence {
                    field: "findings.foot_pulses".into(),
                    value: "PULSES_ABSENT".into(),
                },
            ],
            rule_id: "red_flags.acute_limb_ischemia",
            rule_version: "2.0.0",
            citations: vec![citation],
            codings: Vec::new(),
        };
        let established = RiskFlag {
            flag: Flag::PadPattern,
            urgency: Urgency::Routine,
            title: "Exertional leg pain pattern",
            rationale: "Calf pain on walking relieved by rest fits claudication.".into(),
            evidence: vec![cramp_core::Evidence {
                field: "cramps.relief_on_standing_still".into(),
                value: "RELIEF_WITHIN_10_MINUTES".into(),
            }],
            rule_id: "vascular.pad_pattern",
            rule_version: "1.0.0",
            citations: Vec::new(),
            codings: Vec::new(),
        };
        let missing = |field, question, why| cramp_core::MissingInformation {
            field,
            question,
            why,
        };
        let assessment = Assessment {
            urgency: Urgency::Urgent,
            urgency_rationale: "A red flag cannot be excluded.".into(),
            flags: vec![established],
            medication_findings: Vec::new(),
            workups: Vec::new(),
            self_care: Vec::new(),
            possible_flags: vec![cramp_core::PossibleFlag {
                risk: possible,
                settled_by: vec!["cramps.persistent_pain", "symptoms.foot_pale_or_blue"],
            }],
            missing_information: vec![
                missing(
                    "cramps.persistent_pain",
                    "Is the pain constant, even at rest?",
                    "it decides cramps.persistent_pain",
                ),
                missing("symptoms.fever", "Any fever?", "it decides symptoms.fever"),
            ],
            unread_inputs: vec![cramp_core::UnreadInput {
                item: "QuestionnaireResponse/qr-1#linkId=symptoms.numbness".into(),
                reason: "the answer is not a yes/no (valueBoolean) answer; treated as unknown"
                    .into(),
            }],
            knowledge_base_version: "2.0.0",
        };
        let mut provenance = Provenance::default();
        for field in [
            "symptoms.cold_feet",
            "findings.foot_pulses",
            "cramps.relief_on_standing_still",
        ] {
            provenance.pointers.insert(
                field.into(),
                format!("QuestionnaireResponse/qr-1#linkId={field}"),
            );
        }
        Intake {
            history: pb::CrampHistory::default(),
            status: ResponseStatus::Final,
            provenance,
            subject: Some(Reference::to("Patient/p-1")),
            unread: Vec::new(),
        }
        .assessed(assessment)
    }

    fn context_bundle(assessed: &Assessed) -> serde_json::Value {
        let uuid = || "00000000-0000-4000-8000-000000000000".to_owned();
        let context = BundleContext {
            fhir_base: "https://cds.example.org/fhir",
            now: "2026-06-15T10:00:00Z",
            uuid: &uuid,
        };
        serde_json::to_value(bundle(assessed, &context)).unwrap()
    }

    #[test]
    fn a_possible_red_flag_is_its_own_prediction_that_says_it_cannot_be_excluded() {
        let risk = &context_bundle(&assessed_with_a_possible_flag())["entry"][0]["resource"];
        // Open until the settling questions are answered.
        assert_eq!(risk["status"], "preliminary");
        let predictions = risk["prediction"].as_array().unwrap();
        assert_eq!(predictions.len(), 2);
        let established = &predictions[0];
        assert_eq!(
            established["outcome"]["coding"][0]["code"],
            "FLAG_PAD_PATTERN"
        );
        // g.8: an established PAD pattern is not "low", whatever its urgency.
        assert_eq!(established["qualitativeRisk"]["coding"][0]["code"], "high");
        assert_eq!(
            established["qualitativeRisk"]["coding"][0]["system"],
            RISK_PROBABILITY
        );
        let possible = &predictions[1];
        assert_eq!(
            possible["outcome"]["coding"][0]["code"],
            "FLAG_ACUTE_LIMB_ISCHEMIA"
        );
        assert_eq!(
            possible["qualitativeRisk"]["coding"][0]["system"],
            RISK_PROBABILITY
        );
        assert_eq!(possible["qualitativeRisk"]["coding"][0]["code"], "moderate");
        assert!(
            possible["qualitativeRisk"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Cannot be excluded")
        );
        let rationale = possible["rationale"].as_str().unwrap();
        assert!(
            rationale.contains("Is the pain constant, even at rest?"),
            "{rationale}"
        );
        // No question of its own in the assessment: the Questionnaire's item text.
        assert!(rationale.contains("Is a foot pale or blue?"), "{rationale}");
        assert!(
            rationale.contains("Urgency if established: Emergency"),
            "{rationale}"
        );
        let text = risk.to_string();
        for internal in ["URGENCY_", "DRUG_CLASS_", "PULSES_"] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
        let notes: Vec<&str> = risk["note"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["text"].as_str().unwrap())
            .collect();
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("Not read, treated as unknown: ")
                    && n.contains("linkId=symptoms.numbness")),
            "{notes:?}"
        );
    }

    #[test]
    fn without_a_possible_flag_a_completed_response_is_final() {
        let mut assessed = assessed_with_a_possible_flag();
        assessed.assessment.possible_flags.clear();
        let risk = &context_bundle(&assessed)["entry"][0]["resource"];
        assert_eq!(risk["status"], "final");
        assert_eq!(risk["prediction"].as_array().unwrap().len(), 1);
    }
}
