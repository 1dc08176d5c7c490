//! `cramp-cds`: the service around the `cramp-core` clinical engine and the `cramp-wire`
//! contract.
//!
//! The core decides; this crate carries requests to it and answers back. Every door (gRPC and
//! gRPC-Web, the batch stream, `screen`, the `assess` command, CDS Hooks, `$cramp-assess`) goes
//! through [`assess::Assessor`], so they all validate, assess, log, count and audit alike.
//!
//! # Layout (lower layers first; `tests/layers.rs` keeps imports pointing down)
//! - [`pb`], [`convert`]: re-exported from `cramp-wire`: the generated `cramp.v1` API, and wire
//!   types ⇄ core types, total, enums by value name.
//! - [`fhir`], [`cds_hooks`]: re-exported from `cramp-ehr`: the FHIR mapping (intake
//!   Questionnaire, QuestionnaireResponse and chart resources → history; the Bundle) and CDS
//!   Hooks 2.0.1 (services, model, cards). No HTTP there; the handlers are in [`http`].
//! - [`caller`]: the authenticated identity both doors hand to handlers and the audit trail.
//! - [`request_id`]: the request id bound and its loggable form.
//! - [`config`]: layered settings (embedded defaults, file, `CRAMP__` environment), every section.
//! - [`report`]: the worklist and HTML report read back from `screen` outputs, and the templates
//!   `/about` shares.
//! - [`status`]: the one table of gRPC statuses and their reasons, and [`status::HttpError`].
//! - [`audit`]: one AuditEvent-shaped record per assessment, on its own tracing target.
//! - [`telemetry`]: structured logs, OpenTelemetry traces and metrics (OTLP, Prometheus `/metrics`);
//!   none of them carries patient data.
//! - [`tls`]: TLS and mutual TLS on both ports; client certificate identities.
//! - [`auth`]: authentication: CDS Hooks JWTs, API access tokens or client certificates, JWKS.
//! - [`limits`]: global concurrency limit with load shedding, deadlines, body sizes, HTTP/2 knobs.
//! - [`assess`]: the one assessor: request in, [`assess::Assessed`] or every bad field out.
//! - [`batch`]: the `AssessBatch` pipeline: ordered answers, per-record errors, back-pressure.
//! - [`grpc`]: the tonic service.
//! - [`http`]: the HTTP door (axum): CORS, the request clock, and the CDS Hooks, FHIR and `/about`
//!   handlers.
//! - [`screen`]: the `screen` command: NDJSON/CSV files through the assessor, here or on a server.
//! - [`cli`]: the `serve`, `assess` and `kb` commands.
//! - [`server`]: the composition root: binds, builds each door, and drains them all through one
//!   [`server::Shutdown`] with explicit phases.

pub mod assess;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod bench_canned;
pub mod caller;
pub mod cli;
pub mod config;
pub mod edge;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod report;
pub mod request_id;
pub mod screen;
pub mod server;
pub mod status;

pub use cramp_ehr::{cds_hooks, fhir};
pub use cramp_wire::{convert, pb};
pub mod telemetry;
pub mod tls;
