//! Assessment → CDS Hooks cards: one card per flag group.
//!
//! Groups keep a chart readable: one card for every red flag together, one for the vascular
//! patterns, and so on, instead of one per rule. Each card says why (the evidence fields, their
//! values and where they came from), which rules fired at which version, cites its sources, and
//! proposes the group's coded workups as draft/proposal ServiceRequests. The indicator follows
//! urgency (integration.md Decisions); there are no `systemActions`.
//!
//! A red flag the answers cannot exclude (clinical-reference.md g.1) gets a warning card of its
//! own, never merged with the established ones: "cannot be excluded: ask …", with the questions
//! that would settle it. It proposes no orders, since answering the questions comes first. What
//! could not be read (answers, chart entries) is listed in one info card. Clinician text uses
//! titles and answer displays, never the contract's enum names (g.8).

use std::collections::BTreeSet;

use cramp_core::{
    Assessment, Citation, Flag, MedicationFinding, MissingInformation, PossibleFlag, RiskFlag,
    SuggestedWorkup, Urgency, Workup,
};

use super::model::{Action, Card, Indicator, Link, Source, Suggestion};
use crate::fhir::{
    bundle::{self, settling_questions, urgency_display, workup_display},
    intake::Assessed,
    link_ids,
    model::{Coding, Reference},
    questionnaire::display,
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

/// One card to write, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Planned {
    /// A red flag that cannot be excluded (its index in `possible_flags`): it sorts after the
    /// emergencies and before everything urgent, since unknowns alone never make an emergency
    /// (g.1) but settling them is the first thing to do.
    Possible(usize),
    /// A group of established flags.
    Group(CardGroup),
}

