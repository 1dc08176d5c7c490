//! Conversions between the wire types (`pb`) and the core's model, in both directions.
//!
//! The core knows nothing about protobuf, and the generated types know nothing about clinical
//! meaning, so every door meets here. The conversions are total: an enum number the contract does
//! not know becomes a [`FieldViolation`] for [`cramp_core::validate`] to report with every other
//! bad field, never a panic or a silent default. Messages are destructured exhaustively, so a
//! field added to a proto or a core type fails the build here until someone decides what it means.
//!
//! Enums are translated by value name (`SEX_MALE`), never by number, because the names are the
//! contract and both sides are tested to carry exactly the same set.

use cramp_core::FieldViolation;

use crate::{contract::Output as _, pb};

/// Converts a wire history into the core's model.
///
/// Returns the history together with one violation per enum number the contract does not know,
/// with paths relative to the history root (`cramps.locations[1]`). Pass those violations to
/// [`cramp_core::validate`] as `prior`, so the caller hears about every bad field at once.
#[must_use]
pub fn history_from_pb(
    history: pb::CrampHistory,
) -> (cramp_core::CrampHistory, Vec<FieldViolation>) {
    let mut decoder = Decoder::default();
    let pb::CrampHistory {
        patient,
        cramps,
        symptoms,
        conditions,
        medications,
        lifestyle,
        findings,
    } = history;
    let history = cramp_core::CrampHistory {
        patient: patient_from_pb(&mut decoder, patient.unwrap_or_default()),
        cramps: cramps_from_pb(&mut decoder, cramps.unwrap_or_default()),
        symptoms: symptoms_from_pb(&mut decoder, symptoms.unwrap_or_default()),
        conditions: conditions_from_pb(&mut decoder, conditions.unwrap_or_default()),
        medications: medications.into_iter().map(medication_from_pb).collect(),
        lifestyle: lifestyle_from_pb(&mut decoder, lifestyle.unwrap_or_default()),
        findings: findings_from_pb(&mut decoder, findings.unwrap_or_default()),
        unread_inputs: Vec::new(),
    };
    (history, decoder.violations)
}

/// How much of an assessment goes on the wire (`cramp.v1.AssessmentView`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    /// Everything, texts included.
    #[default]
    Full,
    /// Codes and ids only: the full assessment with its human-readable text fields left empty
    /// (see `ASSESSMENT_VIEW_BASIC` in `batch.proto`).
    Basic,
}

impl View {
    /// The view a wire number asks for; `None` for a number the contract does not know.
    /// UNSPECIFIED is FULL (AIP-157), so callers that never set it are unaffected.
    #[must_use]
    pub fn from_number(number: i32) -> Option<Self> {
        match pb::AssessmentView::try_from(number).ok()? {
            pb::AssessmentView::Unspecified | pb::AssessmentView::Full => Some(Self::Full),
            pb::AssessmentView::Basic => Some(Self::Basic),
        }
    }
}

/// Converts an assessment into its wire form.
#[must_use]
pub fn assessment_to_pb(assessment: &cramp_core::Assessment) -> pb::Assessment {
    assessment_to_pb_view(assessment, View::Full)
}

/// Converts an assessment into its wire form in `view`. The basic view is the full one with the
/// text fields empty, built without ever allocating those texts. The fields and what each view
/// keeps are described once, in the `contract` module, which also writes the direct JSON.
#[must_use]
pub fn assessment_to_pb_view(assessment: &cramp_core::Assessment, view: View) -> pb::Assessment {
    assessment.to_pb(view)
}

/// Converts the knowledge base (every rule's metadata and every source) into its wire form.
#[must_use]
pub fn knowledge_base_to_pb(kb: &cramp_core::KnowledgeBase) -> pb::KnowledgeBase {
    pb::KnowledgeBase {
        version: kb.version().to_owned(),
        rules: kb.rules().map(rule_to_pb).collect(),
        sources: kb.sources().iter().map(|c| c.to_pb(View::Full)).collect(),
        medication_lexicon_version: kb.medication_lexicon_version().to_owned(),
    }
}

