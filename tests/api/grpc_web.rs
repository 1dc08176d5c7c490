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

/// The header names a CORS answer lists, lower-cased.
fn listed(response: &reqwest::Response, header: &str) -> Vec<String> {
    response
        .headers()
        .get_all(header)
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn a_browser_may_send_its_token_and_trace_and_read_the_grpc_status() {
    let app = spawn_app().await;
    let asked = [
        "authorization",
        "traceparent",
        "grpc-timeout",
        "x-grpc-web",
        "x-user-agent",
        "content-type",
    ];
    let preflight = crate::helpers::http_client()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{}/cramp.v1.CrampAssessmentService/Assess", app.addr),
        )
        .header("origin", ALLOWED_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", asked.join(","))
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        ALLOWED_ORIGIN
    );
    let allowed = listed(&preflight, "access-control-allow-headers");
    for header in asked {
        assert!(allowed.iter().any(|a| a == header), "{header}: {allowed:?}");
    }

    // The answer lets the page's script read the gRPC status headers.
    let response = call(app.addr, &minimal_request("web-3")).await;
    let exposed = listed(&response, "access-control-expose-headers");
    for header in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(exposed.iter().any(|e| e == header), "{header}: {exposed:?}");
    }
    app.stop().await;
}

/// A grpc-web-text body: base64 written frame by frame, each padded on its own, so it is read four
/// characters at a time.
fn text_decode(body: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    body.chunks(4)
        .flat_map(|group| {
            base64::engine::general_purpose::STANDARD
                .decode(group)
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_grpc_web_text_call_is_answered_in_text_errors_included() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let app = spawn_app().await;
    let text_call = |request: pb::AssessRequest| {
        crate::helpers::http_client()
            .post(format!(
                "http://{}/cramp.v1.CrampAssessmentService/Assess",
                app.addr
            ))
            // No `accept`, as a browser's fetch without one sends it.
            .header("content-type", "application/grpc-web-text")
            .header("x-grpc-web", "1")
            .header("origin", ALLOWED_ORIGIN)
            .body(b64.encode(frame(&request)))
            .send()
    };

    let mut invalid = minimal_request("web-text-1");
    invalid.input = None;
    let response = text_call(invalid).await.unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/grpc-web-text"),
        "{content_type}"
    );
    let in_headers = response
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.bytes().await.unwrap();
    let (_, trailers) = unframe(&text_decode(&body));
    assert!(
        in_headers.as_deref() == Some("3") || trailers.contains("grpc-status:3"),
        "{in_headers:?} {trailers}"
    );

    // A valid call comes back as text too, its message readable after base64.
    let response = text_call(minimal_request("web-text-2")).await.unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/grpc-web-text")
    );
    let (messages, trailers) = unframe(&text_decode(&response.bytes().await.unwrap()));
    assert_eq!(messages.len(), 1, "{trailers}");
    let answer = pb::AssessResponse::decode(messages[0].as_slice()).unwrap();
    assert_eq!(answer.request_id, "web-text-2");
    app.stop().await;
}
