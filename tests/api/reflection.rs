//! Server reflection, v1 and v1alpha: grpcurl, Postman and the Python vignette runner discover the
//! API without the protos.

use tokio_stream::StreamExt as _;
use tonic_reflection::pb::{v1, v1alpha};

use crate::helpers::{spawn_app, spawn_app_with, test_settings};

const SERVICE: &str = "cramp.v1.CrampAssessmentService";

pub(crate) async fn list_services_v1(
    channel: tonic::transport::Channel,
) -> Result<Vec<String>, tonic::Status> {
    use v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    match responses
        .next()
        .await
        .transpose()?
        .and_then(|r| r.message_response)
    {
        Some(MessageResponse::ListServicesResponse(list)) => {
            Ok(list.service.into_iter().map(|s| s.name).collect())
        }
        other => panic!("unexpected reflection answer: {other:?}"),
    }
}

async fn list_services_v1alpha(channel: tonic::transport::Channel) -> Vec<String> {
    use v1alpha::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    match responses.next().await.unwrap().unwrap().message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer: {other:?}"),
    }
}

#[tokio::test]
async fn v1_lists_the_api_and_health() {
    let app = spawn_app().await;

    let services = list_services_v1(app.channel().await).await.unwrap();

    assert!(services.iter().any(|s| s == SERVICE), "{services:?}");
    assert!(
        services.iter().any(|s| s == "grpc.health.v1.Health"),
        "{services:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn v1alpha_lists_the_api() {
    let app = spawn_app().await;

    let services = list_services_v1alpha(app.channel().await).await;

    assert!(services.iter().any(|s| s == SERVICE), "{services:?}");
    app.stop().await;
}

#[tokio::test]
async fn v1_describes_the_service_and_serves_its_imports() {
    use prost::Message as _;
    use v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let app = spawn_app().await;
    let ask = |request| v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let requests = [
        ask(MessageRequest::FileContainingSymbol(SERVICE.into())),
        ask(MessageRequest::FileByFilename(
            "cramp/v1/intake.proto".into(),
        )),
    ];

    let mut responses = ServerReflectionClient::new(app.channel().await)
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();

    let mut files = Vec::new();
    while let Some(response) = responses.next().await {
        let Some(MessageResponse::FileDescriptorResponse(found)) =
            response.unwrap().message_response
        else {
            panic!("expected a file descriptor response");
        };
        files.extend(
            found
                .file_descriptor_proto
                .iter()
                .map(|b| prost_types::FileDescriptorProto::decode(b.as_slice()).unwrap()),
        );
    }
    let service_file = files
        .iter()
        .find(|f| f.name() == "cramp/v1/cramp_assessment_service.proto")
        .expect("service file");
    assert!(
        service_file
            .dependency
            .iter()
            .any(|d| d == "cramp/v1/intake.proto")
    );
    let intake = files
        .iter()
        .find(|f| f.name() == "cramp/v1/intake.proto")
        .expect("intake file by name");
    assert!(
        intake
            .message_type
            .iter()
            .any(|m| m.name() == "CrampHistory")
    );
    app.stop().await;
}

#[tokio::test]
async fn reflection_can_be_switched_off() {
    let mut settings = test_settings();
    settings.server.reflection = false;
    let app = spawn_app_with(settings).await;

    let err = list_services_v1(app.channel().await).await.unwrap_err();

    assert_eq!(err.code(), tonic::Code::Unimplemented);
    app.stop().await;
}
