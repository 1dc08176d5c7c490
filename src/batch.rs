//! Batch assessment: many records on one stream, each answered in order on its own.
//!
//! Clinics screen whole sets of questionnaires at once. One bad record must not cost the others
//! their answers, a slow reader must not make the server buffer the whole batch, and one stream
//! must not hold the server forever. This module is the pipeline behind the `AssessBatch` RPC
//! (and, through [`assess_record`], behind the `screen` command), kept free of tonic's server
//! types so that it can be driven by any stream of records.
//!
//! # Shape
//! A reader task takes a record off the wire only after it holds one of `window` permits, so
//! at most `window` records are between "read" and "handed back to the transport". Each record
//! is evaluated on its own Tokio task (both cores work), and its join handle goes down a
//! channel in request order; the response stream awaits the handles in that order, so answers
//! keep request order however the evaluations interleave. A permit is returned only when its
//! answer is handed to the transport. When the client stops reading, HTTP/2 flow control stops
//! the transport asking for answers, the permits run out, the reader stops reading, and the
//! client's sends block: back-pressure end to end, memory bounded by the window.

use std::{
    num::{NonZeroU64, NonZeroUsize},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use cramp_core::FieldViolation;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch},
    task::JoinHandle,
};
use tokio_stream::{Stream, StreamExt as _, wrappers::ReceiverStream};
use tonic::Status;
use tracing::Instrument as _;

use crate::{
    assess::{AssessError, Assessed, Assessor, Call},
    audit::Door,
    caller::Caller,
    config::BatchSettings,
    pb::{self, assess_batch_response::Result as BatchResult},
    status,
};

/// Response header of `AssessBatch` naming the largest record the server decodes
/// (`server.max_message_bytes`): a larger one would end the whole stream, so a client (`screen
/// --server`) answers it with an error record of its own and never sends it.
pub const MAX_MESSAGE_BYTES_HEADER: &str = "cramp-max-message-bytes";

/// The limits one `AssessBatch` stream runs under (see [`BatchSettings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Records read ahead of what the client has read back.
    pub window: NonZeroUsize,
    /// Records one stream may carry.
    pub max_records: NonZeroU64,
    /// How long the reader waits for the next record.
    pub idle_timeout: Duration,
}

impl From<&BatchSettings> for BatchLimits {
    fn from(settings: &BatchSettings) -> Self {
        Self {
            window: settings.window,
            max_records: settings.max_records_per_stream,
            idle_timeout: Duration::from_secs(settings.idle_timeout_seconds.get()),
        }
    }
}

impl Default for BatchLimits {
    /// The limits of `config/default.toml` (a unit test keeps the two in step), for a service
    /// built without settings.
    fn default() -> Self {
        Self {
            window: NonZeroUsize::new(64).unwrap_or(NonZeroUsize::MIN),
            max_records: NonZeroU64::new(1_000_000).unwrap_or(NonZeroU64::MIN),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Live counts over every batch stream of a server: what operators and tests read to see that
/// back-pressure holds (the in-flight count never passes the window) without measuring memory.
///
/// Cloning shares the counts.
#[derive(Clone, Debug, Default)]
pub struct BatchGauge(Arc<GaugeCounts>);

#[derive(Debug, Default)]
struct GaugeCounts {
    /// Streams currently open.
    streams: AtomicUsize,
    /// Records read off the wire whose answer has not yet been handed to the transport.
    in_flight: AtomicUsize,
    /// The highest `in_flight` seen by any single stream.
    peak_in_flight: AtomicUsize,
    /// Records read off the wire, ever.
    received: AtomicU64,
    /// Answers handed to the transport, ever.
    answered: AtomicU64,
}

impl BatchGauge {
    /// Streams currently open.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.0.streams.load(Ordering::Relaxed)
    }

    /// Records read off the wire and not yet answered, over all open streams.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.load(Ordering::Relaxed)
    }

    /// The most records any one stream ever had in flight; never more than its window.
    #[must_use]
    pub fn peak_in_flight(&self) -> usize {
        self.0.peak_in_flight.load(Ordering::Relaxed)
    }

    /// Records read off the wire since the server started.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.0.received.load(Ordering::Relaxed)
    }

