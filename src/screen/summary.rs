//! What a `screen` run produced, counted: records, errors, urgencies and flags.
//!
//! The summary is output for the person running the batch (stderr, or `--summary FILE` as
//! JSON), not an operational log: it counts urgencies and flags, which describe patients in
//! aggregate, and is never sent to the tracing subscriber. With `--resume` it also counts the
//! records an earlier run wrote, so it always describes the whole output file.

use std::{
    collections::BTreeMap,
    io::{self, Write},
    time::Duration,
};

use serde_json::{Map, Value, json};

use crate::pb::{self, assess_batch_response::Result as BatchResult};

/// Counts over the records of one output file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    records: u64,
    errors: u64,
    /// By urgency number, so that they list most urgent first.
    urgency: BTreeMap<i32, u64>,
    /// By flag number (catalog order).
    flags: BTreeMap<i32, u64>,
}

impl Summary {
    /// Counts one answer.
    pub fn add(&mut self, answer: &pb::AssessBatchResponse) {
        match &answer.result {
            Some(BatchResult::Assessment(assessment)) => {
                self.records += 1;
                *self.urgency.entry(assessment.urgency).or_default() += 1;
                for flag in &assessment.flags {
                    *self.flags.entry(flag.flag).or_default() += 1;
                }
            }
            Some(BatchResult::Error(_)) | None => self.add_error(),
        }
    }

    /// Counts one assessed record read back by name (from an earlier run's output).
    pub fn add_assessed<'a>(
        &mut self,
        urgency: Option<&str>,
        flags: impl Iterator<Item = &'a str>,
    ) {
        self.records += 1;
        let urgency = urgency
            .and_then(pb::Urgency::from_str_name)
            .unwrap_or(pb::Urgency::Unspecified);
        *self.urgency.entry(urgency.into()).or_default() += 1;
        for flag in flags {
            let flag = pb::Flag::from_str_name(flag).unwrap_or(pb::Flag::Unspecified);
            *self.flags.entry(flag.into()).or_default() += 1;
        }
    }

    /// Counts one record answered with an error.
    pub fn add_error(&mut self) {
        self.records += 1;
        self.errors += 1;
    }

    /// Adds another summary's counts.
    pub fn merge(&mut self, other: &Self) {
        self.records += other.records;
        self.errors += other.errors;
        for (k, v) in &other.urgency {
            *self.urgency.entry(*k).or_default() += v;
        }
        for (k, v) in &other.flags {
            *self.flags.entry(*k).or_default() += v;
        }
    }

    /// Records counted.
    #[must_use]
    pub const fn records(&self) -> u64 {
        self.records
    }

    /// Records answered with an error.
    #[must_use]
    pub const fn errors(&self) -> u64 {
        self.errors
    }

    /// The summary as JSON (`--summary FILE`); deterministic for the same output file.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "records": self.records,
            "assessed": self.records - self.errors,
            "errors": self.errors,
            "urgency": named(&self.urgency, urgency_name),
            "flags": named(&self.flags, flag_name),
            "knowledge_base_version": cramp_core::KnowledgeBase::standard().version(),
        })
    }

    /// Writes the summary for a person: totals, then urgencies most urgent first, then flags.
    ///
    /// # Errors
    /// When `out` cannot be written.
    pub fn write_text(
        &self,
        out: &mut impl Write,
        this_run: u64,
        elapsed: Duration,
    ) -> io::Result<()> {
        let resumed = self.records.saturating_sub(this_run);
        write!(
            out,
            "screened {} records: {} assessed, {} errors",
            self.records,
            self.records - self.errors,
            self.errors
        )?;
        if resumed > 0 {
            write!(out, " ({resumed} from the earlier run)")?;
        }
        writeln!(
            out,
            "; {this_run} in {:.2} s ({} records/s)",
            elapsed.as_secs_f64(),
            per_second(this_run, elapsed)
        )?;
        let urgency: Vec<String> = self
            .urgency
            .iter()
            .map(|(k, v)| format!("{} {v}", urgency_name(*k)))
            .collect();
        writeln!(out, "urgency: {}", none_if_empty(&urgency))?;
        let flags: Vec<String> = self
            .flags
            .iter()
            .map(|(k, v)| format!("{} {v}", flag_name(*k)))
            .collect();
        writeln!(out, "flags: {}", none_if_empty(&flags))
    }
}

fn named(counts: &BTreeMap<i32, u64>, name: fn(i32) -> &'static str) -> Value {
    Value::Object(
        counts
            .iter()
            .map(|(k, v)| (name(*k).to_owned(), Value::from(*v)))
            .collect::<Map<_, _>>(),
    )
}

fn urgency_name(value: i32) -> &'static str {
    pb::Urgency::try_from(value).map_or("URGENCY_UNKNOWN", |u| u.as_str_name())
}

fn flag_name(value: i32) -> &'static str {
    pb::Flag::try_from(value).map_or("FLAG_UNKNOWN", |f| f.as_str_name())
}

fn none_if_empty(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Whole records per second; 0 for an instant.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a displayed rate; precision past 2^53 records is irrelevant"
)]
#[must_use]
pub fn per_second(count: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        (count as f64 / seconds) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessed(urgency: pb::Urgency, flags: &[pb::Flag]) -> pb::AssessBatchResponse {
        pb::AssessBatchResponse {
            record_id: "r".into(),
            result: Some(BatchResult::Assessment(pb::Assessment {
                urgency: urgency.into(),
                flags: flags
                    .iter()
                    .map(|f| pb::RiskFlag {
                        flag: (*f).into(),
                        ..pb::RiskFlag::default()
                    })
                    .collect(),
                ..pb::Assessment::default()
            })),
        }
    }

    #[test]
    fn counts_by_name_and_by_number_agree() {
        let mut live = Summary::default();
        live.add(&assessed(pb::Urgency::Soon, &[pb::Flag::PadPattern]));
        live.add(&assessed(pb::Urgency::Emergency, &[]));
        live.add(&pb::AssessBatchResponse::default());

        let mut read_back = Summary::default();
        read_back.add_assessed(Some("URGENCY_SOON"), ["FLAG_PAD_PATTERN"].into_iter());
        read_back.add_assessed(Some("URGENCY_EMERGENCY"), std::iter::empty());
        read_back.add_error();

        assert_eq!(live, read_back);
        let json = live.to_json();
        assert_eq!(json["records"], 3);
        assert_eq!(json["assessed"], 2);
        assert_eq!(json["urgency"]["URGENCY_SOON"], 1);
        assert_eq!(json["flags"]["FLAG_PAD_PATTERN"], 1);

        let mut text = Vec::new();
        live.write_text(&mut text, 1, Duration::from_secs(1))
            .unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with("screened 3 records: 2 assessed, 1 errors (2 from the earlier run)")
        );
        assert!(
            text.contains("urgency: URGENCY_EMERGENCY 1, URGENCY_SOON 1"),
            "{text}"
        );
    }
}
