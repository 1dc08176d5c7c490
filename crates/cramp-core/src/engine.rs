//! The evaluation loop: derive facts once, run every rule, then apply the cross-cutting rules of
//! clinical-reference.md (e) that no single rule can see.
//!
//! Rules return values and never fail; the engine only assembles them. Every ordering step is
//! explicit (urgency, then catalog order), so the same input always gives the same output.

pub(crate) mod facts;

use std::borrow::Cow;

pub(crate) use facts::Facts;
use facts::Reading;

use crate::input::{ValidHistory, fields};
use crate::kb::{KnowledgeBase, Rule, certainty, codes};
use crate::output::{
    Assessment, Coding, Evidence, Flag, MissingInformation, PossibleFlag, RiskFlag,
    SuggestedWorkup, Urgency, Workup,
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

    // (g.1) Red flags the answers do not establish but cannot exclude.
    let (possible, possible_missing) = possible_flags(kb, &facts, &flags, prose);

    // (e.10) A reassuring label beside a red flag misleads, so benign labels go when one fires or
    // cannot be excluded (g.1). (e.7, S13) "Isolated typical nocturnal cramps" are only isolated
    // when nothing else needs a visit within two weeks, so that label also goes beside any
    // SOON-or-worse pattern.
    let red = flags.iter().any(|(f, _)| f.flag.is_red_flag()) || !possible.is_empty();
    let soon_or_worse = flags
        .iter()
        .any(|(f, _)| !f.flag.is_benign() && f.urgency <= Urgency::Soon);
    flags.retain(|(f, _)| {
        !((f.flag.is_benign() && red) || (f.flag == Flag::BenignNocturnalCramps && soon_or_worse))
    });

    // (g.8) The PAD risk profile (e.13) is not shown beside an established CLTI, PAD pattern or
    // acute limb ischemia: they carry the vascular work-up, and a routine ABI note must never
    // stand beside (or seem to drive) an urgent vascular picture. Beside a *possible* one it
    // stays: the possible flag carries no referral, and the profile's ABI is then the test that
    // helps settle it (its duplex note goes, below).
    let vascular = |f: Flag| {
        matches!(
            f,
            Flag::CriticalLimbIschemia | Flag::PadPattern | Flag::AcuteLimbIschemia
        )
    };
    if flags.iter().any(|(f, _)| vascular(f.flag)) {
        flags.retain(|(f, _)| f.flag != Flag::PadRiskProfile);
    }

    flags.sort_by(|(a, _), (b, _)| a.urgency.cmp(&b.urgency).then(a.flag.cmp(&b.flag)));

    let established = flags.first().map_or(Urgency::Routine, |(f, _)| f.urgency);
    // (g.1) A possible red flag makes the overall urgency at least URGENT, never EMERGENCY: unknown
    // answers alone never call an ambulance.
    let urgency = if possible.is_empty() {
        established
    } else {
        established.min(Urgency::Urgent)
    };
    let urgency_rationale = match (flags.first(), possible.first()) {
        _ if !prose => String::new(),
        (_, Some((p, _))) if urgency < established || flags.is_empty() => format!(
            "{}: {} cannot be excluded. A specific sign is present and the answers that would settle it are unknown; ask them first (if confirmed it would be {}).",
            urgency_words(urgency),
            p.risk.title,
            urgency_words(p.risk.urgency).to_lowercase()
        ),
        (Some((f, _)), _) => format!(
            "{}: set by {}: {}",
            urgency_words(urgency),
            f.title,
            first_sentence(&f.rationale)
        ),
        (None, _) => format!(
            "{}: no specific pattern was recognised from the answers given; review at the next planned visit (no finding is not the same as reassurance).",
            urgency_words(Urgency::Routine)
        ),
    };

    let workups = if urgency == Urgency::Emergency {
        vec![emergency_workup(&flags, prose)]
    } else {
        // A possible flag's own tests (e.g. a same-day duplex for a possible DVT) join the list
        // at the urgency it carries while unsettled; never emergency care or a referral, which
        // wait for the answers that establish it.
        let mut asking: Vec<Fired> = Vec::with_capacity(flags.len() + possible.len());
        asking.extend(flags.iter().cloned());
        for (p, ws) in &possible {
            let mut risk = p.risk.clone();
            risk.urgency = risk.urgency.max(Urgency::Urgent);
            let ws = ws
                .iter()
                .filter(|(w, _)| !matches!(w, Workup::EmergencyCare | Workup::VascularReferral))
                .cloned()
                .collect();
            asking.push((risk, ws));
        }
        merge_workups(&asking, prose)
    };

    // (g.8) The PAD risk profile's "duplex is not a first test" never stands beside an urgent
    // duplex (a same-day venous duplex for a DVT, an arterial duplex for limb-threatening ischemia).
    let urgent_duplex = workups.iter().any(|w| {
        matches!(w.workup, Workup::VenousDuplex | Workup::ArterialDuplex)
            && w.urgency <= Urgency::Urgent
    });
    let mut risk_flags: Vec<RiskFlag> = flags.into_iter().map(|(f, _)| f).collect();
    if urgent_duplex {
        for f in risk_flags
            .iter_mut()
            .filter(|f| f.flag == Flag::PadRiskProfile)
        {
            f.rationale = f.rationale.replace(PAD_DUPLEX_NOTE, ".");
        }
    }
    let self_care = self_care::choose(&facts, urgency, &risk_flags);
    // The questions that settle a possible red flag lead (g.1).
    let mut missing = {
        let mut all = possible_missing;
        all.extend(missing);
        all
    };
    dedup_missing(&mut missing);
    if urgency == Urgency::Emergency {
        // Nothing outranks an emergency, and more questions only delay care.
        missing.clear();
    }
    let possible_flags = possible.into_iter().map(|(p, _)| p).collect();

    Assessment {
        urgency,
        urgency_rationale,
        flags: risk_flags,
        medication_findings: facts.medication_findings(),
        workups,
        self_care,
        missing_information: missing,
        possible_flags,
        unread_inputs: history.history().unread_inputs.clone(),
        knowledge_base_version: kb.version(),
    }
}

