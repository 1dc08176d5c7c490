//! The edge of each listener: how many connections it holds, how long a connection may stay
//! silent, and how it is closed.
//!
//! A socket costs an open file whether or not its peer ever sends a byte, so sockets alone could
//! use up the process's open files and make every port, health included, unreachable (issue 14).
//! Three bounds close that door without credentials being involved:
//!
//! - a cap per listener ([`ConnectionCap`]): a connection over it is closed as soon as it is
//!   accepted. Closing rather than leaving it in the kernel's backlog answers the caller at once
//!   (a reset it can retry elsewhere) and keeps the accept loop, and with it the other callers,
//!   moving; waiting would leave new callers, probes included, hanging behind the attacker's;
//! - a first-bytes deadline and an idle deadline ([`Guarded`]): a connection that sends nothing
//!   after it is opened, or on which nothing moves either way for a while, is closed;
//! - a lingering close: when the server is done with a connection it closes its sending side
//!   first and reads (and drops) what the peer still sends for a moment, so the kernel does not
//!   answer unread input with a reset that would destroy answers the peer has not yet read (a
//!   batch stream ended by shutdown: the client is still sending records).
//!
//! The HTTP door is served here too ([`serve_http`]), with hyper's HTTP/1.1 header-read timeout,
//! which `axum::serve` leaves off.

use std::{
    convert::Infallible,
    fmt,
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, Sleep},
};

use crate::config::LimitsSettings;

/// How long a closed connection keeps reading what its peer still sends (see the module docs).
const LINGER: Duration = Duration::from_secs(5);

/// One listener's connection cap and connection deadlines; clones share the count.
#[derive(Clone)]
pub struct ConnectionCap {
    slots: Arc<Semaphore>,
    capacity: usize,
    refused: Arc<AtomicUsize>,
    first_bytes: Duration,
    idle: Duration,
    name: &'static str,
}

impl fmt::Debug for ConnectionCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionCap")
            .field("name", &self.name)
            .field("open", &self.open())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl ConnectionCap {
    /// The cap and deadlines of `[limits]` for the listener called `name` (for logs).
    #[must_use]
    pub fn new(settings: &LimitsSettings, name: &'static str) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(settings.max_connections_per_listener.get())),
            capacity: settings.max_connections_per_listener.get(),
            refused: Arc::new(AtomicUsize::new(0)),
            first_bytes: Duration::from_secs(settings.header_read_timeout_seconds.get()),
            idle: Duration::from_secs(settings.idle_connection_timeout_seconds.get()),
            name,
        }
    }

    /// Connections open right now.
    #[must_use]
    pub fn open(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// The configured cap.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the next connection would be refused.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.slots.available_permits() == 0
    }

    /// Connections closed at accept because the cap was reached, since start.
    #[must_use]
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// The accepted `io` under this cap's deadlines, or `None` (and `io` dropped, which closes
    /// it) when the cap is reached.
    pub fn admit<IO>(&self, io: IO) -> Option<Guarded<IO>> {
        let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() else {
            let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
            // One line per thousand refusals: an attack must not flood the log either.
            if refused % 1000 == 1 {
                tracing::warn!(
                    listener = self.name,
                    limit = self.capacity,
                    refused,
                    "connection closed at accept: connection cap reached"
                );
            }
            return None;
        };
        let now = Instant::now();
        Some(Guarded {
            io,
            timer: Box::pin(tokio::time::sleep_until(now + self.first_bytes)),
            last: now,
            started: false,
            first_bytes: self.first_bytes,
            idle: self.idle,
            linger: None,
            _permit: permit,
        })
    }
}

/// Raises the soft open-file limit to the hard one, and warns when the listeners' caps could
/// still use up the files: a cap is only a defence if the process runs out of connections before
/// it runs out of files.
pub fn check_open_files(caps: &[&ConnectionCap]) {
    use rustix::process::{Resource, getrlimit, setrlimit};

    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    // Files beyond the sockets: the binary, logs, listeners, the runtime, a JWKS fetch.
    let needed: u64 = caps.iter().map(|c| c.capacity() as u64).sum::<u64>() + 256;
    if let Some(files) = limit.current
        && files < needed
    {
        tracing::warn!(
            open_file_limit = files,
            needed,
            "the connection caps exceed the open-file limit; lower \
             limits.max_connections_per_listener or raise the limit"
        );
    }
}

/// An accepted connection under its listener's cap and deadlines: closed with `TimedOut` when it
/// sends nothing before the first-bytes deadline or nothing moves for the idle deadline; frees
/// its place under the cap when dropped.
pub struct Guarded<IO> {
    io: IO,
    /// Fires at the deadline computed from `last`; moved lazily (only when it fires early).
    timer: Pin<Box<Sleep>>,
    /// When bytes last moved (or when the connection was accepted).
    last: Instant,
    /// Whether the peer has sent anything yet.
    started: bool,
    first_bytes: Duration,
    idle: Duration,
    /// Set once the server has closed its sending side: until then, read and drop.
    linger: Option<Instant>,
    _permit: OwnedSemaphorePermit,
}

impl<IO> fmt::Debug for Guarded<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl<IO> Guarded<IO> {
    fn touch(&mut self, read: bool) {
        self.last = Instant::now();
        self.started |= read;
    }

