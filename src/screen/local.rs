//! In-process screening: every core parses, assesses and formats; one thread writes in order.
//!
//! The reader cuts the input into chunks of raw records (cheap), workers turn each chunk into
//! finished output bytes (parse, [`batch::assess_record_to_core`], format: the expensive part), and the
//! calling thread writes chunks strictly in input order. A chunk is admitted only while fewer
//! than [`MAX_CHUNKS_IN_FLIGHT`] are between "read" and "written", so memory stays bounded by
//! that window whatever the input's size, and a slow disk slows the reader instead of growing a
//! queue.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
        mpsc::{self, Receiver, SyncSender},
    },
    thread,
};

use cramp_core::KnowledgeBase;

use super::{
    ScreenError, Sink,
    input::{Parser, RawRecord, Source},
    output::{Formatter, OutputFormat},
    summary::Summary,
};
use crate::{
    assess::{Assessor, Call},
    audit::Door,
    batch, pb,
};

/// Records per chunk: large enough that hand-offs cost little per record, small enough that a
/// Ctrl-C or a crash loses little unwritten work.
const CHUNK_RECORDS: usize = 256;
/// Chunks admitted per worker before the reader waits for the writer.
const CHUNKS_PER_WORKER: usize = 4;
/// Output bytes reserved per record; a BASIC answer is about 2.5 KB of JSON, a FULL one about
/// 11 KB. Reserving enough up front avoids regrowing (copying) the chunk's buffer.
const BYTES_PER_RECORD: usize = 4096;
/// An upper bound on workers, whatever the machine reports.
const MAX_WORKERS: usize = 64;
/// The most chunks between "read" and "written" (per worker, times workers).
pub const MAX_CHUNKS_IN_FLIGHT: usize = CHUNKS_PER_WORKER * MAX_WORKERS;

/// One chunk of input, numbered in input order.
struct Chunk {
    seq: u64,
    records: Vec<RawRecord>,
}

/// One chunk's output.
struct Done {
    seq: u64,
    bytes: Vec<u8>,
    records: u64,
    summary: Summary,
}

/// Screens `source` into `sink` on every core. Stops reading when `stop` is set, and still
/// writes every record it has read.
///
/// # Errors
/// [`ScreenError`] when the input cannot be read or the output cannot be written; what was
/// written until then is a prefix of the full output.
pub(super) fn run(
    source: Source,
    parser: &Parser,
    format: OutputFormat,
    view: pb::AssessmentView,
    sink: &mut Sink,
    stop: &AtomicBool,
) -> Result<(), ScreenError> {
    let workers = thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .clamp(1, MAX_WORKERS);
    let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(workers);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = mpsc::sync_channel::<Result<Done, ScreenError>>(workers);
    let (slot_tx, slot_rx) = mpsc::sync_channel::<()>(CHUNKS_PER_WORKER * workers);
    // Written chunks' buffers come back to the workers: reusing them saves the allocator handing
    // out (and the kernel zeroing) fresh pages for every chunk.
    let (spare_tx, spare_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_PER_WORKER * workers);
    let spare_rx = Arc::new(Mutex::new(spare_rx));

    thread::scope(|scope| {
        let reader = scope.spawn(move || read(source, &work_tx, &slot_tx, stop));
        for _ in 0..workers {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let parser = parser.clone();
            let spare_rx = Arc::clone(&spare_rx);
            scope.spawn(move || work(&work_rx, &done_tx, &spare_rx, &parser, format, view));
        }
        drop(done_tx);
        // Writing drops the receivers when it returns, even early, which unblocks the reader
        // and the workers so the scope can end.
        let written = write(done_rx, slot_rx, &spare_tx, sink);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(ScreenError::Internal("the input reader panicked")));
        let chunks = written?;
        let read_chunks = read?;
        if chunks == read_chunks {
            Ok(())
        } else {
            Err(ScreenError::Internal("a chunk of records was lost"))
        }
    })
}

