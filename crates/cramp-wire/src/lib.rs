//! The `cramp.v1` wire contract, between the domain core and the service.
//!
//! - [`pb`]: the generated prost messages, tonic client and server, proto3-JSON serde impls and
//!   the descriptor set, with `Debug` that prints no patient value.
//! - [`convert`]: wire ⇄ core by contract names, both directions, and the BASIC view.
//! - [`json`]: the fast proto3 JSON writer of a batch answer, straight from the core's
//!   assessment; it mirrors [`convert::assessment_to_pb_view`] byte for byte (the service's
//!   `screen` tests compare both on thousands of answers in each view).
//! - [`status`]: the one table of gRPC statuses the service raises.
//!
//! A crate of its own so that the service's doors, and nothing in the core, see generated code,
//! and so that `build.rs` (protox, no system `protoc`) reruns only when the protos change.

pub mod convert;
pub mod json;
pub mod pb;
pub mod status;
