//! CDS Hooks 2.0.1 JSON types for the subset this service reads and writes.
//!
//! Requests tolerate unknown fields (the spec lets clients add them); required fields are
//! `Option` so the handler can name every missing one at once instead of stopping at the first.
//! Responses skip every empty value: CDS Hooks forbids `null`, `""`, `[]` and `{}` except the
//! explicit `cards: []`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fhir::{
    bundle::ServiceRequest,
    model::{Coding, redacted_debug},
};

// Prefetch, context and override comments are patient data.
redacted_debug!(
    HookRequest,
    FeedbackRequest,
    Feedback,
    AcceptedSuggestion,
    OverrideReason
);

/// `GET /cds-services`.
#[derive(Clone, Debug, Serialize)]
pub struct Discovery {
    /// Every service.
    pub services: Vec<Service>,
}

/// One CDS service.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The hook it answers.
    pub hook: &'static str,
    /// Short name.
    pub title: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Served at `/cds-services/{id}`.
    pub id: &'static str,
    /// Prefetch key → FHIR query template.
    pub prefetch: BTreeMap<&'static str, String>,
    /// What the EHR must provide.
    pub usage_requirements: String,
}

/// `POST /cds-services/{id}` body.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRequest {
    /// The hook that fired.
    #[serde(default)]
    pub hook: Option<String>,
    /// Unique per invocation.
    #[serde(default)]
    pub hook_instance: Option<String>,
    /// The EHR's FHIR base.
    #[serde(default)]
    pub fhir_server: Option<String>,
    /// An access token for `fhirServer` (never logged or stored).
    #[serde(default)]
    pub fhir_authorization: Option<Value>,
    /// Hook-specific context.
    #[serde(default)]
    pub context: Option<Map<String, Value>>,
    /// Prefetched data by key; `null` is "no data", an absent key was not satisfied.
    #[serde(default)]
    pub prefetch: Option<Map<String, Value>>,
}

/// The response of a service call.
#[derive(Clone, Debug, Serialize)]
pub struct CardsResponse {
    /// The cards; `[]` when there is nothing to say (the one empty array CDS Hooks allows).
    pub cards: Vec<Card>,
}

/// `info`, `warning` or `critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    /// Routine and self-care.
    Info,
    /// Urgent and soon.
    Warning,
    /// Emergency.
    Critical,
}

/// One card.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// Random v4 UUID, for feedback.
    pub uuid: String,
    /// One sentence under 140 characters.
    pub summary: String,
    /// Markdown: why, evidence, rule and version.
    pub detail: String,
    /// From the urgency.
    pub indicator: Indicator,
    /// The knowledge base, its version and the About page.
    pub source: Source,
    /// Proposed orders.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
    /// `any` whenever there are suggestions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection_behavior: Option<&'static str>,
    /// Why a clinician may dismiss the card.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub override_reasons: Vec<Coding>,
    /// Citations and the About page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// `Card.source`.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    /// Names the knowledge base and its version.
    pub label: String,
    /// The About page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The card group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<Coding>,
}

/// One suggestion.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// What accepting it does.
    pub label: String,
    /// Random v4 UUID.
    pub uuid: String,
    /// The actions, applied together.
    pub actions: Vec<Action>,
}

/// One action of a suggestion (this service only creates).
#[derive(Clone, Debug, Serialize)]
pub struct Action {
    /// `create`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What it does.
    pub description: String,
    /// The resource created.
    pub resource: ServiceRequest,
}

/// One link.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    /// Text.
    pub label: String,
    /// Absolute URL.
    pub url: String,
    /// `absolute`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `POST /cds-services/{id}/feedback` body.
#[derive(Clone, Default, Deserialize)]
pub struct FeedbackRequest {
    /// One entry per card acted on.
    #[serde(default)]
    pub feedback: Option<Vec<Feedback>>,
}

/// One feedback entry.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    /// The card's uuid.
    #[serde(default)]
    pub card: Option<String>,
    /// `accepted` or `overridden`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Required when accepted.
    #[serde(default)]
    pub accepted_suggestions: Option<Vec<AcceptedSuggestion>>,
    /// Why it was overridden.
    #[serde(default)]
    pub override_reason: Option<OverrideReason>,
    /// RFC 3339.
    #[serde(default)]
    pub outcome_timestamp: Option<String>,
}

/// An accepted suggestion.
#[derive(Clone, Default, Deserialize)]
pub struct AcceptedSuggestion {
    /// The suggestion's uuid.
    #[serde(default)]
    pub id: Option<String>,
}

/// Why a card was overridden: a coded reason and/or a comment (never logged).
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideReason {
    /// One of the card's `overrideReasons`.
    #[serde(default)]
    pub reason: Option<Coding>,
    /// Free text.
    #[serde(default)]
    pub user_comment: Option<String>,
}
