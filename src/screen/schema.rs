//! The intake fields as flat CSV columns, read from the API's own descriptor set.
//!
//! A CSV header names intake field paths (`patient.age_years`, `cramps.locations`). Rather than
//! keep a second, hand-written list of ~150 fields that would drift from `intake.proto`, the
//! columns and their types come from the compiled descriptor: a field added to the proto is a
//! valid column the moment it is built. Cells become proto3 JSON values and go through the same
//! generated parser as NDJSON input, so both formats mean exactly the same thing.

use std::{collections::HashMap, sync::OnceLock};

use prost::Message as _;
use prost_types::{
    DescriptorProto, FileDescriptorSet,
    field_descriptor_proto::{Label, Type},
};
use serde_json::{Map, Value};

use crate::pb;

/// The column of the medication list: `name|weeks_since_started` entries separated by `;`.
pub const MEDICATIONS: &str = "medications";
/// Separates the values of a repeated field, and medication entries, within one cell.
pub const LIST_SEPARATOR: char = ';';
/// Separates a medication's name from its `weeks_since_started`.
pub const MEDICATION_SEPARATOR: char = '|';

/// Why the intake schema could not be read (a build problem, never the user's input).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The embedded descriptor set does not decode.
    #[error("the embedded descriptor set does not decode")]
    Decode(#[from] prost::DecodeError),
    /// The descriptor set lacks a message the intake needs.
    #[error("the descriptor set has no message `{0}`")]
    Missing(String),
}

/// What a cell of one column may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A whole number from 0 to 4294967295.
    Unsigned,
    /// A finite decimal number.
    Double,
    /// Any text; also other scalar types, which proto3 JSON accepts as strings.
    Verbatim,
    /// One of the enum's value names (`SEX_FEMALE`).
    Enum {
        /// The enum's name, for messages.
        name: String,
        /// Every value name except the `_UNSPECIFIED` zero.
        values: Vec<String>,
    },
    /// The medication list.
    Medications,
}

/// One column: an intake field path and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The path below `history` (`patient.age_years`).
    pub path: String,
    /// What the cell holds.
    pub kind: Kind,
    /// Whether the cell holds a `;`-separated list.
    pub repeated: bool,
}

/// Every intake field a CSV column can name, in proto order.
#[derive(Clone, Debug)]
pub struct IntakeSchema {
    columns: Vec<Column>,
    by_path: HashMap<String, usize>,
}

impl IntakeSchema {
    /// The schema, read once per process: it is a pure function of the embedded descriptor
    /// set, and decoding that set for every CSV header made each small input cost milliseconds
    /// (the `screen_csv` fuzz target ran at under 200 inputs a second).
    ///
    /// # Errors
    /// [`SchemaError`] if the descriptor set is unusable (a build problem).
    pub fn shared() -> Result<&'static Self, SchemaError> {
        static SCHEMA: OnceLock<IntakeSchema> = OnceLock::new();
        if let Some(schema) = SCHEMA.get() {
            return Ok(schema);
        }
        let schema = Self::load()?;
        Ok(SCHEMA.get_or_init(|| schema))
    }

    /// Reads the columns from the embedded `cramp.v1` descriptor set.
    ///
    /// # Errors
    /// [`SchemaError`] if the descriptor set is unusable (a build problem).
    pub fn load() -> Result<Self, SchemaError> {
        let fds = FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)?;
        let mut messages = HashMap::new();
        let mut enums = HashMap::new();
        for file in &fds.file {
            let package = file.package();
            for message in &file.message_type {
                messages.insert(format!(".{package}.{}", message.name()), message);
            }
            for e in &file.enum_type {
                let values = e
                    .value
                    .iter()
                    .filter(|v| v.number() != 0)
                    .map(|v| v.name().to_owned())
                    .collect::<Vec<_>>();
                enums.insert(
                    format!(".{package}.{}", e.name()),
                    (e.name().to_owned(), values),
                );
            }
        }
        let root = ".cramp.v1.CrampHistory";
        let history = messages
            .get(root)
            .ok_or_else(|| SchemaError::Missing(root.to_owned()))?;
        let mut columns = Vec::new();
        collect(history, "", &messages, &enums, &mut columns)?;
        let by_path = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.path.clone(), i))
            .collect();
        Ok(Self { columns, by_path })
    }

    /// Every column, in proto order.
    #[must_use]
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column for a header name, if it is an intake field.
    #[must_use]
    pub fn column(&self, path: &str) -> Option<&Column> {
        self.by_path.get(path).and_then(|&i| self.columns.get(i))
    }
}

