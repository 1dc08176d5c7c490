//! `GET /about`: what the logic is for, who it is for, what it reads, which rules it runs at which
//! version, what they cite and where they stop: the transparency the FDA's CDS guidance
//! (criterion 4: the clinician can review the basis) and ONC's decision-support source attributes
//! ask for. JSON for machines, HTML for people (by `Accept`), built from the same knowledge base
//! the assessments use, so the page cannot describe other rules than the ones that run.

use axum::{
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use cramp_core::{KnowledgeBase, Urgency};
use serde::Serialize;

use crate::{
    fhir::{
        QUESTIONNAIRE_VERSION,
        link_ids::{self, Answer},
        questionnaire,
    },
    report::{self, ReportError, titles},
};

use super::{JSON, State, json};

/// The About document.
#[derive(Clone, Debug, Serialize)]
pub struct About {
    name: &'static str,
    software_version: &'static str,
    knowledge_base_version: &'static str,
    developer: &'static str,
    intended_use: &'static str,
    intended_users: Vec<&'static str>,
    not_intended_for: Vec<&'static str>,
    inputs: Inputs,
    outputs: &'static str,
    rules: Vec<Rule>,
    sources: Vec<Source>,
    limitations: Vec<&'static str>,
    endpoints: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
struct Inputs {
    description: &'static str,
    questionnaire: String,
    questionnaire_version: &'static str,
    fields: Vec<Field>,
    chart_data: &'static str,
}

#[derive(Clone, Debug, Serialize)]
struct Field {
    link_id: &'static str,
    question: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Clone, Debug, Serialize)]
struct Rule {
    id: &'static str,
    version: &'static str,
    title: &'static str,
    flag: &'static str,
    max_urgency: &'static str,
    rationale: &'static str,
    inputs: Vec<&'static str>,
    citations: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
struct Source {
    key: &'static str,
    title: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    source: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    url: &'static str,
}

/// The About document for `kb` served under `base_url`.
#[must_use]
pub fn document(kb: &KnowledgeBase, base_url: &str) -> About {
    About {
        name: "cramp-cds",
        software_version: env!("CARGO_PKG_VERSION"),
        knowledge_base_version: kb.version(),
        developer: "The cramp-cds project",
        intended_use: "Decision support for clinicians reviewing a patient's leg or foot muscle cramps: it reads a structured cramp history and flags patterns that need evaluation (red flags, claudication, neuropathy, kidney and metabolic causes, medicines linked to cramps), suggests workups and self-care. Flags are worded as patterns to consider, never as diagnoses, and every flag shows the answers and rule behind it so the clinician can review the basis independently.",
        intended_users: vec![
            "Primary-care clinicians and nurses reviewing an intake before or during a visit",
            "EHR integrators (CDS Hooks, FHIR) and intake-form backends",
        ],
        not_intended_for: vec![
            "Diagnosis or treatment decisions without clinical review",
            "Emergency triage in place of emergency services",
            "Children under 1 year or anyone outside the intake's validated ranges",
        ],
        inputs: Inputs {
            description: "A structured leg-cramp history (cramp.v1.CrampHistory): the intake Questionnaire's answers, optionally completed from the chart. Absent answers mean 'not asked', never 'no'. No names, record numbers or dates of birth are taken (a birth date in the chart is only turned into an age).",
            questionnaire: questionnaire::canonical(base_url),
            questionnaire_version: QUESTIONNAIRE_VERSION,
            fields: link_ids::items()
                .map(|i| Field {
                    link_id: i.link_id,
                    question: i.text,
                    kind: match i.answer {
                        Answer::Boolean => "boolean",
                        Answer::Integer => "integer",
                        Answer::Decimal => "decimal",
                        Answer::String => "string",
                        Answer::Choice(_) => "choice",
                        Answer::MultiChoice(_) => "choice (several)",
                    },
                })
                .collect(),
            chart_data: "Through CDS Hooks prefetch or $cramp-assess parameters: Conditions by verified SNOMED CT / ICD-10-CM codes, labs by verified LOINC codes with a known unit (converted by published factors; anything else is reported, not used), MedicationRequest/MedicationStatement by RxNorm coding or name.",
        },
        outputs: "An overall urgency (emergency, urgent, soon, routine, self-care), risk flags with rationale, evidence, rule id and version and citations, suggested workups (LOINC/CPT coded where a verified code exists), medication findings (review with the prescriber; never 'stop'), self-care advice and the questions that would sharpen the assessment.",
        rules: kb
            .rules()
            .map(|r| Rule {
                id: r.id,
                version: r.version,
                title: r.title,
                flag: r.flag.name(),
                max_urgency: r.max_urgency.name(),
                rationale: r.rationale,
                inputs: r.inputs.to_vec(),
                citations: r.citations.iter().map(|c| c.key).collect(),
            })
            .collect(),
        sources: kb
            .sources()
            .iter()
            .map(|c| Source {
                key: c.key,
                title: c.title,
                source: c.source,
                url: c.url,
            })
            .collect(),
        limitations: vec![
            "Rule-based: no calibrated probabilities; qualitative levels only.",
            "Validated against clinical vignettes, not in a prospective clinical study.",
            "Self-reported answers can be wrong or incomplete; missing answers never lower urgency but can hide a pattern.",
            "Lab interpretation uses general adult reference intervals, not the reporting laboratory's range.",
            "Only codes marked verified in the project's clinical reference are read or written; other codings in the chart are ignored.",
            "Medication recognition covers the drug classes linked to cramps in the cited literature; other drugs are not assessed.",
        ],
        endpoints: vec![
            format!("{base_url}/cds-services"),
            format!("{base_url}/fhir/$cramp-assess"),
            format!("{base_url}/fhir/metadata"),
            format!("{base_url}/fhir/Questionnaire/cramp-intake"),
            format!("{base_url}/about"),
        ],
    }
}

/// `GET /about`: HTML when the client prefers it (a browser), JSON otherwise.
pub async fn about(state: State, headers: HeaderMap) -> Response {
    let doc = document(state.assessor.kb(), &state.settings.base_url);
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        match html(&doc) {
            Ok(page) => {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
            }
            // A template bug (the tests render the page): the same facts as JSON beat an error.
            Err(err) => {
                tracing::error!(error = %err, "the about page cannot be rendered; answering JSON");
                json(&doc, JSON)
            }
        }
    } else {
        json(&doc, JSON)
    }
}

/// The page's view of a rule: titles where the JSON has contract names (g.8).
#[derive(Serialize)]
struct RuleView<'a> {
    id: &'static str,
    version: &'static str,
    title: &'static str,
    urgency: String,
    /// The report's tier class, so urgencies look alike on both pages.
    urgency_class: &'static str,
    rationale: &'static str,
    inputs: &'a [&'static str],
    citations: &'a [&'static str],
}

