//! The real server binary: starts on a free port, reports SERVING, and exits 0 on SIGTERM after
//! draining.

use tonic_health::pb::health_check_response::ServingStatus;

use crate::helpers::{connect, health, minimal_request, spawn_binary};

#[tokio::test]
async fn serves_until_sigterm_then_exits_cleanly() {
    let server = spawn_binary("info").await;
    let channel = connect(server.addr).await;
    assert_eq!(
        health(channel.clone(), "").await.unwrap(),
        ServingStatus::Serving
    );
    let mut client =
        cramp_cds::pb::cramp_assessment_service_client::CrampAssessmentServiceClient::new(channel);
    assert!(client.assess(minimal_request("bin-1")).await.is_ok());

    let (code, lines) = server.terminate().await;

    assert_eq!(code, Some(0), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("SIGTERM")), "{lines:#?}");
    assert!(
        lines.last().is_some_and(|l| l.contains("stopped")),
        "{lines:#?}"
    );
}
