//! Chart resources (Patient, Condition, Observation, MedicationRequest/Statement, Medication) →
//! the intake history.
//!
//! Only codes that clinical-reference.md (d) marks VERIFIED or VERIFIED-2° are read, matched
//! exactly (a code family such as `E11.x` would take in unverified codes). Lab values are used
//! only with a unit this table knows, converted by the reference's factors; an unknown unit, a
//! bound (`<5`) or a preliminary result is not used and is reported, never guessed. The chart
//! adds to the questionnaire and never erases it: a coded condition turns a "no" into "yes", a
//! lab fills a value the questionnaire left empty, a medicine is added unless already listed.

use std::collections::BTreeMap;

use cramp_core::input::{MAX_MEDICATIONS, MAX_STRING_CHARS};
use time::Date;

use super::model::{
    CodeableConcept, Condition, Medication, MedicationUse, Observation, Patient, Reference,
};
use crate::pb;

/// The code systems the knowledge base codes in are the core's (`kb::codes`), so a chart code is
/// compared with exactly the URI a rule was written against.
pub use cramp_core::kb::codes::{ATC, ICD10CM, LOINC, SNOMED};
/// RxNorm (the core keeps its own copy private to medication recognition).
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
/// UCUM.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// Everything the chart holds for one assessment.
#[derive(Clone, Default)]
pub struct Chart {
    /// The patient (birth date only).
    pub patient: Option<Patient>,
    /// Conditions (any status; filtered here).
    pub conditions: Vec<Condition>,
    /// MedicationRequests and MedicationStatements.
    pub medications: Vec<MedicationUse>,
    /// Medication resources that `medicationReference`s may point at.
    pub medication_resources: Vec<Medication>,
    /// Lab observations.
    pub observations: Vec<Observation>,
}

impl std::fmt::Debug for Chart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chart")
            .field("conditions", &self.conditions.len())
            .field("medications", &self.medications.len())
            .field("observations", &self.observations.len())
            .finish_non_exhaustive()
    }
}

/// A chart resource that was recognised but could not be used, and why (never its value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotUsed {
    /// `Observation/abc`, or the resource type and code when it has no id.
    pub resource: String,
    /// Why, in words that carry codes and units but no patient value.
    pub reason: String,
}

