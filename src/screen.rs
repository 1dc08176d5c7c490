//! The `screen` command: a whole file of histories in, one answer per record out, in order.
//!
//! Clinics and research teams screen completed questionnaires in bulk, from files. The promise
//! is that no record is ever lost: every input record (a bad line included) yields exactly one
//! output record, in input order; the output on disk is always a prefix of the full output, so
//! a crash or Ctrl-C leaves something `--resume` can continue. Without `--server` the records
//! are assessed here on every core ([`local`]); with it they stream to a server's
//! `AssessBatch` ([`remote`]). Both write through one [`output::Formatter`], so their outputs
//! are byte-identical.
//!
//! # Layout
//! - [`input`]: NDJSON/CSV records with their line numbers; bad lines become error answers.
//! - [`schema`]: CSV columns are intake field paths, typed from the proto descriptor.
//! - [`output`]: NDJSON/CSV answers; reading back an earlier run for `--resume`.
//! - [`summary`]: counts per urgency and flag, as text or JSON.
//! - [`synthetic`]: the seeded generator of the example files and of test and bench inputs.

pub mod input;
pub mod local;
pub mod output;
pub mod remote;
pub mod schema;
pub mod summary;
pub mod synthetic;

use std::{
    fs::{File, OpenOptions},
    io::{self, BufRead, BufReader, IsTerminal as _, Read, Seek as _, SeekFrom, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use self::{
    input::{InputError, InputFormat, Source},
    output::{Formatter, OutputFormat, ResumeError},
    summary::Summary,
};
use crate::pb;

/// Options of `screen`.
#[derive(Debug, Clone, Args)]
pub struct ScreenArgs {
    /// Records to screen, NDJSON or CSV; `-` reads standard input.
    #[arg(long, value_name = "FILE|-")]
    pub input: String,
    /// Where the answers go, one per record in input order; `-` writes standard output.
    #[arg(long, value_name = "FILE|-")]
    pub output: String,
    /// Output format [default: csv for a `.csv` output, else ndjson].
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Input format [default: csv for a `.csv` input, else ndjson].
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormat>,
    /// Stream the records to a running server's AssessBatch (`http://127.0.0.1:50051`)
    /// instead of assessing them here.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Keep the records already in the output file and continue after the last one.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// How much of each assessment NDJSON answers carry: `full`, or `basic` (every code and
    /// id without the human-readable texts; see `ASSESSMENT_VIEW_BASIC`). CSV rows hold codes
    /// only, so a CSV output always uses the cheaper basic view [default: full].
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// Also write the worklist (CSV): every record that needs action, most urgent first. Read
    /// back from the output file when the run completes (so it needs an NDJSON output file).
    #[arg(long, value_name = "FILE")]
    pub worklist: Option<PathBuf>,
    /// Also write the report (self-contained HTML: worklist, charts, the run's facts), read
    /// back from the output file like `--worklist`.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// The `--view` of `screen`: `cramp.v1.AssessmentView`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// Everything, texts included.
    Full,
    /// Codes and ids only.
    Basic,
}

/// Why `screen` stopped before answering every record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScreenError {
    /// The input cannot be opened or read, or its CSV header is wrong.
    #[error("cannot read `{path}`")]
    Open {
        /// The input path.
        path: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The input as a whole is unusable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The output cannot be written.
    #[error("cannot write `{path}`")]
    Output {
        /// The output path, or `-`.
        path: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// An answer could not be rendered (a bug).
    #[error("cannot format an answer")]
    Format(#[source] io::Error),
    /// The existing output cannot be continued.
    #[error("cannot resume `{path}`")]
    Resume {
        /// The output path.
        path: String,
        /// Why.
        #[source]
        source: ResumeError,
    },
    /// `--output` names the input itself (the same path, a symbolic or a hard link to it, or
    /// the file standard input reads): writing would destroy the records before they are read.
    #[error("the output `{output}` is the input `{input}`: not overwriting the records to screen")]
    OutputIsInput {
        /// The `--input` argument.
        input: String,
        /// The `--output` argument.
        output: String,
    },
    /// `--resume` was given without an output file.
    #[error("--resume needs an output file, not `-`")]
    ResumeNeedsFile,
    /// The existing output does not continue this input.
    #[error(
        "the output ends with record `{found}`, but record {records} of the input is `{expected}`: \
         it was written from another input; not resuming"
    )]
    ResumeMismatch {
        /// Records in the output.
        records: u64,
        /// The output's last record id.
        found: String,
        /// The input's record id at that position.
        expected: String,
    },
    /// The output already has more records than the input.
    #[error("the output already has {records} records, more than the input; not resuming")]
    ResumePastEnd {
        /// Records in the output.
        records: u64,
    },
    /// The server cannot be reached.
    #[error("cannot connect to `{url}`")]
    Connect {
        /// The `--server` URL.
        url: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
    /// The server ended the stream with a status other than its per-stream limits.
    #[error("the server failed the stream: {}: {}", output::code_name(.0.code() as i32), .0.message())]
    Remote(tonic::Status),
    /// The server broke the stream's contract.
    #[error("the server broke the AssessBatch contract: {0}")]
    Protocol(String),
    /// The summary file cannot be written.
    #[error("cannot write the summary to `{}`", .path.display())]
    Summary {
        /// The `--summary` path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The async runtime or the signal handler cannot start.
    #[error("cannot start the runtime")]
    Runtime(#[source] io::Error),
    /// The worklist or the report cannot be written.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// A bug: the pipeline broke its own invariant.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Counts over the whole output file.
    pub summary: Summary,
    /// Records written by this run.
    pub written: u64,
    /// Ctrl-C stopped the run early; the output is a valid prefix for `--resume`.
    pub interrupted: bool,
}

/// Exit status after Ctrl-C, as shells report a SIGINT death.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Exit status when the arguments cannot work (the output would overwrite the input), as for
/// other usage errors.
pub const EXIT_USAGE: u8 = 2;

/// Runs `screen` and reports on stderr: the entry point of the binary.
///
/// Exit status: 0 when every record was answered (answers that are errors included), 1 when
/// the run failed (the output is then a valid prefix), 2 when the output would overwrite the
/// input (nothing is touched), 130 after Ctrl-C.
#[must_use]
pub fn main(args: &ScreenArgs) -> ExitCode {
    match run(args) {
        Ok(outcome) if outcome.interrupted => ExitCode::from(EXIT_INTERRUPTED),
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            let code = if matches!(err, ScreenError::OutputIsInput { .. }) {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::FAILURE
            };
            let mut stderr = io::stderr().lock();
            let mut text = format!("error: {err}");
            let mut cause = std::error::Error::source(&err);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            let _ = writeln!(stderr, "{text}");
            code
        }
    }
}

/// Screens `args.input` into `args.output`; see the module docs.
///
/// # Errors
/// [`ScreenError`] when the run cannot answer every record; the output is then a prefix of
/// the full output, which `--resume` continues.
pub fn run(args: &ScreenArgs) -> Result<Outcome, ScreenError> {
    let started = Instant::now();
    let input_format = args.input_format.unwrap_or_else(|| {
        if has_extension(&args.input, "csv") {
            InputFormat::Csv
        } else {
            InputFormat::Ndjson
        }
    });
    let output_format = args.format.unwrap_or_else(|| {
        if has_extension(&args.output, "csv") {
            OutputFormat::Csv
        } else {
            OutputFormat::Ndjson
        }
    });
    let output_error = |source| ScreenError::Output {
        path: args.output.clone(),
        source,
    };
    let reporting = args.worklist.is_some() || args.report.is_some();
    if reporting {
        crate::report::check_output(&args.output, output_format == OutputFormat::Ndjson)?;
    }

    // The input first: a bad CSV header stops the run before the output is touched.
    let reader: Box<dyn BufRead + Send> = if args.input == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let file = File::open(&args.input).map_err(|source| ScreenError::Open {
            path: args.input.clone(),
            source,
        })?;
        Box::new(BufReader::with_capacity(1 << 18, file))
    };
    let (mut source, parser) = Source::open(input_format, reader)?;

    refuse_output_over_input(args)?;
    let (existing, mut file) = open_output(args, output_format)?;
    skip_done(&mut source, &parser, &existing)?;
    if !existing.has_header {
        let header = Formatter::new(output_format)
            .header()
            .map_err(ScreenError::Format)?;
        file.write_all(&header).map_err(output_error)?;
    }

    let progress = progress_bar(args, input_format, existing.records);
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if args.server.is_some() { 2 } else { 1 })
        .enable_all()
        .build()
        .map_err(ScreenError::Runtime)?;
    let signal_stop = Arc::clone(&stop);
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            signal_stop.store(true, Ordering::Relaxed);
        }
    });

    let mut sink = Sink {
        file,
        path: args.output.clone(),
        pending: Vec::with_capacity(FLUSH_BYTES),
        last_flush: Instant::now(),
        summary: existing.summary,
        written: 0,
        progress,
    };
    // CSV rows show codes only: the texts would be built, sent and parsed for nothing.
    let view = match (output_format, args.view) {
        (OutputFormat::Csv, _) | (OutputFormat::Ndjson, Some(View::Basic)) => {
            pb::AssessmentView::Basic
        }
        (OutputFormat::Ndjson, Some(View::Full) | None) => pb::AssessmentView::Unspecified,
    };
    let result = match &args.server {
        None => local::run(source, &parser, output_format, view, &mut sink, &stop),
        Some(url) => runtime.block_on(remote::run(
            url,
            source,
            parser,
            output_format,
            view,
            &mut sink,
            Arc::clone(&stop),
        )),
    };
    // Whatever happened, what was answered goes out: the output stays a valid prefix.
    let flushed = sink.flush();
    sink.progress.finish_and_clear();
    runtime.shutdown_background();
    result?;
    flushed?;

    let outcome = Outcome {
        summary: sink.summary,
        written: sink.written,
        interrupted: stop.load(Ordering::Relaxed),
    };
    if let Some(path) = &args.summary {
        write_summary(path, &outcome.summary)?;
    }
    // From the whole output file, so a resumed run reports what an uninterrupted one would; not
    // after Ctrl-C, when it would look complete and is not.
    if reporting && !outcome.interrupted {
        let facts = crate::report::RunFacts {
            inputs: vec![args.input.clone()],
            inputs_are: "input",
            took: Some(started.elapsed()),
            resumed: Some(outcome.summary.records().saturating_sub(outcome.written)),
        };
        crate::report::write(
            &[PathBuf::from(&args.output)],
            args.worklist.as_deref(),
            args.report.as_deref(),
            &facts,
        )?;
    }
    if !args.quiet {
        let mut stderr = io::stderr().lock();
        let _ = outcome
            .summary
            .write_text(&mut stderr, outcome.written, started.elapsed());
        if outcome.interrupted {
            let _ = writeln!(
                stderr,
                "interrupted: the output holds every record up to the last one written; rerun \
                 with --resume to continue"
            );
        }
    }
    Ok(outcome)
}

