//! `loadgen`: drives a running cramp-cds server over real HTTP/2 (tonic) or HTTP/1.1 and h2
//! (the CDS Hooks door) and reports what it costs next to baselines measured on the same server.
//!
//! Absolute calls/s on a shared machine, with the generator on the same cores as the server, say
//! little; the ratio of the call under test to a baseline measured in the same run does. So every
//! run is made of rounds, and each round runs the call under test and then each baseline, one
//! after the other, on the same connections: `grpc.health.v1.Health/Check` (the cheapest call the
//! stack can serve) and `cramp.bench.v1.Canned` (pre-encoded bytes of the size of the real answer
//! through the same stack: the cost of moving that answer; the server needs
//! `server.bench_canned_service = true`). The summary is the median over rounds of each ratio.
//!
//! Two modes. Closed loop (no `--rate`): every in-flight slot sends its next call as soon as the
//! last one is answered, which finds the maximum. Open loop (`--rate`, or `--rate-percent` of a
//! maximum measured first): calls are sent on a fixed timetable and latency runs from the
//! *intended* send time, so a stalled server shows up as latency instead of hiding it by sending
//! less (coordinated omission). Requests are encoded once and answers are counted, not decoded,
//! so the generator's own cost is the same for every target.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use cramp_cds::{
    bench_canned::{RawCodec, SIZE_KEY, STREAM_PATH, UNARY_PATH},
    pb,
};
use hdrhistogram::Histogram;
use prost::Message as _;
use tonic::{
    Request,
    codegen::http::uri::PathAndQuery,
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ASSESS_PATH: &str = "/cramp.v1.CrampAssessmentService/Assess";
const BATCH_PATH: &str = "/cramp.v1.CrampAssessmentService/AssessBatch";
const HEALTH_PATH: &str = "/grpc.health.v1.Health/Check";
const HOOK_PATH: &str = "/cds-services/leg-cramp-screen";

/// Load generator for a running cramp-cds server (`cramp-cds serve`).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// What to drive.
    #[arg(value_enum)]
    scenario: Scenario,
    /// The server's gRPC address.
    #[arg(long, default_value = "127.0.0.1:50051")]
    grpc_addr: String,
    /// The server's HTTP door (CDS Hooks scenarios).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http_addr: String,
    /// An `AssessRequest` in proto3 JSON (unary and batch scenarios).
    #[arg(long, default_value = "examples/claudication.json")]
    input: PathBuf,
    /// A CDS Hooks request (CDS Hooks scenarios).
    #[arg(
        long,
        default_value = "tests/data/cds_hooks/patient-view-full-prefetch.json"
    )]
    hook: PathBuf,
    /// Connections to open.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Calls (or batch streams) in flight per connection.
    #[arg(long, default_value_t = 32)]
    streams: usize,
    /// Open loop: calls (batch: records) per second across all connections.
    #[arg(long, conflicts_with = "rate_percent")]
    rate: Option<f64>,
    /// Open loop at this percentage of the maximum, measured first in a closed-loop round.
    #[arg(long)]
    rate_percent: Option<f64>,
    /// Seconds measured per target per round.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds sent before each measurement and not recorded.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Rounds; each runs the call under test and then every baseline.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Skip the baselines (soak and overload runs).
    #[arg(long)]
    no_baselines: bool,
    /// Records per `AssessBatch` stream.
    #[arg(long, default_value_t = 1000)]
    records: usize,
    /// The server's process id, for its RSS and CPU; found by name (`cramp-cds`) when absent.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print the server's RSS every this many seconds while measuring (0: first and last only).
    #[arg(long, default_value_t = 0)]
    rss_every: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Unary `Assess` (the FULL answer; the unary contract has no view).
    Assess,
    /// `AssessBatch` streams, every record in the FULL view.
    BatchFull,
    /// `AssessBatch` streams, every record in the BASIC view.
    BatchBasic,
    /// The CDS Hooks door over HTTP/1.1.
    HooksH1,
    /// The CDS Hooks door over h2 (prior knowledge, cleartext).
    HooksH2,
}

