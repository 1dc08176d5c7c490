//! Limits: load shedding across both ports, deadlines, body sizes.

use std::{num::NonZeroUsize, time::Duration};

use cramp_cds::pb;
use tonic::{Code, Status, transport::Channel};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt as _;

use crate::helpers::{PATIENCE, TestApp, health, minimal_request, spawn_app_with, test_settings};

const ASSESS: &str = "/cramp.v1.CrampAssessmentService/Assess";

/// A unary `Assess` whose request message never comes: the call stays in progress (holding a
/// slot of the concurrency limit) until its deadline or until the client gives up.
async fn stalled_assess(
    channel: Channel,
    timeout: Option<Duration>,
) -> Result<pb::AssessResponse, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(tokio_stream::pending::<pb::AssessRequest>());
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    grpc.client_streaming(
        request,
        axum::http::uri::PathAndQuery::from_static(ASSESS),
        tonic_prost::ProstCodec::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// Polls gRPC health (the whole server and the API service) until both say `want`.
pub(crate) async fn wait_for_health(app: &TestApp, want: ServingStatus) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let whole = health(app.channel().await, "").await.unwrap();
            let api = health(app.channel().await, "cramp.v1.CrampAssessmentService")
                .await
                .unwrap();
            if whole == want && api == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("health turns {want:?}"));
}

