//! Chart resources (Patient, Condition, Observation, MedicationRequest/Statement, Medication) →
//! the intake history.
//!
//! Conditions, labs and medicine products are read by the published value sets of
//! [`super::valuesets`] (an EHR codes one meaning with many codes), plus the lab codes of
//! [`LABS`]. Lab values are used only with a unit this table knows, converted by the reference's
//! factors; an unknown unit, a bound (`<5`) or a preliminary result is not used and is reported,
//! never guessed. Every chart resource that is not used is named for the clinician with its code
//! and why (`Provenance::not_used`), never with its value. A coded condition turns a "no" into
//! "yes"; a chart lab wins over the patient's report of it and is shown with its date (clinical
//! reference g.8); a medicine already listed (same code, name or lexicon ingredients) is listed
//! once with both sources.

use std::collections::BTreeMap;

use cramp_core::input::{MAX_MEDICATIONS, MAX_STRING_CHARS};
use time::Date;

use super::model::{
    CodeableConcept, Condition, Medication, MedicationUse, Observation, Patient, Reference,
};
use super::valuesets::{self, Meaning, ValueSets};
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
    /// The measurement date of each chart-filled lab field, so the newest chart value wins.
    pub lab_dates: BTreeMap<String, Option<Date>>,
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

    /// Like `used`, with evidence text that says more than the resource (a chart value's date).
    fn used_as(&mut self, field: String, resource: &str, shown: String) {
        self.used(field.clone(), resource);
        self.pointers.insert(field, shown);
    }

    fn not_used(&mut self, resource: &str, reason: impl Into<String>) {
        self.not_used.push(NotUsed {
            resource: resource.to_owned(),
            reason: reason.into(),
        });
    }
}