/// One thing a round measures.
#[derive(Clone, Debug)]
enum Target {
    Unary {
        name: &'static str,
        path: &'static str,
        body: Bytes,
        canned: Option<usize>,
    },
    Stream {
        name: &'static str,
        path: &'static str,
        record: Bytes,
        canned: Option<usize>,
    },
    Http {
        name: &'static str,
        post: Option<Bytes>,
        path: &'static str,
    },
}

impl Target {
    fn name(&self) -> &'static str {
        match self {
            Self::Unary { name, .. } | Self::Stream { name, .. } | Self::Http { name, .. } => name,
        }
    }
}

/// Where calls go: gRPC channels (one HTTP/2 connection each) or HTTP clients.
#[derive(Clone)]
struct Clients {
    grpc: Vec<Channel>,
    http: Vec<reqwest::Client>,
    http_base: String,
}

/// What one target did in one round.
#[derive(Debug)]
struct Outcome {
    name: &'static str,
    /// Calls (batch: records) answered OK per second of the measured window.
    per_second: f64,
    /// Latency of OK calls (batch: of whole streams), microseconds.
    latency: Histogram<u64>,
    /// Errors by gRPC code or HTTP status.
    errors: BTreeMap<String, u64>,
    /// Share of all cores used by the server and by this generator while measuring.
    server_cpu: Option<f64>,
    own_cpu: Option<f64>,
    /// The server's RSS (KiB) when measuring started and when it ended.
    rss: Option<(u64, u64)>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.streams == 0 || args.rounds == 0 {
        bail!("--connections, --streams and --rounds must be at least 1");
    }
    let pid = args.server_pid.or_else(find_server);
    match pid {
        Some(pid) => println!("server pid {pid}"),
        None => println!("server pid unknown: no RSS or CPU figures (pass --server-pid)"),
    }
    let clients = connect(&args).await?;
    let (under_test, baselines) = targets(&args, &clients).await?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "scenario {:?}: {} connections x {} in flight, {} s (+{} s warm-up) per target, {} rounds, {cores} cores",
        args.scenario, args.connections, args.streams, args.duration, args.warmup, args.rounds
    );
    let rate = match (args.rate, args.rate_percent) {
        (Some(rate), _) => Some(rate),
        (None, Some(percent)) => {
            let max = run(&args, &clients, &under_test, None, pid).await;
            print_outcome(0, &max);
            let rate = max.per_second * percent / 100.0;
            println!(
                "maximum {:.0}/s; open loop at {percent}%: {rate:.0}/s",
                max.per_second
            );
            Some(rate)
        }
        (None, None) => None,
    };
    let mut rounds: Vec<Vec<Outcome>> = Vec::new();
    for round in 1..=args.rounds {
        let mut outcomes = vec![run(&args, &clients, &under_test, rate, pid).await];
        if !args.no_baselines {
            for baseline in &baselines {
                outcomes.push(run(&args, &clients, baseline, rate, pid).await);
            }
        }
        for outcome in &outcomes {
            print_outcome(round, outcome);
        }
        rounds.push(outcomes);
    }
    summarise(&rounds, rate.is_some());
    let first = rounds.first().and_then(|r| r.first()).and_then(|o| o.rss);
    let last = rounds.last().and_then(|r| r.last()).and_then(|o| o.rss);
    if let (Some((start, _)), Some((_, end))) = (first, last) {
        println!(
            "server RSS: {start} KiB after the first warm-up, {end} KiB at the end ({:+.1}%)",
            (end as f64 - start as f64) * 100.0 / start as f64
        );
    }
    Ok(())
}