fn has_extension(path: &str, extension: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// Refuses an output that is the input: creating (or, with `--resume`, cutting back) the output
/// would empty the input before it is read. The same file is found by device and inode
/// (`same-file`), which sees through symbolic and hard links, and through `-` on either side
/// (a shell redirection of standard input or output to the other file).
fn refuse_output_over_input(args: &ScreenArgs) -> Result<(), ScreenError> {
    // Regular files only: a terminal is both standard input and output of an interactive run.
    let handle = |path: &str, standard: fn() -> io::Result<same_file::Handle>| {
        if path == "-" {
            standard().ok()
        } else {
            same_file::Handle::from_path(path).ok()
        }
        .filter(|h| h.as_file().metadata().is_ok_and(|m| m.is_file()))
    };
    // A missing output cannot be the input; an unreadable one fails when it is opened.
    let input = handle(&args.input, same_file::Handle::stdin);
    let output = handle(&args.output, same_file::Handle::stdout);
    let same_path = args.input != "-"
        && args.output != "-"
        && std::fs::canonicalize(&args.input)
            .ok()
            .is_some_and(|input| std::fs::canonicalize(&args.output).ok() == Some(input));
    let same_file = matches!((input, output), (Some(input), Some(output)) if input == output);
    if same_path || same_file {
        return Err(ScreenError::OutputIsInput {
            input: args.input.clone(),
            output: args.output.clone(),
        });
    }
    Ok(())
}

/// Opens the output: a fresh file, standard output, or (with `--resume`) the existing file cut
/// back to its last complete record.
fn open_output(
    args: &ScreenArgs,
    format: OutputFormat,
) -> Result<(output::Existing, Box<dyn Write + Send>), ScreenError> {
    let output_error = |source| ScreenError::Output {
        path: args.output.clone(),
        source,
    };
    if args.output == "-" {
        if args.resume {
            return Err(ScreenError::ResumeNeedsFile);
        }
        return Ok((output::Existing::default(), Box::new(io::stdout())));
    }
    if !args.resume {
        let file = File::create(&args.output).map_err(output_error)?;
        return Ok((output::Existing::default(), Box::new(file)));
    }
    let existing =
        output::scan(Path::new(&args.output), format).map_err(|source| ScreenError::Resume {
            path: args.output.clone(),
            source,
        })?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&args.output)
        .map_err(output_error)?;
    file.set_len(existing.keep_bytes).map_err(output_error)?;
    file.seek(SeekFrom::End(0)).map_err(output_error)?;
    Ok((existing, Box::new(file)))
}