fn collect(
    message: &DescriptorProto,
    prefix: &str,
    messages: &HashMap<String, &DescriptorProto>,
    enums: &HashMap<String, (String, Vec<String>)>,
    columns: &mut Vec<Column>,
) -> Result<(), SchemaError> {
    for field in &message.field {
        let path = format!("{prefix}{}", field.name());
        let repeated = field.label() == Label::Repeated;
        let kind = match field.r#type() {
            Type::Bool => Kind::Bool,
            Type::Uint32 => Kind::Unsigned,
            Type::Double | Type::Float => Kind::Double,
            Type::Enum => {
                let (name, values) = enums
                    .get(field.type_name())
                    .ok_or_else(|| SchemaError::Missing(field.type_name().to_owned()))?;
                Kind::Enum {
                    name: name.clone(),
                    values: values.clone(),
                }
            }
            Type::Message if path == MEDICATIONS => Kind::Medications,
            Type::Message if !repeated => {
                let nested = messages
                    .get(field.type_name())
                    .ok_or_else(|| SchemaError::Missing(field.type_name().to_owned()))?;
                collect(nested, &format!("{path}."), messages, enums, columns)?;
                continue;
            }
            // A repeated message other than medications has no flat form.
            Type::Message | Type::Group => continue,
            Type::String
            | Type::Bytes
            | Type::Int32
            | Type::Int64
            | Type::Uint64
            | Type::Sint32
            | Type::Sint64
            | Type::Fixed32
            | Type::Fixed64
            | Type::Sfixed32
            | Type::Sfixed64 => Kind::Verbatim,
        };
        columns.push(Column {
            path,
            repeated: repeated && kind != Kind::Medications,
            kind,
        });
    }
    Ok(())
}

/// A cell that cannot be read: the path it belongs to (below `history`) and why, never its
/// value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    /// `patient.age_years`, or `medications[1].weeks_since_started`.
    pub path: String,
    /// What the cell should have held.
    pub description: String,
}

/// Turns one non-empty cell into its proto3 JSON value.
///
/// # Errors
/// [`CellError`] naming the field and what it should hold.
pub fn cell_value(column: &Column, cell: &str) -> Result<Value, CellError> {
    let error = |path: String, description: String| CellError { path, description };
    if column.kind == Kind::Medications {
        return cell
            .split(LIST_SEPARATOR)
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(i, entry)| medication(entry, i))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if column.repeated {
        return cell
            .split(LIST_SEPARATOR)
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .enumerate()
            .map(|(i, item)| {
                scalar(&column.kind, item)
                    .map_err(|description| error(format!("{}[{i}]", column.path), description))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    scalar(&column.kind, cell.trim()).map_err(|description| error(column.path.clone(), description))
}

fn medication(entry: &str, index: usize) -> Result<Value, CellError> {
    let mut object = Map::new();
    let (name, weeks) = match entry.split_once(MEDICATION_SEPARATOR) {
        Some((name, weeks)) => (name.trim(), Some(weeks.trim())),
        None => (entry, None),
    };
    object.insert("name".into(), Value::String(name.to_owned()));
    if let Some(weeks) = weeks.filter(|w| !w.is_empty()) {
        let weeks = scalar(&Kind::Unsigned, weeks).map_err(|description| CellError {
            path: format!("{MEDICATIONS}[{index}].weeks_since_started"),
            description,
        })?;
        object.insert("weeks_since_started".into(), weeks);
    }
    Ok(Value::Object(object))
}

fn scalar(kind: &Kind, text: &str) -> Result<Value, String> {
    match kind {
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("must be true or false".to_owned()),
        },
        Kind::Unsigned => text
            .parse::<u32>()
            .map(Value::from)
            .map_err(|_| "must be a whole number from 0 to 4294967295".to_owned()),
        Kind::Double => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "must be a finite number".to_owned()),
        Kind::Enum { name, values } => {
            if values.iter().any(|v| v == text) {
                Ok(Value::String(text.to_owned()))
            } else {
                Err(format!(
                    "must be a {name} value name (`{}`)",
                    values.join("`, `")
                ))
            }
        }
        Kind::Verbatim | Kind::Medications => Ok(Value::String(text.to_owned())),
    }
}

/// Inserts `value` at the dotted `path` of a JSON object, creating the objects on the way.
pub fn insert(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut object = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            object.insert(part.to_owned(), value);
            return;
        }
        let entry = object
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        object = next;
    }
}

