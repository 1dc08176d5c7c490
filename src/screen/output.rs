//! Writing `screen` output, and reading back what an earlier run wrote (for `--resume`).
//!
//! Every answer, whether computed here or received from a server, goes through
//! [`Formatter::record`], so in-process and remote runs write the same bytes. NDJSON lines are
//! the proto3 JSON of `AssessBatchResponse` (snake_case names, enums by name); a record's
//! `google.rpc.Status` is written as proto3 JSON renders it, with its `BadRequest` and
//! `ErrorInfo` details expanded under `@type`. CSV rows carry the headline columns only.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{self, BufRead, BufReader},
    path::Path,
};

use base64::Engine as _;
use prost::Message as _;
use serde::{
    Deserialize, Serialize, Serializer,
    ser::{SerializeMap, SerializeSeq},
};

use super::summary::Summary;
use crate::{
    assess::Assessed,
    pb::{self, assess_batch_response::Result as BatchResult},
};

/// The output encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One `AssessBatchResponse` per line, in proto3 JSON.
    Ndjson,
    /// A header, then one row per record: id, urgency, flags, workups, drug classes, error.
    Csv,
}

/// The CSV output columns.
pub const CSV_HEADER: [&str; 6] = [
    "record_id",
    "urgency",
    "flags",
    "workups",
    "drug_classes",
    "error",
];

const BAD_REQUEST_URL: &str = "type.googleapis.com/google.rpc.BadRequest";
const ERROR_INFO_URL: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// Renders answers as output bytes.
#[derive(Debug)]
pub struct Formatter {
    format: OutputFormat,
}

impl Formatter {
    /// A formatter for `format`.
    #[must_use]
    pub const fn new(format: OutputFormat) -> Self {
        Self { format }
    }

    /// The bytes that start a new output file (the CSV header row; nothing for NDJSON).
    ///
    /// # Errors
    /// Only if the in-memory CSV writer fails.
    pub fn header(&mut self) -> io::Result<Vec<u8>> {
        match self.format {
            OutputFormat::Ndjson => Ok(Vec::new()),
            OutputFormat::Csv => {
                let mut out = Vec::new();
                csv_line(CSV_HEADER.iter().copied(), &mut out);
                Ok(out)
            }
        }
    }

    /// Appends one assessed record, ending in a newline, to `out`: the same bytes as
    /// [`Formatter::record`] writes for the answer `convert` makes of it in its view, written
    /// (in NDJSON) straight from the core's assessment without building that answer.
    ///
    /// # Errors
    /// Only if serialization into memory fails.
    pub fn assessed(&mut self, assessed: &Assessed, out: &mut Vec<u8>) -> io::Result<()> {
        match self.format {
            OutputFormat::Ndjson => {
                cramp_wire::json::batch_answer(
                    assessed.request_id(),
                    assessed.assessment(),
                    assessed.view(),
                    out,
                );
                out.push(b'\n');
                Ok(())
            }
            OutputFormat::Csv => {
                let answer = pb::AssessBatchResponse {
                    record_id: assessed.request_id().to_owned(),
                    result: Some(BatchResult::Assessment(assessed.to_pb())),
                };
                self.record(&answer, out)
            }
        }
    }

    /// Appends one answer, ending in a newline, to `out`.
    ///
    /// # Errors
    /// Only if serialization into memory fails.
    pub fn record(
        &mut self,
        answer: &pb::AssessBatchResponse,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        match self.format {
            OutputFormat::Ndjson => {
                serde_json::to_writer(&mut *out, &AnswerJson(answer))?;
                out.push(b'\n');
            }
            OutputFormat::Csv => csv_line(csv_row(answer).iter().map(String::as_str), out),
        }
        Ok(())
    }
}

/// An answer in proto3 JSON.
struct AnswerJson<'a>(&'a pb::AssessBatchResponse);

