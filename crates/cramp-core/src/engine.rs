//! The evaluation loop: derive facts once, run every rule, then apply the cross-cutting rules of
//! clinical-reference.md (e) that no single rule can see.
//!
//! Rules return values and never fail; the engine only assembles them. Every ordering step is
//! explicit (urgency, then catalog order), so the same input always gives the same output.

pub(crate) mod facts;

use std::borrow::Cow;

pub(crate) use facts::Facts;

use crate::input::ValidHistory;
use crate::kb::{KnowledgeBase, codes};
use crate::output::{
    Assessment, Coding, Evidence, Flag, MissingInformation, RiskFlag, SuggestedWorkup, Urgency,
    Workup,
};
use crate::self_care;

/// What one rule reports: at most one firing, plus questions whose answers would change it.
#[derive(Debug, Default)]
pub(crate) struct RuleOut {
    pub(crate) fire: Option<Fire>,
    pub(crate) missing: Vec<MissingInformation>,
}

impl RuleOut {
    /// Records a firing; a rule fires at most once, so a second call replaces the first.
    pub(crate) fn fire(&mut self, fire: Fire) {
        self.fire = Some(fire);
    }

    pub(crate) fn ask(&mut self, field: &'static str, question: &'static str, why: &'static str) {
        self.missing.push(MissingInformation {
            field,
            question,
            why,
        });
    }
}

/// A rule's firing before the engine turns it into a [`RiskFlag`].
#[derive(Debug)]
pub(crate) struct Fire {
    pub(crate) urgency: Urgency,
    /// Borrowed when the text is fixed, so a rule's usual rationale costs no allocation.
    pub(crate) rationale: Cow<'static, str>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) workups: Vec<WorkupRequest>,
    /// Codes that depend on the input (laterality, which electrolyte), beside the rule's own.
    pub(crate) codings: Vec<Coding>,
}

impl Fire {
    pub(crate) fn new(
        urgency: Urgency,
        rationale: impl Into<Cow<'static, str>>,
        evidence: Vec<Evidence>,
    ) -> Self {
        Self {
            urgency,
            rationale: rationale.into(),
            evidence,
            workups: Vec::new(),
            codings: Vec::new(),
        }
    }

    pub(crate) fn workup(mut self, workup: Workup, why: impl Into<Cow<'static, str>>) -> Self {
        self.workups.push((workup, why.into()));
        self
    }

    pub(crate) fn add_workup(&mut self, workup: Workup, why: impl Into<Cow<'static, str>>) {
        self.workups.push((workup, why.into()));
    }
}

/// A workup a rule asked for, with its reason.
pub(crate) type WorkupRequest = (Workup, Cow<'static, str>);

/// A fired flag with the workups its rule asked for (merged or replaced after all rules ran).
type Fired = (RiskFlag, Vec<WorkupRequest>);

/// How much human-readable text an assessment carries.
///
/// The codes (urgency, flags, rule ids, evidence, workups, codings, medication findings,
/// self-care codes, missing fields) never depend on it; only the prose does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// Everything: every rationale and citation, as [`evaluate`] returns it.
    #[default]
    Full,
    /// Codes and ids only: the rationales built from the answers (flags, urgency, workups,
    /// medication findings) are left empty and the citations out, because a caller that drops
    /// them (a batch's BASIC view) would otherwise pay for formatting text nobody reads. Fixed
    /// texts (`&'static str` titles, advice, questions) cost nothing and stay.
    Codes,
}

/// Assesses one validated history against the knowledge base.
///
/// Pure and total: no I/O, no clock, no failure path. The same inputs always give the same
/// assessment.
#[must_use]
pub fn evaluate(kb: &KnowledgeBase, history: &ValidHistory) -> Assessment {
    evaluate_with(kb, history, Detail::Full)
}