/// The cell text of `column` for a history in proto3 JSON form (`history`), the reverse of
/// [`cell_value`]; `None` when the field is absent or holds what a cell cannot express (a
/// medication's RxNorm or ATC code, `recently_stopped`).
#[must_use]
pub fn cell_text(column: &Column, history: &Value) -> Option<String> {
    let value = column
        .path
        .split('.')
        .try_fold(history, |value, part| value.get(part))?;
    if column.kind == Kind::Medications {
        let entries = value.as_array()?;
        let mut cells = Vec::with_capacity(entries.len());
        for entry in entries {
            let object = entry.as_object()?;
            if object
                .keys()
                .any(|k| k != "name" && k != "weeks_since_started")
            {
                return None;
            }
            // Proto3 JSON omits an empty name; an entry needs a name or its weeks to exist.
            let name = match object.get("name") {
                Some(name) => name.as_str()?,
                None => "",
            };
            cells.push(match object.get("weeks_since_started") {
                Some(weeks) => format!("{name}{MEDICATION_SEPARATOR}{}", plain(weeks)?),
                None if name.is_empty() => return None,
                None => name.to_owned(),
            });
        }
        return Some(cells.join(&LIST_SEPARATOR.to_string()));
    }
    if column.repeated {
        let items = value
            .as_array()?
            .iter()
            .map(plain)
            .collect::<Option<Vec<_>>>()?;
        return Some(items.join(&LIST_SEPARATOR.to_string()));
    }
    plain(value)
}

fn plain(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_intake_leaf_is_a_column_with_its_type() {
        let schema = IntakeSchema::load().unwrap();
        let kind = |path: &str| schema.column(path).unwrap().clone();
        assert_eq!(kind("patient.age_years").kind, Kind::Unsigned);
        assert_eq!(kind("cramps.episodes_per_week").kind, Kind::Double);
        assert_eq!(kind("symptoms.chest_pain").kind, Kind::Bool);
        assert!(kind("cramps.locations").repeated);
        assert!(matches!(kind("patient.sex").kind, Kind::Enum { .. }));
        assert_eq!(kind("medications").kind, Kind::Medications);
        assert_eq!(kind("findings.labs.ck_u_l").kind, Kind::Double);
        assert!(
            schema.column("patient").is_none(),
            "messages are not columns"
        );
        assert!(schema.column("record_id").is_none());
        assert!(schema.columns().len() > 100);
    }

    #[test]
    fn cells_become_proto3_json_and_back() {
        let schema = IntakeSchema::load().unwrap();
        let cases = [
            ("patient.age_years", "54", serde_json::json!(54)),
            ("patient.sex", "SEX_FEMALE", serde_json::json!("SEX_FEMALE")),
            ("symptoms.chest_pain", "TRUE", serde_json::json!(true)),
            ("cramps.episodes_per_week", "2.5", serde_json::json!(2.5)),
            (
                "cramps.locations",
                "LOCATION_CALF; LOCATION_FOOT",
                serde_json::json!(["LOCATION_CALF", "LOCATION_FOOT"]),
            ),
            (
                "medications",
                "hydrochlorothiazide 25 mg|3;atorvastatin",
                serde_json::json!([
                    {"name": "hydrochlorothiazide 25 mg", "weeks_since_started": 3},
                    {"name": "atorvastatin"}
                ]),
            ),
        ];
        for (path, cell, expected) in cases {
            let column = schema.column(path).unwrap();
            let value = cell_value(column, cell).unwrap();
            assert_eq!(value, expected, "{path}");
            let mut history = Map::new();
            insert(&mut history, path, value);
            let text = cell_text(column, &Value::Object(history)).unwrap();
            assert_eq!(
                cell_value(column, &text).unwrap(),
                expected,
                "{path} round trip"
            );
        }
    }

    #[test]
    fn bad_cells_name_their_field_but_not_their_value() {
        let schema = IntakeSchema::load().unwrap();
        let cases = [
            ("patient.age_years", "fifty", "patient.age_years"),
            ("patient.age_years", "-3", "patient.age_years"),
            ("symptoms.chest_pain", "yes", "symptoms.chest_pain"),
            (
                "cramps.episodes_per_week",
                "NaN",
                "cramps.episodes_per_week",
            ),
            ("patient.sex", "SEX_ROBOT", "patient.sex"),
            (
                "cramps.locations",
                "LOCATION_CALF;ELBOW",
                "cramps.locations[1]",
            ),
            (
                "medications",
                "a|1;b|soon",
                "medications[1].weeks_since_started",
            ),
        ];
        for (path, cell, named) in cases {
            let err = cell_value(schema.column(path).unwrap(), cell).unwrap_err();
            assert_eq!(err.path, named, "{path}={cell}");
            assert!(!err.description.contains(cell), "{}", err.description);
        }
    }
}
