//! Reading `screen` input: NDJSON or CSV records, each with the line it starts on.
//!
//! Reading and parsing are split. [`Source`] only cuts the input into raw records (cheap,
//! sequential), so that the expensive part, [`Parser::parse`], can run on every core. Every
//! input record becomes exactly one [`Parsed`]: either a request or the finished error answer
//! naming its line, so a bad line can never drop or shift a record.

use std::{
    collections::HashMap,
    fmt,
    io::{self, BufRead},
    sync::Arc,
};

use cramp_core::FieldViolation;
use serde_json::{Map, Value};

use super::schema::{self, IntakeSchema};
use crate::{
    pb::{self, assess_batch_response::Result as BatchResult},
    status,
};

/// The UTF-8 byte-order mark some editors put at the start of a file.
const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// The input encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// One `AssessBatchRequest` per line, in proto3 JSON.
    Ndjson,
    /// A header of intake field paths, then one record per row.
    Csv,
}

/// One input record before parsing.
#[derive(Clone, Debug)]
pub struct RawRecord {
    /// The 1-based line the record starts on.
    pub line: u64,
    /// Its text.
    pub raw: Raw,
}

/// The text of one record.
#[derive(Clone)]
pub enum Raw {
    /// An NDJSON line.
    Json(String),
    /// A CSV row.
    Csv(csv::StringRecord),
    /// A line that is not even text (not UTF-8); the reason says so.
    Unreadable(&'static str),
}

// Raw records hold patient answers: show their kind only.
impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json(_) => "Json(..)",
            Self::Csv(_) => "Csv(..)",
            Self::Unreadable(_) => "Unreadable(..)",
        })
    }
}

/// A parsed record: the request to assess, or the error answer already decided for it (boxed:
/// it is the rare case).
pub type Parsed = Result<pb::AssessBatchRequest, Box<pb::AssessBatchResponse>>;

/// Why the input as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Reading failed.
    #[error("cannot read the input")]
    Io(#[from] io::Error),
    /// The CSV header names something that is not an intake field.
    #[error(
        "CSV column `{0}` is not `record_id`, `medications` or an intake field path (`patient.age_years`)"
    )]
    UnknownColumn(String),
    /// The CSV header names a field twice.
    #[error("CSV column `{0}` appears twice")]
    DuplicateColumn(String),
    /// The CSV has no header row.
    #[error("the CSV input has no header row")]
    NoHeader,
    /// The CSV header is malformed.
    #[error("cannot read the CSV header")]
    Header(#[source] csv::Error),
    /// The intake schema is unusable (a build problem).
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
}

/// Cuts the input into raw records.
pub enum Source {
    /// NDJSON lines.
    Ndjson {
        /// The input.
        reader: Box<dyn BufRead + Send>,
        /// Lines read so far.
        line: u64,
        /// Reused line buffer.
        buffer: Vec<u8>,
    },
    /// CSV rows.
    Csv {
        /// The CSV reader, past the header.
        reader: csv::Reader<Box<dyn BufRead + Send>>,
        /// Reused row buffer.
        row: csv::ByteRecord,
    },
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ndjson { .. } => "Source::Ndjson",
            Self::Csv { .. } => "Source::Csv",
        })
    }
}

impl Source {
    /// Starts reading `reader` as `format`; for CSV, reads and checks the header and returns
    /// the parser that knows its columns.
    ///
    /// # Errors
    /// [`InputError`] when the CSV header is missing or names an unknown or repeated column.
    pub fn open(
        format: InputFormat,
        reader: Box<dyn BufRead + Send>,
    ) -> Result<(Self, Parser), InputError> {
        match format {
            InputFormat::Ndjson => Ok((
                Self::Ndjson {
                    reader,
                    line: 0,
                    buffer: Vec::new(),
                },
                Parser::Ndjson,
            )),
            InputFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(reader);
                let mut header = csv::StringRecord::new();
                if !reader
                    .read_record(&mut header)
                    .map_err(InputError::Header)?
                {
                    return Err(InputError::NoHeader);
                }
                let columns = CsvColumns::from_header(&header)?;
                Ok((
                    Self::Csv {
                        reader,
                        row: csv::ByteRecord::new(),
                    },
                    Parser::Csv(Arc::new(columns)),
                ))
            }
        }
    }
}

