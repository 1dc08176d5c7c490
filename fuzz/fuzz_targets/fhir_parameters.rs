//! `POST /fhir/$cramp-assess`: the Parameters body read as the handler reads it, then the
//! intake and chart mapping and the assessor.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    fhir::intake,
    http::fhir::read_body,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(inputs) = read_body(data) else {
        return;
    };
    let responses: Vec<_> = inputs.responses.iter().map(|(_, r)| r).collect();
    let today = time::macros::date!(2026 - 06 - 01);
    let read = intake::read(&responses, &inputs.chart, &[], today).map(|intake| {
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
