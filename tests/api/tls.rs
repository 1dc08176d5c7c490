//! TLS and mutual TLS on both ports, with certificates minted at test time.

use cramp_cds::pb::cramp_assessment_service_client::CrampAssessmentServiceClient;

use crate::{
    helpers::{capture_trace_logs, minimal_request, spawn_app_with, test_settings},
    pki::Pki,
};

/// Whether a gRPC client is turned away: its connection fails, or its first call does (with TLS
/// 1.3 a refused client certificate is only reported once the client sends).
async fn assess_refused(
    channel: Result<tonic::transport::Channel, tonic::transport::Error>,
    request_id: &str,
) -> bool {
    match channel {
        Err(_) => true,
        Ok(channel) => CrampAssessmentServiceClient::new(channel)
            .assess(minimal_request(request_id))
            .await
            .is_err(),
    }
}

#[tokio::test]
async fn tls_serves_both_ports_and_plaintext_is_refused() {
    let pki = Pki::new();
    let mut settings = test_settings();
    pki.enable(&mut settings, false, false);
    let app = spawn_app_with(settings).await;

    let channel = pki
        .grpc_channel(app.addr, None)
        .await
        .expect("TLS connects");
    let answer = CrampAssessmentServiceClient::new(channel)
        .assess(minimal_request("tls-1"))
        .await
        .expect("Assess over TLS");
    assert_eq!(answer.into_inner().request_id, "tls-1");

    let response = pki.https_get(app.http_addr, "/about", None).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // A plaintext HTTP/2 client cannot call the TLS port.
    let plaintext = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(5));
    let refused = assess_refused(plaintext.connect().await, "plain").await;
    assert!(refused, "plaintext gRPC must not be served on the TLS port");

    // Nor can a plaintext HTTP/1.1 request reach the HTTP door.
    let plain_http = crate::helpers::http_client()
        .get(format!("http://{}/about", app.http_addr))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(plain_http.is_err(), "plaintext HTTP must not be served");
    app.stop().await;
}

#[tokio::test]
async fn mutual_tls_refuses_clients_without_a_certificate() {
    let pki = Pki::new();
    let mut settings = test_settings();
    pki.enable(&mut settings, true, true);
    let app = spawn_app_with(settings).await;
    let client = pki.leaf("intake-worker", false);

    // With a certificate from the CA: both ports answer.
    let channel = pki
        .grpc_channel(app.addr, Some(&client))
        .await
        .expect("mTLS connects");
    CrampAssessmentServiceClient::new(channel)
        .assess(minimal_request("mtls-1"))
        .await
        .expect("Assess over mTLS");
    let response = pki
        .https_get(app.http_addr, "/about", Some(&client))
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // Without one: refused on both ports.
    let refused = assess_refused(pki.grpc_channel(app.addr, None).await, "mtls-none").await;
    assert!(refused, "gRPC without a client certificate must be refused");
    let http = pki.https_get(app.http_addr, "/about", None).await;
    assert!(
        http.as_ref()
            .map_or(true, |r| !r.starts_with("HTTP/1.1 200")),
        "HTTP without a client certificate must be refused: {http:?}"
    );

    // A certificate from another CA is refused too.
    let stranger = Pki::new().leaf("stranger", false);
    let refused = assess_refused(
        pki.grpc_channel(app.addr, Some(&stranger)).await,
        "mtls-stranger",
    )
    .await;
    assert!(refused, "a certificate from an unknown CA must be refused");
    app.stop().await;
}

#[test]
fn the_client_certificate_subject_reaches_the_audit_trail() {
    let logs = capture_trace_logs(|| async {
        let pki = Pki::new();
        let mut settings = test_settings();
        pki.enable(&mut settings, true, false);
        let app = spawn_app_with(settings).await;
        let client = pki.leaf("intake-worker", false);
        let channel = pki.grpc_channel(app.addr, Some(&client)).await.unwrap();
        CrampAssessmentServiceClient::new(channel)
            .assess(minimal_request("mtls-audit"))
            .await
            .unwrap();
        // Optional client certificates: a client without one is still served.
        let channel = pki.grpc_channel(app.addr, None).await.unwrap();
        CrampAssessmentServiceClient::new(channel)
            .assess(minimal_request("tls-anonymous"))
            .await
            .unwrap();
        app.stop().await;
    });
    let audit: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "audit")
        .collect();
    assert_eq!(audit.len(), 2, "one audit event per assessment: {audit:#?}");
    assert_eq!(audit[0]["fields"]["agent.who"], "CN=intake-worker");
    assert_eq!(audit[0]["fields"]["agent.method"], "mtls");
    assert_eq!(audit[1]["fields"]["agent.who"], "anonymous");
}

#[tokio::test]
async fn probes_reach_health_on_the_plaintext_health_port_while_the_api_is_tls_only() {
    let pki = Pki::new();
    let mut settings = test_settings();
    pki.enable(&mut settings, true, true);
    settings.server.health_addr = Some("127.0.0.1:0".parse().unwrap());
    crate::helpers::init_tracing();
    let app = cramp_cds::server::Application::build(&settings)
        .await
        .unwrap();
    let health_addr = app.health_addr().expect("health port bound");
    let app = crate::helpers::run(app);

    let channel = crate::helpers::connect(health_addr).await;
    for service in ["", cramp_cds::server::LIVENESS] {
        assert_eq!(
            crate::helpers::health(channel.clone(), service)
                .await
                .unwrap(),
            tonic_health::pb::health_check_response::ServingStatus::Serving,
            "{service:?}"
        );
    }
    // The health port serves health only, never the API.
    let api = CrampAssessmentServiceClient::new(channel)
        .assess(minimal_request("via-health-port"))
        .await
        .unwrap_err();
    assert_eq!(api.code(), tonic::Code::Unimplemented, "{api:?}");
    app.stop().await;
}
