//! The service's statuses: the gRPC table of the wire crate ([`cramp_wire::status`]) and, beside
//! it, [`HttpError`], the one mapping of HTTP failures to `OperationOutcome`s (it reads FHIR
//! types, so it cannot live in the wire crate).

mod http;

pub use cramp_wire::status::*;

pub use self::http::HttpError;
