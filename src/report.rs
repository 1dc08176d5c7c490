//! The worklist and the report of a `screen` run: whom to call today, and what the whole
//! population looks like.
//!
//! A clinic that screens thousands of questionnaires does not read NDJSON. The worklist (CSV, and
//! the same rows in the report) lists every record that needs action, most urgent first; the
//! report is one self-contained HTML file with the worklist, charts and the run's facts.
//!
//! Both are built from `screen`'s NDJSON output files and from nothing else, so a resumed run,
//! an uninterrupted one and the shards of an Indexed Job merged in shard order all give the same
//! worklist and the same report (only the run's facts, its files and time taken, differ).
//!
//! **Architecture Invariant:** the reader keeps codes, record ids and fixed knowledge-base text
//! only; evidence values and medication names in the output file are never read into memory,
//! so neither the worklist nor the report can carry a patient's answers.
//!
//! # Layout
//! - [`read`]: output files in, counts and worklist rows out.
//! - [`titles`]: clinician-facing titles of the contract's codes (never `FLAG_*` names).
//! - [`worklist`]: who is on the worklist, in which order, and its CSV.
//! - [`charts`]: SVG bar charts (plotters) with their text alternatives.
//! - [`html`]: the templates (minijinja) the report and `GET /about` share.

pub mod charts;
pub mod html;
pub mod read;
pub mod titles;
pub mod worklist;

use std::{
    fs,
    io::{self, Write as _},
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use clap::Args;

pub use self::read::{Contents, Reader};

/// Options of `report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// `screen` NDJSON outputs, merged in shard order: files named with a number (`shard-3`) are
    /// ordered by it, whatever order the shell's glob gave them in.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    pub from: Vec<PathBuf>,
    /// Write the worklist here (CSV).
    #[arg(long, value_name = "FILE")]
    pub worklist: Option<PathBuf>,
    /// Write the report here (self-contained HTML).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Why no worklist or report was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// An output file cannot be read.
    #[error("cannot read `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A line is not a record `screen` writes (or names a code this version does not know).
    #[error("line {line} of `{}` is not a `screen` record: {problem}", .path.display())]
    Foreign {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// What is wrong, without the line's content.
        problem: String,
    },
    /// A worklist or report file cannot be written.
    #[error("cannot write `{}`", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A chart cannot be drawn (a bug).
    #[error("cannot draw the chart `{0}`")]
    Chart(String),
    /// A template cannot be rendered (a bug).
    #[error("cannot render the report")]
    Template(#[from] minijinja::Error),
    /// Nothing was asked for.
    #[error("nothing to write: give --worklist FILE, --report FILE or both")]
    NothingToWrite,
    /// The worklist and the report need a file of NDJSON records to read back.
    #[error(
        "--worklist and --report read the output back: they need an NDJSON output file, not {0}"
    )]
    NeedsNdjsonFile(&'static str),
}

/// What the report says about the run itself: the only part of it that differs between a
/// sharded run and an unsharded one, or a resumed run and an uninterrupted one.
#[derive(Clone, Debug, Default)]
pub struct RunFacts {
    /// The input file(s) screened, or the outputs merged.
    pub inputs: Vec<String>,
    /// What `inputs` are: "input" for `screen`, "merged outputs" for `report`.
    pub inputs_are: &'static str,
    /// Time taken by the screening run, when the report is written by it.
    pub took: Option<Duration>,
    /// Records an earlier run had already written (`--resume`).
    pub resumed: Option<u64>,
}

/// Refuses, before a `screen` run starts, an output the worklist and report cannot be read
/// back from.
///
/// # Errors
/// [`ReportError::NeedsNdjsonFile`] for standard output or a CSV output.
pub fn check_output(output: &str, ndjson: bool) -> Result<(), ReportError> {
    if output == "-" {
        Err(ReportError::NeedsNdjsonFile("standard output"))
    } else if !ndjson {
        Err(ReportError::NeedsNdjsonFile("CSV"))
    } else {
        Ok(())
    }
}

/// Reads `paths` in order and writes the worklist and/or the report.
///
/// # Errors
/// [`ReportError`] naming the file that cannot be read or written.
pub fn write(
    paths: &[PathBuf],
    worklist: Option<&Path>,
    report: Option<&Path>,
    facts: &RunFacts,
) -> Result<Contents, ReportError> {
    if worklist.is_none() && report.is_none() {
        return Err(ReportError::NothingToWrite);
    }
    let mut reader = Reader::default();
    for path in paths {
        reader.read_file(path)?;
    }
    let contents = reader.finish();
    if let Some(path) = worklist {
        let mut csv = Vec::new();
        worklist::write_csv(&contents.worklist, &mut csv).map_err(|source| ReportError::Write {
            path: path.to_owned(),
            source,
        })?;
        write_file(path, &csv)?;
    }
    if let Some(path) = report {
        let page = html::report(&contents, facts)?;
        write_file(path, page.as_bytes())?;
    }
    Ok(contents)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The `--from` files in shard order: by the last number in each file name when every name has
/// one (a shell sorts `shard-10` before `shard-2`), else as given.
#[must_use]
pub fn shard_order(paths: &[PathBuf]) -> Vec<PathBuf> {
    let index = |path: &PathBuf| -> Option<u64> {
        let name = path.file_name()?.to_str()?;
        let digits: String = name
            .rsplit(|c: char| !c.is_ascii_digit())
            .find(|part| !part.is_empty())?
            .to_owned();
        digits.parse().ok()
    };
    let indexed: Option<Vec<(u64, &PathBuf)>> =
        paths.iter().map(|p| index(p).map(|i| (i, p))).collect();
    match indexed {
        Some(mut indexed) => {
            // Stable: equal indexes (shard-1.ndjson in two folders) keep the order given.
            indexed.sort_by_key(|(i, _)| *i);
            indexed.into_iter().map(|(_, p)| p.clone()).collect()
        }
        None => paths.to_vec(),
    }
}

/// Runs `report` and reports failures on stderr: the entry point of the binary.
#[must_use]
pub fn main(args: &ReportArgs) -> ExitCode {
    let paths = shard_order(&args.from);
    let facts = RunFacts {
        inputs: paths.iter().map(|p| p.display().to_string()).collect(),
        inputs_are: if paths.len() > 1 {
            "merged outputs"
        } else {
            "output"
        },
        took: None,
        resumed: None,
    };
    match write(
        &paths,
        args.worklist.as_deref(),
        args.report.as_deref(),
        &facts,
    ) {
        Ok(contents) => {
            let _ = writeln!(
                io::stderr().lock(),
                "{} records from {} file(s): {} on the worklist",
                contents.tally.records,
                paths.len(),
                contents.worklist.len()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            let mut text = format!("error: {err}");
            let mut cause = std::error::Error::source(&err);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            let _ = writeln!(io::stderr().lock(), "{text}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_ordered_by_their_number_not_by_the_glob() {
        let given: Vec<PathBuf> = [
            "out/shard-10.ndjson",
            "out/shard-2.ndjson",
            "out/shard-0.ndjson",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let ordered: Vec<String> = shard_order(&given)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            ordered,
            [
                "out/shard-0.ndjson",
                "out/shard-2.ndjson",
                "out/shard-10.ndjson"
            ]
        );
        let unnumbered: Vec<PathBuf> = ["b.ndjson", "a-1.ndjson"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(shard_order(&unnumbered), unnumbered);
    }
}
