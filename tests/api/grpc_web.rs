//! gRPC-Web on the gRPC port, called the way a browser intake form would: plain HTTP/1.1 with
//! the grpc-web framing (a flag byte and a big-endian length before each message, trailers in a
//! final frame whose flag has the high bit set).

use cramp_cds::pb;
use prost::Message as _;

use crate::helpers::{ALLOWED_ORIGIN, minimal_request, spawn_app};

fn frame(message: &impl prost::Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut framed = vec![0_u8];
    framed.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    framed.extend_from_slice(&body);
    framed
}

/// The data frames and the trailer text of a grpc-web response body.
fn unframe(mut body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let mut messages = Vec::new();
    let mut trailers = String::new();
    while body.len() >= 5 {
        let flag = body[0];
        let len = usize::try_from(u32::from_be_bytes(body[1..5].try_into().unwrap())).unwrap();
        let payload = &body[5..5 + len];
        if flag & 0x80 == 0 {
            messages.push(payload.to_vec());
        } else {
            trailers.push_str(std::str::from_utf8(payload).unwrap());
        }
        body = &body[5 + len..];
    }
    (messages, trailers)
}

async fn call(addr: std::net::SocketAddr, request: &pb::AssessRequest) -> reqwest::Response {
    crate::helpers::http_client()
        .post(format!(
            "http://{addr}/cramp.v1.CrampAssessmentService/Assess"
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", ALLOWED_ORIGIN)
        .body(frame(request))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn assess_answers_a_grpc_web_call_over_http_1_1() {
    let app = spawn_app().await;
    let response = call(app.addr, &minimal_request("web-1")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/grpc-web")
    );
    let (messages, trailers) = unframe(&response.bytes().await.unwrap());
    assert_eq!(messages.len(), 1);
    let answer = pb::AssessResponse::decode(messages[0].as_slice()).unwrap();
    assert_eq!(answer.request_id, "web-1");
    assert!(answer.assessment.is_some());
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    // An invalid request fails with INVALID_ARGUMENT (3), in the trailers or the headers.
    let mut invalid = minimal_request("web-2");
    invalid.input = None;
    let response = call(app.addr, &invalid).await;
    let in_headers = response
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    let (_, trailers) = unframe(&response.bytes().await.unwrap());
    assert!(
        in_headers.as_deref() == Some("3") || trailers.contains("grpc-status:3"),
        "{in_headers:?} {trailers}"
    );
    app.stop().await;
}
