//! Reading `screen` outputs back: counts for the charts and rows for the worklist.
//!
//! The line types below name only the fields the report shows. serde skips every other field
//! (evidence values, medication names as given, rationales) without keeping it, so the report
//! cannot show a patient's answers: they never reach it.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::File,
    io::{BufRead, BufReader},
    path::Path,
};

use cramp_core::{DrugClass, Flag, Urgency, Workup};
use serde::Deserialize;

use super::{
    ReportError, titles,
    worklist::{self, Row, Tier},
};

/// Counts over every record read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records (assessed and errors).
    pub records: u64,
    /// Records answered with an error.
    pub errors: u64,
    /// Assessed records per urgency.
    pub urgency: BTreeMap<Urgency, u64>,
    /// Records with each flag.
    pub flags: BTreeMap<Flag, u64>,
    /// Records with each red flag that cannot be excluded.
    pub possible: BTreeMap<Flag, u64>,
    /// Records with a medicine of each class.
    pub drug_classes: BTreeMap<DrugClass, u64>,
    /// Error records per reason: the field to re-enter and what is wrong with it, or the
    /// record-level reason.
    pub error_reasons: BTreeMap<String, u64>,
    /// Knowledge-base versions the assessments carry (one, unless outputs were mixed).
    pub kb_versions: BTreeSet<String>,
    /// Medication-lexicon versions the assessments carry.
    pub lexicon_versions: BTreeSet<String>,
}

/// Everything read: the counts and the worklist, most urgent first.
#[derive(Clone, Debug, Default)]
pub struct Contents {
    /// Counts over every record.
    pub tally: Tally,
    /// The records that need action, in worklist order.
    pub worklist: Vec<Row>,
}

/// Reads output files one after another; records keep their order across files.
#[derive(Debug, Default)]
pub struct Reader {
    position: u64,
    tally: Tally,
    rows: Vec<Row>,
}