/// Cuts the input into chunks; returns how many it sent.
fn read(
    source: Source,
    work: &SyncSender<Chunk>,
    slots: &SyncSender<()>,
    stop: &AtomicBool,
) -> Result<u64, ScreenError> {
    let mut seq = 0;
    let mut records = Vec::with_capacity(CHUNK_RECORDS);
    let mut source = source.peekable();
    while !stop.load(Ordering::Relaxed) {
        let Some(next) = source.next() else { break };
        records.push(next.map_err(ScreenError::Input)?);
        if records.len() == CHUNK_RECORDS || source.peek().is_none() {
            // A slot first: the writer frees one per chunk written.
            if slots.send(()).is_err() {
                break;
            }
            let chunk = Chunk {
                seq,
                records: std::mem::replace(&mut records, Vec::with_capacity(CHUNK_RECORDS)),
            };
            if work.send(chunk).is_err() {
                break;
            }
            seq += 1;
        }
    }
    // Records read before a stop still belong to the output.
    if !records.is_empty() && slots.send(()).is_ok() {
        let chunk = Chunk { seq, records };
        if work.send(chunk).is_ok() {
            seq += 1;
        }
    }
    Ok(seq)
}

fn work(
    chunks: &Mutex<Receiver<Chunk>>,
    done: &SyncSender<Result<Done, ScreenError>>,
    spares: &Mutex<Receiver<Vec<u8>>>,
    parser: &Parser,
    format: OutputFormat,
    view: pb::AssessmentView,
) {
    let assessor = Assessor::local(KnowledgeBase::standard());
    let call = Call::local(Door::Screen);
    let mut formatter = Formatter::new(format);
    loop {
        let next = chunks.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(Chunk { seq, records }) = next else {
            return;
        };
        let mut bytes = spares
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_recv()
            .unwrap_or_default();
        bytes.reserve(records.len() * BYTES_PER_RECORD);
        let mut out = Done {
            seq,
            bytes,
            records: 0,
            summary: Summary::default(),
        };
        let mut result = Ok(());
        for record in records {
            // An assessed record is written straight from the core's assessment: converting
            // it to `pb` first would only be read back by the formatter (same bytes).
            let written = match parser.parse(record) {
                Ok(mut request) => {
                    request.view = view.into();
                    match batch::assess_record_to_core(&assessor, &call, request) {
                        Ok(assessed) => {
                            let a = assessed.assessment();
                            out.summary.add_assessed(
                                Some(a.urgency.name()),
                                a.flags.iter().map(|f| f.flag.name()),
                            );
                            formatter.assessed(&assessed, &mut out.bytes)
                        }
                        Err(answer) => answered(&mut formatter, &mut out, &answer),
                    }
                }
                Err(answer) => answered(&mut formatter, &mut out, &answer),
            };
            out.records += 1;
            if let Err(err) = written {
                result = Err(ScreenError::Format(err));
                break;
            }
        }
        if done.send(result.map(|()| out)).is_err() {
            return;
        }
    }
}

/// Counts and formats a finished answer (an error record).
fn answered(
    formatter: &mut Formatter,
    out: &mut Done,
    answer: &pb::AssessBatchResponse,
) -> std::io::Result<()> {
    out.summary.add(answer);
    formatter.record(answer, &mut out.bytes)
}

/// Writes chunks in input order; returns how many.
fn write(
    done: Receiver<Result<Done, ScreenError>>,
    slots: Receiver<()>,
    spares: &SyncSender<Vec<u8>>,
    sink: &mut Sink,
) -> Result<u64, ScreenError> {
    let mut next = 0;
    let mut waiting = BTreeMap::new();
    for chunk in done {
        let chunk = chunk?;
        waiting.insert(chunk.seq, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            sink.write_chunk(&chunk.bytes, chunk.records, &chunk.summary)?;
            let mut spare = chunk.bytes;
            spare.clear();
            // A full pool just drops the buffer.
            let _ = spares.try_send(spare);
            next += 1;
            // INVARIANT: the reader took a slot for this chunk; the receive cannot block.
            let _ = slots.try_recv();
        }
    }
    if waiting.is_empty() {
        Ok(next)
    } else {
        Err(ScreenError::Internal("a chunk of records was lost"))
    }
}
