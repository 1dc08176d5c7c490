//! `GET /about`: what the logic is for, who it is for, what it reads, which rules it runs at which
//! version, what they cite and where they stop: the transparency the FDA's CDS guidance
//! (criterion 4: the clinician can review the basis) and ONC's decision-support source attributes
//! ask for. JSON for machines, HTML for people (by `Accept`), built from the same knowledge base
//! the assessments use, so the page cannot describe other rules than the ones that run.

use axum::{
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use cramp_core::KnowledgeBase;
use serde::Serialize;

use crate::fhir::{
    QUESTIONNAIRE_VERSION,
    link_ids::{self, Answer},
    questionnaire,
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
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html(&doc),
        )
            .into_response()
    } else {
        json(&doc, JSON)
    }
}

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn list(items: &[&str]) -> String {
    let items: String = items
        .iter()
        .map(|i| format!("<li>{}</li>", esc(i)))
        .collect();
    format!("<ul>{items}</ul>")
}

/// The human-readable page.
#[must_use]
pub fn html(doc: &About) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>About cramp-cds</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}}</style></head><body>\
         <h1>About cramp-cds</h1><p>Software {} · knowledge base {} · {}</p>\
         <h2>Intended use</h2><p>{}</p><h2>Intended users</h2>{}<h2>Not intended for</h2>{}\
         <h2>Inputs</h2><p>{}</p><p>Questionnaire: <a href=\"{}\">{}</a> version {}</p><p>{}</p>\
         <h2>Outputs</h2><p>{}</p><h2>Limitations</h2>{}",
        esc(doc.software_version),
        esc(doc.knowledge_base_version),
        esc(doc.developer),
        esc(doc.intended_use),
        list(&doc.intended_users),
        list(&doc.not_intended_for),
        esc(doc.inputs.description),
        esc(&doc.inputs.questionnaire),
        esc(&doc.inputs.questionnaire),
        esc(doc.inputs.questionnaire_version),
        esc(doc.inputs.chart_data),
        esc(doc.outputs),
        list(&doc.limitations),
    );
    page.push_str("<h2>Rules</h2><table><tr><th>Rule</th><th>Version</th><th>Flag</th><th>Most urgent</th><th>Why</th><th>Reads</th><th>Cites</th></tr>");
    for rule in &doc.rules {
        page.push_str(&format!(
            "<tr><td>{}<br>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(rule.id),
            esc(rule.title),
            esc(rule.version),
            esc(rule.flag),
            esc(rule.max_urgency),
            esc(rule.rationale),
            esc(&rule.inputs.join(", ")),
            esc(&rule.citations.join(", ")),
        ));
    }
    page.push_str("</table><h2>Sources</h2><ul>");
    for source in &doc.sources {
        page.push_str(&format!("<li>[{}] {}", esc(source.key), esc(source.title)));
        if !source.source.is_empty() {
            page.push_str(&format!(". {}", esc(source.source)));
        }
        if !source.url.is_empty() {
            page.push_str(&format!(". <a href=\"{0}\">{0}</a>", esc(source.url)));
        }
        page.push_str("</li>");
    }
    page.push_str(
        "</ul><h2>Intake items</h2><table><tr><th>linkId</th><th>Question</th><th>Type</th></tr>",
    );
    for field in &doc.inputs.fields {
        page.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(field.link_id),
            esc(field.question),
            esc(field.kind)
        ));
    }
    page.push_str("</table><h2>Endpoints</h2>");
    let endpoints: Vec<&str> = doc.endpoints.iter().map(String::as_str).collect();
    page.push_str(&list(&endpoints));
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_lists_every_rule() {
        let kb = KnowledgeBase::standard();
        let doc = document(&kb, "https://cds.example.org");
        let page = html(&doc);
        for rule in kb.rules() {
            assert!(page.contains(&esc(rule.id)));
        }
        assert_eq!(esc("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