/// What a coded condition means for the intake.
#[derive(Clone, Copy, Debug)]
enum Effect {
    /// A yes/no condition field.
    Yes(&'static str),
    /// Diabetes of this type.
    Diabetes(pb::Diabetes),
    /// This thyroid state.
    Thyroid(pb::Thyroid),
    /// Chronic kidney disease, with the stage when the code names one. End-stage renal disease
    /// is G5, not dialysis: the code says nothing about dialysis.
    Kidney(Option<pb::CkdStage>),
}

/// One verified code and its meaning.
struct ConditionCode {
    system: &'static str,
    code: &'static str,
    effect: Effect,
    /// Whether a resolved or inactive condition still counts (a past clot is "prior DVT/PE").
    history_counts: bool,
}

const fn cc(system: &'static str, code: &'static str, effect: Effect) -> ConditionCode {
    ConditionCode {
        system,
        code,
        effect,
        history_counts: false,
    }
}

const fn past(system: &'static str, code: &'static str) -> ConditionCode {
    ConditionCode {
        system,
        code,
        effect: Effect::Yes("prior_dvt_or_pe"),
        history_counts: true,
    }
}

/// clinical-reference.md (d.3, d.4): the VERIFIED / VERIFIED-2° codes with an intake meaning.
const CONDITION_CODES: &[ConditionCode] = &[
    cc(ICD10CM, "E11.40", Effect::Diabetes(pb::Diabetes::Type2)),
    cc(ICD10CM, "E11.42", Effect::Diabetes(pb::Diabetes::Type2)),
    cc(ICD10CM, "N18.1", Effect::Kidney(Some(pb::CkdStage::G1))),
    cc(ICD10CM, "N18.2", Effect::Kidney(Some(pb::CkdStage::G2))),
    cc(ICD10CM, "N18.4", Effect::Kidney(Some(pb::CkdStage::G4))),
    cc(ICD10CM, "N18.5", Effect::Kidney(Some(pb::CkdStage::G5))),
    cc(ICD10CM, "N18.6", Effect::Kidney(Some(pb::CkdStage::G5))),
    cc(ICD10CM, "N18.9", Effect::Kidney(None)),
    cc(SNOMED, "709044004", Effect::Kidney(None)),
    cc(SNOMED, "46177005", Effect::Kidney(Some(pb::CkdStage::G5))),
    cc(
        ICD10CM,
        "I73.9",
        Effect::Yes("known_peripheral_artery_disease"),
    ),
    cc(
        ICD10CM,
        "I70.213",
        Effect::Yes("known_peripheral_artery_disease"),
    ),
    cc(
        SNOMED,
        "399957001",
        Effect::Yes("known_peripheral_artery_disease"),
    ),
    cc(ICD10CM, "E03.9", Effect::Thyroid(pb::Thyroid::Hypo)),
    cc(
        ICD10CM,
        "M48.061",
        Effect::Yes("spinal_stenosis_or_disc_disease"),
    ),
    cc(
        ICD10CM,
        "M48.062",
        Effect::Yes("spinal_stenosis_or_disc_disease"),
    ),
    past(ICD10CM, "I82.401"),
    past(ICD10CM, "I82.402"),
    past(SNOMED, "128053003"),
    past(SNOMED, "59282003"),
];

/// One lab analyte: its intake field, verified LOINC codes and the units read.
#[derive(Clone, Copy, Debug)]
pub struct Lab {
    /// Field under `findings.labs`.
    pub field: &'static str,
    /// LOINC code and display; the first is the one the Questionnaire item carries.
    pub codes: &'static [(&'static str, &'static str)],
    /// Accepted units (lower case, no spaces) and the factor to the field's unit.
    units: &'static [(&'static str, f64)],
    set: fn(&mut pb::Labs) -> &mut Option<f64>,
}

