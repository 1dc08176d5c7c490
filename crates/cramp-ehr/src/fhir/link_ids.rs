//! The intake Questionnaires' items: one per `CrampHistory` field, `linkId` = the field path.
//!
//! This table is the single source of truth for the FHIR doors: the published Questionnaires are
//! generated from it, QuestionnaireResponses are read through it, and a test proves it covers
//! exactly the proto's fields with matching types. Enum answer lists come from the core's enums,
//! so a new enum value reaches the Questionnaires without an edit here.
//!
//! The fields are split between two Questionnaires ([`Form`]): the patient-facing intake asks
//! only what a patient can answer, and the clinician's companion carries the examination and the
//! laboratory results, which a patient cannot give and a form must not ask them for. Together
//! they ask every field exactly once, so two responses never answer the same field.

/// What an item's answers are.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// `valueBoolean`.
    Boolean,
    /// `valueInteger` (proto `uint32`).
    Integer,
    /// `valueDecimal` (proto `double`).
    Decimal,
    /// `valueString`.
    String,
    /// `valueCoding`, one answer; the codes are the enum's value names.
    Choice(fn() -> Vec<&'static str>),
    /// `valueCoding`, one answer per value (a repeated enum).
    MultiChoice(fn() -> Vec<&'static str>),
}

/// A condition on another item's answer that makes an item relevant.
#[derive(Clone, Copy, Debug)]
pub enum When {
    /// The boolean item was answered with this value.
    Is(&'static str, bool),
    /// The choice item was answered with this code.
    Coded(&'static str, &'static str),
    /// The choice item was answered with anything but this code.
    NotCoded(&'static str, &'static str),
}

/// One question.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    /// The field path, relative to the history root (`medications.name` inside the group).
    pub link_id: &'static str,
    /// The question as a patient or clinician reads it.
    pub text: &'static str,
    /// The answer type.
    pub answer: Answer,
    /// Required by the intake contract.
    pub required: bool,
    /// When the item is shown (any one condition suffices); empty means always.
    pub enable_when: &'static [When],
    /// Filled by the form software (a medicine picker's codes), never shown to the person
    /// answering: published with the `questionnaire-hidden` extension.
    pub hidden: bool,
}

/// A group of questions (`patient`, `cramps`, ...).
#[derive(Clone, Copy, Debug)]
pub struct Group {
    /// The group's linkId: the message's field name.
    pub link_id: &'static str,
    /// Heading.
    pub text: &'static str,
    /// Whether the group repeats (`medications`: one group per medicine).
    pub repeats: bool,
    /// Its questions.
    pub items: &'static [Item],
    /// Groups nested inside (`findings.labs`).
    pub groups: &'static [Group],
}

const fn q(link_id: &'static str, answer: Answer, text: &'static str) -> Item {
    Item {
        link_id,
        text,
        answer,
        required: false,
        enable_when: &[],
        hidden: false,
    }
}

const fn b(link_id: &'static str, text: &'static str) -> Item {
    q(link_id, Answer::Boolean, text)
}

const fn int(link_id: &'static str, text: &'static str) -> Item {
    q(link_id, Answer::Integer, text)
}

const fn dec(link_id: &'static str, text: &'static str) -> Item {
    q(link_id, Answer::Decimal, text)
}

const fn when(item: Item, enable_when: &'static [When]) -> Item {
    Item {
        enable_when,
        ..item
    }
}

const fn hidden(item: Item) -> Item {
    Item {
        hidden: true,
        ..item
    }
}

const fn required(item: Item) -> Item {
    Item {
        required: true,
        ..item
    }
}

/// The value names of a core enum, as a function the table can hold.
macro_rules! names {
    ($enum:ident) => {
        || cramp_core::$enum::ALL.iter().map(|v| v.name()).collect()
    };
}

const WALKING: &[When] = &[
    When::Coded("cramps.contexts", "CONTEXT_WALKING"),
    When::Coded("cramps.contexts", "CONTEXT_EXERCISE"),
];

/// Which of the two published Questionnaires asks an item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Form {
    /// `cramp-intake`: what the patient answers (history, symptoms, conditions, medicines,
    /// lifestyle).
    #[default]
    Patient,
    /// `cramp-intake-clinician`: examination findings and laboratory results.
    Clinician,
}

