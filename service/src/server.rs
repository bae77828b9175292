//! The HTTP/1.1 server: our own accept loop and per-connection lifecycle around hyper's `http1`
//! connection, the connection cap, and the drain that loses no accepted request.
//!
//! Why not `axum::serve` or hyper-util's `GracefulShutdown`: both close, at shutdown, every
//! connection whose request has not been parsed yet as if it were idle, including connections
//! just taken from the accept backlog whose request is still on the wire. Here nothing is
//! closed by the shutdown itself: from the signal on every response carries `Connection:
//! close`, so each connection ends after its next answer, and one that sends nothing ends
//! at its header-read timeout. The drain waits for all of them (bounded by the shutdown
//! timeout).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tracing::{debug, info, warn};

use crate::app::{AppState, RouterSettings, router};
use crate::config::Config;
use crate::health::{Health, Phase};
use crate::identity::Identity;
use crate::metrics::{AcceptFailure, Metrics, Rejected, TimedOut};

/// Largest accepted request head (request line and headers); larger heads get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Per-connection read buffer limit (hyper's minimum is 8 KiB).
pub const MAX_BUF_BYTES: usize = 16 * 1024;

/// Default connection cap (`MAX_CONNECTIONS`): every accepted connection takes a slot.
/// Derived from the memory per connection so that the service at its worst (every slot
/// taken, [`MAX_ACTIVE_CONNECTIONS`] of them mid-request) stays well under the 64 MiB memory
/// limit of the rendered Deployment: see [`memory_bound`], the README ("Connections and
/// memory") and `tests/deployment.rs`, which checks the relation against the rendered limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 3072;
/// Connections that hold HTTP state (hyper's buffers) at once: a connection is active from
/// its first byte to its close. One whose first byte arrives while all are taken waits, its
/// bytes in the kernel, for at most its header-read timeout.
pub const MAX_ACTIVE_CONNECTIONS: usize = 512;
/// Bound on the resident memory of the started service with no connection open (measured:
/// 9–10 MiB with jemalloc and its background purge thread).
pub const RSS_BASELINE_BYTES: u64 = 12 * 1024 * 1024;
/// Bound on the resident memory one silent connection adds (measured: 1.3 KiB at 1 000 and
/// 10 000 idle connections; see BENCHMARKS.md).
pub const RSS_PER_IDLE_CONNECTION_BYTES: u64 = 2 * 1024;
/// Bound on the resident memory one active connection adds (measured: 8 KiB for an idle
/// kept-alive connection; hyper's read and write buffers are 8 KiB each, partly touched).
pub const RSS_PER_ACTIVE_CONNECTION_BYTES: u64 = 16 * 1024;
/// Kernel memory per open TCP connection, charged to the pod's memory cgroup as well (slab
/// objects `TCP` 2 368 B, `sock_inode_cache` 832 B, `filp`, `dentry` 192 B each,
/// `eventpoll_epi` 128 B, from `/proc/slabinfo`), rounded up.
pub const KERNEL_PER_CONNECTION_BYTES: u64 = 4 * 1024;

/// Upper bound on the memory (resident plus kernel socket memory) of the service with
/// `connections` open, `active` of them holding HTTP state: the documented relation that the
/// default cap is derived from.
pub fn memory_bound(connections: usize, active: usize) -> u64 {
    let (c, a) = (connections as u64, active.min(connections) as u64);
    RSS_BASELINE_BYTES
        + c * (RSS_PER_IDLE_CONNECTION_BYTES + KERNEL_PER_CONNECTION_BYTES)
        + a * RSS_PER_ACTIVE_CONNECTION_BYTES
}

/// Upper bound on the resident memory alone with `idle` silent connections open.
pub fn rss_bound_idle(idle: usize) -> u64 {
    RSS_BASELINE_BYTES + idle as u64 * RSS_PER_IDLE_CONNECTION_BYTES
}

/// File descriptors kept free for everything that is not a connection (listener, epoll,
/// stdio, the runtime), when the default cap is lowered to fit the open-file limit.
pub const FD_RESERVE: usize = 64;
/// After the listener stops taking new handshakes, how long accepting continues so that
/// handshakes already under way (SYN-ACK sent) complete and are served instead of reset.
pub const HANDSHAKE_SETTLE: Duration = Duration::from_millis(200);
/// Accept errors are logged at most this often (each line carries the count since the last).
pub const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listening socket could not be created.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// The bound address could not be read back.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(io::Error),
}

