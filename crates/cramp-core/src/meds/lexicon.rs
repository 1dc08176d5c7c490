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
use super::normalize::{self, words};
use crate::kb::codes;
use crate::output::{Coding, DrugClass, EvidenceStrength, MedicationMatch};

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
    /// A non-proprietary combination name such as co-amilozide (reported as `_BRAND`, the
    /// product match: clinical-reference.md g.7).
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

/// The most telling role among a term's ingredients: any culprit makes the term a culprit term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TargetRole {
    Culprit,
    NegativeControl,
    NotFlagged,
}

/// A single-word term that misspellings may be matched against, with what it resolves to
/// worked out once.
struct FuzzyTerm {
    chars: Vec<char>,
    /// Which of a-z occur (bit 26: any other letter), for a cheap first filter.
    letters: u32,
    /// How often each of a-z occurs (slot 26: any other letter), for a second filter.
    counts: [u8; 32],
    target: Target,
    term: &'static str,
    role: TargetRole,
    /// Culprit ingredients the term names, sorted: two terms naming the same set agree.
    culprits: Vec<usize>,
}

/// What one normalised word is, answered by a single lookup.
#[derive(Clone, Copy, Default)]
struct WordInfo {
    /// Never names a drug (units, frequencies, forms, salts).
    noise: bool,
    /// Names a topical form (cream, shampoo).
    topical: bool,
    /// The one-word term it is, if any.
    term: Option<(Target, &'static str)>,
    /// Some multi-word term starts with it.
    starts_multi: bool,
}

/// FNV-1a: lookups are of short lower-case words, where SipHash's setup dominates.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// The parsed lexicon and its lookup index. Build once: [`MedicationLexicon::standard`].
pub struct MedicationLexicon {
    version: &'static str,
    sources: Vec<LexiconSource>,
    ingredients: Vec<LexiconIngredient>,
    products: Vec<LexiconProduct>,
    /// Ingredient indices of each product, parallel to `products`.
    product_parts: Vec<Vec<usize>>,
    /// Verified ATC coding of each ingredient, parallel to `ingredients`.
    atc_codings: Vec<Option<Coding>>,
    /// Every known word: noise, topical, a one-word term, the start of a longer term.
    words: FastMap<String, WordInfo>,
    /// Multi-word terms (words joined by one space).
    multi: FastMap<String, (Target, &'static str)>,
    /// Single words of at least five letters, for misspellings, shortest first.
    fuzzy: Vec<FuzzyTerm>,
    /// Length and letter set of each fuzzy term, packed side by side so that the scan over all
    /// of them touches one small array: `(len, letters)`.
    fuzzy_keys: Vec<(u32, u32)>,
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

/// The slot of a letter in the filters: a-z, then 26 for anything else.
fn slot(c: char) -> usize {
    if c.is_ascii_lowercase() {
        usize::from(c as u8 - b'a')
    } else {
        26
    }
}

fn letter_set(chars: &[char]) -> u32 {
    chars.iter().fold(0, |set, c| set | (1 << slot(*c)))
}

/// Letter counts, padded to 32 slots so that comparing two of them vectorises.
fn letter_counts(chars: &[char]) -> [u8; 32] {
    let mut counts = [0u8; 32];
    for c in chars {
        if let Some(n) = counts.get_mut(slot(*c)) {
            *n = n.saturating_add(1);
        }
    }
    counts
}

/// One ingredient a line names, by index, before it is made public.
#[derive(Clone, Copy)]
pub(crate) struct Hit {
    pub(crate) ingredient: usize,
    pub(crate) match_kind: MedicationMatch,
    pub(crate) term: &'static str,
    pub(crate) source: &'static str,
}

/// What a medication line names.
pub(crate) struct Scan {
    pub(crate) hits: Vec<Hit>,
    /// The line names a topical form.
    pub(crate) topical: bool,
}

/// `raw` lower-cased into `buf`, when it is short ASCII (nearly every word of a medication line).
fn lower_ascii<'b>(raw: &str, buf: &'b mut [u8; 48]) -> Option<&'b str> {
    if !raw.is_ascii() || raw.len() > buf.len() {
        return None;
    }
    let out = buf.get_mut(..raw.len())?;
    for (o, b) in out.iter_mut().zip(raw.bytes()) {
        *o = b.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

/// Adds a hit, keeping one per ingredient: a generic name beats a brand, a brand beats a guess.
fn merge(hits: &mut Vec<Hit>, hit: Hit) {
    let rank = |m: MedicationMatch| match m {
        MedicationMatch::Exact | MedicationMatch::Rxnorm | MedicationMatch::Atc => 0,
        MedicationMatch::Brand => 1,
        MedicationMatch::Fuzzy => 2,
    };
    match hits.iter_mut().find(|o| o.ingredient == hit.ingredient) {
        Some(o) if rank(hit.match_kind) < rank(o.match_kind) => *o = hit,
        Some(_) => {}
        None => hits.push(hit),
    }
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
            product_parts: Vec::new(),
            atc_codings: Vec::new(),
            words: FastMap::default(),
            multi: FastMap::default(),
            fuzzy: Vec::new(),
            fuzzy_keys: Vec::new(),
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
            let parts: Vec<Option<usize>> = product
                .ingredients
                .iter()
                .map(|name| lexicon.ingredients.iter().position(|i| i.name == *name))
                .collect();
            if let Some(missing) = product
                .ingredients
                .iter()
                .zip(&parts)
                .find_map(|(name, part)| part.is_none().then_some(name))
            {
                lexicon.problems.push(format!(
                    "line {line_no}: {} names unknown ingredient {missing}",
                    product.name
                ));
                continue;
            }
            lexicon
                .product_parts
                .push(parts.into_iter().flatten().collect());
            lexicon.products.push(product);
        }
        lexicon.atc_codings = lexicon
            .ingredients
            .iter()
            .map(|i| {
                i.atc.and_then(|code| {
                    codes::ALL
                        .iter()
                        .find(|c| c.system == codes::ATC && c.code == code)
                        .copied()
                })
            })
            .collect();
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
        for (i, ing) in self.ingredients.iter().enumerate() {
            if ing.atc.is_some() && self.atc_codings.get(i).is_none_or(Option::is_none) {
                problems.push(format!(
                    "{} carries an ATC code that is not verified",
                    ing.name
                ));
            }
        }
        self.problems.extend(problems);
    }

