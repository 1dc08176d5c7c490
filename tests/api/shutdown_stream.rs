//! SIGTERM during a batch stream (issue 14, item 4): the real binary, a client that keeps
//! sending as fast as it can; every answer the server handed on reaches the client, then the
//! stream ends with UNAVAILABLE `SERVER_SHUTTING_DOWN`, never a broken connection.

use std::time::Duration;

use cramp_cds::pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient};
use tokio::sync::mpsc;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{PATIENCE, connect, minimal_request, spawn_binary_with};

fn record(id: &str) -> pb::AssessBatchRequest {
    pb::AssessBatchRequest {
        record_id: id.into(),
        history: minimal_request(id).input.and_then(|input| match input {
            pb::assess_request::Input::History(h) => Some(h),
            pb::assess_request::Input::QuestionnaireResponseJson(_) => None,
        }),
        view: 2,
    }
}

/// The `answered` count of the server's one `batch stream closed` log line.
fn logged_answers(lines: &[String]) -> u64 {
    let counts: Vec<u64> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["fields"]["message"] == "batch stream closed")
        .filter_map(|v| v["fields"]["answered"].as_u64())
        .collect();
    assert_eq!(counts.len(), 1, "one stream logged: {counts:?}");
    counts[0]
}

#[tokio::test]
async fn sigterm_mid_stream_delivers_every_answer_then_unavailable() {
    let server = spawn_binary_with(
        "info",
        &[
            ("CRAMP__SERVER__DRAIN_DELAY_SECONDS", "0"),
            ("CRAMP__SERVER__SHUTDOWN_GRACE_SECONDS", "1"),
        ],
    )
    .await;
    let (tx, rx) = mpsc::channel(256);
    let mut answers = CrampAssessmentServiceClient::new(connect(server.addr).await)
        .assess_batch(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    // Sends until the server stops taking records (the send fails once the call is over).
    let sender = tokio::spawn(async move {
        let mut i = 0_u64;
        while tx.send(record(&format!("r-{i}"))).await.is_ok() {
            i += 1;
        }
        i
    });

    let mut received = 0_u64;
    let ending = tokio::time::timeout(PATIENCE, async {
        loop {
            match answers.message().await {
                Ok(Some(answer)) => {
                    assert_eq!(
                        answer.record_id,
                        format!("r-{received}"),
                        "in order, none lost"
                    );
                    received += 1;
                    if received == 2_000 {
                        server.signal_terminate();
                    }
                }
                Ok(None) => panic!("the stream ended without a status after {received}"),
                Err(status) => break status,
            }
        }
    })
    .await
    .expect("the stream ends in time");
    assert_eq!(ending.code(), Code::Unavailable, "{ending:?}");
    assert_eq!(
        ending.get_details_error_info().expect("ErrorInfo").reason,
        cramp_cds::status::Reason::ServerShuttingDown.as_str(),
        "{ending:?}"
    );
    drop(answers);
    let sent = tokio::time::timeout(Duration::from_secs(10), sender)
        .await
        .expect("the sender stops")
        .unwrap();
    let (code, lines) = server.wait().await;
    assert_eq!(code, Some(0));
    assert!(received > 2_000, "the stream ran on after the signal");
    assert!(sent >= received);
    assert_eq!(
        logged_answers(&lines),
        received,
        "every answer the server handed on was received"
    );
}
