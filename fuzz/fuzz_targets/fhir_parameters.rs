//! `POST /fhir/$cramp-assess`: the Parameters body read as the handler reads it, then the
//! intake and chart mapping and the assessor.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    fhir::{intake, valuesets::ValueSets},
    http::fhir::read_body,
};
use libfuzzer_sys::fuzz_target;

/// The API tests' value sets, so the chart paths of every bound set run; the reference's codes
/// when the fixtures cannot be read.
static SETS: std::sync::LazyLock<ValueSets> = std::sync::LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/valuesets");
    ValueSets::load(Some(&dir)).map_or_else(|_| ValueSets::reference(), |(sets, _)| sets)
});

fuzz_target!(|data: &[u8]| {
    let Ok(inputs) = read_body(data) else {
        return;
    };
    let responses: Vec<_> = inputs.responses.iter().map(|(_, r)| r).collect();
    let today = time::macros::date!(2026 - 06 - 01);
    let read = intake::read(&responses, &inputs.chart, &SETS, &[], today).map(|intake| {
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
