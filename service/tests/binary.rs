//! Tests against the real binary: configuration errors, bad requests over raw TCP, PORT=0.

use crate::common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Server, body_of, header_of, status_of};
use serde_json::Value;

#[test]
fn bad_configuration_exits_2_naming_the_variable() {
    for (var, value) in [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("DRAIN_DELAY_SECONDS", "-3"),
        ("DRAIN_DELAY_SECONDS", "ten"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "1h"),
        ("LOG_LEVEL", "verbose"),
        ("READINESS_PATH", "readyz"),
        ("LIVENESS_PATH", "/metrics"),
        ("BIND_ADDRESS", "localhost"),
        ("POD_IP", "300.1.1.1"),
        ("REGION", "west europe"),
        ("ZONE", "\"1\""),
        ("HOSTNAME", "a\\b"),
        ("REQUEST_TIMEOUT_SECONDS", "0"),
        ("HEADER_READ_TIMEOUT_SECONDS", "NaN"),
        ("STARTUP_PATH", "/a b"),
        ("IMAGE", "contosoha.azurecr.io/hello"),
        ("IMAGE", "contosoha.azurecr.io/hello@sha256:1234"),
        ("MAX_CONNECTIONS", "0"),
    ] {
        let out = Command::new(BIN)
            .env_clear()
            .env(var, value)
            .output()
            .expect("run service");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        // One line naming the variable and quoting the value (escaped as in Rust/JSON).
        let line = format!("service: configuration error: invalid {var}={value:?}: expected ");
        assert!(stderr.starts_with(&line), "{var}={value}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty(), "nothing may be served or logged");
    }
}

#[test]
fn duplicated_probe_paths_exit_2() {
    let out = Command::new(BIN)
        .env_clear()
        .env("LIVENESS_PATH", "/probe")
        .env("STARTUP_PATH", "/probe")
        .output()
        .expect("run service");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("STARTUP_PATH"), "{stderr}");
    assert!(stderr.contains("LIVENESS_PATH"), "{stderr}");
}

#[test]
fn port_in_use_fails_non_zero() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = Command::new(BIN)
        .env_clear()
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("PORT", &port)
        .output()
        .expect("run service");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&port));
}

