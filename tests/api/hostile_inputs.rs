//! Smaller failures an outside attack found, each over a real socket: bodies that are not
//! declared as JSON get 415; an undecodable record in a batch stream ends it with the documented
//! `INVALID_ARGUMENT`/`UNPARSEABLE_RECORD` naming the record, after every earlier answer; a client
//! that disconnects mid-stream is counted as `CANCELLED`, never `UNKNOWN`; and the client's own
//! strings (an odd `request_id`, an unknown linkId) never reach a log line as they are.

use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use cramp_cds::{
    pb::{self, assess_batch_response::Result as BatchResult},
    status::Reason,
};
use prost::Message as _;
use serde_json::json;
use tokio::net::TcpStream;
use tonic_types::StatusExt as _;

use crate::{
    helpers::{PATIENCE, capture_trace_logs, minimal_request, spawn_app, spawn_binary},
    http_support::Http,
};

/// A gRPC message: the uncompressed flag, the big-endian length, the bytes.
fn grpc_frame(message: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(u32::try_from(message.len()).unwrap());
    frame.put_slice(message);
    frame.freeze()
}

fn record(id: &str) -> Vec<u8> {
    let request = minimal_request(id);
    pb::AssessBatchRequest {
        record_id: id.into(),
        history: match request.input {
            Some(pb::assess_request::Input::History(history)) => Some(history),
            _ => None,
        },
        view: pb::AssessmentView::Basic.into(),
    }
    .encode_to_vec()
}

