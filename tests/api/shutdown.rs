//! Shutdown: NOT_SERVING, a drain delay while connections are still accepted, listeners closed,
//! in-flight calls and open streams finished, streams past the grace ended with a clear status,
//! exit 0 — in-process and as the real binary under load.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use cramp_cds::{
    pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient},
    server::Application,
};
use tokio::sync::{mpsc, oneshot};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt as _;

use crate::helpers::{
    PATIENCE, connect, health, init_tracing, minimal_request, spawn_binary_with, test_settings,
};

fn record(id: &str) -> pb::AssessBatchRequest {
    pb::AssessBatchRequest {
        record_id: id.into(),
        history: minimal_request(id).input.and_then(|input| match input {
            pb::assess_request::Input::History(h) => Some(h),
            pb::assess_request::Input::QuestionnaireResponseJson(_) => None,
        }),
        view: 0,
    }
}

#[tokio::test]
async fn drain_delay_then_refusal_then_open_streams_end_with_unavailable() {
    init_tracing();
    let mut settings = test_settings();
    // Margins of a second or more at every step: CI runs this with every crate logging at TRACE.
    settings.server.drain_delay_seconds = 4;
    settings.server.shutdown_grace_seconds = 3;
    let app = Application::build(&settings).await.unwrap();
    let addr = app.grpc_addr();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stop_rx.await;
    }));

    // A batch stream open before the signal.
    let channel = connect(addr).await;
    let (tx, rx) = mpsc::channel(8);
    tx.send(record("before")).await.unwrap();
    let mut answers = CrampAssessmentServiceClient::new(channel.clone())
        .assess_batch(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answers.message().await.unwrap().unwrap().record_id,
        "before"
    );

    let signalled = Instant::now();
    stop_tx.send(()).unwrap();
    // Health says NOT_SERVING at once (load balancers stop routing here)...
    tokio::time::timeout(PATIENCE, async {
        while health(channel.clone(), "").await.ok() != Some(ServingStatus::NotServing) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("NOT_SERVING after the signal");
    // ...liveness stays SERVING (a draining replica is not restarted)...
    assert_eq!(
        health(channel.clone(), cramp_cds::server::LIVENESS)
            .await
            .unwrap(),
        ServingStatus::Serving
    );
    // ...and during the drain delay new connections are still accepted and served.
    let late = connect(addr).await;
    CrampAssessmentServiceClient::new(late)
        .assess(minimal_request("during-drain"))
        .await
        .expect("served during the drain delay");
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "test too slow to check the delay"
    );

    // After the delay the listener is closed: new connections are refused.
    tokio::time::sleep(Duration::from_millis(4_300).saturating_sub(signalled.elapsed())).await;
    let refused = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await;
    assert!(
        refused.is_err(),
        "new connections are refused after the drain delay"
    );

    // The open stream still works during the grace...
    tx.send(record("during-grace")).await.unwrap();
    assert_eq!(
        answers.message().await.unwrap().unwrap().record_id,
        "during-grace"
    );
    // ...and at its end gets a clear, retryable status instead of a cut connection.
    let ending = tokio::time::timeout(PATIENCE, answers.message())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(ending.code(), Code::Unavailable, "{ending:?}");
    assert_eq!(
        ending.get_details_error_info().unwrap().reason,
        "SERVER_SHUTTING_DOWN"
    );
    tokio::time::timeout(PATIENCE, server)
        .await
        .unwrap()
        .unwrap()
        .expect("stops without error");
    drop(tx);
}

#[tokio::test]
async fn sigterm_under_load_answers_every_call_sent_before_it_and_exits_0() {
    let server = spawn_binary_with(
        "info",
        &[
            ("CRAMP__SERVER__DRAIN_DELAY_SECONDS", "1"),
            ("CRAMP__SERVER__SHUTDOWN_GRACE_SECONDS", "10"),
        ],
    )
    .await;
    let addr = server.addr;
    let signalled = Arc::new(AtomicBool::new(false));

    // Eight clients calling in a loop on their own connections.
    let mut load = Vec::new();
    for client in 0..8 {
        let signalled = Arc::clone(&signalled);
        let channel = connect(addr).await;
        load.push(tokio::spawn(async move {
            let mut client_api = CrampAssessmentServiceClient::new(channel);
            let (mut before, mut answered_before) = (0_u32, 0_u32);
            for i in 0..400 {
                let sent_before_signal = !signalled.load(Ordering::SeqCst);
                let outcome = client_api
                    .assess(minimal_request(&format!("load-{client}-{i}")))
                    .await;
                if sent_before_signal {
                    before += 1;
                    match outcome {
                        Ok(_) => answered_before += 1,
                        Err(status) => panic!("a call sent before SIGTERM failed: {status:?}"),
                    }
                } else if outcome.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (before, answered_before)
        }));
    }
    // And a batch stream that keeps sending for a while after the signal, then closes.
    let (tx, rx) = mpsc::channel(16);
    let mut answers = CrampAssessmentServiceClient::new(connect(addr).await)
        .assess_batch(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let sender = tokio::spawn(async move {
        for i in 0..60 {
            tx.send(record(&format!("stream-{i}"))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    });

    tokio::time::sleep(Duration::from_millis(400)).await;
    signalled.store(true, Ordering::SeqCst);
    server.signal_terminate();

    let mut ids = Vec::new();
    while let Some(answer) = tokio::time::timeout(PATIENCE, answers.message())
        .await
        .unwrap()
        .expect("the stream ends cleanly, not with an error")
    {
        ids.push(answer.record_id);
    }
    sender.await.unwrap();
    let expected: Vec<String> = (0..60).map(|i| format!("stream-{i}")).collect();
    assert_eq!(
        ids, expected,
        "every record of the open stream answered, in order"
    );

    let mut sent_before = 0;
    for client in load {
        let (before, answered) = client.await.unwrap();
        assert_eq!(before, answered);
        sent_before += before;
    }
    assert!(sent_before > 8, "load was running when the signal came");
    let (code, lines) = server.wait().await;
    assert_eq!(code, Some(0), "exit code");
    assert!(
        lines.iter().any(|l| l.contains("listeners closed")),
        "drain logged"
    );
}
