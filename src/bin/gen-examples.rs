//! Regenerates the synthetic example batches (`examples/screening-1000.ndjson` and `.csv`).
//!
//! The examples are generated, not hand-written, so that they stay plausible as the intake
//! grows and can be rebuilt byte for byte: `cargo run --bin gen-examples` rewrites both files
//! from the fixed seed, and a test fails if the committed files differ from a fresh run.
//! `--records`, `--seed` and the paths make other batches (e.g. for load tests).

use std::{
    fs::File,
    io::{BufWriter, Write as _},
    path::PathBuf,
};

use anyhow::Context as _;
use clap::Parser;
use cramp_cds::screen::synthetic;

/// Writes seeded synthetic histories as NDJSON and CSV (the same records in both).
#[derive(Debug, Parser)]
struct Args {
    /// How many records.
    #[arg(long, default_value_t = synthetic::EXAMPLE_RECORDS)]
    records: usize,
    /// The seed; the same seed always gives the same records.
    #[arg(long, default_value_t = synthetic::EXAMPLE_SEED)]
    seed: u64,
    /// The NDJSON file to write.
    #[arg(long, default_value = synthetic::EXAMPLE_NDJSON)]
    ndjson: PathBuf,
    /// The CSV file to write.
    #[arg(long, default_value = synthetic::EXAMPLE_CSV)]
    csv: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let records = || synthetic::records(args.seed).take(args.records);
    for (path, csv) in [(&args.ndjson, false), (&args.csv, true)] {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::new(file);
        if csv {
            synthetic::write_csv(records(), &mut out)
        } else {
            synthetic::write_ndjson(records(), &mut out)
        }
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "wrote {} records (seed {}) to {} and {}",
        args.records,
        args.seed,
        args.ndjson.display(),
        args.csv.display()
    );
    Ok(())
}