async fn connect(args: &Args) -> anyhow::Result<Clients> {
    let mut grpc = Vec::new();
    let mut http = Vec::new();
    match args.scenario {
        Scenario::Assess | Scenario::BatchFull | Scenario::BatchBasic => {
            for _ in 0..args.connections {
                // `connect`, not `connect_lazy`: one channel is one HTTP/2 connection, opened now.
                let channel = Endpoint::from_shared(format!("http://{}", args.grpc_addr))?
                    .tcp_nodelay(true)
                    .connect()
                    .await
                    .with_context(|| format!("cannot connect to {}", args.grpc_addr))?;
                grpc.push(channel);
            }
        }
        Scenario::HooksH1 | Scenario::HooksH2 => {
            // No TLS here, but reqwest's builder wants a provider installed.
            let _already = rustls::crypto::ring::default_provider().install_default();
            for _ in 0..args.connections {
                let builder = reqwest::Client::builder().tcp_nodelay(true);
                let builder = if args.scenario == Scenario::HooksH2 {
                    builder.http2_prior_knowledge()
                } else {
                    builder.http1_only()
                };
                http.push(builder.build()?);
            }
        }
    }
    Ok(Clients {
        grpc,
        http,
        http_base: format!("http://{}", args.http_addr),
    })
}

/// The call under test and its baselines, with the canned sizes taken from a real answer.
async fn targets(args: &Args, clients: &Clients) -> anyhow::Result<(Target, Vec<Target>)> {
    let health = Target::Unary {
        name: "health",
        path: HEALTH_PATH,
        body: Bytes::new(),
        canned: None,
    };
    match args.scenario {
        Scenario::Assess => {
            let request = read_request(args)?;
            let body = Bytes::from(request.encode_to_vec());
            let answer = unary(&clients.grpc[0], ASSESS_PATH, body.clone(), None)
                .await
                .context("the first Assess call failed")?;
            println!(
                "Assess: request {} bytes, answer {} bytes",
                body.len(),
                answer
            );
            let mut baselines = vec![health];
            match unary(&clients.grpc[0], UNARY_PATH, body.clone(), Some(answer)).await {
                Ok(_) => baselines.push(Target::Unary {
                    name: "canned",
                    path: UNARY_PATH,
                    body: body.clone(),
                    canned: Some(answer),
                }),
                Err(status) => println!(
                    "no canned baseline ({:?}; start the server with \
                     CRAMP__SERVER__BENCH_CANNED_SERVICE=true)",
                    status.code()
                ),
            }
            let call = Target::Unary {
                name: "assess",
                path: ASSESS_PATH,
                body,
                canned: None,
            };
            Ok((call, baselines))
        }
        Scenario::BatchFull | Scenario::BatchBasic => {
            let request = read_request(args)?;
            let Some(pb::assess_request::Input::History(history)) = request.input else {
                bail!("a batch record needs `history` in {}", args.input.display());
            };
            let view = if args.scenario == Scenario::BatchBasic {
                pb::AssessmentView::Basic
            } else {
                pb::AssessmentView::Full
            };
            let record = Bytes::from(
                pb::AssessBatchRequest {
                    record_id: request.request_id,
                    history: Some(history),
                    view: view.into(),
                }
                .encode_to_vec(),
            );
            let (sizes, errors, _) =
                stream(&clients.grpc[0], BATCH_PATH, record.clone(), 1, None, None)
                    .await
                    .context("the first AssessBatch stream failed")?;
            let Some(answer) = sizes.filter(|_| errors.is_empty()) else {
                bail!("the first AssessBatch record failed: {errors:?}");
            };
            println!(
                "AssessBatch {view:?}: record {} bytes, answer {answer} bytes",
                record.len()
            );
            let name = if view == pb::AssessmentView::Basic {
                "batch-basic"
            } else {
                "batch-full"
            };
            let canned = Target::Stream {
                name: "canned-stream",
                path: STREAM_PATH,
                record: record.clone(),
                canned: Some(answer),
            };
            let baselines = match stream(
                &clients.grpc[0],
                STREAM_PATH,
                record.clone(),
                1,
                Some(answer),
                None,
            )
            .await
            {
                Ok(_) => vec![canned],
                Err(status) => {
                    println!(
                        "no canned baseline ({:?}; start the server with \
                         CRAMP__SERVER__BENCH_CANNED_SERVICE=true)",
                        status.code()
                    );
                    Vec::new()
                }
            };
            let call = Target::Stream {
                name,
                path: BATCH_PATH,
                record,
                canned: None,
            };
            Ok((call, baselines))
        }
        Scenario::HooksH1 | Scenario::HooksH2 => {
            let hook = std::fs::read(&args.hook)
                .with_context(|| format!("cannot read {}", args.hook.display()))?;
            let name = if args.scenario == Scenario::HooksH2 {
                "hooks-h2"
            } else {
                "hooks-h1"
            };
            let call = Target::Http {
                name,
                post: Some(Bytes::from(hook)),
                path: HOOK_PATH,
            };
            // The door's cheapest route through the same HTTP stack.
            let about = Target::Http {
                name: "about",
                post: None,
                path: "/about",
            };
            Ok((call, vec![about]))
        }
    }
}

