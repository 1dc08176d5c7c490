//! The command line: `serve` (the default), `assess` and `kb`.
//!
//! The commands other than `serve` are offline doors to the same code the server runs: `assess`
//! reads one `AssessRequest` in proto3 JSON and answers with the `AssessResponse` the gRPC API
//! would return, so a form or a pipeline can be checked without a server. Runners take their
//! reader and writers as arguments so tests can drive them without a process.

use std::{
    fs,
    io::{self, Read, Write},
    net::SocketAddr,
    path::PathBuf,
};

use std::collections::{HashMap, HashSet};

use clap::{Args, Parser, Subcommand};
use cramp_core::{FieldViolation, KnowledgeBase};
use prost::Message as _;
use prost_types::{
    DescriptorProto, FileDescriptorSet,
    field_descriptor_proto::{Label, Type},
};
use serde_json::Value;

use crate::{
    assess::{AssessError, Assessor, Call},
    audit::Door,
    pb,
};

/// Clinical decision support for leg and foot muscle cramps.
#[derive(Debug, Parser)]
#[command(
    name = "cramp-cds",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve` options, accepted without the subcommand name because `serve` is the default.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gRPC API, health, reflection and gRPC-Web, and the HTTP door (the default).
    Serve(ServeArgs),
    /// Assess one AssessRequest (proto3 JSON) and print the AssessResponse as proto3 JSON.
    ///
    /// Exit status: 0 assessed, 1 unreadable or not an AssessRequest, 2 invalid fields (listed on
    /// stderr, one `field: description` per line).
    Assess(AssessArgs),
    /// Print the knowledge base: version, rules, citations.
    Kb(KbArgs),
    /// Screen a file of histories (NDJSON or CSV): one answer per record, in input order.
    ///
    /// Exit status: 0 every record answered (error answers included), 1 the run failed (the
    /// output is a valid prefix; --resume continues it), 130 interrupted by Ctrl-C.
    Screen(crate::screen::ScreenArgs),
    /// Merge `screen` outputs (shards in index order) into one worklist (CSV) and one report
    /// (self-contained HTML).
    Report(crate::report::ReportArgs),
}

/// Options of `serve`.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// gRPC listen address; overrides `server.grpc_addr` from the config file and environment.
    #[arg(long, value_name = "ADDR")]
    pub grpc_addr: Option<SocketAddr>,
    /// HTTP listen address (CDS Hooks, FHIR, /about); overrides `server.http_addr`.
    #[arg(long, value_name = "ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// TOML settings file layered over the built-in defaults (`config/default.toml`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Options of `assess`.
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The request file; `-` reads standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub input: String,
}

/// Options of `kb`.
#[derive(Debug, Args)]
pub struct KbArgs {
    /// Print the GetKnowledgeBaseResponse as proto3 JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// List the medication lexicon instead of the rules: each ingredient with its class,
    /// evidence strength, spellings, brands and combinations, ATC and RxNorm codes and sources.
    #[arg(long, conflicts_with = "json")]
    pub medications: bool,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The input could not be read.
    #[error("cannot read `{input}`")]
    Read {
        /// The file name, or `-` for standard input.
        input: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The input is not an `AssessRequest` in proto3 JSON.
    #[error("`{input}` is not an AssessRequest in proto3 JSON")]
    Parse {
        /// The file name, or `-` for standard input.
        input: String,
        /// Where parsing stopped.
        #[source]
        source: serde_json::Error,
    },
    /// The request was read but has invalid fields; nothing was assessed.
    #[error(transparent)]
    Invalid(AssessError),
    /// The answer could not be written.
    #[error("cannot write the output")]
    Write(#[from] io::Error),
}

impl CliError {
    /// The process exit status: 2 for invalid fields, 1 for everything else.
    #[must_use]
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) => 2,
            Self::Read { .. } | Self::Parse { .. } | Self::Write(_) => 1,
        }
    }

    /// Writes the failure for a person: one `field: description` line per invalid field, or the
    /// error and its causes.
    ///
    /// # Errors
    /// When `out` cannot be written.
    pub fn report(&self, out: &mut impl Write) -> io::Result<()> {
        if let Self::Invalid(err) = self {
            for violation in err.violations() {
                writeln!(out, "{}: {}", violation.field, violation.description)?;
            }
            return Ok(());
        }
        write!(out, "error: {self}")?;
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            write!(out, ": {err}")?;
            cause = err.source();
        }
        writeln!(out)
    }
}

/// Runs `assess`: reads the request from `args.input` (or `stdin` for `-`), writes the response
/// as pretty proto3 JSON to `stdout`.
///
/// # Errors
/// [`CliError`]; [`CliError::exit_code`] gives the status to exit with.
pub fn assess(
    args: &AssessArgs,
    stdin: impl Read,
    stdout: &mut impl Write,
) -> Result<(), CliError> {
    let input = &args.input;
    let text = read_input(input, stdin).map_err(|source| CliError::Read {
        input: input.clone(),
        source,
    })?;
    let parse_error = |source| CliError::Parse {
        input: input.clone(),
        source,
    };
    // A byte-order mark, as Windows editors write, is not part of the JSON (RFC 8259 §8.1 lets
    // a parser ignore it; CSV input already does).
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut value: Value = serde_json::from_str(text).map_err(parse_error)?;
    // The generated parser refuses an unknown enum value without naming its field; found first,
    // it is a field violation as on the gRPC door, where it arrives as a number.
    let unknown = unknown_enum_values(&mut value);
    let request: pb::AssessRequest = serde_json::from_value(value).map_err(parse_error)?;
    let outcome = Assessor::local(KnowledgeBase::standard())
        .assess(
            &Call::local(Door::Cli),
            request,
            pb::AssessmentView::Unspecified.into(),
        )
        .map(crate::assess::Assessed::into_response);
    let response = match (outcome, unknown.is_empty()) {
        (Ok(response), true) => response,
        (outcome, _) => {
            // As gRPC: the unknown values first, then the rest of what the core rejects (an
            // unknown value read as absent), never a second violation at the same place.
            let named: HashSet<String> = unknown.iter().map(|v| v.field.clone()).collect();
            let mut violations = unknown;
            if let Err(err) = outcome {
                violations.extend(
                    err.violations()
                        .iter()
                        .filter(|v| !named.contains(&v.field))
                        .cloned(),
                );
            }
            return Err(CliError::Invalid(AssessError::InvalidRequest(violations)));
        }
    };
    serde_json::to_writer_pretty(&mut *stdout, &response).map_err(io::Error::from)?;
    writeln!(stdout)?;
    Ok(())
}

/// Enum fields of the `cramp.v1` messages, from the embedded descriptor set.
struct EnumFields {
    messages: HashMap<String, DescriptorProto>,
    /// Enum type → its value names and numbers.
    enums: HashMap<String, (HashSet<String>, HashSet<i64>)>,
}

impl EnumFields {
    fn load() -> Option<Self> {
        let fds = FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET).ok()?;
        let mut messages = HashMap::new();
        let mut enums = HashMap::new();
        for file in fds.file {
            let package = file.package().to_owned();
            for message in file.message_type {
                messages.insert(format!(".{package}.{}", message.name()), message);
            }
            for e in file.enum_type {
                let names = e.value.iter().map(|v| v.name().to_owned()).collect();
                let numbers = e.value.iter().map(|v| i64::from(v.number())).collect();
                enums.insert(format!(".{package}.{}", e.name()), (names, numbers));
            }
        }
        Some(Self { messages, enums })
    }

    /// Walks `value` as a `message`, replacing each unknown enum value by 0 (absent) and naming
    /// its field path (`history.cramps.locations[1]`).
    fn walk(&self, message: &str, value: &mut Value, path: &str, out: &mut Vec<FieldViolation>) {
        let (Some(descriptor), Value::Object(object)) = (self.messages.get(message), value) else {
            return;
        };
        // In proto field order, as the gRPC door reports them; unknown keys are the parser's.
        for field in &descriptor.field {
            let key = if object.contains_key(field.name()) {
                field.name()
            } else {
                field.json_name()
            };
            if let Some(field_value) = object.get_mut(key) {
                self.field(field, field_value, path, out);
            }
        }
    }

    /// One field's value (each entry of a repeated field), named by its path.
    fn field(
        &self,
        field: &prost_types::FieldDescriptorProto,
        field_value: &mut Value,
        path: &str,
        out: &mut Vec<FieldViolation>,
    ) {
        let field_path = if path.is_empty() {
            field.name().to_owned()
        } else {
            format!("{path}.{}", field.name())
        };
        let repeated = field.label() == Label::Repeated;
        let mut one = |item: &mut Value, item_path: String| {
            if field.r#type() == Type::Message {
                self.walk(field.type_name(), item, &item_path, out);
                return;
            }
            let Some((names, numbers)) = (field.r#type() == Type::Enum)
                .then(|| self.enums.get(field.type_name()))
                .flatten()
            else {
                return;
            };
            let known = if let Value::Number(n) = &*item {
                n.as_i64().is_none_or(|n| numbers.contains(&n))
            } else if let Value::String(name) = &*item {
                names.contains(name)
            } else {
                true // not an enum value at all: the parser says so
            };
            if !known {
                *item = Value::from(0);
                out.push(FieldViolation::new(
                    item_path,
                    "is not a known value of its enum",
                ));
            }
        };
        if let (Value::Array(items), true) = (&mut *field_value, repeated) {
            for (i, item) in items.iter_mut().enumerate() {
                one(item, format!("{field_path}[{i}]"));
            }
        } else {
            one(field_value, field_path);
        }
    }
}

/// The unknown enum values of a proto3 JSON `AssessRequest`, each replaced by 0 so the rest can
/// be parsed and checked.
fn unknown_enum_values(request: &mut Value) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    if let Some(fields) = EnumFields::load() {
        fields.walk(".cramp.v1.AssessRequest", request, "", &mut out);
    }
    out
}

/// Runs `kb`: the knowledge base as text, or as proto3 JSON with `--json`.
///
/// # Errors
/// [`CliError::Write`] when `stdout` cannot be written.
pub fn kb(args: &KbArgs, stdout: &mut impl Write) -> Result<(), CliError> {
    let kb = KnowledgeBase::standard();
    if args.medications {
        write_medication_lexicon(&kb, stdout)?;
    } else if args.json {
        serde_json::to_writer_pretty(&mut *stdout, &crate::assess::knowledge_base(&kb))
            .map_err(io::Error::from)?;
        writeln!(stdout)?;
    } else {
        write_kb_text(&kb, stdout)?;
    }
    Ok(())
}

/// The lexicon for a reviewer: one block per ingredient (culprit classes first, then negative
/// controls, then drugs listed only so that they are never flagged), then the sources.
fn write_medication_lexicon(kb: &KnowledgeBase, out: &mut impl Write) -> io::Result<()> {
    let lexicon = kb.medication_lexicon();
    writeln!(
        out,
        "cramp-cds medication lexicon {} (knowledge base {}): {} ingredients, {} brands and combinations, {} sources",
        lexicon.version(),
        kb.version(),
        lexicon.ingredients().len(),
        lexicon.products().len(),
        lexicon.sources().len()
    )?;
    for ingredient in lexicon.ingredients() {
        writeln!(out)?;
        let strength = ingredient
            .evidence_strength()
            .map_or_else(String::new, |s| format!("  evidence: {}", s.name()));
        writeln!(
            out,
            "{}  {}{strength}",
            ingredient.name,
            ingredient.role.name()
        )?;
        if !ingredient.spellings.is_empty() {
            writeln!(out, "  also: {}", ingredient.spellings.join(", "))?;
        }
        let products: Vec<String> = lexicon
            .products_containing(ingredient.name)
            .map(|p| {
                let with: Vec<&str> = p
                    .ingredients
                    .iter()
                    .copied()
                    .filter(|i| *i != ingredient.name)
                    .collect();
                if with.is_empty() {
                    p.name.to_owned()
                } else {
                    format!("{} (with {})", p.name, with.join(" + "))
                }
            })
            .collect();
        if !products.is_empty() {
            writeln!(out, "  brands and combinations: {}", products.join("; "))?;
        }
        if let Some(atc) = ingredient.atc {
            writeln!(out, "  ATC: {atc}")?;
        }
        if let Some(rxnorm) = ingredient.rxnorm {
            writeln!(out, "  RxNorm: {rxnorm}")?;
        }
        writeln!(out, "  sources: {}", ingredient.sources.join(", "))?;
    }
    writeln!(out)?;
    writeln!(out, "brand and combination sources:")?;
    for product in lexicon.products() {
        writeln!(
            out,
            "  {} = {}: {}",
            product.name,
            product.ingredients.join(" + "),
            product.sources.join(", ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "sources:")?;
    for source in lexicon.sources() {
        writeln!(out, "  {}  {}", source.key, source.citation)?;
    }
    Ok(())
}

fn read_input(input: &str, mut stdin: impl Read) -> io::Result<String> {
    if input == "-" {
        let mut text = String::new();
        stdin.read_to_string(&mut text)?;
        Ok(text)
    } else {
        fs::read_to_string(input)
    }
}

fn write_kb_text(kb: &KnowledgeBase, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "cramp-cds knowledge base {}: {} rules, {} sources; medication lexicon {} (kb --medications)",
        kb.version(),
        kb.rules().len(),
        kb.sources().len(),
        kb.medication_lexicon_version()
    )?;
    for rule in kb.rules() {
        writeln!(out)?;
        writeln!(out, "{} {}  {}", rule.id, rule.version, rule.title)?;
        writeln!(
            out,
            "  flag: {}  max urgency: {}",
            rule.flag.name(),
            rule.max_urgency.name()
        )?;
        writeln!(out, "  why: {}", rule.rationale)?;
        writeln!(out, "  reads: {}", rule.inputs.join(", "))?;
        let keys: Vec<&str> = rule.citations.iter().map(|c| c.key).collect();
        writeln!(out, "  cites: {}", keys.join(", "))?;
        if !rule.codings.is_empty() {
            let codes: Vec<String> = rule
                .codings
                .iter()
                .map(|c| format!("{} {} ({})", c.system, c.code, c.display))
                .collect();
            writeln!(out, "  codes: {}", codes.join("; "))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "sources:")?;
    for source in kb.sources() {
        write!(out, "  {}  {}", source.key, source.title)?;
        if !source.source.is_empty() {
            write!(out, ". {}", source.source)?;
        }
        if !source.url.is_empty() {
            write!(out, ". {}", source.url)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_assess(json: &str) -> (Result<(), CliError>, String) {
        let mut out = Vec::new();
        let result = assess(&AssessArgs { input: "-".into() }, json.as_bytes(), &mut out);
        (result, String::from_utf8(out).unwrap())
    }

    #[test]
    fn assess_answers_in_proto3_json_with_snake_case_names() {
        let (result, out) =
            run_assess(r#"{"requestId": "c-1", "history": {"patient": {"ageYears": 50}}}"#);
        result.unwrap();
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["request_id"], "c-1");
        assert!(value["assessment"]["knowledge_base_version"].is_string());
        assert!(
            value["assessment"]["urgency"]
                .as_str()
                .unwrap()
                .starts_with("URGENCY_")
        );
    }

    #[test]
    fn a_byte_order_mark_before_the_json_is_skipped() {
        let (result, out) = run_assess(
            "\u{feff}{\"requestId\": \"bom\", \"history\": {\"patient\": {\"ageYears\": 50}}}",
        );
        result.unwrap();
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["request_id"], "bom");
    }

    #[test]
    fn invalid_fields_exit_2_and_are_listed_one_per_line() {
        let (result, out) = run_assess(
            r#"{"history": {"patient": {"age_years": 0, "sex": "SEX_MALE", "pregnant": true}}}"#,
        );
        assert!(out.is_empty());
        let err = result.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let mut report = Vec::new();
        err.report(&mut report).unwrap();
        let report = String::from_utf8(report).unwrap();
        let fields: Vec<&str> = report
            .lines()
            .filter_map(|l| l.split(": ").next())
            .collect();
        assert_eq!(
            fields,
            ["history.patient.age_years", "history.patient.pregnant"]
        );
    }

    #[test]
    fn unparseable_input_exits_1() {
        for bad in [
            "{",
            r#"{"history": {"patient": {"age_yearz": 3}}}"#,
            r#"{"history": {"patient": {"sex": true}}}"#,
            r#"{"history": {"cramps": {"severity": "SEX_MALE"}}}"#,
        ] {
            let (result, _) = run_assess(bad);
            let err = result.unwrap_err();
            assert_eq!(err.exit_code(), 1, "{bad}");
            assert!(matches!(err, CliError::Parse { .. }));
        }
    }

    #[test]
    fn unknown_enum_values_exit_2_naming_the_field_like_grpc() {
        for (bad, field) in [
            (
                r#"{"history": {"patient": {"age_years": 40, "sex": "SEX_ROBOT"}}}"#,
                "history.patient.sex",
            ),
            (
                r#"{"history": {"patient": {"ageYears": 40}, "cramps": {"locations": [1, 2, 40]}}}"#,
                "history.cramps.locations[2]",
            ),
            (
                r#"{"history": {"patient": {"age_years": 40}, "findings": {"footPulses": -3}}}"#,
                "history.findings.foot_pulses",
            ),
        ] {
            let (result, out) = run_assess(bad);
            assert!(out.is_empty());
            let err = result.unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            let mut report = Vec::new();
            err.report(&mut report).unwrap();
            let report = String::from_utf8(report).unwrap();
            assert_eq!(
                report,
                format!("{field}: is not a known value of its enum\n")
            );
        }
    }

    #[test]
    fn an_unreadable_file_exits_1_naming_it() {
        let mut out = Vec::new();
        let err = assess(
            &AssessArgs {
                input: "/nonexistent/req.json".into(),
            },
            io::empty(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 1);
        let mut report = Vec::new();
        err.report(&mut report).unwrap();
        assert!(
            String::from_utf8(report)
                .unwrap()
                .contains("/nonexistent/req.json")
        );
    }

    #[test]
    fn kb_medications_lists_every_ingredient_brand_and_source() {
        let lexicon = KnowledgeBase::standard().medication_lexicon();
        let mut out = Vec::new();
        kb(
            &KbArgs {
                json: false,
                medications: true,
            },
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!(
            "cramp-cds medication lexicon {}",
            lexicon.version()
        )));
        for i in lexicon.ingredients() {
            assert!(
                text.contains(&format!("\n{}  {}", i.name, i.role.name())),
                "{}",
                i.name
            );
        }
        for p in lexicon.products() {
            assert!(text.contains(p.name), "{}", p.name);
        }
        for s in lexicon.sources() {
            assert!(text.contains(s.key), "{}", s.key);
        }
        assert!(text.contains(
            "hydrochlorothiazide  DRUG_CLASS_THIAZIDE_DIURETIC  evidence: EVIDENCE_STRENGTH_STRONG"
        ));
        assert!(text.contains("Hyzaar (with losartan)"));
        assert!(text.contains("tiotropium  NEGATIVE_CONTROL"));
    }

    #[test]
    fn kb_text_lists_every_rule_and_json_parses_back() {
        let standard = KnowledgeBase::standard();
        let mut text = Vec::new();
        kb(
            &KbArgs {
                json: false,
                medications: false,
            },
            &mut text,
        )
        .unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with(&format!("cramp-cds knowledge base {}", standard.version())));
        for rule in standard.rules() {
            assert!(text.contains(rule.id), "{} missing", rule.id);
        }

        let mut json = Vec::new();
        kb(
            &KbArgs {
                json: true,
                medications: false,
            },
            &mut json,
        )
        .unwrap();
        let parsed: pb::GetKnowledgeBaseResponse = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed, crate::assess::knowledge_base(&standard));
    }
}
