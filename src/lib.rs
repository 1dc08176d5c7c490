//! `cramp-cds`: the service around the `cramp-core` clinical engine.
//!
//! The core decides; this crate carries requests to it and answers back. Every door (gRPC, the
//! `assess` command) goes through [`assess::assess`], so they all validate, assess and log alike.
//!
//! # Layout
//! - [`pb`]: the generated `cramp.v1` API (the only module naming generated code).
//! - [`convert`]: wire types ⇄ core types, total, enums by value name.
//! - [`assess`]: request in, response or every bad field out; the one path behind every door.
//! - [`batch`]: the `AssessBatch` pipeline: ordered answers, per-record errors, back-pressure.
//! - [`caller`]: the authenticated identity both doors hand to handlers and the audit trail.
//! - [`auth`]: authentication: CDS Hooks JWTs, API access tokens or client certificates, JWKS.
//! - [`screen`]: the `screen` command: NDJSON/CSV files through `assess`, here or on a server.
//! - [`grpc`]: the tonic service; [`status`]: the one table of gRPC statuses and their reasons.
//! - [`server`]: binds and serves gRPC with health and reflection; graceful shutdown.
//! - [`config`]: layered settings (embedded defaults, file, `CRAMP__` environment).
//! - [`telemetry`]: structured logs, OpenTelemetry traces and metrics (OTLP, Prometheus `/metrics`);
//!   none of them carries patient data.
//! - [`cli`]: the `serve`, `assess` and `kb` commands.
//! - [`http`]: the HTTP door (axum) with CORS and the request clock; [`http::error`] maps its
//!   failures to `OperationOutcome`s.
//! - [`cds_hooks`]: CDS Hooks 2.0.1 discovery, services and feedback; cards per flag group.
//! - [`fhir`]: the intake Questionnaire, QuestionnaireResponse and chart mapping, `$cramp-assess`.
//! - [`about`]: `/about`, the rules, sources and limits for clinicians and integrators.
//! - [`tls`]: TLS and mutual TLS on both ports; client certificate identities.
//! - [`limits`]: global concurrency limit with load shedding, deadlines, body sizes, HTTP/2 knobs.
//! - [`audit`]: one AuditEvent-shaped record per assessment, on its own tracing target.

pub mod assess;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod caller;
pub mod cds_hooks;
pub mod cli;
pub mod config;
pub mod fhir;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod request_id;
pub mod screen;
pub mod server;
pub mod status;

pub use cramp_wire::{convert, pb};
pub mod telemetry;
pub mod tls;
