//! What recognising a real medication list costs, next to what a whole assessment costs.
//!
//! `medications/recognise_10` times `recognise_medications` on a realistic ten-drug list (brands,
//! combinations, doses, a negative control, a misspelling). `medications/evaluate_no_meds` times
//! one `evaluate` of a vignette-like history with no medications, built here in code, and
//! `medications/evaluate_with_10` the same history with the list. Target: the list costs under
//! twice the medication-free assessment. After criterion's report, `main` prints the ratio from
//! its own short timing loop, so it can be read from one run. Nothing here asserts on time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cramp_core::{
    Context, CrampHistory, KnowledgeBase, Laterality, Location, Medication, Sex, Smoking,
    ValidHistory, evaluate, recognise_medications, validate,
};
use criterion::Criterion;

/// The ten lines of a typical older patient's list, as an intake form or EHR export shows them.
const LIST: [&str; 10] = [
    "Lisinopril 20 mg daily",
    "Hyzaar 100-25 mg",
    "Lipitor 40mg at bedtime",
    "metformin 1000 mg BID",
    "Aspirin 81 mg EC",
    "Symbicort 160/4.5 2 puffs bid",
    "Spiriva Respimat 2.5 mcg",
    "omeprazole 20mg OTC",
    "metoprolol succinate ER 50 mg",
    "gabapentine 300 mg tid",
];

fn medications() -> Vec<Medication> {
    LIST.iter()
        .enumerate()
        .map(|(i, name)| Medication {
            name: (*name).to_owned(),
            weeks_since_started: Some(if i % 3 == 0 { 6 } else { 150 }),
            ..Medication::default()
        })
        .collect()
}

/// A vignette-like history: a 68-year-old with night calf cramps, hypertension and diabetes.
fn history(meds: Vec<Medication>) -> ValidHistory {
    let mut h = CrampHistory::default();
    h.patient.age_years = Some(68);
    h.patient.sex = Some(Sex::Female);
    h.cramps.locations = vec![Location::Calf, Location::Foot];
    h.cramps.laterality = Some(Laterality::Both);
    h.cramps.contexts = vec![Context::Night, Context::Rest];
    h.cramps.typical_duration_seconds = Some(120);
    h.cramps.wakes_from_sleep = Some(true);
    h.cramps.relieved_by_stretching = Some(true);
    h.conditions.hypertension = Some(true);
    h.conditions.smoking = Some(Smoking::Former);
    h.lifestyle.daily_fluid_liters = Some(1.2);
    h.medications = meds;
    validate(h, Vec::new()).unwrap_or_else(|e| panic!("the benchmark history is valid: {e}"))
}

fn benches(c: &mut Criterion) {
    let kb = KnowledgeBase::standard();
    let list = medications();
    let without = history(Vec::new());
    let with = history(list.clone());
    let mut group = c.benchmark_group("medications");
    group.bench_function("recognise_10", |b| {
        b.iter(|| recognise_medications(black_box(&list)));
    });
    group.bench_function("evaluate_no_meds", |b| {
        b.iter(|| evaluate(&kb, black_box(&without)));
    });
    group.bench_function("evaluate_with_10", |b| {
        b.iter(|| evaluate(&kb, black_box(&with)));
    });
    group.finish();
}

/// Mean time per call over a fixed wall-clock budget, after a short warm-up.
fn per_call(mut f: impl FnMut()) -> Duration {
    for _ in 0..1_000 {
        f();
    }
    let start = Instant::now();
    let mut n: u32 = 0;
    while start.elapsed() < Duration::from_millis(500) {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    start.elapsed() / n
}

// What `criterion_group!`/`criterion_main!` expand to, written out because the macros generate an
// undocumented public function that the workspace's `missing_docs` lint rejects.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();

    let kb = KnowledgeBase::standard();
    let list = medications();
    let without = history(Vec::new());
    let recognise = per_call(|| {
        black_box(recognise_medications(black_box(&list)));
    });
    let assess = per_call(|| {
        black_box(evaluate(&kb, black_box(&without)));
    });
    println!(
        "ratio: recognising the 10-drug list takes {recognise:?}, one medication-free evaluate {assess:?}: {:.2}x (target < 2x)",
        recognise.as_secs_f64() / assess.as_secs_f64()
    );
}