    /// The ingredients a target names (culprits only, sorted) and its most telling role.
    fn resolve(&self, target: Target) -> (Vec<usize>, TargetRole) {
        let indices: Vec<usize> = match target {
            Target::Ingredient(i) => vec![i],
            Target::Product(p) => self.product_parts.get(p).cloned().unwrap_or_default(),
        };
        let mut role = TargetRole::NotFlagged;
        let mut culprits = Vec::new();
        for i in indices {
            match self.ingredients.get(i).map(|ing| ing.role) {
                Some(MedicationRole::Culprit(_)) => {
                    role = TargetRole::Culprit;
                    culprits.push(i);
                }
                Some(MedicationRole::NegativeControl) if role != TargetRole::Culprit => {
                    role = TargetRole::NegativeControl;
                }
                Some(MedicationRole::NegativeControl | MedicationRole::NotFlagged) | None => {}
            }
        }
        culprits.sort_unstable();
        (culprits, role)
    }

    fn add_term(&mut self, term: &'static str, target: Target) {
        let key = words(term);
        if key.is_empty() {
            self.problems.push(format!("{term} has no words"));
            return;
        }
        self.max_words = self.max_words.max(key.len());
        if let [word] = key.as_slice() {
            let info = self.words.entry(word.clone()).or_default();
            match info.term {
                Some((other, _)) if other != target => {
                    self.problems.push(format!("{term} names two entries"));
                }
                _ => info.term = Some((target, term)),
            }
            let chars: Vec<char> = word.chars().collect();
            if allowed_edits(chars.len()) > 0 {
                let (culprits, role) = self.resolve(target);
                self.fuzzy.push(FuzzyTerm {
                    letters: letter_set(&chars),
                    counts: letter_counts(&chars),
                    chars,
                    target,
                    term,
                    role,
                    culprits,
                });
            }
        } else {
            if let Some(first) = key.first() {
                self.words.entry(first.clone()).or_default().starts_multi = true;
            }
            match self.multi.insert(key.join(" "), (target, term)) {
                Some((other, _)) if other != target => {
                    self.problems.push(format!("{term} names two entries"));
                }
                _ => {}
            }
        }
    }

