//! Seeded synthetic histories: the example batch files, and inputs for tests and benchmarks.
//!
//! The examples must be reproducible byte for byte (a test regenerates them), so the generator
//! owns its random numbers (SplitMix64, a fixed published algorithm) instead of depending on a
//! crate whose streams may change between versions. Exactly one record in a hundred (every
//! index ending in 99) is invalid in one known way, and each record says which fields its answer
//! must name, so a test can check every per-record error. The histories are plausible mixes of
//! the intake fields, not real patients, and nothing in them identifies anyone.

use std::io::{self, Write};

use super::schema::{self, IntakeSchema};
use crate::pb;

/// The seed of the committed examples.
pub const EXAMPLE_SEED: u64 = 20_261_122;
/// Records in each committed example file.
pub const EXAMPLE_RECORDS: usize = 1_000;
/// The committed NDJSON example, relative to the repository root.
pub const EXAMPLE_NDJSON: &str = "examples/screening-1000.ndjson";
/// The committed CSV example (the same records), relative to the repository root.
pub const EXAMPLE_CSV: &str = "examples/screening-1000.csv";

/// The CSV columns the generator fills (every field it may set), in intake order.
pub const CSV_COLUMNS: &[&str] = &[
    "record_id",
    "patient.age_years",
    "patient.sex",
    "patient.pregnant",
    "patient.pregnancy_weeks",
    "cramps.locations",
    "cramps.laterality",
    "cramps.contexts",
    "cramps.episodes_per_week",
    "cramps.typical_duration_seconds",
    "cramps.weeks_since_onset",
    "cramps.severity",
    "cramps.worse_uphill_or_hurrying",
    "cramps.relief_on_standing_still",
    "cramps.relieved_by_stretching",
    "cramps.pain_free_walking_meters",
    "cramps.visible_muscle_tightening",
    "cramps.wakes_from_sleep",
    "cramps.limits_daily_activities",
    "symptoms.numbness",
    "symptoms.tingling",
    "symptoms.burning_pain",
    "symptoms.muscle_weakness",
    "symptoms.cold_feet",
    "symptoms.leg_swelling",
    "symptoms.calf_tenderness",
    "symptoms.chest_pain",
    "symptoms.shortness_of_breath",
    "symptoms.thirst",
    "symptoms.dry_mouth",
    "symptoms.dizziness_on_standing",
    "symptoms.persistent_fatigue",
    "conditions.diabetes",
    "conditions.smoking",
    "conditions.hypertension",
    "conditions.high_cholesterol",
    "conditions.chronic_kidney_disease",
    "conditions.thyroid",
    "medications",
    "lifestyle.activity_level",
    "lifestyle.daily_fluid_liters",
    "lifestyle.recent_unaccustomed_strenuous_exercise",
    "lifestyle.hot_environment_or_heavy_sweating",
    "lifestyle.prolonged_standing",
    "findings.foot_pulses",
    "findings.labs.potassium_mmol_l",
    "findings.labs.magnesium_mg_dl",
    "findings.labs.hba1c_percent",
];

/// Medication names as patients and EHRs write them: recognised classes, negative controls.
const MEDICATIONS: &[&str] = &[
    "hydrochlorothiazide 25 mg",
    "furosemide 40 mg",
    "spironolactone",
    "atorvastatin 20 mg",
    "simvastatin",
    "salmeterol inhaler",
    "omeprazole 20 mg",
    "pantoprazole",
    "raloxifene",
    "naproxen 500 mg",
    "lisinopril 10 mg",
    "metformin 500 mg",
    "amlodipine 5 mg",
    "levothyroxine",
    "paracetamol",
];

/// One generated record and what its answer must be.
#[derive(Clone, Debug)]
pub struct SyntheticRecord {
    /// The record.
    pub request: pb::AssessBatchRequest,
    /// The fields its error answer must name (record-root paths), or empty when it is valid.
    pub invalid_fields: Vec<&'static str>,
}

/// The records of `seed`, endless; take as many as needed. Record `i` is the same for a seed
/// however many are taken.
pub fn records(seed: u64) -> impl Iterator<Item = SyntheticRecord> {
    (0u64..).map(move |index| record(seed, index))
}

