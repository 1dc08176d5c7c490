//! gRPC `Assess`: the protobuf body tonic decodes, then the one assessor (validation and
//! evaluation), as `CrampAssessmentService::assess` calls it.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    pb,
};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = pb::AssessRequest::decode(data) else {
        return;
    };
    let assessor = Assessor::local(cramp_core::KnowledgeBase::standard());
    if let Ok(assessed) = assessor.assess(
        &Call::local(Door::GrpcAssess),
        request,
        pb::AssessmentView::Unspecified.into(),
    ) {
        let _ = assessed.into_response();
    }
});
