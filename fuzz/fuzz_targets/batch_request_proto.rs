//! gRPC `AssessBatch`: one protobuf record as tonic decodes it off the stream, answered by the
//! batch pipeline's per-record function.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    batch, pb,
};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = pb::AssessBatchRequest::decode(data) else {
        return;
    };
    let assessor = Assessor::local(cramp_core::KnowledgeBase::standard());
    let _ = batch::assess_record(&assessor, &Call::local(Door::GrpcAssessBatch), record);
});
