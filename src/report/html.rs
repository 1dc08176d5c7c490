//! The HTML pages people read: the screening report and `GET /about`, from one set of templates
//! (`templates/`: a base with the shared styles for screen and paper, and one page each).
//!
//! minijinja escapes every value in `.html` templates; only the SVG charts, which plotters drew
//! from counts and titles, are inserted as they are.

use std::{collections::BTreeSet, time::Duration};

use cramp_core::{DrugClass, Flag, Urgency};
use minijinja::{Environment, UndefinedBehavior, value::Serde};
use plotters::style::RGBColor;
use serde::Serialize;

use super::{
    Contents, ReportError, RunFacts,
    charts::{self, BAR, Bar, Chart},
    titles,
    worklist::{Row, Tier},
};

const TEMPLATES: [(&str, &str); 3] = [
    ("base.html", include_str!("templates/base.html")),
    ("report.html", include_str!("templates/report.html")),
    ("about.html", include_str!("templates/about.html")),
];

/// Error reasons charted one by one; the rest share one bar.
const ERROR_BARS: usize = 12;

/// The templates, strict about undefined values (except in `if`), so a renamed field fails the tests.
fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

fn render(name: &str, context: impl Serialize) -> Result<String, ReportError> {
    let env = environment()?;
    let page = env.get_template(name)?.render(Serde(context))?;
    Ok(page)
}

/// Renders `GET /about` from the page model `http::about` builds.
///
/// # Errors
/// Only if the template and the model disagree (a bug the tests catch).
pub fn about(page: &impl Serialize) -> Result<String, ReportError> {
    render("about.html", page)
}

/// The report page's model.
#[derive(Serialize)]
struct ReportPage<'a> {
    software_version: &'static str,
    data: DataFacts,
    run: RunView,
    charts: Vec<Chart>,
    worklist: &'a [Row],
}

/// Facts of the records themselves: equal for equal outputs, however they were produced.
#[derive(Serialize)]
struct DataFacts {
    records: u64,
    assessed: u64,
    errors: u64,
    on_worklist: usize,
    tiers: Vec<(String, usize)>,
    kb_versions: String,
    lexicon_versions: String,
}

/// Facts of the run: the part of the page that differs between a sharded and an unsharded run.
#[derive(Serialize)]
struct RunView {
    inputs_are: &'static str,
    inputs: Vec<String>,
    took: String,
    resumed: Option<u64>,
}

/// Renders the report.
///
/// # Errors
/// [`ReportError::Chart`] or [`ReportError::Template`]: bugs, caught by the tests.
pub fn report(contents: &Contents, facts: &RunFacts) -> Result<String, ReportError> {
    let t = &contents.tally;
    let page = ReportPage {
        software_version: env!("CARGO_PKG_VERSION"),
        data: DataFacts {
            records: t.records,
            assessed: t.records - t.errors,
            errors: t.errors,
            on_worklist: contents.worklist.len(),
            tiers: tiers(&contents.worklist),
            kb_versions: versions(&t.kb_versions),
            lexicon_versions: versions(&t.lexicon_versions),
        },
        run: RunView {
            inputs_are: if facts.inputs_are.is_empty() {
                "input"
            } else {
                facts.inputs_are
            },
            inputs: facts.inputs.clone(),
            took: facts.took.map_or_else(
                || "not recorded (built from the output files afterwards)".to_owned(),
                seconds,
            ),
            resumed: facts.resumed.filter(|r| *r > 0),
        },
        charts: vec![
            charts::bar_chart("urgency", "Records by urgency", &urgency_bars(contents))?,
            charts::bar_chart(
                "flags",
                "Records with each flag",
                &by_count(t.flags.iter().map(|(f, c)| (titles::flag(*f), *c))),
            )?,
            charts::bar_chart(
                "drug-classes",
                "Records with a medicine of each class linked to cramps",
                &by_count(
                    t.drug_classes
                        .iter()
                        .map(|(d, c)| (titles::drug_class(*d), *c)),
                ),
            )?,
            charts::bar_chart(
                "errors",
                "Records not assessed, by reason",
                &error_bars(contents),
            )?,
        ],
        worklist: &contents.worklist,
    };
    render("report.html", &page)
}

fn seconds(took: Duration) -> String {
    format!("{:.2} s", took.as_secs_f64())
}

fn versions(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "none (no record was assessed)".to_owned()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn tiers(rows: &[Row]) -> Vec<(String, usize)> {
    let label = |tier: Tier| match tier {
        Tier::Emergency => "Emergency",
        Tier::Urgent => "Urgent",
        Tier::Soon => "Soon",
        Tier::Possible => "Red flag cannot be excluded",
        Tier::Reenter => "Re-enter (not assessed)",
    };
    let mut out: Vec<(String, usize)> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some((name, count)) if name == label(row.tier) => *count += 1,
            _ => out.push((label(row.tier).to_owned(), 1)),
        }
    }
    out
}

/// The colour of an urgency, from red (emergency) to green (self-care); errors grey.
const fn urgency_color(urgency: Urgency) -> RGBColor {
    match urgency {
        Urgency::Emergency => RGBColor(0xb3, 0x26, 0x1e),
        Urgency::Urgent => RGBColor(0xc2, 0x54, 0x00),
        Urgency::Soon => RGBColor(0x9a, 0x7b, 0x00),
        Urgency::Routine => RGBColor(0x1f, 0x5f, 0xa8),
        Urgency::SelfCare => RGBColor(0x2e, 0x7d, 0x32),
    }
}

fn urgency_bars(contents: &Contents) -> Vec<Bar> {
    let t = &contents.tally;
    let mut bars: Vec<Bar> = Urgency::ALL
        .iter()
        .map(|u| Bar {
            label: titles::urgency(*u),
            count: t.urgency.get(u).copied().unwrap_or(0),
            color: urgency_color(*u),
        })
        .collect();
    bars.push(Bar {
        label: "Not assessed (error)".to_owned(),
        count: t.errors,
        color: RGBColor(0x57, 0x60, 0x6a),
    });
    bars
}

/// Bars most frequent first; equal counts keep the order given (catalog order).
fn by_count(items: impl Iterator<Item = (String, u64)>) -> Vec<Bar> {
    let mut bars: Vec<Bar> = items
        .map(|(label, count)| Bar {
            label,
            count,
            color: BAR,
        })
        .collect();
    bars.sort_by_key(|b| std::cmp::Reverse(b.count));
    bars
}

fn error_bars(contents: &Contents) -> Vec<Bar> {
    let mut bars = by_count(
        contents
            .tally
            .error_reasons
            .iter()
            .map(|(r, c)| (r.clone(), *c)),
    );
    if bars.len() > ERROR_BARS {
        let rest: u64 = bars.iter().skip(ERROR_BARS).map(|b| b.count).sum();
        let kinds = bars.len() - ERROR_BARS;
        bars.truncate(ERROR_BARS);
        bars.push(Bar {
            label: format!("{kinds} other reasons"),
            count: rest,
            color: BAR,
        });
    }
    bars
}

/// Names the flags, urgencies and drug classes the page can show, for tests of "titles, not
/// enum names".
#[must_use]
pub fn contract_names() -> Vec<&'static str> {
    Flag::ALL
        .iter()
        .map(|f| f.name())
        .chain(Urgency::ALL.iter().map(|u| u.name()))
        .chain(DrugClass::ALL.iter().map(|d| d.name()))
        .collect()
}
