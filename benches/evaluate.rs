//! How long the knowledge base takes per history, and what the service path adds around it.
//!
//! `evaluate/<vignette>` times only `cramp_core::evaluate`: parsing, conversion and validation
//! happen once, outside the timed loop. `assess/<vignette>` times the whole `assess` path every
//! door runs (checks, conversion, validation, evaluation, conversion back). The inputs are the
//! clinical vignettes in `tests/data/vignettes`, so the numbers follow the rules as they grow.
//! Nothing here asserts on time; compare runs with criterion's own baselines.

use std::{hint::black_box, path::Path};

use cramp_cds::{
    assess::{AssessError, Assessed, Assessor, Call},
    audit::Door,
    convert, pb,
};
use cramp_core::KnowledgeBase;
use criterion::{BatchSize, BenchmarkId, Criterion};

/// Every vignette's id and request, in file-name order.
/// The whole path a local door takes (no audit trail, as before the one assessor).
fn assess(
    kb: &KnowledgeBase,
    request: pb::AssessRequest,
) -> Result<pb::AssessResponse, AssessError> {
    Assessor::local(*kb)
        .assess(&Call::local(Door::Cli), request, 0)
        .map(Assessed::into_response)
}

fn vignettes() -> Vec<(String, pb::AssessRequest)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vignettes");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let case: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let id = case["id"].as_str().unwrap_or_default().to_owned();
            let request = serde_json::from_value(case["request"].clone())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            (id, request)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let kb = KnowledgeBase::standard();
    let cases = vignettes();

    let mut group = c.benchmark_group("evaluate");
    for (id, request) in &cases {
        // Vignettes that expect a rejection have nothing to evaluate.
        let Some(pb::assess_request::Input::History(history)) = request.input.clone() else {
            continue;
        };
        let (history, unknown) = convert::history_from_pb(history);
        let Ok(valid) = cramp_core::validate(history, unknown) else {
            continue;
        };
        group.bench_with_input(BenchmarkId::from_parameter(id), &valid, |b, valid| {
            b.iter(|| cramp_core::evaluate(&kb, black_box(valid)));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("assess");
    for (id, request) in &cases {
        group.bench_with_input(BenchmarkId::from_parameter(id), request, |b, request| {
            b.iter_batched(
                || request.clone(),
                |request| assess(&kb, black_box(request)),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    client_certificate(c, &kb, &cases);
}

/// The gRPC port reads the caller's identity out of its client certificate (tonic hands the peer
/// chain to each request, not to the connection). This puts the x509 parse a connection's first
/// call pays, and the cache lookup its later calls pay, next to the `assess` they precede, in the
/// same run, so their share of a call is a ratio.
fn client_certificate(
    c: &mut Criterion,
    kb: &KnowledgeBase,
    cases: &[(String, pb::AssessRequest)],
) {
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let mut params = rcgen::CertificateParams::new(vec!["ehr-batch.example.org".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ehr-batch");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Example Hospital");
    let cert = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
    let der = cert.der().to_vec();
    assert!(cramp_cds::tls::certificate_identity(&der).is_some());

    let mut group = c.benchmark_group("client_certificate");
    group.bench_function("identity_from_der", |b| {
        b.iter(|| cramp_cds::tls::certificate_identity(black_box(&der)));
    });
    // What a connection's later calls pay: the cache lookup by the chain's `Arc`.
    let cache = cramp_cds::tls::IdentityCache::default();
    let chain: cramp_cds::tls::PeerChain = std::sync::Arc::new(vec![cert.der().clone()]);
    group.bench_function("identity_cached", |b| {
        b.iter(|| cache.identity(black_box(std::sync::Arc::clone(&chain))));
    });
    if let Some((_, request)) = cases.first() {
        group.bench_function("assess_first_vignette", |b| {
            b.iter_batched(
                || request.clone(),
                |request| assess(kb, black_box(request)),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

// What `criterion_group!`/`criterion_main!` expand to, written out because the macros generate an
// undocumented public function that the workspace's `missing_docs` lint rejects.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}
