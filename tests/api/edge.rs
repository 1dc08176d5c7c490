//! Slow and idle callers (issue 14, item 2) over raw sockets: idle sockets do not make health
//! unreachable and are closed; a listener at its connection cap closes new connections at once
//! and readiness turns NOT_SERVING until it has room; slow bodies hold no call slot.

use std::{
    num::{NonZeroU64, NonZeroUsize},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};
use tonic_health::pb::health_check_response::ServingStatus;

use crate::{
    helpers::{PATIENCE, health, minimal_request, spawn_app_with_limiter, test_settings},
    limits::wait_for_health,
};

/// Whether the server closes `socket` (EOF or reset) within `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0_u8; 1];
    match tokio::time::timeout(within, socket.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test]
async fn twelve_hundred_idle_sockets_leave_health_answering_and_are_closed_after_the_first_bytes_deadline()
 {
    let mut settings = test_settings();
    settings.limits.header_read_timeout_seconds = NonZeroU64::new(2).unwrap();
    let (app, _limiter) = spawn_app_with_limiter(settings).await;

    let mut idle = Vec::new();
    for i in 0..1_200 {
        let addr = if i % 2 == 0 { app.addr } else { app.http_addr };
        idle.push(TcpStream::connect(addr).await.expect("connects"));
    }
    // Health on a fresh connection, and an API call, answer while the sockets sit there.
    let answered = tokio::time::timeout(Duration::from_secs(5), health(app.channel().await, ""))
        .await
        .expect("health answers in time")
        .unwrap();
    assert_eq!(answered, ServingStatus::Serving);
    app.assess(minimal_request("beside-idle-sockets"))
        .await
        .expect("the API answers beside idle sockets");
    assert_eq!(app.http().get("/ready").await.status.as_u16(), 200);

    // Each idle socket is closed by the server once the first-bytes deadline (2 s) passes.
    let started = Instant::now();
    for socket in &mut idle {
        assert!(
            closed_within(socket, Duration::from_secs(6)).await,
            "an idle socket stays open"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(6));
    app.stop().await;
}

#[tokio::test]
async fn a_listener_at_its_cap_closes_new_connections_and_readiness_flips_until_it_has_room() {
    let mut settings = test_settings();
    settings.limits.max_connections_per_listener = NonZeroUsize::new(16).unwrap();
    settings.limits.header_read_timeout_seconds = NonZeroU64::new(60).unwrap();
    let (app, limiter) = spawn_app_with_limiter(settings).await;
    wait_for_health(&app, ServingStatus::Serving).await;

    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(app.http_addr).await.unwrap());
    }
    tokio::time::timeout(PATIENCE, async {
        while limiter.http_connections().open() < 16 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the sockets are accepted");
    // The next one is closed at once, not left hanging.
    let mut over = TcpStream::connect(app.http_addr).await.unwrap();
    assert!(closed_within(&mut over, Duration::from_secs(2)).await);
    assert!(limiter.http_connections().refused() >= 1);
    // Health (on the other listener) says the replica cannot take work...
    wait_for_health(&app, ServingStatus::NotServing).await;
    // ...and says it can again once the sockets go.
    drop(held);
    wait_for_health(&app, ServingStatus::Serving).await;
    assert_eq!(app.http().get("/ready").await.status.as_u16(), 200);
    app.stop().await;
}

#[tokio::test]
async fn bodies_sent_at_one_byte_a_second_hold_no_call_slot() {
    let mut settings = test_settings();
    settings.limits.max_concurrent_calls = NonZeroUsize::new(4).unwrap();
    settings.limits.body_read_timeout_seconds = NonZeroU64::new(3).unwrap();
    let (app, limiter) = spawn_app_with_limiter(settings).await;

    // 64 HTTP requests whose bodies trickle: far more than the 4 call slots.
    let mut slow = Vec::new();
    for _ in 0..64 {
        let mut socket = TcpStream::connect(app.http_addr).await.unwrap();
        socket
            .write_all(
                b"POST /fhir/$cramp-assess HTTP/1.1\r\nhost: x\r\n\
                  content-type: application/fhir+json\r\ncontent-length: 1000\r\n\r\n{",
            )
            .await
            .unwrap();
        slow.push(socket);
    }
    let trickle = tokio::spawn(async move {
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            for socket in &mut slow {
                let _ = socket.write_all(b" ").await;
            }
        }
        slow
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(limiter.in_use(), 0, "slow bodies hold no slot");
    for i in 0..8 {
        app.assess(minimal_request(&format!("beside-slow-{i}")))
            .await
            .expect("gRPC calls are served beside slow bodies");
    }
    assert_eq!(
        health(app.channel().await, "").await.unwrap(),
        ServingStatus::Serving
    );

    // Past the body-read timeout each slow request is answered 408 (an OperationOutcome).
    let mut slow = trickle.await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, slow[0].read_to_end(&mut answer))
        .await
        .expect("the slow request is answered")
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("OperationOutcome"), "{answer}");
    app.stop().await;
}