/// Writes records as NDJSON (compact proto3 JSON, one per line).
///
/// # Errors
/// When `out` cannot be written.
pub fn write_ndjson(
    records: impl IntoIterator<Item = SyntheticRecord>,
    out: &mut impl Write,
) -> io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut *out, &record.request)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes records as CSV with [`CSV_COLUMNS`].
///
/// # Errors
/// When `out` cannot be written, or a record holds something a CSV cell cannot express (the
/// generator never makes such a record).
pub fn write_csv(
    records: impl IntoIterator<Item = SyntheticRecord>,
    out: &mut impl Write,
) -> io::Result<()> {
    let schema = IntakeSchema::load().map_err(io::Error::other)?;
    let columns = CSV_COLUMNS
        .iter()
        .skip(1)
        .map(|path| {
            schema
                .column(path)
                .ok_or_else(|| io::Error::other(format!("`{path}` is not an intake field")))
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    csv.write_record(CSV_COLUMNS)?;
    for record in records {
        let history = serde_json::to_value(&record.request.history)?;
        let mut row = vec![record.request.record_id.clone()];
        for column in &columns {
            let present = column
                .path
                .split('.')
                .try_fold(&history, |v, part| v.get(part))
                .is_some_and(|v| !v.is_null());
            match schema::cell_text(column, &history) {
                Some(text) => row.push(text),
                None if !present => row.push(String::new()),
                None => {
                    return Err(io::Error::other(format!(
                        "`{}` has no CSV form in record `{}`",
                        column.path, record.request.record_id
                    )));
                }
            }
        }
        csv.write_record(&row)?;
    }
    csv.flush()
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and fixed forever.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: u32, high: u32) -> u32 {
        let span = u64::from(high - low) + 1;
        low + u32::try_from(self.next() % span).unwrap_or(0)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u32) -> bool {
        self.range(0, 99) < percent
    }

    /// `Some(true)`/`Some(false)` when asked (`asked`%), with `yes`% of those true.
    fn answer(&mut self, asked: u32, yes: u32) -> Option<bool> {
        self.chance(asked).then(|| self.chance(yes))
    }

    /// One of `values`.
    fn pick<T: Copy>(&mut self, values: &[T]) -> Option<T> {
        let len = u32::try_from(values.len()).ok()?.checked_sub(1)?;
        values
            .get(usize::try_from(self.range(0, len)).ok()?)
            .copied()
    }

    /// An enum number from `values`, or 0 (unspecified) when not asked.
    fn choice<E: Copy + Into<i32>>(&mut self, asked: u32, values: &[E]) -> i32 {
        if self.chance(asked) {
            self.pick(values).map_or(0, Into::into)
        } else {
            0
        }
    }

    /// `low..=high` in steps of 1/`per_unit`, exactly representable when printed.
    fn decimal(&mut self, low: u32, high: u32, per_unit: u32) -> f64 {
        f64::from(self.range(low * per_unit, high * per_unit)) / f64::from(per_unit)
    }
}

fn record(seed: u64, index: u64) -> SyntheticRecord {
    // Each record has its own stream, so record `i` does not depend on how many came before.
    let mut rng = Rng(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let mut history = history(&mut rng);
    let invalid_fields = if index % 100 == 99 {
        corrupt(&mut rng, &mut history)
    } else {
        Vec::new()
    };
    prune(&mut history);
    SyntheticRecord {
        request: pb::AssessBatchRequest {
            record_id: format!("s{seed}-{:06}", index + 1),
            history: Some(history),
            view: pb::AssessmentView::Unspecified.into(),
        },
        invalid_fields,
    }
}

fn history(rng: &mut Rng) -> pb::CrampHistory {
    use pb::{
        ActivityLevel as A, Context as Ctx, Diabetes as D, Laterality as Lat, Location as Loc,
        Pulses as P, Relief as R, Sex, Smoking as Sm, Swelling as Sw, Thyroid as T,
    };

    let age = if rng.chance(5) {
        rng.range(12, 17)
    } else {
        rng.range(18, 95)
    };
    let sex = rng.choice(
        95,
        &[Sex::Female, Sex::Male, Sex::Female, Sex::Male, Sex::Other],
    );
    let pregnant = (sex == i32::from(Sex::Female) && (18..=44).contains(&age) && rng.chance(12))
        .then_some(true);
    let patient = pb::Patient {
        age_years: Some(age),
        sex,
        pregnant,
        pregnancy_weeks: pregnant.map(|_| rng.range(6, 40)),
    };

    let locations = (0..rng.range(1, 2))
        .filter_map(|_| {
            rng.pick(&[
                Loc::Calf,
                Loc::Calf,
                Loc::Foot,
                Loc::Toes,
                Loc::Thigh,
                Loc::Hamstring,
            ])
        })
        .map(Into::into)
        .collect::<Vec<i32>>();
    let contexts = (0..rng.range(1, 2))
        .filter_map(|_| {
            rng.pick(&[
                Ctx::Night,
                Ctx::Night,
                Ctx::Rest,
                Ctx::Walking,
                Ctx::Exercise,
                Ctx::AfterExercise,
                Ctx::ProlongedStanding,
            ])
        })
        .map(Into::into)
        .collect::<Vec<i32>>();
    let walking = contexts.contains(&i32::from(Ctx::Walking));
    let cramps = pb::Cramps {
        locations: dedup(locations),
        laterality: rng.choice(80, &[Lat::Left, Lat::Right, Lat::Both, Lat::Both]),
        contexts: dedup(contexts),
        episodes_per_week: rng.chance(85).then(|| rng.decimal(0, 14, 2)),
        typical_duration_seconds: rng.chance(70).then(|| rng.range(5, 600)),
        weeks_since_onset: rng.chance(70).then(|| rng.range(1, 260)),
        severity: rng.chance(60).then(|| rng.range(1, 10)),
        worse_uphill_or_hurrying: if walking {
            rng.answer(90, 60)
        } else {
            rng.answer(20, 10)
        },
        relief_on_standing_still: if walking {
            rng.choice(
                80,
                &[
                    R::Within10Minutes,
                    R::Within10Minutes,
                    R::After10Minutes,
                    R::None,
                ],
            )
        } else {
            0
        },
        relieved_by_stretching: rng.answer(50, 70),
        pain_free_walking_meters: (walking && rng.chance(50)).then(|| rng.range(50, 1000)),
        visible_muscle_tightening: rng.answer(40, 60),
        wakes_from_sleep: rng.answer(50, 50),
        limits_daily_activities: rng.answer(40, 30),
        ..pb::Cramps::default()
    };

    let symptoms = pb::Symptoms {
        numbness: rng.answer(40, 20),
        tingling: rng.answer(40, 20),
        burning_pain: rng.answer(30, 15),
        muscle_weakness: rng.answer(30, 10),
        cold_feet: rng.answer(30, 20),
        leg_swelling: rng.choice(
            40,
            &[Sw::None, Sw::None, Sw::None, Sw::BothLegs, Sw::OneLeg],
        ),
        calf_tenderness: rng.answer(20, 10),
        chest_pain: rng.answer(30, 2),
        shortness_of_breath: rng.answer(30, 4),
        thirst: rng.answer(30, 15),
        dry_mouth: rng.answer(30, 15),
        dizziness_on_standing: rng.answer(30, 10),
        persistent_fatigue: rng.answer(30, 15),
        ..pb::Symptoms::default()
    };

    let conditions = pb::Conditions {
        diabetes: rng.choice(
            70,
            &[
                D::None,
                D::None,
                D::None,
                D::Prediabetes,
                D::Type2,
                D::Type1,
            ],
        ),
        smoking: rng.choice(70, &[Sm::Never, Sm::Never, Sm::Former, Sm::Current]),
        hypertension: rng.answer(70, 35),
        high_cholesterol: rng.answer(60, 30),
        chronic_kidney_disease: rng.answer(50, 8),
        thyroid: rng.choice(50, &[T::None, T::None, T::None, T::Hypo, T::Hyper]),
        ..pb::Conditions::default()
    };

    let mut medications = Vec::new();
    for _ in 0..rng.range(0, 3) {
        if let Some(name) = rng.pick(MEDICATIONS) {
            medications.push(pb::Medication {
                name: name.to_owned(),
                weeks_since_started: rng.chance(60).then(|| rng.range(1, 200)),
                ..pb::Medication::default()
            });
        }
    }

    let lifestyle = pb::Lifestyle {
        activity_level: rng.choice(70, &[A::Sedentary, A::Moderate, A::Moderate, A::Vigorous]),
        daily_fluid_liters: rng.chance(50).then(|| rng.decimal(0, 4, 4)),
        recent_unaccustomed_strenuous_exercise: rng.answer(40, 15),
        hot_environment_or_heavy_sweating: rng.answer(40, 15),
        prolonged_standing: rng.answer(40, 25),
        ..pb::Lifestyle::default()
    };

    let labs = rng.chance(25).then(|| pb::Labs {
        potassium_mmol_l: rng.chance(70).then(|| rng.decimal(3, 5, 10) + 0.5),
        magnesium_mg_dl: rng.chance(50).then(|| rng.decimal(1, 2, 10) + 0.4),
        hba1c_percent: rng.chance(40).then(|| rng.decimal(4, 10, 10)),
        ..pb::Labs::default()
    });
    let findings = pb::Findings {
        foot_pulses: rng.choice(
            20,
            &[P::Normal, P::Normal, P::Normal, P::Diminished, P::Absent],
        ),
        labs,
        ..pb::Findings::default()
    };

    pb::CrampHistory {
        patient: Some(patient),
        cramps: Some(cramps),
        symptoms: Some(symptoms),
        conditions: Some(conditions),
        medications,
        lifestyle: Some(lifestyle),
        findings: Some(findings),
    }
}

/// Makes the history invalid in exactly one known way; returns the field its answer names.
fn corrupt(rng: &mut Rng, history: &mut pb::CrampHistory) -> Vec<&'static str> {
    let patient = history.patient.get_or_insert_with(pb::Patient::default);
    match rng.range(0, 5) {
        0 => {
            patient.age_years = Some(0);
            vec!["history.patient.age_years"]
        }
        1 => {
            patient.age_years = None;
            vec!["history.patient.age_years"]
        }
        2 => {
            patient.sex = pb::Sex::Male.into();
            patient.pregnant = Some(true);
            vec!["history.patient.pregnant"]
        }
        3 => {
            // A blank name (its weeks kept), as a form with an empty first row sends it.
            history.medications.insert(
                0,
                pb::Medication {
                    weeks_since_started: Some(rng.range(1, 52)),
                    ..pb::Medication::default()
                },
            );
            vec!["history.medications[0].name"]
        }
        4 => {
            let findings = history.findings.get_or_insert_with(pb::Findings::default);
            let labs = findings.labs.get_or_insert_with(pb::Labs::default);
            labs.hba1c_percent = Some(53.0);
            vec!["history.findings.labs.hba1c_percent"]
        }
        _ => {
            let cramps = history.cramps.get_or_insert_with(pb::Cramps::default);
            cramps.severity = Some(11);
            vec!["history.cramps.severity"]
        }
    }
}

/// Drops sections with nothing in them, so that NDJSON (which would write `{}`) and CSV
/// (which cannot) describe the very same message.
fn prune(history: &mut pb::CrampHistory) {
    fn keep<T: Default + PartialEq>(section: &mut Option<T>) {
        if section.as_ref().is_some_and(|s| *s == T::default()) {
            *section = None;
        }
    }
    if let Some(findings) = history.findings.as_mut() {
        keep(&mut findings.labs);
    }
    keep(&mut history.patient);
    keep(&mut history.cramps);
    keep(&mut history.symptoms);
    keep(&mut history.conditions);
    keep(&mut history.lifestyle);
    keep(&mut history.findings);
}

fn dedup(mut values: Vec<i32>) -> Vec<i32> {
    let mut seen = Vec::with_capacity(values.len());
    values.retain(|v| {
        let new = !seen.contains(v);
        seen.push(*v);
        new
    });
    values
}

#[cfg(test)]
mod tests {
    use cramp_core::KnowledgeBase;

    use super::*;
    use crate::{batch, pb::assess_batch_response::Result as BatchResult};

    #[test]
    fn the_same_seed_gives_the_same_records_and_one_in_a_hundred_is_invalid() {
        let a: Vec<_> = records(7).take(300).collect();
        let b: Vec<_> = records(7).take(300).collect();
        assert_eq!(
            a.iter().map(|r| &r.request).collect::<Vec<_>>(),
            b.iter().map(|r| &r.request).collect::<Vec<_>>()
        );
        assert_eq!(a.iter().filter(|r| !r.invalid_fields.is_empty()).count(), 3);
        assert_ne!(records(8).next().unwrap().request, a[0].request);
    }

    #[test]
    fn valid_records_assess_and_invalid_ones_name_exactly_their_fields() {
        let kb = KnowledgeBase::standard();
        for record in records(EXAMPLE_SEED).take(2_000) {
            let answer = batch::assess_record(
                &crate::assess::Assessor::local(kb),
                &crate::assess::Call::local(crate::audit::Door::Screen),
                record.request.clone(),
            );
            match answer.result {
                Some(BatchResult::Assessment(_)) => assert!(
                    record.invalid_fields.is_empty(),
                    "{} should be invalid",
                    record.request.record_id
                ),
                Some(BatchResult::Error(status)) => {
                    let fields = crate::status::bad_request_fields(&status);
                    assert_eq!(
                        fields, record.invalid_fields,
                        "{}",
                        record.request.record_id
                    );
                }
                None => panic!("no result"),
            }
        }
    }

    #[test]
    fn csv_and_ndjson_carry_the_same_histories() {
        let records: Vec<_> = records(3).take(200).collect();
        let mut csv_bytes = Vec::new();
        write_csv(records.clone(), &mut csv_bytes).unwrap();
        let (source, parser) = super::super::input::Source::open(
            super::super::input::InputFormat::Csv,
            Box::new(io::Cursor::new(csv_bytes)),
        )
        .unwrap();
        let parsed: Vec<_> = source.map(|r| parser.parse(r.unwrap()).unwrap()).collect();
        assert_eq!(parsed.len(), records.len());
        for (parsed, record) in parsed.iter().zip(&records) {
            assert_eq!(parsed, &record.request);
        }
    }
}
