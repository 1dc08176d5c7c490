//! `screen` NDJSON input: the proto3 JSON record reader and parser, then each record through
//! the batch pipeline's per-record function, as in-process `screen` runs it.
#![no_main]

#[path = "common/screen.rs"]
mod common;

use cramp_cds::screen::input::InputFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::screen(InputFormat::Ndjson, data));