impl Reader {
    /// Reads every record of `path`.
    ///
    /// # Errors
    /// [`ReportError::Read`] or, for a line that is not a `screen` record,
    /// [`ReportError::Foreign`].
    pub fn read_file(&mut self, path: &Path) -> Result<(), ReportError> {
        let read_error = |source| ReportError::Read {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        self.read(BufReader::with_capacity(1 << 18, file), path)
    }

    /// Reads every record of `reader`, naming `path` in errors.
    ///
    /// # Errors
    /// As [`Reader::read_file`].
    pub fn read(&mut self, mut reader: impl BufRead, path: &Path) -> Result<(), ReportError> {
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|source| ReportError::Read {
                    path: path.to_owned(),
                    source,
                })?;
            if read == 0 {
                return Ok(());
            }
            number += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let foreign = |problem: String| ReportError::Foreign {
                path: path.to_owned(),
                line: number,
                problem,
            };
            // serde's message names a position and a kind, never the text: nothing of the line
            // is echoed.
            let record: Line = serde_json::from_slice(&line)
                .map_err(|err| foreign(format!("column {}: {:?}", err.column(), err.classify())))?;
            self.add(record).map_err(foreign)?;
        }
    }

    fn add(&mut self, line: Line) -> Result<(), String> {
        self.position += 1;
        self.tally.records += 1;
        let row = match (line.assessment, line.error) {
            (Some(assessment), None) => self.assessed(&line.record_id, assessment)?,
            (None, Some(error)) => Some(self.error(&line.record_id, &error)),
            _ => return Err("neither an assessment nor an error".to_owned()),
        };
        self.rows.extend(row);
        Ok(())
    }

    fn assessed(
        &mut self,
        record_id: &str,
        assessment: LineAssessment,
    ) -> Result<Option<Row>, String> {
        let urgency = code(assessment.urgency.as_deref(), Urgency::from_name, "urgency")?;
        let t = &mut self.tally;
        *t.urgency.entry(urgency).or_default() += 1;
        t.kb_versions.insert(assessment.knowledge_base_version);
        t.lexicon_versions
            .insert(assessment.medication_lexicon_version);
        let mut flags = Vec::with_capacity(assessment.flags.len());
        for f in &assessment.flags {
            let flag = code(f.flag.as_deref(), Flag::from_name, "flag")?;
            *t.flags.entry(flag).or_default() += 1;
            flags.push(flag);
        }
        let mut classes = BTreeSet::new();
        for finding in &assessment.medication_findings {
            classes.insert(code(
                finding.drug_class.as_deref(),
                DrugClass::from_name,
                "drug class",
            )?);
        }
        for class in classes {
            *t.drug_classes.entry(class).or_default() += 1;
        }
        let mut workups = Vec::with_capacity(assessment.workups.len());
        for w in &assessment.workups {
            workups.push(code(w.workup.as_deref(), Workup::from_name, "workup")?);
        }
        let mut ask = Vec::with_capacity(assessment.possible_flags.len());
        for possible in &assessment.possible_flags {
            let flag = code(
                possible.flag.as_ref().and_then(|f| f.flag.as_deref()),
                Flag::from_name,
                "possible flag",
            )?;
            *t.possible.entry(flag).or_default() += 1;
            let questions: Vec<String> = possible
                .settled_by
                .iter()
                .map(|field| {
                    let asked = assessment
                        .missing_information
                        .iter()
                        .find(|m| &m.field == field)
                        .map(|m| m.question.as_str());
                    titles::question(field, asked)
                })
                .collect();
            ask.push((flag, questions));
        }
        let Some(tier) = Tier::of(urgency, !ask.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(worklist::assessed_row(
            tier,
            self.position,
            record_id,
            urgency,
            &flags,
            &workups,
            &ask,
        )))
    }

    fn error(&mut self, record_id: &str, error: &LineStatus) -> Row {
        self.tally.errors += 1;
        let reason = error
            .details
            .iter()
            .find_map(|d| d.reason.as_deref())
            .map(titles::error_reason);
        let violations: Vec<String> = error
            .details
            .iter()
            .flat_map(|d| &d.field_violations)
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect();
        let reasons = if violations.is_empty() {
            vec![reason.unwrap_or_else(|| "Not assessed".to_owned())]
        } else {
            violations.clone()
        };
        for r in reasons {
            *self.tally.error_reasons.entry(r).or_default() += 1;
        }
        // The record's own message when no field is named: it says which line to fix, and the
        // service never puts a submitted value in it.
        let texts = if violations.is_empty() {
            vec![if error.message.is_empty() {
                tonic::Code::from(error.code).description().to_owned()
            } else {
                error.message.clone()
            }]
        } else {
            violations
        };
        worklist::error_row(self.position, record_id, texts)
    }

    /// The counts and the sorted worklist.
    #[must_use]
    pub fn finish(mut self) -> Contents {
        worklist::sort(&mut self.rows);
        Contents {
            tally: self.tally,
            worklist: self.rows,
        }
    }
}

