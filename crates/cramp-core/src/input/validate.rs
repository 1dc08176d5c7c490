//! Validation: a raw [`CrampHistory`] becomes a [`ValidHistory`], or every bad field is named.
//!
//! Validation collects all violations instead of stopping at the first, so a caller fixes a form
//! in one round trip. Only a [`ValidHistory`] can be evaluated, which makes "nothing is partially
//! assessed" a property of the types rather than of each caller's discipline.

use super::{CrampHistory, Sex};

/// Most medications one history may carry (intake.md).
pub const MAX_MEDICATIONS: usize = 100;
/// Longest string the intake accepts, in characters (intake.md).
pub const MAX_STRING_CHARS: usize = 200;

/// One bad field: its path from the history root and what is wrong with it.
///
/// The description never repeats the submitted value, so violations are safe to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path from the history root, e.g. `patient.age_years` or `medications[0].name`.
    pub field: String,
    /// What is wrong, in words a form author can act on.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Why a history could not be assessed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// One or more fields are out of range, contradictory, missing or unknown.
    #[error("the history has {} invalid field(s)", .0.len())]
    InvalidFields(Vec<FieldViolation>),
}

impl InputError {
    /// Every violation, in field order of the intake contract.
    #[must_use]
    pub fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::InvalidFields(v) => v,
        }
    }
}

/// A history that passed validation; the only input [`crate::evaluate`] accepts.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidHistory(CrampHistory);

impl ValidHistory {
    /// The validated history.
    #[must_use]
    pub fn history(&self) -> &CrampHistory {
        &self.0
    }
}

/// Validates `history`, adding any violations an adapter already found (unknown enum numbers,
/// malformed values) so that the caller hears about every bad field at once.
///
/// # Errors
/// [`InputError::InvalidFields`] naming every bad field when anything is wrong.
pub fn validate(
    history: CrampHistory,
    prior: Vec<FieldViolation>,
) -> Result<ValidHistory, InputError> {
    let mut v = Checker { violations: prior };
    let h = &history;

    match h.patient.age_years {
        None => v.push("patient.age_years", "is required"),
        Some(age) => v.range_u32("patient.age_years", Some(age), 1, 120),
    }
    if h.patient.pregnant == Some(true) && h.patient.sex == Some(Sex::Male) {
        v.push(
            "patient.pregnant",
            "cannot be true when patient.sex is SEX_MALE",
        );
    }
    v.range_u32("patient.pregnancy_weeks", h.patient.pregnancy_weeks, 1, 45);

    let c = &h.cramps;
    v.range_f64("cramps.episodes_per_week", c.episodes_per_week, 0.0, 500.0);
    v.range_u32(
        "cramps.typical_duration_seconds",
        c.typical_duration_seconds,
        0,
        604_800,
    );
    v.range_u32("cramps.severity", c.severity, 0, 10);

    if h.medications.len() > MAX_MEDICATIONS {
        v.push(
            "medications",
            &format!("must hold at most {MAX_MEDICATIONS} entries"),
        );
    }
    for (i, m) in h.medications.iter().enumerate() {
        if m.name.trim().is_empty() {
            v.push(
                &format!("medications[{i}].name"),
                "is required and must not be blank",
            );
        }
        // The path is built only for a violation: this runs for every medication of every
        // record.
        for (name, value) in [
            ("name", Some(m.name.as_str())),
            ("rxnorm_cui", m.rxnorm_cui.as_deref()),
            ("atc_code", m.atc_code.as_deref()),
        ] {
            if too_long(value) {
                v.length(&format!("medications[{i}].{name}"), value);
            }
        }
    }

    v.range_f64(
        "lifestyle.daily_fluid_liters",
        h.lifestyle.daily_fluid_liters,
        0.0,
        20.0,
    );

    let f = &h.findings;
    v.range_f64(
        "findings.ankle_brachial_index",
        f.ankle_brachial_index,
        0.0,
        2.0,
    );
    v.range_f64(
        "findings.toe_brachial_index",
        f.toe_brachial_index,
        0.0,
        2.0,
    );
    v.range_u32("findings.heart_rate_bpm", f.heart_rate_bpm, 20, 250);
    v.range_f64(
        "findings.calf_circumference_difference_cm",
        f.calf_circumference_difference_cm,
        0.0,
        30.0,
    );

    // Plausibility bounds of clinical-reference.md (f): outside them a value is a probable unit
    // error or typo, so it is rejected rather than interpreted.
    let l = &f.labs;
    v.lab(
        "findings.labs.potassium_mmol_l",
        l.potassium_mmol_l,
        1.0,
        10.0,
    );
    v.lab("findings.labs.sodium_mmol_l", l.sodium_mmol_l, 90.0, 200.0);
    v.lab(
        "findings.labs.magnesium_mg_dl",
        l.magnesium_mg_dl,
        0.3,
        10.0,
    );
    v.lab("findings.labs.calcium_mg_dl", l.calcium_mg_dl, 3.0, 20.0);
    v.lab(
        "findings.labs.phosphate_mg_dl",
        l.phosphate_mg_dl,
        0.3,
        20.0,
    );
    v.lab(
        "findings.labs.egfr_ml_min_1_73m2",
        l.egfr_ml_min_1_73m2,
        1.0,
        200.0,
    );
    v.lab("findings.labs.hba1c_percent", l.hba1c_percent, 3.0, 20.0);
    v.lab("findings.labs.ck_u_l", l.ck_u_l, 1.0, 2_000_000.0);
    v.lab("findings.labs.tsh_miu_l", l.tsh_miu_l, 0.001, 500.0);
    v.lab(
        "findings.labs.vitamin_d_ng_ml",
        l.vitamin_d_ng_ml,
        1.0,
        400.0,
    );
    v.lab(
        "findings.labs.vitamin_b12_pg_ml",
        l.vitamin_b12_pg_ml,
        20.0,
        10_000.0,
    );

    if v.violations.is_empty() {
        Ok(ValidHistory(history))
    } else {
        Err(InputError::InvalidFields(v.violations))
    }
}

