//! `AssessBatch` through a real tonic client over TCP: every record answered in order, bad
//! records answered with their own status, back-pressure bounded by the window, and the limits
//! that end a stream with their documented statuses.

use std::{
    num::{NonZeroU64, NonZeroUsize},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use cramp_cds::{
    batch::{self, BatchGauge},
    config::Settings,
    pb::{
        self, assess_batch_response::Result as BatchResult,
        cramp_assessment_service_client::CrampAssessmentServiceClient,
    },
    screen::synthetic,
    server::{Application, ServerError},
};
use cramp_core::KnowledgeBase;
use tokio::{sync::oneshot, task::JoinHandle};
use tokio_stream::{StreamExt as _, wrappers::ReceiverStream};
use tonic::{Code, transport::Channel};
use tonic_types::{RpcStatusExt as _, StatusExt as _};

use crate::helpers::{PATIENCE, connect, init_tracing, minimal_request, test_settings};

/// A server in this process whose batch gauge the test can read.
struct BatchApp {
    client: CrampAssessmentServiceClient<Channel>,
    gauge: BatchGauge,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), ServerError>>,
}

async fn spawn(settings: Settings) -> BatchApp {
    init_tracing();
    let app = Application::build(&settings).await.expect("binds port 0");
    let gauge = app.batch_gauge();
    let addr = app.grpc_addr();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    BatchApp {
        client: CrampAssessmentServiceClient::new(connect(addr).await),
        gauge,
        shutdown,
        handle,
    }
}

impl BatchApp {
    async fn stop(self) {
        drop(self.client);
        let _ = self.shutdown.send(());
        tokio::time::timeout(PATIENCE, self.handle)
            .await
            .expect("server stops in time")
            .expect("server task did not panic")
            .expect("server stopped without error");
    }
}

fn batch_record(id: &str) -> pb::AssessBatchRequest {
    let request = minimal_request(id);
    let history = match request.input {
        Some(pb::assess_request::Input::History(history)) => Some(history),
        Some(pb::assess_request::Input::QuestionnaireResponseJson(_)) | None => None,
    };
    pb::AssessBatchRequest {
        record_id: request.request_id,
        history,
        view: pb::AssessmentView::Unspecified.into(),
    }
}