#[test]
fn ephemeral_port_is_logged_and_served() {
    let s = Server::start(&[
        ("REGION", "westeurope"),
        ("ZONE", "2"),
        ("POD_IP", "10.0.0.9"),
    ]);
    assert_ne!(s.addr.port(), 0);
    let reply = s.raw(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert_eq!(header_of(&reply, "content-type"), Some("application/json"));
    let v: Value = serde_json::from_str(body_of(&reply)).expect("json");
    assert_eq!(v["ip"], "10.0.0.9");
    assert_eq!(v["region"], "westeurope");
    assert_eq!(v["zone"], "2");
    assert!(v["hostname"].as_str().is_some_and(|h| !h.is_empty()));
    let reply = s.raw(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200, "{reply}");
    let msgs = s.log_messages();
    assert!(
        msgs.starts_with(&["starting".into(), "listening".into()]),
        "{msgs:?}"
    );
}

#[test]
fn bad_requests_are_rejected() {
    let s = Server::start(&[]);

    let reply = s.raw(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 404, "{reply}");
    let v: Value = serde_json::from_str(body_of(&reply)).expect("json");
    assert_eq!(v["error"]["code"], "NotFound");

    let reply = s.raw(
        b"POST /default HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&reply), 405, "{reply}");
    assert_eq!(header_of(&reply, "allow"), Some("GET, HEAD"));
    let v: Value = serde_json::from_str(body_of(&reply)).expect("json");
    assert_eq!(v["error"]["code"], "MethodNotAllowed");

    // One 20 KiB header: over the 16 KiB head limit.
    let big = format!(
        "GET /default HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(20 * 1024)
    );
    let reply = s.raw(big.as_bytes());
    assert_eq!(status_of(&reply), 431, "{reply}");

    // A head larger than the read buffer is cut off the same way.
    let huge = format!(
        "GET /default HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "h".repeat(100 * 1024)
    );
    assert_eq!(status_of(&s.raw(huge.as_bytes())), 431);

    // More than 100 headers.
    let mut many = String::from("GET /default HTTP/1.1\r\nHost: x\r\n");
    for i in 0..150 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    assert_eq!(status_of(&s.raw(many.as_bytes())), 431);

    // A 10 KiB request target: over the 8 KiB URI limit.
    let long = format!(
        "GET /default?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "u".repeat(10 * 1024)
    );
    let reply = s.raw(long.as_bytes());
    assert_eq!(status_of(&reply), 414, "{reply}");
    let v: Value = serde_json::from_str(body_of(&reply)).expect("json");
    assert_eq!(v["error"]["code"], "UriTooLong");

    // An absurd Content-Length is bad framing: 400 (hyper alone says 431 for u64::MAX).
    for length in [
        "18446744073709551615",
        "18446744073709551614",
        "99999999999999999999999",
    ] {
        let reply = s.raw(
            format!("POST /default HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(status_of(&reply), 400, "Content-Length: {length}: {reply}");
    }

    // Garbage is a 400, not a crash.
    let reply = s.raw(b"\x16\x03\x01 not http\r\n\r\n");
    assert_eq!(status_of(&reply), 400, "{reply}");

    // Still healthy afterwards.
    let reply = s.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200, "{reply}");
}

/// Read until EOF or error; the time it took. Panics after `limit`.
fn time_to_close(c: &mut TcpStream, start: Instant, limit: Duration) -> Duration {
    c.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let mut buf = [0u8; 512];
    loop {
        assert!(start.elapsed() < limit, "still connected after {limit:?}");
        match c.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return start.elapsed(),
        }
    }
}

/// The header-read timeout is a deadline for the whole request head, not an idle timer: a
/// slowloris client sending one byte per second (far more often than the timeout) is cut off
/// when the deadline passes, as are a client that sends nothing and a kept-alive connection
/// that goes idle after a request. The three run concurrently against one server.
#[test]
fn header_read_timeout_cuts_off_slow_silent_and_idle_clients() {
    const TIMEOUT: Duration = Duration::from_millis(2500);
    let s = Server::start(&[("HEADER_READ_TIMEOUT_SECONDS", "2.5")]);
    let addr = s.addr;
    // Generous upper bound: the cut-off only has to happen, and a loaded machine is slow.
    let limit = TIMEOUT + Duration::from_secs(4);

    let slowloris = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).expect("connect");
        let start = Instant::now();
        c.write_all(b"GET /default HTTP/1.1\r\nHost: x\r\n")
            .expect("write");
        c.set_read_timeout(Some(Duration::from_secs(1)))
            .expect("timeout");
        let mut buf = [0u8; 512];
        let mut sent = 0;
        loop {
            assert!(start.elapsed() < limit, "slowloris still connected");
            // One header byte per second, never finishing the head.
            match c.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
            if c.write_all(b"X").is_err() {
                break;
            }
            sent += 1;
        }
        (start.elapsed(), sent)
    });
    let silent = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).expect("connect");
        time_to_close(&mut c, Instant::now(), limit)
    });
    let idle = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).expect("connect");
        c.write_all(b"GET /default HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        // The response arrives at once; then the connection idles until the timeout.
        let mut buf = [0u8; 512];
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let n = c.read(&mut buf).expect("response");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        let start = Instant::now();
        time_to_close(&mut c, start, limit)
    });

    let (slow_after, sent) = slowloris.join().expect("slowloris");
    assert!(
        slow_after >= TIMEOUT,
        "slowloris cut off early: {slow_after:?}"
    );
    assert!(sent >= 2, "the slowloris kept sending: {sent} bytes");
    let silent_after = silent.join().expect("silent");
    assert!(
        silent_after >= TIMEOUT,
        "silent cut off early: {silent_after:?}"
    );
    let idle_after = idle.join().expect("idle");
    assert!(
        idle_after >= TIMEOUT - Duration::from_millis(100),
        "idle keep-alive cut off early: {idle_after:?}"
    );
    // Others are unaffected.
    let reply = s.raw(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200);
}

/// A request body is never read by any route: a POST announcing 1 GiB to /default gets its 405
/// at once, without the server waiting for (or buffering) the body, and the connection is
/// closed instead of being drained. Same for a chunked body on GET.
#[test]
fn large_request_bodies_are_not_buffered() {
    let s = Server::start(&[]);
    for head in [
        "POST /default HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n",
        "GET /default HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\n",
        "PUT /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n",
    ] {
        let mut c = TcpStream::connect(s.addr).expect("connect");
        c.write_all(head.as_bytes()).expect("write head");
        // A first slice of the body; the rest never comes.
        let _ = c.write_all(&[b'a'; 64 * 1024]);
        let start = Instant::now();
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let reply = String::from_utf8_lossy(&out);
        // Had the server waited for the body, the read would have timed out after 5 s.
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{head:?}: the server waited for the body"
        );
        let expected = if head.starts_with("POST") {
            405
        } else if head.starts_with("PUT") {
            404
        } else {
            200
        };
        assert_eq!(status_of(&reply), expected, "{head:?}: {reply}");
        assert!(body_of(&reply).starts_with('{'), "{reply}");
    }
}

