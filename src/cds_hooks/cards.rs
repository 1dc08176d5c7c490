//! Assessment → CDS Hooks cards: one card per flag group.
//!
//! Groups keep a chart readable: one card for every red flag together, one for the vascular
//! patterns, and so on, instead of one per rule. Each card says why (the evidence fields, their
//! values and where they came from), which rules fired at which version, cites its sources, and
//! proposes the group's coded workups as draft/proposal ServiceRequests. The indicator follows
//! urgency (integration.md Decisions); there are no `systemActions`.

use std::collections::BTreeSet;

use cramp_core::{Flag, Urgency};

use super::model::{Action, Card, Indicator, Link, Source, Suggestion};
use crate::{
    fhir::{
        bundle::{self, flag_of, urgency_of, workup_display, workup_of},
        intake::Assessed,
        model::{Coding, Reference},
        questionnaire::display,
    },
    pb,
};

/// Longest summary CDS Hooks allows is 139 characters ("<140").
pub const MAX_SUMMARY_CHARS: usize = 139;

/// A card group, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CardGroup {
    /// Emergency and urgent patterns.
    RedFlags,
    /// Claudication pattern and PAD risk.
    Vascular,
    /// Neurogenic claudication, neuropathy.
    Neuro,
    /// Kidney, electrolytes, fluids, thyroid, liver, vitamin D.
    KidneyMetabolic,
    /// Medicines linked to cramps.
    Medication,
    /// Pregnancy and disruptive cramps.
    CrampPattern,
    /// Benign patterns with self-care.
    SelfCare,
}

impl CardGroup {
    /// Every group, in order.
    pub const ALL: &'static [Self] = &[
        Self::RedFlags,
        Self::Vascular,
        Self::Neuro,
        Self::KidneyMetabolic,
        Self::Medication,
        Self::CrampPattern,
        Self::SelfCare,
    ];

    /// The group of a flag.
    #[must_use]
    pub const fn of(flag: Flag) -> Self {
        match flag {
            Flag::DvtSuspected
            | Flag::PeSuspected
            | Flag::AcuteLimbIschemia
            | Flag::CriticalLimbIschemia
            | Flag::RhabdomyolysisSuspected
            | Flag::CompartmentSyndromeSuspected
            | Flag::CaudaEquinaSuspected
            | Flag::AcuteNeurologicDeficit
            | Flag::SevereElectrolyteDisturbance
            | Flag::SkinInfectionSuspected
            | Flag::HeatIllnessOrSevereDehydration => Self::RedFlags,
            Flag::PadPattern | Flag::PadRiskProfile => Self::Vascular,
            Flag::NeurogenicClaudication
            | Flag::PeripheralNeuropathy
            | Flag::NeuromuscularWeakness => Self::Neuro,
            Flag::KidneyDiseaseSigns
            | Flag::DialysisAssociated
            | Flag::ElectrolyteImbalanceRisk
            | Flag::DehydrationSigns
            | Flag::ThyroidRelated
            | Flag::LiverRelated
            | Flag::VitaminDDeficiencyRisk => Self::KidneyMetabolic,
            Flag::MedicationAssociated | Flag::StatinMuscleSymptoms => Self::Medication,
            Flag::PregnancyAssociated | Flag::DisruptiveCramps => Self::CrampPattern,
            Flag::BenignNocturnalCramps
            | Flag::ExerciseAssociatedCramps
            | Flag::PosturalOrSedentaryTriggers => Self::SelfCare,
        }
    }

    /// The topic code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::RedFlags => "red-flags",
            Self::Vascular => "vascular",
            Self::Neuro => "neuro",
            Self::KidneyMetabolic => "kidney-metabolic",
            Self::Medication => "medication",
            Self::CrampPattern => "cramp-pattern",
            Self::SelfCare => "self-care",
        }
    }

    /// The topic display.
    #[must_use]
    pub const fn display(self) -> &'static str {
        match self {
            Self::RedFlags => "Red flags",
            Self::Vascular => "Vascular patterns",
            Self::Neuro => "Neurological patterns",
            Self::KidneyMetabolic => "Kidney and metabolic patterns",
            Self::Medication => "Medicines linked to cramps",
            Self::CrampPattern => "Cramp pattern",
            Self::SelfCare => "Self-care",
        }
    }
}