async fn wait_until_in_progress(app: &TestApp, limiter: &cramp_cds::limits::Limiter, n: usize) {
    let _ = app;
    tokio::time::timeout(PATIENCE, async {
        while limiter.in_use() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the stalled calls are in progress");
}

#[tokio::test]
async fn past_the_limit_calls_are_shed_on_both_ports_and_service_resumes() {
    let mut settings = test_settings();
    settings.limits.max_concurrent_calls = NonZeroUsize::new(1).unwrap();
    settings.limits.retry_after_seconds = 3;
    let (app, limiter) = crate::helpers::spawn_app_with_limiter(settings).await;

    // A request message that never comes holds no slot: messages are read before a slot is
    // taken (issue 14). A slot held outside any call stands in for a busy replica.
    let stalled = tokio::spawn(stalled_assess(app.channel().await, None));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(limiter.in_use(), 0, "a stalled message holds no slot");
    let held = limiter.try_reserve().expect("a free slot");
    wait_until_in_progress(&app, &limiter, 1).await;

    let shed = app.assess(minimal_request("shed-1")).await.unwrap_err();
    assert_eq!(shed.code(), Code::ResourceExhausted, "{shed:?}");
    let retry = shed.get_details_retry_info().expect("RetryInfo");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(3)));
    assert_eq!(
        shed.get_details_error_info().unwrap().reason,
        cramp_cds::status::Reason::Overloaded.as_str()
    );

    let http = app.http().get("/about").await;
    assert_eq!(http.status.as_u16(), 503);
    assert_eq!(http.headers["retry-after"], "3");
    assert_eq!(http.body["resourceType"], "OperationOutcome");
    assert_eq!(http.body["issue"][0]["code"], "throttled");

    // Probes and scrapes are never shed.
    // (This test's subscriber has no metric instruments, so /metrics is a 404 here; what
    // matters is that the limit never answers it with 503.)
    assert_ne!(app.http().get("/metrics").await.status.as_u16(), 503);
    // Health answers, and says the replica cannot take work (issue 14: it said SERVING).
    wait_for_health(&app, ServingStatus::NotServing).await;
    assert_eq!(app.http().get("/ready").await.status.as_u16(), 503);

    // The slot comes back and calls are served again.
    drop(held);
    stalled.abort();
    tokio::time::timeout(PATIENCE, async {
        loop {
            match app.assess(minimal_request("after")).await {
                Ok(answer) => break answer,
                Err(status) if status.code() == Code::ResourceExhausted => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(status) => panic!("unexpected {status:?}"),
            }
        }
    })
    .await
    .expect("service resumes once the slot is free");
    assert_eq!(app.http().get("/about").await.status.as_u16(), 200);
    wait_for_health(&app, ServingStatus::Serving).await;
    assert_eq!(app.http().get("/ready").await.status.as_u16(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_clients_deadline_and_the_configured_one_end_calls_with_deadline_exceeded() {
    // A server that would wait an hour: only the client's 2 s deadline can end this call
    // before the test's patience runs out (the server answers a tenth early, at 1.8 s, well
    // before the client's own timer).
    let mut settings = test_settings();
    settings.limits.call_timeout_seconds = 3_600;
    let patient = spawn_app_with(settings).await;
    let status = tokio::time::timeout(
        PATIENCE,
        stalled_assess(patient.channel().await, Some(Duration::from_secs(2))),
    )
    .await
    .expect("the client's grpc-timeout ends the call")
    .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(
        status.get_details_error_info().unwrap().reason,
        cramp_cds::status::Reason::CallDeadlineExceeded.as_str(),
        "answered by the server, not by the client's own timer"
    );
    patient.stop().await;

    // No client deadline: the configured call timeout ends it.
    let mut settings = test_settings();
    settings.limits.call_timeout_seconds = 1;
    let strict = spawn_app_with(settings).await;
    let status = tokio::time::timeout(PATIENCE, stalled_assess(strict.channel().await, None))
        .await
        .expect("limits.call_timeout_seconds ends the call")
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(
        status.get_details_error_info().unwrap().reason,
        cramp_cds::status::Reason::CallDeadlineExceeded.as_str()
    );
    strict.stop().await;
}

#[tokio::test]
async fn a_batch_stream_ends_at_the_clients_deadline_after_answering_what_it_read() {
    let app = crate::helpers::spawn_app().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::AssessBatchRequest>(8);
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    request.set_timeout(Duration::from_secs(2));
    for i in 0..3 {
        tx.send(pb::AssessBatchRequest {
            record_id: format!("r-{i}"),
            history: minimal_request("x").input.and_then(|input| match input {
                pb::assess_request::Input::History(h) => Some(h),
                pb::assess_request::Input::QuestionnaireResponseJson(_) => None,
            }),
            view: 0,
        })
        .await
        .unwrap();
    }
    let mut answers = app
        .client()
        .await
        .assess_batch(request)
        .await
        .unwrap()
        .into_inner();
    let mut ids = Vec::new();
    let ending = loop {
        match tokio::time::timeout(PATIENCE, answers.message())
            .await
            .unwrap()
        {
            Ok(Some(answer)) => ids.push(answer.record_id),
            Ok(None) => panic!("the stream must end with a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(ids, ["r-0", "r-1", "r-2"]);
    // The server ends the stream (a tenth before the client's own timer) with its own status.
    assert_eq!(ending.code(), Code::DeadlineExceeded, "{ending:?}");
    assert_eq!(
        ending.get_details_error_info().unwrap().reason,
        cramp_cds::status::Reason::CallDeadlineExceeded.as_str()
    );
    drop(tx);
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_http_body_is_413_whether_or_not_it_declares_its_length() {
    let mut settings = test_settings();
    settings.limits.max_http_body_bytes = NonZeroUsize::new(1_024).unwrap();
    let app = spawn_app_with(settings).await;
    let big = format!(
        r#"{{"resourceType":"Parameters","padding":"{}"}}"#,
        "x".repeat(4_096)
    );

    let declared = app.http().post_text("/fhir/$cramp-assess", &big).await;
    assert_eq!(declared.status.as_u16(), 413, "{}", declared.text);
    assert_eq!(declared.body["issue"][0]["code"], "too-costly");

    // Chunked: no Content-Length, the limit is enforced while reading.
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(512)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    let response = crate::helpers::http_client()
        .post(app.http().url("/fhir/$cramp-assess"))
        .header("content-type", "application/fhir+json")
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["issue"][0]["code"], "too-costly");
    app.stop().await;
}

fn futures_stream(
    chunks: Vec<Result<String, std::io::Error>>,
) -> impl tokio_stream::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    tokio_stream::iter(chunks)
}
