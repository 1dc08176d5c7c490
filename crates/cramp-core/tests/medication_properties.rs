//! Property tests of medication recognition over the whole lexicon: the promises that make a
//! match trustworthy on a messy list, checked on generated input rather than chosen examples.
//!
//! - Case and noise (doses, frequencies, routes, devices, salts) never change what is recognised.
//! - One name never yields two classes, except a combination product, which yields exactly one
//!   finding per culprit ingredient it contains.
//! - A misspelt negative control (within the fuzzy edit budget) is never flagged.

use cramp_core::{
    LexiconProduct, Medication, MedicationLexicon, MedicationMatch, MedicationRole,
    recognise_medications,
};
use proptest::prelude::*;

fn lex() -> &'static MedicationLexicon {
    MedicationLexicon::standard()
}

/// Every name the lexicon knows: generic names, other spellings, brands and co-names.
fn all_terms() -> Vec<&'static str> {
    let mut terms: Vec<&'static str> = Vec::new();
    for i in lex().ingredients() {
        terms.push(i.name);
        terms.extend(i.spellings.iter().copied());
    }
    terms.extend(lex().products().iter().map(|p| p.name));
    terms
}

/// Names of negative controls and of products made only of negative controls.
fn negative_control_terms() -> Vec<&'static str> {
    let is_control = |name: &str| {
        lex()
            .ingredient(name)
            .is_some_and(|i| i.role == MedicationRole::NegativeControl)
    };
    let mut terms: Vec<&'static str> = Vec::new();
    for i in lex()
        .ingredients()
        .iter()
        .filter(|i| i.role == MedicationRole::NegativeControl)
    {
        terms.push(i.name);
        terms.extend(i.spellings.iter().copied());
    }
    terms.extend(
        lex()
            .products()
            .iter()
            .filter(|p| p.ingredients.iter().all(|i| is_control(i)))
            .map(|p| p.name),
    );
    terms
}

/// What a line is recognised as, independent of how it was written.
fn recognised(name: &str) -> Vec<(&'static str, MedicationMatch)> {
    let mut v: Vec<_> = lex()
        .identify(name)
        .iter()
        .map(|m| (m.ingredient, m.match_kind))
        .collect();
    v.sort_unstable();
    v
}

fn findings(name: &str) -> Vec<(&'static str, cramp_core::DrugClass)> {
    let med = Medication {
        name: name.to_owned(),
        ..Medication::default()
    };
    recognise_medications(&[med])
        .iter()
        .map(|f| (f.ingredient, f.drug_class))
        .collect()
}

/// Things people write around a drug name on a medication list.
const NOISE: &[&str] = &[
    "25 mg",
    "12.5mg",
    "160/4.5",
    "0.5%",
    "1 tab",
    "bid",
    "BID",
    "at night",
    "qhs",
    "q.d.",
    "prn",
    "once daily",
    "OTC",
    "Rx",
    "tablet",
    "tablets",
    "capsule",
    "inhaler",
    "2 puffs",
    "Respimat",
    "Diskus",
    "HFA",
    "XR",
    "ER",
    "SR",
    "succinate",
    "tartrate",
    "sodium",
    "HCl",
    "(",
    ")",
    "-",
    ",",
    "/",
    "by mouth",
    "as needed",
    "with food",
    "every morning",
];

