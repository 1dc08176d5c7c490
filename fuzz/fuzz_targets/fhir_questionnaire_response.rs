//! A FHIR QuestionnaireResponse read as the EHR doors read it (the JSON decoder that names paths,
//! then the intake mapping), then assessed.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    fhir::{self, chart::Chart, intake, model::QuestionnaireResponse},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = fhir::from_json::<QuestionnaireResponse>(data) else {
        return;
    };
    let today = time::macros::date!(2026 - 06 - 01);
    let read = intake::read(&response, &Chart::default(), &[], today).map(|intake| {
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