impl Serialize for AnswerJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("record_id", &self.0.record_id)?;
        match &self.0.result {
            Some(BatchResult::Assessment(assessment)) => {
                map.serialize_entry("assessment", assessment)?;
            }
            Some(BatchResult::Error(status)) => {
                map.serialize_entry("error", &StatusJson(status))?
            }
            None => {}
        }
        map.end()
    }
}

/// A `google.rpc.Status` in proto3 JSON, its known details expanded.
struct StatusJson<'a>(&'a tonic_types::Status);

impl Serialize for StatusJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let status = self.0;
        let mut map = serializer.serialize_map(None)?;
        if status.code != 0 {
            map.serialize_entry("code", &status.code)?;
        }
        if !status.message.is_empty() {
            map.serialize_entry("message", &status.message)?;
        }
        if !status.details.is_empty() {
            map.serialize_entry("details", &DetailsJson(&status.details))?;
        }
        map.end()
    }
}

struct DetailsJson<'a>(&'a [prost_types::Any]);

impl Serialize for DetailsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for any in self.0 {
            seq.serialize_element(&AnyJson(any))?;
        }
        seq.end()
    }
}

struct AnyJson<'a>(&'a prost_types::Any);

impl Serialize for AnyJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let any = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@type", &any.type_url)?;
        match any.type_url.as_str() {
            BAD_REQUEST_URL => {
                if let Ok(bad) = tonic_types::pb::BadRequest::decode(any.value.as_slice()) {
                    let violations: Vec<ViolationJson<'_>> = bad
                        .field_violations
                        .iter()
                        .map(|v| ViolationJson {
                            field: &v.field,
                            description: &v.description,
                            reason: &v.reason,
                        })
                        .collect();
                    map.serialize_entry("field_violations", &violations)?;
                }
            }
            ERROR_INFO_URL => {
                if let Ok(info) = tonic_types::pb::ErrorInfo::decode(any.value.as_slice()) {
                    map.serialize_entry("reason", &info.reason)?;
                    map.serialize_entry("domain", &info.domain)?;
                    let metadata: BTreeMap<_, _> = info.metadata.iter().collect();
                    map.serialize_entry("metadata", &metadata)?;
                }
            }
            // Proto3 JSON's fallback for a type it cannot resolve.
            _ => map.serialize_entry(
                "value",
                &base64::engine::general_purpose::STANDARD.encode(&any.value),
            )?,
        }
        map.end()
    }
}

/// A `BadRequest.FieldViolation` in proto field order, empty fields omitted.
#[derive(Serialize)]
struct ViolationJson<'a> {
    field: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
}

/// One CSV line (RFC 4180): cells quoted only when they hold a comma, a quote or a line break.
fn csv_line<'a>(cells: impl Iterator<Item = &'a str>, out: &mut Vec<u8>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.push(b'\n');
}

fn csv_row(answer: &pb::AssessBatchResponse) -> [String; 6] {
    let mut row: [String; 6] = Default::default();
    row[0].clone_from(&answer.record_id);
    match &answer.result {
        Some(BatchResult::Assessment(a)) => {
            row[1] = enum_name(pb::Urgency::try_from(a.urgency).map(|u| u.as_str_name()));
            row[2] = join(
                a.flags
                    .iter()
                    .map(|f| enum_name(pb::Flag::try_from(f.flag).map(|f| f.as_str_name()))),
            );
            row[3] = join(
                a.workups
                    .iter()
                    .map(|w| enum_name(pb::Workup::try_from(w.workup).map(|w| w.as_str_name()))),
            );
            row[4] = join(a.medication_findings.iter().map(|m| {
                enum_name(pb::DrugClass::try_from(m.drug_class).map(|d| d.as_str_name()))
            }));
        }
        Some(BatchResult::Error(status)) => row[5] = error_text(status),
        None => {}
    }
    row
}

fn enum_name<E>(name: Result<&str, E>) -> String {
    name.unwrap_or("UNKNOWN").to_owned()
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(";")
}

