//! The medication lexicon: versioned data (`data/medication_lexicon.txt`, compiled in) and the
//! index that answers "which ingredients does this medication line name, and how".
//!
//! The data is plain text so that a pharmacist can review it and every row can cite where it
//! comes from; it is parsed once per process into a [`std::sync::OnceLock`] (no I/O: the text is
//! part of the binary). A malformed row is skipped and reported by [`MedicationLexicon::problems`],
//! which the tests require to be empty, so a bad edit fails `cargo test`, never a request.
//!
//! Matching, in order: exact terms (generic names, international spellings, abbreviations, brand
//! and co-names, up to three words, longest first), then a bounded fuzzy match for the words left
//! over. A fuzzy match is refused whenever it could be wrong in the dangerous direction: a word
//! near a negative control, or at least as near a drug that is not flagged, or equally near two
//! different ingredients, matches nothing.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::fuzzy::{allowed_edits, distance_within};
use super::normalize::words;
use crate::output::{DrugClass, EvidenceStrength, MedicationMatch};

const DATA: &str = include_str!("../../data/medication_lexicon.txt");

/// What the recogniser does with an ingredient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MedicationRole {
    /// A drug class linked to cramps (or, for quinine and CYP3A4 inhibitors, a safety note).
    Culprit(DrugClass),
    /// A negative control of Garrison 2012 (inhaled anticholinergics, beta blockers): never
    /// flagged, and never the target of a fuzzy match onto a culprit.
    NegativeControl,
    /// Known, not in any class of the reference: listed so that misspellings cannot drift onto a
    /// culprit and combination products can name all their parts.
    NotFlagged,
}

impl MedicationRole {
    /// The contract-style name used in the data file and the `kb --medications` listing.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Culprit(class) => class.name(),
            Self::NegativeControl => "NEGATIVE_CONTROL",
            Self::NotFlagged => "NOT_FLAGGED",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "NEGATIVE_CONTROL" => Some(Self::NegativeControl),
            "NOT_FLAGGED" => Some(Self::NotFlagged),
            other => DrugClass::from_name(other).map(Self::Culprit),
        }
    }

    /// The culprit class, if any.
    #[must_use]
    pub const fn class(self) -> Option<DrugClass> {
        match self {
            Self::Culprit(class) => Some(class),
            Self::NegativeControl | Self::NotFlagged => None,
        }
    }
}

/// Where lexicon rows come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexiconSource {
    /// Short key cited by rows, e.g. `HYZAAR`.
    pub key: &'static str,
    /// What was read: title and address.
    pub citation: &'static str,
}

/// One ingredient and everything the lexicon knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexiconIngredient {
    /// Normalised generic name, as reported in findings.
    pub name: &'static str,
    /// Culprit class, negative control, or not flagged.
    pub role: MedicationRole,
    /// WHO ATC substance code, only when clinical-reference.md marks it VERIFIED.
    pub atc: Option<&'static str>,
    /// RxNorm ingredient concept id, only when a cited public table states it.
    pub rxnorm: Option<&'static str>,
    /// Source keys.
    pub sources: Vec<&'static str>,
    /// Other spellings and abbreviations (chlortalidone, HCTZ).
    pub spellings: Vec<&'static str>,
}

impl LexiconIngredient {
    /// Evidence strength of the ingredient's class; `None` when it is never flagged.
    #[must_use]
    pub fn evidence_strength(&self) -> Option<EvidenceStrength> {
        self.role.class().map(super::strength)
    }
}

/// Whether a product name is proprietary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductKind {
    /// A brand (reported as `MEDICATION_MATCH_BRAND`).
    Brand,
    /// A non-proprietary combination name such as co-amilozide (reported as `_EXACT`).
    Combination,
}

/// A brand or a combination name and the ingredients it contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexiconProduct {
    /// The name as marketed, e.g. `Hyzaar`.
    pub name: &'static str,
    /// Brand or non-proprietary combination.
    pub kind: ProductKind,
    /// Generic names of the ingredients its source confirms.
    pub ingredients: Vec<&'static str>,
    /// Source keys.
    pub sources: Vec<&'static str>,
}

