//! Batch throughput: `AssessBatch` over loopback, and `screen` beside a bare `serde_json` parse.
//!
//! Two questions with targets on the 2-core reference machine, answered in one run so the
//! numbers share the machine's state:
//! - `stream`: 200,000 synthetic records through one `AssessBatch` stream to an in-process
//!   server over loopback TCP, with a real tonic client: records/s (target ≥ 100,000), in the
//!   FULL view (the default) and the BASIC view (codes and ids, no texts).
//! - `screen`: `screen` in-process on a 200,000-record NDJSON file, next to reading the same
//!   file line by line with `serde_json` alone (into `serde_json::Value`) and with the typed
//!   parse screen itself must do (into `AssessBatchRequest`): records/s and the ratio (target:
//!   screen ≥ 50% of the bare parse rate), for `--view full` and `--view basic`.
//!
//! The input is generated at bench time with the seeded generator (never committed). Client and
//! server share the machine, as they do on loopback. Each measurement runs three times and the
//! best and median are printed; nothing asserts on time. Run it in release:
//! `cargo bench --bench batch` (`BATCH_BENCH_RECORDS=N` for another size).

use std::{
    fs::File,
    io::{BufRead as _, BufReader, BufWriter, Write as _},
    path::Path,
    time::{Duration, Instant},
};

use cramp_cds::{
    config::Settings,
    pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient},
    screen::{self, ScreenArgs, View, synthetic},
    server::Application,
};

/// The binary's allocator (see `src/main.rs`), so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 3;
const SEED: u64 = 4242;

fn main() {
    // `cargo test --benches` runs this without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("batch bench: run with `cargo bench --bench batch`");
        return;
    }
    let records: usize = std::env::var("BATCH_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    println!(
        "batch bench: {records} records, {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    stream(records, pb::AssessmentView::Unspecified);
    stream(records, pb::AssessmentView::Basic);
    screen_vs_parse(records);
}

