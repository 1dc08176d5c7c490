//! The knowledge base: an ordered catalog of clinical rules, each with its metadata.
//!
//! Rule *logic* is Rust (type-checked, one file per family under `kb/rules/`); rule *metadata*
//! ([`RuleMeta`]) is plain data that the `kb` command, the `GetKnowledgeBase` RPC and every flag
//! carry, so a clinician can review the basis of each recommendation.

pub(crate) mod certainty;
pub mod codes;
mod rules;
pub mod sources;
mod validate;

use crate::engine::{Facts, RuleOut};
use crate::output::{Citation, Coding, Flag, Urgency};
pub use validate::{KbError, self_check};

/// Semver of the rule set; bump the minor for a new rule or a rule whose urgency changed, the
/// patch for a wording fix, the major when a flag can change for the same input.
pub const VERSION: &str = "2.0.0";

/// Semver of the medication lexicon (`data/medication_lexicon.txt`), reported next to
/// [`VERSION`]: bump the major when a name can change class, the minor for new entries, the patch
/// for source or wording fixes.
pub const MEDICATION_LEXICON_VERSION: &str = "2.0.0";

/// What a clinician needs to review one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable id, `family.name`.
    pub id: &'static str,
    /// Rule version (semver).
    pub version: &'static str,
    /// Short title (also the flag's title).
    pub title: &'static str,
    /// The flag this rule raises.
    pub flag: Flag,
    /// The clinical rationale in one or two plain sentences.
    pub rationale: &'static str,
    /// The intake fields the rule reads.
    pub inputs: &'static [&'static str],
    /// Sources from clinical-reference.md.
    pub citations: &'static [Citation],
    /// Codes for the pattern (never UNVERIFIED ones).
    pub codings: &'static [Coding],
    /// The most urgent disposition this rule can give.
    pub max_urgency: Urgency,
}

/// One rule: metadata plus the function that evaluates it.
pub(crate) struct Rule {
    pub(crate) meta: RuleMeta,
    /// Reads the facts; records a firing and/or questions in `out`. Never panics, never fails.
    pub(crate) eval: fn(&Facts<'_>, &mut RuleOut),
}

/// The immutable rule set; build once and share.
#[derive(Clone, Copy)]
pub struct KnowledgeBase {
    rules: &'static [Rule],
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("version", &VERSION)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl KnowledgeBase {
    /// The standard rule set of this release.
    ///
    /// ```
    /// let kb = cramp_core::KnowledgeBase::standard();
    /// assert!(kb.rules().count() > 20);
    /// assert_eq!(kb.version(), cramp_core::kb::VERSION);
    /// ```
    #[must_use]
    pub const fn standard() -> Self {
        Self { rules: rules::ALL }
    }

    /// Semver of the rule set.
    #[must_use]
    pub const fn version(&self) -> &'static str {
        VERSION
    }

    /// Semver of the medication lexicon the rules recognise drugs with.
    #[must_use]
    pub const fn medication_lexicon_version(&self) -> &'static str {
        MEDICATION_LEXICON_VERSION
    }

    /// The medication lexicon: every ingredient, brand and combination the rules recognise, with
    /// its class, codes and sources.
    #[must_use]
    pub fn medication_lexicon(&self) -> &'static crate::meds::MedicationLexicon {
        crate::meds::MedicationLexicon::standard()
    }

    /// Every rule's metadata, in catalog order.
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &'static RuleMeta> + use<> {
        self.rules.iter().map(|r| &r.meta)
    }

    /// The rule with this id.
    #[must_use]
    pub fn rule(&self, id: &str) -> Option<&'static RuleMeta> {
        self.rules().find(|m| m.id == id)
    }

    /// Every source the reference lists and the rules draw on.
    #[must_use]
    pub const fn sources(&self) -> &'static [Citation] {
        sources::ALL
    }

    pub(crate) const fn entries(&self) -> &'static [Rule] {
        self.rules
    }
}