/// What the shared template reads.
#[derive(Serialize)]
struct Page<'a> {
    doc: &'a About,
    rules: Vec<RuleView<'a>>,
}

/// The human-readable page, from the templates the screening report uses.
///
/// # Errors
/// Only if the template and this model disagree (a bug the tests catch).
pub fn html(doc: &About) -> Result<String, ReportError> {
    let rules = doc
        .rules
        .iter()
        .map(|rule| {
            let urgency = Urgency::from_name(rule.max_urgency);
            RuleView {
                id: rule.id,
                version: rule.version,
                title: rule.title,
                urgency: urgency.map_or_else(|| rule.max_urgency.to_owned(), titles::urgency),
                urgency_class: match urgency {
                    Some(Urgency::Emergency) => "emergency",
                    Some(Urgency::Urgent) => "urgent",
                    Some(Urgency::Soon) => "soon",
                    Some(Urgency::Routine | Urgency::SelfCare) | None => "routine",
                },
                rationale: rule.rationale,
                inputs: &rule.inputs,
                citations: &rule.citations,
            }
        })
        .collect();
    report::html::about(&Page { doc, rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_lists_every_rule_by_title_never_by_enum_name() {
        let kb = KnowledgeBase::standard();
        let doc = document(&kb, "https://cds.example.org");
        let page = html(&doc).unwrap();
        for rule in kb.rules() {
            assert!(page.contains(rule.id), "{}", rule.id);
        }
        for name in report::html::contract_names() {
            assert!(!page.contains(name), "{name} on the page");
        }
        assert!(page.contains("<td class=\"tier-emergency\">Emergency</td>"));
        assert!(!page.contains("<script"), "no script, nothing fetched");
    }
}
