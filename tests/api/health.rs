//! grpc.health.v1: SERVING once started, NOT_SERVING while draining on shutdown.

use std::time::Duration;

use tokio_stream::StreamExt as _;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::helpers::{PATIENCE, health, spawn_app};

const SERVICE: &str = "cramp.v1.CrampAssessmentService";

#[tokio::test]
async fn the_server_and_the_service_are_serving_after_start() {
    let app = spawn_app().await;
    let channel = app.channel().await;

    assert_eq!(
        health(channel.clone(), "").await.unwrap(),
        ServingStatus::Serving
    );
    assert_eq!(
        health(channel.clone(), SERVICE).await.unwrap(),
        ServingStatus::Serving
    );
    assert_eq!(
        health(channel, "no.such.Service").await.unwrap_err().code(),
        tonic::Code::NotFound
    );
    app.stop().await;
}

#[tokio::test]
async fn a_watcher_sees_not_serving_on_shutdown_and_does_not_block_the_drain() {
    let app = spawn_app().await;
    let mut watch = HealthClient::new(app.channel().await)
        .watch(HealthCheckRequest {
            service: SERVICE.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(PATIENCE, watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);

    // `stop` fails if the open Watch stream kept the server from draining within PATIENCE.
    let stopping = tokio::spawn(app.stop());
    let next = tokio::time::timeout(PATIENCE, watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    tokio::time::timeout(PATIENCE + Duration::from_secs(1), stopping)
        .await
        .unwrap()
        .unwrap();
}
