//! The table of clinical-reference.md g.1: for each red flag, the specific signs that make it
//! *possible* when the answers cannot exclude it, and the questions that would settle it.
//!
//! The rules themselves are not repeated here: the engine judges each red-flag rule under both
//! readings of unknown answers (`engine::facts::Reading`). This table only decides whether a flag
//! the answers cannot exclude is worth reporting (a specific sign is present) and what to ask.
//! Generic features (a sudden cramp, calf pain, one side, age, a risk factor alone) are not signs.

use crate::engine::facts::{ev, ev_val};
use crate::input::{CrampHistory, Pulses, Swelling, UrineColor};
use crate::kb::rules::{CA_LOW, CK_MARKED_U_L, K_LOW, MG_LOW};
use crate::output::{Evidence, Flag};

/// A question that would settle a possible red flag.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settle {
    /// The intake field path it answers.
    pub(crate) field: &'static str,
    /// The question, in plain words.
    pub(crate) question: &'static str,
    /// Why it matters.
    pub(crate) why: &'static str,
}

/// One row of the g.1 table.
pub(crate) struct Certainty {
    /// The red flag.
    pub(crate) flag: Flag,
    /// The specific signs present among the answers given (never counting an unknown).
    pub(crate) signs: fn(&CrampHistory) -> Vec<Evidence>,
    /// The questions that would settle it, most decisive first; only unknown ones are asked.
    pub(crate) settle: &'static [Settle],
}

const fn q(field: &'static str, question: &'static str, why: &'static str) -> Settle {
    Settle {
        field,
        question,
        why,
    }
}

fn given(items: &[(&'static str, Option<bool>)]) -> Vec<Evidence> {
    items
        .iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(f, _)| ev(f))
        .collect()
}

/// A course of a week or more with no sudden onset or acute episode reported: "cold feet" is then
/// the chronic PAD sign of seed A (b.1), not the sudden cold foot of acute ischemia (g.1 reading,
/// docs/clinical-decisions.md). Pallor, absent pulses and paralysis stay signs whatever the course.
fn chronic_course(h: &CrampHistory) -> bool {
    let c = &h.cramps;
    c.sudden_onset != Some(true)
        && c.hours_since_onset.is_none()
        && c.weeks_since_onset.is_some_and(|w| w >= 1)
}

fn ali_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    let mut e = given(&[
        ("symptoms.foot_pale_or_blue", s.foot_pale_or_blue),
        (
            "symptoms.cannot_move_foot_or_toes",
            s.cannot_move_foot_or_toes,
        ),
    ]);
    if !chronic_course(h) {
        e.extend(given(&[("symptoms.cold_feet", s.cold_feet)]));
    }
    if h.findings.foot_pulses == Some(Pulses::Absent) {
        e.push(ev_val("findings.foot_pulses", Pulses::Absent.name()));
    }
    e
}

fn dvt_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    let mut e = Vec::new();
    if s.leg_swelling == Some(Swelling::OneLeg) {
        e.push(ev_val("symptoms.leg_swelling", Swelling::OneLeg.name()));
    }
    e.extend(given(&[
        ("symptoms.calf_tenderness", s.calf_tenderness),
        (
            "findings.deep_vein_tenderness",
            h.findings.deep_vein_tenderness,
        ),
    ]));
    if s.calf_redness == Some(true) && s.calf_warmth == Some(true) {
        e.extend(given(&[
            ("symptoms.calf_redness", s.calf_redness),
            ("symptoms.calf_warmth", s.calf_warmth),
        ]));
    }
    e
}

fn pe_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    given(&[
        ("symptoms.chest_pain", s.chest_pain),
        ("symptoms.shortness_of_breath", s.shortness_of_breath),
        ("symptoms.coughing_blood", s.coughing_blood),
        ("symptoms.fainting", s.fainting),
    ])
}

fn clti_signs(h: &CrampHistory) -> Vec<Evidence> {
    given(&[
        (
            "cramps.relieved_by_hanging_leg_down",
            h.cramps.relieved_by_hanging_leg_down,
        ),
        (
            "symptoms.slow_healing_foot_wounds",
            h.symptoms.slow_healing_foot_wounds,
        ),
    ])
}

fn compartment_signs(h: &CrampHistory) -> Vec<Evidence> {
    given(&[
        ("symptoms.tense_calf", h.symptoms.tense_calf),
        (
            "cramps.pain_out_of_proportion",
            h.cramps.pain_out_of_proportion,
        ),
        (
            "findings.pain_on_passive_stretch",
            h.findings.pain_on_passive_stretch,
        ),
    ])
}

