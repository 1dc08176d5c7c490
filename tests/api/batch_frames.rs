//! `AssessBatch` framed the way standard gRPC clients frame it: one record per HTTP/2 DATA
//! frame (grpcio, and most gRPC implementations, write each message as its own frame).
//!
//! h2 charges every small DATA frame it buffers against a per-connection budget (its guard
//! against floods of tiny frames, RUSTSEC-2026-0258) and refunds it when the application reads
//! the frame. While `batch.window` back-pressure holds the reader, the frames a client already
//! sent wait unread in h2; if a stream window's worth of small frames costs more than the
//! budget, h2 closes the connection with `ENHANCE_YOUR_CALM`. The raw `h2` client here makes
//! that happen on purpose: it writes every record as its own frame and reads no answer until
//! the server has stopped reading, so the server's receive window fills with small frames.
//! The `.ci/run` step with the Python grpcio client checks the same with an outside client.

use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use cramp_cds::{
    pb::{self, assess_batch_response::Result as BatchResult},
    screen::synthetic,
    server::Application,
};
use prost::Message as _;
use tokio::net::TcpStream;

use crate::helpers::{PATIENCE, init_tracing, test_settings};

/// Records sent: far more than a stream window holds, so the client is still sending when the
/// server's window of records is full.
const RECORDS: usize = 5_000;

/// One gRPC message: the uncompressed flag, the big-endian length, the encoded record.
fn grpc_frame(record: &pb::AssessBatchRequest) -> Bytes {
    let len = record.encoded_len();
    let mut frame = BytesMut::with_capacity(5 + len);
    frame.put_u8(0);
    frame.put_u32(u32::try_from(len).expect("a small record"));
    record.encode(&mut frame).expect("room for the record");
    frame.freeze()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_record_per_data_frame_with_answers_unread_is_answered_whole() {
    init_tracing();
    let settings = test_settings();
    let window = settings.batch.window.get();
    let app = Application::build(&settings).await.expect("binds port 0");
    let gauge = app.batch_gauge();
    let addr = app.grpc_addr();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    let generated: Vec<synthetic::SyntheticRecord> = synthetic::records(14).take(RECORDS).collect();
    let valid: Vec<bool> = generated
        .iter()
        .map(|r| r.invalid_fields.is_empty())
        .collect();
    let records: Vec<pb::AssessBatchRequest> = generated
        .into_iter()
        .enumerate()
        .map(|(i, r)| pb::AssessBatchRequest {
            record_id: format!("frame-{i}"),
            view: pb::AssessmentView::Basic.into(),
            ..r.request
        })
        .collect();
    let frames: Vec<Bytes> = records.iter().map(grpc_frame).collect();
    let largest = frames.iter().map(Bytes::len).max().unwrap_or(0);
    assert!(
        largest < 256,
        "every frame is one h2 charges for (payload under 256 bytes): largest {largest}"
    );

    let tcp = TcpStream::connect(addr).await.expect("connects");
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.expect("the connection takes a stream");
    let request = http::Request::post(format!(
        "http://{addr}/cramp.v1.CrampAssessmentService/AssessBatch"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(())
    .expect("a request");
    let (response, mut send) = client.send_request(request, false).expect("a stream");
    // Each `send_data` is its own DATA frame; h2 holds what the server's window does not yet
    // admit and writes it as WINDOW_UPDATEs arrive.
    let last = frames.len() - 1;
    for (i, frame) in frames.into_iter().enumerate() {
        send.send_data(frame, i == last).expect("queued");
    }

    // No answer is read until the server has stopped reading: its window of records is full,
    // its answers wait on our receive window, and the records behind them sit in its stream
    // window as separate small frames.
    let mut last_seen = (u64::MAX, 0);
    let mut still = 0;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while still < 10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !connection.is_finished(),
            "the server closed the connection while answers were unread"
        );
        let now = (gauge.received(), gauge.in_flight());
        still = if now == last_seen { still + 1 } else { 0 };
        last_seen = now;
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never stopped reading"
        );
    }
    let (received, in_flight) = last_seen;
    assert_eq!(
        in_flight, window,
        "the server holds a full window of records"
    );
    assert!(
        received < RECORDS as u64,
        "the server stopped reading before the end ({received} of {RECORDS} read)"
    );

    // Now read: every record is answered, in order, and the stream ends OK.
    let response = tokio::time::timeout(PATIENCE, response)
        .await
        .expect("response headers in time")
        .expect("response headers, not a connection error");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut buffer = BytesMut::new();
    let mut answered = 0usize;
    while let Some(chunk) = tokio::time::timeout(PATIENCE, body.data())
        .await
        .expect("answers keep coming")
    {
        let chunk =
            chunk.unwrap_or_else(|e| panic!("the connection failed after {answered} answers: {e}"));
        let _ = body.flow_control().release_capacity(chunk.len());
        buffer.extend_from_slice(&chunk);
        while buffer.len() >= 5 {
            let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
            if buffer.len() < 5 + len {
                break;
            }
            buffer.advance(5);
            let answer = pb::AssessBatchResponse::decode(buffer.split_to(len)).expect("decodes");
            assert_eq!(answer.record_id, format!("frame-{answered}"), "in order");
            let assessed = matches!(answer.result, Some(BatchResult::Assessment(_)));
            assert_eq!(assessed, valid[answered], "record {answered}'s answer");
            answered += 1;
        }
    }
    let trailers = tokio::time::timeout(PATIENCE, body.trailers())
        .await
        .expect("trailers in time")
        .expect("trailers, not a connection error")
        .expect("trailers");
    assert_eq!(
        trailers.get("grpc-status").map(|v| v.as_bytes()),
        Some(&b"0"[..]),
        "{trailers:?}"
    );
    assert_eq!(answered, RECORDS, "one answer per record");

    drop((client, send, body));
    let _ = shutdown.send(());
    tokio::time::timeout(PATIENCE, server)
        .await
        .expect("server stops in time")
        .expect("server task did not panic")
        .expect("server stopped without error");
    connection.abort();
}
