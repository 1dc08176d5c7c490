//! Remote screening: the records stream to a running server's `AssessBatch`.
//!
//! The server answers in request order, so the client keeps one queue in input order: records
//! sent and awaiting their answer, and records that could not be parsed (answered here, never
//! sent). The queue's head is written as soon as it is known, which keeps the output in input
//! order and byte-identical to an in-process run. At most [`MAX_IN_FLIGHT`] records are
//! unanswered, so a slow server slows the reader rather than growing the queue.
//!
//! A stream the server ends for one of its limits (`BATCH_RECORD_LIMIT`, `BATCH_IDLE_TIMEOUT`)
//! is not a failure: the unanswered records go out again on a new stream.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
};

use prost::Message as _;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Endpoint;
use tonic_types::StatusExt as _;

use super::{
    ScreenError, Sink,
    input::{InputError, Parsed, Parser, Source},
    output::{Formatter, OutputFormat},
};
use crate::{
    pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient},
    status::Reason,
};

/// Records sent and not yet answered, at most.
pub const MAX_IN_FLIGHT: usize = 512;
/// Parsed records queued between the reader thread and the stream.
const READ_AHEAD: usize = 1024;

/// A record in input order, until its answer is written.
#[expect(
    clippy::large_enum_variant,
    reason = "`Sent` is the common case; boxing it would cost an allocation per record"
)]
enum Pending {
    /// Sent; kept to send again if the server ends the stream for one of its limits.
    Sent(pb::AssessBatchRequest),
    /// Not parseable: its error answer, written when its turn comes.
    Local(Box<pb::AssessBatchResponse>),
}

/// Screens `source` through the server at `url` into `sink`.
///
/// # Errors
/// [`ScreenError`] when the server cannot be reached, fails a stream, or answers out of order;
/// what was written until then is a prefix of the full output.
pub(super) async fn run(
    url: &str,
    source: Source,
    parser: Parser,
    format: OutputFormat,
    view: pb::AssessmentView,
    sink: &mut Sink,
    stop: Arc<AtomicBool>,
) -> Result<(), ScreenError> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|source| ScreenError::Connect {
            url: url.to_owned(),
            source,
        })?
        .tcp_nodelay(true)
        // While we write, answers arriving one small DATA frame each wait unread in h2, which
        // charges them against a budget of half the connection window: a connection window far
        // larger than the stream's keeps a stalled stream under it (adaptive windows grow both
        // alike, and a stall cut the connection: GOAWAY ENHANCE_YOUR_CALM).
        .initial_stream_window_size(crate::limits::CLIENT_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(crate::limits::CLIENT_CONNECTION_WINDOW_BYTES);
    let channel = endpoint
        .connect()
        .await
        .map_err(|source| ScreenError::Connect {
            url: url.to_owned(),
            source,
        })?;
    let mut client = CrampAssessmentServiceClient::new(channel);

    let (items_tx, mut items) = mpsc::channel(READ_AHEAD);
    // Set when this function is done with the reader, which `stop` (meaning Ctrl-C) must not be.
    let reader_stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let reader_stop = Arc::clone(&reader_stop);
        let interrupted = Arc::clone(&stop);
        thread::spawn(move || {
            read(
                source,
                &parser,
                view,
                &items_tx,
                &[&reader_stop, &interrupted],
            );
        })
    };

    let mut formatter = Formatter::new(format);
    let mut pending = VecDeque::new();
    let mut in_flight = 0usize;
    let mut input_done = false;
    let mut input_exhausted = false;
    // The largest record the server decodes, once it has said: a larger one would end every
    // stream it is sent on (and every `--resume`), so it is answered here instead.
    let mut max_record_bytes = None;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let result = loop {
        let (requests_tx, requests_rx) = mpsc::channel(MAX_IN_FLIGHT);
        for entry in &pending {
            if let Pending::Sent(request) = entry {
                // INVARIANT: at most MAX_IN_FLIGHT entries are `Sent`, the channel's capacity.
                let _ = requests_tx.try_send(request.clone());
            }
        }
        let mut requests = (!input_done).then_some(requests_tx);
        let mut answers = match client.assess_batch(ReceiverStream::new(requests_rx)).await {
            Ok(response) => {
                if let Some(max) = max_message_bytes(response.metadata()) {
                    max_record_bytes = Some(max);
                }
                response.into_inner()
            }
            Err(status) => break Err(ScreenError::Remote(status)),
        };
        let ended = loop {
            if let Err(err) = write_ready(&mut pending, &mut formatter, sink) {
                break Err(err);
            }
            tokio::select! {
                answer = answers.message() => match answer {
                    Ok(Some(answer)) => {
                        let Some(Pending::Sent(request)) = pending.pop_front() else {
                            break Err(ScreenError::Protocol("the server sent an answer nobody asked for".into()));
                        };
                        if answer.record_id != request.record_id {
                            break Err(ScreenError::Protocol(format!(
                                "the server answered record `{}` where `{}` was due",
                                answer.record_id, request.record_id
                            )));
                        }
                        in_flight -= 1;
                        if let Err(err) = write_answer(&answer, &mut formatter, sink) {
                            break Err(err);
                        }
                    }
                    Ok(None) if input_done && in_flight == 0 => break Ok(false),
                    Ok(None) => break Err(ScreenError::Protocol(
                        "the server ended the stream with records unanswered".into(),
                    )),
                    Err(status) if is_stream_limit(&status) => break Ok(true),
                    Err(status) => break Err(ScreenError::Remote(status)),
                },
                item = items.recv(), if !input_done && in_flight < MAX_IN_FLIGHT => match item {
                    None => {
                        input_done = true;
                        input_exhausted = true;
                        requests = None;
                    }
                    Some(Err(err)) => break Err(ScreenError::Input(err)),
                    Some(Ok(Ok(request)))
                        if max_record_bytes.is_some_and(|max| request.encoded_len() > max) =>
                    {
                        pending.push_back(Pending::Local(too_large(&request, max_record_bytes)));
                    }
                    Some(Ok(Ok(request))) => {
                        if let Some(tx) = &requests {
                            // INVARIANT: fewer than MAX_IN_FLIGHT unanswered, so never full.
                            let _ = tx.try_send(request.clone());
                        }
                        pending.push_back(Pending::Sent(request));
                        in_flight += 1;
                    }
                    Some(Ok(Err(answer))) => pending.push_back(Pending::Local(answer)),
                },
                _ = &mut ctrl_c, if !input_done => {
                    // Finish what was sent, read nothing more.
                    stop.store(true, Ordering::Relaxed);
                    input_done = true;
                    requests = None;
                }
            }
        };
        drop(requests);
        match ended {
            Ok(true) => {}
            Ok(false) => break write_ready(&mut pending, &mut formatter, sink),
            Err(err) => break Err(err),
        }
    };
    // Unblock and end the reader whatever happened. It is joined only when the input is done:
    // after a failure it may sit in a read of standard input that never ends.
    reader_stop.store(true, Ordering::Relaxed);
    drop(items);
    if input_exhausted {
        let _ = reader.join();
    }
    result
}

