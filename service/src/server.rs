//! The HTTP/1.1 server loop and the drain-first graceful shutdown.
//!
//! `axum::serve` does not expose hyper's header-read timeout or buffer limits, so connections
//! are served with hyper's own `http1` builder and tracked by
//! `hyper_util::server::graceful::GracefulShutdown`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use crate::app::{AppState, RouterSettings, router};
use crate::config::Config;
use crate::health::{Health, Phase};
use crate::identity::Identity;

/// Largest accepted request head (request line and headers); larger heads get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Per-connection read buffer limit.
pub const MAX_BUF_BYTES: usize = 32 * 1024;

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listening socket could not be created.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The bound address could not be read back.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(std::io::Error),
}

/// Timing of the connection handling and of the shutdown.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Clients must send a complete request head within this time (also the keep-alive idle
    /// limit between requests).
    pub header_read_timeout: Duration,
    /// Time between the shutdown signal and closing the listener; readiness fails during it.
    pub drain_delay: Duration,
    /// Bound on waiting for in-flight requests once the listener is closed.
    pub shutdown_timeout: Duration,
}

impl From<&Config> for ServeOptions {
    fn from(c: &Config) -> Self {
        Self {
            header_read_timeout: c.header_read_timeout,
            drain_delay: c.drain_delay,
            shutdown_timeout: c.shutdown_timeout,
        }
    }
}

/// Bind, log the listening address and serve until `shutdown` resolves, then drain and stop.
///
/// # Errors
/// When the socket cannot be bound.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let identity = Identity::resolve(&config);
    let state = AppState::new(&identity);
    let app = router(&state, &RouterSettings::from(&config));
    info!(
        version = crate::VERSION,
        hostname = %identity.hostname,
        ip = %identity.ip,
        region = %identity.region,
        zone = %identity.zone,
        log_level = %config.log_level,
        readiness_path = %config.probes.readiness,
        liveness_path = %config.probes.liveness,
        startup_path = %config.probes.startup,
        drain_delay_s = config.drain_delay.as_secs_f64(),
        shutdown_timeout_s = config.shutdown_timeout.as_secs_f64(),
        request_timeout_s = config.request_timeout.as_secs_f64(),
        header_read_timeout_s = config.header_read_timeout.as_secs_f64(),
        "starting"
    );
    let addr = SocketAddr::new(config.bind_address, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(ServeError::LocalAddr)?;
    info!(addr = %local, port = local.port(), "listening");
    serve(
        listener,
        app,
        state.health.clone(),
        ServeOptions::from(&config),
        shutdown,
    )
    .await;
    Ok(())
}

/// Serve `app` on `listener`: readiness passes once this runs; when `shutdown` resolves,
/// readiness fails at once and requests keep being served for the drain delay, the response to
/// each request received from then on carrying `Connection: close`. Then the connections already in the accept backlog are
/// taken, the listener closes, idle connections are closed, and in-flight requests get up to
/// the shutdown timeout to finish (their responses also close the connection).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    health: Arc<Health>,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(MAX_BUF_BYTES)
        .max_header_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();

    health.set_ready();
    info!("ready");

    let conns = Connections {
        http: &http,
        graceful: &graceful,
        service: CloseWhenDraining {
            app,
            health: health.clone(),
        },
    };

    accept_until(&listener, &conns, shutdown).await;
    let signalled = Instant::now();
    health.set_draining();
    info!(
        drain_delay_s = opts.drain_delay.as_secs_f64(),
        "shutdown: readiness failing, still serving during the drain delay"
    );

    accept_until(&listener, &conns, tokio::time::sleep(opts.drain_delay)).await;
    close_listener(listener, &conns);
    info!(
        open_connections = graceful.count(),
        shutdown_timeout_s = opts.shutdown_timeout.as_secs_f64(),
        "shutdown: listener closed, finishing in-flight requests"
    );

    match tokio::time::timeout(opts.shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => info!(
            elapsed_ms = u64::try_from(signalled.elapsed().as_millis()).unwrap_or(u64::MAX),
            "shutdown: complete"
        ),
        Err(_) => warn!(
            elapsed_ms = u64::try_from(signalled.elapsed().as_millis()).unwrap_or(u64::MAX),
            "shutdown: timeout reached, abandoning the connections still open"
        ),
    }
}

async fn accept_until(
    listener: &TcpListener,
    conns: &Connections<'_>,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => conns.serve(stream),
            Err(err) => {
                // Typically EMFILE/ENFILE: back off instead of spinning (but stop on time).
                warn!(error = %err, "accept failed");
                tokio::select! {
                    biased;
                    () = &mut stop => return,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }
}

/// Close the listener, first serving every connection whose handshake the kernel already
/// completed: closing a listener resets the connections still in its backlog, and their
/// clients have already sent a request they believe was accepted.
fn close_listener(listener: TcpListener, conns: &Connections<'_>) {
    let std_listener = match listener.into_std() {
        Ok(l) => l,
        Err(err) => {
            warn!(error = %err, "cannot drain the accept backlog");
            return;
        }
    };
    // Still non-blocking (tokio set it): accept until the backlog is empty.
    let mut drained = 0u32;
    while let Ok((stream, _peer)) = std_listener.accept() {
        // Accepted sockets do not inherit O_NONBLOCK; tokio needs it.
        let stream = stream
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpStream::from_std(stream));
        match stream {
            Ok(stream) => {
                conns.serve(stream);
                drained += 1;
            }
            Err(err) => warn!(error = %err, "cannot serve a backlogged connection"),
        }
    }
    drop(std_listener);
    if drained > 0 {
        debug!(
            connections = drained,
            "served the accept backlog before closing"
        );
    }
}

/// What every accepted connection is served with.
struct Connections<'a> {
    http: &'a http1::Builder,
    graceful: &'a GracefulShutdown,
    service: CloseWhenDraining,
}

impl Connections<'_> {
    fn serve(&self, stream: tokio::net::TcpStream) {
        // Responses are written in one go; no point in delaying them.
        let _ = stream.set_nodelay(true);
        let conn = self
            .http
            .serve_connection(TokioIo::new(stream), self.service.clone());
        let conn = self.graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                debug!(error = %err, "connection closed with an error");
            }
        });
    }
}

/// The router as a hyper service that adds `Connection: close` to the response of every request
/// received once shutdown began: keep-alive clients (load balancers, ingress pools) then reconnect, and new
/// connections go to pods that are still in the endpoints. Idle keep-alive connections would
/// otherwise stay pinned to this pod until the listener closes and be cut then, racing with
/// any request the client sends at that moment.
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
        // Decided when the request arrives: one atomic load, and no reference count to bump
        // per request. (Requests already in flight when the listener closes get
        // `Connection: close` from hyper's graceful shutdown.)
        let close = self.health.phase() == Phase::Draining;
        // `Router` is always ready; `call` on a clone is what `oneshot` would do.
        let fut = tower::Service::call(&mut self.app.clone(), req);
        CloseWhenDrainingFuture { fut, close }
    }
}

pin_project_lite::pin_project! {
    struct CloseWhenDrainingFuture {
        #[pin]
        fut: axum::routing::future::RouteFuture<Infallible>,
        close: bool,
    }
}

impl Future for CloseWhenDrainingFuture {
    type Output = Result<Response<Body>, Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut resp = ready!(this.fut.poll(cx))?;
        if *this.close {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(Ok(resp))
    }
}
