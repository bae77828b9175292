//! `service::serve` with real HTTP: in-flight requests finish after the listener closes (also
//! on reused keep-alive connections), idle keep-alive connections are closed at once when the
//! drain delay ends, responses during the drain carry `Connection: close`, and the shutdown
//! timeout bounds how long in-flight requests may take.
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
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let health = Arc::new(Health::new(Metrics::leak()));
    let started = Arc::new(Notify::new());
    let (trigger, rx) = oneshot::channel::<()>();
    let opts = ServeOptions {
        header_read_timeout: Duration::from_secs(30),
        drain_delay: drain,
        shutdown_timeout: timeout,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_when_the_drain_ends() {
    // Header-read timeout 30 s and shutdown timeout 30 s: if idle connections were not closed
    // by the shutdown itself, serve would hang far beyond the bound checked below.
    let r = start(
        Duration::from_millis(10),
        Duration::from_millis(300),
        Duration::from_secs(30),
    )
    .await;
    let mut idle = Client::connect(r.addr).await;
    idle.send("/fast").await;
    assert_eq!(idle.read().await.1, "fast");
    // A connection that never sent anything is closed too.
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

    let t0 = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), r.done)
        .await
        .expect("serve must not wait for idle connections")
        .expect("join");
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(
        idle.closed_within(Duration::from_secs(2)).await,
        "idle conn"
    );
    assert!(
        silent.closed_within(Duration::from_secs(2)).await,
        "silent conn"
    );
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