/// Sends `records` and collects every answer, then the stream's final status (`Ok` when it
/// ended cleanly).
async fn exchange(
    client: &mut CrampAssessmentServiceClient<Channel>,
    records: Vec<pb::AssessBatchRequest>,
) -> (Vec<pb::AssessBatchResponse>, Result<(), tonic::Status>) {
    let mut answers = client
        .assess_batch(tokio_stream::iter(records))
        .await
        .expect("the stream opens")
        .into_inner();
    let mut received = Vec::new();
    let end = loop {
        match tokio::time::timeout(PATIENCE, answers.message())
            .await
            .expect("answers keep coming")
        {
            Ok(Some(answer)) => received.push(answer),
            Ok(None) => break Ok(()),
            Err(status) => break Err(status),
        }
    };
    (received, end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_one_percent_invalid_are_all_answered_in_order() {
    let mut app = spawn(test_settings()).await;
    let records: Vec<_> = synthetic::records(1_010).take(10_000).collect();
    let invalid = records
        .iter()
        .filter(|r| !r.invalid_fields.is_empty())
        .count();
    assert_eq!(invalid, 100, "1% invalid");

    let (answers, end) = exchange(
        &mut app.client,
        records.iter().map(|r| r.request.clone()).collect(),
    )
    .await;

    end.expect("the stream ends cleanly");
    assert_eq!(answers.len(), 10_000, "exactly one answer per record");
    let kb = KnowledgeBase::standard();
    for (record, answer) in records.iter().zip(&answers) {
        assert_eq!(answer.record_id, record.request.record_id, "request order");
        match &answer.result {
            Some(BatchResult::Error(status)) => {
                assert_eq!(status.code, Code::InvalidArgument as i32);
                let fields: Vec<String> = status
                    .get_details_bad_request()
                    .expect("BadRequest details")
                    .field_violations
                    .into_iter()
                    .map(|v| v.field)
                    .collect();
                assert!(!record.invalid_fields.is_empty(), "{}", answer.record_id);
                assert_eq!(fields, record.invalid_fields, "{}", answer.record_id);
                assert!(fields.iter().all(|f| f.starts_with("history.")));
                let info = status.get_details_error_info().expect("ErrorInfo");
                assert_eq!(info.reason, "INVALID_HISTORY");
            }
            Some(BatchResult::Assessment(_)) => {
                assert!(record.invalid_fields.is_empty(), "{}", answer.record_id);
                assert_eq!(
                    answer,
                    &batch::assess_record(
                        &cramp_cds::assess::Assessor::local(kb),
                        &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Screen),
                        record.request.clone()
                    ),
                    "the stream answers what the library answers"
                );
            }
            None => panic!("{}: an answer without a result", answer.record_id),
        }
    }
    assert_eq!(app.gauge.in_flight(), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_stops_the_server_reading_at_the_window() {
    let mut settings = test_settings();
    settings.batch.window = NonZeroUsize::new(8).unwrap();
    let mut app = spawn(settings).await;
    // An endless supply, counted as the transport pulls it: if the server read without bound,
    // the client would pull without bound too.
    let pulled = Arc::new(AtomicU64::new(0));
    let supply = {
        let pulled = Arc::clone(&pulled);
        tokio_stream::iter(0u64..5_000_000).map(move |i| {
            pulled.fetch_add(1, Ordering::Relaxed);
            batch_record(&format!("bp-{i}"))
        })
    };

    // Open the stream and never read an answer.
    let mut answers = app
        .client
        .assess_batch(supply)
        .await
        .expect("the stream opens")
        .into_inner();
    let (received, taken) = settled(&app.gauge, &pulled).await;

    let window = 8;
    assert!(
        app.gauge.in_flight() <= window,
        "in flight {} > window {window}",
        app.gauge.in_flight()
    );
    assert!(app.gauge.peak_in_flight() <= window);
    assert!(
        taken < 1_000_000,
        "the client stopped being able to send ({taken} records left it)"
    );
    assert!(received <= taken);

    // Reading again lets the server read again.
    for _ in 0..2_000 {
        tokio::time::timeout(PATIENCE, answers.message())
            .await
            .expect("answers flow again")
            .expect("no error")
            .expect("an answer");
    }
    assert!(app.gauge.received() > received, "the server reads again");
    assert!(app.gauge.peak_in_flight() <= window);
    drop(answers);
    app.stop().await;
}

/// Waits until neither the server's received count nor the client's pulled count moves for a
/// second; returns both.
async fn settled(gauge: &BatchGauge, pulled: &AtomicU64) -> (u64, u64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut last = (u64::MAX, u64::MAX);
    let mut still = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = (gauge.received(), pulled.load(Ordering::Relaxed));
        if now == last && now.0 > 0 {
            still += 1;
            if still == 10 {
                return now;
            }
        } else {
            still = 0;
        }
        last = now;
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream never settled: received {}, pulled {}",
            now.0,
            now.1
        );
    }
}

#[tokio::test]
async fn past_max_records_the_stream_ends_resource_exhausted_after_every_earlier_answer() {
    let mut settings = test_settings();
    settings.batch.max_records_per_stream = NonZeroU64::new(50).unwrap();
    let mut app = spawn(settings).await;

    let records = (0..60).map(|i| batch_record(&format!("cap-{i}"))).collect();
    let (answers, end) = exchange(&mut app.client, records).await;

    assert_eq!(answers.len(), 50);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.record_id, format!("cap-{i}"));
    }
    let status = end.expect_err("the stream ends with the cap");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(
        info.reason,
        cramp_cds::status::Reason::BatchRecordLimit.as_str()
    );
    assert_eq!(info.metadata["max_records"], "50");
    assert!(status.message().contains("batch.max_records_per_stream"));
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_message_ends_the_stream_out_of_range_after_earlier_answers() {
    let mut settings = test_settings();
    settings.server.max_message_bytes = NonZeroUsize::new(2_048).unwrap();
    let mut app = spawn(settings).await;
    let mut huge = batch_record("huge");
    if let Some(history) = huge.history.as_mut() {
        history.medications = (0..20)
            .map(|i| pb::Medication {
                name: format!("medication-{i}-{}", "x".repeat(180)),
                ..pb::Medication::default()
            })
            .collect();
    }

    let records = vec![
        batch_record("small-1"),
        batch_record("small-2"),
        huge,
        batch_record("never"),
    ];
    let (answers, end) = exchange(&mut app.client, records).await;

    let ids: Vec<_> = answers.iter().map(|a| a.record_id.as_str()).collect();
    assert_eq!(ids, ["small-1", "small-2"]);
    let status = end.expect_err("the oversized message ends the stream");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_idle_stream_ends_deadline_exceeded_after_answering_what_arrived() {
    let mut settings = test_settings();
    settings.batch.idle_timeout_seconds = NonZeroU64::new(1).unwrap();
    let mut app = spawn(settings).await;
    let (records, inbound) = tokio::sync::mpsc::channel(4);
    for i in 0..3 {
        records
            .send(batch_record(&format!("idle-{i}")))
            .await
            .unwrap();
    }

    // The sender stays open and silent.
    let mut answers = app
        .client
        .assess_batch(ReceiverStream::new(inbound))
        .await
        .expect("the stream opens")
        .into_inner();
    let mut ids = Vec::new();
    let status = loop {
        match tokio::time::timeout(PATIENCE, answers.message())
            .await
            .expect("the server ends the stream by itself")
        {
            Ok(Some(answer)) => ids.push(answer.record_id),
            Ok(None) => panic!("ended without a status"),
            Err(status) => break status,
        }
    };

    assert_eq!(ids, ["idle-0", "idle-1", "idle-2"]);
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(
        info.reason,
        cramp_cds::status::Reason::BatchIdleTimeout.as_str()
    );
    assert!(status.message().contains("batch.idle_timeout_seconds"));
    drop(records);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_stream_ends_cleanly_and_unary_assess_still_works() {
    let mut app = spawn(test_settings()).await;

    let (answers, end) = exchange(&mut app.client, Vec::new()).await;

    assert!(answers.is_empty());
    end.expect("a clean end");
    let unary = app
        .client
        .assess(minimal_request("unary-beside-batch"))
        .await
        .expect("Assess still answers");
    assert_eq!(unary.into_inner().request_id, "unary-beside-batch");
    app.stop().await;
}