/// `CODE: field: description; field: description`, or `CODE: message` without field details.
fn error_text(status: &tonic_types::Status) -> String {
    use tonic_types::RpcStatusExt as _;

    let code = code_name(status.code);
    let violations = status
        .get_details_bad_request()
        .map(|bad| bad.field_violations)
        .unwrap_or_default();
    if violations.is_empty() {
        format!("{code}: {}", status.message)
    } else {
        let fields: Vec<String> = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect();
        format!("{code}: {}", fields.join("; "))
    }
}

/// The canonical name of a gRPC status code.
#[must_use]
pub fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN_CODE",
    }
}

/// What an earlier run left in the output file.
#[derive(Debug, Default)]
pub struct Existing {
    /// Complete records in it.
    pub records: u64,
    /// Bytes to keep: everything up to the end of the last complete record. A record cut off
    /// by a crash (no final newline) is dropped and written again.
    pub keep_bytes: u64,
    /// The id of the last complete record, to check the input is the same one.
    pub last_record_id: Option<String>,
    /// Counts over the complete records, so the final summary covers the whole file.
    pub summary: Summary,
    /// Whether the file had a header row (CSV) or needs none (NDJSON).
    pub has_header: bool,
}

/// Why an existing output file cannot be resumed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// Reading failed.
    #[error("cannot read the existing output")]
    Io(#[from] io::Error),
    /// A complete line is not a record this command writes: refuse rather than append to (or
    /// truncate) someone else's file.
    #[error("line {line} of the existing output is not a `screen` record; not resuming")]
    Foreign {
        /// The 1-based line.
        line: u64,
    },
}

/// Reads an existing output file: its complete records, their counts and where they end.
///
/// # Errors
/// [`ResumeError::Foreign`] when a complete line is not a record of `format`.
pub fn scan(path: &Path, format: OutputFormat) -> Result<Existing, ResumeError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Existing::default()),
        Err(err) => return Err(err.into()),
    };
    match format {
        OutputFormat::Ndjson => scan_ndjson(BufReader::new(file)),
        OutputFormat::Csv => scan_csv(BufReader::new(file)),
    }
}

/// The parts of an NDJSON answer the summary needs.
#[derive(Deserialize)]
struct Headline {
    record_id: String,
    #[serde(default)]
    assessment: Option<HeadlineAssessment>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct HeadlineAssessment {
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    flags: Vec<HeadlineFlag>,
}

#[derive(Deserialize)]
struct HeadlineFlag {
    #[serde(default)]
    flag: Option<String>,
}

fn scan_ndjson(mut reader: impl BufRead) -> Result<Existing, ResumeError> {
    let mut existing = Existing {
        has_header: true,
        ..Existing::default()
    };
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 || line.last() != Some(&b'\n') {
            break;
        }
        number += 1;
        offset += read as u64;
        let headline: Headline =
            serde_json::from_slice(&line).map_err(|_| ResumeError::Foreign { line: number })?;
        if headline.assessment.is_none() == headline.error.is_none() {
            return Err(ResumeError::Foreign { line: number });
        }
        match &headline.assessment {
            Some(a) => existing.summary.add_assessed(
                a.urgency.as_deref(),
                a.flags.iter().filter_map(|f| f.flag.as_deref()),
            ),
            None => existing.summary.add_error(),
        }
        existing.records += 1;
        existing.keep_bytes = offset;
        existing.last_record_id = Some(headline.record_id);
    }
    Ok(existing)
}

