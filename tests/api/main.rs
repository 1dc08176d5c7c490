//! The integration suite: one binary (matklad, zero2prod) driving the real server over real
//! sockets and the real `cramp-cds` executable.

mod binary;
mod cli;
mod grpc;
mod health;
mod helpers;
mod logs;
mod reflection;
mod rules;
mod validation;
mod vignettes;