fn noisy(term: &'static str) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(proptest::sample::select(NOISE), 0..3),
        proptest::collection::vec(proptest::sample::select(NOISE), 0..3),
        proptest::collection::vec(any::<bool>(), term.len()),
    )
        .prop_map(move |(before, after, upper)| {
            let cased: String = term
                .chars()
                .zip(upper.iter().chain(std::iter::repeat(&false)))
                .map(|(c, u)| {
                    if *u {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            let mut parts: Vec<String> = before.iter().map(|s| (*s).to_owned()).collect();
            parts.push(cased);
            parts.extend(after.iter().map(|s| (*s).to_owned()));
            parts.join(" ")
        })
}

/// One edit of `word`: insert, delete, substitute or swap neighbours.
fn edit(word: &str, op: u8, at: usize, letter: char) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.is_empty() {
        return letter.to_string();
    }
    let at = at % chars.len();
    match op % 4 {
        0 => chars.insert(at, letter),
        1 => {
            chars.remove(at);
        }
        2 => chars[at] = letter,
        _ => {
            if at + 1 < chars.len() {
                chars.swap(at, at + 1);
            }
        }
    }
    chars.into_iter().collect()
}

/// Edits a typist could make without the word stopping to be a misspelling of itself: as many
/// as the fuzzy matcher allows for its length (none under five letters, one to eight, two beyond).
fn misspelt(term: &'static str) -> impl Strategy<Value = String> {
    let letters = term.chars().filter(|c| c.is_alphabetic()).count();
    let budget = match letters {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    };
    proptest::collection::vec(
        (any::<u8>(), any::<usize>(), proptest::char::range('a', 'z')),
        0..=budget,
    )
    .prop_map(move |edits| {
        edits
            .into_iter()
            .fold(term.to_lowercase(), |w, (op, at, c)| edit(&w, op, at, c))
    })
}

fn product_culprits(p: &LexiconProduct) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = p
        .ingredients
        .iter()
        .filter(|i| {
            lex()
                .ingredient(i)
                .is_some_and(|ing| ing.role.class().is_some())
        })
        .copied()
        .collect();
    v.sort_unstable();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn noise_and_case_never_change_the_match(
        (term, written) in proptest::sample::select(all_terms()).prop_flat_map(|t| (Just(t), noisy(t)))
    ) {
        prop_assert_eq!(recognised(&written), recognised(term), "{:?} vs {:?}", written, term);
    }

    #[test]
    fn a_misspelt_negative_control_is_never_flagged(
        written in proptest::sample::select(negative_control_terms()).prop_flat_map(misspelt)
    ) {
        let flagged = findings(&written);
        prop_assert!(flagged.is_empty(), "{:?} flagged as {:?}", written, flagged);
    }

    #[test]
    fn one_word_never_names_two_classes_unless_it_is_a_combination(
        word in prop_oneof![
            "[a-z]{5,14}",
            proptest::sample::select(all_terms()).prop_flat_map(misspelt),
        ]
    ) {
        let found = findings(&word);
        let mut classes: Vec<_> = found.iter().map(|(_, c)| *c).collect();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() > 1 {
            // Only a product can name several classes, and then exactly its culprits, once each.
            let mut names: Vec<&str> = found.iter().map(|(i, _)| *i).collect();
            names.sort_unstable();
            let product = lex()
                .products()
                .iter()
                .find(|p| product_culprits(p) == names);
            prop_assert!(product.is_some(), "{:?} named {:?}", word, found);
        }
    }
}

#[test]
fn every_term_alone_names_one_ingredient_or_exactly_its_products_culprits() {
    let mut failures = Vec::new();
    for i in lex().ingredients() {
        for term in std::iter::once(&i.name).chain(&i.spellings) {
            // Interacting drugs are only reported beside a statin.
            let want: Vec<&str> = i
                .role
                .class()
                .filter(|c| *c != cramp_core::DrugClass::StatinInteracting)
                .map(|_| i.name)
                .into_iter()
                .collect();
            let got: Vec<&str> = findings(term).iter().map(|(n, _)| *n).collect();
            if got != want {
                failures.push(format!("{term}: {got:?}, expected {want:?}"));
            }
        }
    }
    for p in lex().products() {
        let mut got: Vec<&str> = findings(p.name).iter().map(|(n, _)| *n).collect();
        got.sort_unstable();
        // Interacting drugs are only reported beside a statin.
        let want: Vec<&str> = product_culprits(p)
            .into_iter()
            .filter(|n| {
                lex().ingredient(n).and_then(|i| i.role.class())
                    != Some(cramp_core::DrugClass::StatinInteracting)
            })
            .collect();
        if got != want {
            failures.push(format!("{}: {got:?}, expected {want:?}", p.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