/// [`evaluate`] at a chosen [`Detail`]: with [`Detail::Codes`], the same assessment with its
/// answer-dependent texts empty and its citations left out (every code, id and coding is the
/// same as [`Detail::Full`] gives).
#[must_use]
pub fn evaluate_with(kb: &KnowledgeBase, history: &ValidHistory, detail: Detail) -> Assessment {
    let facts = Facts::new(history.history(), detail);
    let prose = detail == Detail::Full;
    // Sized for a typical assessment, so they are not regrown rule by rule.
    let mut flags: Vec<Fired> = Vec::with_capacity(8);
    let mut missing: Vec<MissingInformation> = Vec::with_capacity(16);

    for rule in kb.entries() {
        let mut out = RuleOut::default();
        (rule.eval)(&facts, &mut out);
        missing.extend(out.missing);
        if let Some(fire) = out.fire {
            let mut codings = Vec::with_capacity(rule.meta.codings.len() + fire.codings.len());
            codings.extend_from_slice(rule.meta.codings);
            for c in fire.codings {
                if !codings.contains(&c) {
                    codings.push(c);
                }
            }
            flags.push((
                RiskFlag {
                    flag: rule.meta.flag,
                    urgency: fire.urgency,
                    title: rule.meta.title,
                    rationale: if prose {
                        fire.rationale.into_owned()
                    } else {
                        String::new()
                    },
                    evidence: fire.evidence,
                    rule_id: rule.meta.id,
                    rule_version: rule.meta.version,
                    citations: if prose {
                        rule.meta.citations.to_vec()
                    } else {
                        Vec::new()
                    },
                    codings,
                },
                fire.workups,
            ));
        }
    }

    // (e.10) A reassuring label beside a red flag misleads, so benign labels go when one fires.
    // (e.7, S13) "Isolated typical nocturnal cramps" are only isolated when nothing else needs a
    // visit within two weeks, so that label also goes beside any SOON-or-worse pattern.
    let red = flags.iter().any(|(f, _)| f.flag.is_red_flag());
    let soon_or_worse = flags
        .iter()
        .any(|(f, _)| !f.flag.is_benign() && f.urgency <= Urgency::Soon);
    flags.retain(|(f, _)| {
        !((f.flag.is_benign() && red) || (f.flag == Flag::BenignNocturnalCramps && soon_or_worse))
    });

    flags.sort_by(|(a, _), (b, _)| a.urgency.cmp(&b.urgency).then(a.flag.cmp(&b.flag)));

    let urgency = flags.first().map_or(Urgency::Routine, |(f, _)| f.urgency);
    let urgency_rationale = match flags.first() {
        _ if !prose => String::new(),
        Some((f, _)) => format!(
            "{} set by {} ({}): {}",
            urgency.name(),
            f.flag.name(),
            f.title,
            first_sentence(&f.rationale)
        ),
        None => format!(
            "{}: no specific pattern was recognised from the answers given; review at the next planned visit (no finding is not the same as reassurance).",
            Urgency::Routine.name()
        ),
    };

    let workups = if urgency == Urgency::Emergency {
        vec![emergency_workup(&flags, prose)]
    } else {
        merge_workups(&flags, prose)
    };

    let risk_flags: Vec<RiskFlag> = flags.into_iter().map(|(f, _)| f).collect();
    let self_care = self_care::choose(&facts, urgency, &risk_flags);
    dedup_missing(&mut missing);
    if urgency == Urgency::Emergency {
        // Nothing outranks an emergency, and more questions only delay care.
        missing.clear();
    }

    Assessment {
        urgency,
        urgency_rationale,
        flags: risk_flags,
        medication_findings: facts.medication_findings(),
        workups,
        self_care,
        missing_information: missing,
        possible_flags: Vec::new(),
        unread_inputs: history.history().unread_inputs.clone(),
        knowledge_base_version: kb.version(),
    }
}

fn first_sentence(s: &str) -> &str {
    s.split_once(". ").map_or(s, |(head, _)| head)
}

/// (e.11) An emergency's workup is emergency care; what the emergency team will need is named in
/// the rationale, never offered as an outpatient list.
/// Without `prose` the rationale stays empty.
fn emergency_workup(flags: &[Fired], prose: bool) -> SuggestedWorkup {
    let mut for_flags = Vec::new();
    let mut needs: Vec<&str> = Vec::new();
    for (f, ws) in flags
        .iter()
        .filter(|(f, _)| f.urgency == Urgency::Emergency)
    {
        for_flags.push(f.flag);
        for (w, why) in ws {
            if prose && *w == Workup::EmergencyCare && !needs.contains(&why.as_ref()) {
                needs.push(why.as_ref());
            }
        }
    }
    let others = flags
        .iter()
        .filter(|(f, _)| f.urgency != Urgency::Emergency)
        .count();
    let mut rationale = String::new();
    if prose {
        rationale.push_str("Call emergency services or go to the emergency department now.");
    }
    for n in needs {
        rationale.push(' ');
        rationale.push_str(n);
    }
    if prose && others > 0 {
        rationale.push_str(&format!(
            " {others} other pattern(s) in this assessment need follow-up once the emergency is dealt with."
        ));
    }
    for_flags.sort();
    SuggestedWorkup {
        workup: Workup::EmergencyCare,
        urgency: Urgency::Emergency,
        rationale,
        for_flags,
        codings: Vec::new(),
    }
}