/// A core enum and the generated enum that carries it on the wire, related by value name.
pub(crate) trait WireEnum: Sized + Copy {
    /// Reads a wire number: zero is "not given", a number or name the core lacks is unknown.
    fn from_number(number: i32) -> Decoded<Self>;
    /// The wire number of this value.
    fn to_number(self) -> i32;
    /// The value's contract name (`FLAG_PAD_PATTERN`), which proto3 JSON writes.
    fn name(self) -> &'static str;
}

/// What a wire enum number means to the core.
pub(crate) enum Decoded<T> {
    /// `*_UNSPECIFIED`: the question was not asked.
    Unspecified,
    /// A value both sides know.
    Known(T),
    /// A number outside the contract (a newer or broken client).
    Unknown,
}

macro_rules! wire_enums {
    ($($name:ident),+ $(,)?) => {$(
        impl WireEnum for cramp_core::$name {
            fn from_number(number: i32) -> Decoded<Self> {
                // By wire number through a table built once from `to_number`, for the reason
                // given there; a number no core value has is unknown, as by name.
                static VALUES: std::sync::OnceLock<Vec<Option<cramp_core::$name>>> =
                    std::sync::OnceLock::new();
                if number == pb::$name::Unspecified as i32 {
                    return Decoded::Unspecified;
                }
                let values = VALUES.get_or_init(|| {
                    let mut values = Vec::new();
                    for value in cramp_core::$name::ALL {
                        if let Ok(at) = usize::try_from(value.to_number()) {
                            if values.len() <= at {
                                values.resize(at + 1, None);
                            }
                            if let Some(slot) = values.get_mut(at) {
                                *slot = Some(*value);
                            }
                        }
                    }
                    values
                });
                usize::try_from(number)
                    .ok()
                    .and_then(|at| values.get(at).copied().flatten())
                    .map_or(Decoded::Unknown, Decoded::Known)
            }

            fn name(self) -> &'static str {
                cramp_core::$name::name(self)
            }

            fn to_number(self) -> i32 {
                // Looked up by position (`ALL` is in declaration order, so a value's position is
                // its discriminant), once per enum: matching the name against every wire name
                // on each call cost more than the rest of an assessment's conversion.
                // INVARIANT: `enum_names_agree` proves every core name exists on the wire, so the
                // fallbacks to UNSPECIFIED are unreachable while that test passes.
                static NUMBERS: std::sync::OnceLock<Vec<i32>> = std::sync::OnceLock::new();
                NUMBERS
                    .get_or_init(|| {
                        cramp_core::$name::ALL
                            .iter()
                            .map(|v| {
                                pb::$name::from_str_name(v.name()).unwrap_or(pb::$name::Unspecified)
                                    as i32
                            })
                            .collect()
                    })
                    .get(self as usize)
                    .copied()
                    .unwrap_or(pb::$name::Unspecified as i32)
            }
        }
    )+};
}

/// Calls `$apply!` with every enum that crosses the wire: one list, so the impls and the test
/// that proves both sides agree cannot cover different sets.
macro_rules! with_wire_enums {
    ($apply:ident) => {
        $apply!(
            Sex,
            Location,
            Laterality,
            Context,
            Relief,
            Swelling,
            UrineColor,
            Diabetes,
            Smoking,
            Thyroid,
            CkdStage,
            ActivityLevel,
            Pulses,
            Sensation,
            Urgency,
            Flag,
            Workup,
            DrugClass,
            MedicationMatch,
            EvidenceStrength,
        );
    };
}

with_wire_enums!(wire_enums);

/// Collects the violations found while reading enum numbers.
#[derive(Default)]
struct Decoder {
    violations: Vec<FieldViolation>,
}