    /// Answers handed to the transport since the server started.
    #[must_use]
    pub fn answered(&self) -> u64 {
        self.0.answered.load(Ordering::Relaxed)
    }
}

/// Answers one batch record through the one assessor.
///
/// Never fails: an invalid record becomes an answer carrying its own `google.rpc.Status`
/// (`INVALID_ARGUMENT` with a `BadRequest` naming each field from the record root), so the
/// caller can always answer and move on.
#[must_use]
pub fn assess_record(
    assessor: &Assessor,
    call: &Call<'_>,
    record: pb::AssessBatchRequest,
) -> pb::AssessBatchResponse {
    match assess_record_to_core(assessor, call, record) {
        Ok(assessed) => pb::AssessBatchResponse {
            result: Some(BatchResult::Assessment(assessed.to_pb())),
            record_id: assessed.request_id().to_owned(),
        },
        Err(answer) => *answer,
    }
}

/// One record through the one assessor, stopping before the wire conversion: the assessment
/// with the record id as `request_id`, or the record's finished error answer. In-process
/// `screen` writes its JSON straight from the former.
///
/// # Errors
/// The answer to send for a record that cannot be assessed, its `google.rpc.Status` inside.
pub fn assess_record_to_core(
    assessor: &Assessor,
    call: &Call<'_>,
    record: pb::AssessBatchRequest,
) -> Result<Assessed, Box<pb::AssessBatchResponse>> {
    let pb::AssessBatchRequest {
        record_id,
        history,
        view,
    } = record;
    let request = pb::AssessRequest {
        request_id: record_id.clone(),
        input: history.map(pb::assess_request::Input::History),
    };
    assessor.assess(call, request, view).map_err(|err| {
        Box::new(pb::AssessBatchResponse {
            record_id,
            result: Some(BatchResult::Error(status::to_message(
                &status::invalid_argument(&record_root(&err)),
            ))),
        })
    })
}

/// The violations of `err` with the request-root field `request_id` renamed to the batch
/// record's `record_id`; every other path (`history.…`) is the same in both messages.
fn record_root(err: &AssessError) -> Vec<FieldViolation> {
    err.violations()
        .iter()
        .map(|v| {
            if v.field == "request_id" {
                FieldViolation::new("record_id", v.description.clone())
            } else {
                v.clone()
            }
        })
        .collect()
}

/// Answers a stream of records in request order under `limits`; see the module docs.
///
/// The returned stream yields one answer per record read, then ends: cleanly when `inbound`
/// ends, or with one terminal status when a limit is hit (`RESOURCE_EXHAUSTED` past
/// `max_records`, `DEADLINE_EXCEEDED` after `idle_timeout` without a record) or when `inbound`
/// fails (a transport status such as `OUT_OF_RANGE` for an oversized message). Must be called
/// inside a Tokio runtime; dropping the returned stream stops the reader.
pub fn assess_stream<S>(
    assessor: Assessor,
    limits: BatchLimits,
    gauge: BatchGauge,
    inbound: S,
) -> impl Stream<Item = Result<pb::AssessBatchResponse, Status>> + Send + 'static
where
    S: Stream<Item = Result<pb::AssessBatchRequest, Status>> + Send + Unpin + 'static,
{
    assess_stream_with(assessor, limits, gauge, inbound, StreamOptions::default())
}

/// What ends a stream from outside, and who is audited for its records.
#[derive(Clone, Debug, Default)]
pub struct StreamOptions {
    /// Turns true at the server's shutdown deadline: the stream stops reading and ends with
    /// `UNAVAILABLE` after answering every record already read.
    pub shutdown: Option<watch::Receiver<bool>>,
    /// The client's deadline (`grpc-timeout`): past it the stream ends with `DEADLINE_EXCEEDED`
    /// after answering every record already read.
    pub deadline: Option<tokio::time::Instant>,
    /// Who sent the stream, for the audit event of each record.
    pub caller: Caller,
}

