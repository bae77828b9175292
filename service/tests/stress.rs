//! The real binary under stress: SIGTERM under `wrk -t2 -c64` and under raw clients writing
//! requests at random moments around the listener close (10 runs each: nothing accepted is
//! lost, exit 0 within the grace period); 10 000 idle connections (probes stay responsive,
//! memory stays under the documented bound and falls back after they close); the connection
//! cap; the open-file limit (EMFILE is logged at most once a second and the service recovers).
//!
//! Loops are bounded in count and time; everything runs on 127.0.0.1.

use crate::common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Server, body_of, status_of};
use service::server::{HANDSHAKE_SETTLE, rss_bound_idle};

const RUNS: usize = 10;
/// `terminationGracePeriodSeconds` of the base Deployment.
const GRACE: Duration = Duration::from_secs(30);

/// Raise this process's soft open-file limit to its hard limit (children inherit it).
fn raise_nofile_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let hard: u64 = line
        .split_whitespace()
        .nth(4)
        .and_then(|v| v.parse().ok())
        .expect("hard limit");
    let ok = Command::new("prlimit")
        .args([
            format!("--pid={}", std::process::id()),
            format!("--nofile={hard}:{hard}"),
        ])
        .status()
        .expect("run prlimit (util-linux)")
        .success();
    assert!(ok, "prlimit failed");
    hard
}

/// `wrk` summary numbers.
#[derive(Debug, Default)]
struct WrkResult {
    requests: u64,
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
    non_2xx: u64,
}

fn parse_wrk(out: &str) -> WrkResult {
    let mut r = WrkResult::default();
    for line in out.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Socket errors:") {
            for part in rest.split(',') {
                let mut kv = part.split_whitespace();
                let (k, v) = (kv.next(), kv.next().and_then(|v| v.parse().ok()));
                match (k, v) {
                    (Some("connect"), Some(v)) => r.connect = v,
                    (Some("read"), Some(v)) => r.read = v,
                    (Some("write"), Some(v)) => r.write = v,
                    (Some("timeout"), Some(v)) => r.timeout = v,
                    _ => panic!("unexpected wrk line: {line}"),
                }
            }
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = rest.trim().parse().expect("non-2xx count");
        } else if line.contains(" requests in ") {
            r.requests = line
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .expect("request count");
        }
    }
    r
}

/// SIGTERM while `wrk -t2 -c64` hammers `/default`, 10 times: no read error and no non-2xx
/// answer (every request written on an accepted connection is answered), exit 0 within the
/// grace period every time. wrk counts a refused reconnect (after the listener closed) as a
/// connect or write error: those connections were never accepted; the raw-client test below
/// tells the two apart exactly.
#[test]
fn sigterm_under_wrk_loses_nothing() {
    let drain = Duration::from_secs(1);
    for run in 0..RUNS {
        let mut server = Server::start(&[
            ("DRAIN_DELAY_SECONDS", "1"),
            ("SHUTDOWN_TIMEOUT_SECONDS", "5"),
        ]);
        let wrk = Command::new("wrk")
            .args(["-t2", "-c64", "-d4s", "--timeout", "5s"])
            .arg(server.url("/default"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run wrk (apt-get install -y wrk)");
        std::thread::sleep(Duration::from_millis(1000));
        let signalled = Instant::now();
        server.signal("TERM");
        let status = server.wait_exit(GRACE);
        let took = signalled.elapsed();
        let out = wrk.wait_with_output().expect("wrk");
        let text = String::from_utf8_lossy(&out.stdout);
        let r = parse_wrk(&text);
        eprintln!("run {run}: exit after {took:?}: {r:?}");
        assert_eq!(status.code(), Some(0), "run {run}: {status}");
        assert!(took >= drain, "run {run}: left before the drain delay");
        assert!(took < GRACE, "run {run}: {took:?}");
        assert!(r.requests > 500, "run {run}: load was flowing: {text}");
        assert_eq!(r.read, 0, "run {run}: read errors: {text}");
        assert_eq!(r.non_2xx, 0, "run {run}: non-2xx: {text}");
        assert_eq!(r.timeout, 0, "run {run}: timeouts: {text}");
    }
}

/// What happened to one raw client's attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Answered,
    Refused,
    /// Connected and wrote its request, then got EOF or a reset without a complete answer.
    Lost,
}

fn attempt(addr: SocketAddr, pause: Duration) -> Outcome {
    let mut s = match TcpStream::connect_timeout(&addr, Duration::from_secs(4)) {
        Ok(s) => s,
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::TimedOut),
                "unexpected connect error: {e}"
            );
            return Outcome::Refused;
        }
    };
    // The request is written at a random moment after the connection was established.
    std::thread::sleep(pause);
    if s.write_all(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return Outcome::Lost;
    }
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let reply = String::from_utf8_lossy(&out);
    if reply.starts_with("HTTP/1.1 200 ") && body_of(&reply).ends_with('}') {
        Outcome::Answered
    } else {
        Outcome::Lost
    }
}