impl Decoder {
    /// A singular enum field: unspecified is `None`, unknown is `None` plus a violation.
    fn one<T: WireEnum>(&mut self, path: &str, number: i32) -> Option<T> {
        match T::from_number(number) {
            Decoded::Unspecified => None,
            Decoded::Known(value) => Some(value),
            Decoded::Unknown => {
                self.unknown(path.to_owned());
                None
            }
        }
    }

    /// A repeated enum field: every entry must name a value, so an unspecified entry is a
    /// violation too (it would otherwise vanish without the caller knowing).
    fn list<T: WireEnum>(&mut self, path: &str, numbers: Vec<i32>) -> Vec<T> {
        let mut values = Vec::with_capacity(numbers.len());
        for (i, number) in numbers.into_iter().enumerate() {
            match T::from_number(number) {
                Decoded::Known(value) => values.push(value),
                Decoded::Unspecified => self.violations.push(FieldViolation::new(
                    format!("{path}[{i}]"),
                    "must name a value; UNSPECIFIED is not allowed in a list",
                )),
                Decoded::Unknown => self.unknown(format!("{path}[{i}]")),
            }
        }
        values
    }

    fn unknown(&mut self, path: String) {
        self.violations.push(FieldViolation::new(
            path,
            "is not a known value of its enum",
        ));
    }
}

/// Moves one message's fields across: `plain` fields have the same type on both sides, `enums`
/// and `lists` are read through the [`Decoder`] under `$prefix`.
macro_rules! message_from_pb {
    (
        $decoder:ident, $source:expr, $message:ident, $prefix:literal,
        plain { $($plain:ident),* $(,)? }
        enums { $($one:ident),* $(,)? }
        lists { $($many:ident),* $(,)? }
    ) => {{
        let pb::$message { $($plain,)* $($one,)* $($many,)* } = $source;
        cramp_core::$message {
            $($plain,)*
            $($one: $decoder.one(concat!($prefix, ".", stringify!($one)), $one),)*
            $($many: $decoder.list(concat!($prefix, ".", stringify!($many)), $many),)*
        }
    }};
}

fn patient_from_pb(d: &mut Decoder, patient: pb::Patient) -> cramp_core::Patient {
    message_from_pb!(d, patient, Patient, "patient",
        plain { age_years, pregnant, pregnancy_weeks }
        enums { sex }
        lists {}
    )
}

fn cramps_from_pb(d: &mut Decoder, cramps: pb::Cramps) -> cramp_core::Cramps {
    message_from_pb!(d, cramps, Cramps, "cramps",
        plain {
            episodes_per_week, typical_duration_seconds, weeks_since_onset, hours_since_onset,
            severity, worse_uphill_or_hurrying, starts_when_standing_still_or_sitting,
            relieved_by_sitting_or_bending_forward, relieved_by_hanging_leg_down,
            relieved_by_stretching, pain_free_walking_meters, sudden_onset, persistent_pain,
            pain_out_of_proportion, visible_muscle_tightening, wakes_from_sleep,
            limits_daily_activities,
        }
        enums { laterality, relief_on_standing_still }
        lists { locations, contexts }
    )
}

fn symptoms_from_pb(d: &mut Decoder, symptoms: pb::Symptoms) -> cramp_core::Symptoms {
    message_from_pb!(d, symptoms, Symptoms, "symptoms",
        plain {
            numbness, tingling, burning_pain, reduced_feeling_in_feet,
            cannot_feel_temperature_with_feet, muscle_weakness, proximal_weakness, sudden_weakness,
            difficulty_walking, cannot_move_foot_or_toes, back_pain, pain_radiating_down_leg,
            saddle_numbness, bladder_or_bowel_changes, tingling_around_mouth, hand_or_foot_spasms,
            cold_feet, foot_pale_or_blue, skin_changes_on_legs, hair_loss_on_legs,
            slow_healing_foot_wounds, dry_cracked_feet, calf_redness, calf_warmth,
            calf_tenderness, tense_calf, fever, chest_pain, shortness_of_breath, coughing_blood,
            palpitations, fainting, reduced_urine_output, urination_changes, ankle_swelling,
            metallic_taste, itching, unexplained_weight_change, persistent_fatigue, thirst,
            dry_mouth, dizziness_on_standing, generalized_muscle_aches, muscle_stiffness,
            cold_intolerance, weight_gain, constipation, confusion, weakness_getting_worse,
            muscle_twitching, muscle_wasting, speech_or_swallowing_difficulty,
        }
        enums { leg_swelling, urine_color }
        lists {}
    )
}