/// [`assess_stream`] with a shutdown signal, a deadline and auditing.
pub fn assess_stream_with<S>(
    assessor: Assessor,
    limits: BatchLimits,
    gauge: BatchGauge,
    inbound: S,
    options: StreamOptions,
) -> impl Stream<Item = Result<pb::AssessBatchResponse, Status>> + Send + 'static
where
    S: Stream<Item = Result<pb::AssessBatchRequest, Status>> + Send + Unpin + 'static,
{
    let log = Arc::new(StreamLog::open(gauge.clone(), limits));
    let permits = Arc::new(Semaphore::new(limits.window.get()));
    // Never full: a slot is sent only while its permit is held, and there are `window` permits.
    let (slots, answers) = mpsc::channel(limits.window.get());
    let reader = Reader {
        assessor,
        limits,
        gauge,
        log: Arc::clone(&log),
        permits,
        slots,
        caller: Arc::new(options.caller),
    };
    let ends = stream_ends(options.shutdown, options.deadline);
    tokio::spawn(
        reader
            .run(inbound, ends)
            .instrument(tracing::Span::current()),
    );
    ReceiverStream::new(answers).then(move |slot: Slot| {
        let log = Arc::clone(&log);
        async move { slot.answer(&log).await }
    })
}

/// One entry of the ordered answer queue.
enum Slot {
    /// A record under evaluation, with the permit it holds until its answer is handed on.
    Record {
        /// Echoed if the evaluation task dies, so even then the record gets its own answer.
        record_id: String,
        /// The evaluation.
        task: JoinHandle<pb::AssessBatchResponse>,
        /// Released (and the gauge lowered) when the answer leaves the queue.
        _in_flight: InFlight,
    },
    /// The status the stream ends with.
    End(Status),
}

impl Slot {
    async fn answer(self, log: &StreamLog) -> Result<pb::AssessBatchResponse, Status> {
        match self {
            Self::Record {
                record_id,
                task,
                _in_flight,
            } => {
                let response = match task.await {
                    Ok(response) => response,
                    // INVARIANT: `assess` is total and does not panic; this keeps the promise of
                    // one answer per record even if that ever changes.
                    Err(_) => pb::AssessBatchResponse {
                        record_id,
                        result: Some(BatchResult::Error(status::to_message(
                            &status::record_not_evaluated(),
                        ))),
                    },
                };
                log.answered(matches!(response.result, Some(BatchResult::Error(_))));
                Ok(response)
            }
            Self::End(status) => Err(status),
        }
    }
}

/// A record between "read" and "answered": holds a window permit and the gauge's count.
struct InFlight {
    _permit: OwnedSemaphorePermit,
    gauge: BatchGauge,
}

