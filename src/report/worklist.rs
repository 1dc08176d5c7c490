//! Who is on the worklist, in which order, and what each row says.
//!
//! Every record that needs action is a row: EMERGENCY, then URGENT, then SOON; then records whose
//! urgency is lower but which carry a red flag the answers cannot exclude (with the questions
//! that would settle it); then records answered with an error, which need re-entering before
//! anyone knows how urgent they are. Within a tier rows keep input order, so two runs of the same
//! input, or its shards merged in order, give the same worklist byte for byte.

use std::io::{self, Write};

use cramp_core::{Flag, Urgency, Workup};
use serde::Serialize;

use super::titles;

/// How many workups a row names; the rest are counted ("+2 more").
pub const FIRST_WORKUPS: usize = 3;

/// The worklist's columns (CSV header).
pub const CSV_HEADER: [&str; 7] = [
    "rank",
    "record_id",
    "urgency",
    "flags",
    "first_workups",
    "ask",
    "errors",
];

/// A worklist tier, most pressing first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Emergency care now.
    Emergency,
    /// Same day.
    Urgent,
    /// Days to two weeks.
    Soon,
    /// A red flag that cannot be excluded, on a record otherwise routine or self-care.
    Possible,
    /// Not assessed: the record must be re-entered.
    Reenter,
}

impl Tier {
    /// The tier of an assessed record, or `None` when it needs no action.
    #[must_use]
    pub const fn of(urgency: Urgency, has_possible_flag: bool) -> Option<Self> {
        match urgency {
            Urgency::Emergency => Some(Self::Emergency),
            Urgency::Urgent => Some(Self::Urgent),
            Urgency::Soon => Some(Self::Soon),
            Urgency::Routine | Urgency::SelfCare if has_possible_flag => Some(Self::Possible),
            Urgency::Routine | Urgency::SelfCare => None,
        }
    }
}

/// One worklist row: record id, codes' titles and fixed questions, nothing a patient wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// 1-based place on the worklist.
    pub rank: u64,
    /// Place in the input (across shards), for the stable order.
    pub position: u64,
    /// The record's id.
    pub record_id: String,
    /// Which tier.
    pub tier: Tier,
    /// The urgency's title, or "Not assessed".
    pub urgency: String,
    /// Flag titles, most urgent first.
    pub flags: Vec<String>,
    /// The first workups' titles, and "+N more".
    pub workups: Vec<String>,
    /// Per red flag that cannot be excluded: its title and the questions that would settle it.
    pub ask: Vec<Ask>,
    /// What must be fixed before the record can be assessed.
    pub errors: Vec<String>,
}

/// A red flag the answers cannot exclude, and what to ask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ask {
    /// The flag's title.
    pub flag: String,
    /// The questions that would settle it, most decisive first.
    pub questions: Vec<String>,
}

impl Ask {
    /// "{title} cannot be excluded: ask {questions}", as the CDS Hooks card's summary says it.
    #[must_use]
    pub fn text(&self) -> String {
        format!(
            "{} cannot be excluded: ask {}",
            self.flag,
            self.questions.join(" ")
        )
    }
}

/// The row of an assessed record in `tier`.
#[must_use]
pub fn assessed_row(
    tier: Tier,
    position: u64,
    record_id: &str,
    urgency: Urgency,
    flags: &[Flag],
    workups: &[Workup],
    ask: &[(Flag, Vec<String>)],
) -> Row {
    let mut first: Vec<String> = workups
        .iter()
        .take(FIRST_WORKUPS)
        .map(|w| titles::workup(*w))
        .collect();
    if workups.len() > FIRST_WORKUPS {
        first.push(format!("+{} more", workups.len() - FIRST_WORKUPS));
    }
    Row {
        rank: 0,
        position,
        record_id: record_id.to_owned(),
        tier,
        urgency: titles::urgency(urgency),
        flags: flags.iter().map(|f| titles::flag(*f)).collect(),
        workups: first,
        ask: ask
            .iter()
            .map(|(flag, questions)| Ask {
                flag: titles::flag(*flag),
                questions: questions.clone(),
            })
            .collect(),
        errors: Vec::new(),
    }
}