/// Skips the records an earlier run already answered, checking that the last of them is the
/// one the output ends with.
fn skip_done(
    source: &mut Source,
    parser: &input::Parser,
    existing: &output::Existing,
) -> Result<(), ScreenError> {
    let Some(last_id) = &existing.last_record_id else {
        return Ok(());
    };
    let mut last = None;
    for _ in 0..existing.records {
        last = Some(source.next().ok_or(ScreenError::ResumePastEnd {
            records: existing.records,
        })??);
    }
    let id = match last.map(|record| parser.parse(record)) {
        Some(Ok(request)) => request.record_id,
        Some(Err(answer)) => answer.record_id,
        None => String::new(),
    };
    if &id == last_id {
        Ok(())
    } else {
        Err(ScreenError::ResumeMismatch {
            records: existing.records,
            found: last_id.clone(),
            expected: id,
        })
    }
}

fn write_summary(path: &Path, summary: &Summary) -> Result<(), ScreenError> {
    let error = |source| ScreenError::Summary {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_vec_pretty(&summary.to_json())
        .map_err(io::Error::from)
        .map_err(error)?;
    text.push(b'\n');
    std::fs::write(path, text).map_err(error)
}

/// A progress bar on a terminal (records/s and ETA), hidden otherwise or with `--quiet`.
fn progress_bar(args: &ScreenArgs, format: InputFormat, done: u64) -> ProgressBar {
    if args.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total = (args.input != "-")
        .then(|| count_records(Path::new(&args.input), format).ok())
        .flatten()
        .map(|total| total.saturating_sub(done));
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
            "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} records, {per_sec}, ETA {eta}",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{elapsed_precise} {spinner} {human_pos} records, {per_sec}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Records in a file, for the progress bar's total: non-blank lines, less the CSV header.
fn count_records(path: &Path, format: InputFormat) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0; 1 << 16];
    let (mut lines, mut blank, mut at_line_start) = (0u64, true, true);
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        for &byte in buffer.get(..read).unwrap_or_default() {
            if byte == b'\n' {
                if !blank {
                    lines += 1;
                }
                blank = true;
                at_line_start = true;
            } else {
                at_line_start = false;
                if !byte.is_ascii_whitespace() {
                    blank = false;
                }
            }
        }
    }
    if !blank && !at_line_start {
        lines += 1;
    }
    Ok(match format {
        InputFormat::Ndjson => lines,
        InputFormat::Csv => lines.saturating_sub(1),
    })
}

