//! `service::serve` with real HTTP: in-flight requests finish after the listener closes (also
//! on reused keep-alive connections), connections that have not sent their request yet are
//! still answered after the listener closed, responses during the drain carry
//! `Connection: close`, and the shutdown timeout bounds how long connections may take.
//!
//! Ordering is established with notifications and polling, never with bare sleeps, so the tests
//! hold on a loaded machine; time bounds are generous where they are upper bounds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use service::health::{Health, Phase};
use service::metrics::Metrics;
use service::server::{ServeOptions, serve};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

/// `/slow` signals `started` when its handler runs, then sleeps `delay`; `/fast` answers at once.
fn app(delay: Duration, started: Arc<Notify>) -> Router {
    Router::new()
        .route(
            "/slow",
            get(move || async move {
                started.notify_one();
                tokio::time::sleep(delay).await;
                "done"
            }),
        )
        .route("/fast", get(|| async { "fast" }))
}

struct Running {
    addr: SocketAddr,
    health: Arc<Health>,
    started: Arc<Notify>,
    trigger: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(delay: Duration, drain: Duration, timeout: Duration) -> Running {
    start_with(delay, drain, timeout, Duration::from_secs(30)).await
}

async fn start_with(
    delay: Duration,
    drain: Duration,
    timeout: Duration,
    header_read_timeout: Duration,
) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let health = Arc::new(Health::new(Metrics::leak()));
    let started = Arc::new(Notify::new());
    let (trigger, rx) = oneshot::channel::<()>();
    let opts = ServeOptions {
        header_read_timeout,
        drain_delay: drain,
        shutdown_timeout: timeout,
        max_connections: 64,
    };
    let (h, a) = (health.clone(), app(delay, started.clone()));
    let done = tokio::spawn(async move {
        serve(listener, a, h, opts, async {
            let _ = rx.await;
        })
        .await;
    });
    // `serve` flips to ready before accepting.
    wait_for(|| health.phase() == Phase::Ready, "ready").await;
    Running {
        addr,
        health,
        started,
        trigger,
        done,
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Wait until connecting fails (the listener is closed).
async fn wait_refused(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "listener still open");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A keep-alive HTTP/1.1 client on one connection.
struct Client(BufReader<TcpStream>);

impl Client {
    async fn connect(addr: SocketAddr) -> Self {
        Self(BufReader::new(
            TcpStream::connect(addr).await.expect("connect"),
        ))
    }

    async fn send(&mut self, path: &str) {
        self.0
            .get_mut()
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .expect("write");
    }

    /// Read one response: (head, body).
    async fn read(&mut self) -> (String, String) {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = self.0.read_line(&mut line).await.expect("read head");
            assert!(n > 0, "connection closed before a response; got {head:?}");
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("content-length");
        let mut body = vec![0; len];
        self.0.read_exact(&mut body).await.expect("read body");
        (
            head.to_ascii_lowercase(),
            String::from_utf8(body).expect("utf-8"),
        )
    }

    /// True once the server closed the connection (EOF), waiting at most `limit`.
    async fn closed_within(&mut self, limit: Duration) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(limit, self.0.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_on_keep_alive_connections_finish_after_the_listener_closes() {
    let r = start(
        Duration::from_millis(600),
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await;
    // A kept-alive connection that already served a request...
    let mut c = Client::connect(r.addr).await;
    c.send("/fast").await;
    let (head, body) = c.read().await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    assert_eq!(body, "fast");
    // ...then has a request in flight when shutdown begins and outlives the drain delay.
    c.send("/slow").await;
    r.started.notified().await;
    let t0 = Instant::now();
    r.trigger.send(()).expect("serve is running");
    wait_for(|| r.health.phase() == Phase::Draining, "draining").await;

    // After the drain delay new connections are refused...
    wait_refused(r.addr).await;
    // ...but the in-flight request completes, told that the connection closes.
    let (head, body) = c.read().await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body, "done");
    assert!(c.closed_within(Duration::from_secs(5)).await);
    tokio::time::timeout(Duration::from_secs(5), r.done)
        .await
        .expect("serve returns once in-flight work is done")
        .expect("join");
    // The slow request started before the trigger, so this is a safe lower bound.
    assert!(t0.elapsed() >= Duration::from_millis(200));
}

/// Nothing is closed by the shutdown itself: a connection that has not sent its request yet
/// (silent, or kept alive after an answer) still gets its header-read timeout to send it, also
/// after the listener closed, and is answered with `Connection: close`; one that sends nothing
/// is closed by that timeout, and `serve` returns then, without waiting for the (longer)
/// shutdown timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_without_a_request_yet_are_answered_after_the_listener_closed() {
    let header_timeout = Duration::from_secs(4);
    let r = start_with(
        Duration::from_millis(10),
        Duration::from_millis(300),
        Duration::from_secs(30),
        header_timeout,
    )
    .await;
    let mut kept_alive = Client::connect(r.addr).await;
    kept_alive.send("/fast").await;
    let (head, body) = kept_alive.read().await;
    assert_eq!(body, "fast");
    assert!(!head.contains("connection: close"), "{head}");
    let mut late = Client::connect(r.addr).await;
    let silent_since = Instant::now();
    let mut silent = Client::connect(r.addr).await;

    // During the drain, a kept-alive connection is still served, but told to close.
    let mut during = Client::connect(r.addr).await;
    during.send("/fast").await;
    assert_eq!(during.read().await.1, "fast");
    r.trigger.send(()).expect("serve is running");
    wait_for(|| r.health.phase() == Phase::Draining, "draining").await;
    during.send("/fast").await;
    let (head, body) = during.read().await;
    assert_eq!(body, "fast");
    assert!(head.contains("connection: close"), "{head}");
    assert!(during.closed_within(Duration::from_secs(5)).await);

    // After the listener closed, the connections that had sent nothing send their request.
    wait_refused(r.addr).await;
    assert!(
        silent_since.elapsed() < header_timeout,
        "the test itself was too slow"
    );
    for (name, c) in [("late", &mut late), ("kept alive", &mut kept_alive)] {
        c.send("/fast").await;
        let (head, body) = c.read().await;
        assert!(head.starts_with("http/1.1 200"), "{name}: {head}");
        assert!(head.contains("connection: close"), "{name}: {head}");
        assert_eq!(body, "fast");
        assert!(c.closed_within(Duration::from_secs(5)).await, "{name}");
    }
    assert!(
        !r.done.is_finished(),
        "serve waits for the silent connection"
    );

    // The silent one is closed by its header-read timeout; then serve returns.
    assert!(silent.closed_within(Duration::from_secs(10)).await);
    let silent_for = silent_since.elapsed();
    assert!(silent_for >= header_timeout, "{silent_for:?}");
    tokio::time::timeout(Duration::from_secs(5), r.done)
        .await
        .expect("serve returns once the last connection closed")
        .expect("join");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_timeout_bounds_the_wait() {
    let r = start(
        Duration::from_secs(60),
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await;
    let mut stuck = Client::connect(r.addr).await;
    stuck.send("/slow").await;
    r.started.notified().await;
    let t0 = Instant::now();
    r.trigger.send(()).expect("serve is running");
    tokio::time::timeout(Duration::from_secs(10), r.done)
        .await
        .expect("serve gives up after the shutdown timeout")
        .expect("join");
    let took = t0.elapsed();
    // drain 0.1 s + timeout 0.3 s; far below the 60 s handler even on a loaded machine.
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