/// The row of a record answered with an error.
#[must_use]
pub fn error_row(position: u64, record_id: &str, errors: Vec<String>) -> Row {
    Row {
        rank: 0,
        position,
        record_id: record_id.to_owned(),
        tier: Tier::Reenter,
        urgency: "Not assessed".to_owned(),
        flags: Vec::new(),
        workups: Vec::new(),
        ask: Vec::new(),
        errors,
    }
}

/// Puts rows in worklist order (tier, then input order) and numbers them.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by_key(|row| (row.tier, row.position));
    for (rank, row) in (1u64..).zip(rows.iter_mut()) {
        row.rank = rank;
    }
}

/// Writes the worklist as CSV: a header, then one row per record, lists joined with " | ".
///
/// # Errors
/// When `out` cannot be written.
pub fn write_csv(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CSV_HEADER)?;
    for row in rows {
        csv.write_record([
            row.rank.to_string().as_str(),
            &row.record_id,
            &row.urgency,
            &row.flags.join(" | "),
            &row.workups.join(" | "),
            &row.ask
                .iter()
                .map(Ask::text)
                .collect::<Vec<_>>()
                .join(" | "),
            &row.errors.join(" | "),
        ])?;
    }
    csv.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tier: Tier, position: u64) -> Row {
        let mut row = error_row(position, &format!("r{position}"), Vec::new());
        row.tier = tier;
        row
    }

    #[test]
    fn most_urgent_first_then_input_order() {
        let mut rows = vec![
            row(Tier::Reenter, 1),
            row(Tier::Soon, 2),
            row(Tier::Emergency, 3),
            row(Tier::Possible, 4),
            row(Tier::Urgent, 5),
            row(Tier::Emergency, 6),
            row(Tier::Soon, 7),
        ];
        sort(&mut rows);
        let order: Vec<(u64, u64)> = rows.iter().map(|r| (r.rank, r.position)).collect();
        assert_eq!(
            order,
            [(1, 3), (2, 6), (3, 5), (4, 2), (5, 7), (6, 4), (7, 1)]
        );
    }

    #[test]
    fn only_records_needing_action_have_a_tier() {
        assert_eq!(Tier::of(Urgency::Emergency, false), Some(Tier::Emergency));
        assert_eq!(Tier::of(Urgency::Soon, true), Some(Tier::Soon));
        assert_eq!(Tier::of(Urgency::Routine, true), Some(Tier::Possible));
        assert_eq!(Tier::of(Urgency::SelfCare, true), Some(Tier::Possible));
        assert_eq!(Tier::of(Urgency::Routine, false), None);
        assert_eq!(Tier::of(Urgency::SelfCare, false), None);
    }

    #[test]
    fn rows_name_titles_and_count_the_workups_left_out() {
        let row = assessed_row(
            Tier::Urgent,
            9,
            "r9",
            Urgency::Urgent,
            &[Flag::DvtSuspected],
            &[
                Workup::VenousDuplex,
                Workup::DDimer,
                Workup::Cbc,
                Workup::KidneyFunction,
                Workup::Tsh,
            ],
            &[(Flag::PeSuspected, vec!["Any chest pain?".to_owned()])],
        );
        assert_eq!(row.urgency, "Urgent");
        assert_eq!(row.flags, ["Possible deep vein thrombosis"]);
        assert_eq!(row.workups.len(), FIRST_WORKUPS + 1);
        assert_eq!(row.workups[3], "+2 more");
        assert!(
            row.ask[0]
                .text()
                .ends_with("cannot be excluded: ask Any chest pain?")
        );
        let mut out = Vec::new();
        write_csv(&[row], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("rank,record_id,urgency,flags,first_workups,ask,errors\n"));
        assert!(
            !text.contains("FLAG_") && !text.contains("WORKUP_"),
            "{text}"
        );
    }
}