/// Timing and limits of the connection handling and of the shutdown.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Clients must send their first byte within this time, and then a complete request head
    /// within this time (also the keep-alive idle limit between requests).
    pub header_read_timeout: Duration,
    /// Time between the shutdown signal and closing the listener; readiness fails during it.
    pub drain_delay: Duration,
    /// Bound on waiting for the open connections once the listener is closed.
    pub shutdown_timeout: Duration,
    /// Open connections at most; past it the server stops accepting until one closes.
    pub max_connections: usize,
}

impl From<&Config> for ServeOptions {
    fn from(c: &Config) -> Self {
        Self {
            header_read_timeout: c.header_read_timeout,
            drain_delay: c.drain_delay,
            shutdown_timeout: c.shutdown_timeout,
            max_connections: c
                .max_connections
                .unwrap_or_else(|| default_max_connections(open_file_limit())),
        }
    }
}

/// [`DEFAULT_MAX_CONNECTIONS`], lowered to fit `fd_limit` (the soft open-file limit) minus
/// [`FD_RESERVE`], so that the cap, not EMFILE, is what stops accepting.
pub fn default_max_connections(fd_limit: Option<u64>) -> usize {
    let fit = fd_limit.map_or(usize::MAX, |l| {
        usize::try_from(l)
            .unwrap_or(usize::MAX)
            .saturating_sub(FD_RESERVE)
    });
    DEFAULT_MAX_CONNECTIONS.min(fit).max(1)
}

/// The soft open-file limit of this process, from `/proc/self/limits` (Linux).
pub fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Bind, log the listening address and serve until `shutdown` resolves, then drain and stop.
///
/// # Errors
/// When the socket cannot be bound.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let identity = Identity::resolve(&config);
    let state = AppState::new(&identity);
    let app = router(&state, &RouterSettings::from(&config));
    let opts = ServeOptions::from(&config);
    let fd_limit = open_file_limit();
    if config.inject_error_ratio > 0.0 {
        warn!(
            inject_error_ratio = config.inject_error_ratio,
            "INJECT_ERROR_RATIO is set: this share of /default requests is answered 500 on purpose"
        );
    }
    info!(
        version = crate::VERSION,
        hostname = %identity.hostname,
        ip = %identity.ip,
        region = %identity.region,
        zone = %identity.zone,
        image = identity.image.as_deref().unwrap_or(""),
        log_level = %config.log_level,
        readiness_path = %config.probes.readiness,
        liveness_path = %config.probes.liveness,
        startup_path = %config.probes.startup,
        drain_delay_s = config.drain_delay.as_secs_f64(),
        shutdown_timeout_s = config.shutdown_timeout.as_secs_f64(),
        request_timeout_s = config.request_timeout.as_secs_f64(),
        header_read_timeout_s = config.header_read_timeout.as_secs_f64(),
        max_connections = opts.max_connections,
        open_file_limit = fd_limit.unwrap_or(0),
        "starting"
    );
    if let Some(limit) = fd_limit {
        let headroom = usize::try_from(limit).unwrap_or(usize::MAX);
        if opts.max_connections > headroom.saturating_sub(FD_RESERVE) {
            warn!(
                max_connections = opts.max_connections,
                open_file_limit = limit,
                "MAX_CONNECTIONS exceeds the open-file limit: accept will fail with EMFILE \
                 (backing off) before the cap is reached; raise the limit or lower the cap"
            );
        }
    }
    let addr = SocketAddr::new(config.bind_address, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(ServeError::LocalAddr)?;
    info!(addr = %local, port = local.port(), "listening");
    serve(listener, app, state.health.clone(), opts, shutdown).await;
    Ok(())
}