impl Iterator for Source {
    type Item = Result<RawRecord, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Ndjson {
                reader,
                line,
                buffer,
            } => loop {
                buffer.clear();
                match reader.read_until(b'\n', buffer) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(err) => return Some(Err(err.into())),
                }
                *line += 1;
                // A byte-order mark before the first record is not part of it (as in CSV).
                if *line == 1 && buffer.starts_with(UTF8_BOM) {
                    buffer.drain(..UTF8_BOM.len());
                }
                if buffer.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let raw = match std::str::from_utf8(buffer) {
                    Ok(text) => Raw::Json(text.trim_end().to_owned()),
                    Err(_) => Raw::Unreadable("the line is not UTF-8 text"),
                };
                return Some(Ok(RawRecord { line: *line, raw }));
            },
            Self::Csv { reader, row } => match reader.read_byte_record(row) {
                Ok(false) => None,
                Ok(true) => {
                    let line = row.position().map_or(0, csv::Position::line);
                    let raw = match csv::StringRecord::from_byte_record(row.clone()) {
                        Ok(record) => Raw::Csv(record),
                        Err(_) => Raw::Unreadable("the row is not UTF-8 text"),
                    };
                    Some(Ok(RawRecord { line, raw }))
                }
                Err(err) => match err.kind() {
                    csv::ErrorKind::Io(_) => Some(Err(InputError::Io(io::Error::other(err)))),
                    csv::ErrorKind::Utf8 { .. }
                    | csv::ErrorKind::UnequalLengths { .. }
                    | csv::ErrorKind::Seek
                    | csv::ErrorKind::Serialize(_)
                    | csv::ErrorKind::Deserialize { .. }
                    | _ => {
                        let line = err.position().map_or(0, csv::Position::line);
                        Some(Ok(RawRecord {
                            line,
                            raw: Raw::Unreadable("the row is not valid CSV"),
                        }))
                    }
                },
            },
        }
    }
}

/// What each CSV column holds.
#[derive(Debug)]
pub struct CsvColumns {
    /// One target per header cell.
    targets: Vec<Target>,
}

#[derive(Debug)]
enum Target {
    RecordId,
    Field(schema::Column),
}

impl CsvColumns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, InputError> {
        let schema = IntakeSchema::shared()?;
        let mut seen = HashMap::new();
        let mut targets = Vec::with_capacity(header.len());
        for name in header {
            let name = name.trim().trim_start_matches('\u{feff}');
            if seen.insert(name.to_owned(), ()).is_some() {
                return Err(InputError::DuplicateColumn(name.to_owned()));
            }
            targets.push(if name == "record_id" {
                Target::RecordId
            } else {
                Target::Field(
                    schema
                        .column(name)
                        .cloned()
                        .ok_or_else(|| InputError::UnknownColumn(name.to_owned()))?,
                )
            });
        }
        Ok(Self { targets })
    }
}

/// Turns raw records into requests; cheap to clone into worker threads.
#[derive(Clone, Debug)]
pub enum Parser {
    /// NDJSON lines of proto3 JSON.
    Ndjson,
    /// CSV rows under this header.
    Csv(Arc<CsvColumns>),
}

impl Parser {
    /// Parses one record. A record without an id gets `line-N`; a record that cannot be read
    /// becomes its error answer (`INVALID_ARGUMENT` naming the line).
    pub fn parse(&self, record: RawRecord) -> Parsed {
        let RawRecord { line, raw } = record;
        let mut parsed = match (self, raw) {
            (_, Raw::Unreadable(reason)) => Err(unparseable(
                line,
                format!("line {line}: {reason}"),
                &[],
                None,
            )),
            (Self::Ndjson, Raw::Json(text)) => parse_json(line, &text),
            (Self::Csv(columns), Raw::Csv(row)) => parse_row(columns, line, &row),
            (Self::Ndjson, Raw::Csv(_)) | (Self::Csv(_), Raw::Json(_)) => Err(unparseable(
                line,
                format!("line {line}: record of the wrong format"),
                &[],
                None,
            )),
        };
        let id = match &mut parsed {
            Ok(request) => &mut request.record_id,
            Err(answer) => &mut answer.record_id,
        };
        if id.is_empty() {
            *id = format!("line-{line}");
        }
        parsed
    }
}

