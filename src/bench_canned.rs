//! A benchmark baseline served beside the API: answers of a requested size, pre-encoded once,
//! through the same tonic stack (limits, telemetry, auth layers, HTTP/2 settings) as the API.
//!
//! `loadgen` interleaves calls to it with calls to `Assess` and `AssessBatch` on the same server,
//! so the ratio real/canned is the share of the transport's limit for that payload that the real
//! call reaches: what is left is the assessment's own cost (decoding, validation, evaluation,
//! encoding, logs, the audit event). Absolute calls/s on a shared machine say little; that ratio,
//! measured within one run, is what the performance targets are stated in.
//!
//! It is registered only when `bench.canned_service = true` (off by default, refused with
//! `http.production = true`): it answers anybody with filler bytes and has no place in a
//! deployment. The request is never decoded; the answer size comes from the `canned-bytes`
//! metadata entry (the size of the real answer the client measured first), up to [`MAX_BYTES`].

use std::{
    convert::Infallible,
    future::{Ready, ready},
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Buf as _, BufMut as _, Bytes};
use tokio_stream::{Stream, StreamExt as _};
use tonic::{
    Request, Response, Status, Streaming,
    body::Body,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::{BoxFuture, http},
    server::{Grpc, NamedService, StreamingService, UnaryService},
};

/// The gRPC service name; never part of the published API.
pub const SERVICE: &str = "cramp.bench.v1.Canned";
/// Unary method: one request, one answer of `canned-bytes` bytes.
pub const UNARY_PATH: &str = "/cramp.bench.v1.Canned/Unary";
/// Bidirectional stream: every request message is answered with `canned-bytes` bytes, in order.
pub const STREAM_PATH: &str = "/cramp.bench.v1.Canned/Stream";
/// The metadata entry naming the answer size in bytes.
pub const SIZE_KEY: &str = "canned-bytes";
/// Largest answer served (the real answers are a few KiB).
pub const MAX_BYTES: usize = 1 << 20;

/// The canned service: one filler buffer, sliced (not copied) per answer.
#[derive(Clone, Debug)]
pub struct CannedService {
    filler: Bytes,
}

impl Default for CannedService {
    fn default() -> Self {
        Self::new()
    }
}

impl CannedService {
    /// Builds the filler once: printable bytes, as the real answer's text mostly is.
    #[must_use]
    pub fn new() -> Self {
        let filler: Vec<u8> = b"canned answer bytes; "
            .iter()
            .copied()
            .cycle()
            .take(MAX_BYTES)
            .collect();
        Self {
            filler: Bytes::from(filler),
        }
    }

    fn answer<T>(&self, request: &Request<T>) -> Result<Bytes, Status> {
        let size = request
            .metadata()
            .get(SIZE_KEY)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n <= MAX_BYTES)
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "metadata `{SIZE_KEY}` must be a byte count up to {MAX_BYTES}"
                ))
            })?;
        Ok(self.filler.slice(..size))
    }
}

impl NamedService for CannedService {
    const NAME: &'static str = SERVICE;
}

impl tower_service::Service<http::Request<Body>> for CannedService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let service = self.clone();
        match request.uri().path() {
            UNARY_PATH => {
                Box::pin(
                    async move { Ok(Grpc::new(RawCodec).unary(Unary(service), request).await) },
                )
            }
            STREAM_PATH => Box::pin(async move {
                Ok(Grpc::new(RawCodec)
                    .streaming(Streamed(service), request)
                    .await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

struct Unary(CannedService);

impl UnaryService<Bytes> for Unary {
    type Response = Bytes;
    type Future = Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        ready(self.0.answer(&request).map(Response::new))
    }
}

struct Streamed(CannedService);

/// The answers of one canned stream.
type Answers = Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>;

impl StreamingService<Bytes> for Streamed {
    type Response = Bytes;
    type ResponseStream = Answers;
    type Future = Ready<Result<Response<Answers>, Status>>;

    fn call(&mut self, request: Request<Streaming<Bytes>>) -> Self::Future {
        ready(self.0.answer(&request).map(|answer| {
            let answers: Answers = Box::pin(
                request
                    .into_inner()
                    .map(move |record| record.map(|_| answer.clone())),
            );
            Response::new(answers)
        }))
    }
}

/// Messages as raw bytes, both ways: the canned service never decodes what it is sent, and
/// `loadgen` sends pre-encoded requests and only counts the answer bytes, so client cost is the
/// same for the real and the canned calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        Self
    }

    fn decoder(&mut self) -> Self::Decoder {
        Self
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        // One copy into the frame buffer, as prost's `encode` of a real answer makes.
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