fn stream(records: usize, view: pb::AssessmentView) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut times = Vec::new();
    runtime.block_on(async {
        let mut settings = Settings::load(None, Some(Default::default())).expect("settings");
        settings.server.grpc_addr = "127.0.0.1:0".parse().expect("an address");
        let app = Application::build(&settings).await.expect("binds");
        let addr = app.grpc_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("a URL")
            .tcp_nodelay(true)
            // As `screen --server` connects.
            .initial_stream_window_size(cramp_cds::limits::CLIENT_STREAM_WINDOW_BYTES)
            .initial_connection_window_size(cramp_cds::limits::CLIENT_CONNECTION_WINDOW_BYTES);
        let channel = loop {
            if let Ok(channel) = endpoint.connect().await {
                break channel;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut client = CrampAssessmentServiceClient::new(channel);
        for run in 0..RUNS {
            let requests: Vec<pb::AssessBatchRequest> = synthetic::records(SEED)
                .take(records)
                .map(|r| pb::AssessBatchRequest {
                    view: view.into(),
                    ..r.request
                })
                .collect();
            let started = Instant::now();
            let mut answers = client
                .assess_batch(tokio_stream::iter(requests))
                .await
                .expect("the stream opens")
                .into_inner();
            let mut count = 0usize;
            while let Some(answer) = answers.message().await.expect("no stream error") {
                std::hint::black_box(&answer);
                count += 1;
            }
            let elapsed = started.elapsed();
            assert_eq!(count, records, "one answer per record");
            println!(
                "stream {} run {}: {count} records in {:.3} s = {:.0} records/s",
                view.as_str_name(),
                run + 1,
                elapsed.as_secs_f64(),
                rate(count, elapsed)
            );
            times.push(elapsed);
        }
        let _ = stop.send(());
        let _ = server.await;
    });
    report(
        &format!("stream (AssessBatch over loopback, {})", view.as_str_name()),
        records,
        &mut times,
    );
}

fn screen_vs_parse(records: usize) {
    // Memory-backed when the machine has it: the question is the pipeline's CPU cost, not how
    // fast this VM's disk absorbs 2 GB of answers.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temp dir");
    let input = dir.path().join("bench.ndjson");
    let mut out = BufWriter::new(File::create(&input).expect("creates the input"));
    synthetic::write_ndjson(synthetic::records(SEED).take(records), &mut out).expect("writes");
    out.flush().expect("flushes");
    drop(out);
    let size = std::fs::metadata(&input).map_or(0, |m| m.len());
    println!(
        "screen input: {records} records, {:.1} MiB NDJSON",
        size as f64 / 1_048_576.0
    );

    let mut value_times = Vec::new();
    let mut typed_times = Vec::new();
    let mut screen_times = Vec::new();
    let mut basic_times = Vec::new();
    for run in 0..RUNS {
        value_times.push(parse(&input, |line| {
            std::hint::black_box(serde_json::from_str::<serde_json::Value>(line).is_ok());
        }));
        typed_times.push(parse(&input, |line| {
            std::hint::black_box(serde_json::from_str::<pb::AssessBatchRequest>(line).is_ok());
        }));
        let elapsed = screen_once(records, &input, dir.path(), View::Full);
        screen_times.push(elapsed);
        let basic = screen_once(records, &input, dir.path(), View::Basic);
        basic_times.push(basic);
        println!(
            "screen run {}: parse(Value) {:.0}/s, parse(AssessBatchRequest) {:.0}/s, \
             screen --view full {:.0}/s, screen --view basic {:.0}/s",
            run + 1,
            rate(records, value_times[run]),
            rate(records, typed_times[run]),
            rate(records, elapsed),
            rate(records, basic)
        );
    }
    let value = report("bare parse: serde_json::Value", records, &mut value_times);
    let typed = report("bare parse: AssessBatchRequest", records, &mut typed_times);
    for (name, times) in [("full", &mut screen_times), ("basic", &mut basic_times)] {
        let screened = report(
            &format!("screen --view {name} in-process (parse, assess, write)"),
            records,
            times,
        );
        println!(
            "ratio screen --view {name} / bare parse: {:.0}% of serde_json::Value, {:.0}% of \
             AssessBatchRequest (best runs)",
            100.0 * screened / value,
            100.0 * screened / typed
        );
    }
}

/// One in-process `screen` of `input` to NDJSON in `view`.
fn screen_once(records: usize, input: &Path, dir: &Path, view: View) -> Duration {
    let output = dir.join("out.ndjson");
    let args = ScreenArgs {
        input: input.to_string_lossy().into_owned(),
        output: output.to_string_lossy().into_owned(),
        format: None,
        input_format: None,
        server: None,
        resume: false,
        quiet: true,
        summary: None,
        view: Some(view),
        worklist: None,
        report: None,
    };
    let started = Instant::now();
    let outcome = screen::run(&args).expect("screen runs");
    let elapsed = started.elapsed();
    assert_eq!(outcome.written, records as u64, "one answer per record");
    elapsed
}

/// Reads `path` line by line on one thread, as a bare parser would.
fn parse(path: &Path, mut each: impl FnMut(&str)) -> Duration {
    let started = Instant::now();
    let reader = BufReader::with_capacity(1 << 18, File::open(path).expect("opens the input"));
    for line in reader.lines() {
        each(&line.expect("reads a line"));
    }
    started.elapsed()
}

/// Prints best and median; returns the best rate.
fn report(name: &str, records: usize, times: &mut [Duration]) -> f64 {
    times.sort();
    let best = rate(records, times[0]);
    let median = rate(records, times[times.len() / 2]);
    println!("{name}: best {best:.0} records/s, median {median:.0} records/s");
    best
}

fn rate(records: usize, elapsed: Duration) -> f64 {
    records as f64 / elapsed.as_secs_f64()
}