/// Serve `app` on `listener`: readiness passes once this runs. When `shutdown` resolves:
///
/// 1. readiness fails at once; for the drain delay everything is still served, on existing and
///    new connections, and every response carries `Connection: close`;
/// 2. the listener stops taking new handshakes (new clients see a refused connection), the
///    handshakes under way and every connection in the accept backlog are accepted, then the
///    listener closes;
/// 3. every open connection gets its request read (a connection that has not sent it yet has
///    its header-read timeout to do so) and answered with `Connection: close`;
/// 4. this returns when all connections are closed, or after the shutdown timeout.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    health: Arc<Health>,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let metrics = health.metrics();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(MAX_BUF_BYTES)
        .max_header_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let max = opts.max_connections.max(1);
    metrics.set_max_connections(max);
    let (abort_tx, abort_rx) = watch::channel(false);
    let conns = Connections {
        http: Arc::new(http),
        service: CloseWhenDraining {
            app,
            health: health.clone(),
        },
        slots: Arc::new(Semaphore::new(max)),
        active: Arc::new(Semaphore::new(max.min(MAX_ACTIVE_CONNECTIONS))),
        tracker: Arc::new(Tracker::default()),
        metrics,
        header_read_timeout: opts.header_read_timeout,
        abort: abort_rx,
    };

    health.set_ready();
    info!("ready");

    let mut errors = AcceptErrors::default();
    accept_until(&listener, &conns, &mut errors, shutdown).await;
    let signalled = Instant::now();
    health.set_draining();
    info!(
        drain_delay_s = opts.drain_delay.as_secs_f64(),
        "shutdown: readiness failing, still serving during the drain delay"
    );
    accept_until(
        &listener,
        &conns,
        &mut errors,
        tokio::time::sleep(opts.drain_delay),
    )
    .await;

    // New handshakes stop here; the ones under way get HANDSHAKE_SETTLE to complete.
    let refusing = refuse_new_handshakes(&listener);
    if let Err(err) = &refusing {
        warn!(error = %err, "cannot stop new handshakes before closing the listener");
    }
    if refusing.is_ok() {
        accept_until(
            &listener,
            &conns,
            &mut errors,
            tokio::time::sleep(HANDSHAKE_SETTLE),
        )
        .await;
    }
    let backlog = take_backlog(&listener, &conns);
    drop(listener);
    info!(
        open_connections = conns.tracker.count(),
        served_from_backlog = backlog,
        shutdown_timeout_s = opts.shutdown_timeout.as_secs_f64(),
        "shutdown: listener closed, answering the open connections"
    );

    let elapsed_ms = || u64::try_from(signalled.elapsed().as_millis()).unwrap_or(u64::MAX);
    match tokio::time::timeout(opts.shutdown_timeout, conns.tracker.all_closed()).await {
        Ok(()) => info!(elapsed_ms = elapsed_ms(), "shutdown: complete"),
        Err(_) => {
            let left = conns.tracker.count();
            let _ = abort_tx.send(true);
            conns.tracker.all_closed().await;
            warn!(
                elapsed_ms = elapsed_ms(),
                abandoned_connections = left,
                "shutdown: timeout reached, closed the connections still open"
            );
        }
    }
}