/// The PAD risk profile's closing note (kb/rules/vascular.rs), removed beside an urgent duplex.
const PAD_DUPLEX_NOTE: &str = "; duplex is not a first test.";

/// The urgency in a clinician's words (g.8: no internal enum names in clinician-facing text).
fn urgency_words(u: Urgency) -> &'static str {
    match u {
        Urgency::Emergency => "Emergency (emergency services or the emergency department now)",
        Urgency::Urgent => "Urgent (same day)",
        Urgency::Soon => "Soon (within days to two weeks)",
        Urgency::Routine => "Routine (next planned visit)",
        Urgency::SelfCare => "Self-care (no visit needed)",
    }
}

/// (g.1) Each red-flag rule that did not fire is judged again with every unknown answer read as
/// "yes". It is *possible* when that reading fires and one of its specific signs (the g.1 table)
/// is present; the questions that would settle it are returned to lead `missing_information`.
fn possible_flags(
    kb: &KnowledgeBase,
    facts: &Facts<'_>,
    established: &[Fired],
    prose: bool,
) -> (
    Vec<(PossibleFlag, Vec<WorkupRequest>)>,
    Vec<MissingInformation>,
) {
    let mut possible: Vec<(PossibleFlag, Vec<WorkupRequest>)> = Vec::new();
    let mut missing = Vec::new();
    let open = facts.reading_as(Reading::CannotExclude);
    let mut known: Option<Vec<&'static str>> = None;
    for rule in kb.entries() {
        let flag = rule.meta.flag;
        if established.iter().any(|(f, _)| f.flag == flag) {
            continue;
        }
        let Some(row) = certainty::of(flag) else {
            continue;
        };
        let signs = (row.signs)(facts.h);
        if signs.is_empty() {
            continue;
        }
        let mut out = RuleOut::default();
        (rule.eval)(&open, &mut out);
        let Some(fire) = out.fire else {
            continue;
        };
        let known = known.get_or_insert_with(|| fields::known_paths(facts.h));
        let mut settled_by: Vec<&'static str> = Vec::new();
        for s in row.settle.iter().filter(|s| !known.contains(&s.field)) {
            settled_by.push(s.field);
            missing.push(MissingInformation {
                field: s.field,
                question: s.question,
                why: s.why,
            });
        }
        for input in rule.meta.inputs {
            if !known.contains(input) && !settled_by.contains(input) {
                settled_by.push(input);
            }
        }
        possible.push((
            PossibleFlag {
                risk: possible_risk(rule, fire.urgency, signs, prose),
                settled_by,
            },
            fire.workups,
        ));
    }
    possible.sort_by(|(a, _), (b, _)| {
        a.risk
            .urgency
            .cmp(&b.risk.urgency)
            .then(a.risk.flag.cmp(&b.risk.flag))
    });
    (possible, missing)
}

/// The flag as it would fire, with the specific signs present as its evidence.
fn possible_risk(rule: &Rule, would_be: Urgency, signs: Vec<Evidence>, prose: bool) -> RiskFlag {
    RiskFlag {
        flag: rule.meta.flag,
        urgency: would_be,
        title: rule.meta.title,
        rationale: if prose {
            format!(
                "Not established, and it cannot be excluded: a specific sign is present and the answers that would settle it are unknown. If confirmed this would be {}; until those questions are answered, assess the same day. {}",
                urgency_words(would_be).to_lowercase(),
                rule.meta.rationale
            )
        } else {
            String::new()
        },
        evidence: signs,
        rule_id: rule.meta.id,
        rule_version: rule.meta.version,
        citations: if prose {
            rule.meta.citations.to_vec()
        } else {
            Vec::new()
        },
        codings: rule.meta.codings.to_vec(),
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
    // (g.8) A comprehensive panel contains the basic one: never both. The basic panel's asking
    // flags, reasons and urgency move to the comprehensive one.
    if let Some(bmp) = merged
        .iter()
        .position(|w| w.workup == Workup::BasicMetabolicPanel)
        && merged
            .iter()
            .any(|w| w.workup == Workup::ComprehensiveMetabolicPanel)
    {
        let basic = merged.remove(bmp);
        if let Some(cmp) = merged
            .iter_mut()
            .find(|w| w.workup == Workup::ComprehensiveMetabolicPanel)
        {
            cmp.urgency = cmp.urgency.min(basic.urgency);
            for f in basic.for_flags {
                if !cmp.for_flags.contains(&f) {
                    cmp.for_flags.push(f);
                }
            }
            cmp.for_flags.sort();
            if prose && !basic.rationale.is_empty() {
                cmp.rationale.push(' ');
                cmp.rationale.push_str(&basic.rationale);
            }
        }
    }
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
