//! A real Prometheus server (Debian's `prometheus`) on 127.0.0.1 scrapes the real service
//! binary under load, with a share of `GET /default` made to fail (`INJECT_ERROR_RATIO`), and
//! evaluates the generated rules: every series the rules read exists with the labels they use,
//! and the availability recording rule reports the injected error share. The scrape config
//! carries the same `region` relabeling `gen` renders into every PodMonitor.

use monitoring::{Objectives, metrics, region_rule_groups, to_rule_file};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::{free_port, service_binary};

const REGION: &str = "westus3";
/// The share of /default requests the service is told to fail.
const INJECTED: f64 = 0.2;
/// Tolerance on the recorded ratio: requests in flight across a scrape move it slightly.
const TOLERANCE: f64 = 0.03;
/// Traffic Manager's detection time of the shipped catalogue: `(2 + 1) × 10 s + 5 s`.
const DETECTION_SECONDS: u64 = 35;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 GET on a fresh connection; the status and body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Some((
        status,
        if chunked {
            dechunk(body)?
        } else {
            body.to_string()
        },
    ))
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn query(prom: u16, promql: &str) -> Vec<Value> {
    let q: String = promql
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let Some((200, body)) = get(prom, &format!("/api/v1/query?query={q}")) else {
        return vec![];
    };
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The real service on `port`, failing `error_ratio` of `GET /default`, once it is ready.
fn start_service(port: u16, error_ratio: f64) -> Killed {
    let service = Killed(
        Command::new(service_binary())
            .env_clear()
            .env("PORT", port.to_string())
            .env("BIND_ADDRESS", "127.0.0.1")
            .env("REGION", REGION)
            .env("ZONE", "1")
            .env("HOSTNAME", "pod-a")
            .env("POD_IP", "127.0.0.1")
            .env("INJECT_ERROR_RATIO", error_ratio.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until("the service", Duration::from_secs(10), || {
        get(port, "/readyz").is_some_and(|(s, _)| s == 200)
    });
    service
}

/// The generated rules, evaluated every second instead of every minute (the `for` of each
/// alert is unchanged).
fn groups_every_second() -> Vec<monitoring::RuleGroup> {
    let mut groups = region_rule_groups(
        &Objectives {
            availability_percent: 99.9,
            latency_p99_seconds: 0.25,
            detection_seconds: DETECTION_SECONDS,
            restarts_per_15m: 3,
        },
        REGION,
        "https://example.invalid/alerts.md",
    );
    for g in &mut groups {
        g.interval_seconds = 1;
    }
    groups
}

/// A real Prometheus in `dir` scraping the service every second, with the PodMonitor's
/// relabeling, and evaluating the generated rules every second; once it is ready.
fn start_prometheus(dir: &std::path::Path, svc_port: u16) -> (Killed, u16) {
    std::fs::write(dir.join("rules.yaml"), to_rule_file(&groups_every_second())).unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
             rule_files: [rules.yaml]\n\
             scrape_configs:\n  - job_name: service\n    static_configs:\n      - targets: ['127.0.0.1:{svc_port}']\n    metrics_path: {path}\n    relabel_configs: [{relabel}]\n",
            path = monitoring::scrape::METRICS_PATH,
            relabel = monitoring::scrape::region_relabeling(REGION).to_prometheus(),
        ),
    )
    .unwrap();
    let prom_port = free_port();
    let prometheus = Killed(
        Command::new("prometheus")
            .current_dir(dir)
            .arg("--config.file=prometheus.yml")
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus runs (scripts/install-tools.sh installs Debian's prometheus)"),
    );
    wait_until("prometheus", Duration::from_secs(30), || {
        get(prom_port, "/-/ready").is_some_and(|(s, _)| s == 200)
    });
    (prometheus, prom_port)
}

/// True when Prometheus reports `alert` firing.
fn firing(prom: u16, alert: &str) -> bool {
    let Some((200, body)) = get(prom, "/api/v1/alerts") else {
        return false;
    };
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    v["data"]["alerts"].as_array().is_some_and(|a| {
        a.iter()
            .any(|a| a["labels"]["alertname"] == alert && a["state"] == "firing")
    })
}

#[test]
fn prometheus_scrapes_the_service_and_the_rules_see_the_injected_errors() {
    let dir = tempfile::tempdir().unwrap();
    let svc_port = free_port();
    let _service = start_service(svc_port, INJECTED);

    let (_prometheus, prom_port) = start_prometheus(dir.path(), svc_port);

    // Load: a steady stream of /default requests for a while, counting what the service said.
    let (mut ok, mut failed) = (0u32, 0u32);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(12) {
        match get(svc_port, "/default") {
            Some((200, _)) => ok += 1,
            Some((500, _)) => failed += 1,
            other => panic!("unexpected answer {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let observed = f64::from(failed) / f64::from(ok + failed);
    assert!(
        (observed - INJECTED).abs() < 0.01,
        "the service failed {observed:.3} of requests, not {INJECTED}"
    );

    // Every series the rules read exists, with every label they filter or group by.
    for (metric, labels) in metrics::USED {
        let found = query(prom_port, metric);
        assert!(
            !found.is_empty(),
            "{metric} is not scraped from the service"
        );
        for label in *labels {
            assert!(
                found.iter().any(|s| s["metric"].get(label).is_some()),
                "{metric} has no label {label}: {found:?}"
            );
        }
    }
    let bucket = query(
        prom_port,
        &format!("{}{{route=\"default\"}}", metrics::DURATION_BUCKET),
    );
    assert!(!bucket.is_empty(), "no duration buckets for route=default");

    // The availability recording rule reports the injected share.
    let record = monitoring::rules::error_ratio("5m");
    let mut recorded = f64::NAN;
    wait_until("the recording rule", Duration::from_secs(20), || {
        let r = query(prom_port, &format!("{record}{{region=\"{REGION}\"}}"));
        recorded = r
            .first()
            .and_then(|s| s["value"][1].as_str())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        recorded.is_finite() && recorded > 0.0
    });
    assert!(
        (recorded - INJECTED).abs() <= TOLERANCE,
        "{record} = {recorded}, injected {INJECTED} (±{TOLERANCE})"
    );
}

/// The primary region dies (its only process is killed): RegionNotReady fires one detection
/// time later, plus at most one scrape and one evaluation interval (here 1 s each; in Azure
/// the catalogue's scrape interval and the rule group's 1 minute), and not before.
#[test]
fn region_not_ready_fires_one_detection_time_after_the_region_dies() {
    let dir = tempfile::tempdir().unwrap();
    let svc_port = free_port();
    let mut service = start_service(svc_port, 0.0);
    let (_prometheus, prom_port) = start_prometheus(dir.path(), svc_port);
    let ready = format!("{}{{region=\"{REGION}\"}}", metrics::READY);
    wait_until(
        "the ready pod in Prometheus",
        Duration::from_secs(20),
        || {
            query(prom_port, &ready)
                .first()
                .is_some_and(|s| s["value"][1] == "1")
        },
    );
    // Healthy for a few evaluations: quiet.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!firing(prom_port, "RegionNotReady"));

    service.0.kill().unwrap();
    service.0.wait().unwrap();
    let fault = Instant::now();
    wait_until(
        "RegionNotReady to fire",
        Duration::from_secs(DETECTION_SECONDS + 30),
        || {
            // Until it fires, nothing else pages either.
            firing(prom_port, "RegionNotReady")
        },
    );
    let after = fault.elapsed();
    eprintln!(
        "RegionNotReady fired {:.1} s after the kill (for: {DETECTION_SECONDS} s, scrape and evaluation every 1 s)",
        after.as_secs_f64()
    );
    assert!(
        after >= Duration::from_secs(DETECTION_SECONDS),
        "fired after {after:?}, before the detection time"
    );
    // One scrape (it fails and marks the series stale) and one evaluation on top, plus the
    // 200 ms polling and a loaded machine's slack.
    assert!(
        after <= Duration::from_secs(DETECTION_SECONDS + 1 + 1 + 4),
        "fired after {after:?}"
    );
    assert!(!firing(prom_port, "ServiceErrorBudgetFastBurn"));
}
