//! CDS Hooks 2.0.1 over core types: the services this server offers, the request and response
//! model, and the cards an assessment becomes. The HTTP handlers are in the service
//! (`cramp_cds::http`); nothing here reads a request or writes a response.

pub mod cards;
pub mod model;
pub mod services;
