//! The integration suite: one binary (matklad, zero2prod) driving the real server over real
//! sockets and the real `cramp-cds` executable.

mod audit;
mod auth_api;
mod auth_cds_hooks;
mod auth_support;
mod batch;
mod batch_frames;
mod batch_logs;
mod binary;
mod cds_hooks;
mod cli;
mod fhir;
mod fhir_convert;
mod fhir_vignettes;
mod grpc;
mod grpc_web;
mod health;
mod helpers;
mod http;
mod http_logs;
mod http_support;
mod limits;
mod logs;
mod otlp;
mod perf;
mod pki;
mod reflection;
mod rules;
mod screen;
mod shutdown;
mod tls;
mod validation;
mod views;
mod vignettes;
