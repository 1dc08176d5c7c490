//! The rule registry: every rule in stable catalog order, one file per family.
//!
//! Adding a rule is one `const Rule` in its family file, one line here and its golden cases in
//! `crates/cramp-core/tests/data/rules/` (run by `cargo test -p cramp-core`); the engine does not change.

mod benign;
mod medications;
pub(crate) mod metabolic;
mod neuro;
mod red_flags;
mod vascular;

use super::Rule;
pub(crate) use metabolic::{CA_LOW, K_LOW, MG_LOW};
pub(crate) use red_flags::CK_MARKED_U_L;

/// Every rule, in catalog order (red flags first, as in outputs.md).
pub(crate) const ALL: &[Rule] = &[
    red_flags::PE,
    red_flags::DVT,
    red_flags::ACUTE_LIMB_ISCHEMIA,
    vascular::CRITICAL_LIMB_ISCHEMIA,
    red_flags::RHABDOMYOLYSIS,
    red_flags::COMPARTMENT_SYNDROME,
    red_flags::CAUDA_EQUINA,
    red_flags::ACUTE_NEUROLOGIC_DEFICIT,
    metabolic::SEVERE_ELECTROLYTE,
    red_flags::SKIN_INFECTION,
    red_flags::HEAT_ILLNESS,
    vascular::PAD_PATTERN,
    vascular::PAD_RISK_PROFILE,
    neuro::NEUROGENIC_CLAUDICATION,
    neuro::PERIPHERAL_NEUROPATHY,
    neuro::NEUROMUSCULAR_WEAKNESS,
    metabolic::KIDNEY_DISEASE_SIGNS,
    metabolic::DIALYSIS,
    medications::MEDICATION_ASSOCIATED,
    medications::STATIN_MUSCLE_SYMPTOMS,
    metabolic::ELECTROLYTE_RISK,
    metabolic::DEHYDRATION,
    metabolic::THYROID,
    metabolic::LIVER,
    benign::PREGNANCY,
    metabolic::VITAMIN_D,
    benign::DISRUPTIVE,
    benign::NOCTURNAL,
    benign::EXERCISE_ASSOCIATED,
    benign::POSTURAL_SEDENTARY,
];
