//! Tests against the real binary: configuration errors, bad requests over raw TCP, PORT=0.

mod common;

use std::io::{Read as _, Write as _};
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
    ] {
        let out = Command::new(BIN)
            .env_clear()
            .env(var, value)
            .output()
            .expect("run service");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(stderr.contains(var), "{var}={value}: {stderr}");
        assert!(stderr.contains(value), "{var}={value}: {stderr}");
        assert!(stderr.contains("expected"), "{var}={value}: {stderr}");
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

    // Garbage is a 400, not a crash.
    let reply = s.raw(b"\x16\x03\x01 not http\r\n\r\n");
    assert_eq!(status_of(&reply), 400, "{reply}");

    // Still healthy afterwards.
    let reply = s.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200, "{reply}");
}

#[test]
fn slow_header_clients_are_cut_off() {
    let s = Server::start(&[("HEADER_READ_TIMEOUT_SECONDS", "0.5")]);
    let mut c = TcpStream::connect(s.addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let start = Instant::now();
    c.write_all(b"GET /default HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    // Trickle one header byte every 50 ms, never finishing the head.
    let closed_after = loop {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "slow client still connected after 5 s"
        );
        let mut buf = [0u8; 512];
        match c.read(&mut buf) {
            Ok(0) => break start.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break start.elapsed(),
        }
        if c.write_all(b"X").is_err() {
            break start.elapsed();
        }
    };
    assert!(
        closed_after >= Duration::from_millis(400),
        "cut off too early: {closed_after:?}"
    );
    assert!(
        closed_after < Duration::from_secs(2),
        "cut off too late: {closed_after:?}"
    );
    // Others are unaffected.
    let reply = s.raw(b"GET /default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200);
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
