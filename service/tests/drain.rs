//! `service::serve` with real HTTP: in-flight requests finish after the listener closes, and
//! the shutdown timeout bounds how long they may take.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use service::health::{Health, Phase};
use service::metrics::Metrics;
use service::server::{ServeOptions, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

fn slow_app(delay: Duration) -> Router {
    Router::new().route(
        "/slow",
        get(move || async move {
            tokio::time::sleep(delay).await;
            "done"
        }),
    )
}

async fn get_raw(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

struct Running {
    addr: std::net::SocketAddr,
    health: Arc<Health>,
    trigger: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(app: Router, drain: Duration, timeout: Duration) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let health = Arc::new(Health::new(Arc::new(Metrics::new())));
    let (trigger, rx) = oneshot::channel::<()>();
    let opts = ServeOptions {
        header_read_timeout: Duration::from_secs(5),
        drain_delay: drain,
        shutdown_timeout: timeout,
    };
    let h = health.clone();
    let done = tokio::spawn(async move {
        serve(listener, app, h, opts, async {
            let _ = rx.await;
        })
        .await;
    });
    // `serve` flips to ready before accepting.
    while health.phase() != Phase::Ready {
        tokio::task::yield_now().await;
    }
    Running {
        addr,
        health,
        trigger,
        done,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_finish_after_the_listener_closes() {
    let r = start(
        slow_app(Duration::from_millis(600)),
        Duration::from_millis(200),
        Duration::from_secs(5),
    )
    .await;
    // Start a request that outlives the drain delay.
    let in_flight = tokio::spawn(get_raw(r.addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t0 = Instant::now();
    r.trigger.send(()).expect("serve is running");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(r.health.phase(), Phase::Draining);

    // After the drain delay new connections are refused...
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(r.addr).await.is_err(),
        "listener must be closed after the drain delay"
    );
    // ...but the in-flight request completes, and only then does serve return.
    let reply = in_flight.await.expect("join").expect("in-flight request");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with("done"), "{reply}");
    // hyper closes the kept-alive connection once shutdown started.
    assert!(
        reply.to_ascii_lowercase().contains("connection: close"),
        "{reply}"
    );
    tokio::time::timeout(Duration::from_secs(2), r.done)
        .await
        .expect("serve returns once in-flight work is done")
        .expect("join");
    assert!(t0.elapsed() >= Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_timeout_bounds_the_wait() {
    let r = start(
        slow_app(Duration::from_secs(60)),
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await;
    let _stuck = tokio::spawn(get_raw(r.addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t0 = Instant::now();
    r.trigger.send(()).expect("serve is running");
    tokio::time::timeout(Duration::from_secs(3), r.done)
        .await
        .expect("serve gives up after the shutdown timeout")
        .expect("join");
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}