    fn deadline(&self) -> Instant {
        self.last
            + if self.started {
                self.idle
            } else {
                self.first_bytes
            }
    }

    /// Ready with the error to end the connection with once its deadline has passed; pending
    /// (with the timer registered on `cx`) until then.
    /// A write's outcome as the caller sees it: progress resets the idle clock, and a write
    /// that cannot proceed is still bound by the deadline (a peer that never reads).
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.touch(false);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.poll_deadline(cx).map(Err),
        }
    }

    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            ready!(self.timer.as_mut().poll(cx));
            let deadline = self.deadline();
            if deadline <= Instant::now() {
                let what = if self.started {
                    "idle connection closed"
                } else {
                    "connection sent nothing in time"
                };
                tracing::debug!(what);
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, what));
            }
            self.timer.as_mut().reset(deadline);
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.touch(true);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.poll_deadline(cx).map(Err),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.after_write(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Pending => self.poll_deadline(cx).map(Err),
            done @ Poll::Ready(_) => done,
        }
    }

    /// Sends FIN, then reads and drops what the peer still sends until it closes too (or
    /// [`LINGER`] passes), so that the kernel never resets a connection whose peer has answers
    /// left to read.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.linger.is_none() {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            let until = Instant::now() + LINGER;
            self.linger = Some(until);
            self.timer.as_mut().reset(until);
        }
        let mut scratch = [0_u8; 4096];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {}
                // Reset by the peer or similar: nothing left to protect.
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    ready!(self.timer.as_mut().poll(cx));
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl<IO: tonic::transport::server::Connected> tonic::transport::server::Connected for Guarded<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// The gRPC listener's accepted connections under `cap`: those over the cap are closed and
/// skipped, accept errors (out of files, say) are passed on for tonic to log and skip.
pub fn guard_incoming<S, IO>(
    incoming: S,
    cap: ConnectionCap,
) -> impl tokio_stream::Stream<Item = io::Result<Guarded<IO>>> + Send
where
    S: tokio_stream::Stream<Item = io::Result<IO>> + Send,
    IO: Send,
{
    use tokio_stream::StreamExt as _;

    incoming.filter_map(move |accepted| match accepted {
        Ok(io) => cap.admit(io).map(Ok),
        Err(error) => Some(Err(error)),
    })
}

/// Serves `router` on the HTTP door's `listener` until `stop` resolves, then lets open
/// connections finish. Every connection gets the address `listener` reports as an
/// `axum::extract::ConnectInfo`, HTTP/1.1 keep-alive and the header-read timeout.
///
/// # Errors
/// Never in practice: accept errors are retried by the listener.
pub async fn serve_http<L>(
    mut listener: L,
    router: axum::Router,
    header_read_timeout: Duration,
    stop: impl Future<Output = ()> + Send,
) -> io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: Clone + Send + Sync + 'static,
{
    use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
    use tower::ServiceExt as _;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (io, addr) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let service = router.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(addr.clone()));
                request.map(axum::body::Body::new)
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(
            service.map_err(|never: Infallible| match never {}),
        );
        let connection = builder.serve_connection(TokioIo::new(io), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::trace!(%error, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    fn settings(cap: usize, first_bytes: u64, idle: u64) -> LimitsSettings {
        let mut settings =
            crate::config::Settings::load(None, Some(std::collections::HashMap::new()))
                .expect("defaults load")
                .limits;
        settings.max_connections_per_listener = cap.try_into().expect("non-zero");
        settings.header_read_timeout_seconds = first_bytes.try_into().expect("non-zero");
        settings.idle_connection_timeout_seconds = idle.try_into().expect("non-zero");
        settings
    }

    #[tokio::test]
    async fn the_cap_refuses_past_its_capacity_and_frees_on_drop() {
        let cap = ConnectionCap::new(&settings(2, 10, 10), "test");
        let (a, _) = tokio::io::duplex(64);
        let (b, _) = tokio::io::duplex(64);
        let (c, _) = tokio::io::duplex(64);
        let a = cap.admit(a).expect("first fits");
        let _b = cap.admit(b).expect("second fits");
        assert!(cap.is_full());
        assert!(cap.admit(c).is_none());
        assert_eq!(cap.refused(), 1);
        drop(a);
        assert_eq!(cap.open(), 1);
        assert!(!cap.is_full());
    }

    #[tokio::test]
    async fn a_silent_connection_times_out_and_a_talking_one_does_not() {
        let cap = ConnectionCap::new(&settings(4, 1, 2), "test");
        let (server, _client) = tokio::io::duplex(64);
        let mut silent = cap.admit(server).expect("fits");
        let mut buf = [0_u8; 8];
        let err = silent.read(&mut buf).await.expect_err("times out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);

        let (server, mut client) = tokio::io::duplex(64);
        let mut talking = cap.admit(server).expect("fits");
        client.write_all(b"x").await.expect("write");
        assert_eq!(talking.read(&mut buf).await.expect("one byte"), 1);
        // Past the first-bytes deadline but within the idle one: still open.
        let started = Instant::now();
        let err = talking.read(&mut buf).await.expect_err("idles out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(1900));
    }
}