/// Opens an `AssessBatch` stream over a raw HTTP/2 connection.
async fn open_batch(
    addr: std::net::SocketAddr,
) -> (
    h2::client::ResponseFuture,
    h2::SendStream<Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!(
        "http://{addr}/cramp.v1.CrampAssessmentService/AssessBatch"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(())
    .unwrap();
    let (response, send) = client.send_request(request, false).unwrap();
    (response, send, connection)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_batch_record_ends_the_stream_with_a_documented_status_naming_it() {
    let app = spawn_app().await;
    let (response, mut send, connection) = open_batch(app.addr).await;
    send.send_data(grpc_frame(&record("r1")), false).unwrap();
    send.send_data(grpc_frame(&record("r2")), false).unwrap();
    // Field 1 as a varint wire type where a string is due: not an AssessBatchRequest.
    send.send_data(grpc_frame(&[0x08, 0xff, 0xff, 0xff]), false)
        .unwrap();
    send.send_data(grpc_frame(&record("r4")), true).unwrap();

    let response = tokio::time::timeout(PATIENCE, response)
        .await
        .unwrap()
        .unwrap();
    let mut body = response.into_body();
    let mut buffer = BytesMut::new();
    while let Some(chunk) = tokio::time::timeout(PATIENCE, body.data()).await.unwrap() {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        buffer.extend_from_slice(&chunk);
    }
    let mut answers = Vec::new();
    while buffer.len() >= 5 {
        let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
        buffer.advance(5);
        answers.push(pb::AssessBatchResponse::decode(buffer.split_to(len)).unwrap());
    }
    let ids: Vec<&str> = answers.iter().map(|a| a.record_id.as_str()).collect();
    assert_eq!(
        ids,
        ["r1", "r2"],
        "every record before the bad one is answered"
    );
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.result, Some(BatchResult::Assessment(_))))
    );
    let trailers = tokio::time::timeout(PATIENCE, body.trailers())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let status = tonic::Status::from_header_map(&trailers).expect("a gRPC status");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert_eq!(Reason::of(&status), Some(Reason::UnparseableRecord));
    assert_eq!(
        status.get_details_error_info().unwrap().metadata["record"],
        "3"
    );
    connection.abort();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_stream_is_counted_as_cancelled() {
    let server = spawn_binary("info").await;
    let http = Http::at(server.http_addr);
    for round in 0..3 {
        let (response, mut send, connection) = open_batch(server.addr).await;
        for i in 0..20 {
            send.send_data(grpc_frame(&record(&format!("d{round}-{i}"))), false)
                .unwrap();
        }
        // Wait for the answers to start, then go away without a word.
        let response = tokio::time::timeout(PATIENCE, response)
            .await
            .unwrap()
            .unwrap();
        let mut body = response.into_body();
        let _ = tokio::time::timeout(PATIENCE, body.data()).await.unwrap();
        connection.abort();
        drop((send, body));
    }

    let batch = "cramp.v1.CrampAssessmentService/AssessBatch";
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let scrape = loop {
        let scrape = http.get("/metrics").await.text;
        let counted = |status: &str| {
            scrape.lines().any(|l| {
                l.starts_with("rpc_server_call_duration_seconds_count{")
                    && l.contains(&format!("rpc_method=\"{batch}\""))
                    && l.contains(&format!("rpc_response_status_code=\"{status}\""))
            })
        };
        if counted("CANCELLED") || tokio::time::Instant::now() > deadline {
            assert!(!counted("UNKNOWN"), "{scrape}");
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        scrape.contains("rpc_response_status_code=\"CANCELLED\""),
        "{scrape}"
    );
    let (code, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_not_declared_as_json_get_415_with_an_operation_outcome() {
    let app = spawn_app().await;
    let http = app.http();
    let body = json!({"resourceType": "Parameters"}).to_string();
    for path in [
        "/fhir/$cramp-assess",
        "/cds-services/leg-cramp-screen",
        "/cds-services/leg-cramp-screen/feedback",
    ] {
        for content_type in [
            Some("text/plain"),
            Some("application/xml"),
            Some("application/fhir+xml"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let mut request = http.client().post(http.url(path)).body(body.clone());
            if let Some(content_type) = content_type {
                request = request.header(reqwest::header::CONTENT_TYPE, content_type);
            }
            let answer = http.send(request).await;
            assert_eq!(
                answer.status, 415,
                "{path} {content_type:?}: {}",
                answer.text
            );
            assert_eq!(answer.body["resourceType"], "OperationOutcome");
            assert_eq!(answer.body["issue"][0]["code"], "not-supported");
        }
        // JSON with parameters still reaches the handler (which may refuse the body itself).
        let request = http
            .client()
            .post(http.url(path))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/fhir+json; charset=utf-8",
            )
            .body(body.clone());
        assert_ne!(http.send(request).await.status, 415, "{path}");
    }
    app.stop().await;
}

#[test]
fn client_chosen_ids_and_unknown_link_ids_are_not_logged_as_they_are() {
    const ODD_ID: &str = "Jane Qzxdoe born 1950-02-03";
    const LONG_ID: &str = "qzxlongid-qzxlongid-qzxlongid-qzxlongid-qzxlongid-qzxlongid-qzxlongid";
    const LINK_ID: &str = "patient.qzx_jane_secret";
    let logs = capture_trace_logs(|| async {
        let app = spawn_app().await;
        let mut client = app.client().await;
        for id in [ODD_ID, LONG_ID] {
            let _ = client.assess(minimal_request(id)).await.unwrap();
        }
        let response = json!({
            "resourceType": "QuestionnaireResponse",
            "questionnaire": crate::fhir_convert::canonical(),
            "status": "completed",
            "item": [
                {"linkId": "patient.age_years", "answer": [{"valueInteger": 60}]},
                {"linkId": LINK_ID, "answer": [{"valueBoolean": true}]},
            ],
        });
        let request = pb::AssessRequest {
            request_id: "qr-1".into(),
            input: Some(pb::assess_request::Input::QuestionnaireResponseJson(
                response.to_string(),
            )),
        };
        let status = client.assess(request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        let answer = app
            .http()
            .post(
                "/fhir/$cramp-assess",
                &json!({"resourceType": "Parameters", "parameter": [
                    {"name": "questionnaireResponse", "resource": response}
                ]}),
            )
            .await;
        assert_eq!(answer.status, 400);
        assert!(
            answer.text.contains(LINK_ID),
            "the caller is told which item"
        );
        app.stop().await;
    });
    for secret in ["Qzxdoe", "qzxlongid", "qzx_jane_secret"] {
        assert!(!logs.contains(secret), "{secret} was logged");
    }
    assert!(logs.contains("replaced:"), "stand-ins are logged instead");
}
