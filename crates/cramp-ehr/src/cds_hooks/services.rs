//! The CDS services this deployment offers and the prefetch each asks for.
//!
//! Prefetch templates use only what CDS Hooks 2.0 lets a client resolve (`{{context.patientId}}`,
//! instance reads, token searches, `_sort`, `_count`; no `_include`), and list LOINC codes instead
//! of a ValueSet the EHR could not expand. **API Boundary:** the ids are what EHRs configure.

use std::collections::BTreeMap;

use super::model::Service;
use crate::fhir::{
    QUESTIONNAIRE_VERSION, chart::LABS, chart::LOINC, link_ids::Form, questionnaire,
};

/// The hooks answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Chart opened: flags from the latest intake.
    PatientView,
    /// Check-in: the same, at the start of the visit.
    EncounterStart,
    /// A drug selected for ordering: the medication card for culprit classes.
    OrderSelect,
}

impl Hook {
    /// The hook's name on the wire.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::PatientView => "patient-view",
            Self::EncounterStart => "encounter-start",
            Self::OrderSelect => "order-select",
        }
    }
}

/// A service: its id and hook.
#[derive(Clone, Copy, Debug)]
pub struct ServiceDef {
    /// The path segment.
    pub id: &'static str,
    /// The hook it answers.
    pub hook: Hook,
    title: &'static str,
    description: &'static str,
}

/// Every service, in discovery order.
pub const SERVICES: &[ServiceDef] = &[
    ServiceDef {
        id: "leg-cramp-screen",
        hook: Hook::PatientView,
        title: "Leg-cramp history screen",
        description: "Flags red-flag, vascular (claudication), neurological, kidney and metabolic patterns and cramp-associated medicines from the patient's completed leg-cramp intake questionnaire and chart; proposes coded workups as draft orders.",
    },
    ServiceDef {
        id: "leg-cramp-screen-visit",
        hook: Hook::EncounterStart,
        title: "Leg-cramp history screen at check-in",
        description: "The leg-cramp screen at the start of a visit, from the intake questionnaire completed before it.",
    },
    ServiceDef {
        id: "leg-cramp-med-check",
        hook: Hook::OrderSelect,
        title: "Cramp-associated medicine check",
        description: "When a medicine linked to muscle cramps (diuretics, statins, long-acting beta-agonists, proton pump inhibitors and others) is selected for a patient whose intake reports cramps, shows the medication card.",
    },
];

/// Prefetch keys the service cannot work without.
pub const REQUIRED_PREFETCH: &[&str] = &["patient", "intake"];

/// The service with this id.
#[must_use]
pub fn find(id: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().find(|s| s.id == id)
}

/// The discovery entry of `service` under `base_url`.
#[must_use]
pub fn describe(service: &ServiceDef, base_url: &str) -> Service {
    let canonical = questionnaire::canonical(base_url);
    let clinician = questionnaire::canonical_of(Form::Clinician, base_url);
    let loinc: Vec<String> = LABS
        .iter()
        .flat_map(|lab| lab.codes.iter())
        .map(|(code, _)| format!("{LOINC}|{code}"))
        .collect();
    // References are searched as `Patient/{id}`, not a bare id: both are FHIR, but the typed
    // form is the one every server resolves (Medplum's, used by the fallback tests, does not
    // resolve a bare id), and the service runs these same queries against `fhirServer`.
    let prefetch = BTreeMap::from([
        ("patient", "Patient/{{context.patientId}}".to_owned()),
        (
            "intake",
            format!(
                "QuestionnaireResponse?subject=Patient/{{{{context.patientId}}}}&questionnaire={canonical}|{QUESTIONNAIRE_VERSION}&status=completed&_sort=-authored&_count=1"
            ),
        ),
        // Optional: the clinician's examination and labs, a response to the companion form.
        (
            "clinician",
            format!(
                "QuestionnaireResponse?subject=Patient/{{{{context.patientId}}}}&questionnaire={clinician}|{QUESTIONNAIRE_VERSION}&status=completed&_sort=-authored&_count=1"
            ),
        ),
        (
            "conditions",
            "Condition?patient=Patient/{{context.patientId}}&clinical-status=active".to_owned(),
        ),
        (
            "medications",
            "MedicationRequest?patient=Patient/{{context.patientId}}&status=active".to_owned(),
        ),
        (
            "labs",
            format!(
                "Observation?patient=Patient/{{{{context.patientId}}}}&code={}&_sort=-date&_count=50",
                loinc.join(",")
            ),
        ),
    ]);
    Service {
        hook: service.hook.name(),
        title: service.title,
        description: service.description,
        id: service.id,
        prefetch,
        usage_requirements: format!(
            "Needs prefetch `patient` and `intake`: the latest completed QuestionnaireResponse to the intake Questionnaire {canonical}|{QUESTIONNAIRE_VERSION} ({base_url}/fhir/Questionnaire/cramp-intake). A key left out, null or an OperationOutcome is fetched from fhirServer with fhirAuthorization by the same query; without fhirServer, or when it cannot give `patient` and `intake` in time, the service answers 412. `clinician` (the latest completed response to the clinician's companion Questionnaire {clinician}|{QUESTIONNAIRE_VERSION}: examination and labs), `conditions`, `medications` and `labs` are optional."
        ),
    }
}