    fn index(&mut self) {
        for w in normalize::NOISE {
            self.words.entry((*w).to_owned()).or_default().noise = true;
        }
        for w in normalize::TOPICAL {
            let info = self.words.entry((*w).to_owned()).or_default();
            info.noise = true;
            info.topical = true;
        }
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
        self.fuzzy.sort_by_key(|t| t.chars.len());
        self.fuzzy_keys = self
            .fuzzy
            .iter()
            .map(|t| (u32::try_from(t.chars.len()).unwrap_or(u32::MAX), t.letters))
            .collect();
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

    /// The ingredient at `index`, with its verified ATC coding.
    pub(crate) fn entry(&self, index: usize) -> Option<(&LexiconIngredient, Option<Coding>)> {
        self.ingredients
            .get(index)
            .map(|i| (i, self.atc_codings.get(index).copied().flatten()))
    }

    /// The culprit ingredient with this RxNorm ingredient id.
    pub(crate) fn by_rxnorm(&self, cui: &str) -> Option<usize> {
        let cui = cui.trim();
        self.ingredients
            .iter()
            .position(|i| i.rxnorm == Some(cui) && i.role.class().is_some())
    }

    /// The culprit ingredient with this ATC substance code (upper case, no spaces).
    pub(crate) fn by_atc(&self, code: &str) -> Option<usize> {
        self.ingredients
            .iter()
            .position(|i| i.atc == Some(code) && i.role.class().is_some())
    }

    fn expand(&self, target: Target, term: &'static str, fuzzy: bool, out: &mut Vec<Hit>) {
        match target {
            Target::Ingredient(i) => {
                if let Some(ing) = self.ingredients.get(i) {
                    merge(
                        out,
                        Hit {
                            ingredient: i,
                            match_kind: if fuzzy {
                                MedicationMatch::Fuzzy
                            } else {
                                MedicationMatch::Exact
                            },
                            term,
                            source: ing.sources.first().copied().unwrap_or_default(),
                        },
                    );
                }
            }
            Target::Product(p) => {
                let (Some(product), Some(parts)) =
                    (self.products.get(p), self.product_parts.get(p))
                else {
                    return;
                };
                let match_kind = match (fuzzy, product.kind) {
                    (true, _) => MedicationMatch::Fuzzy,
                    (false, ProductKind::Brand) => MedicationMatch::Brand,
                    // g.7: a combination product is reported as a product match, never as a generic name.
                    (false, ProductKind::Combination) => MedicationMatch::Brand,
                };
                let source = product.sources.first().copied().unwrap_or_default();
                for &ingredient in parts {
                    merge(
                        out,
                        Hit {
                            ingredient,
                            match_kind,
                            term: product.name,
                            source,
                        },
                    );
                }
            }
        }
    }

    /// The culprit-bearing term a misspelt `word` most likely means, if that is unambiguous and
    /// cannot be a negative control or a drug that is not flagged.
    fn fuzzy_target(&self, word: &str) -> Option<(Target, &'static str)> {
        let mut stack = ['\0'; 48];
        let mut len = 0;
        for (slot, c) in stack.iter_mut().zip(word.chars()) {
            *slot = c;
            len += 1;
        }
        if len == stack.len() {
            return None;
        }
        let chars = stack.get(..len)?;
        let widest = allowed_edits(len);
        if widest == 0 {
            return None;
        }
        let letters = letter_set(chars);
        let counts = letter_counts(chars);
        let (len32, widest32) = (
            u32::try_from(len).unwrap_or(u32::MAX),
            u32::try_from(widest).unwrap_or(0),
        );
        let from = self
            .fuzzy_keys
            .partition_point(|(n, _)| *n < len32 - widest32);
        // The nearest culprit term at each distance (and whether a second, different one ties),
        // the nearest drug that is not flagged, and whether any negative control is near at all.
        let mut culprit_at: [Option<(&FuzzyTerm, bool)>; 3] = [None; 3];
        let mut not_flagged: Option<usize> = None;
        let mut control_near = false;
        for (k, (n, set)) in self.fuzzy_keys.iter().enumerate().skip(from) {
            if *n > len32 + widest32 {
                break;
            }
            let bound = allowed_edits(len.min(*n as usize));
            // Each edit changes the letters used, and their counts, by at most two.
            if bound == 0 || (letters ^ set).count_ones() as usize > 2 * bound {
                continue;
            }
            let Some(t) = self.fuzzy.get(k) else {
                continue;
            };
            let moved: u16 = counts
                .iter()
                .zip(&t.counts)
                .map(|(a, b)| u16::from(a.abs_diff(*b)))
                .sum();
            if usize::from(moved) > 2 * bound {
                continue;
            }
            let Some(d) = distance_within(chars, &t.chars, bound) else {
                continue;
            };
            match t.role {
                TargetRole::NegativeControl => control_near = true,
                TargetRole::NotFlagged => not_flagged = Some(not_flagged.map_or(d, |n| n.min(d))),
                TargetRole::Culprit => {
                    if let Some(slot) = culprit_at.get_mut(d) {
                        match slot {
                            None => *slot = Some((t, false)),
                            Some((seen, tie)) => *tie |= seen.culprits != t.culprits,
                        }
                    }
                }
            }
        }
        let (best, (term, tie)) = culprit_at
            .iter()
            .enumerate()
            .find_map(|(d, slot)| slot.map(|s| (d, s)))?;
        let blocked = control_near || not_flagged.is_some_and(|n| n <= best);
        (!blocked && !tie).then_some((term.target, term.term))
    }

    /// Every ingredient the line names, by index, each once, in the order named.
    ///
    /// Words are looked at one by one, lower-cased on the stack, with one lookup each; only a word
    /// that begins a longer name (iron sucrose, conjugated estrogens, co-amilozide) sends the rest
    /// of the line through the slower multi-word path.
    pub(crate) fn scan(&self, name: &str) -> Scan {
        let mut hits: Vec<Hit> = Vec::new();
        let mut topical = false;
        let mut raws = name
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty());
        let mut stack = [0u8; 48];
        while let Some(raw) = raws.next() {
            let owned: String;
            let word: &str = match lower_ascii(raw, &mut stack) {
                Some(w) => w,
                None => {
                    owned = raw.to_lowercase();
                    &owned
                }
            };
            let info = self.words.get(word).copied().unwrap_or_default();
            topical |= info.topical;
            if info.noise {
                continue;
            }
            if info.starts_multi {
                let mut rest: Vec<(String, WordInfo)> = vec![(word.to_owned(), info)];
                for raw in raws.by_ref() {
                    let w = raw.to_lowercase();
                    let i = self.words.get(&w).copied().unwrap_or_default();
                    topical |= i.topical;
                    if !i.noise {
                        rest.push((w, i));
                    }
                }
                self.scan_words(&rest, &mut hits);
                break;
            }
            match info.term {
                Some((target, term)) => self.expand(target, term, false, &mut hits),
                None => {
                    if let Some((target, term)) = self.fuzzy_target(word) {
                        self.expand(target, term, true, &mut hits);
                    }
                }
            }
        }
        Scan { hits, topical }
    }