/// clinical-reference.md d.1 (codes) and (f) (conversion factors).
pub const LABS: &[Lab] = &[
    Lab {
        field: "potassium_mmol_l",
        codes: &[
            ("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
            ("6298-4", "Potassium [Moles/volume] in Blood"),
        ],
        units: &[("mmol/l", 1.0), ("meq/l", 1.0)],
        set: |l| &mut l.potassium_mmol_l,
    },
    Lab {
        field: "sodium_mmol_l",
        codes: &[("2951-2", "Sodium [Moles/volume] in Serum or Plasma")],
        units: &[("mmol/l", 1.0), ("meq/l", 1.0)],
        set: |l| &mut l.sodium_mmol_l,
    },
    Lab {
        field: "magnesium_mg_dl",
        codes: &[
            ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma"),
            ("2601-3", "Magnesium [Moles/volume] in Serum or Plasma"),
        ],
        units: &[("mg/dl", 1.0), ("mmol/l", 2.431), ("meq/l", 1.2155)],
        set: |l| &mut l.magnesium_mg_dl,
    },
    Lab {
        field: "calcium_mg_dl",
        codes: &[("17861-6", "Calcium [Mass/volume] in Serum or Plasma")],
        units: &[("mg/dl", 1.0), ("mmol/l", 4.008), ("meq/l", 2.004)],
        set: |l| &mut l.calcium_mg_dl,
    },
    Lab {
        field: "phosphate_mg_dl",
        codes: &[("2777-1", "Phosphate [Mass/volume] in Serum or Plasma")],
        units: &[("mg/dl", 1.0), ("mmol/l", 3.097)],
        set: |l| &mut l.phosphate_mg_dl,
    },
    Lab {
        field: "egfr_ml_min_1_73m2",
        codes: &[
            (
                "98979-8",
                "Glomerular filtration rate/1.73 sq M.predicted by Creatinine-based formula (CKD-EPI 2021)",
            ),
            (
                "33914-3",
                "Glomerular filtration rate/1.73 sq M.predicted by Creatinine-based formula (MDRD)",
            ),
        ],
        units: &[
            ("ml/min/{1.73_m2}", 1.0),
            ("ml/min/1.73m2", 1.0),
            ("ml/min/1.73_m2", 1.0),
        ],
        set: |l| &mut l.egfr_ml_min_1_73m2,
    },
    Lab {
        field: "hba1c_percent",
        codes: &[
            ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
            (
                "17856-6",
                "Hemoglobin A1c/Hemoglobin.total in Blood by HPLC",
            ),
            (
                "4549-2",
                "Hemoglobin A1c/Hemoglobin.total in Blood by Electrophoresis",
            ),
        ],
        units: &[("%", 1.0)],
        set: |l| &mut l.hba1c_percent,
    },
    Lab {
        field: "ck_u_l",
        codes: &[(
            "2157-6",
            "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma",
        )],
        units: &[("u/l", 1.0)],
        set: |l| &mut l.ck_u_l,
    },
    Lab {
        field: "tsh_miu_l",
        codes: &[("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma")],
        units: &[
            ("m[iu]/l", 1.0),
            ("miu/l", 1.0),
            ("u[iu]/ml", 1.0),
            ("uiu/ml", 1.0),
            ("µiu/ml", 1.0),
        ],
        set: |l| &mut l.tsh_miu_l,
    },
    Lab {
        field: "vitamin_d_ng_ml",
        codes: &[(
            "62292-8",
            "25-hydroxyvitamin D2+D3 [Mass/volume] in Serum or Plasma",
        )],
        units: &[("ng/ml", 1.0), ("nmol/l", 0.4006)],
        set: |l| &mut l.vitamin_d_ng_ml,
    },
    Lab {
        field: "vitamin_b12_pg_ml",
        codes: &[(
            "2132-9",
            "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma",
        )],
        units: &[("pg/ml", 1.0), ("ng/l", 1.0), ("pmol/l", 1.355)],
        set: |l| &mut l.vitamin_b12_pg_ml,
    },
];

/// The lab behind a `findings.labs.*` linkId.
#[must_use]
pub fn lab_for_field(link_id: &str) -> Option<&'static Lab> {
    let field = link_id.strip_prefix("findings.labs.")?;
    LABS.iter().find(|lab| lab.field == field)
}

/// Where each history field came from and what the chart could not give.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// History field path (`conditions.on_dialysis`, `medications[2].name`) → evidence pointer
    /// (`Condition/abc`, `QuestionnaireResponse/qr#linkId=...`).
    pub pointers: BTreeMap<String, String>,
    /// References to every resource used (RiskAssessment.basis).
    pub basis: Vec<Reference>,
    /// Recognised chart data that was not used.
    pub not_used: Vec<NotUsed>,
}

impl Provenance {
    fn used(&mut self, field: String, resource: &str) {
        self.pointers.insert(field, resource.to_owned());
        if resource.contains('/') {
            let reference = Reference::to(resource);
            if !self.basis.contains(&reference) {
                self.basis.push(reference);
            }
        }
    }

    fn not_used(&mut self, resource: &str, reason: impl Into<String>) {
        self.not_used.push(NotUsed {
            resource: resource.to_owned(),
            reason: reason.into(),
        });
    }
}

/// Adds the chart to `history`; `today` is the request date (for age and medication recency).
pub fn apply(history: &mut pb::CrampHistory, chart: &Chart, today: Date, out: &mut Provenance) {
    if let Some(patient) = &chart.patient {
        apply_patient(history, patient, today, out);
    }
    for condition in &chart.conditions {
        apply_condition(history, condition, out);
    }
    for observation in &chart.observations {
        apply_observation(history, observation, out);
    }
    for medication in &chart.medications {
        apply_medication(history, medication, chart, today, out);
    }
}