/// Reads and parses records on a thread of its own, so the stream never waits on the disk.
fn read(
    source: Source,
    parser: &Parser,
    view: pb::AssessmentView,
    items: &mpsc::Sender<Result<Parsed, InputError>>,
    stops: &[&AtomicBool],
) {
    for record in source {
        if stops.iter().any(|stop| stop.load(Ordering::Relaxed)) {
            return;
        }
        let item = record.map(|record| {
            parser.parse(record).map(|mut request| {
                request.view = view.into();
                request
            })
        });
        let failed = item.is_err();
        if items.blocking_send(item).is_err() || failed {
            return;
        }
    }
}

/// Writes the queue's head while it is a local error answer.
fn write_ready(
    pending: &mut VecDeque<Pending>,
    formatter: &mut Formatter,
    sink: &mut Sink,
) -> Result<(), ScreenError> {
    while let Some(Pending::Local(_)) = pending.front() {
        if let Some(Pending::Local(answer)) = pending.pop_front() {
            write_answer(&answer, formatter, sink)?;
        }
    }
    Ok(())
}

fn write_answer(
    answer: &pb::AssessBatchResponse,
    formatter: &mut Formatter,
    sink: &mut Sink,
) -> Result<(), ScreenError> {
    let mut bytes = Vec::with_capacity(2048);
    formatter
        .record(answer, &mut bytes)
        .map_err(ScreenError::Format)?;
    sink.write_answer(&bytes, answer)
}

/// The server's `server.max_message_bytes`, from the `AssessBatch` response header.
fn max_message_bytes(metadata: &tonic::metadata::MetadataMap) -> Option<usize> {
    metadata
        .get(crate::batch::MAX_MESSAGE_BYTES_HEADER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The error answer of a record the server would not decode: `OUT_OF_RANGE`, `RECORD_TOO_LARGE`.
fn too_large(request: &pb::AssessBatchRequest, max: Option<usize>) -> Box<pb::AssessBatchResponse> {
    let status = crate::status::record_too_large(None, Some(request.encoded_len()), max);
    Box::new(pb::AssessBatchResponse {
        record_id: request.record_id.clone(),
        result: Some(pb::assess_batch_response::Result::Error(
            crate::status::to_message(&status),
        )),
    })
}

/// Whether the server ended the stream for one of its per-stream limits, which a new stream
/// resets.
fn is_stream_limit(status: &tonic::Status) -> bool {
    status.get_details_error_info().is_some_and(|info| {
        matches!(
            Reason::parse(&info.reason),
            Some(Reason::BatchRecordLimit | Reason::BatchIdleTimeout)
        )
    })
}