    /// Matches words that may hold multi-word names, longest name first.
    fn scan_words(&self, words: &[(String, WordInfo)], hits: &mut Vec<Hit>) {
        let mut k = 0;
        while let Some((word, info)) = words.get(k) {
            let multi = if info.starts_multi {
                let longest = self.max_words.min(words.len() - k);
                (2..=longest).rev().find_map(|n| {
                    let key = words
                        .get(k..k + n)?
                        .iter()
                        .map(|(w, _)| w.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    self.multi.get(&key).map(|(t, term)| (n, *t, *term))
                })
            } else {
                None
            };
            match (multi, info.term) {
                (Some((n, target, term)), _) => {
                    self.expand(target, term, false, hits);
                    k += n;
                }
                (None, Some((target, term))) => {
                    self.expand(target, term, false, hits);
                    k += 1;
                }
                (None, None) => {
                    if let Some((target, term)) = self.fuzzy_target(word) {
                        self.expand(target, term, true, hits);
                    }
                    k += 1;
                }
            }
        }
    }

    /// Every ingredient the medication line names, negative controls and drugs that are not
    /// flagged included, each once, in the order named.
    #[must_use]
    pub fn identify(&self, name: &str) -> Vec<IngredientMatch> {
        self.scan(name)
            .hits
            .iter()
            .filter_map(|h| {
                self.ingredients
                    .get(h.ingredient)
                    .map(|ing| IngredientMatch {
                        ingredient: ing.name,
                        role: ing.role,
                        match_kind: h.match_kind,
                        term: h.term,
                        source: h.source,
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::codes;
    use crate::meds::normalize::{NOISE, TOPICAL};

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
                    assert!(
                        !NOISE.contains(&w.as_str()) && !TOPICAL.contains(&w.as_str()),
                        "{term}: {w}"
                    );
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
                ("amiloride", MedicationMatch::Brand),
                ("hydrochlorothiazide", MedicationMatch::Brand)
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
        // Topical forms are seen, and never taken for a drug.
        assert!(lex().scan("Nizoral shampoo 2%").topical);
        assert!(!lex().scan("ketoconazole 200 mg tablet").topical);
        assert_eq!(
            names("ketoconazole cream"),
            [("ketoconazole", MedicationMatch::Exact)]
        );
        // Escitalopram is its own drug, not a misspelt citalopram.
        assert_eq!(
            names("escitalopram"),
            [("escitalopram", MedicationMatch::Exact)]
        );
    }
}
