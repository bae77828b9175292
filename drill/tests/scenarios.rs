//! Every scenario against the real service binary, time-scaled so the whole drill stays
//! under a minute. Each test is one scenario (nextest runs them side by side, each on its
//! own 127.x.y.0/24).

mod common;

use drill::{LocalOptions, Scenario, ScenarioResult};
use std::sync::{Arc, Mutex};

/// 10 s interval -> 0.5 s, 5 s timeout -> 0.25 s, TTL 30 s -> 2 s (rounded up), drain 0.5 s.
const SCALE: f64 = 0.05;
const RATE: f64 = 40.0;

async fn run(sc: Scenario) -> (ScenarioResult, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let opts = LocalOptions {
        catalogue: common::catalogue(),
        service_bin: common::service_bin().to_path_buf(),
        time_scale: SCALE,
        scenarios: vec![sc],
        rate_per_second: RATE,
        log_dir: None,
        progress: Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string())),
    };
    let mut r = drill::run_local(opts).await.expect("the drill runs");
    let lines = lines.lock().unwrap().clone();
    (r.scenarios.remove(0), lines)
}

fn explain(r: &ScenarioResult) -> String {
    let checks: Vec<String> = r
        .checks
        .iter()
        .map(|c| format!("[{}] {}: {}", if c.passed { "ok" } else { "FAIL" }, c.name, c.detail))
        .collect();
    format!("{}\nevents: {:?}", checks.join("\n"), r.events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_outage_is_within_the_bound_and_not_zero() {
    let (r, lines) = run(Scenario::Loss).await;
    assert!(r.passed, "{}", explain(&r));
    let o = r.outage.expect("an outage");
    assert!(r.failed_requests > 0);
    assert!(o.outage_ms > 0.0 && o.outage_ms <= r.bound_ms + r.tolerance_ms, "{o:?} vs {}", r.bound_ms);
    assert!(r.time_to_detect_ms.is_some());
    assert!(r.requests_by_region["eastus2"] > 0 && r.requests_by_region["centralus"] > 0);
    assert!(lines.iter().any(|l| l.contains("fault: SIGKILL")), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blackhole_is_detected_by_probe_timeouts_within_the_bound() {
    let (r, _) = run(Scenario::Blackhole).await;
    assert!(r.passed, "{}", explain(&r));
    let o = r.outage.expect("an outage");
    assert!(o.outage_ms > 0.0 && o.outage_ms <= r.bound_ms + r.tolerance_ms);
    let degraded = r
        .events
        .iter()
        .find(|e| e.endpoint == "eastus2" && e.to == drill::standin::MonitorStatus::Degraded)
        .expect("degraded");
    assert_eq!(degraded.probe, "timeout", "blackholed probes time out");
    assert!(r.errors_by_kind.contains_key("timeout"), "{:?}", r.errors_by_kind);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evacuate_has_zero_failed_requests() {
    let (r, _) = run(Scenario::Evacuate).await;
    assert!(r.passed, "{}", explain(&r));
    assert_eq!(r.failed_requests, 0, "{:?}", r.errors_by_kind);
    assert!(r.requests_by_region["centralus"] > 0);
    // The primary served until the TTL ran out, then never again.
    let last_primary = r
        .samples
        .iter()
        .filter(|s| s.region.as_deref() == Some("eastus2"))
        .map(|s| s.at_ms)
        .fold(0.0, f64::max);
    assert!(last_primary > r.fault_at_ms - 1.0, "served up to the disable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_returns_traffic_to_priority_1() {
    let (r, _) = run(Scenario::Failback).await;
    assert!(r.passed, "{}", explain(&r));
    let last = r.samples.last().expect("samples");
    assert_eq!(last.region.as_deref(), Some("eastus2"));
    assert!(r.failback_ms.is_some());
    assert!(r.requests_by_region["centralus"] > 0, "it failed over first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_down_recovers_when_one_region_comes_back() {
    let (r, _) = run(Scenario::AllDown).await;
    assert!(r.passed, "{}", explain(&r));
    assert!(r.recovery_ms.is_some());
    assert_eq!(r.samples.last().and_then(|s| s.region.as_deref()), Some("centralus"));
}