/// Workups deduplicated across flags: the most urgent request wins, every asking flag is named,
/// and distinct reasons are kept (joined into the rationale only with `prose`).
fn merge_workups(flags: &[Fired], prose: bool) -> Vec<SuggestedWorkup> {
    // Reasons are compared whole, not searched for as substrings of the joined text, so a distinct
    // reason that happens to be part of another is still kept.
    let mut merged: Vec<(SuggestedWorkup, Vec<&str>)> = Vec::new();
    for (f, ws) in flags {
        for (w, why) in ws {
            if let Some((existing, reasons)) = merged.iter_mut().find(|(m, _)| m.workup == *w) {
                existing.urgency = existing.urgency.min(f.urgency);
                if !existing.for_flags.contains(&f.flag) {
                    existing.for_flags.push(f.flag);
                }
                if prose && !reasons.contains(&why.as_ref()) {
                    reasons.push(why);
                }
            } else {
                let workup = SuggestedWorkup {
                    workup: *w,
                    urgency: f.urgency,
                    rationale: String::new(),
                    for_flags: vec![f.flag],
                    codings: workup_codings(*w, flags),
                };
                let reasons = if prose {
                    vec![why.as_ref()]
                } else {
                    Vec::new()
                };
                merged.push((workup, reasons));
            }
        }
    }
    let mut merged: Vec<SuggestedWorkup> = merged
        .into_iter()
        .map(|(mut m, reasons)| {
            if prose {
                m.rationale = reasons.join(" ");
            }
            m.for_flags.sort();
            m
        })
        .collect();
    merged.sort_by(|a, b| a.urgency.cmp(&b.urgency).then(a.workup.cmp(&b.workup)));
    merged
}

/// LOINC for labs and CPT for procedures (clinical-reference.md d.1, d.2); a step with no verified
/// code carries none.
fn workup_codings(w: Workup, flags: &[Fired]) -> Vec<Coding> {
    use codes::*;
    match w {
        Workup::AnkleBrachialIndex => vec![CPT_ABI],
        Workup::ExerciseAbi => vec![CPT_EXERCISE_ABI],
        Workup::ArterialDuplex => vec![CPT_ART_DUPLEX],
        Workup::VenousDuplex => {
            // A single symptomatic leg is the typical limited study; otherwise both legs.
            let one_leg = flags.iter().any(|(f, _)| {
                f.flag == Flag::DvtSuspected
                    && f.codings
                        .iter()
                        .any(|c| c == &ICD_DVT_LEFT || c == &ICD_DVT_RIGHT)
            });
            vec![if one_leg {
                CPT_VEN_DUPLEX_UNI
            } else {
                CPT_VEN_DUPLEX_BILAT
            }]
        }
        Workup::DDimer => vec![LOINC_DDIMER, CPT_DDIMER],
        Workup::BasicMetabolicPanel => vec![LOINC_BMP, CPT_BMP],
        Workup::ComprehensiveMetabolicPanel => vec![LOINC_CMP, CPT_CMP],
        Workup::Magnesium => vec![LOINC_MG, CPT_MG],
        Workup::Calcium => vec![LOINC_CA, LOINC_CA_ION],
        Workup::Phosphate => vec![LOINC_PHOS],
        Workup::KidneyFunction => vec![LOINC_CREAT, LOINC_EGFR],
        Workup::UrineAlbuminCreatinineRatio => vec![LOINC_UACR],
        Workup::Urinalysis => vec![LOINC_UA],
        Workup::CreatineKinase => vec![LOINC_CK, CPT_CK],
        Workup::Tsh => vec![LOINC_TSH, LOINC_FT4],
        Workup::Hba1c => vec![LOINC_HBA1C],
        Workup::VitaminB12 => vec![LOINC_B12, CPT_B12],
        Workup::VitaminD => vec![LOINC_VITD, CPT_VITD],
        Workup::Cbc => vec![LOINC_CBC],
        Workup::EmergencyCare
        | Workup::VascularReferral
        | Workup::MedicationReview
        | Workup::DialysisPrescriptionReview
        | Workup::ToeBrachialIndex
        | Workup::LipidPanel
        | Workup::Ecg
        | Workup::DiabeticFootExam
        | Workup::NerveConductionStudy
        | Workup::LumbarSpineMri => Vec::new(),
    }
}

fn dedup_missing(missing: &mut Vec<MissingInformation>) {
    let mut seen: Vec<&'static str> = Vec::new();
    missing.retain(|m| {
        if seen.contains(&m.field) {
            false
        } else {
            seen.push(m.field);
            true
        }
    });
}