fn cauda_equina_signs(h: &CrampHistory) -> Vec<Evidence> {
    given(&[
        ("symptoms.saddle_numbness", h.symptoms.saddle_numbness),
        (
            "symptoms.bladder_or_bowel_changes",
            h.symptoms.bladder_or_bowel_changes,
        ),
    ])
}

fn neuro_deficit_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    let mut e = given(&[
        ("symptoms.sudden_weakness", s.sudden_weakness),
        ("symptoms.confusion", s.confusion),
    ]);
    if s.cannot_move_foot_or_toes == Some(true) && h.cramps.sudden_onset == Some(true) {
        e.extend(given(&[
            (
                "symptoms.cannot_move_foot_or_toes",
                s.cannot_move_foot_or_toes,
            ),
            ("cramps.sudden_onset", h.cramps.sudden_onset),
        ]));
    }
    e
}

/// Muscle pain or weakness as the rhabdomyolysis rule reads it (answers given only).
fn muscle_given(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    given(&[
        ("symptoms.muscle_weakness", s.muscle_weakness),
        (
            "symptoms.generalized_muscle_aches",
            s.generalized_muscle_aches,
        ),
        ("cramps.persistent_pain", h.cramps.persistent_pain),
        ("symptoms.tense_calf", s.tense_calf),
    ])
}

fn rhabdo_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    let mut e = Vec::new();
    if s.urine_color == Some(UrineColor::Cola) {
        e.push(ev_val("symptoms.urine_color", UrineColor::Cola.name()));
    }
    if let Some(ck) = h.findings.labs.ck_u_l.filter(|v| *v >= CK_MARKED_U_L) {
        e.push(ev_val("findings.labs.ck_u_l", ck));
    }
    let muscle = muscle_given(h);
    if s.reduced_urine_output == Some(true) && !muscle.is_empty() {
        e.push(ev("symptoms.reduced_urine_output"));
        e.extend(muscle);
    }
    e
}

fn electrolyte_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    let l = &h.findings.labs;
    let mut e = given(&[
        ("symptoms.hand_or_foot_spasms", s.hand_or_foot_spasms),
        ("symptoms.tingling_around_mouth", s.tingling_around_mouth),
    ]);
    // "A low K/Mg/Ca": below the lower limit of its (f) reference interval.
    let low = l.potassium_mmol_l.is_some_and(|v| v < K_LOW)
        || l.magnesium_mg_dl.is_some_and(|v| v < MG_LOW)
        || l.calcium_mg_dl.is_some_and(|v| v < CA_LOW);
    if low {
        e.extend(given(&[
            ("symptoms.palpitations", s.palpitations),
            ("symptoms.fainting", s.fainting),
        ]));
    }
    e
}

fn skin_signs(h: &CrampHistory) -> Vec<Evidence> {
    let s = &h.symptoms;
    if s.fever == Some(true) && (s.calf_redness == Some(true) || s.calf_warmth == Some(true)) {
        given(&[
            ("symptoms.fever", s.fever),
            ("symptoms.calf_redness", s.calf_redness),
            ("symptoms.calf_warmth", s.calf_warmth),
        ])
    } else {
        Vec::new()
    }
}

fn heat_signs(h: &CrampHistory) -> Vec<Evidence> {
    let exposed = h.lifestyle.hot_environment_or_heavy_sweating == Some(true)
        || h.conditions.recent_vomiting_or_diarrhea == Some(true);
    if !exposed {
        return Vec::new();
    }
    given(&[
        ("symptoms.confusion", h.symptoms.confusion),
        ("symptoms.fainting", h.symptoms.fainting),
    ])
}

