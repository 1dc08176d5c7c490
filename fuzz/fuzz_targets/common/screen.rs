//! The one body of the two `screen` input targets: a file in the given format read as
//! in-process `screen` reads it (record reader, then parser), each record through the batch
//! pipeline's per-record function. The targets differ only in the format they hand it.

use cramp_cds::{
    assess::{Assessor, Call},
    audit::Door,
    batch,
    screen::input::{InputFormat, Source},
};

pub fn screen(format: InputFormat, data: &[u8]) {
    let Ok((source, parser)) = Source::open(format, Box::new(std::io::Cursor::new(data.to_vec())))
    else {
        return;
    };
    let assessor = Assessor::local(cramp_core::KnowledgeBase::standard());
    for record in source {
        let Ok(record) = record else { return };
        if let Ok(request) = parser.parse(record) {
            let _ = batch::assess_record(&assessor, &Call::local(Door::Screen), request);
        }
    }
}