/// One ingredient named by a medication line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IngredientMatch {
    /// The ingredient's normalised generic name.
    pub ingredient: &'static str,
    /// Its role.
    pub role: MedicationRole,
    /// Exact name, brand, or fuzzy.
    pub match_kind: MedicationMatch,
    /// The lexicon term that matched: a spelling, or the product's name.
    pub term: &'static str,
    /// The first source key of the matched row.
    pub source: &'static str,
}

/// What a lexicon term points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Ingredient(usize),
    Product(usize),
}

/// A single-word term that misspellings may be matched against.
struct FuzzyTerm {
    chars: Vec<char>,
    target: Target,
    term: &'static str,
}

/// The parsed lexicon and its lookup index. Build once: [`MedicationLexicon::standard`].
pub struct MedicationLexicon {
    version: &'static str,
    sources: Vec<LexiconSource>,
    ingredients: Vec<LexiconIngredient>,
    products: Vec<LexiconProduct>,
    /// Normalised term (words joined by one space) to what it names.
    exact: HashMap<String, (Target, &'static str)>,
    /// Single words of at least five letters, for misspellings.
    fuzzy: Vec<FuzzyTerm>,
    /// Longest term, in words.
    max_words: usize,
    problems: Vec<String>,
}

impl std::fmt::Debug for MedicationLexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MedicationLexicon")
            .field("version", &self.version)
            .field("ingredients", &self.ingredients.len())
            .field("products", &self.products.len())
            .finish_non_exhaustive()
    }
}