fn read_request(args: &Args) -> anyhow::Result<pb::AssessRequest> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not an AssessRequest", args.input.display()))
}

/// One unary call; the answer's size in bytes.
async fn unary(
    channel: &Channel,
    path: &'static str,
    body: Bytes,
    canned: Option<usize>,
) -> Result<usize, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = Request::new(body);
    if let Some(size) = canned {
        request
            .metadata_mut()
            .insert(SIZE_KEY, MetadataValue::from(size));
    }
    let answer = grpc
        .unary(request, PathAndQuery::from_static(path), RawCodec)
        .await?;
    Ok(answer.into_inner().len())
}

/// One stream of `records` copies of `record`: the size of the last answer, errors by code, and
/// how many answers arrived inside `window` (a stream can outlast the measured window, so its
/// records are counted where they land rather than all or nothing).
async fn stream(
    channel: &Channel,
    path: &'static str,
    record: Bytes,
    records: usize,
    canned: Option<usize>,
    window: Option<(Instant, Instant)>,
) -> Result<(Option<usize>, BTreeMap<String, u64>, u64), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = Request::new(tokio_stream::iter(std::iter::repeat_n(record, records)));
    if let Some(size) = canned {
        request
            .metadata_mut()
            .insert(SIZE_KEY, MetadataValue::from(size));
    }
    let mut answers = grpc
        .streaming(request, PathAndQuery::from_static(path), RawCodec)
        .await?
        .into_inner();
    let mut last = None;
    let mut errors = BTreeMap::new();
    let mut answered = 0;
    let mut in_window = 0;
    while let Some(answer) = answers.message().await? {
        last = Some(answer.len());
        answered += 1;
        if window.is_some_and(|(from, to)| (from..=to).contains(&Instant::now())) {
            in_window += 1;
        }
    }
    if answered != records {
        *errors.entry("SHORT_STREAM".to_owned()).or_default() += 1;
    }
    Ok((last, errors, in_window))
}