/// HEAD over the wire: same status and headers as GET (including the Content-Length of the
/// GET body), no body, and the connection stays usable.
#[test]
fn head_has_get_headers_and_no_body() {
    let s = Server::start(&[]);
    let get = s.raw(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let head = s.raw(b"HEAD /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&head), 200, "{head}");
    assert_eq!(
        header_of(&head, "content-length"),
        Some(body_of(&get).len().to_string().as_str())
    );
    assert_eq!(header_of(&head, "content-type"), Some("application/json"));
    assert_eq!(body_of(&head), "", "{head}");
    // HEAD of an unknown path: 404 headers of the JSON error, no body.
    let head = s.raw(b"HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&head), 404, "{head}");
    assert_eq!(body_of(&head), "");
    // Two HEADs then a GET on one kept-alive connection: no stray body bytes in between.
    let reply = s.raw(
        b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 3, "{reply}");
    assert!(reply.ends_with(r#"{"status":"alive"}"#), "{reply}");
}

#[test]
fn request_logs_only_at_debug() {
    let request = b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let quiet = Server::start(&[]);
    assert_eq!(status_of(&quiet.raw(request)), 200);
    let debug = Server::start(&[("LOG_LEVEL", "debug")]);
    assert_eq!(status_of(&debug.raw(request)), 200);
    assert_eq!(
        status_of(&debug.raw(b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n")),
        404
    );

    // The log line is written before the response completes; give the reader thread a moment.
    let deadline = Instant::now() + Duration::from_secs(2);
    let request_logs = |s: &Server| -> Vec<Value> {
        s.logs
            .lock()
            .expect("lock")
            .iter()
            .filter(|v| v["message"] == "request")
            .cloned()
            .collect()
    };
    while request_logs(&debug).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let logs = request_logs(&debug);
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[0]["level"], "DEBUG");
    assert_eq!(logs[0]["method"], "GET");
    assert_eq!(logs[0]["route"], "default");
    assert_eq!(logs[0]["status"], 200);
    assert!(logs[0]["micros"].is_u64());
    assert_eq!(logs[1]["route"], "unmatched");
    assert_eq!(logs[1]["status"], 404);
    assert!(request_logs(&quiet).is_empty(), "no request logs at info");
}

#[test]
fn image_is_reported_by_default() {
    let image = format!("contosoha.azurecr.io/hello@sha256:{}", "0f".repeat(32));
    let s = Server::start(&[("IMAGE", &image)]);
    let reply = s.raw(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let v: Value = serde_json::from_str(body_of(&reply)).expect("json");
    assert_eq!(v["image"], image.as_str());
    let unset = Server::start(&[]);
    let reply = unset.raw(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let v: Value = serde_json::from_str(body_of(&reply)).expect("json");
    assert!(v["image"].is_null(), "{v}");
}

/// An HTTP/2 prior-knowledge client gets the server preface and a GOAWAY with
/// `HTTP_1_1_REQUIRED`, not a silent close, and the refusal is counted.
#[test]
fn http2_prior_knowledge_is_refused_with_goaway() {
    let s = Server::start(&[]);
    let mut c = TcpStream::connect(s.addr).expect("connect");
    // Client preface + an empty SETTINGS frame.
    c.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .expect("write");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    // Frames: 9-byte header (length 24 bits, type, flags, stream id) + payload.
    let mut frames = Vec::new();
    let mut rest = &out[..];
    while rest.len() >= 9 {
        let len = (usize::from(rest[0]) << 16) | (usize::from(rest[1]) << 8) | usize::from(rest[2]);
        assert!(rest.len() >= 9 + len, "truncated frame in {out:?}");
        frames.push((rest[3], rest[9..9 + len].to_vec()));
        rest = &rest[9 + len..];
    }
    assert!(rest.is_empty(), "{out:?}");
    assert_eq!(frames.len(), 2, "{out:?}");
    assert_eq!(frames[0].0, 0x4, "SETTINGS first");
    assert_eq!(frames[1].0, 0x7, "then GOAWAY");
    let goaway = &frames[1].1;
    assert_eq!(&goaway[4..8], &[0, 0, 0, 0x0d], "HTTP_1_1_REQUIRED");
    assert!(String::from_utf8_lossy(&goaway[8..]).contains("HTTP/1.1"));
    assert_eq!(
        s.metric("service_connections_rejected_total{reason=\"http2_prior_knowledge\"}"),
        1.0
    );
    // HTTP/1.1 is still served.
    let reply = s.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200);
}

/// Rejected and timed-out connections are counted by reason in /metrics.
#[test]
fn rejected_and_timed_out_connections_are_counted() {
    let s = Server::start(&[("HEADER_READ_TIMEOUT_SECONDS", "0.5")]);
    assert_eq!(status_of(&s.raw(b"\x16\x03\x01 not http\r\n\r\n")), 400);
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "h".repeat(20 * 1024));
    assert_eq!(status_of(&s.raw(big.as_bytes())), 431);
    // One silent connection and one that stops mid-head: both time out.
    let silent = TcpStream::connect(s.addr).expect("connect");
    let mut partial = TcpStream::connect(s.addr).expect("connect");
    partial
        .write_all(b"GET /default HTTP/1.1\r\n")
        .expect("write");
    let start = Instant::now();
    for mut c in [silent, partial] {
        time_to_close(&mut c, start, Duration::from_secs(5));
    }
    let m = |r: &str| s.metric(r);
    assert_eq!(
        m("service_connections_rejected_total{reason=\"bad_request\"}"),
        1.0
    );
    assert_eq!(
        m("service_connections_rejected_total{reason=\"head_too_large\"}"),
        1.0
    );
    assert_eq!(
        m("service_connections_timed_out_total{reason=\"header_read\"}"),
        2.0
    );
    assert_eq!(
        m("service_connections_timed_out_total{reason=\"shutdown\"}"),
        0.0
    );
}