/// The indicator for an urgency (integration.md Decisions).
#[must_use]
pub const fn indicator(urgency: Urgency) -> Indicator {
    match urgency {
        Urgency::Emergency => Indicator::Critical,
        Urgency::Urgent | Urgency::Soon => Indicator::Warning,
        Urgency::Routine | Urgency::SelfCare => Indicator::Info,
    }
}

/// What a clinician is told to do, by urgency.
const fn disposition(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Emergency => "seek emergency care now",
        Urgency::Urgent => "same-day clinical evaluation",
        Urgency::Soon => "evaluate within days to two weeks",
        Urgency::Routine => "review at the next planned visit",
        Urgency::SelfCare => "self-care; no visit needed",
    }
}

/// Everything cards need besides the assessment.
#[derive(Clone, Copy)]
#[expect(missing_debug_implementations, reason = "holds a closure")]
pub struct CardContext<'a> {
    /// The deployment's base URL.
    pub base_url: &'a str,
    /// `context.patientId`, the subject of proposed orders.
    pub patient_id: &'a str,
    /// Generates uuids (random v4).
    pub uuid: &'a dyn Fn() -> String,
}

/// All cards for an assessment: one per flag group with flags (the medication group also when
/// only findings exist), most urgent first, plus one when chart data could not be used.
#[must_use]
pub fn cards(assessed: &Assessed, context: &CardContext<'_>) -> Vec<Card> {
    let assessment = &assessed.assessment;
    let mut groups: Vec<(Urgency, CardGroup)> = CardGroup::ALL
        .iter()
        .filter_map(|&group| {
            let urgency = group_flags(assessment, group)
                .map(|f| urgency_of(f.urgency))
                .min()
                .or_else(|| {
                    (group == CardGroup::Medication && !assessment.medication_findings.is_empty())
                        .then_some(Urgency::Routine)
                })?;
            Some((urgency, group))
        })
        .collect();
    groups.sort();
    let mut proposed = BTreeSet::new();
    let mut cards: Vec<Card> = groups
        .iter()
        .enumerate()
        .map(|(i, &(urgency, group))| {
            group_card(
                assessed,
                context,
                group,
                urgency,
                i == 0,
                &mut proposed,
                None,
            )
        })
        .collect();
    if !assessed.provenance.not_used.is_empty() {
        cards.push(not_used_card(assessed, context));
    }
    cards
}

/// The medication card for `order-select`, limited to findings on the selected medicines;
/// `None` when none of them is a culprit.
#[must_use]
pub fn medication_card(
    assessed: &Assessed,
    context: &CardContext<'_>,
    selected_names: &[String],
) -> Option<Card> {
    let assessment = &assessed.assessment;
    if !assessment
        .medication_findings
        .iter()
        .any(|f| selected_names.contains(&f.input_name))
    {
        return None;
    }
    let urgency = group_flags(assessment, CardGroup::Medication)
        .map(|f| urgency_of(f.urgency))
        .min()
        .unwrap_or(Urgency::Routine);
    Some(group_card(
        assessed,
        context,
        CardGroup::Medication,
        urgency,
        false,
        &mut BTreeSet::new(),
        Some(selected_names),
    ))
}

fn group_flags(
    assessment: &pb::Assessment,
    group: CardGroup,
) -> impl Iterator<Item = &pb::RiskFlag> {
    assessment
        .flags
        .iter()
        .filter(move |f| flag_of(f.flag).is_some_and(|flag| CardGroup::of(flag) == group))
}