fn parse_json(line: u64, text: &str) -> Parsed {
    serde_json::from_str::<pb::AssessBatchRequest>(text).map_err(|err| {
        // Name the line, the column and the kind of problem, never the text: serde's message
        // can quote a submitted value.
        let kind = err.to_string();
        let kind = kind
            .split(['`', '"', ':', ','])
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches(" at line")
            .to_owned();
        let record_id = salvage_record_id(text);
        unparseable(
            line,
            format!(
                "line {line}, column {}: not an AssessBatchRequest in proto3 JSON ({kind})",
                err.column()
            ),
            &[],
            record_id,
        )
    })
}

/// The `record_id` of a line that is not a request, when it can still be found: from the
/// object if the line is valid JSON, else from the text after `"record_id":` (a line cut off
/// mid-write usually keeps its id, which makes it easy to find again).
fn salvage_record_id(text: &str) -> Option<String> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return value
            .get("record_id")
            .or_else(|| value.get("recordId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    ["\"record_id\"", "\"recordId\""].iter().find_map(|key| {
        let (_, rest) = text.split_once(key)?;
        let rest = rest.trim_start().strip_prefix(':')?;
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        values.next()?.ok()
    })
}

fn parse_row(columns: &CsvColumns, line: u64, row: &csv::StringRecord) -> Parsed {
    if row.len() != columns.targets.len() {
        let record_id = columns
            .targets
            .iter()
            .position(|t| matches!(t, Target::RecordId))
            .and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        return Err(unparseable(
            line,
            format!(
                "line {line}: the row has {} cells, the header {}",
                row.len(),
                columns.targets.len()
            ),
            &[],
            record_id,
        ));
    }
    let mut record_id = String::new();
    let mut history = Map::new();
    let mut violations = Vec::new();
    for (target, cell) in columns.targets.iter().zip(row) {
        match target {
            Target::RecordId => cell.trim().clone_into(&mut record_id),
            Target::Field(_) if cell.trim().is_empty() => {}
            Target::Field(column) => match schema::cell_value(column, cell) {
                Ok(value) => schema::insert(&mut history, &column.path, value),
                Err(err) => violations.push(FieldViolation::new(
                    format!("history.{}", err.path),
                    err.description,
                )),
            },
        }
    }
    let id = (!record_id.is_empty()).then(|| record_id.clone());
    if !violations.is_empty() {
        return Err(unparseable(
            line,
            format!(
                "line {line}: {} cell(s) cannot be read; see the BadRequest details",
                violations.len()
            ),
            &violations,
            id,
        ));
    }
    match serde_json::from_value::<pb::CrampHistory>(Value::Object(history)) {
        Ok(history) => Ok(pb::AssessBatchRequest {
            record_id,
            history: Some(history),
            // `screen --view` decides, for every record.
            view: pb::AssessmentView::Unspecified.into(),
        }),
        Err(_) => Err(unparseable(
            line,
            format!("line {line}: the row is not a history"),
            &[],
            id,
        )),
    }
}

/// The error answer of a record that cannot be parsed: `INVALID_ARGUMENT` with the line in
/// the message and an `ErrorInfo` (`UNPARSEABLE_RECORD`, metadata `line`), plus a `BadRequest`
/// when particular cells are at fault.
fn unparseable(
    line: u64,
    message: String,
    violations: &[FieldViolation],
    record_id: Option<String>,
) -> Box<pb::AssessBatchResponse> {
    let status = status::unparseable(line, message, violations);
    Box::new(pb::AssessBatchResponse {
        record_id: record_id.unwrap_or_default(),
        result: Some(BatchResult::Error(status::to_message(&status))),
    })
}

#[cfg(test)]
mod tests {
    use tonic_types::RpcStatusExt as _;

    use super::*;

    fn read(format: InputFormat, text: &str) -> Vec<(u64, Parsed)> {
        let (source, parser) =
            Source::open(format, Box::new(io::Cursor::new(text.to_owned()))).unwrap();
        source
            .map(|r| {
                let r = r.unwrap();
                (r.line, parser.parse(r))
            })
            .collect()
    }

    fn error_of(parsed: &Parsed) -> &tonic_types::Status {
        match parsed.as_ref().map_err(|answer| &answer.result) {
            Err(Some(BatchResult::Error(status))) => status,
            other => panic!("not an error answer: {other:?}"),
        }
    }

