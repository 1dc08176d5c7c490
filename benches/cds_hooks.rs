//! CDS Hooks latency with full prefetch, next to a gRPC `Assess` of the same answers.
//!
//! integration.md §6.5 asks for a p95 under 500 ms locally with full prefetch. Latency is measured
//! here, not asserted in a test: the machines are shared and noisy, so the figure that matters is
//! the ratio to a baseline measured in the same run. The request is the conformance suite's own
//! (`tests/data/cds_hooks/patient-view-full-prefetch.json`, kept equal to it by a test); the
//! baseline sends that request's intake QuestionnaireResponse to `Assess` over gRPC, so both sides
//! assess the same answers and the difference is the HTTP door's cost (JSON, prefetch mapping,
//! cards). Calls are sequential on one connection, as an EHR's hook call is. Run it in release:
//! `cargo bench --bench cds_hooks` (`CDS_BENCH_CALLS=N` for another count).

use std::time::{Duration, Instant};

use cramp_cds::{
    config::Settings,
    pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient},
    server::Application,
};
use serde_json::Value;

/// The binary's allocator (see `src/main.rs`), so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WARM_UP: usize = 100;

fn main() {
    // `cargo test --benches` runs this without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("cds_hooks bench: run with `cargo bench --bench cds_hooks`");
        return;
    }
    let calls: usize = std::env::var("CDS_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cds_hooks/patient-view-full-prefetch.json"
    );
    let request: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture")).expect("JSON");
    // In the hook the age comes from Patient.birthDate; the gRPC door needs it as an answer.
    let mut questionnaire = request["prefetch"]["intake"]["entry"][0]["resource"].clone();
    if let Some(items) = questionnaire["item"].as_array_mut() {
        items.push(
            serde_json::json!({"linkId": "patient.age_years", "answer": [{"valueInteger": 68}]}),
        );
    }
    let questionnaire = questionnaire.to_string();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut settings = Settings::load(None, Some(Default::default())).expect("settings");
        settings.server.grpc_addr = "127.0.0.1:0".parse().expect("an address");
        settings.server.http_addr = "127.0.0.1:0".parse().expect("an address");
        let app = Application::build(&settings).await.expect("binds");
        let (grpc_addr, http_addr) = (app.grpc_addr(), app.http_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));

        // reqwest has no bundled TLS provider in this build (see Cargo.toml): install ring.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let url = format!("http://{http_addr}/cds-services/leg-cramp-screen");
        let hook = || {
            let http = http.clone();
            let url = url.clone();
            let request = request.clone();
            async move {
                let answer = http.post(&url).json(&request).send().await.expect("the hook answers");
                assert_eq!(answer.status(), 200, "the hook call succeeds");
                let cards: Value = answer.json().await.expect("cards");
                assert!(cards["cards"].as_array().is_some_and(|c| !c.is_empty()), "cards come back");
            }
        };
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}")).expect("a URL");
        let channel = loop {
            if let Ok(channel) = endpoint.connect().await {
                break channel;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let client = CrampAssessmentServiceClient::new(channel);
        let grpc = || {
            let mut client = client.clone();
            let questionnaire = questionnaire.clone();
            async move {
                let request = pb::AssessRequest {
                    request_id: "bench".into(),
                    input: Some(pb::assess_request::Input::QuestionnaireResponseJson(questionnaire)),
                };
                let answer = client.assess(request).await.expect("Assess answers").into_inner();
                assert!(answer.assessment.is_some_and(|a| !a.flags.is_empty()), "flags come back");
            }
        };

        for _ in 0..WARM_UP {
            hook().await;
            grpc().await;
        }
        // Interleaved so both see the same machine state.
        let (mut hook_times, mut grpc_times) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
        for _ in 0..calls {
            let started = Instant::now();
            hook().await;
            hook_times.push(started.elapsed());
            let started = Instant::now();
            grpc().await;
            grpc_times.push(started.elapsed());
        }
        let (hook_p50, hook_p95, hook_p99) = percentiles(&mut hook_times);
        let (grpc_p50, grpc_p95, grpc_p99) = percentiles(&mut grpc_times);
        println!("cds_hooks bench: {calls} sequential calls each, one connection, loopback");
        println!("patient-view, full prefetch (HTTP): p50 {hook_p50:?}  p95 {hook_p95:?}  p99 {hook_p99:?}");
        println!("Assess, same answers (gRPC):        p50 {grpc_p50:?}  p95 {grpc_p95:?}  p99 {grpc_p99:?}");
        println!(
            "ratio hook/gRPC: p50 {:.2}x  p95 {:.2}x;  p95 vs the 500 ms budget: {:.4}",
            hook_p50.as_secs_f64() / grpc_p50.as_secs_f64(),
            hook_p95.as_secs_f64() / grpc_p95.as_secs_f64(),
            hook_p95.as_secs_f64() / 0.5
        );
        let _ = stop.send(());
        let _ = server.await;
    });
}

/// p50, p95 and p99 of `times` (sorted in place).
fn percentiles(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    times.sort();
    let at = |q: usize| {
        times
            .get((times.len() * q / 100).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (at(50), at(95), at(99))
}
