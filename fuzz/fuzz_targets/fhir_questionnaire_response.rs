//! A FHIR QuestionnaireResponse read as the EHR doors read it (the JSON decoder that names paths,
//! then the intake mapping), then assessed.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    fhir::{self, chart::Chart, intake, model::QuestionnaireResponse, valuesets::ValueSets},
};
use libfuzzer_sys::fuzz_target;

/// The API tests' value sets, so the chart paths of every bound set run; the reference's codes
/// when the fixtures cannot be read.
static SETS: std::sync::LazyLock<ValueSets> = std::sync::LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/valuesets");
    ValueSets::load(Some(&dir)).map_or_else(|_| ValueSets::reference(), |(sets, _)| sets)
});

fuzz_target!(|data: &[u8]| {
    let Ok(response) = fhir::from_json::<QuestionnaireResponse>(data) else {
        return;
    };
    let today = time::macros::date!(2026 - 06 - 01);
    let read = intake::read(&[&response], &Chart::default(), &SETS, &[], today).map(|intake| {
        let request = intake.request();
        (intake, request)
    });
    let assessor = Assessor::local(cramp_core::KnowledgeBase::standard());
    if let Ok((intake, assessed)) =
        assessor.assess_translated(&Call::local(Door::FhirOperation), read, 0)
    {
        let _ = intake.assessed(assessed.into_core());
    }
});