/// A core value from its contract name; a missing or unknown name is not a record this version
/// wrote (the name itself is a code, safe to report).
fn code<T>(name: Option<&str>, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, String> {
    match name {
        Some(name) => parse(name).ok_or_else(|| format!("unknown {what} `{name}`")),
        None => Err(format!("no {what}")),
    }
}

/// One NDJSON line of `screen` (an `AssessBatchResponse` in proto3 JSON), as far as the report
/// reads it.
#[derive(Deserialize)]
struct Line {
    record_id: String,
    #[serde(default)]
    assessment: Option<LineAssessment>,
    #[serde(default)]
    error: Option<LineStatus>,
}

#[derive(Deserialize)]
struct LineAssessment {
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    flags: Vec<LineFlag>,
    #[serde(default)]
    medication_findings: Vec<LineFinding>,
    #[serde(default)]
    workups: Vec<LineWorkup>,
    #[serde(default)]
    missing_information: Vec<LineMissing>,
    #[serde(default)]
    knowledge_base_version: String,
    #[serde(default)]
    medication_lexicon_version: String,
    #[serde(default)]
    possible_flags: Vec<LinePossible>,
}

#[derive(Deserialize)]
struct LineFlag {
    #[serde(default)]
    flag: Option<String>,
}

#[derive(Deserialize)]
struct LineFinding {
    #[serde(default)]
    drug_class: Option<String>,
}

#[derive(Deserialize)]
struct LineWorkup {
    #[serde(default)]
    workup: Option<String>,
}

/// A question is fixed knowledge-base text, not an answer.
#[derive(Deserialize)]
struct LineMissing {
    #[serde(default)]
    field: String,
    #[serde(default)]
    question: String,
}

#[derive(Deserialize)]
struct LinePossible {
    #[serde(default)]
    flag: Option<LineFlag>,
    #[serde(default)]
    settled_by: Vec<String>,
}

/// A `google.rpc.Status` as `screen` writes it, details expanded.
#[derive(Deserialize)]
struct LineStatus {
    #[serde(default)]
    code: i32,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<LineDetail>,
}

/// A `BadRequest` (violations) or an `ErrorInfo` (reason).
#[derive(Deserialize)]
struct LineDetail {
    #[serde(default)]
    field_violations: Vec<LineViolation>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct LineViolation {
    #[serde(default)]
    field: String,
    #[serde(default)]
    description: String,
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::fhir::link_ids;

    fn read(text: &str) -> Result<Contents, ReportError> {
        let mut reader = Reader::default();
        reader.read(text.as_bytes(), &PathBuf::from("out.ndjson"))?;
        Ok(reader.finish())
    }

    #[test]
    fn a_basic_view_record_asks_the_questionnaire_s_questions() {
        let field = "symptoms.leg_swelling";
        let line = format!(
            r#"{{"record_id":"b1","assessment":{{"urgency":"URGENCY_URGENT","flags":[{{"flag":"FLAG_THYROID_RELATED","evidence":[{{"field":"x","value":"zzq-answer"}}]}}],"possible_flags":[{{"flag":{{"flag":"FLAG_DVT_SUSPECTED"}},"settled_by":["{field}"]}}],"missing_information":[{{"field":"{field}"}}],"medication_findings":[{{"input_name":"zzq-med","drug_class":"DRUG_CLASS_STATIN"}},{{"input_name":"zzq-other","drug_class":"DRUG_CLASS_STATIN"}}],"knowledge_base_version":"2.0.0"}}}}"#
        );
        let contents = read(&format!("\n{line}\n\n")).unwrap();
        let row = &contents.worklist[0];
        let question = link_ids::item(field).unwrap().text;
        assert_eq!(row.ask[0].questions, [question]);
        assert_eq!(row.ask[0].flag, "Possible deep vein thrombosis");
        assert_eq!(contents.tally.records, 1);
        assert_eq!(
            contents.tally.drug_classes[&DrugClass::Statin],
            1,
            "per record"
        );
        assert_eq!(contents.tally.possible[&Flag::DvtSuspected], 1);
        assert!(!format!("{row:?}").contains("zzq"));
    }

    #[test]
    fn lines_that_are_not_screen_records_are_named_without_their_content() {
        for (text, problem) in [
            (
                "{\"record_id\":\"x\"}\n",
                "neither an assessment nor an error",
            ),
            ("zzq-not-json\n", "column 1"),
            (
                "{\"record_id\":\"x\",\"assessment\":{\"urgency\":\"URGENCY_ZZQ\"}}\n",
                "unknown urgency",
            ),
        ] {
            let err = read(text).unwrap_err().to_string();
            assert!(err.starts_with("line 1 of `out.ndjson`"), "{err}");
            assert!(err.contains(problem), "{err}");
            assert!(!err.contains("zzq-not-json"), "{err}");
        }
    }
}