/// A value inside markdown inline code, which cannot be broken out of.
fn code_span(value: &str) -> String {
    format!("`{}`", value.replace('`', "'").replace('\n', " "))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[expect(clippy::too_many_lines, reason = "one card, section by section")]
fn group_card(
    assessed: &Assessed,
    context: &CardContext<'_>,
    group: CardGroup,
    urgency: Urgency,
    first: bool,
    proposed: &mut BTreeSet<i32>,
    only_medicines: Option<&[String]>,
) -> Card {
    let assessment = &assessed.assessment;
    let flags: Vec<&pb::RiskFlag> = group_flags(assessment, group).collect();
    let findings: Vec<&pb::MedicationFinding> = if group == CardGroup::Medication {
        assessment
            .medication_findings
            .iter()
            .filter(|f| only_medicines.is_none_or(|names| names.contains(&f.input_name)))
            .collect()
    } else {
        Vec::new()
    };

    let lead = match (flags.first(), findings.first()) {
        (Some(flag), _) if flags.len() > 1 => {
            format!("{} and {} more", flag.title, flags.len() - 1)
        }
        (Some(flag), _) => flag.title.clone(),
        (None, Some(_)) => "Medicine possibly contributing to cramps".to_owned(),
        (None, None) => group.display().to_owned(),
    };
    let summary = truncate(
        &format!("{lead}: {}.", disposition(urgency)),
        MAX_SUMMARY_CHARS,
    );

    let mut detail = String::from("**Why:**\n");
    for flag in &flags {
        let level = display(
            pb::Urgency::try_from(flag.urgency)
                .map(|u| u.as_str_name())
                .unwrap_or_default()
                .trim_start_matches("URGENCY_"),
        );
        detail.push_str(&format!(
            "- **{}** ({level}): {}\n",
            flag.title, flag.rationale
        ));
        for evidence in &flag.evidence {
            let pointer = assessed
                .pointer(&evidence.field)
                .map(|p| format!(" ({})", code_span(p)))
                .unwrap_or_default();
            detail.push_str(&format!(
                "  - {} = {}{pointer}\n",
                code_span(&evidence.field),
                code_span(&evidence.value)
            ));
        }
    }
    for finding in &findings {
        let class = pb::DrugClass::try_from(finding.drug_class)
            .map(|c| display(c.as_str_name().trim_start_matches("DRUG_CLASS_")))
            .unwrap_or_default();
        let pointer = assessed
            .medication_pointer(&finding.input_name)
            .map(|p| format!(" ({})", code_span(p)))
            .unwrap_or_default();
        detail.push_str(&format!(
            "- {} = {}{pointer}: {} ({class}{}). {} {}\n",
            code_span("medications.name"),
            code_span(&finding.input_name),
            finding.ingredient,
            if finding.recent {
                ", started within 12 weeks"
            } else {
                ""
            },
            finding.rationale,
            finding.advice
        ));
    }
    let workups: Vec<&pb::SuggestedWorkup> = assessment
        .workups
        .iter()
        .filter(|w| flags.iter().any(|f| w.for_flags.contains(&f.flag)))
        .collect();
    if !workups.is_empty() {
        detail.push_str("\n**Suggested next steps:**\n");
        for workup in &workups {
            let name = workup_of(workup.workup)
                .map(workup_display)
                .unwrap_or_default();
            // Most rationales already open with the workup's name.
            if workup.rationale.starts_with(&name) {
                detail.push_str(&format!("- {}\n", workup.rationale));
            } else {
                detail.push_str(&format!("- {name}: {}\n", workup.rationale));
            }
        }
    }
    if first && !assessment.missing_information.is_empty() {
        detail.push_str("\n**Would sharpen this:**\n");
        for missing in &assessment.missing_information {
            detail.push_str(&format!("- {} ({})\n", missing.question, missing.why));
        }
    }
    if group == CardGroup::SelfCare && !assessment.self_care.is_empty() {
        detail.push_str("\n**Self-care:**\n");
        for advice in &assessment.self_care {
            detail.push_str(&format!("- {} ({})\n", advice.text, advice.evidence));
        }
    }
    let rules: Vec<String> = flags
        .iter()
        .map(|f| format!("{} v{}", f.rule_id, f.rule_version))
        .collect();
    detail.push_str(&format!(
        "\n**Rule:** {}; knowledge base {}.",
        if rules.is_empty() {
            "medication recognition".to_owned()
        } else {
            rules.join(", ")
        },
        assessment.knowledge_base_version
    ));

    let subject = Reference::to(format!("Patient/{}", context.patient_id));
    let suggestions: Vec<Suggestion> = workups
        .iter()
        .filter(|w| proposed.insert(w.workup))
        .filter_map(|w| {
            let request = bundle::service_request(
                w,
                subject.clone(),
                None,
                bundle::workup_reason(assessment, w),
                None,
            )?;
            let name = workup_of(w.workup).map(workup_display).unwrap_or_default();
            Some(Suggestion {
                label: format!("Propose {name}"),
                uuid: (context.uuid)(),
                actions: vec![Action {
                    kind: "create",
                    description: format!("Create a draft {name} order proposal for review"),
                    resource: request,
                }],
            })
        })
        .collect();

    Card {
        uuid: (context.uuid)(),
        summary,
        detail,
        indicator: indicator(urgency),
        source: source(assessment, context, group),
        selection_behavior: (!suggestions.is_empty()).then_some("any"),
        suggestions,
        override_reasons: override_reasons(context.base_url),
        links: links(
            flags
                .iter()
                .flat_map(|f| &f.citations)
                .chain(findings.iter().flat_map(|f| &f.citations)),
            context.base_url,
        ),
    }
}

fn source(assessment: &pb::Assessment, context: &CardContext<'_>, group: CardGroup) -> Source {
    Source {
        label: format!(
            "cramp-cds leg-cramp rules, knowledge base v{}",
            assessment.knowledge_base_version
        ),
        url: Some(format!("{}/about", context.base_url)),
        topic: Some(Coding::new(
            &format!("{}/fhir/CodeSystem/cramp-card-group", context.base_url),
            group.code(),
            group.display(),
        )),
    }
}

/// The override reason codes every card offers (safe to log: they are ours).
pub const OVERRIDE_CODES: &[&str] = &["already-evaluated", "not-relevant", "patient-declined"];

fn override_reasons(base_url: &str) -> Vec<Coding> {
    let system = format!("{base_url}/fhir/CodeSystem/cramp-override");
    OVERRIDE_CODES
        .iter()
        .zip([
            "Already evaluated",
            "Not clinically relevant for this patient",
            "Patient declined",
        ])
        .map(|(code, display)| Coding::new(&system, code, display))
        .collect()
}

/// Citation links (https only, each once) and the About page, which explains the logic.
fn links<'a>(citations: impl Iterator<Item = &'a pb::Citation>, base_url: &str) -> Vec<Link> {
    let mut seen = BTreeSet::new();
    let mut links: Vec<Link> = citations
        .filter(|c| c.url.starts_with("https://") && seen.insert(c.url.clone()))
        .map(|c| Link {
            label: truncate(&format!("Evidence: {}", c.title), 120),
            url: c.url.clone(),
            kind: "absolute",
        })
        .collect();
    links.push(Link {
        label: "About this logic (intended use, inputs, rules, limitations)".into(),
        url: format!("{base_url}/about"),
        kind: "absolute",
    });
    links
}

