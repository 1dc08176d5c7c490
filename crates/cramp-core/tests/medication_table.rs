//! Runs the real-world medication strings of `tests/data/medication_strings.txt` through the
//! public recogniser, so a pharmacist can add a case without writing Rust.
//!
//! Every failing row is collected and reported at once: a lexicon change that breaks ten rows
//! should say so in one run, not ten.

use cramp_core::{
    DrugClass, Medication, MedicationLexicon, MedicationMatch, MedicationRole,
    recognise_medications,
};

const TABLE: &str = include_str!("data/medication_strings.txt");

/// One row of the table.
struct Row {
    line: usize,
    input: &'static str,
    expected: Expected,
    kinds: Vec<MedicationMatch>,
}

enum Expected {
    /// These findings, in any order.
    Findings(Vec<(&'static str, DrugClass)>),
    /// Nothing flagged.
    Nothing,
    /// Nothing flagged, and the name recognised as this negative control.
    Control(&'static str),
}

fn kind(name: &str) -> Result<MedicationMatch, String> {
    MedicationMatch::from_name(&format!("MEDICATION_MATCH_{name}"))
        .ok_or_else(|| format!("unknown match kind {name}"))
}

fn parse_row(line: usize, text: &'static str) -> Result<Row, String> {
    let fields: Vec<&'static str> = text.split('|').map(str::trim).collect();
    let [input, expected, kinds] = fields.as_slice() else {
        return Err(format!("line {line}: expected 3 fields"));
    };
    let expected = match *expected {
        "none" => Expected::Nothing,
        e if e.starts_with("control:") => Expected::Control(e.trim_start_matches("control:")),
        e => Expected::Findings(
            e.split(',')
                .map(|item| {
                    let (ingredient, class) = item
                        .trim()
                        .split_once('/')
                        .ok_or_else(|| format!("line {line}: {item} is not ingredient/CLASS"))?;
                    let class = DrugClass::from_name(&format!("DRUG_CLASS_{class}"))
                        .ok_or_else(|| format!("line {line}: unknown class {class}"))?;
                    Ok((ingredient, class))
                })
                .collect::<Result<_, String>>()?,
        ),
    };
    let kinds = if *kinds == "-" {
        Vec::new()
    } else {
        kinds
            .split(',')
            .map(|k| kind(k.trim()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("line {line}: {e}"))?
    };
    Ok(Row {
        line,
        input,
        expected,
        kinds,
    })
}

fn rows() -> Vec<Row> {
    TABLE
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| parse_row(i + 1, l).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// What is wrong with one row, if anything.
fn check(row: &Row) -> Option<String> {
    let med = Medication {
        name: row.input.to_owned(),
        ..Medication::default()
    };
    let findings = recognise_medications(&[med]);
    let got: Vec<(&str, DrugClass, MedicationMatch)> = findings
        .iter()
        .map(|f| (f.ingredient, f.drug_class, f.match_kind))
        .collect();
    let fail = |why: String| {
        Some(format!(
            "line {} {:?}: {why}; got {got:?}",
            row.line, row.input
        ))
    };
    match &row.expected {
        Expected::Nothing if !got.is_empty() => fail("expected nothing".into()),
        Expected::Nothing => None,
        Expected::Control(control) => {
            if !got.is_empty() {
                return fail(format!(
                    "expected nothing flagged (negative control {control})"
                ));
            }
            let named = MedicationLexicon::standard().identify(row.input);
            let seen = named
                .iter()
                .any(|m| m.ingredient == *control && m.role == MedicationRole::NegativeControl);
            if seen {
                None
            } else {
                fail(format!(
                    "not recognised as negative control {control}: {named:?}"
                ))
            }
        }
        Expected::Findings(want) => {
            let mut want_sorted = want.clone();
            want_sorted.sort_unstable();
            let mut got_pairs: Vec<(&str, DrugClass)> =
                got.iter().map(|(i, c, _)| (*i, *c)).collect();
            got_pairs.sort_unstable();
            if want_sorted != got_pairs {
                return fail(format!("expected {want:?}"));
            }
            let kinds_ok = match row.kinds.as_slice() {
                [one] => got.iter().all(|(_, _, k)| k == one),
                many => {
                    many.len() == want.len()
                        && want.iter().zip(many).all(|((ingredient, _), k)| {
                            got.iter().any(|(i, _, gk)| i == ingredient && gk == k)
                        })
                }
            };
            if kinds_ok {
                None
            } else {
                fail(format!("expected match {:?}", row.kinds))
            }
        }
    }
}

#[test]
fn every_row_of_the_table_is_recognised_as_written() {
    let rows = rows();
    let failures: Vec<String> = rows.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_enough_to_mean_something() {
    let rows = rows();
    let positive = rows
        .iter()
        .filter(|r| matches!(r.expected, Expected::Findings(_)))
        .count();
    let negative = rows.len() - positive;
    assert!(positive >= 150, "{positive} rows with findings");
    assert!(negative >= 40, "{negative} rows that must flag nothing");
    for kind in [
        MedicationMatch::Exact,
        MedicationMatch::Brand,
        MedicationMatch::Fuzzy,
    ] {
        assert!(
            rows.iter().any(|r| r.kinds.contains(&kind)),
            "no row exercises {kind}"
        );
    }
}
