//! `cramp-core`: the clinical heart of cramp-cds.
//!
//! A patient's structured leg-cramp history goes in; an [`Assessment`] with risk flags, an overall
//! urgency, suggested workups, medication findings, self-care and open questions comes out, each
//! flag carrying the rule, version, evidence and citations behind it.
//!
//! # Layout
//! - [`input`]: the intake model and [`validate`], which names every bad field.
//! - [`kb`]: the [`KnowledgeBase`]: rule metadata, sources, codes and the rule families.
//! - `engine`: derives facts once, runs every rule, applies the cross-cutting rules.
//! - `meds`: medication recognition through a versioned lexicon ([`MedicationLexicon`]): codes,
//!   generic names and spellings, brands and combinations, bounded fuzzy matching.
//! - `self_care`: evidence-honest advice chosen for the patient.
//! - [`output`]: the [`Assessment`] vocabulary.
//!
//! # Invariants
//! - No I/O, no clock, no environment, no async, no threads: [`evaluate`] is a pure, total function
//!   of the knowledge base and a [`ValidHistory`]. It cannot fail and does not panic.
//! - Only a [`ValidHistory`] is evaluated, so nothing is ever partially assessed.
//! - Output order is deterministic (urgency, then catalog order); no hash-map order leaks out.
//! - A red flag is never hidden: benign labels are dropped when one fires, and an emergency's only
//!   workup is emergency care.
//! - Types holding patient data have redacting `Debug` implementations.
//!
//! # Example
//! ```
//! use cramp_core::{evaluate, validate, CrampHistory, KnowledgeBase, Urgency};
//!
//! let mut history = CrampHistory::default();
//! history.patient.age_years = Some(61);
//! history.symptoms.chest_pain = Some(true);
//! let valid = validate(history, Vec::new()).expect("age is the only required field");
//! let assessment = evaluate(&KnowledgeBase::standard(), &valid);
//! assert_eq!(assessment.urgency, Urgency::Emergency);
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod engine;
/// The expectation checker of the clinician-readable cases, for the server's tests too.
#[cfg(any(test, feature = "test-support"))]
pub mod golden;
pub mod input;
pub mod kb;
mod meds;
mod names;
pub mod output;
#[cfg(test)]
mod proptests;
mod self_care;
#[cfg(test)]
mod test_util;

pub use engine::{Detail, evaluate, evaluate_with};
pub use input::{
    ActivityLevel, CkdStage, Conditions, Context, CrampHistory, Cramps, Diabetes, FieldViolation,
    Findings, InputError, Labs, Laterality, Lifestyle, Location, Medication, Patient, Pulses,
    Relief, Sensation, Sex, Smoking, Swelling, Symptoms, Thyroid, UnreadInput, UrineColor,
    ValidHistory, validate,
};
pub use kb::{KnowledgeBase, RuleMeta};
pub use meds::{
    IngredientMatch, LexiconIngredient, LexiconProduct, LexiconSource, MedicationLexicon,
    MedicationRole, ProductKind, recognise_medications,
};
pub use output::{
    Assessment, Citation, Coding, DrugClass, Evidence, EvidenceStrength, Flag, MedicationFinding,
    MedicationMatch, MissingInformation, PossibleFlag, RiskFlag, SelfCareAdvice, SuggestedWorkup,
    Urgency, Workup,
};