impl InFlight {
    fn new(permit: OwnedSemaphorePermit, gauge: BatchGauge, stream_in_flight: usize) -> Self {
        gauge.0.in_flight.fetch_add(1, Ordering::Relaxed);
        gauge
            .0
            .peak_in_flight
            .fetch_max(stream_in_flight, Ordering::Relaxed);
        Self {
            _permit: permit,
            gauge,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.gauge.0.answered.fetch_add(1, Ordering::Relaxed);
    }
}

/// Reads records off the wire, one window permit each, and queues their evaluations in order.
struct Reader {
    assessor: Assessor,
    limits: BatchLimits,
    gauge: BatchGauge,
    log: Arc<StreamLog>,
    permits: Arc<Semaphore>,
    slots: mpsc::Sender<Slot>,
    caller: Arc<Caller>,
}

/// Resolves with the status that ends the stream from outside: the server's shutdown deadline or
/// the client's own deadline, whichever comes first; never when neither is set.
async fn stream_ends(
    shutdown: Option<watch::Receiver<bool>>,
    deadline: Option<tokio::time::Instant>,
) -> Status {
    let shutdown = async move {
        match shutdown {
            Some(mut stop) => {
                if stop.wait_for(|stop| *stop).await.is_err() {
                    // The server is gone without a deadline; nothing to wait for.
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    };
    let deadline = async move {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = shutdown => status::shutting_down(),
        () = deadline => status::deadline_exceeded(),
    }
}

impl Reader {
    async fn run<S, E>(self, mut inbound: S, ends: E)
    where
        S: Stream<Item = Result<pb::AssessBatchRequest, Status>> + Unpin,
        E: std::future::Future<Output = Status>,
    {
        let mut records: u64 = 0;
        let mut ends = std::pin::pin!(ends);
        let ending = loop {
            // Room first, then read: a client that stops reading stops us reading.
            let permit = tokio::select! {
                permit = Arc::clone(&self.permits).acquire_owned() => permit,
                () = self.slots.closed() => break Ending::Cancelled,
                status = &mut ends => break Ending::Status(status),
            };
            let Ok(permit) = permit else {
                break Ending::Cancelled;
            };
            // The idle clock runs only while we wait for the client, never while the client
            // makes us wait.
            let next = tokio::select! {
                next = tokio::time::timeout(self.limits.idle_timeout, inbound.next()) => next,
                () = self.slots.closed() => break Ending::Cancelled,
                status = &mut ends => break Ending::Status(status),
            };
            let record = match next {
                Err(_elapsed) => {
                    break Ending::Status(status::idle_timeout(self.limits.idle_timeout));
                }
                Ok(None) => break Ending::Finished,
                Ok(Some(Err(status))) => {
                    break Ending::Status(status::inbound_error(status, records + 1));
                }
                Ok(Some(Ok(record))) => record,
            };
            records += 1;
            if records > self.limits.max_records.get() {
                break Ending::Status(status::record_limit(self.limits.max_records.get()));
            }
            self.gauge.0.received.fetch_add(1, Ordering::Relaxed);
            self.log.received();
            let in_flight = InFlight::new(
                permit,
                self.gauge.clone(),
                self.limits.window.get() - self.permits.available_permits(),
            );
            let record_id = record.record_id.clone();
            let assessor = self.assessor.clone();
            let caller = Arc::clone(&self.caller);
            let task = tokio::spawn(
                async move {
                    assess_record(
                        &assessor,
                        &Call::new(Door::GrpcAssessBatch, &caller),
                        record,
                    )
                }
                .instrument(tracing::Span::current()),
            );
            let slot = Slot::Record {
                record_id,
                task,
                _in_flight: in_flight,
            };
            if self.slots.send(slot).await.is_err() {
                break Ending::Cancelled;
            }
        };
        let reason = match ending {
            Ending::Finished => "finished",
            Ending::Cancelled => "cancelled",
            Ending::Status(status) => {
                let reason = status::ending_reason(&status);
                // Queued behind every earlier answer, so the client gets those first.
                let _ = self.slots.send(Slot::End(status)).await;
                reason
            }
        };
        self.log.ended(reason);
    }
}

/// Why the reader stopped.
enum Ending {
    /// The client closed its side: every record has been queued.
    Finished,
    /// The answer stream was dropped (the client went away or cancelled).
    Cancelled,
    /// A limit or the transport ended the stream with this status.
    Status(Status),
}

/// One stream's counts, logged once when both halves are done. Ids, counts and timings only:
/// nothing here describes a patient.
struct StreamLog {
    gauge: BatchGauge,
    started: Instant,
    window: usize,
    received: AtomicU64,
    answered: AtomicU64,
    errors: AtomicU64,
    reason: Mutex<&'static str>,
}

impl StreamLog {
    fn open(gauge: BatchGauge, limits: BatchLimits) -> Self {
        gauge.0.streams.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(window = limits.window.get(), "batch stream opened");
        Self {
            gauge,
            started: Instant::now(),
            window: limits.window.get(),
            received: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            reason: Mutex::new("dropped"),
        }
    }

    fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    fn answered(&self, error: bool) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn ended(&self, reason: &'static str) {
        *self.reason.lock().unwrap_or_else(PoisonError::into_inner) = reason;
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        self.gauge.0.streams.fetch_sub(1, Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        let answered = *self.answered.get_mut();
        tracing::info!(
            reason = *self
                .reason
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
            records = *self.received.get_mut(),
            answered,
            errors = *self.errors.get_mut(),
            window = self.window,
            elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            records_per_second = rate(answered, elapsed),
            "batch stream closed"
        );
    }
}

/// Whole records per second; 0 for an instant.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a rate for a log line; precision past 2^53 records is irrelevant"
)]
fn rate(count: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        (count as f64 / seconds) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::wrappers::ReceiverStream;
    use tonic::Code;
    use tonic_types::RpcStatusExt as _;

    use super::*;

    fn local() -> Assessor {
        Assessor::local(cramp_core::KnowledgeBase::standard())
    }

    fn answer(record: pb::AssessBatchRequest) -> pb::AssessBatchResponse {
        assess_record(&local(), &Call::local(Door::Screen), record)
    }
    use crate::config::Settings;

    fn record(id: &str, age: Option<u32>) -> pb::AssessBatchRequest {
        pb::AssessBatchRequest {
            record_id: id.into(),
            history: Some(pb::CrampHistory {
                patient: Some(pb::Patient {
                    age_years: age,
                    ..pb::Patient::default()
                }),
                ..pb::CrampHistory::default()
            }),
            view: pb::AssessmentView::Unspecified.into(),
        }
    }

    fn limits(window: usize, max_records: u64, idle_ms: u64) -> BatchLimits {
        BatchLimits {
            window: NonZeroUsize::new(window).unwrap(),
            max_records: NonZeroU64::new(max_records).unwrap(),
            idle_timeout: Duration::from_millis(idle_ms),
        }
    }

    #[test]
    fn default_limits_are_the_default_settings() {
        let settings = Settings::load(None, Some(Default::default())).unwrap();
        assert_eq!(BatchLimits::from(&settings.batch), BatchLimits::default());
    }

    #[test]
    fn an_invalid_record_is_answered_with_its_own_status_rooted_at_the_record() {
        let mut bad = record("bad-1", None);
        bad.record_id = "x".repeat(crate::request_id::MAX_REQUEST_ID_CHARS + 1);

        let answer = answer(bad.clone());

        assert_eq!(answer.record_id, bad.record_id, "echoed even when invalid");
        let Some(BatchResult::Error(error)) = answer.result else {
            panic!("an error answer");
        };
        assert_eq!(error.code, Code::InvalidArgument as i32);
        let fields = crate::status::bad_request_fields(&error);
        assert_eq!(fields, ["record_id", "history.patient.age_years"]);
        assert_eq!(
            error.get_details_error_info().unwrap().reason,
            "INVALID_HISTORY"
        );
    }

    #[test]
    fn a_valid_record_gets_the_assessment_assess_gives() {
        let answer = answer(record("ok-1", Some(40)));
        let direct = local()
            .assess(
                &Call::local(Door::Cli),
                pb::AssessRequest {
                    request_id: "ok-1".into(),
                    input: record("", Some(40))
                        .history
                        .map(pb::assess_request::Input::History),
                },
                0,
            )
            .unwrap()
            .into_response();
        assert_eq!(answer.record_id, "ok-1");
        assert_eq!(
            answer.result,
            direct.assessment.map(BatchResult::Assessment)
        );
    }

    #[test]
    fn debug_of_batch_messages_prints_no_patient_values() {
        let mut request = record("dbg-1", Some(97));
        if let Some(history) = request.history.as_mut() {
            history.medications.push(pb::Medication {
                name: "zzqx-med".into(),
                ..pb::Medication::default()
            });
        }
        let answer = answer(request.clone());
        let shown = format!("{request:?} {answer:?}");
        assert!(shown.contains("dbg-1"));
        assert!(!shown.contains("zzqx-med"));
        assert!(!shown.contains("97"));
    }

    async fn collect(
        limits: BatchLimits,
        records: Vec<Result<pb::AssessBatchRequest, Status>>,
    ) -> (Vec<Result<pb::AssessBatchResponse, Status>>, BatchGauge) {
        let gauge = BatchGauge::default();
        let inbound = tokio_stream::iter(records);
        let answers = assess_stream(local(), limits, gauge.clone(), inbound)
            .collect::<Vec<_>>()
            .await;
        (answers, gauge)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_keep_request_order_and_bad_records_do_not_end_the_stream() {
        let records: Vec<_> = (0..500)
            .map(|i| {
                Ok(record(
                    &format!("r{i}"),
                    (i % 7 != 3).then_some(30 + i % 60),
                ))
            })
            .collect();

        let (answers, gauge) = collect(limits(8, 1_000, 5_000), records).await;

        assert_eq!(answers.len(), 500);
        for (i, answer) in answers.into_iter().enumerate() {
            let answer = answer.unwrap();
            assert_eq!(answer.record_id, format!("r{i}"));
            let is_error = matches!(answer.result, Some(BatchResult::Error(_)));
            assert_eq!(is_error, i % 7 == 3, "record {i}");
        }
        assert!(gauge.peak_in_flight() <= 8);
        assert_eq!(gauge.in_flight(), 0);
        assert_eq!(gauge.received(), 500);
        assert_eq!(gauge.answered(), 500);
    }

    #[tokio::test]
    async fn past_the_record_limit_the_stream_ends_after_every_earlier_answer() {
        let records = (0..10)
            .map(|i| Ok(record(&format!("r{i}"), Some(40))))
            .collect();

        let (answers, _) = collect(limits(4, 6, 5_000), records).await;

        assert_eq!(answers.len(), 7);
        assert!(answers[..6].iter().all(Result::is_ok));
        let status = answers[6].as_ref().unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted);
    }

    #[tokio::test]
    async fn a_transport_error_ends_the_stream_after_earlier_answers() {
        let records = vec![
            Ok(record("a", Some(40))),
            Err(Status::out_of_range("too big")),
            Ok(record("never", Some(40))),
        ];

        let (answers, _) = collect(limits(4, 100, 5_000), records).await;

        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0].as_ref().unwrap().record_id, "a");
        assert_eq!(answers[1].as_ref().unwrap_err().code(), Code::OutOfRange);
    }

    #[tokio::test]
    async fn a_silent_client_is_timed_out_with_deadline_exceeded() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(Ok(record("first", Some(40)))).await.unwrap();
        let answers = assess_stream(
            local(),
            limits(4, 100, 200),
            BatchGauge::default(),
            ReceiverStream::new(rx),
        );
        tokio::pin!(answers);

        assert_eq!(answers.next().await.unwrap().unwrap().record_id, "first");
        let status = answers.next().await.unwrap().unwrap_err();

        assert_eq!(status.code(), Code::DeadlineExceeded);
        assert!(answers.next().await.is_none());
        drop(tx);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unread_answer_stream_stops_the_reader_at_the_window() {
        let (tx, rx) = mpsc::channel(1);
        let gauge = BatchGauge::default();
        let answers = assess_stream(
            local(),
            limits(5, 1_000_000, 60_000),
            gauge.clone(),
            ReceiverStream::new(rx),
        );
        // Feed until the reader stops taking records (the channel holds one more).
        let mut sent = 0;
        while sent < 1_000 {
            match tokio::time::timeout(
                Duration::from_millis(200),
                tx.send(Ok(record(&format!("r{sent}"), Some(40)))),
            )
            .await
            {
                Ok(result) => result.unwrap(),
                Err(_) => break,
            }
            sent += 1;
        }

        assert!(sent < 1_000, "the reader stopped reading");
        assert_eq!(gauge.received(), 5);
        assert_eq!(gauge.in_flight(), 5);
        assert_eq!(gauge.peak_in_flight(), 5);
        drop(answers);
    }
}