impl Form {
    /// Both, patient first.
    pub const ALL: [Self; 2] = [Self::Patient, Self::Clinician];

    /// The Questionnaire's id, the last segment of its canonical URL.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::Patient => "cramp-intake",
            Self::Clinician => "cramp-intake-clinician",
        }
    }

    /// Its path under the FHIR base (`{base}/fhir` + this).
    #[must_use]
    pub const fn path(self) -> &'static str {
        match self {
            Self::Patient => super::QUESTIONNAIRE_PATH,
            Self::Clinician => super::CLINICIAN_QUESTIONNAIRE_PATH,
        }
    }

    /// Its top-level groups, in Questionnaire order.
    #[must_use]
    pub const fn top_groups(self) -> &'static [Group] {
        match self {
            Self::Patient => PATIENT_GROUPS,
            Self::Clinician => CLINICIAN_GROUPS,
        }
    }

    /// Its groups, nested ones included, in Questionnaire order.
    pub fn groups(self) -> impl Iterator<Item = &'static Group> {
        flatten(self.top_groups())
    }

    /// Its questions, in Questionnaire order.
    pub fn items(self) -> impl Iterator<Item = &'static Item> {
        self.groups().flat_map(|g| g.items.iter())
    }
}

/// The Questionnaire that asks the item or group `link_id`.
#[must_use]
pub fn form_of(link_id: &str) -> Option<Form> {
    Form::ALL.into_iter().find(|form| {
        form.groups()
            .any(|g| g.link_id == link_id || g.items.iter().any(|i| i.link_id == link_id))
    })
}