/// Accept (one connection per free slot) until `stop` resolves.
async fn accept_until(
    listener: &TcpListener,
    conns: &Connections,
    errors: &mut AcceptErrors,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        // A slot first: past the cap connections wait in the kernel's backlog, unaccepted.
        let permit = match conns.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                conns.metrics.cap_reached();
                tokio::select! {
                    biased;
                    () = &mut stop => return,
                    p = conns.slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => return, // never closed
                    },
                }
            }
        };
        let accepted = tokio::select! {
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                errors.recovered();
                conns.serve(stream, Some(permit));
            }
            Err(err) => {
                drop(permit);
                let pause = errors.failed(&err, conns.metrics);
                tokio::select! {
                    biased;
                    () = &mut stop => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

/// Back-off and rate-limited logging of accept failures. At the open-file limit `accept`
/// fails at once and again on every retry: without a pause that is a busy loop, and without a
/// rate limit a log line every few milliseconds.
#[derive(Debug, Default)]
struct AcceptErrors {
    consecutive: u32,
    last_log: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    const FIRST_PAUSE: Duration = Duration::from_millis(5);
    const MAX_PAUSE: Duration = Duration::from_millis(200);

    fn failed(&mut self, err: &io::Error, metrics: &Metrics) -> Duration {
        let reason = AcceptFailure::of(err);
        metrics.accept_failed(reason);
        self.unlogged += 1;
        let due = self
            .last_log
            .is_none_or(|t| t.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL);
        if due {
            warn!(
                error = %err,
                reason = reason.label(),
                count = self.unlogged,
                "accept failed; backing off (count: failures since the previous line)"
            );
            self.last_log = Some(Instant::now());
            self.unlogged = 0;
        }
        let pause = Self::FIRST_PAUSE.saturating_mul(1 << self.consecutive.min(6));
        self.consecutive = self.consecutive.saturating_add(1);
        pause.min(Self::MAX_PAUSE)
    }

    fn recovered(&mut self) {
        self.consecutive = 0;
    }
}

/// Drop pure SYN segments on the listener (a classic BPF socket filter, no privilege
/// needed): no new handshake starts, while the final ACKs of handshakes under way still
/// complete them. A client whose SYN was dropped retransmits it and, the listener being gone
/// by then, gets a refused connection, never a connection that is reset after it wrote its
/// request (which is what closing a listener does to the connections in its backlog).
fn refuse_new_handshakes(listener: &TcpListener) -> io::Result<()> {
    use socket2::{SockFilter, SockRef};
    // Socket filters on TCP see the segment from its TCP header on: byte 13 holds the flags.
    const LD_B_ABS: u16 = 0x30;
    const AND_K: u16 = 0x54;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const SYN: u32 = 0x02;
    const ACK: u32 = 0x10;
    let program = [
        SockFilter::new(LD_B_ABS, 0, 0, 13),
        SockFilter::new(AND_K, 0, 0, SYN | ACK),
        SockFilter::new(JEQ_K, 0, 1, SYN), // SYN without ACK: drop; else keep
        SockFilter::new(RET_K, 0, 0, 0),
        SockFilter::new(RET_K, 0, 0, u32::MAX),
    ];
    SockRef::from(listener).attach_filter(&program)
}

/// Accept every connection still in the backlog, even past the cap (the backlog is bounded):
/// closing the listener would reset them, and their clients may have sent a request already.
fn take_backlog(listener: &TcpListener, conns: &Connections) -> usize {
    let mut taken = 0;
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    while let Poll::Ready(Ok((stream, _peer))) = listener.poll_accept(&mut cx) {
        let permit = conns.slots.clone().try_acquire_owned().ok();
        conns.serve(stream, permit);
        taken += 1;
    }
    if taken > 0 {
        debug!(
            connections = taken,
            "served the accept backlog before closing"
        );
    }
    taken
}

/// Counts the connection tasks and wakes the drain when the last one ends.
#[derive(Debug, Default)]
struct Tracker {
    count: AtomicUsize,
    idle: Notify,
}

impl Tracker {
    fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    fn enter(self: &Arc<Self>) -> TrackerGuard {
        self.count.fetch_add(1, Ordering::AcqRel);
        TrackerGuard(self.clone())
    }

    async fn all_closed(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct TrackerGuard(Arc<Tracker>);

impl Drop for TrackerGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What every accepted connection is served with.
struct Connections {
    http: Arc<http1::Builder>,
    service: CloseWhenDraining,
    slots: Arc<Semaphore>,
    active: Arc<Semaphore>,
    tracker: Arc<Tracker>,
    metrics: &'static Metrics,
    header_read_timeout: Duration,
    abort: watch::Receiver<bool>,
}

impl Connections {
    fn serve(&self, stream: TcpStream, permit: Option<OwnedSemaphorePermit>) {
        // Responses are written in one go; no point in delaying them.
        let _ = stream.set_nodelay(true);
        let guard = self.tracker.enter();
        let open = self.metrics.connection_opened();
        let http = self.http.clone();
        let active = self.active.clone();
        let service = self.service.clone();
        let metrics = self.metrics;
        let header_read_timeout = self.header_read_timeout;
        let mut abort = self.abort.clone();
        tokio::spawn(async move {
            let _slot = (permit, guard, open);
            tokio::select! {
                biased;
                () = serve_connection(stream, &http, &active, service, metrics, header_read_timeout) => {}
                _ = abort.wait_for(|a| *a) => metrics.timed_out(TimedOut::Shutdown),
            }
        });
    }
}

/// One connection, from its first byte to its close.
async fn serve_connection(
    stream: TcpStream,
    http: &http1::Builder,
    active: &Arc<Semaphore>,
    service: CloseWhenDraining,
    metrics: &'static Metrics,
    header_read_timeout: Duration,
) {
    // A connection that has sent nothing holds no HTTP state (hyper allocates two 8 KiB
    // buffers per connection): that is what keeps idle connections cheap.
    // (`peek`, not `readable`: readiness has false positives, a peek re-arms on them.)
    let deadline = tokio::time::Instant::now() + header_read_timeout;
    let mut first = [0u8; 1];
    match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
        Err(_) => {
            metrics.timed_out(TimedOut::HeaderRead);
            return;
        }
        Ok(Err(_) | Ok(0)) => return,
        Ok(Ok(_)) => {}
    }
    let _active = match active.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => match tokio::time::timeout_at(deadline, active.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => {
                metrics.timed_out(TimedOut::HeaderRead);
                return;
            }
        },
    };
    let io = TokioIo::new(Wire::new(stream, metrics));
    // Boxed so that the future of a silent connection stays small.
    let conn = Box::pin(http.serve_connection(io, service));
    if let Err(err) = conn.await {
        if err.is_timeout() {
            metrics.timed_out(TimedOut::HeaderRead);
        } else if err.is_parse_too_large() {
            metrics.rejected(Rejected::HeadTooLarge);
        } else if err.is_parse() {
            metrics.rejected(Rejected::BadRequest);
        }
        debug!(error = %err, "connection closed with an error");
    }
}

/// The start of the HTTP/2 connection preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`).
const H2_PREFACE_START: &[u8] = b"PRI * HTTP/2.0\r\n";
/// Answer to an HTTP/2 prior-knowledge client: the server preface (an empty SETTINGS frame)
/// and a GOAWAY with error code `HTTP_1_1_REQUIRED` (0xd, RFC 9113 §7) and a reason in the
/// debug data. curl, for instance, reports it and can retry with HTTP/1.1.
const H2_REFUSAL: &[u8] = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00\
\x00\x00\x36\x07\x00\x00\x00\x00\x00\
\x00\x00\x00\x00\x00\x00\x00\x0d\
this server speaks HTTP/1.1 only; use HTTP/1.1";

pin_project_lite::pin_project! {
    /// The socket as hyper sees it, with two fixes on the read side: an HTTP/2 prior-knowledge
    /// preface gets a GOAWAY instead of a silent close, and a `Content-Length` too large for
    /// hyper gets 400 instead of 431.
    struct Wire {
        #[pin]
        inner: TcpStream,
        metrics: &'static Metrics,
        first_read: bool,
        // Bytes of H2_REFUSAL written so far, once a preface was seen.
        refusal_sent: Option<usize>,
    }
}

impl Wire {
    fn new(inner: TcpStream, metrics: &'static Metrics) -> Self {
        Self {
            inner,
            metrics,
            first_read: true,
            refusal_sent: None,
        }
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut this = self.project();
        if let Some(sent) = this.refusal_sent {
            while *sent < H2_REFUSAL.len() {
                match ready!(this.inner.as_mut().poll_write(cx, &H2_REFUSAL[*sent..])) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => *sent += n,
                }
            }
            // End of input for hyper: it closes the connection without writing anything.
            *sent = H2_REFUSAL.len();
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(this.inner.as_mut().poll_read(cx, buf))?;
        let new = &mut buf.filled_mut()[before..];
        if *this.first_read && !new.is_empty() {
            *this.first_read = false;
            if new.starts_with(H2_PREFACE_START) {
                this.metrics.rejected(Rejected::Http2PriorKnowledge);
                buf.set_filled(before);
                *this.refusal_sent = Some(0);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        neutralize_oversized_content_length(new);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Wire {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    #[inline]
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

/// hyper answers a `Content-Length` of 18446744073709551614 or 18446744073709551615 (above
/// its internal maximum, yet a valid u64) with 431, as if the head were too large; any larger
/// number already gets 400. Such a value is garbled here (its first digit becomes `x`) so that
/// hyper rejects it as an invalid Content-Length: 400, like every other absurd length.
/// Only a header that arrives within one read is caught (a head normally does).
fn neutralize_oversized_content_length(bytes: &mut [u8]) {
    // Every such value, with or without leading zeros, contains these 19 digits.
    const DIGITS: &[u8] = b"1844674407370955161";
    const NAME: &[u8] = b"content-length:";
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&bytes[from..], DIGITS) {
        let at = from + i;
        from = at + DIGITS.len();
        let last = bytes.get(at + DIGITS.len()).copied();
        let next = bytes.get(at + DIGITS.len() + 1).copied();
        if !matches!(last, Some(b'4' | b'5')) || next.is_some_and(|b| b.is_ascii_digit()) {
            continue;
        }
        // Walk back over leading zeros and optional whitespace to the header name.
        let mut j = at;
        while j > 0 && bytes[j - 1] == b'0' {
            j -= 1;
        }
        while j > 0 && matches!(bytes[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        if j >= NAME.len() && bytes[j - NAME.len()..j].eq_ignore_ascii_case(NAME) {
            bytes[at] = b'x';
        }
    }
}

/// The router as a hyper service that adds `Connection: close` to every response finished
/// once shutdown began: keep-alive clients (load balancers, ingress pools) then reconnect, and
/// new connections go to pods that are still in the endpoints. It is also what ends every
/// connection during the drain: each closes after its next response.
#[derive(Clone)]
struct CloseWhenDraining {
    app: Router,
    health: Arc<Health>,
}

impl hyper::service::Service<Request<Incoming>> for CloseWhenDraining {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = CloseWhenDrainingFuture;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        // `Router` is always ready; `call` on a clone is what `oneshot` would do.
        let fut = tower::Service::call(&mut self.app.clone(), req);
        CloseWhenDrainingFuture {
            fut,
            health: self.health.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    struct CloseWhenDrainingFuture {
        #[pin]
        fut: axum::routing::future::RouteFuture<Infallible>,
        health: Arc<Health>,
    }
}

impl Future for CloseWhenDrainingFuture {
    type Output = Result<Response<Body>, Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut resp = ready!(this.fut.poll(cx))?;
        // Decided when the response is ready, so a request that was in flight when the signal
        // came also closes its connection.
        if this.health.phase() == Phase::Draining {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_content_length_is_garbled_only_in_that_header() {
        for (input, expected) in [
            (
                "GET / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n",
                "GET / HTTP/1.1\r\nContent-Length: x8446744073709551615\r\n\r\n",
            ),
            (
                "GET / HTTP/1.1\r\ncontent-length:0018446744073709551614\r\n\r\n",
                "GET / HTTP/1.1\r\ncontent-length:00x8446744073709551614\r\n\r\n",
            ),
            // Values hyper handles itself, or other headers: untouched.
            (
                "GET / HTTP/1.1\r\nContent-Length: 18446744073709551613\r\n\r\n",
                "GET / HTTP/1.1\r\nContent-Length: 18446744073709551613\r\n\r\n",
            ),
            (
                "GET / HTTP/1.1\r\nContent-Length: 184467440737095516150\r\n\r\n",
                "GET / HTTP/1.1\r\nContent-Length: 184467440737095516150\r\n\r\n",
            ),
            (
                "GET /?n=18446744073709551615 HTTP/1.1\r\nX-N: 18446744073709551615\r\n\r\n",
                "GET /?n=18446744073709551615 HTTP/1.1\r\nX-N: 18446744073709551615\r\n\r\n",
            ),
        ] {
            let mut bytes = input.as_bytes().to_vec();
            neutralize_oversized_content_length(&mut bytes);
            assert_eq!(String::from_utf8(bytes).expect("ascii"), expected);
        }
    }

    #[test]
    fn default_cap_fits_the_open_file_limit() {
        assert_eq!(default_max_connections(None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            default_max_connections(Some(1_048_576)),
            DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(default_max_connections(Some(1024)), 1024 - FD_RESERVE);
        assert_eq!(default_max_connections(Some(10)), 1);
    }

    #[test]
    fn h2_refusal_frames_are_well_formed() {
        // SETTINGS: length 0, type 4, stream 0.
        assert_eq!(&H2_REFUSAL[..9], b"\x00\x00\x00\x04\x00\x00\x00\x00\x00");
        let goaway = &H2_REFUSAL[9..];
        let len =
            usize::from(goaway[0]) << 16 | usize::from(goaway[1]) << 8 | usize::from(goaway[2]);
        assert_eq!(goaway[3], 7, "GOAWAY");
        assert_eq!(len, goaway.len() - 9, "length field matches the payload");
        assert_eq!(&goaway[9..13], &[0, 0, 0, 0], "last stream id 0");
        assert_eq!(&goaway[13..17], &[0, 0, 0, 0x0d], "HTTP_1_1_REQUIRED");
    }
}