/// Runs one target for a warm-up and a measured window on every slot.
async fn run(
    args: &Args,
    clients: &Clients,
    target: &Target,
    rate: Option<f64>,
    pid: Option<u32>,
) -> Outcome {
    let slots = args.connections * args.streams;
    let warmup = Duration::from_secs_f64(args.warmup);
    let window = Duration::from_secs_f64(args.duration);
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + warmup;
    let end = measure_from + window;
    // Batch streams carry `records` calls each; the rate is in records.
    let per_call = match target {
        Target::Stream { .. } => args.records as f64,
        Target::Unary { .. } | Target::Http { .. } => 1.0,
    };
    let period = rate.map(|r| Duration::from_secs_f64(per_call * slots as f64 / r));
    let shared = Arc::new(Mutex::new(Tally::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let rss_task = spawn_rss(pid, args.rss_every, measure_from, end);
    let mut tasks = Vec::with_capacity(slots);
    let mut cpu_at_measure = None;
    for slot in 0..slots {
        let target = target.clone();
        let clients = clients.clone();
        let shared = Arc::clone(&shared);
        let stop = Arc::clone(&stop);
        let connection = slot % args.connections;
        let records = args.records;
        // Spread slots over the period so the open-loop timetable is even, not bursty.
        let offset = period.map(|p| p.mul_f64(slot as f64 / slots as f64));
        tasks.push(tokio::spawn(async move {
            let mut local = Tally::new();
            let mut intended = start + offset.unwrap_or_default();
            loop {
                if period.is_some() {
                    tokio::time::sleep_until(intended.into()).await;
                } else {
                    // Closed loop: the next call goes as soon as the last one is answered.
                    tokio::time::sleep_until(start.into()).await;
                    intended = Instant::now();
                }
                if intended >= end || stop.load(Ordering::Relaxed) {
                    break;
                }
                let result =
                    call(&clients, connection, &target, records, (measure_from, end)).await;
                let done = Instant::now();
                let whole = intended >= measure_from && done <= end;
                let micros =
                    u64::try_from(done.duration_since(intended).as_micros()).unwrap_or(u64::MAX);
                local.record(result, micros, whole);
                if let Some(p) = period {
                    intended += p;
                }
            }
            shared.lock().map(|mut t| t.merge(local)).ok();
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let rss_start = pid.and_then(rss_kib);
    if let Some(pid) = pid {
        cpu_at_measure = Some((cpu_ticks(Some(pid)), cpu_ticks(None), Instant::now()));
    }
    tokio::time::sleep_until(end.into()).await;
    let cpu = cpu_at_measure.map(|(server, own, at)| {
        let elapsed = at.elapsed().as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
        let share = |before: Option<u64>, now: Option<u64>| {
            Some((now? - before?) as f64 / ticks_per_second() / elapsed / cores)
        };
        (share(server, cpu_ticks(pid)), share(own, cpu_ticks(None)))
    });
    let rss = rss_start.zip(pid.and_then(rss_kib));
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    if let Some(task) = rss_task {
        task.abort();
    }
    let tally = Arc::try_unwrap(shared)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_else(Tally::new);
    Outcome {
        name: target.name(),
        per_second: tally.ok as f64 / window.as_secs_f64(),
        latency: tally.latency,
        errors: tally.errors,
        server_cpu: cpu.and_then(|c| c.0),
        own_cpu: cpu.and_then(|c| c.1),
        rss,
    }
}

/// One call (or one whole stream) to `target`.
async fn call(
    clients: &Clients,
    connection: usize,
    target: &Target,
    records: usize,
    window: (Instant, Instant),
) -> Result<Counted, String> {
    match target {
        Target::Unary {
            path, body, canned, ..
        } => unary(&clients.grpc[connection], path, body.clone(), *canned)
            .await
            .map(|_| Counted::One)
            .map_err(|s| format!("{:?}", s.code())),
        Target::Stream {
            path,
            record,
            canned,
            ..
        } => match stream(
            &clients.grpc[connection],
            path,
            record.clone(),
            records,
            *canned,
            Some(window),
        )
        .await
        {
            Ok((_, errors, n)) if errors.is_empty() => Ok(Counted::InWindow(n)),
            Ok((_, errors, _)) => Err(errors.into_keys().next().unwrap_or_default()),
            Err(status) => Err(format!("{:?}", status.code())),
        },
        Target::Http { post, path, .. } => {
            let client = &clients.http[connection];
            let url = format!("{}{path}", clients.http_base);
            let request = match post {
                Some(body) => client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone()),
                None => client.get(url),
            };
            match request.send().await {
                Ok(answer) if answer.status().is_success() => answer
                    .bytes()
                    .await
                    .map(|_| Counted::One)
                    .map_err(|_| "BODY".to_owned()),
                Ok(answer) => Err(format!("HTTP {}", answer.status().as_u16())),
                Err(err) if err.is_connect() => Err("CONNECT".to_owned()),
                Err(_) => Err("TRANSPORT".to_owned()),
            }
        }
    }
}

/// What one successful call adds to the count.
enum Counted {
    /// One call, counted when it lies wholly inside the window.
    One,
    /// The records of a stream answered inside the window.
    InWindow(u64),
}

struct Tally {
    ok: u64,
    latency: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            ok: 0,
            // 1 µs to 10 min at 3 significant digits; a bound this wide cannot fail.
            latency: Histogram::new_with_bounds(1, 600_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!())),
            errors: BTreeMap::new(),
        }
    }

    /// `whole`: the call was sent and answered inside the measured window; only such calls
    /// give a latency (and count, unless they are streams, counted by records in the window).
    fn record(&mut self, result: Result<Counted, String>, micros: u64, whole: bool) {
        match result {
            Ok(counted) => {
                self.ok += match counted {
                    Counted::One => u64::from(whole),
                    Counted::InWindow(n) => n,
                };
                if whole {
                    self.latency.saturating_record(micros.max(1));
                }
            }
            Err(code) if whole => *self.errors.entry(code).or_default() += 1,
            Err(_) => {}
        }
    }

    fn merge(&mut self, other: Self) {
        self.ok += other.ok;
        let _ = self.latency.add(&other.latency);
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }
}

fn print_outcome(round: usize, o: &Outcome) {
    let ms = |q: f64| o.latency.value_at_quantile(q) as f64 / 1000.0;
    let cpu = match (o.server_cpu, o.own_cpu) {
        (Some(s), Some(g)) => format!(" cpu server {:.0}% loadgen {:.0}%", s * 100.0, g * 100.0),
        _ => String::new(),
    };
    let rss = o
        .rss
        .map(|(a, b)| format!(" rss {a}->{b} KiB"))
        .unwrap_or_default();
    let errors = if o.errors.is_empty() {
        String::new()
    } else {
        format!(" errors {:?}", o.errors)
    };
    println!(
        "round {round} {:<14} {:>9.0}/s  p50 {:.2} p90 {:.2} p99 {:.2} p99.9 {:.2} max {:.2} ms{cpu}{rss}{errors}",
        o.name,
        o.per_second,
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        o.latency.max() as f64 / 1000.0,
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn summarise(rounds: &[Vec<Outcome>], open_loop: bool) {
    let Some(first) = rounds.first() else { return };
    println!("median of {} rounds:", rounds.len());
    for (i, outcome) in first.iter().enumerate() {
        let per_second = median(rounds.iter().map(|r| r[i].per_second).collect());
        let p99 = median(
            rounds
                .iter()
                .map(|r| r[i].latency.value_at_quantile(0.99) as f64 / 1000.0)
                .collect(),
        );
        println!(
            "  {:<14} {per_second:>9.0}/s  p99 {p99:.2} ms",
            outcome.name
        );
    }
    if open_loop {
        return;
    }
    for (i, baseline) in first.iter().enumerate().skip(1) {
        let ratios: Vec<f64> = rounds
            .iter()
            .map(|r| r[0].per_second / r[i].per_second)
            .collect();
        println!(
            "  ratio {} / {}: {:.2} (rounds: {})",
            first[0].name,
            baseline.name,
            median(ratios.clone()),
            ratios
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// The only process named `cramp-cds`, if there is exactly one.
fn find_server() -> Option<u32> {
    let mut found = std::fs::read_dir("/proc").ok()?.filter_map(|entry| {
        let entry = entry.ok()?;
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        (comm.trim() == "cramp-cds").then_some(pid)
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Resident set size of `pid` in KiB (`VmRSS` of /proc/PID/status).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// User + system CPU ticks of `pid`, or of this process.
fn cpu_ticks(pid: Option<u32>) -> Option<u64> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces), counted from field 3 (state).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).
const fn ticks_per_second() -> f64 {
    100.0
}

/// Prints the server's RSS every `every` seconds of the measured window.
fn spawn_rss(
    pid: Option<u32>,
    every: u64,
    from: Instant,
    until: Instant,
) -> Option<tokio::task::JoinHandle<()>> {
    let pid = pid?;
    if every == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let mut tick = tokio::time::interval(Duration::from_secs(every));
        while Instant::now() < until {
            tick.tick().await;
            if let Some(kib) = rss_kib(pid) {
                println!(
                    "  rss t+{:>5.0}s {kib} KiB",
                    Instant::now().duration_since(from).as_secs_f64()
                );
            }
        }
    }))
}
