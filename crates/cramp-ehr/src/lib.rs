//! `cramp-ehr`: how the EHR standards map onto the cramp-cds intake and assessment.
//!
//! - [`fhir`]: FHIR R4: the published intake Questionnaire, QuestionnaireResponse and chart
//!   resources read into a history, and an assessment written back as a Bundle.
//! - [`cds_hooks`]: CDS Hooks 2.0.1: the services offered, the request and response model, and
//!   the cards an assessment becomes.
//!
//! The crate sits between the wire contract and the service (`cramp-core` ← `cramp-wire` ←
//! `cramp-ehr` ← `cramp-cds`). It reads and writes JSON but no sockets: it cannot name axum,
//! tonic, settings or telemetry, so a mapping cannot grow a side effect, and the HTTP handlers
//! that serve it (and assess through the service's one `Assessor`) stay in the service. Writers
//! read core enums (`cramp_core::Assessment`), never the wire's numbers.

pub mod cds_hooks;
pub mod fhir;

/// The generated wire types the intake is read into (see [`fhir::intake`]).
pub(crate) use cramp_wire::{convert, pb};