fn scan_csv(mut reader: impl BufRead) -> Result<Existing, ResumeError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    // Whatever follows the last newline is a row cut off mid-write.
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let bytes = bytes.get(..complete).unwrap_or_default();
    let mut existing = Existing::default();
    if bytes.is_empty() {
        return Ok(existing);
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut row = csv::StringRecord::new();
    let header_ok =
        csv.read_record(&mut row).unwrap_or(false) && row.iter().eq(CSV_HEADER.iter().copied());
    if !header_ok {
        return Err(ResumeError::Foreign { line: 1 });
    }
    existing.has_header = true;
    existing.keep_bytes = csv.position().byte();
    loop {
        let start = csv.position().clone();
        match csv.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) if row.len() == CSV_HEADER.len() => {}
            // A row torn inside a quoted cell ends the usable part only if nothing follows.
            Ok(true) | Err(_) => {
                if csv.position().byte() >= bytes.len() as u64 {
                    break;
                }
                return Err(ResumeError::Foreign { line: start.line() });
            }
        }
        let cell = |i: usize| row.get(i).unwrap_or_default();
        if cell(5).is_empty() {
            existing
                .summary
                .add_assessed(Some(cell(1)), cell(2).split(';').filter(|f| !f.is_empty()));
        } else {
            existing.summary.add_error();
        }
        existing.records += 1;
        existing.keep_bytes = csv.position().byte();
        existing.last_record_id = Some(cell(0).to_owned());
    }
    Ok(existing)
}

#[cfg(test)]
mod tests {
    use cramp_core::{FieldViolation, KnowledgeBase};

    use super::*;
    use crate::batch;

    fn answers() -> Vec<pb::AssessBatchResponse> {
        let kb = KnowledgeBase::standard();
        let ok = batch::assess_record(
            &crate::assess::Assessor::local(kb),
            &crate::assess::Call::local(crate::audit::Door::Screen),
            pb::AssessBatchRequest {
                record_id: "ok,\"1\"".into(),
                history: Some(pb::CrampHistory {
                    patient: Some(pb::Patient {
                        age_years: Some(70),
                        ..pb::Patient::default()
                    }),
                    ..pb::CrampHistory::default()
                }),
                view: pb::AssessmentView::Unspecified.into(),
            },
        );
        let bad = pb::AssessBatchResponse {
            record_id: "bad-1".into(),
            result: Some(BatchResult::Error(crate::status::to_message(
                &crate::status::invalid_argument(&[FieldViolation::new(
                    "history.patient.age_years",
                    "is required",
                )]),
            ))),
        };
        vec![ok, bad]
    }

    /// What the generic path (serde_json through the pbjson impls) writes for `answer`.
    fn serde_line(answer: &pb::AssessBatchResponse) -> Vec<u8> {
        let mut out = serde_json::to_vec(&AnswerJson(answer)).unwrap();
        out.push(b'\n');
        out
    }

    /// `screen` writes assessed records from the core's assessment; the bytes must be those of
    /// the converted answer through serde, in both views and both formats, summaries included.
    #[test]
    fn answers_written_from_the_core_match_the_converted_answers() {
        let kb = KnowledgeBase::standard();
        let mut compared = 0;
        for record in crate::screen::synthetic::records(5).take(3000) {
            for view in [pb::AssessmentView::Full, pb::AssessmentView::Basic] {
                let mut request = record.request.clone();
                request.view = view.into();
                let answer = batch::assess_record(
                    &crate::assess::Assessor::local(kb),
                    &crate::assess::Call::local(crate::audit::Door::Screen),
                    request.clone(),
                );
                let Ok(assessed) = batch::assess_record_to_core(
                    &crate::assess::Assessor::local(kb),
                    &crate::assess::Call::local(crate::audit::Door::Screen),
                    request,
                ) else {
                    continue;
                };
                for format in [OutputFormat::Ndjson, OutputFormat::Csv] {
                    let mut formatter = Formatter::new(format);
                    let mut direct = Vec::new();
                    formatter.assessed(&assessed, &mut direct).unwrap();
                    let expected = match format {
                        OutputFormat::Ndjson => serde_line(&answer),
                        OutputFormat::Csv => {
                            let mut out = Vec::new();
                            formatter.record(&answer, &mut out).unwrap();
                            out
                        }
                    };
                    assert_eq!(
                        String::from_utf8_lossy(&direct),
                        String::from_utf8_lossy(&expected)
                    );
                }
                let mut counted = Summary::default();
                let a = assessed.assessment();
                counted.add_assessed(
                    Some(a.urgency.name()),
                    a.flags.iter().map(|f| f.flag.name()),
                );
                let mut expected = Summary::default();
                expected.add(&answer);
                assert_eq!(counted, expected);
                compared += 1;
            }
        }
        assert!(compared > 5000, "{compared} answers compared");
    }

