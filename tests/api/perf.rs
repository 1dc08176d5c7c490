//! What the load generator leans on: the canned baseline (off unless asked for, never in
//! production, answers of exactly the asked size through the API's own stack) and the background
//! log writer (no audit event lost when many calls log at once).

use bytes::Bytes;
use cramp_cds::bench_canned::{RawCodec, SIZE_KEY, STREAM_PATH, UNARY_PATH};
use tonic::{codegen::http::uri::PathAndQuery, metadata::MetadataValue, transport::Channel};

use crate::helpers::{connect, minimal_request, spawn_app_with, spawn_binary, test_settings};

async fn canned_unary(channel: &Channel, size: Option<&str>) -> Result<Bytes, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(Bytes::from_static(b"anything"));
    if let Some(size) = size {
        request
            .metadata_mut()
            .insert(SIZE_KEY, MetadataValue::try_from(size).unwrap());
    }
    grpc.unary(request, PathAndQuery::from_static(UNARY_PATH), RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_canned_service_is_off_by_default() {
    let app = spawn_app_with(test_settings()).await;
    let status = canned_unary(&app.channel().await, Some("10"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_canned_service_answers_the_size_asked_for_unary_and_per_record() {
    let mut settings = test_settings();
    settings.server.bench_canned_service = true;
    let app = spawn_app_with(settings).await;
    let channel = app.channel().await;

    assert_eq!(
        canned_unary(&channel, Some("6143")).await.unwrap().len(),
        6143
    );
    assert_eq!(canned_unary(&channel, Some("0")).await.unwrap().len(), 0);
    for bad in [None, Some("-1"), Some("lots"), Some("1048577")] {
        let status = canned_unary(&channel, bad).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad:?}");
        assert!(status.message().contains(SIZE_KEY), "{status:?}");
    }

    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let records = std::iter::repeat_n(Bytes::from_static(b"record"), 5);
    let mut request = tonic::Request::new(tokio_stream::iter(records));
    request
        .metadata_mut()
        .insert(SIZE_KEY, MetadataValue::from(700_usize));
    let mut answers = grpc
        .streaming(request, PathAndQuery::from_static(STREAM_PATH), RawCodec)
        .await
        .unwrap()
        .into_inner();
    let mut sizes = Vec::new();
    while let Some(answer) = answers.message().await.unwrap() {
        sizes.push(answer.len());
    }
    assert_eq!(sizes, vec![700; 5]);
    app.stop().await;
}

/// The real binary, many calls at once: every `assessed` line and every audit event reaches
/// stdout by the time it exits, although a worker thread writes them.
#[tokio::test]
async fn the_background_writer_loses_no_line_of_a_burst() {
    const CALLS: usize = 400;
    let server = spawn_binary("info").await;
    let channel = connect(server.addr).await;
    let calls = (0..CALLS).map(|i| {
        let mut client =
            cramp_cds::pb::cramp_assessment_service_client::CrampAssessmentServiceClient::new(
                channel.clone(),
            );
        tokio::spawn(async move { client.assess(minimal_request(&format!("burst-{i}"))).await })
    });
    for call in calls.collect::<Vec<_>>() {
        assert!(call.await.unwrap().is_ok());
    }

    let (code, lines) = server.terminate().await;

    assert_eq!(code, Some(0));
    let count = |message: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!("\"message\":\"{message}\"")))
            .count()
    };
    assert_eq!(count("assessed"), CALLS);
    assert_eq!(count("assessment audited"), CALLS);
    assert!(lines.last().is_some_and(|l| l.contains("stopped")));
}