fn flatten(groups: &'static [Group]) -> impl Iterator<Item = &'static Group> {
    groups
        .iter()
        .flat_map(|g| std::iter::once(g).chain(g.groups.iter()))
}

/// The patient-facing intake's groups, in Questionnaire order.
pub const PATIENT_GROUPS: &[Group] = &[
    Group {
        link_id: "patient",
        text: "About the patient",
        repeats: false,
        groups: &[],
        items: &[
            required(int("patient.age_years", "Age in years")),
            q("patient.sex", Answer::Choice(names!(Sex)), "Sex at birth"),
            // Shown once sex is answered and is not male: a `!=` condition would also hold
            // while sex is unanswered (FHIR enableWhen), asking everyone first.
            when(
                b("patient.pregnant", "Currently pregnant?"),
                &[
                    When::Coded("patient.sex", "SEX_FEMALE"),
                    When::Coded("patient.sex", "SEX_OTHER"),
                ],
            ),
            when(
                int("patient.pregnancy_weeks", "Weeks of pregnancy"),
                &[When::Is("patient.pregnant", true)],
            ),
        ],
    },
    Group {
        link_id: "cramps",
        text: "The cramps or leg pain",
        repeats: false,
        groups: &[],
        items: &[
            q(
                "cramps.locations",
                Answer::MultiChoice(names!(Location)),
                "Where is it felt?",
            ),
            q(
                "cramps.laterality",
                Answer::Choice(names!(Laterality)),
                "One leg or both?",
            ),
            q(
                "cramps.contexts",
                Answer::MultiChoice(names!(Context)),
                "When does it happen?",
            ),
            dec("cramps.episodes_per_week", "How many episodes a week?"),
            int(
                "cramps.typical_duration_seconds",
                "How long does one episode last (seconds)?",
            ),
            int(
                "cramps.weeks_since_onset",
                "How many weeks ago did it start?",
            ),
            int(
                "cramps.hours_since_onset",
                "If there is sudden pain now: how many hours ago did it start?",
            ),
            int(
                "cramps.severity",
                "How bad is it, from 0 (none) to 10 (worst)?",
            ),
            when(
                b(
                    "cramps.worse_uphill_or_hurrying",
                    "Is the pain worse walking uphill or hurrying?",
                ),
                WALKING,
            ),
            b(
                "cramps.starts_when_standing_still_or_sitting",
                "Does the pain ever begin while standing still or sitting?",
            ),
            when(
                q(
                    "cramps.relief_on_standing_still",
                    Answer::Choice(names!(Relief)),
                    "What happens to the pain if you stop and stand still?",
                ),
                WALKING,
            ),
            b(
                "cramps.relieved_by_sitting_or_bending_forward",
                "Is it relieved by sitting down or bending forward?",
            ),
            b(
                "cramps.relieved_by_hanging_leg_down",
                "Is it relieved by hanging the leg down over the edge of the bed?",
            ),
            b(
                "cramps.relieved_by_stretching",
                "Is it relieved by stretching the muscle?",
            ),
            when(
                int(
                    "cramps.pain_free_walking_meters",
                    "How far can you walk before it starts (meters)?",
                ),
                WALKING,
            ),
            b(
                "cramps.sudden_onset",
                "Did it begin suddenly (within minutes to hours)?",
            ),
            b(
                "cramps.persistent_pain",
                "Is the pain constant, rather than coming and going?",
            ),
            b(
                "cramps.pain_out_of_proportion",
                "Is the pain severe, unlike usual cramps, and not eased by the usual measures?",
            ),
            b(
                "cramps.visible_muscle_tightening",
                "Does the muscle visibly harden or knot during an episode?",
            ),
            b("cramps.wakes_from_sleep", "Does it wake you from sleep?"),
            b(
                "cramps.limits_daily_activities",
                "Does it limit your daily activities?",
            ),
        ],
    },
    Group {
        link_id: "symptoms",
        text: "Other symptoms",
        repeats: false,
        groups: &[],
        items: &[
            b("symptoms.numbness", "Numbness in the legs or feet?"),
            b("symptoms.tingling", "Tingling or pins and needles?"),
            b("symptoms.burning_pain", "Burning pain in the feet or legs?"),
            b(
                "symptoms.reduced_feeling_in_feet",
                "Reduced feeling in the feet?",
            ),
            b(
                "symptoms.cannot_feel_temperature_with_feet",
                "Cannot feel hot or cold with the feet?",
            ),
            b("symptoms.muscle_weakness", "Muscle weakness?"),
            b(
                "symptoms.proximal_weakness",
                "Trouble rising from a chair or climbing stairs?",
            ),
            b(
                "symptoms.weakness_getting_worse",
                "Weakness that has been getting worse over weeks or months?",
            ),
            b(
                "symptoms.muscle_twitching",
                "Visible twitching or rippling under the skin of a muscle?",
            ),
            b(
                "symptoms.muscle_wasting",
                "A muscle that has become visibly thinner?",
            ),
            b(
                "symptoms.speech_or_swallowing_difficulty",
                "Difficulty speaking or swallowing?",
            ),
            b("symptoms.sudden_weakness", "Sudden weakness?"),
            b("symptoms.difficulty_walking", "Difficulty walking?"),
            b(
                "symptoms.cannot_move_foot_or_toes",
                "Cannot move the foot or toes?",
            ),
            b("symptoms.back_pain", "Back pain?"),
            b(
                "symptoms.pain_radiating_down_leg",
                "Pain radiating down the leg?",
            ),
            b(
                "symptoms.saddle_numbness",
                "Numbness between the legs or around the buttocks (saddle area)?",
            ),
            b(
                "symptoms.bladder_or_bowel_changes",
                "New problems controlling the bladder or bowel?",
            ),
            b(
                "symptoms.tingling_around_mouth",
                "Tingling around the mouth?",
            ),
            b(
                "symptoms.hand_or_foot_spasms",
                "Spasms of the hands or feet?",
            ),
            b("symptoms.cold_feet", "Cold feet?"),
            b("symptoms.foot_pale_or_blue", "Is a foot pale or blue?"),
            b(
                "symptoms.skin_changes_on_legs",
                "Shiny skin or a change of colour or texture on the legs?",
            ),
            b("symptoms.hair_loss_on_legs", "Hair loss on the legs?"),
            b(
                "symptoms.slow_healing_foot_wounds",
                "Wounds on the feet that heal slowly?",
            ),
            b(
                "symptoms.dry_cracked_feet",
                "Dry, cracked skin on the feet?",
            ),
            q(
                "symptoms.leg_swelling",
                Answer::Choice(names!(Swelling)),
                "Leg swelling?",
            ),
            b("symptoms.calf_redness", "Redness of the calf?"),
            b("symptoms.calf_warmth", "Warmth of the calf?"),
            b("symptoms.calf_tenderness", "Tenderness of the calf?"),
            b("symptoms.tense_calf", "Is the calf tense or hard?"),
            b("symptoms.fever", "Fever?"),
            b("symptoms.chest_pain", "Chest pain?"),
            b("symptoms.shortness_of_breath", "Shortness of breath?"),
            b("symptoms.coughing_blood", "Coughing up blood?"),
            b("symptoms.palpitations", "Palpitations?"),
            b("symptoms.fainting", "Fainting?"),
            q(
                "symptoms.urine_color",
                Answer::Choice(names!(UrineColor)),
                "Colour of the urine?",
            ),
            b(
                "symptoms.reduced_urine_output",
                "Passing less urine than usual?",
            ),
            b(
                "symptoms.urination_changes",
                "Changes in urination (more at night, foamy, less)?",
            ),
            b("symptoms.ankle_swelling", "Swollen ankles?"),
            b("symptoms.metallic_taste", "A metallic taste in the mouth?"),
            b("symptoms.itching", "Itching?"),
            b(
                "symptoms.unexplained_weight_change",
                "Unexplained weight change?",
            ),
            b("symptoms.persistent_fatigue", "Persistent tiredness?"),
            b("symptoms.thirst", "Unusual thirst?"),
            b("symptoms.dry_mouth", "Dry mouth?"),
            b(
                "symptoms.dizziness_on_standing",
                "Dizziness on standing up?",
            ),
            b(
                "symptoms.generalized_muscle_aches",
                "Aching muscles all over?",
            ),
            b("symptoms.muscle_stiffness", "Muscle stiffness?"),
            b(
                "symptoms.cold_intolerance",
                "Feeling the cold more than others?",
            ),
            b("symptoms.weight_gain", "Weight gain?"),
            b("symptoms.constipation", "Constipation?"),
            b("symptoms.confusion", "Confusion?"),
        ],
    },
    Group {
        link_id: "conditions",
        text: "Medical history",
        repeats: false,
        groups: &[],
        items: &[
            q(
                "conditions.diabetes",
                Answer::Choice(names!(Diabetes)),
                "Diabetes?",
            ),
            when(
                int(
                    "conditions.diabetes_years",
                    "Years since diabetes was diagnosed",
                ),
                &[
                    When::Coded("conditions.diabetes", "DIABETES_TYPE_1"),
                    When::Coded("conditions.diabetes", "DIABETES_TYPE_2"),
                ],
            ),
            q(
                "conditions.smoking",
                Answer::Choice(names!(Smoking)),
                "Smoking?",
            ),
            b("conditions.hypertension", "High blood pressure?"),
            b("conditions.high_cholesterol", "High cholesterol?"),
            b(
                "conditions.coronary_or_cerebrovascular_disease",
                "Heart disease or a stroke?",
            ),
            b(
                "conditions.known_peripheral_artery_disease",
                "Known narrowing of the leg arteries (peripheral artery disease)?",
            ),
            b(
                "conditions.family_history_of_pad",
                "Peripheral artery disease in the family?",
            ),
            b(
                "conditions.chronic_kidney_disease",
                "Chronic kidney disease?",
            ),
            when(
                q(
                    "conditions.ckd_stage",
                    Answer::Choice(names!(CkdStage)),
                    "Kidney disease stage (GFR category)",
                ),
                &[When::Is("conditions.chronic_kidney_disease", true)],
            ),
            b("conditions.on_dialysis", "On dialysis?"),
            b("conditions.liver_disease", "Liver disease?"),
            b(
                "conditions.spinal_stenosis_or_disc_disease",
                "Spinal stenosis or a slipped disc?",
            ),
            b(
                "conditions.prior_dvt_or_pe",
                "Ever had a blood clot in a leg or lung?",
            ),
            b(
                "conditions.active_cancer",
                "Cancer under treatment or treated within 6 months?",
            ),
            b(
                "conditions.atrial_fibrillation",
                "Atrial fibrillation (irregular heartbeat)?",
            ),
            b("conditions.chronic_lung_disease", "Chronic lung disease?"),
            b("conditions.heavy_alcohol_use", "Heavy alcohol use?"),
            b(
                "conditions.recent_vomiting_or_diarrhea",
                "Recent vomiting or diarrhoea?",
            ),
            b(
                "conditions.recent_surgery",
                "Surgery within the last 12 weeks?",
            ),
            b(
                "conditions.bedridden_3_days_or_more",
                "Bedridden for 3 days or more recently?",
            ),
            b(
                "conditions.recent_long_travel",
                "A journey of 4 hours or more within the last 4 weeks?",
            ),
            b(
                "conditions.leg_cast_or_recent_leg_fracture",
                "A leg in a cast or a recent leg fracture?",
            ),
            b(
                "conditions.leg_paralysis_or_paresis",
                "Paralysis or weakness of a leg from a nerve condition?",
            ),
            q(
                "conditions.thyroid",
                Answer::Choice(names!(Thyroid)),
                "Thyroid condition?",
            ),
        ],
    },
    Group {
        link_id: "medications",
        text: "Medicines (one group per medicine, including recently stopped ones)",
        repeats: true,
        groups: &[],
        items: &[
            // Not `required`: inside an optional repeating group a required item made form
            // renderers (LHC-Forms) mark the whole form invalid for a patient who takes no
            // medicines. A medicine entered without a name is still refused by validation.
            q(
                "medications.name",
                Answer::String,
                "Name as written on the pack or prescription",
            ),
            int(
                "medications.weeks_since_started",
                "Weeks since it was started",
            ),
            // Codes a patient cannot be asked for: a form's medicine picker fills them from the
            // name chosen, so they are published hidden (read when present, never shown).
            hidden(q(
                "medications.rxnorm_cui",
                Answer::String,
                "RxNorm concept id (filled by the form's medicine picker)",
            )),
            hidden(q(
                "medications.atc_code",
                Answer::String,
                "WHO ATC code (filled by the form's medicine picker)",
            )),
            b("medications.recently_stopped", "Recently stopped?"),
        ],
    },
    Group {
        link_id: "lifestyle",
        text: "Lifestyle",
        repeats: false,
        groups: &[],
        items: &[
            q(
                "lifestyle.activity_level",
                Answer::Choice(names!(ActivityLevel)),
                "How active are you?",
            ),
            dec(
                "lifestyle.daily_fluid_liters",
                "How much do you drink a day (liters)?",
            ),
            b(
                "lifestyle.recent_unaccustomed_strenuous_exercise",
                "Recent strenuous exercise you are not used to?",
            ),
            b(
                "lifestyle.skips_warm_up_or_cool_down",
                "Do you skip warming up or cooling down?",
            ),
            b(
                "lifestyle.hot_environment_or_heavy_sweating",
                "Heat or heavy sweating?",
            ),
            b("lifestyle.prolonged_sitting", "Long periods of sitting?"),
            b("lifestyle.prolonged_standing", "Long periods of standing?"),
            b("lifestyle.limited_sun_exposure", "Little time in the sun?"),
            b(
                "lifestyle.tight_or_unsupportive_footwear",
                "Tight or unsupportive shoes?",
            ),
            b(
                "lifestyle.tight_clothing_on_legs_or_waist",
                "Tight clothing on the legs or waist?",
            ),
            b(
                "lifestyle.sleeps_with_toes_pointed",
                "Do you sleep with the toes pointed?",
            ),
        ],
    },
];

/// The clinician's companion Questionnaire's groups: examination and laboratory results.
pub const CLINICIAN_GROUPS: &[Group] = &[Group {
    link_id: "findings",
    text: "Examination findings",
    repeats: false,
    items: &[
        q(
            "findings.foot_pulses",
            Answer::Choice(names!(Pulses)),
            "Foot pulses",
        ),
        dec("findings.ankle_brachial_index", "Ankle-brachial index"),
        dec("findings.toe_brachial_index", "Toe-brachial index"),
        q(
            "findings.monofilament_sensation",
            Answer::Choice(names!(Sensation)),
            "Monofilament sensation",
        ),
        q(
            "findings.vibration_sense",
            Answer::Choice(names!(Sensation)),
            "Vibration sense (128 Hz)",
        ),
        int("findings.heart_rate_bpm", "Heart rate (beats per minute)"),
        dec(
            "findings.calf_circumference_difference_cm",
            "Calf circumference difference between legs (cm)",
        ),
        b(
            "findings.pitting_edema_symptomatic_leg",
            "Pitting oedema of the symptomatic leg?",
        ),
        b(
            "findings.deep_vein_tenderness",
            "Tenderness along the deep veins?",
        ),
        b(
            "findings.collateral_superficial_veins",
            "Collateral superficial (non-varicose) veins?",
        ),
        b(
            "findings.pain_on_passive_stretch",
            "Pain on passive stretch of the muscle?",
        ),
    ],
    groups: &[Group {
        link_id: "findings.labs",
        text: "Laboratory results (in the unit each question names)",
        repeats: false,
        groups: &[],
        items: &[
            dec("findings.labs.potassium_mmol_l", "Potassium (mmol/L)"),
            dec("findings.labs.sodium_mmol_l", "Sodium (mmol/L)"),
            dec("findings.labs.magnesium_mg_dl", "Magnesium (mg/dL)"),
            dec("findings.labs.calcium_mg_dl", "Calcium, total (mg/dL)"),
            dec("findings.labs.phosphate_mg_dl", "Phosphate (mg/dL)"),
            dec("findings.labs.egfr_ml_min_1_73m2", "eGFR (mL/min/1.73 m2)"),
            dec("findings.labs.hba1c_percent", "HbA1c (%)"),
            dec("findings.labs.ck_u_l", "Creatine kinase (U/L)"),
            dec("findings.labs.tsh_miu_l", "TSH (mIU/L)"),
            dec(
                "findings.labs.vitamin_d_ng_ml",
                "25-hydroxyvitamin D (ng/mL)",
            ),
            dec("findings.labs.vitamin_b12_pg_ml", "Vitamin B12 (pg/mL)"),
        ],
    }],
}];

/// The linkId of the repeating medications group.
pub const MEDICATIONS: &str = "medications";

/// Every group of both Questionnaires, nested ones included, patient's first.
pub fn groups() -> impl Iterator<Item = &'static Group> {
    Form::ALL.into_iter().flat_map(Form::groups)
}