fn conditions_from_pb(d: &mut Decoder, conditions: pb::Conditions) -> cramp_core::Conditions {
    message_from_pb!(d, conditions, Conditions, "conditions",
        plain {
            diabetes_years, hypertension, high_cholesterol, coronary_or_cerebrovascular_disease,
            known_peripheral_artery_disease, family_history_of_pad, chronic_kidney_disease,
            on_dialysis, liver_disease, spinal_stenosis_or_disc_disease, prior_dvt_or_pe,
            active_cancer, atrial_fibrillation, chronic_lung_disease, heavy_alcohol_use,
            recent_vomiting_or_diarrhea, recent_surgery, bedridden_3_days_or_more,
            recent_long_travel, leg_cast_or_recent_leg_fracture, leg_paralysis_or_paresis,
        }
        enums { diabetes, smoking, thyroid, ckd_stage }
        lists {}
    )
}

fn medication_from_pb(medication: pb::Medication) -> cramp_core::Medication {
    let pb::Medication {
        name,
        rxnorm_cui,
        atc_code,
        weeks_since_started,
        recently_stopped,
    } = medication;
    cramp_core::Medication {
        name,
        rxnorm_cui,
        atc_code,
        weeks_since_started,
        recently_stopped,
    }
}

fn lifestyle_from_pb(d: &mut Decoder, lifestyle: pb::Lifestyle) -> cramp_core::Lifestyle {
    message_from_pb!(d, lifestyle, Lifestyle, "lifestyle",
        plain {
            daily_fluid_liters, recent_unaccustomed_strenuous_exercise, skips_warm_up_or_cool_down,
            hot_environment_or_heavy_sweating, prolonged_sitting, prolonged_standing,
            limited_sun_exposure, tight_or_unsupportive_footwear, tight_clothing_on_legs_or_waist,
            sleeps_with_toes_pointed,
        }
        enums { activity_level }
        lists {}
    )
}

fn findings_from_pb(d: &mut Decoder, findings: pb::Findings) -> cramp_core::Findings {
    let pb::Findings {
        foot_pulses,
        ankle_brachial_index,
        toe_brachial_index,
        monofilament_sensation,
        vibration_sense,
        heart_rate_bpm,
        calf_circumference_difference_cm,
        pitting_edema_symptomatic_leg,
        deep_vein_tenderness,
        collateral_superficial_veins,
        pain_on_passive_stretch,
        labs,
    } = findings;
    let pb::Labs {
        potassium_mmol_l,
        sodium_mmol_l,
        magnesium_mg_dl,
        calcium_mg_dl,
        phosphate_mg_dl,
        egfr_ml_min_1_73m2,
        hba1c_percent,
        ck_u_l,
        tsh_miu_l,
        vitamin_d_ng_ml,
        vitamin_b12_pg_ml,
    } = labs.unwrap_or_default();
    cramp_core::Findings {
        foot_pulses: d.one("findings.foot_pulses", foot_pulses),
        ankle_brachial_index,
        toe_brachial_index,
        monofilament_sensation: d.one("findings.monofilament_sensation", monofilament_sensation),
        vibration_sense: d.one("findings.vibration_sense", vibration_sense),
        heart_rate_bpm,
        calf_circumference_difference_cm,
        pitting_edema_symptomatic_leg,
        deep_vein_tenderness,
        collateral_superficial_veins,
        pain_on_passive_stretch,
        labs: cramp_core::Labs {
            potassium_mmol_l,
            sodium_mmol_l,
            magnesium_mg_dl,
            calcium_mg_dl,
            phosphate_mg_dl,
            egfr_ml_min_1_73m2,
            hba1c_percent,
            ck_u_l,
            tsh_miu_l,
            vitamin_d_ng_ml,
            vitamin_b12_pg_ml,
        },
    }
}

