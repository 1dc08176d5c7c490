//! The knowledge base's self-check: what every release must satisfy before it can serve.
//!
//! Run by the test suite and available to the binary at start-up, so a malformed rule table (a
//! duplicate id, a rule without a citation, an UNVERIFIED code) never reaches a clinician.

use super::{KnowledgeBase, codes};
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
    fn semver_is_strict() {
        assert!(semver("1.0.0"));
        assert!(!semver("1.0"));
        assert!(!semver("1.0.x"));
    }
}