/// All cards for an assessment: one per flag group with flags (the medication group also when
/// only findings exist) and one per red flag that cannot be excluded, most urgent first, plus one
/// when answers or chart data could not be read.
#[must_use]
pub fn cards(assessed: &Assessed, context: &CardContext<'_>) -> Vec<Card> {
    let assessment = &assessed.assessment;
    let mut planned: Vec<(Urgency, Planned)> = CardGroup::ALL
        .iter()
        .filter_map(|&group| {
            let urgency = group_flags(assessment, group)
                .map(|f| f.urgency)
                .min()
                .or_else(|| {
                    (group == CardGroup::Medication && !assessment.medication_findings.is_empty())
                        .then_some(Urgency::Routine)
                })?;
            Some((urgency, Planned::Group(group)))
        })
        .chain(
            (0..assessment.possible_flags.len()).map(|i| (Urgency::Urgent, Planned::Possible(i))),
        )
        .collect();
    planned.sort();
    // The settling questions are on their possible flag's card; the first card asks the rest.
    let asked: BTreeSet<&str> = assessment
        .possible_flags
        .iter()
        .flat_map(|p| p.settled_by.iter().copied())
        .collect();
    let mut proposed = BTreeSet::new();
    let mut cards: Vec<Card> = planned
        .iter()
        .enumerate()
        .filter_map(|(i, &(urgency, plan))| match plan {
            Planned::Group(group) => Some(group_card(
                assessed,
                context,
                group,
                urgency,
                (i == 0).then_some(&asked),
                &mut proposed,
                None,
            )),
            Planned::Possible(index) => Some(possible_card(
                assessed,
                context,
                assessment.possible_flags.get(index)?,
                (i == 0).then_some(&asked),
            )),
        })
        .collect();
    if !assessment.unread_inputs.is_empty() {
        cards.push(unread_card(assessed, context));
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
        .map(|f| f.urgency)
        .min()
        .unwrap_or(Urgency::Routine);
    Some(group_card(
        assessed,
        context,
        CardGroup::Medication,
        urgency,
        None,
        &mut BTreeSet::new(),
        Some(selected_names),
    ))
}

fn group_flags(assessment: &Assessment, group: CardGroup) -> impl Iterator<Item = &RiskFlag> {
    assessment
        .flags
        .iter()
        .filter(move |f| CardGroup::of(f.flag) == group)
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

/// An evidence value as a clinician reads it: yes/no, an answer's display instead of its enum
/// name (g.8), numbers and text as given.
fn evidence_value(value: &str) -> String {
    match value {
        "true" => "yes".to_owned(),
        "false" => "no".to_owned(),
        _ if value.contains('_')
            && value
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
        {
            display(value)
        }
        _ => value.to_owned(),
    }
}

/// The "Would sharpen this" section: every question not already asked elsewhere.
fn would_sharpen(assessment: &Assessment, asked: &BTreeSet<&str>, detail: &mut String) {
    let rest: Vec<&MissingInformation> = assessment
        .missing_information
        .iter()
        .filter(|m| !asked.contains(m.field))
        .collect();
    if !rest.is_empty() {
        detail.push_str("\n**Would sharpen this:**\n");
        for missing in rest {
            detail.push_str(&format!("- {} ({})\n", missing.question, missing.why));
        }
    }
}

#[expect(clippy::too_many_lines, reason = "one card, section by section")]
fn group_card(
    assessed: &Assessed,
    context: &CardContext<'_>,
    group: CardGroup,
    urgency: Urgency,
    first: Option<&BTreeSet<&str>>,
    proposed: &mut BTreeSet<Workup>,
    only_medicines: Option<&[String]>,
) -> Card {
    let assessment = &assessed.assessment;
    let flags: Vec<&RiskFlag> = group_flags(assessment, group).collect();
    let findings: Vec<&MedicationFinding> = if group == CardGroup::Medication {
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
        (Some(flag), _) => flag.title.to_owned(),
        (None, Some(_)) => "Medicine possibly contributing to cramps".to_owned(),
        (None, None) => group.display().to_owned(),
    };
    let summary = truncate(
        &format!("{lead}: {}.", disposition(urgency)),
        MAX_SUMMARY_CHARS,
    );

    let mut detail = String::from("**Why:**\n");
    for flag in &flags {
        let level = urgency_display(flag.urgency);
        detail.push_str(&format!(
            "- **{}** ({level}): {}\n",
            flag.title, flag.rationale
        ));
        push_evidence(assessed, flag, &mut detail);
    }
    for finding in &findings {
        let class = display(finding.drug_class.name().trim_start_matches("DRUG_CLASS_"));
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
    let workups: Vec<&SuggestedWorkup> = assessment
        .workups
        .iter()
        .filter(|w| flags.iter().any(|f| w.for_flags.contains(&f.flag)))
        .collect();
    if !workups.is_empty() {
        detail.push_str("\n**Suggested next steps:**\n");
        for workup in &workups {
            let name = workup_display(workup.workup);
            // Most rationales already open with the workup's name.
            if workup.rationale.starts_with(&name) {
                detail.push_str(&format!("- {}\n", workup.rationale));
            } else {
                detail.push_str(&format!("- {name}: {}\n", workup.rationale));
            }
        }
    }
    if let Some(asked) = first {
        would_sharpen(assessment, asked, &mut detail);
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
            let name = workup_display(w.workup);
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

fn source(assessment: &Assessment, context: &CardContext<'_>, group: CardGroup) -> Source {
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
fn links<'a>(citations: impl Iterator<Item = &'a Citation>, base_url: &str) -> Vec<Link> {
    let mut seen = BTreeSet::new();
    let mut links: Vec<Link> = citations
        .filter(|c| c.url.starts_with("https://") && seen.insert(c.url))
        .map(|c| Link {
            label: truncate(&format!("Evidence: {}", c.title), 120),
            url: c.url.to_owned(),
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

/// The evidence lines of a flag: field, value as a clinician reads it, and where it came from.
fn push_evidence(assessed: &Assessed, flag: &RiskFlag, detail: &mut String) {
    for evidence in &flag.evidence {
        let pointer = assessed
            .pointer(&evidence.field)
            .map(|p| format!(" ({})", code_span(p)))
            .unwrap_or_default();
        detail.push_str(&format!(
            "  - {} = {}{pointer}\n",
            code_span(&evidence.field),
            code_span(&evidence_value(&evidence.value))
        ));
    }
}

/// The warning card of a red flag that cannot be excluded: its title, the specific signs present,
/// the questions that would settle it (with why they matter), the care it would need if
/// established, and its rule.
fn possible_card(
    assessed: &Assessed,
    context: &CardContext<'_>,
    possible: &PossibleFlag,
    first: Option<&BTreeSet<&str>>,
) -> Card {
    let assessment = &assessed.assessment;
    let flag = &possible.risk;
    let group = CardGroup::of(flag.flag);
    let questions = settling_questions(assessment, &possible.settled_by);
    let summary = possible_summary(flag.title, &questions);

    let would_need = flag.urgency;
    let mut detail = format!(
        "**Why:** {} cannot be excluded: it is not established by the answers given, but a specific sign is present and the questions below are unanswered. If established: {} ({}).\n- **{}**: {}\n",
        flag.title,
        disposition(would_need),
        urgency_display(would_need),
        flag.title,
        flag.rationale
    );
    push_evidence(assessed, flag, &mut detail);
    detail.push_str("\n**Ask now (these settle it):**\n");
    for (field, question) in possible.settled_by.iter().zip(&questions) {
        let why = assessment
            .missing_information
            .iter()
            .find(|m| m.field == *field)
            .map(|m| format!(" ({})", m.why))
            .unwrap_or_default();
        detail.push_str(&format!("- {question}{why}\n"));
    }
    if let Some(asked) = first {
        would_sharpen(assessment, asked, &mut detail);
    }
    // Not "**Rule:**": the rule has not fired, and readers of that line count fired rules.
    detail.push_str(&format!(
        "\n**Rule (not established):** {} v{}; knowledge base {}.",
        flag.rule_id, flag.rule_version, assessment.knowledge_base_version
    ));
    Card {
        uuid: (context.uuid)(),
        summary,
        detail,
        // Unknown answers alone never make an emergency (g.1): a warning, even for a flag that
        // would be critical once established.
        indicator: Indicator::Warning,
        source: source(assessment, context, group),
        suggestions: Vec::new(),
        selection_behavior: None,
        override_reasons: override_reasons(context.base_url),
        links: links(flag.citations.iter(), context.base_url),
    }
}

/// "{title} cannot be excluded: ask …", with as many questions as fit below 140 characters and a
/// count of the rest.
fn possible_summary(title: &str, questions: &[String]) -> String {
    if questions.is_empty() {
        return truncate(&format!("{title} cannot be excluded."), MAX_SUMMARY_CHARS);
    }
    let mut summary = format!("{title} cannot be excluded: ask");
    for (i, question) in questions.iter().enumerate() {
        let later = questions.len() - i - 1;
        let tail = if later > 0 {
            format!(" (+{later} more)")
        } else {
            String::new()
        };
        let longer = format!("{summary} {question}");
        if longer.chars().count() + tail.chars().count() > MAX_SUMMARY_CHARS {
            let suffix = if i == 0 {
                " the questions in the card".to_owned()
            } else {
                format!(" (+{} more)", questions.len() - i)
            };
            return truncate(&format!("{summary}{suffix}"), MAX_SUMMARY_CHARS);
        }
        summary = longer;
    }
    summary
}

/// Whether an unread input is a questionnaire answer (its pointer or its linkId) rather than a
/// chart resource (`Condition/c1`, `Observation (LOINC 8480-6)`).
fn is_answer(item: &str) -> bool {
    item.starts_with("QuestionnaireResponse") || !item.starts_with(|c: char| c.is_ascii_uppercase())
}

/// For `order-select` when no medication card applies: the info card of what was not used, when
/// a selected order is among it (a product code no configured value set names is unknown, not
/// "no finding"), so the clinician is told the order was not checked.
#[must_use]
pub fn unresolved_order_card(
    assessed: &Assessed,
    context: &CardContext<'_>,
    order_pointers: &[String],
) -> Option<Card> {
    assessed
        .assessment
        .unread_inputs
        .iter()
        .any(|u| order_pointers.contains(&u.item))
        .then(|| unread_card(assessed, context))
}

/// The info card naming every answer and chart entry that could not be read, and why: they were
/// treated as unknown, so a clinician knows what the screen did not use.
fn unread_card(assessed: &Assessed, context: &CardContext<'_>) -> Card {
    let (answers, chart): (Vec<_>, Vec<_>) = assessed
        .assessment
        .unread_inputs
        .iter()
        .partition(|item| is_answer(&item.item));
    let mut detail = String::from(if answers.is_empty() {
        "**Why:** the screen did not use these chart entries, so what they show is unknown to it (never \"no\"):\n"
    } else {
        "**Why:** these answers or chart entries could not be read, so the screen treated them as unknown (never as \"no\") and may miss what they show:\n"
    });
    for item in answers {
        // A questionnaire answer is named by its pointer, which ends in its linkId.
        let link_id = item.item.rsplit("#linkId=").next().unwrap_or(&item.item);
        let question = link_ids::item(link_id)
            .map(|i| format!(" {}", i.text))
            .unwrap_or_default();
        detail.push_str(&format!(
            "- {}{question}: {}\n",
            code_span(&item.item),
            item.reason
        ));
    }
    // Issue 13: every chart resource the screen did not use, with its code and why, so the
    // clinician knows what the chart held that the rules never saw.
    if !chart.is_empty() {
        detail.push_str("\n**Chart entries not used** (what, and why):\n");
        for item in chart {
            detail.push_str(&format!("- {}: {}\n", code_span(&item.item), item.reason));
        }
    }
    detail.push_str(&format!(
        "\n**Rule:** input mapping; knowledge base {}.",
        assessed.assessment.knowledge_base_version
    ));
    Card {
        uuid: (context.uuid)(),
        summary: "Some answers or chart data could not be used by the leg-cramp screen; they were treated as unknown.".into(),
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

    fn context_cards(assessed: &Assessed) -> Vec<Card> {
        let uuid = || "00000000-0000-4000-8000-000000000000".to_owned();
        let context = CardContext {
            base_url: "https://cds.example.org",
            patient_id: "p-1",
            uuid: &uuid,
        };
        cards(assessed, &context)
    }

    #[test]
    fn a_possible_red_flag_gets_its_own_warning_card_asking_what_settles_it() {
        let assessed = crate::fhir::bundle::tests::assessed_with_a_possible_flag();
        let cards = context_cards(&assessed);
        assert_eq!(cards.len(), 3, "{cards:?}");
        let possible = &cards[0];
        // Would be an emergency, but unknowns alone never make one (g.1).
        assert_eq!(possible.indicator, Indicator::Warning);
        assert!(
            possible
                .summary
                .starts_with("Possible acute limb ischemia cannot be excluded: ask Is the pain constant, even at rest?"),
            "{}",
            possible.summary
        );
        assert!(possible.summary.chars().count() <= MAX_SUMMARY_CHARS);
        assert!(possible.detail.contains("**Ask now (these settle it):**"));
        assert!(possible.detail.contains("- Is a foot pale or blue?"));
        assert!(
            possible
                .detail
                .contains("If established: seek emergency care now (Emergency)")
        );
        assert!(
            possible
                .detail
                .contains("**Rule (not established):** red_flags.acute_limb_ischemia v2.0.0")
        );
        assert!(!possible.detail.contains("**Rule:**"), "not a fired rule");
        assert!(
            possible.suggestions.is_empty(),
            "no orders before the questions"
        );
        // First card: the remaining question is here, the settling one only once.
        assert!(possible.detail.contains("- Any fever?"));
        assert_eq!(possible.detail.matches("Is the pain constant").count(), 1);

        let established = &cards[1];
        assert_eq!(established.indicator, Indicator::Info);
        assert!(
            established
                .detail
                .contains("**Rule:** vascular.pad_pattern v1.0.0")
        );
        assert!(!established.detail.contains("cannot be excluded"));
        assert!(!established.detail.contains("Would sharpen"));

        let unread = &cards[2];
        assert_eq!(unread.indicator, Indicator::Info);
        assert!(unread.summary.contains("could not be used"));
        assert!(
            unread
                .detail
                .contains("`QuestionnaireResponse/qr-1#linkId=symptoms.numbness`"),
            "{}",
            unread.detail
        );
        assert!(unread.detail.contains("not a yes/no (valueBoolean) answer"));

        // g.8: titles and answer displays, never the contract's enum names.
        for card in &cards {
            let text = format!("{} {}", card.summary, card.detail);
            for internal in [
                "URGENCY_",
                "FLAG_",
                "DRUG_CLASS_",
                "WORKUP_",
                "PULSES_",
                "RELIEF_",
            ] {
                assert!(!text.contains(internal), "{internal} in {text}");
            }
        }
        assert!(
            cards[0]
                .detail
                .contains("`findings.foot_pulses` = `Absent`")
        );
        assert!(cards[0].detail.contains("`symptoms.cold_feet` = `yes`"));
        assert!(cards[1].detail.contains("= `Within 10 minutes`"));
    }

    #[test]
    fn long_question_lists_are_counted_in_the_summary() {
        let questions: Vec<String> = (0..6)
            .map(|i| format!("Is there a long question number {i} about the leg?"))
            .collect();
        let summary = possible_summary("Possible deep vein thrombosis", &questions);
        assert!(summary.chars().count() <= MAX_SUMMARY_CHARS, "{summary}");
        assert!(
            summary.starts_with("Possible deep vein thrombosis cannot be excluded: ask Is there")
        );
        assert!(summary.ends_with("more)"), "{summary}");
        assert_eq!(
            possible_summary(
                "Possible rhabdomyolysis",
                &["Is the urine dark?".to_owned()]
            ),
            "Possible rhabdomyolysis cannot be excluded: ask Is the urine dark?"
        );
        assert_eq!(evidence_value("SWELLING_ONE_LEG"), "One leg");
        assert_eq!(evidence_value("3.1"), "3.1");
        assert_eq!(evidence_value("false"), "no");
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