    #[test]
    fn the_direct_writer_escapes_strings_as_serde_does() {
        let all_bytes: String = (0u8..0x80).map(char::from).collect();
        let nasty = [
            String::new(),
            "plain".to_owned(),
            all_bytes,
            "quote \" backslash \\ slash / tab \t nl \n".to_owned(),
            "é ü 漢字 🙂 \u{7f} \u{2028} \u{feff}".to_owned(),
            "\u{1}\u{1f}\u{8}\u{c}\r".to_owned(),
        ];
        for text in &nasty {
            let mut direct = Vec::new();
            cramp_wire::json::string(text, &mut direct);
            assert_eq!(direct, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    fn render(format: OutputFormat) -> Vec<u8> {
        let mut formatter = Formatter::new(format);
        let mut out = formatter.header().unwrap();
        for answer in answers() {
            formatter.record(&answer, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn ndjson_is_proto3_json_with_expanded_error_details() {
        let out = String::from_utf8(render(OutputFormat::Ndjson)).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["record_id"], "ok,\"1\"");
        assert!(
            lines[0]["assessment"]["urgency"]
                .as_str()
                .unwrap()
                .starts_with("URGENCY_")
        );
        let error = &lines[1]["error"];
        assert_eq!(error["code"], 3);
        let detail = |url: &str| {
            error["details"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["@type"] == url)
                .unwrap()
                .clone()
        };
        assert_eq!(
            detail(BAD_REQUEST_URL)["field_violations"][0]["field"],
            "history.patient.age_years"
        );
        assert_eq!(detail(ERROR_INFO_URL)["reason"], "INVALID_HISTORY");
        let parsed: pb::Assessment =
            serde_json::from_value(lines[0]["assessment"].clone()).unwrap();
        assert_eq!(
            Some(BatchResult::Assessment(parsed)),
            answers()[0].result,
            "the assessment parses back unchanged"
        );
    }

    #[test]
    fn csv_rows_carry_the_headline_and_the_error() {
        let out = String::from_utf8(render(OutputFormat::Csv)).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            CSV_HEADER
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][0], "ok,\"1\"");
        assert!(rows[0][1].starts_with("URGENCY_"));
        assert_eq!(
            &rows[1][5],
            "INVALID_ARGUMENT: history.patient.age_years: is required"
        );
    }

    #[test]
    fn scanning_finds_complete_records_and_drops_a_torn_tail() {
        for format in [OutputFormat::Ndjson, OutputFormat::Csv] {
            let full = render(format);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("out");
            std::fs::write(&path, &full).unwrap();
            let whole = scan(&path, format).unwrap();
            assert_eq!(whole.records, 2, "{format:?}");
            assert_eq!(whole.keep_bytes, full.len() as u64);
            assert_eq!(whole.last_record_id.as_deref(), Some("bad-1"));
            assert_eq!(whole.summary.errors(), 1);

            std::fs::write(&path, &full[..full.len() - 5]).unwrap();
            let torn = scan(&path, format).unwrap();
            assert_eq!(torn.records, 1, "{format:?}");
            assert_eq!(torn.last_record_id.as_deref(), Some("ok,\"1\""));
            assert!(torn.keep_bytes < full.len() as u64 - 5);

            std::fs::write(&path, "something else\nentirely\n").unwrap();
            assert!(matches!(
                scan(&path, format),
                Err(ResumeError::Foreign { line: 1 })
            ));
        }
    }
}