/// Every question of both Questionnaires, patient's first.
pub fn items() -> impl Iterator<Item = &'static Item> {
    groups().flat_map(|g| g.items.iter())
}

/// The question with this linkId.
#[must_use]
pub fn item(link_id: &str) -> Option<&'static Item> {
    items().find(|i| i.link_id == link_id)
}

/// Whether `link_id` names a group.
#[must_use]
pub fn is_group(link_id: &str) -> bool {
    groups().any(|g| g.link_id == link_id)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use prost::Message as _;
    use prost_types::field_descriptor_proto::{Label, Type};

    use super::*;

    /// Every leaf field of `CrampHistory` in the proto, as (path, proto type, repeated).
    fn proto_fields() -> BTreeMap<String, (Type, bool)> {
        let fds = prost_types::FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET).unwrap();
        let messages: BTreeMap<String, &prost_types::DescriptorProto> = fds
            .file
            .iter()
            .flat_map(|f| {
                f.message_type
                    .iter()
                    .map(move |m| (format!(".{}.{}", f.package(), m.name()), m))
            })
            .collect();
        let mut out = BTreeMap::new();
        fn walk(
            messages: &BTreeMap<String, &prost_types::DescriptorProto>,
            name: &str,
            prefix: &str,
            out: &mut BTreeMap<String, (Type, bool)>,
        ) {
            for field in &messages[name].field {
                let path = if prefix.is_empty() {
                    field.name().to_owned()
                } else {
                    format!("{prefix}.{}", field.name())
                };
                if field.r#type() == Type::Message {
                    walk(messages, field.type_name(), &path, out);
                } else {
                    out.insert(path, (field.r#type(), field.label() == Label::Repeated));
                }
            }
        }
        walk(&messages, ".cramp.v1.CrampHistory", "", &mut out);
        out
    }

    #[test]
    fn the_table_covers_exactly_the_proto_fields_with_matching_types() {
        let proto = proto_fields();
        let table: BTreeSet<&str> = items().map(|i| i.link_id).collect();
        let proto_paths: BTreeSet<&str> = proto.keys().map(String::as_str).collect();
        assert_eq!(table, proto_paths);
        for item in items() {
            let (ty, repeated) = proto[item.link_id];
            let ok = match item.answer {
                Answer::Boolean => ty == Type::Bool && !repeated,
                Answer::Integer => ty == Type::Uint32 && !repeated,
                Answer::Decimal => ty == Type::Double && !repeated,
                Answer::String => ty == Type::String && !repeated,
                Answer::Choice(_) => ty == Type::Enum && !repeated,
                Answer::MultiChoice(_) => ty == Type::Enum && repeated,
            };
            assert!(ok, "{} has the wrong answer type", item.link_id);
        }
    }

    #[test]
    fn link_ids_are_unique_and_enable_when_points_at_earlier_items() {
        let mut seen = BTreeSet::new();
        for group in groups() {
            assert!(seen.insert(group.link_id), "{}", group.link_id);
            for item in group.items {
                assert!(seen.insert(item.link_id), "{}", item.link_id);
                assert!(item.link_id.starts_with(&format!("{}.", group.link_id)));
                for condition in item.enable_when {
                    let (When::Is(other, _) | When::Coded(other, _) | When::NotCoded(other, _)) =
                        *condition;
                    assert!(seen.contains(other), "{} depends on {other}", item.link_id);
                    if let When::Coded(_, code) | When::NotCoded(_, code) = *condition {
                        let Some(Answer::Choice(names) | Answer::MultiChoice(names)) =
                            item_answer(other)
                        else {
                            panic!("{other} is not a choice");
                        };
                        assert!(names().contains(&code), "{code}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_patient_form_asks_no_examination_or_lab_and_the_two_share_no_item() {
        let patient: BTreeSet<&str> = Form::Patient.items().map(|i| i.link_id).collect();
        let clinician: BTreeSet<&str> = Form::Clinician.items().map(|i| i.link_id).collect();
        assert!(patient.is_disjoint(&clinician));
        assert_eq!(patient.len() + clinician.len(), items().count());
        assert!(patient.iter().all(|id| !id.starts_with("findings")));
        assert!(clinician.iter().all(|id| id.starts_with("findings.")));
        assert!(clinician.contains("findings.labs.potassium_mmol_l"));
        // A patient can always give their age; nothing else blocks a patient's form.
        let required: Vec<&str> = items().filter(|i| i.required).map(|i| i.link_id).collect();
        assert_eq!(required, ["patient.age_years"]);
        // enableWhen stays inside one form, so each renders on its own.
        for form in Form::ALL {
            for item in form.items() {
                for condition in item.enable_when {
                    let (When::Is(other, _) | When::Coded(other, _) | When::NotCoded(other, _)) =
                        *condition;
                    assert_eq!(form_of(other), Some(form), "{}", item.link_id);
                }
            }
        }
        assert_eq!(form_of("findings.labs"), Some(Form::Clinician));
        assert_eq!(form_of("medications"), Some(Form::Patient));
        assert_eq!(form_of("findings.made_up"), None);
    }

    fn item_answer(link_id: &str) -> Option<Answer> {
        item(link_id).map(|i| i.answer)
    }
}