fn rule_to_pb(rule: &cramp_core::RuleMeta) -> pb::Rule {
    let cramp_core::RuleMeta {
        id,
        version,
        title,
        flag,
        rationale,
        inputs,
        citations,
        codings,
        max_urgency,
    } = *rule;
    pb::Rule {
        id: id.to_owned(),
        version: version.to_owned(),
        title: title.to_owned(),
        flag: flag.to_number(),
        rationale: rationale.to_owned(),
        inputs: inputs.iter().map(|&i| i.to_owned()).collect(),
        citations: citations.iter().map(|c| c.to_pb(View::Full)).collect(),
        codings: codings.iter().map(|c| c.to_pb(View::Full)).collect(),
        max_urgency: max_urgency.to_number(),
    }
}

#[cfg(test)]
mod tests {
    use cramp_core::{Context, Location, Relief, Sex, Swelling};

    use super::*;

    /// Every wire value name of one generated enum, read by probing its number range (prost
    /// generates no list of values).
    fn wire_names(name_of: impl Fn(i32) -> Option<&'static str>) -> Vec<&'static str> {
        (0..=1000).filter_map(name_of).collect()
    }

    macro_rules! assert_names_agree {
        ($($name:ident),+ $(,)?) => {$({
            let core_names: Vec<&str> = cramp_core::$name::ALL.iter().map(|v| v.name()).collect();
            let wire: Vec<&str> = wire_names(|n| pb::$name::try_from(n).ok().map(|v| v.as_str_name()));
            for name in &core_names {
                assert!(wire.contains(name), "{name} is in the core but not in the proto");
            }
            for name in &wire {
                assert!(
                    name.ends_with("_UNSPECIFIED") || core_names.contains(name),
                    "{name} is in the proto but not in the core"
                );
            }
            for value in cramp_core::$name::ALL {
                let number = value.to_number();
                assert_ne!(number, 0, "{} maps to UNSPECIFIED", value.name());
                assert!(matches!(
                    <cramp_core::$name as WireEnum>::from_number(number),
                    Decoded::Known(v) if v == *value
                ));
            }
        })+};
    }

    #[test]
    fn enum_names_agree() {
        with_wire_enums!(assert_names_agree);
    }

    fn wire_history() -> pb::CrampHistory {
        pb::CrampHistory {
            patient: Some(pb::Patient {
                age_years: Some(68),
                sex: pb::Sex::Male as i32,
                pregnant: Some(false),
                pregnancy_weeks: None,
            }),
            cramps: Some(pb::Cramps {
                locations: vec![pb::Location::Calf as i32, pb::Location::Foot as i32],
                contexts: vec![pb::Context::Walking as i32],
                relief_on_standing_still: pb::Relief::Within10Minutes as i32,
                episodes_per_week: Some(2.5),
                ..pb::Cramps::default()
            }),
            symptoms: Some(pb::Symptoms {
                leg_swelling: pb::Swelling::OneLeg as i32,
                chest_pain: Some(true),
                ..pb::Symptoms::default()
            }),
            medications: vec![pb::Medication {
                name: "HCTZ 25 mg".into(),
                atc_code: Some("C03AA03".into()),
                weeks_since_started: Some(8),
                ..pb::Medication::default()
            }],
            findings: Some(pb::Findings {
                labs: Some(pb::Labs {
                    potassium_mmol_l: Some(3.1),
                    ..pb::Labs::default()
                }),
                ..pb::Findings::default()
            }),
            ..pb::CrampHistory::default()
        }
    }

    #[test]
    fn history_fields_cross_unchanged() {
        let (h, violations) = history_from_pb(wire_history());
        assert!(violations.is_empty());
        assert_eq!(h.patient.age_years, Some(68));
        assert_eq!(h.patient.sex, Some(Sex::Male));
        assert_eq!(h.patient.pregnant, Some(false));
        assert_eq!(h.cramps.locations, [Location::Calf, Location::Foot]);
        assert_eq!(h.cramps.contexts, [Context::Walking]);
        assert_eq!(
            h.cramps.relief_on_standing_still,
            Some(Relief::Within10Minutes)
        );
        assert_eq!(h.cramps.episodes_per_week, Some(2.5));
        assert_eq!(h.cramps.laterality, None, "UNSPECIFIED means not asked");
        assert_eq!(h.symptoms.leg_swelling, Some(Swelling::OneLeg));
        assert_eq!(h.symptoms.chest_pain, Some(true));
        assert_eq!(h.symptoms.fever, None);
        assert_eq!(h.medications.len(), 1);
        assert_eq!(h.medications[0].name, "HCTZ 25 mg");
        assert_eq!(h.medications[0].atc_code.as_deref(), Some("C03AA03"));
        assert_eq!(h.medications[0].weeks_since_started, Some(8));
        assert_eq!(h.findings.labs.potassium_mmol_l, Some(3.1));
    }

    #[test]
    fn absent_sub_messages_mean_nothing_was_asked() {
        let (h, violations) = history_from_pb(pb::CrampHistory::default());
        assert!(violations.is_empty());
        assert_eq!(h, cramp_core::CrampHistory::default());
    }

    #[test]
    fn unknown_enum_numbers_are_violations_at_their_paths() {
        let mut wire = wire_history();
        if let Some(p) = wire.patient.as_mut() {
            p.sex = 99;
        }
        if let Some(c) = wire.cramps.as_mut() {
            c.locations = vec![pb::Location::Calf as i32, 42, 0];
            c.laterality = -1;
        }
        if let Some(f) = wire.findings.as_mut() {
            f.vibration_sense = 7;
        }
        let (h, violations) = history_from_pb(wire);
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "patient.sex",
                "cramps.laterality",
                "cramps.locations[1]",
                "cramps.locations[2]",
                "findings.vibration_sense"
            ]
        );
        assert_eq!(h.patient.sex, None);
        assert_eq!(h.cramps.locations, [Location::Calf]);
    }

    #[test]
    fn assessment_and_knowledge_base_reach_the_wire() {
        let kb = cramp_core::KnowledgeBase::standard();
        let (h, _) = history_from_pb(wire_history());
        let valid = cramp_core::validate(h, Vec::new()).unwrap();
        let assessment = cramp_core::evaluate(&kb, &valid);
        let wire = assessment_to_pb(&assessment);
        assert_eq!(wire.knowledge_base_version, kb.version());
        assert_eq!(
            wire.medication_lexicon_version,
            kb.medication_lexicon_version()
        );
        assert_eq!(
            pb::Urgency::try_from(wire.urgency)
                .ok()
                .map(|u| u.as_str_name()),
            Some(assessment.urgency.name())
        );
        assert_eq!(wire.flags.len(), assessment.flags.len());
        assert_eq!(
            wire.medication_findings.len(),
            assessment.medication_findings.len()
        );

        let wire_kb = knowledge_base_to_pb(&kb);
        assert_eq!(wire_kb.version, kb.version());
        assert_eq!(wire_kb.rules.len(), kb.rules().len());
        assert_eq!(wire_kb.sources.len(), kb.sources().len());
        for (rule, meta) in wire_kb.rules.iter().zip(kb.rules()) {
            assert_eq!(rule.id, meta.id);
            assert_eq!(rule.citations.len(), meta.citations.len());
            assert_ne!(rule.flag, 0);
            assert_ne!(rule.max_urgency, 0);
        }
    }
}