/// The id-based pointer of a resource, or its type when it has no id.
fn pointer(resource_type: &str, id: Option<&String>) -> String {
    match id {
        Some(id) if !id.is_empty() => format!("{resource_type}/{id}"),
        _ => resource_type.to_owned(),
    }
}

fn apply_patient(
    history: &mut pb::CrampHistory,
    patient: &Patient,
    today: Date,
    out: &mut Provenance,
) {
    let resource = pointer("Patient", patient.id.as_ref());
    let patient_answers = history.patient.get_or_insert_with(pb::Patient::default);
    if patient_answers.age_years.is_some() {
        return;
    }
    let Some(birth_date) = patient.birth_date.as_deref() else {
        return;
    };
    match age_on(birth_date, today) {
        Some(age) => {
            patient_answers.age_years = Some(age);
            out.used("patient.age_years".into(), &resource);
        }
        None => out.not_used(
            &resource,
            "birthDate is not a FHIR date on or before the request date",
        ),
    }
}

/// Whole years from a FHIR `date` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) to `today`. A partial date
/// counts from its first day, which gives the oldest possible age: age only ever raises concern.
#[must_use]
pub fn age_on(birth_date: &str, today: Date) -> Option<u32> {
    let born = parse_date(birth_date)?;
    if born > today {
        return None;
    }
    let mut years = today.year() - born.year();
    if (u8::from(today.month()), today.day()) < (u8::from(born.month()), born.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// The date part of a FHIR `date` or `dateTime`; partial dates take their first day.
#[must_use]
pub fn parse_date(text: &str) -> Option<Date> {
    let date = text.get(..10).unwrap_or(text);
    let mut parts = date.split('-');
    let year: i32 = parts.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let month: u8 = parts.next().map_or(Some(1), |m| m.parse().ok())?;
    let day: u8 = parts.next().map_or(Some(1), |d| d.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

fn is_status(concept: Option<&CodeableConcept>, codes: &[&str]) -> bool {
    concept.is_some_and(|c| {
        c.coding
            .iter()
            .any(|k| k.code.as_deref().is_some_and(|code| codes.contains(&code)))
    })
}

fn apply_condition(history: &mut pb::CrampHistory, condition: &Condition, out: &mut Provenance) {
    if is_status(
        condition.verification_status.as_ref(),
        &["refuted", "entered-in-error"],
    ) {
        return;
    }
    let inactive = is_status(
        condition.clinical_status.as_ref(),
        &["inactive", "remission", "resolved"],
    );
    let resource = pointer("Condition", condition.id.as_ref());
    let Some(code) = condition.code.as_ref() else {
        out.not_used(&resource, "has no code");
        return;
    };
    let mut known = false;
    for entry in CONDITION_CODES {
        if !code.has_code(entry.system, &[entry.code]) {
            continue;
        }
        known = true;
        if inactive && !entry.history_counts {
            continue;
        }
        let conditions = history
            .conditions
            .get_or_insert_with(pb::Conditions::default);
        let field = match entry.effect {
            Effect::Yes(field) => {
                if let Some(slot) = yes_field(conditions, field) {
                    *slot = Some(true);
                }
                field
            }
            Effect::Diabetes(kind) => {
                let open = [
                    pb::Diabetes::Unspecified,
                    pb::Diabetes::None,
                    pb::Diabetes::Prediabetes,
                ];
                if open.iter().any(|d| *d as i32 == conditions.diabetes) {
                    conditions.diabetes = kind as i32;
                }
                "diabetes"
            }
            Effect::Thyroid(kind) => {
                let open = [pb::Thyroid::Unspecified, pb::Thyroid::None];
                if open.iter().any(|t| *t as i32 == conditions.thyroid) {
                    conditions.thyroid = kind as i32;
                }
                "thyroid"
            }
            Effect::Kidney(stage) => {
                conditions.chronic_kidney_disease = Some(true);
                if let Some(stage) = stage
                    && conditions.ckd_stage == pb::CkdStage::Unspecified as i32
                {
                    conditions.ckd_stage = stage as i32;
                    out.used("conditions.ckd_stage".into(), &resource);
                }
                "chronic_kidney_disease"
            }
        };
        out.used(format!("conditions.{field}"), &resource);
    }
    if !known {
        // Clinical reference g.1: a chart code the service does not know is unknown, never
        // "no", and the clinician is told it was not used.
        out.not_used(
            &resource,
            "its code is not one this service reads; the condition was not used",
        );
    }
}

fn yes_field<'a>(conditions: &'a mut pb::Conditions, field: &str) -> Option<&'a mut Option<bool>> {
    match field {
        "known_peripheral_artery_disease" => Some(&mut conditions.known_peripheral_artery_disease),
        "spinal_stenosis_or_disc_disease" => Some(&mut conditions.spinal_stenosis_or_disc_disease),
        "prior_dvt_or_pe" => Some(&mut conditions.prior_dvt_or_pe),
        _ => None,
    }
}

fn apply_observation(
    history: &mut pb::CrampHistory,
    observation: &Observation,
    out: &mut Provenance,
) {
    let Some(code) = observation.code.as_ref() else {
        return;
    };
    let Some((lab, loinc)) = LABS.iter().find_map(|lab| {
        lab.codes
            .iter()
            .find(|(loinc, _)| code.has_code(LOINC, &[loinc]))
            .map(|(loinc, _)| (lab, *loinc))
    }) else {
        return;
    };
    let resource = match observation.id.as_deref() {
        Some(id) if !id.is_empty() => format!("Observation/{id}"),
        _ => format!("Observation (LOINC {loinc})"),
    };
    if !matches!(
        observation.status.as_deref(),
        Some("final" | "amended" | "corrected")
    ) {
        out.not_used(&resource, "status is not final, amended or corrected");
        return;
    }
    let Some(quantity) = observation.value_quantity.as_ref() else {
        out.not_used(&resource, "has no valueQuantity");
        return;
    };
    if quantity.comparator.is_some() {
        out.not_used(
            &resource,
            "the value is a bound (it has a comparator), not a measurement",
        );
        return;
    }
    let Some(value) = quantity.value.as_ref().and_then(serde_json::Value::as_f64) else {
        out.not_used(&resource, "valueQuantity has no numeric value");
        return;
    };
    let unit = if quantity.system.as_deref() == Some(UCUM) {
        quantity.code.as_deref().or(quantity.unit.as_deref())
    } else {
        quantity.unit.as_deref().or(quantity.code.as_deref())
    };
    let normalized = unit.map(|u| u.replace(' ', "").to_lowercase());
    let Some(factor) = normalized
        .as_deref()
        .and_then(|u| lab.units.iter().find(|(known, _)| *known == u))
        .map(|(_, factor)| *factor)
    else {
        out.not_used(
            &resource,
            format!("the unit is not one this service reads for LOINC {loinc}"),
        );
        return;
    };
    let labs = history
        .findings
        .get_or_insert_with(pb::Findings::default)
        .labs
        .get_or_insert_with(pb::Labs::default);
    let slot = (lab.set)(labs);
    if slot.is_none() {
        // Rounded to 4 decimals so a conversion does not print float noise in evidence.
        *slot = Some((value * factor * 10_000.0).round() / 10_000.0);
        out.used(format!("findings.labs.{}", lab.field), &resource);
    }
}

/// The drug a medication resource names: from its concept, a contained or supplied
/// `Medication`, or the reference's display.
fn drug(medication: &MedicationUse, chart: &Chart) -> Option<CodeableConcept> {
    if let Some(concept) = &medication.medication_codeable_concept {
        return Some(concept.clone());
    }
    let reference = medication.medication_reference.as_ref()?;
    let target = reference.reference.as_deref();
    let resolved = target.and_then(|target| {
        if let Some(local) = target.strip_prefix('#') {
            medication
                .contained
                .iter()
                .filter(|c| c.get("resourceType").and_then(|t| t.as_str()) == Some("Medication"))
                .filter_map(|c| serde_json::from_value::<Medication>(c.clone()).ok())
                .find(|m| m.id.as_deref() == Some(local))
        } else {
            let id = target.rsplit('/').next();
            chart
                .medication_resources
                .iter()
                .find(|m| m.id.as_deref().is_some() && m.id.as_deref() == id)
                .cloned()
        }
    });
    resolved
        .and_then(|m| m.code)
        .or_else(|| reference.display.clone().map(CodeableConcept::text))
}

/// A wire medication from a MedicationRequest or MedicationStatement; `None` (reported) when
/// it names no drug we can read.
pub fn medication(
    medication: &MedicationUse,
    chart: &Chart,
    today: Date,
    out: &mut Provenance,
) -> Option<pb::Medication> {
    let kind = medication
        .resource_type
        .as_deref()
        .unwrap_or("MedicationRequest");
    let resource = pointer(kind, medication.id.as_ref());
    let Some(concept) = drug(medication, chart) else {
        out.not_used(
            &resource,
            "the medication reference could not be resolved and has no display",
        );
        return None;
    };
    let code_of = |system: &str| {
        concept
            .coding
            .iter()
            .find(|c| c.system.as_deref() == Some(system))
            .and_then(|c| c.code.clone())
    };
    let rxnorm_cui = code_of(RXNORM);
    let name = concept
        .text
        .clone()
        .or_else(|| {
            concept
                .coding
                .iter()
                .find(|c| c.system.as_deref() == Some(RXNORM))
                .or_else(|| concept.coding.first())
                .and_then(|c| c.display.clone())
        })
        .or_else(|| rxnorm_cui.as_ref().map(|cui| format!("RxNorm {cui}")))
        .filter(|n| !n.trim().is_empty());
    let Some(name) = name else {
        out.not_used(&resource, "names no drug (no text, display or RxNorm code)");
        return None;
    };
    let atc_code = code_of(ATC);
    if [Some(&name), rxnorm_cui.as_ref(), atc_code.as_ref()]
        .into_iter()
        .flatten()
        .any(|s| s.chars().count() > MAX_STRING_CHARS)
    {
        out.not_used(
            &resource,
            format!("a name or code is longer than {MAX_STRING_CHARS} characters"),
        );
        return None;
    }
    let started = medication
        .authored_on
        .as_deref()
        .or(medication.effective_date_time.as_deref())
        .or(medication
            .effective_period
            .as_ref()
            .and_then(|p| p.start.as_deref()))
        .and_then(parse_date);
    let weeks_since_started = started
        .filter(|d| *d <= today)
        .and_then(|d| u32::try_from((today - d).whole_weeks()).ok());
    Some(pb::Medication {
        name,
        rxnorm_cui,
        atc_code,
        weeks_since_started,
        recently_stopped: None,
    })
}

fn is_current(medication: &MedicationUse) -> bool {
    match medication.resource_type.as_deref() {
        Some("MedicationStatement") => matches!(
            medication.status.as_deref(),
            Some("active" | "intended" | "on-hold")
        ),
        _ => matches!(
            medication.status.as_deref(),
            Some("active" | "on-hold" | "draft")
        ),
    }
}

fn same_drug(a: &pb::Medication, b: &pb::Medication) -> bool {
    let by_code = matches!((&a.rxnorm_cui, &b.rxnorm_cui), (Some(x), Some(y)) if x == y);
    by_code || a.name.trim().eq_ignore_ascii_case(b.name.trim())
}

fn apply_medication(
    history: &mut pb::CrampHistory,
    medication_use: &MedicationUse,
    chart: &Chart,
    today: Date,
    out: &mut Provenance,
) {
    if !is_current(medication_use) {
        return;
    }
    let Some(wire) = medication(medication_use, chart, today, out) else {
        return;
    };
    if history.medications.iter().any(|m| same_drug(m, &wire)) {
        return;
    }
    let kind = medication_use
        .resource_type
        .as_deref()
        .unwrap_or("MedicationRequest");
    let resource = pointer(kind, medication_use.id.as_ref());
    if history.medications.len() >= MAX_MEDICATIONS {
        out.not_used(&resource, "the medication list is already at its limit");
        return;
    }
    let index = history.medications.len();
    history.medications.push(wire);
    out.used(format!("medications[{index}].name"), &resource);
}

/// Clears a chart-filled lab or the age after the core rejected it; returns whether it was one.
pub fn clear(history: &mut pb::CrampHistory, field: &str) -> bool {
    if field == "patient.age_years" {
        if let Some(patient) = history.patient.as_mut() {
            patient.age_years = None;
        }
        return true;
    }
    let Some(lab) = lab_for_field(field) else {
        return false;
    };
    if let Some(labs) = history.findings.as_mut().and_then(|f| f.labs.as_mut()) {
        *(lab.set)(labs) = None;
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date::from_calendar_date(year, time::Month::try_from(month).unwrap(), day).unwrap()
    }

    fn observation(value: serde_json::Value) -> Observation {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn ages_count_whole_years_and_partial_dates_count_from_their_first_day() {
        let today = date(2026, 3, 15);
        assert_eq!(age_on("1958-03-15", today), Some(68));
        assert_eq!(age_on("1958-03-16", today), Some(67));
        assert_eq!(age_on("1958-12", today), Some(67));
        assert_eq!(age_on("1958", today), Some(68));
        assert_eq!(age_on("2027-01-01", today), None);
        assert_eq!(age_on("15/03/1958", today), None);
    }

    #[test]
    fn labs_need_a_known_unit_and_are_converted_by_the_reference_factors() {
        let mut history = pb::CrampHistory::default();
        let mut out = Provenance::default();
        let obs = |id: &str, loinc: &str, value: f64, unit: &str| {
            observation(
                json!({"resourceType": "Observation", "id": id, "status": "final",
                "code": {"coding": [{"system": LOINC, "code": loinc}]},
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}),
            )
        };
        for o in [
            obs("mg", "19123-9", 0.7, "mmol/L"),
            obs("d", "62292-8", 50.0, "nmol/L"),
            obs("b12", "2132-9", 148.0, "pmol/L"),
            obs("k", "2823-3", 3.1, "mg"),
            obs("k2", "2823-3", 3.2, "mmol/L"),
        ] {
            apply_observation(&mut history, &o, &mut out);
        }
        let labs = history.findings.unwrap().labs.unwrap();
        assert_eq!(labs.magnesium_mg_dl, Some(1.7017));
        assert_eq!(labs.vitamin_d_ng_ml, Some(20.03));
        assert_eq!(labs.vitamin_b12_pg_ml, Some(200.54));
        assert_eq!(labs.potassium_mmol_l, Some(3.2));
        assert_eq!(out.not_used.len(), 1);
        assert_eq!(out.not_used[0].resource, "Observation/k");
        assert_eq!(
            out.pointers["findings.labs.potassium_mmol_l"],
            "Observation/k2"
        );
    }

    #[test]
    fn conditions_add_and_never_erase_and_esrd_is_not_dialysis() {
        let mut history = pb::CrampHistory {
            conditions: Some(pb::Conditions {
                diabetes: pb::Diabetes::Type1 as i32,
                known_peripheral_artery_disease: Some(false),
                ..pb::Conditions::default()
            }),
            ..pb::CrampHistory::default()
        };
        let mut out = Provenance::default();
        for (system, code, status) in [
            (ICD10CM, "E11.42", "active"),
            (SNOMED, "399957001", "active"),
            (ICD10CM, "N18.6", "active"),
            (SNOMED, "128053003", "resolved"),
            (ICD10CM, "E03.9", "resolved"),
            (ICD10CM, "E11.9", "active"),
        ] {
            let condition: Condition = serde_json::from_value(json!({
                "resourceType": "Condition", "id": code,
                "clinicalStatus": {"coding": [{"code": status}]},
                "code": {"coding": [{"system": system, "code": code}]}}))
            .unwrap();
            apply_condition(&mut history, &condition, &mut out);
        }
        let c = history.conditions.unwrap();
        assert_eq!(
            c.diabetes,
            pb::Diabetes::Type1 as i32,
            "the questionnaire's type stays"
        );
        assert_eq!(c.known_peripheral_artery_disease, Some(true));
        assert_eq!(c.chronic_kidney_disease, Some(true));
        assert_eq!(c.ckd_stage, pb::CkdStage::G5 as i32);
        assert_eq!(c.on_dialysis, None);
        assert_eq!(
            c.prior_dvt_or_pe,
            Some(true),
            "a resolved clot is still a prior clot"
        );
        assert_eq!(c.thyroid, 0, "a resolved hypothyroidism is not used");
    }

    #[test]
    fn a_condition_whose_code_is_not_read_stays_unknown_and_is_named() {
        let mut history = pb::CrampHistory::default();
        let mut out = Provenance::default();
        for condition in [
            json!({"resourceType": "Condition", "id": "c-unknown",
                "code": {"coding": [{"system": ICD10CM, "code": "Z99.89"}]}}),
            json!({"resourceType": "Condition", "id": "c-uncoded"}),
            json!({"resourceType": "Condition", "id": "c-known",
                "code": {"coding": [{"system": ICD10CM, "code": "N18.6"}]}}),
        ] {
            let condition: Condition = serde_json::from_value(condition).unwrap();
            apply_condition(&mut history, &condition, &mut out);
        }
        let named: Vec<&str> = out.not_used.iter().map(|n| n.resource.as_str()).collect();
        assert_eq!(named, ["Condition/c-unknown", "Condition/c-uncoded"]);
        assert!(out.not_used.iter().all(|n| !n.reason.contains("Z99")));
        let c = history.conditions.unwrap();
        assert_eq!(c.chronic_kidney_disease, Some(true));
        assert_eq!(
            c.hypertension, None,
            "an unread code is unknown, never 'no'"
        );
    }

    #[test]
    fn medications_resolve_references_and_recency() {
        let chart = Chart {
            medication_resources: vec![serde_json::from_value(json!({"resourceType": "Medication", "id": "m1",
                "code": {"coding": [{"system": RXNORM, "code": "5487", "display": "hydrochlorothiazide"}]}}))
            .unwrap()],
            ..Chart::default()
        };
        let request: MedicationUse =
            serde_json::from_value(json!({"resourceType": "MedicationRequest",
            "id": "r1", "status": "active", "authoredOn": "2026-02-15",
            "medicationReference": {"reference": "Medication/m1"}}))
            .unwrap();
        let mut out = Provenance::default();
        let wire = medication(&request, &chart, date(2026, 3, 15), &mut out).unwrap();
        assert_eq!(wire.name, "hydrochlorothiazide");
        assert_eq!(wire.rxnorm_cui.as_deref(), Some("5487"));
        assert_eq!(wire.weeks_since_started, Some(4));
        let dangling: MedicationUse =
            serde_json::from_value(json!({"resourceType": "MedicationRequest",
            "id": "r2", "status": "active", "medicationReference": {"reference": "Medication/zz"}}))
            .unwrap();
        assert!(medication(&dangling, &chart, date(2026, 3, 15), &mut out).is_none());
        assert_eq!(out.not_used[0].resource, "MedicationRequest/r2");
    }

    #[test]
    fn no_code_the_reference_marks_unverified_is_read() {
        use cramp_core::kb::codes::UNVERIFIED;
        for c in CONDITION_CODES {
            assert!(!UNVERIFIED.contains(&c.code), "condition code {}", c.code);
        }
        for lab in LABS {
            for (code, _) in lab.codes {
                assert!(!UNVERIFIED.contains(code), "{} LOINC {code}", lab.field);
            }
        }
    }
}
