//! The knowledge base's self-check: what every release must satisfy before it can serve.
//!
//! Run by the test suite and available to the binary at start-up, so a malformed rule table (a
//! duplicate id, a rule without a citation, an UNVERIFIED code) never reaches a clinician.

use super::{KnowledgeBase, certainty, codes};
use crate::input::fields;
use crate::output::Flag;

/// A defect in the rule table.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KbError {
    /// Two rules share an id.
    #[error("rule id `{0}` is used more than once")]
    DuplicateId(&'static str),
    /// A version is not `MAJOR.MINOR.PATCH`.
    #[error("rule `{0}` has a version that is not semver")]
    BadVersion(&'static str),
    /// A rule lacks a rationale, an input or a citation.
    #[error("rule `{0}` lacks a rationale, an input list or a citation")]
    Incomplete(&'static str),
    /// A rule or workup ships a code the reference marks UNVERIFIED.
    #[error("code `{0}` is marked UNVERIFIED in the clinical reference")]
    UnverifiedCode(&'static str),
    /// A flag of the output vocabulary has no rule.
    #[error("flag `{0}` has no rule")]
    UncoveredFlag(&'static str),
    /// A rule input or a settling question names a field the intake does not have.
    #[error("`{0}` is not an intake field path")]
    UnknownField(&'static str),
    /// A red flag has no row in the g.1 table of specific signs.
    #[error("red flag `{0}` has no specific signs (clinical-reference.md g.1)")]
    NoSpecificSigns(&'static str),
}

fn semver(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// Checks the rule table; every defect is reported, not just the first.
///
/// # Errors
/// The list of defects when there is any.
pub fn self_check(kb: &KnowledgeBase) -> Result<(), Vec<KbError>> {
    let mut errors = Vec::new();
    let metas: Vec<_> = kb.rules().collect();
    for (i, m) in metas.iter().enumerate() {
        if metas.iter().skip(i + 1).any(|o| o.id == m.id) {
            errors.push(KbError::DuplicateId(m.id));
        }
        if !semver(m.version) {
            errors.push(KbError::BadVersion(m.id));
        }
        if m.rationale.trim().is_empty() || m.inputs.is_empty() || m.citations.is_empty() {
            errors.push(KbError::Incomplete(m.id));
        }
        for c in m.codings {
            if codes::UNVERIFIED.contains(&c.code) {
                errors.push(KbError::UnverifiedCode(c.code));
            }
        }
    }
    for c in codes::ALL {
        if codes::UNVERIFIED.contains(&c.code) {
            errors.push(KbError::UnverifiedCode(c.code));
        }
    }
    for flag in Flag::ALL {
        if !metas.iter().any(|m| m.flag == *flag) {
            errors.push(KbError::UncoveredFlag(flag.name()));
        }
        if flag.is_red_flag() && certainty::of(*flag).is_none() {
            errors.push(KbError::NoSpecificSigns(flag.name()));
        }
    }
    // A misspelt path would never match an answer: every rule input and every g.1 question must
    // name an intake field ("medications" is the whole list).
    let known = |p: &str| p == "medications" || fields::is_intake_path(p);
    for m in &metas {
        for input in m.inputs {
            if !known(input) {
                errors.push(KbError::UnknownField(input));
            }
        }
    }
    for row in certainty::TABLE {
        for q in row.settle {
            if !known(q.field) {
                errors.push(KbError::UnknownField(q.field));
            }
        }
    }
    if !semver(super::VERSION) {
        errors.push(KbError::BadVersion("knowledge base"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_knowledge_base_passes_its_self_check() {
        assert_eq!(self_check(&KnowledgeBase::standard()), Ok(()));
    }

    #[test]
    fn a_misspelt_field_path_is_not_an_intake_path() {
        assert!(fields::is_intake_path("symptoms.leg_swelling"));
        assert!(!fields::is_intake_path("symptoms.leg_sweling"));
        assert!(fields::is_intake_path("findings.labs.ck_u_l"));
        assert!(fields::is_intake_path("medications.weeks_since_started"));
    }

    #[test]
    fn semver_is_strict() {
        assert!(semver("1.0.0"));
        assert!(!semver("1.0"));
        assert!(!semver("1.0.x"));
    }
}
