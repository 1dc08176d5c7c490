//! `screen` NDJSON input: the proto3 JSON record reader and parser, then each record through
//! the batch pipeline's per-record function, as in-process `screen` runs it.
#![no_main]

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    batch,
    screen::input::{InputFormat, Source},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((source, parser)) = Source::open(
        InputFormat::Ndjson,
        Box::new(std::io::Cursor::new(data.to_vec())),
    ) else {
        return;
    };
    let assessor = Assessor::local(cramp_core::KnowledgeBase::standard());
    for record in source {
        let Ok(record) = record else { return };
        if let Ok(request) = parser.parse(record) {
            let _ = batch::assess_record(&assessor, &Call::local(Door::Screen), request);
        }
    }
});