fn list(field: &'static str, sep: char) -> Vec<&'static str> {
    field
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn optional(field: &'static str) -> Option<&'static str> {
    (field != "-" && !field.is_empty()).then_some(field)
}

impl MedicationLexicon {
    /// The lexicon shipped with this release, parsed on first use.
    pub fn standard() -> &'static Self {
        static LEXICON: OnceLock<MedicationLexicon> = OnceLock::new();
        LEXICON.get_or_init(|| Self::parse(DATA))
    }

    /// Parses lexicon text; rows that do not parse are skipped and listed in `problems`.
    fn parse(text: &'static str) -> Self {
        let mut lexicon = Self {
            version: "",
            sources: Vec::new(),
            ingredients: Vec::new(),
            products: Vec::new(),
            exact: HashMap::new(),
            fuzzy: Vec::new(),
            max_words: 1,
            problems: Vec::new(),
        };
        let mut pending_products: Vec<(usize, LexiconProduct)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&'static str> = line.split('|').map(str::trim).collect();
            match fields.as_slice() {
                ["version", v] => lexicon.version = v,
                ["source", key, citation] => lexicon.sources.push(LexiconSource { key, citation }),
                ["ingredient", name, role, atc, rxnorm, sources, spellings] => {
                    let Some(role) = MedicationRole::from_name(role) else {
                        lexicon
                            .problems
                            .push(format!("line {line_no}: unknown role {role}"));
                        continue;
                    };
                    lexicon.ingredients.push(LexiconIngredient {
                        name,
                        role,
                        atc: optional(atc),
                        rxnorm: optional(rxnorm),
                        sources: list(sources, ','),
                        spellings: list(spellings, ','),
                    });
                }
                [kind @ ("brand" | "combo"), name, ingredients, sources] => {
                    let kind = if *kind == "brand" {
                        ProductKind::Brand
                    } else {
                        ProductKind::Combination
                    };
                    pending_products.push((
                        line_no,
                        LexiconProduct {
                            name,
                            kind,
                            ingredients: list(ingredients, '+'),
                            sources: list(sources, ','),
                        },
                    ));
                }
                _ => lexicon
                    .problems
                    .push(format!("line {line_no}: not a lexicon row")),
            }
        }
        for (line_no, product) in pending_products {
            if let Some(missing) = product
                .ingredients
                .iter()
                .find(|i| lexicon.ingredient(i).is_none())
            {
                lexicon.problems.push(format!(
                    "line {line_no}: {} names unknown ingredient {missing}",
                    product.name
                ));
                continue;
            }
            lexicon.products.push(product);
        }
        lexicon.check_sources();
        lexicon.index();
        lexicon
    }

    fn check_sources(&mut self) {
        let known: Vec<&str> = self.sources.iter().map(|s| s.key).collect();
        let cited = self
            .ingredients
            .iter()
            .map(|i| (i.name, &i.sources))
            .chain(self.products.iter().map(|p| (p.name, &p.sources)));
        let mut problems = Vec::new();
        for (name, sources) in cited {
            if sources.is_empty() {
                problems.push(format!("{name} cites no source"));
            }
            for s in sources.iter().filter(|s| !known.contains(s)) {
                problems.push(format!("{name} cites unknown source {s}"));
            }
        }
        self.problems.extend(problems);
    }

    fn add_term(&mut self, term: &'static str, target: Target) {
        let key = words(term);
        if key.is_empty() {
            self.problems.push(format!("{term} has no words"));
            return;
        }
        self.max_words = self.max_words.max(key.len());
        if let [word] = key.as_slice() {
            let chars: Vec<char> = word.chars().collect();
            if allowed_edits(chars.len()) > 0 {
                self.fuzzy.push(FuzzyTerm {
                    chars,
                    target,
                    term,
                });
            }
        }
        match self.exact.insert(key.join(" "), (target, term)) {
            Some((other, _)) if other != target => {
                self.problems.push(format!("{term} names two entries"));
            }
            _ => {}
        }
    }

    fn index(&mut self) {
        let mut terms: Vec<(&'static str, Target)> = Vec::new();
        for (i, ing) in self.ingredients.iter().enumerate() {
            terms.push((ing.name, Target::Ingredient(i)));
            terms.extend(ing.spellings.iter().map(|s| (*s, Target::Ingredient(i))));
        }
        for (p, product) in self.products.iter().enumerate() {
            terms.push((product.name, Target::Product(p)));
        }
        for (term, target) in terms {
            self.add_term(term, target);
        }
    }

    /// Semver of the lexicon data.
    #[must_use]
    pub const fn version(&self) -> &'static str {
        self.version
    }

    /// Every ingredient, in data-file order (classes, then negative controls, then not flagged).
    #[must_use]
    pub fn ingredients(&self) -> &[LexiconIngredient] {
        &self.ingredients
    }

    /// Every brand and combination name, in data-file order.
    #[must_use]
    pub fn products(&self) -> &[LexiconProduct] {
        &self.products
    }

    /// Every source the rows cite.
    #[must_use]
    pub fn sources(&self) -> &[LexiconSource] {
        &self.sources
    }

    /// The ingredient with this generic name.
    #[must_use]
    pub fn ingredient(&self, name: &str) -> Option<&LexiconIngredient> {
        self.ingredients.iter().find(|i| i.name == name)
    }

    /// Products that contain the ingredient.
    pub fn products_containing<'a>(
        &'a self,
        ingredient: &'a str,
    ) -> impl Iterator<Item = &'a LexiconProduct> + 'a {
        self.products
            .iter()
            .filter(move |p| p.ingredients.contains(&ingredient))
    }

    /// Rows that did not parse or do not check out; empty for a good data file.
    #[must_use]
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The culprit ingredient with this RxNorm ingredient id.
    pub(crate) fn by_rxnorm(&self, cui: &str) -> Option<&LexiconIngredient> {
        let cui = cui.trim();
        self.ingredients
            .iter()
            .find(|i| i.rxnorm == Some(cui) && i.role.class().is_some())
    }

    /// The culprit ingredient with this ATC substance code (upper case, no spaces).
    pub(crate) fn by_atc(&self, code: &str) -> Option<&LexiconIngredient> {
        self.ingredients
            .iter()
            .find(|i| i.atc == Some(code) && i.role.class().is_some())
    }

    fn expand(
        &self,
        target: Target,
        term: &'static str,
        kind: Option<MedicationMatch>,
        out: &mut Vec<IngredientMatch>,
    ) {
        match target {
            Target::Ingredient(i) => {
                if let Some(ing) = self.ingredients.get(i) {
                    out.push(IngredientMatch {
                        ingredient: ing.name,
                        role: ing.role,
                        match_kind: kind.unwrap_or(MedicationMatch::Exact),
                        term,
                        source: ing.sources.first().copied().unwrap_or_default(),
                    });
                }
            }
            Target::Product(p) => {
                let Some(product) = self.products.get(p) else {
                    return;
                };
                let product_kind = match product.kind {
                    ProductKind::Brand => MedicationMatch::Brand,
                    ProductKind::Combination => MedicationMatch::Exact,
                };
                for name in &product.ingredients {
                    if let Some(ing) = self.ingredient(name) {
                        out.push(IngredientMatch {
                            ingredient: ing.name,
                            role: ing.role,
                            match_kind: kind.unwrap_or(product_kind),
                            term: product.name,
                            source: product.sources.first().copied().unwrap_or_default(),
                        });
                    }
                }
            }
        }
    }

    /// The ingredients a target names, sorted, and the most telling role among them.
    fn resolve(&self, target: Target) -> (Vec<usize>, TargetRole) {
        let indices: Vec<usize> = match target {
            Target::Ingredient(i) => vec![i],
            Target::Product(p) => self.products.get(p).map_or_else(Vec::new, |product| {
                product
                    .ingredients
                    .iter()
                    .filter_map(|n| self.ingredients.iter().position(|i| i.name == *n))
                    .collect()
            }),
        };
        let roles = indices
            .iter()
            .filter_map(|i| self.ingredients.get(*i).map(|ing| ing.role));
        let mut role = TargetRole::NotFlagged;
        for r in roles {
            role = match (role, r) {
                (_, MedicationRole::Culprit(_)) | (TargetRole::Culprit, _) => TargetRole::Culprit,
                (_, MedicationRole::NegativeControl) | (TargetRole::NegativeControl, _) => {
                    TargetRole::NegativeControl
                }
                (TargetRole::NotFlagged, MedicationRole::NotFlagged) => TargetRole::NotFlagged,
            };
        }
        let mut culprits: Vec<usize> = indices
            .into_iter()
            .filter(|i| {
                self.ingredients
                    .get(*i)
                    .is_some_and(|ing| ing.role.class().is_some())
            })
            .collect();
        culprits.sort_unstable();
        (culprits, role)
    }

    /// The culprit-bearing term a misspelt `word` most likely means, if that is unambiguous and
    /// cannot be a negative control or a drug that is not flagged.
    fn fuzzy_target(&self, word: &str) -> Option<(Target, &'static str)> {
        let chars: Vec<char> = word.chars().collect();
        if allowed_edits(chars.len()) == 0 {
            return None;
        }
        let mut near: Vec<(usize, Target, &'static str)> = Vec::new();
        for t in &self.fuzzy {
            let bound = allowed_edits(chars.len().min(t.chars.len()));
            if bound == 0 {
                continue;
            }
            if let Some(d) = distance_within(&chars, &t.chars, bound) {
                near.push((d, t.target, t.term));
            }
        }
        let mut best_culprit: Option<usize> = None;
        let mut guards: Vec<(usize, TargetRole)> = Vec::new();
        for (d, target, _) in &near {
            match self.resolve(*target).1 {
                TargetRole::Culprit => best_culprit = Some(best_culprit.map_or(*d, |b| b.min(*d))),
                role @ (TargetRole::NegativeControl | TargetRole::NotFlagged) => {
                    guards.push((*d, role));
                }
            }
        }
        let best = best_culprit?;
        let blocked = guards.iter().any(|(d, role)| match role {
            TargetRole::NegativeControl => true,
            TargetRole::NotFlagged | TargetRole::Culprit => *d <= best,
        });
        if blocked {
            return None;
        }
        let mut chosen: Option<(Vec<usize>, Target, &'static str)> = None;
        for (d, target, term) in near {
            if d != best {
                continue;
            }
            let (culprits, role) = self.resolve(target);
            if role != TargetRole::Culprit {
                continue;
            }
            match &chosen {
                None => chosen = Some((culprits, target, term)),
                Some((seen, _, _)) if *seen == culprits => {}
                Some(_) => return None,
            }
        }
        chosen.map(|(_, target, term)| (target, term))
    }

    /// Every ingredient the medication line names, negative controls and drugs that are not
    /// flagged included, each once, in the order named.
    #[must_use]
    pub fn identify(&self, name: &str) -> Vec<IngredientMatch> {
        let ws = words(name);
        let mut found: Vec<IngredientMatch> = Vec::new();
        let mut leftover: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < ws.len() {
            let longest = self.max_words.min(ws.len() - i);
            let hit = (1..=longest).rev().find_map(|n| {
                let key = ws.get(i..i + n)?.join(" ");
                self.exact
                    .get(&key)
                    .map(|(target, term)| (n, *target, *term))
            });
            match hit {
                Some((n, target, term)) => {
                    self.expand(target, term, None, &mut found);
                    i += n;
                }
                None => {
                    if let Some(w) = ws.get(i) {
                        leftover.push(w);
                    }
                    i += 1;
                }
            }
        }
        for w in leftover {
            if let Some((target, term)) = self.fuzzy_target(w) {
                self.expand(target, term, Some(MedicationMatch::Fuzzy), &mut found);
            }
        }
        // One entry per ingredient: a generic name beats a brand, a brand beats a guess.
        let rank = |m: MedicationMatch| match m {
            MedicationMatch::Exact | MedicationMatch::Rxnorm | MedicationMatch::Atc => 0,
            MedicationMatch::Brand => 1,
            MedicationMatch::Fuzzy => 2,
        };
        let mut out: Vec<IngredientMatch> = Vec::new();
        for m in found {
            match out.iter_mut().find(|o| o.ingredient == m.ingredient) {
                Some(o) if rank(m.match_kind) < rank(o.match_kind) => *o = m,
                Some(_) => {}
                None => out.push(m),
            }
        }
        out
    }
}

/// The most telling role among a term's ingredients: any culprit makes the term a culprit term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TargetRole {
    Culprit,
    NegativeControl,
    NotFlagged,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::codes;
    use crate::meds::normalize::noise_words;

    fn lex() -> &'static MedicationLexicon {
        MedicationLexicon::standard()
    }

    fn names(line: &str) -> Vec<(&'static str, MedicationMatch)> {
        lex()
            .identify(line)
            .iter()
            .map(|m| (m.ingredient, m.match_kind))
            .collect()
    }

    #[test]
    fn the_data_file_parses_and_checks_out() {
        assert_eq!(lex().problems(), &[] as &[String]);
        assert_eq!(lex().version(), crate::kb::MEDICATION_LEXICON_VERSION);
        assert!(lex().ingredients().len() > 100);
        assert!(lex().products().len() > 100);
    }

    #[test]
    fn ingredient_names_are_unique_and_products_name_known_ingredients() {
        let mut seen = std::collections::HashSet::new();
        for i in lex().ingredients() {
            assert!(seen.insert(i.name), "{} listed twice", i.name);
        }
        for p in lex().products() {
            assert!(!p.ingredients.is_empty(), "{}", p.name);
            for i in &p.ingredients {
                assert!(lex().ingredient(i).is_some(), "{} -> {i}", p.name);
            }
        }
    }

    #[test]
    fn only_verified_atc_codes_ship() {
        for i in lex().ingredients() {
            if let Some(atc) = i.atc {
                assert!(!codes::UNVERIFIED.contains(&atc), "{atc}");
                assert!(
                    codes::ALL
                        .iter()
                        .any(|c| c.system == codes::ATC && c.code == atc),
                    "{atc} is not among the verified codes"
                );
            }
        }
    }

    #[test]
    fn rxnorm_ids_are_the_cited_ones() {
        // The ids of the first-pass table, each stated in a public code table (source RXN).
        let cited = [
            "5487", "4603", "1808", "38413", "9997", "298869", "83367", "36567", "301542", "42463",
            "6472", "41127", "861634", "36117", "7646", "283742", "17128", "40790", "114979",
            "816346", "7258", "9071", "2556", "140587",
        ];
        let mut shipped: Vec<&str> = lex()
            .ingredients()
            .iter()
            .filter_map(|i| i.rxnorm)
            .collect();
        for i in lex().ingredients().iter().filter(|i| i.rxnorm.is_some()) {
            assert!(i.sources.contains(&"RXN"), "{} must cite RXN", i.name);
        }
        shipped.sort_unstable();
        let mut cited = cited.to_vec();
        cited.sort_unstable();
        assert_eq!(shipped, cited);
    }

    #[test]
    fn no_term_needs_a_noise_word() {
        for i in lex().ingredients() {
            for term in std::iter::once(&i.name).chain(&i.spellings) {
                let raw: Vec<String> = term
                    .split(|c: char| !c.is_alphabetic())
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                // "sodium bicarbonate" is the one name that keeps its meaning without its salt.
                if i.name == "sodium bicarbonate" {
                    continue;
                }
                for w in raw {
                    assert!(!noise_words().contains(&w.as_str()), "{term}: {w}");
                }
            }
        }
        for p in lex().products() {
            assert!(!words(p.name).is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn generic_names_spellings_and_abbreviations() {
        assert_eq!(
            names("HCTZ 25 mg"),
            [("hydrochlorothiazide", MedicationMatch::Exact)]
        );
        assert_eq!(
            names("chlortalidone 12.5mg"),
            [("chlorthalidone", MedicationMatch::Exact)]
        );
        assert_eq!(
            names("FRUSEMIDE 40"),
            [("furosemide", MedicationMatch::Exact)]
        );
        assert_eq!(
            names("conjugated oestrogens 0.625"),
            [("conjugated estrogens", MedicationMatch::Exact)]
        );
        assert_eq!(
            names("ethacrynic acid 25"),
            [("ethacrynic acid", MedicationMatch::Exact)]
        );
    }

    #[test]
    fn brands_and_combinations_name_every_ingredient() {
        assert_eq!(
            names("Hyzaar 100-25"),
            [
                ("losartan", MedicationMatch::Brand),
                ("hydrochlorothiazide", MedicationMatch::Brand)
            ]
        );
        assert_eq!(
            names("Co-amilozide 5/50"),
            [
                ("amiloride", MedicationMatch::Exact),
                ("hydrochlorothiazide", MedicationMatch::Exact)
            ]
        );
        // The generic name in brackets beats the brand for that ingredient.
        assert_eq!(
            names("Zocor (simvastatin) 40mg"),
            [("simvastatin", MedicationMatch::Exact)]
        );
    }

    #[test]
    fn misspellings_match_only_when_safe() {
        assert_eq!(
            names("atorvastatn"),
            [("atorvastatin", MedicationMatch::Fuzzy)]
        );
        assert_eq!(
            names("Lipitr 20"),
            [("atorvastatin", MedicationMatch::Fuzzy)]
        );
        assert_eq!(
            names("hydrochlorthiazide"),
            [("hydrochlorothiazide", MedicationMatch::Fuzzy)]
        );
        // Near a negative control: nothing, not even the control.
        assert!(names("tiotropim").is_empty());
        // Equally near two ingredients of the class: a guess would name the wrong drug.
        assert!(names("luvastatin").is_empty());
        // Words under five letters are never guessed; five to eight letters allow one edit.
        assert!(names("lasx").is_empty());
        assert_eq!(names("Lasik 40"), [("furosemide", MedicationMatch::Fuzzy)]);
        // Escitalopram is its own drug, not a misspelt citalopram.
        assert_eq!(
            names("escitalopram"),
            [("escitalopram", MedicationMatch::Exact)]
        );
    }
}
