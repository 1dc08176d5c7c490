//! The `cramp.v1` wire contract, between the domain core and the service.
//!
//! - [`pb`]: the generated prost messages, tonic client and server, proto3-JSON serde impls and
//!   the descriptor set, with `Debug` that prints no patient value.
//! - `contract`: the output contract: every field of an assessment on the wire, and what the
//!   BASIC view keeps, described once; it generates both the protobuf conversion and the JSON
//!   writer, so a new output field is one line there (the compiler asks for it).
//! - [`convert`]: wire ⇄ core by contract names, both directions.
//! - [`json`]: the fast proto3 JSON of a batch answer, straight from the core's assessment;
//!   byte for byte what [`convert::assessment_to_pb_view`] + pbjson write (the service's
//!   `screen` tests compare both on thousands of answers in each view).
//! - [`status`]: the one table of gRPC statuses the service raises.
//!
//! A crate of its own so that the service's doors, and nothing in the core, see generated code,
//! and so that `build.rs` (protox, no system `protoc`) reruns only when the protos change.

mod contract;
pub mod convert;
pub mod json;
pub mod pb;
pub mod status;