/// The g.1 table, one row per red flag of b.6.
pub(crate) const TABLE: &[Certainty] = &[
    Certainty {
        flag: Flag::AcuteLimbIschemia,
        signs: ali_signs,
        settle: &[
            q(
                "cramps.sudden_onset",
                "Did it start suddenly, over minutes to hours?",
                "A cold, pale, pulseless or paralysed foot of sudden onset is acute limb ischemia (emergency).",
            ),
            q(
                "cramps.hours_since_onset",
                "How many hours ago did it start?",
                "Irreversible damage can begin after 4-6 hours of ischemia.",
            ),
            q(
                "symptoms.cannot_move_foot_or_toes",
                "Can the foot and toes move normally?",
                "Loss of movement means the limb is threatened (emergency).",
            ),
            q(
                "symptoms.foot_pale_or_blue",
                "Is the foot pale or blue?",
                "Pallor with sudden onset is one of the signs of acute limb ischemia.",
            ),
            q(
                "symptoms.cold_feet",
                "Is the foot cold?",
                "A cold foot with sudden onset is one of the signs of acute limb ischemia.",
            ),
            q(
                "findings.foot_pulses",
                "Are the foot pulses present (Doppler if not palpable)?",
                "Absent pulses with sudden onset are a sign of acute limb ischemia.",
            ),
            q(
                "symptoms.numbness",
                "Is the foot numb or tingling?",
                "Sensory loss with sudden onset is a sign of acute limb ischemia.",
            ),
            q(
                "cramps.persistent_pain",
                "Is the pain constant rather than coming and going?",
                "Constant pain is the earliest sign of acute limb ischemia (it can be masked).",
            ),
        ],
    },
    Certainty {
        flag: Flag::DvtSuspected,
        signs: dvt_signs,
        settle: &[
            q(
                "symptoms.leg_swelling",
                "Is one leg swollen, both, or neither?",
                "One-sided swelling is a Wells item and decides a possible DVT (same day).",
            ),
            q(
                "cramps.persistent_pain",
                "Is the pain constant rather than coming and going like a cramp?",
                "Constant pain with a tender calf counts towards the Wells DVT score.",
            ),
            q(
                "symptoms.calf_tenderness",
                "Is the calf tender to touch?",
                "Calf tenderness with constant pain counts towards the Wells DVT score.",
            ),
            q(
                "findings.deep_vein_tenderness",
                "On examination, is there tenderness along the deep veins?",
                "A Wells DVT item.",
            ),
            q(
                "findings.calf_circumference_difference_cm",
                "How much larger is the symptomatic calf (10 cm below the tibial tuberosity)?",
                "More than 3 cm is a Wells DVT item.",
            ),
            q(
                "findings.pitting_edema_symptomatic_leg",
                "Is there pitting edema in the symptomatic leg only?",
                "A Wells DVT item.",
            ),
            q(
                "conditions.recent_surgery",
                "Any surgery in the last 12 weeks?",
                "A Wells DVT item.",
            ),
            q(
                "conditions.bedridden_3_days_or_more",
                "Bedridden for 3 days or more recently?",
                "A Wells DVT item.",
            ),
            q(
                "conditions.leg_cast_or_recent_leg_fracture",
                "A cast or a recent fracture of the leg?",
                "A Wells DVT item.",
            ),
            q(
                "conditions.active_cancer",
                "Any active cancer (treated in the last 6 months or palliative)?",
                "A Wells DVT item.",
            ),
            q(
                "conditions.prior_dvt_or_pe",
                "Any previous DVT or pulmonary embolism?",
                "A Wells DVT item.",
            ),
        ],
    },
    Certainty {
        flag: Flag::PeSuspected,
        signs: pe_signs,
        settle: &[
            q(
                "symptoms.chest_pain",
                "Any chest pain?",
                "Chest pain with leg symptoms is an emergency (possible pulmonary embolism).",
            ),
            q(
                "symptoms.shortness_of_breath",
                "Any shortness of breath?",
                "Breathlessness with leg symptoms is an emergency (possible pulmonary embolism).",
            ),
        ],
    },
    Certainty {
        flag: Flag::CriticalLimbIschemia,
        signs: clti_signs,
        settle: &[
            q(
                "findings.foot_pulses",
                "Are the foot pulses normal, weak or absent?",
                "A slow-healing foot wound with weak or absent pulses is limb-threatening ischemia.",
            ),
            q(
                "conditions.known_peripheral_artery_disease",
                "Is peripheral artery disease known?",
                "A slow-healing foot wound with known PAD is limb-threatening ischemia.",
            ),
            q(
                "findings.ankle_brachial_index",
                "Is an ankle-brachial index known?",
                "An ABI of 0.90 or less with a slow-healing wound is limb-threatening ischemia.",
            ),
            q(
                "conditions.diabetes",
                "Do you have diabetes?",
                "Diabetes puts a person with a slow-healing foot wound in the PAD risk group.",
            ),
            q(
                "conditions.smoking",
                "Have you ever smoked?",
                "Smoking puts a person with a slow-healing foot wound in the PAD risk group.",
            ),
            q(
                "cramps.relieved_by_hanging_leg_down",
                "Is there pain at rest that eases when the leg hangs down?",
                "Ischemic rest pain is limb-threatening ischemia (urgent vascular referral).",
            ),
            q(
                "findings.toe_brachial_index",
                "Is a toe-brachial index known?",
                "A TBI of 0.70 or less with a slow-healing wound is limb-threatening ischemia.",
            ),
            q(
                "conditions.coronary_or_cerebrovascular_disease",
                "Any heart disease, stroke or mini-stroke?",
                "Atherosclerosis elsewhere puts a person with a slow-healing foot wound in the PAD risk group.",
            ),
            q(
                "conditions.hypertension",
                "Do you have high blood pressure?",
                "A risk factor for PAD in a person with a slow-healing foot wound.",
            ),
            q(
                "conditions.high_cholesterol",
                "Do you have high cholesterol?",
                "A risk factor for PAD in a person with a slow-healing foot wound.",
            ),
        ],
    },
    Certainty {
        flag: Flag::CompartmentSyndromeSuspected,
        signs: compartment_signs,
        settle: &[
            q(
                "symptoms.tense_calf",
                "Is the calf tense or hard?",
                "A tense calf with pain out of proportion is an emergency (compartment syndrome).",
            ),
            q(
                "findings.pain_on_passive_stretch",
                "Does passively stretching the muscle hurt?",
                "Pain on passive stretch with pain out of proportion is an emergency.",
            ),
            q(
                "cramps.pain_out_of_proportion",
                "Is the pain severe, unlike usual cramps, and not eased by usual measures?",
                "Pain out of proportion is the earliest sign of compartment syndrome.",
            ),
            q(
                "conditions.leg_cast_or_recent_leg_fracture",
                "A cast or a recent fracture of the leg?",
                "After a fracture or cast, a tense calf is an emergency.",
            ),
        ],
    },
    Certainty {
        flag: Flag::CaudaEquinaSuspected,
        signs: cauda_equina_signs,
        settle: &[
            q(
                "symptoms.saddle_numbness",
                "Any numbness between the legs or around the back passage?",
                "Saddle numbness is an emergency (cauda equina syndrome).",
            ),
            q(
                "symptoms.bladder_or_bowel_changes",
                "Any new bladder or bowel problems?",
                "A new bladder or bowel change is an emergency red flag (cauda equina syndrome).",
            ),
        ],
    },
    Certainty {
        flag: Flag::AcuteNeurologicDeficit,
        signs: neuro_deficit_signs,
        settle: &[
            q(
                "symptoms.sudden_weakness",
                "Did weakness come on suddenly?",
                "Sudden weakness with numbness, tingling or difficulty walking is an emergency.",
            ),
            q(
                "symptoms.numbness",
                "Any numbness or tingling?",
                "With sudden weakness, numbness makes it an emergency.",
            ),
            q(
                "symptoms.difficulty_walking",
                "Any new difficulty walking?",
                "With sudden weakness, difficulty walking makes it an emergency.",
            ),
        ],
    },
    Certainty {
        flag: Flag::RhabdomyolysisSuspected,
        signs: rhabdo_signs,
        settle: &[
            q(
                "symptoms.urine_color",
                "What colour is the urine: pale, dark yellow, or cola/tea-coloured?",
                "Cola-coloured urine with muscle symptoms is an emergency (rhabdomyolysis).",
            ),
            q(
                "findings.labs.ck_u_l",
                "Has a CK been measured?",
                "A CK of about five times the upper limit or more with dark urine or reduced urine output is an emergency.",
            ),
            q(
                "symptoms.reduced_urine_output",
                "Is less urine being passed than usual?",
                "Reduced urine output with muscle symptoms is a sign of acute kidney injury.",
            ),
            q(
                "symptoms.muscle_weakness",
                "Any muscle weakness, swelling or constant muscle pain?",
                "Muscle symptoms with dark urine or a high CK are rhabdomyolysis.",
            ),
        ],
    },
    Certainty {
        flag: Flag::SevereElectrolyteDisturbance,
        signs: electrolyte_signs,
        settle: &[
            q(
                "findings.labs.potassium_mmol_l",
                "Is a recent potassium result known?",
                "Severe potassium values are an emergency.",
            ),
            q(
                "findings.labs.magnesium_mg_dl",
                "Is a recent magnesium result known (mg/dL)?",
                "Low magnesium with tetany or palpitations is an emergency.",
            ),
            q(
                "findings.labs.calcium_mg_dl",
                "Is a recent calcium result known (mg/dL)?",
                "Low calcium with tingling or spasms is an emergency.",
            ),
        ],
    },
    Certainty {
        flag: Flag::SkinInfectionSuspected,
        signs: skin_signs,
        settle: &[q(
            "symptoms.fever",
            "Any fever?",
            "A red, warm calf with fever points to a skin infection needing same-day care.",
        )],
    },
    Certainty {
        flag: Flag::HeatIllnessOrSevereDehydration,
        signs: heat_signs,
        settle: &[
            q(
                "symptoms.confusion",
                "Any confusion?",
                "After heat or fluid losses, confusion is an emergency.",
            ),
            q(
                "symptoms.fainting",
                "Any fainting or collapse?",
                "After heat or fluid losses, collapse is an emergency.",
            ),
        ],
    },
];

/// The g.1 row of `flag`, if it is a red flag.
pub(crate) fn of(flag: Flag) -> Option<&'static Certainty> {
    TABLE.iter().find(|c| c.flag == flag)
}
