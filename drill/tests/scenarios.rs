//! Every scenario against the real service binary, time-scaled so the whole drill stays
//! under a minute. Each test is one scenario (nextest runs them side by side, each on its
//! own 127.x.y.0/24).

use crate::common;

use drill::{LocalOptions, Scenario, ScenarioResult};
use std::sync::{Arc, Mutex};

/// 10 s interval -> 0.5 s, 5 s timeout -> 0.25 s, TTL 30 s -> 2 s (rounded up), drain 0.5 s.
const SCALE: f64 = 0.05;
const RATE: f64 = 40.0;

async fn run(sc: Scenario) -> (ScenarioResult, Vec<String>) {
    let (r, lines) = run_all(sc).await;
    (r.scenarios.into_iter().next().expect("one scenario"), lines)
}

async fn run_all(sc: Scenario) -> (drill::DrillResult, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let opts = LocalOptions {
        catalogue: common::catalogue(),
        service_bin: common::service_bin().to_path_buf(),
        time_scale: SCALE,
        scenarios: vec![sc],
        rate_per_second: RATE,
        users: 8,
        log_dir: None,
        progress: Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string())),
    };
    let r = drill::run_local(opts).await.expect("the drill runs");
    let lines = lines.lock().unwrap().clone();
    (r, lines)
}

fn explain(r: &ScenarioResult) -> String {
    let checks: Vec<String> = r
        .checks
        .iter()
        .map(|c| {
            format!(
                "[{}] {}: {}",
                if c.passed { "ok" } else { "FAIL" },
                c.name,
                c.detail
            )
        })
        .collect();
    format!("{}\nevents: {:?}", checks.join("\n"), r.events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_outage_is_within_the_bound_and_not_zero_and_the_report_is_written() {
    let (all, lines) = run_all(Scenario::Loss).await;
    let dir = tempfile::tempdir().unwrap();
    drill::report::write(dir.path(), &all).expect("report written");
    check_report(dir.path(), &all);
    let r = all.scenarios.into_iter().next().unwrap();
    assert!(r.passed, "{}", explain(&r));
    let o = r.outage.expect("an outage");
    assert!(r.failed_requests > 0);
    assert!(
        o.outage_ms > 0.0 && o.outage_ms <= r.bound_ms + r.tolerance_ms,
        "{o:?} vs {}",
        r.bound_ms
    );
    assert!(r.time_to_detect_ms.is_some());
    assert!(r.requests_by_region["eastus2"] > 0 && r.requests_by_region["centralus"] > 0);
    assert!(
        lines.iter().any(|l| l.contains("fault: SIGKILL")),
        "{lines:?}"
    );
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
    assert!(
        r.errors_by_kind.contains_key("timeout"),
        "{:?}",
        r.errors_by_kind
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evacuate_has_zero_failed_requests() {
    let (r, _) = run(Scenario::Evacuate).await;
    assert!(r.passed, "{}", explain(&r));
    assert_eq!(r.failed_requests, 0, "{:?}", r.errors_by_kind);
    assert!(r.requests_by_region["centralus"] > 0);
    // The primary served up to the disable, and nobody reached it once the TTL ran out.
    assert!(
        r.samples
            .iter()
            .any(|s| s.region.as_deref() == Some("eastus2") && s.at_ms < r.fault_at_ms)
    );
    let late = r
        .checks
        .iter()
        .find(|c| c.name == "no answer from the faulted region after detection + TTL")
        .expect("the check ran");
    assert!(late.passed, "{}", late.detail);
    assert!(
        r.checks
            .iter()
            .any(|c| c.name == "primary exits 0 after SIGTERM" && c.passed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_returns_traffic_to_priority_1() {
    let (r, _) = run(Scenario::Failback).await;
    assert!(r.passed, "{}", explain(&r));
    let last = r.samples.last().expect("samples");
    assert_eq!(last.region.as_deref(), Some("eastus2"));
    assert!(r.failback_ms.is_some());
    assert!(
        r.requests_by_region["centralus"] > 0,
        "it failed over first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_down_recovers_when_one_region_comes_back() {
    let (r, _) = run(Scenario::AllDown).await;
    assert!(r.passed, "{}", explain(&r));
    assert!(r.recovery_ms.is_some());
    assert_eq!(
        r.samples.last().and_then(|s| s.region.as_deref()),
        Some("centralus")
    );
}

fn check_report(dir: &std::path::Path, r: &drill::DrillResult) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    let s = &json["scenarios"][0];
    assert_eq!(s["scenario"], "loss");
    assert_eq!(json["catalogueBoundSeconds"], 65);
    assert_eq!(json["timing"]["ttlSeconds"], 2);
    for key in [
        "faultAtMs",
        "detectedAtMs",
        "timeToDetectMs",
        "failedRequests",
        "totalRequests",
        "boundMs",
        "rtoMs",
        "toleranceMs",
    ] {
        assert!(s[key].is_number(), "{key} in result.json");
    }
    assert!(s["outage"]["outageMs"].as_f64().unwrap() > 0.0);
    assert_eq!(
        s["requestsByRegion"]["centralus"].as_u64(),
        Some(r.scenarios[0].requests_by_region["centralus"])
    );
    assert_eq!(
        s["samples"].as_array().unwrap().len() as u64,
        r.scenarios[0].total_requests
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| loss | passed |"), "{md}");
    assert!(md.contains("![timeline](timeline.svg)"));
    let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the SVG parses as XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    // One line per region, failed bars in red, and the marks.
    let lines = root
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert_eq!(lines, 2);
    assert!(
        root.descendants()
            .any(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#d62728"))
    );
    let texts: Vec<&str> = root.descendants().filter_map(|n| n.text()).collect();
    for label in ["fault", "detected", "last failure", "eastus2", "centralus"] {
        assert!(texts.contains(&label), "{label} in the SVG");
    }
    assert!(
        texts.iter().any(|t| t.starts_with("bound ")),
        "the bound is drawn"
    );
    let summary = drill::report::summary(r);
    assert!(
        summary.contains("loss") && summary.contains("All checks passed."),
        "{summary}"
    );
}