fn not_used_card(assessed: &Assessed, context: &CardContext<'_>) -> Card {
    let mut detail = String::from(
        "**Why:** these chart entries were recognised but not used, so the screen may miss what they show:\n",
    );
    for item in &assessed.provenance.not_used {
        detail.push_str(&format!(
            "- {}: {}\n",
            code_span(&item.resource),
            item.reason
        ));
    }
    detail.push_str(&format!(
        "\n**Rule:** input mapping; knowledge base {}.",
        assessed.assessment.knowledge_base_version
    ));
    Card {
        uuid: (context.uuid)(),
        summary:
            "Some chart data could not be used by the leg-cramp screen; check units and status."
                .into(),
        detail,
        indicator: Indicator::Info,
        source: Source {
            label: format!(
                "cramp-cds leg-cramp rules, knowledge base v{}",
                assessed.assessment.knowledge_base_version
            ),
            url: Some(format!("{}/about", context.base_url)),
            topic: None,
        },
        suggestions: Vec::new(),
        selection_behavior: None,
        override_reasons: override_reasons(context.base_url),
        links: links(std::iter::empty(), context.base_url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_has_a_group_and_groups_follow_catalog_severity() {
        for flag in Flag::ALL {
            let group = CardGroup::of(*flag);
            assert_eq!(flag.is_red_flag(), group == CardGroup::RedFlags, "{flag}");
            assert_eq!(flag.is_benign(), group == CardGroup::SelfCare, "{flag}");
        }
    }

    #[test]
    fn indicators_follow_the_decisions() {
        assert_eq!(indicator(Urgency::Emergency), Indicator::Critical);
        assert_eq!(indicator(Urgency::Urgent), Indicator::Warning);
        assert_eq!(indicator(Urgency::Soon), Indicator::Warning);
        assert_eq!(indicator(Urgency::Routine), Indicator::Info);
        assert_eq!(indicator(Urgency::SelfCare), Indicator::Info);
    }

    #[test]
    fn summaries_are_cut_below_140_characters() {
        let long = "x".repeat(300);
        assert_eq!(
            truncate(&long, MAX_SUMMARY_CHARS).chars().count(),
            MAX_SUMMARY_CHARS
        );
        assert_eq!(truncate("short", MAX_SUMMARY_CHARS), "short");
    }
}