/// Adds the chart to `history`, reading codes by `sets`; `today` is the request date (for age
/// and medication recency).
pub fn apply(
    history: &mut pb::CrampHistory,
    chart: &Chart,
    sets: &ValueSets,
    today: Date,
    out: &mut Provenance,
) {
    if let Some(patient) = &chart.patient {
        apply_patient(history, patient, today, out);
    }
    for condition in &chart.conditions {
        apply_condition(history, condition, sets, out);
    }
    for observation in &chart.observations {
        apply_observation(history, observation, sets, out);
    }
    // The lexicon's ingredients of every listed medicine, read once each (not once per pair).
    let mut listed: Vec<Vec<&'static str>> = history.medications.iter().map(ingredients).collect();
    for medication in &chart.medications {
        apply_medication(history, &mut listed, medication, chart, sets, today, out);
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

/// The first coding's `system code "display"`, for the clinician (a chart code is what the
/// clinician sees in the chart; it is never logged).
fn what(code: &CodeableConcept) -> String {
    let coding = code.coding.iter().find(|c| c.code.is_some());
    let system = coding.and_then(|c| c.system.as_deref()).map(|s| match s {
        SNOMED => "SNOMED CT",
        ICD10CM => "ICD-10-CM",
        LOINC => "LOINC",
        RXNORM => "RxNorm",
        other => other,
    });
    let code_text = coding.and_then(|c| c.code.as_deref());
    let display = coding
        .and_then(|c| c.display.as_deref())
        .or(code.text.as_deref());
    let mut out = String::new();
    if let Some(system) = system {
        out.push_str(system);
        out.push(' ');
    }
    if let Some(code_text) = code_text {
        out.push_str(code_text);
    }
    if let Some(display) = display {
        out.push_str(&format!(" \"{display}\""));
    }
    out.trim().chars().take(MAX_STRING_CHARS).collect()
}

fn apply_condition(
    history: &mut pb::CrampHistory,
    condition: &Condition,
    sets: &ValueSets,
    out: &mut Provenance,
) {
    let resource = pointer("Condition", condition.id.as_ref());
    let Some(code) = condition.code.as_ref() else {
        out.not_used(&resource, "has no code");
        return;
    };
    if is_status(
        condition.verification_status.as_ref(),
        &["refuted", "entered-in-error"],
    ) {
        out.not_used(
            &resource,
            format!("{}: refuted or entered in error", what(code)),
        );
        return;
    }
    let inactive = is_status(
        condition.clinical_status.as_ref(),
        &["inactive", "remission", "resolved"],
    );
    let members: Vec<&valuesets::Member> = code
        .coding
        .iter()
        .filter_map(|c| Some(sets.lookup(c.system.as_deref()?, c.code.as_deref()?)))
        .flatten()
        .filter(|m| !matches!(m.meaning, Meaning::Lab(_) | Meaning::Medicine))
        .collect();
    if members.is_empty() {
        // Clinical reference g.1: a chart code the service does not read is unknown, never
        // "no", and the clinician is told it was not used.
        out.not_used(
            &resource,
            format!(
                "{}: no value set configured for this code, so no rule saw it; not used",
                what(code)
            ),
        );
        return;
    }
    let mut used = false;
    for member in members {
        if inactive && !member.history_counts {
            continue;
        }
        used = true;
        let conditions = history
            .conditions
            .get_or_insert_with(pb::Conditions::default);
        let field = match member.meaning {
            Meaning::Yes(field) => {
                if let Some(slot) = yes_field(conditions, field) {
                    *slot = Some(true);
                }
                if field == "on_dialysis" {
                    conditions.chronic_kidney_disease = Some(true);
                }
                field
            }
            Meaning::Diabetes(kind) => {
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
            Meaning::Smoking(kind) => {
                // A chart code says "smoker" over "never", never over the patient's "former"
                // (a recent quit is newer than the chart).
                let open = [pb::Smoking::Unspecified, pb::Smoking::Never];
                if open.iter().any(|s| *s as i32 == conditions.smoking)
                    || (kind == pb::Smoking::Former
                        && conditions.smoking == pb::Smoking::Unspecified as i32)
                {
                    conditions.smoking = kind as i32;
                }
                "smoking"
            }
            Meaning::Thyroid(kind) => {
                let open = [pb::Thyroid::Unspecified, pb::Thyroid::None];
                if open.iter().any(|t| *t as i32 == conditions.thyroid) {
                    conditions.thyroid = kind as i32;
                }
                "thyroid"
            }
            Meaning::Kidney(stage) => {
                conditions.chronic_kidney_disease = Some(true);
                if let Some(stage) = stage
                    && conditions.ckd_stage == pb::CkdStage::Unspecified as i32
                {
                    conditions.ckd_stage = stage as i32;
                    out.used("conditions.ckd_stage".into(), &resource);
                }
                "chronic_kidney_disease"
            }
            Meaning::Lab(_) | Meaning::Medicine => continue,
        };
        out.used(format!("conditions.{field}"), &resource);
    }
    if !used {
        out.not_used(
            &resource,
            format!(
                "{}: clinical status is inactive, remission or resolved; not used as a current condition",
                what(code)
            ),
        );
    }
}

fn yes_field<'a>(conditions: &'a mut pb::Conditions, field: &str) -> Option<&'a mut Option<bool>> {
    match field {
        "known_peripheral_artery_disease" => Some(&mut conditions.known_peripheral_artery_disease),
        "spinal_stenosis_or_disc_disease" => Some(&mut conditions.spinal_stenosis_or_disc_disease),
        "prior_dvt_or_pe" => Some(&mut conditions.prior_dvt_or_pe),
        "hypertension" => Some(&mut conditions.hypertension),
        "high_cholesterol" => Some(&mut conditions.high_cholesterol),
        "coronary_or_cerebrovascular_disease" => {
            Some(&mut conditions.coronary_or_cerebrovascular_disease)
        }
        "on_dialysis" => Some(&mut conditions.on_dialysis),
        "atrial_fibrillation" => Some(&mut conditions.atrial_fibrillation),
        "liver_disease" => Some(&mut conditions.liver_disease),
        _ => None,
    }
}

fn apply_observation(
    history: &mut pb::CrampHistory,
    observation: &Observation,
    sets: &ValueSets,
    out: &mut Provenance,
) {
    let resource_of = |what: &str| match observation.id.as_deref() {
        Some(id) if !id.is_empty() => format!("Observation/{id}"),
        _ => format!("Observation ({what})"),
    };
    let Some(code) = observation.code.as_ref() else {
        out.not_used(&resource_of("no code"), "has no code");
        return;
    };
    let by_table = LABS.iter().find_map(|lab| {
        lab.codes
            .iter()
            .find(|(loinc, _)| code.has_code(LOINC, &[loinc]))
            .map(|(loinc, _)| (lab, *loinc))
    });
    let by_value_set = || {
        code.coding
            .iter()
            .filter(|c| c.system.as_deref() == Some(LOINC))
            .find_map(|c| {
                let loinc = c.code.as_deref()?;
                let field = sets.lab_field(loinc)?;
                let lab = LABS.iter().find(|lab| lab.field == field)?;
                Some((lab, loinc))
            })
    };
    let Some((lab, loinc)) = by_table.or_else(by_value_set) else {
        out.not_used(
            &resource_of(&what(code)),
            format!("{}: not a lab this service reads; not used", what(code)),
        );
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
    let field = format!("findings.labs.{}", lab.field);
    let date = observation
        .effective_date_time
        .as_deref()
        .or(observation.issued.as_deref())
        .and_then(parse_date);
    // Clinical reference g.8: a chart value wins over the patient's report of it, and of two
    // chart values the newer one is used.
    let replaces = match (slot.is_some(), out.lab_dates.get(&field)) {
        (false, _) => true,
        (true, None) => true,
        (true, Some(earlier)) => date.is_some() && (earlier.is_none() || date > *earlier),
    };
    if !replaces {
        out.not_used(
            &resource,
            format!("an equal or newer chart value of LOINC {loinc} was used instead"),
        );
        return;
    }
    // Rounded to 4 decimals so a conversion does not print float noise in evidence.
    *slot = Some((value * factor * 10_000.0).round() / 10_000.0);
    let shown = match date {
        Some(date) => format!("{resource}, chart value of {date}"),
        None => format!("{resource}, chart value (undated)"),
    };
    out.used_as(field.clone(), &resource, shown);
    out.lab_dates.insert(field, date);
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
    sets: &ValueSets,
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
        // A product code without display (310798) is named by its medicine value set, so the
        // lexicon reads "hydrochlorothiazide 25 mg tablet".
        .or_else(|| {
            rxnorm_cui
                .as_deref()
                .and_then(|cui| sets.medicine_name(cui))
                .map(str::to_owned)
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

/// The ingredients the medication lexicon recognises in a medicine (the culprit classes only).
/// Why a medicine named only by its RxNorm code (no display, in no configured value set) is not
/// used; `None` when it has a name the lexicon can read.
#[must_use]
pub fn unresolved(medication: &pb::Medication) -> Option<String> {
    (medication.name.starts_with("RxNorm ") && ingredients(medication).is_empty())
        .then(|| unresolved_reason(medication))
}

fn unresolved_reason(medication: &pb::Medication) -> String {
    format!(
        "{}: no display, and no value set configured for this code; not resolved, not used",
        medication.name
    )
}

fn ingredients(medication: &pb::Medication) -> Vec<&'static str> {
    let core = cramp_core::Medication {
        name: medication.name.clone(),
        rxnorm_cui: medication.rxnorm_cui.clone(),
        atc_code: medication.atc_code.clone(),
        weeks_since_started: None,
        recently_stopped: None,
    };
    let mut found: Vec<&'static str> = cramp_core::recognise_medications(&[core])
        .into_iter()
        .map(|f| f.ingredient)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// Clinical reference g.8: a medicine in both the form and the chart appears once. Same code,
/// same name, or the same ingredients per the medication lexicon ("HCTZ 25 mg" on the form is
/// RxNorm 310798 in the chart).
fn same_drug(
    a: &pb::Medication,
    b: &pb::Medication,
    a_ingredients: &[&str],
    b_ingredients: &[&str],
) -> bool {
    let by_code = matches!((&a.rxnorm_cui, &b.rxnorm_cui), (Some(x), Some(y)) if x == y);
    by_code
        || a.name.trim().eq_ignore_ascii_case(b.name.trim())
        || (!a_ingredients.is_empty() && a_ingredients == b_ingredients)
}

fn apply_medication(
    history: &mut pb::CrampHistory,
    listed: &mut Vec<Vec<&'static str>>,
    medication_use: &MedicationUse,
    chart: &Chart,
    sets: &ValueSets,
    today: Date,
    out: &mut Provenance,
) {
    if !is_current(medication_use) {
        let kind = medication_use
            .resource_type
            .as_deref()
            .unwrap_or("MedicationRequest");
        out.not_used(
            &pointer(kind, medication_use.id.as_ref()),
            format!(
                "status {} is not a current medicine; not used",
                medication_use.status.as_deref().unwrap_or("(none)")
            ),
        );
        return;
    }
    let Some(wire) = medication(medication_use, chart, sets, today, out) else {
        return;
    };
    let kind = medication_use
        .resource_type
        .as_deref()
        .unwrap_or("MedicationRequest");
    let resource = pointer(kind, medication_use.id.as_ref());
    let found = ingredients(&wire);
    let duplicate = history
        .medications
        .iter()
        .zip(listed.iter())
        .position(|(m, theirs)| same_drug(m, &wire, theirs, &found));
    if let Some(index) = duplicate {
        // Listed once, with both sources in its provenance.
        let field = format!("medications[{index}].name");
        let both = match out.pointers.get(&field) {
            Some(first) if *first != resource => format!("{first} and {resource}"),
            _ => resource.clone(),
        };
        out.used_as(field, &resource, both);
        return;
    }
    if wire.name.starts_with("RxNorm ") && found.is_empty() {
        out.not_used(&resource, unresolved_reason(&wire));
        return;
    }
    if history.medications.len() >= MAX_MEDICATIONS {
        out.not_used(&resource, "the medication list is already at its limit");
        return;
    }
    let index = history.medications.len();
    history.medications.push(wire);
    listed.push(found);
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

    /// The value sets of `tests/data/valuesets` (the operator's directory in the API tests).
    fn sets() -> ValueSets {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/valuesets");
        ValueSets::load(Some(&dir)).unwrap().0
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
            apply_observation(&mut history, &o, &sets(), &mut out);
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
            "Observation/k2, chart value (undated)"
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
            apply_condition(&mut history, &condition, &sets(), &mut out);
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
            apply_condition(&mut history, &condition, &sets(), &mut out);
        }
        let named: Vec<&str> = out.not_used.iter().map(|n| n.resource.as_str()).collect();
        assert_eq!(named, ["Condition/c-unknown", "Condition/c-uncoded"]);
        assert!(
            out.not_used[0]
                .reason
                .starts_with("ICD-10-CM Z99.89: no value set configured for this code"),
            "the clinician sees what was not used: {}",
            out.not_used[0].reason
        );
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
        let wire = medication(&request, &chart, &sets(), date(2026, 3, 15), &mut out).unwrap();
        assert_eq!(wire.name, "hydrochlorothiazide");
        assert_eq!(wire.rxnorm_cui.as_deref(), Some("5487"));
        assert_eq!(wire.weeks_since_started, Some(4));
        let dangling: MedicationUse =
            serde_json::from_value(json!({"resourceType": "MedicationRequest",
            "id": "r2", "status": "active", "medicationReference": {"reference": "Medication/zz"}}))
            .unwrap();
        assert!(medication(&dangling, &chart, &sets(), date(2026, 3, 15), &mut out).is_none());
        assert_eq!(out.not_used[0].resource, "MedicationRequest/r2");
    }

    #[test]
    fn no_code_the_reference_marks_unverified_is_read() {
        use cramp_core::kb::codes::UNVERIFIED;
        for lab in LABS {
            for (code, _) in lab.codes {
                assert!(!UNVERIFIED.contains(code), "{} LOINC {code}", lab.field);
            }
        }
    }

    fn condition(id: &str, system: &str, code: &str, status: &str) -> Condition {
        serde_json::from_value(json!({
            "resourceType": "Condition", "id": id,
            "clinicalStatus": {"coding": [{"code": status}]},
            "code": {"coding": [{"system": system, "code": code}]}}))
        .unwrap()
    }

    #[test]
    fn conditions_are_read_by_value_set_as_ehrs_code_them() {
        let mut history = pb::CrampHistory::default();
        let mut out = Provenance::default();
        for (id, system, code) in [
            ("dm", SNOMED, "44054006"),
            ("ckd", ICD10CM, "N18.31"),
            ("htn", ICD10CM, "I10"),
            ("smoke", SNOMED, "77176002"),
            ("smoke-icd", ICD10CM, "F17.210"),
            ("htn-sct", SNOMED, "38341003"),
            ("lipid", ICD10CM, "E78.5"),
        ] {
            apply_condition(
                &mut history,
                &condition(id, system, code, "active"),
                &sets(),
                &mut out,
            );
        }
        let c = history.conditions.unwrap();
        assert_eq!(c.diabetes, pb::Diabetes::Type2 as i32);
        assert_eq!(c.chronic_kidney_disease, Some(true));
        assert_eq!(c.ckd_stage, pb::CkdStage::G3a as i32);
        assert_eq!(c.hypertension, Some(true));
        assert_eq!(c.smoking, pb::Smoking::Current as i32);
        assert_eq!(
            c.high_cholesterol, None,
            "E78.5 is in no bound set (only in an unbound one): unknown, not no"
        );
        assert_eq!(out.pointers["conditions.smoking"], "Condition/smoke-icd");
        assert_eq!(out.pointers["conditions.ckd_stage"], "Condition/ckd");
        assert_eq!(out.not_used.len(), 1);
        assert_eq!(out.not_used[0].resource, "Condition/lipid");
    }

    #[test]
    fn each_value_set_input_stays_unknown_without_a_code_for_it() {
        // A chart of conditions the sets do not hold leaves every value-set-driven field unknown.
        let mut history = pb::CrampHistory::default();
        let mut out = Provenance::default();
        for (id, code) in [("a", "J45.909"), ("b", "E11"), ("c", "N18.3")] {
            apply_condition(
                &mut history,
                &condition(id, ICD10CM, code, "active"),
                &sets(),
                &mut out,
            );
        }
        let c = history.conditions.unwrap_or_default();
        assert_eq!(c.diabetes, pb::Diabetes::Unspecified as i32);
        assert_eq!(c.smoking, pb::Smoking::Unspecified as i32);
        assert_eq!(c.thyroid, pb::Thyroid::Unspecified as i32);
        assert_eq!(c.ckd_stage, pb::CkdStage::Unspecified as i32);
        for field in [
            c.hypertension,
            c.high_cholesterol,
            c.coronary_or_cerebrovascular_disease,
            c.known_peripheral_artery_disease,
            c.chronic_kidney_disease,
            c.on_dialysis,
            c.spinal_stenosis_or_disc_disease,
            c.prior_dvt_or_pe,
            c.atrial_fibrillation,
            c.liver_disease,
        ] {
            assert_eq!(field, None);
        }
        assert_eq!(out.not_used.len(), 3);
    }

    #[test]
    fn a_chart_lab_wins_over_the_patients_report_and_the_newest_chart_value_wins() {
        let mut history = pb::CrampHistory {
            findings: Some(pb::Findings {
                labs: Some(pb::Labs {
                    potassium_mmol_l: Some(4.4),
                    ..pb::Labs::default()
                }),
                ..pb::Findings::default()
            }),
            ..pb::CrampHistory::default()
        };
        let mut out = Provenance::default();
        out.pointers.insert(
            "findings.labs.potassium_mmol_l".into(),
            "QuestionnaireResponse/qr#linkId=findings.labs.potassium_mmol_l".into(),
        );
        let obs = |id: &str, loinc: &str, value: f64, date: &str| {
            observation(
                json!({"resourceType": "Observation", "id": id, "status": "final",
                "code": {"coding": [{"system": LOINC, "code": loinc}]},
                "effectiveDateTime": date,
                "valueQuantity": {"value": value, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}}),
            )
        };
        for o in [
            obs("k-new", "6298-4", 3.1, "2026-03-01T08:00:00Z"),
            obs("k-old", "2823-3", 3.9, "2025-11-02"),
        ] {
            apply_observation(&mut history, &o, &sets(), &mut out);
        }
        let labs = history.findings.unwrap().labs.unwrap();
        assert_eq!(labs.potassium_mmol_l, Some(3.1));
        assert_eq!(
            out.pointers["findings.labs.potassium_mmol_l"],
            "Observation/k-new, chart value of 2026-03-01"
        );
        assert_eq!(out.not_used.len(), 1);
        assert_eq!(out.not_used[0].resource, "Observation/k-old");
        assert!(
            !out.not_used[0].reason.contains("3.9"),
            "never a patient value"
        );
    }

    #[test]
    fn a_product_code_without_display_is_named_and_a_duplicate_appears_once() {
        let use_of = |id: &str, cui: &str| -> MedicationUse {
            serde_json::from_value(json!({"resourceType": "MedicationRequest", "id": id,
                "status": "active",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": cui}]}}))
            .unwrap()
        };
        let mut history = pb::CrampHistory {
            medications: vec![pb::Medication {
                name: "HCTZ 25 mg".into(),
                ..pb::Medication::default()
            }],
            ..pb::CrampHistory::default()
        };
        let mut out = Provenance::default();
        out.pointers.insert(
            "medications[0].name".into(),
            "QuestionnaireResponse/qr#linkId=medications.name".into(),
        );
        let chart = Chart::default();
        let today = date(2026, 3, 15);
        for m in [
            use_of("hctz", "310798"),
            use_of("furo", "310429"),
            use_of("odd", "99999999"),
        ] {
            let mut listed: Vec<Vec<&'static str>> =
                history.medications.iter().map(ingredients).collect();
            apply_medication(
                &mut history,
                &mut listed,
                &m,
                &chart,
                &sets(),
                today,
                &mut out,
            );
        }
        let names: Vec<&str> = history
            .medications
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["HCTZ 25 mg", "furosemide 20 mg tablet"]);
        assert_eq!(
            out.pointers["medications[0].name"],
            "QuestionnaireResponse/qr#linkId=medications.name and MedicationRequest/hctz"
        );
        assert_eq!(out.not_used.len(), 1);
        assert_eq!(out.not_used[0].resource, "MedicationRequest/odd");
    }

    #[test]
    fn statuses_history_dialysis_and_the_patients_former_smoking_are_respected() {
        let mut history = pb::CrampHistory {
            conditions: Some(pb::Conditions {
                smoking: pb::Smoking::Former as i32,
                ..pb::Conditions::default()
            }),
            ..pb::CrampHistory::default()
        };
        let mut out = Provenance::default();
        let refuted: Condition = serde_json::from_value(json!({
            "resourceType": "Condition", "id": "refuted",
            "verificationStatus": {"coding": [{"code": "refuted"}]},
            "code": {"coding": [{"system": ICD10CM, "code": "I10"}]}}))
        .unwrap();
        apply_condition(&mut history, &refuted, &sets(), &mut out);
        for (id, system, code, status) in [
            ("old-htn", ICD10CM, "I10", "resolved"),
            ("old-pe", SNOMED, "59282003", "resolved"),
            ("esrd", ICD10CM, "N18.6", "active"),
            ("smoker", SNOMED, "77176002", "active"),
        ] {
            apply_condition(
                &mut history,
                &condition(id, system, code, status),
                &sets(),
                &mut out,
            );
        }
        let c = history.conditions.unwrap();
        assert_eq!(c.hypertension, None, "refuted and resolved are not current");
        assert_eq!(c.prior_dvt_or_pe, Some(true), "a past PE is a prior PE");
        assert_eq!(c.on_dialysis, None, "ESRD does not say dialysis");
        assert_eq!(c.chronic_kidney_disease, Some(true));
        assert_eq!(c.ckd_stage, pb::CkdStage::G5 as i32);
        assert_eq!(
            c.smoking,
            pb::Smoking::Former as i32,
            "the patient's recent quit is newer than the chart"
        );
        let named: Vec<&str> = out.not_used.iter().map(|n| n.resource.as_str()).collect();
        assert_eq!(named, ["Condition/refuted", "Condition/old-htn"]);
    }

    #[test]
    fn an_unknown_lab_code_or_a_stopped_medicine_leaves_the_field_unknown_and_is_named() {
        let mut history = pb::CrampHistory::default();
        let mut out = Provenance::default();
        let glucose = observation(json!({"resourceType": "Observation", "id": "glu",
            "status": "final", "code": {"coding": [{"system": LOINC, "code": "2345-7"}]},
            "valueQuantity": {"value": 5.4, "unit": "mmol/L"}}));
        apply_observation(&mut history, &glucose, &sets(), &mut out);
        assert!(history.findings.is_none(), "no lab field is filled");
        let stopped: MedicationUse = serde_json::from_value(json!({
            "resourceType": "MedicationRequest", "id": "stopped", "status": "stopped",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "310798"}]}}))
        .unwrap();
        let mut listed = Vec::new();
        apply_medication(
            &mut history,
            &mut listed,
            &stopped,
            &Chart::default(),
            &sets(),
            date(2026, 3, 15),
            &mut out,
        );
        assert!(history.medications.is_empty());
        let named: Vec<&str> = out.not_used.iter().map(|n| n.resource.as_str()).collect();
        assert_eq!(named, ["Observation/glu", "MedicationRequest/stopped"]);
        assert!(out.not_used.iter().all(|n| !n.reason.contains("5.4")));
    }
}

#[cfg(test)]
mod without_value_sets {
    use serde_json::json;

    use super::*;

    #[test]
    fn without_a_directory_the_issue_codes_are_not_used_and_stay_unknown() {
        let sets = ValueSets::reference();
        let mut history = pb::CrampHistory::default();
        let mut out = Provenance::default();
        for (id, system, code) in [
            ("dm", ICD10CM, "E11.9"),
            ("htn", ICD10CM, "I10"),
            ("ckd", ICD10CM, "N18.31"),
            ("dm-ref", ICD10CM, "E11.42"),
        ] {
            let condition: Condition = serde_json::from_value(json!({
                "resourceType": "Condition", "id": id,
                "code": {"coding": [{"system": system, "code": code}]}}))
            .unwrap();
            apply_condition(&mut history, &condition, &sets, &mut out);
        }
        let named: Vec<&str> = out.not_used.iter().map(|n| n.resource.as_str()).collect();
        assert_eq!(named, ["Condition/dm", "Condition/htn", "Condition/ckd"]);
        assert!(
            out.not_used
                .iter()
                .all(|n| n.reason.contains("no value set configured for this code"))
        );
        let c = history.conditions.unwrap();
        assert_eq!(c.hypertension, None, "unknown, never 'no'");
        assert_eq!(c.chronic_kidney_disease, None);
        assert_eq!(
            c.diabetes,
            pb::Diabetes::Type2 as i32,
            "the reference's own E11.42 is read"
        );
    }
}
