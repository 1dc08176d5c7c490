//! `POST /cds-services/{id}`: the hook request and its prefetch read as the handler reads them
//! (for each service, so both patient-view and order-select paths run), then assessed.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    cds_hooks::services::SERVICES,
    fhir::valuesets::ValueSets,
    http::cds_hooks::{HookIntake, read_request},
};
use libfuzzer_sys::fuzz_target;

/// The API tests' value sets, so the chart paths of every bound set run; the reference's codes
/// when the fixtures cannot be read.
static SETS: std::sync::LazyLock<ValueSets> = std::sync::LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/valuesets");
    ValueSets::load(Some(&dir)).map_or_else(|_| ValueSets::reference(), |(sets, _)| sets)
});

/// The embedded defaults' `http.base_url`, which the seed intakes' Questionnaire canonical uses.
const BASE_URL: &str = "http://127.0.0.1:8080";

fuzz_target!(|data: &[u8]| {
    let today = time::macros::date!(2026 - 06 - 01);
    let assessor = Assessor::local(cramp_core::KnowledgeBase::standard());
    for service in SERVICES {
        let Ok(request) = read_request(service, data, true) else {
            continue;
        };
        if let Ok(HookIntake::Read { translated, .. }) =
            request.read_intake(service, today, BASE_URL, &SETS)
            && let Ok((intake, assessed)) =
                assessor.assess_translated(&Call::local(Door::CdsHooks), translated, 0)
        {
            let _ = intake.assessed(assessed.into_core());
        }
    }
});