/// A small deterministic pseudo-random sequence per client (no extra dependency).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// 32 raw clients connect and write a request at random moments (0–25 ms after connecting)
/// from before the drain delay ends until after the listener closed, 10 runs: every
/// connection is either answered completely or refused; none is reset or closed after its
/// request was written. Exit 0 within the grace period every time.
#[test]
fn sigterm_with_raw_clients_around_the_listener_close_loses_nothing() {
    const CLIENTS: u64 = 32;
    let drain = Duration::from_millis(500);
    for run in 0..RUNS {
        let mut server = Server::start(&[
            ("DRAIN_DELAY_SECONDS", "0.5"),
            ("SHUTDOWN_TIMEOUT_SECONDS", "5"),
        ]);
        let addr = server.addr;
        let start = Instant::now();
        let signal_at = Duration::from_millis(300);
        // Clients keep going until well after the listener closed.
        let stop_at = signal_at + drain + HANDSHAKE_SETTLE + Duration::from_millis(600);
        let counts: Arc<[AtomicU64; 3]> = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let counts = counts.clone();
                std::thread::spawn(move || {
                    let mut seed = (run as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i + 1);
                    while start.elapsed() < stop_at {
                        let pause = Duration::from_micros(next_random(&mut seed) % 25_000);
                        let outcome = attempt(addr, pause);
                        counts[outcome as usize].fetch_add(1, Ordering::Relaxed);
                        if outcome == Outcome::Refused {
                            // Refused once, refused from then on; don't spin.
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(signal_at.saturating_sub(start.elapsed()));
        let signalled = Instant::now();
        server.signal("TERM");
        let status = server.wait_exit(GRACE);
        let took = signalled.elapsed();
        for c in clients {
            c.join().expect("client");
        }
        let [answered, refused, lost] = [0, 1, 2].map(|i| counts[i].load(Ordering::Relaxed));
        eprintln!(
            "run {run}: exit after {took:?}: answered {answered}, refused {refused}, lost {lost}"
        );
        assert_eq!(status.code(), Some(0), "run {run}: {status}");
        assert!(took < GRACE, "run {run}: {took:?}");
        assert_eq!(lost, 0, "run {run}: requests written and not answered");
        assert!(answered > 100, "run {run}: load was flowing");
        assert!(refused > 0, "run {run}: the clients outlived the listener");
    }
}

/// 10 000 connections that send nothing, opened as fast as possible: probes still answer
/// quickly, resident memory stays under the documented bound (measured at 1 000 and 10 000),
/// and it falls back once they are closed.
#[test]
fn ten_thousand_idle_connections_stay_cheap() {
    const MANY: usize = 10_000;
    const PROBE_BOUND: Duration = Duration::from_secs(1); // the kubelet probe timeout
    let hard = raise_nofile_limit();
    assert!(
        hard > MANY as u64 + 500,
        "hard open-file limit {hard} too low"
    );
    let server = Server::start(&[
        ("MAX_CONNECTIONS", "10240"),
        ("HEADER_READ_TIMEOUT_SECONDS", "60"),
    ]);
    for _ in 0..200 {
        assert_eq!(server.timed_get("/default").0, 200);
    }
    let baseline = server.rss_bytes();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);

    let mut conns = Vec::with_capacity(MANY);
    let mut at_1000 = 0;
    let opening = Instant::now();
    while conns.len() < MANY {
        conns.push(TcpStream::connect(server.addr).expect("connect"));
        if conns.len() == 1000 {
            wait_open(&server, 1000);
            at_1000 = server.rss_bytes();
        }
    }
    let opened_in = opening.elapsed();
    wait_open(&server, MANY);
    let at_10000 = server.rss_bytes();
    for path in ["/readyz", "/healthz", "/startupz"] {
        let (status, took) = server.timed_get(path);
        assert_eq!(status, 200, "{path}");
        assert!(
            took < PROBE_BOUND,
            "{path} took {took:?} with {MANY} idle connections"
        );
    }
    eprintln!(
        "RSS: baseline {:.1} MiB, 1 000 idle {:.1} MiB, 10 000 idle {:.1} MiB \
         ({:.2} KiB per connection; opened in {opened_in:?})",
        mib(baseline),
        mib(at_1000),
        mib(at_10000),
        (at_10000.saturating_sub(baseline)) as f64 / MANY as f64 / 1024.0
    );
    assert!(at_1000 <= rss_bound_idle(1000), "{at_1000} B at 1 000");
    assert!(at_10000 <= rss_bound_idle(MANY), "{at_10000} B at 10 000");

    drop(conns);
    wait_open(&server, 0);
    // jemalloc's background thread returns freed pages on its decay schedule (seconds).
    let fallen = baseline + (at_10000.saturating_sub(baseline)) / 4;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut now = server.rss_bytes();
    while now > fallen {
        assert!(
            Instant::now() < deadline,
            "RSS stayed at {:.1} MiB after the connections closed (peak {:.1}, baseline {:.1})",
            mib(now),
            mib(at_10000),
            mib(baseline)
        );
        std::thread::sleep(Duration::from_millis(250));
        now = server.rss_bytes();
    }
    eprintln!("RSS after closing: {:.1} MiB", mib(now));
}

/// Wait until the server reports `n` open connections (plus the scrape's own).
fn wait_open(server: &Server, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let open = server.metric("service_connections_open") as usize;
        if open == n + 1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "open connections {open}, want {n}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Past the cap the server stops accepting: the next connection waits in the kernel backlog,
/// unanswered, until a slot frees; then it is served. The pause is counted.
#[test]
fn past_the_cap_connections_wait_for_a_slot() {
    let server = Server::start(&[
        ("MAX_CONNECTIONS", "8"),
        ("HEADER_READ_TIMEOUT_SECONDS", "30"),
    ]);
    assert_eq!(server.metric("service_connections_max"), 8.0);
    let mut silent: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    // The 9th connects (the kernel completes the handshake) but is not accepted yet.
    let mut waiting = TcpStream::connect(server.addr).expect("connect");
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    waiting
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut buf = [0u8; 256];
    let err = waiting.read(&mut buf).expect_err("no answer past the cap");
    assert!(matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    // A slot frees: the waiting connection is accepted and answered.
    silent.pop();
    waiting
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = waiting.read_to_end(&mut out);
    assert_eq!(status_of(&String::from_utf8_lossy(&out)), 200);
    drop(silent);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.metric("service_connections_open") > 1.0 {
        assert!(Instant::now() < deadline, "connections did not close");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.metric("service_connection_cap_waits_total") >= 1.0);
}

/// At the open-file limit `accept` fails with EMFILE on every try: the service backs off, logs
/// at most one line a second (with a count), counts the failures, and serves again once
/// descriptors free up.
#[test]
fn emfile_is_logged_at_most_once_a_second_and_the_service_recovers() {
    let server = Server::start_under(
        &["prlimit", "--nofile=48:48"],
        &[
            ("MAX_CONNECTIONS", "1000"),
            ("HEADER_READ_TIMEOUT_SECONDS", "30"),
        ],
    );
    let held: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(server.addr).expect("connect (kernel backlog)"))
        .collect();
    let window = Duration::from_secs(3);
    std::thread::sleep(window);
    let lines: Vec<serde_json::Value> = server
        .logs
        .lock()
        .expect("lock")
        .iter()
        .filter(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("accept failed"))
        })
        .cloned()
        .collect();
    assert!(!lines.is_empty(), "EMFILE was hit and logged");
    // At most one line a second (+1 for the first one at the start of the window).
    assert!(lines.len() <= window.as_secs() as usize + 1, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l["reason"] == "fd_limit" && l["count"].is_u64())
    );
    let total: u64 = lines.iter().filter_map(|l| l["count"].as_u64()).sum();
    assert!(total >= lines.len() as u64);
    let warned = server
        .log_messages()
        .iter()
        .any(|m| m.starts_with("MAX_CONNECTIONS exceeds the open-file limit"));
    assert!(
        warned,
        "the start-up warns that the cap exceeds the fd limit"
    );

    drop(held);
    // Recovers: served again, and the failures are in the metrics.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut s = TcpStream::connect(server.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if out.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "service did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(server.metric("service_accept_errors_total{reason=\"fd_limit\"}") >= 1.0);
}