/// Bytes gathered before they are written out.
const FLUSH_BYTES: usize = 1 << 18;
/// The longest finished output waits in memory, so a slow run's file keeps up with it.
const FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// The output file: whole records in input order, written in batches at record boundaries.
pub struct Sink {
    file: Box<dyn Write + Send>,
    path: String,
    pending: Vec<u8>,
    last_flush: Instant,
    summary: Summary,
    written: u64,
    progress: ProgressBar,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Sink {
    /// Appends a chunk of whole records (in-process mode).
    fn write_chunk(
        &mut self,
        bytes: &[u8],
        records: u64,
        summary: &Summary,
    ) -> Result<(), ScreenError> {
        self.summary.merge(summary);
        self.written += records;
        self.progress.inc(records);
        if self.pending.is_empty() && bytes.len() >= FLUSH_BYTES {
            // A whole chunk is already a flush's worth: write it as it is, without a copy.
            return self.write_through(bytes);
        }
        self.pending.extend_from_slice(bytes);
        self.flush_if_due()
    }

    fn write_through(&mut self, bytes: &[u8]) -> Result<(), ScreenError> {
        let error = |source| ScreenError::Output {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(bytes).map_err(error)?;
        self.file.flush().map_err(error)?;
        self.last_flush = Instant::now();
        Ok(())
    }

    /// Appends one record (remote mode).
    fn write_answer(
        &mut self,
        bytes: &[u8],
        answer: &pb::AssessBatchResponse,
    ) -> Result<(), ScreenError> {
        self.pending.extend_from_slice(bytes);
        self.summary.add(answer);
        self.written += 1;
        self.progress.inc(1);
        self.flush_if_due()
    }

    fn flush_if_due(&mut self) -> Result<(), ScreenError> {
        if self.pending.len() >= FLUSH_BYTES || self.last_flush.elapsed() >= FLUSH_INTERVAL {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ScreenError> {
        let error = |source| ScreenError::Output {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&self.pending).map_err(error)?;
        self.file.flush().map_err(error)?;
        self.pending.clear();
        self.last_flush = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_skips_blank_lines_and_the_csv_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in");
        std::fs::write(&path, "a\n\n  \nb\nc").unwrap();
        assert_eq!(count_records(&path, InputFormat::Ndjson).unwrap(), 3);
        assert_eq!(count_records(&path, InputFormat::Csv).unwrap(), 2);
    }

    #[test]
    fn formats_follow_the_extension() {
        assert!(has_extension("x/y.CSV", "csv"));
        assert!(!has_extension("x/y.ndjson", "csv"));
        assert!(!has_extension("-", "csv"));
    }
}