    #[test]
    fn ndjson_lines_parse_blank_lines_are_skipped_and_ids_default_to_the_line() {
        let text = "{\"record_id\": \"a\", \"history\": {\"patient\": {\"age_years\": 40}}}\n\n\
                    {\"history\": {\"patient\": {\"ageYears\": 41}}}\r\n";
        let records = read(InputFormat::Ndjson, text);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].0, 1);
        assert_eq!(records[0].1.as_ref().unwrap().record_id, "a");
        assert_eq!(records[1].0, 3);
        assert_eq!(records[1].1.as_ref().unwrap().record_id, "line-3");
    }

    #[test]
    fn a_byte_order_mark_before_the_first_ndjson_record_is_skipped() {
        let text = "\u{feff}{\"record_id\": \"a\", \"history\": {}}\n{\"record_id\": \"b\"}\n";
        let records = read(InputFormat::Ndjson, text);
        assert_eq!(records[0].1.as_ref().unwrap().record_id, "a");
        assert_eq!(records[1].1.as_ref().unwrap().record_id, "b");
        // Only at the start of the input: elsewhere it is part of a (bad) record.
        let records = read(InputFormat::Ndjson, "{}\n\u{feff}{}\n");
        assert!(records[0].1.is_ok());
        assert!(records[1].1.is_err());
    }

    #[test]
    fn a_bad_ndjson_line_is_an_error_answer_naming_its_line_without_its_values() {
        let text = "{\"record_id\": \"x1\", \"history\": {\"patient\": {\"sex\": \"SEX_ZZQX\"}}}\n\
                    not json at all\n";
        let records = read(InputFormat::Ndjson, text);
        let first = error_of(&records[0].1);
        assert_eq!(records[0].1.as_ref().unwrap_err().record_id, "x1");
        assert!(
            first.message.starts_with("line 1, column"),
            "{}",
            first.message
        );
        assert!(!first.message.contains("ZZQX"), "{}", first.message);
        let info = first.get_details_error_info().unwrap();
        assert_eq!(info.reason, status::Reason::UnparseableRecord.as_str());
        assert_eq!(info.metadata["line"], "1");
        assert_eq!(records[1].1.as_ref().unwrap_err().record_id, "line-2");
        assert!(error_of(&records[1].1).message.starts_with("line 2"));
    }

    #[test]
    fn csv_rows_map_columns_to_intake_fields() {
        let text = "record_id,patient.age_years,patient.sex,cramps.locations,medications\n\
                    c1,70,SEX_MALE,LOCATION_CALF;LOCATION_FOOT,\"furosemide 40 mg|2;atorvastatin\"\n\
                    ,35,,,\n";
        let records = read(InputFormat::Csv, text);
        let first = records[0].1.as_ref().unwrap();
        assert_eq!(first.record_id, "c1");
        let history = first.history.as_ref().unwrap();
        assert_eq!(history.patient.as_ref().unwrap().age_years, Some(70));
        assert_eq!(history.cramps.as_ref().unwrap().locations.len(), 2);
        assert_eq!(history.medications[0].name, "furosemide 40 mg");
        assert_eq!(history.medications[0].weeks_since_started, Some(2));
        assert_eq!(history.medications[1].weeks_since_started, None);
        assert_eq!(records[1].0, 3);
        assert_eq!(records[1].1.as_ref().unwrap().record_id, "line-3");
    }

    #[test]
    fn bad_csv_cells_are_named_with_history_paths() {
        let text = "record_id,patient.age_years,symptoms.chest_pain\nz,old,maybe\nshort\n";
        let records = read(InputFormat::Csv, text);
        let status = error_of(&records[0].1);
        let fields = crate::status::bad_request_fields(status);
        assert_eq!(
            fields,
            ["history.patient.age_years", "history.symptoms.chest_pain"]
        );
        assert!(status.message.starts_with("line 2:"));
        assert!(error_of(&records[1].1).message.starts_with("line 3:"));
    }

    #[test]
    fn an_unknown_csv_column_stops_before_any_record() {
        let err = Source::open(
            InputFormat::Csv,
            Box::new(io::Cursor::new("record_id,patient.age_yaers\n")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("patient.age_yaers"), "{err}");
    }
}