/// Over [`MAX_STRING_CHARS`] characters.
fn too_long(value: Option<&str>) -> bool {
    value.is_some_and(|s| s.chars().count() > MAX_STRING_CHARS)
}

struct Checker {
    violations: Vec<FieldViolation>,
}

impl Checker {
    fn push(&mut self, field: &str, description: &str) {
        self.violations
            .push(FieldViolation::new(field, description));
    }

    fn range_u32(&mut self, field: &str, value: Option<u32>, min: u32, max: u32) {
        if let Some(x) = value
            && !(min..=max).contains(&x)
        {
            self.push(field, &format!("must be between {min} and {max}"));
        }
    }

    fn range_f64(&mut self, field: &str, value: Option<f64>, min: f64, max: f64) {
        if let Some(x) = value
            && !(x.is_finite() && (min..=max).contains(&x))
        {
            self.push(field, &format!("must be a number between {min} and {max}"));
        }
    }

    fn lab(&mut self, field: &str, value: Option<f64>, min: f64, max: f64) {
        if let Some(x) = value
            && !(x.is_finite() && (min..=max).contains(&x))
        {
            self.push(
                field,
                &format!(
                    "is outside the plausible range {min} to {max}: check the value and its units"
                ),
            );
        }
    }

    fn length(&mut self, field: &str, value: Option<&str>) {
        if too_long(value) {
            self.push(
                field,
                &format!("must be at most {MAX_STRING_CHARS} characters"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Medication;

    fn valid() -> CrampHistory {
        let mut h = CrampHistory::default();
        h.patient.age_years = Some(50);
        h
    }

    fn fields(h: CrampHistory) -> Vec<String> {
        match validate(h, Vec::new()) {
            Ok(_) => Vec::new(),
            Err(e) => e.violations().iter().map(|v| v.field.clone()).collect(),
        }
    }

    #[test]
    fn minimal_history_is_valid() {
        assert!(validate(valid(), Vec::new()).is_ok());
    }

    #[test]
    fn age_is_required_and_bounded() {
        let mut h = valid();
        h.patient.age_years = None;
        assert_eq!(fields(h.clone()), ["patient.age_years"]);
        for bad in [0, 121] {
            h.patient.age_years = Some(bad);
            assert_eq!(fields(h.clone()), ["patient.age_years"]);
        }
        for good in [1, 120] {
            h.patient.age_years = Some(good);
            assert!(fields(h.clone()).is_empty());
        }
    }

    #[test]
    fn pregnant_male_is_a_contradiction() {
        let mut h = valid();
        h.patient.sex = Some(Sex::Male);
        h.patient.pregnant = Some(true);
        assert_eq!(fields(h.clone()), ["patient.pregnant"]);
        h.patient.sex = Some(Sex::Female);
        assert!(fields(h).is_empty());
    }

    #[test]
    fn dialysis_without_kidney_disease_is_allowed() {
        let mut h = valid();
        h.conditions.on_dialysis = Some(true);
        h.conditions.chronic_kidney_disease = Some(false);
        assert!(fields(h).is_empty());
    }

    #[test]
    fn numeric_ranges_are_enforced() {
        let mut h = valid();
        h.patient.pregnancy_weeks = Some(46);
        h.cramps.episodes_per_week = Some(500.5);
        h.cramps.typical_duration_seconds = Some(604_801);
        h.cramps.severity = Some(11);
        h.lifestyle.daily_fluid_liters = Some(f64::NAN);
        h.findings.ankle_brachial_index = Some(2.1);
        h.findings.toe_brachial_index = Some(-0.1);
        h.findings.heart_rate_bpm = Some(19);
        h.findings.calf_circumference_difference_cm = Some(31.0);
        assert_eq!(
            fields(h),
            [
                "patient.pregnancy_weeks",
                "cramps.episodes_per_week",
                "cramps.typical_duration_seconds",
                "cramps.severity",
                "lifestyle.daily_fluid_liters",
                "findings.ankle_brachial_index",
                "findings.toe_brachial_index",
                "findings.heart_rate_bpm",
                "findings.calf_circumference_difference_cm",
            ]
        );
    }

    #[test]
    fn lab_plausibility_bounds_reject_unit_errors() {
        let mut h = valid();
        let l = &mut h.findings.labs;
        l.potassium_mmol_l = Some(10.5);
        l.sodium_mmol_l = Some(89.0);
        l.magnesium_mg_dl = Some(0.2);
        l.calcium_mg_dl = Some(2.3); // mmol/L sent as mg/dL
        l.phosphate_mg_dl = Some(21.0);
        l.egfr_ml_min_1_73m2 = Some(0.5);
        l.hba1c_percent = Some(53.0); // IFCC mmol/mol sent as %
        l.ck_u_l = Some(0.0);
        l.tsh_miu_l = Some(600.0);
        l.vitamin_d_ng_ml = Some(401.0);
        l.vitamin_b12_pg_ml = Some(10.0);
        assert_eq!(fields(h).len(), 11);
    }

    #[test]
    fn medications_are_checked_each_and_in_number() {
        let mut h = valid();
        h.medications = vec![
            Medication {
                name: "  ".into(),
                ..Medication::default()
            },
            Medication {
                name: "x".repeat(201),
                atc_code: Some("C".repeat(201)),
                ..Medication::default()
            },
        ];
        assert_eq!(
            fields(h.clone()),
            [
                "medications[0].name",
                "medications[1].name",
                "medications[1].atc_code"
            ]
        );
        h.medications = vec![
            Medication {
                name: "aspirin".into(),
                ..Medication::default()
            };
            101
        ];
        assert_eq!(fields(h), ["medications"]);
    }

    #[test]
    fn prior_violations_are_kept_and_every_field_is_named() {
        let mut h = valid();
        h.patient.age_years = None;
        h.cramps.severity = Some(12);
        let prior = vec![FieldViolation::new(
            "cramps.locations[0]",
            "unknown enum value 99",
        )];
        let err = validate(h, prior).err().map(|e| e.violations().len());
        assert_eq!(err, Some(3));
    }
}
