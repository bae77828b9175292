//! The generated rules, checked and unit-tested by the real `promtool` (Debian's
//! `prometheus` package): `promtool check rules` on the rule file, and `promtool test rules`
//! with synthetic series for every alert: it fires when it should and stays quiet on a
//! healthy series and on a brief blip.

use monitoring::{Objectives, Rule, RuleGroup, region_rule_groups, to_rule_file};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const REGION: &str = "eastus2";
const RUNBOOK: &str = "https://example.invalid/docs/alerts.md";

fn objectives() -> Objectives {
    Objectives {
        availability_percent: 99.9,
        latency_p99_seconds: 0.25,
        detection_seconds: 35,
        restarts_per_15m: 3,
    }
}

fn groups() -> Vec<RuleGroup> {
    region_rule_groups(&objectives(), REGION, RUNBOOK)
}

fn promtool(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs (scripts/install-tools.sh installs Debian's prometheus package)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The expected labels and annotations of `alert` for a sample with `extra` labels.
fn firing(groups: &[RuleGroup], alert: &str, extra: &[(&str, &str)]) -> Value {
    let a = groups
        .iter()
        .flat_map(|g| &g.rules)
        .find_map(|r| match r {
            Rule::Alert(a) if a.alert == alert => Some(a),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no alert {alert}"));
    let mut labels = json!({ "severity": a.severity.label() });
    for (k, v) in &a.labels {
        labels[k] = json!(v);
    }
    for (k, v) in extra {
        labels[*k] = json!(v);
    }
    json!({ "exp_labels": labels, "exp_annotations": a.annotations })
}

fn counter(labels: &str, per_minute: u64, minutes: u64) -> Value {
    json!({ "series": format!("http_requests_total{{{labels}}}"), "values": format!("0+{per_minute}x{minutes}") })
}

fn alert_test(eval: &str, name: &str, exp: Vec<Value>) -> Value {
    json!({ "eval_time": eval, "alertname": name, "exp_alerts": exp })
}

/// One `promtool test rules` file covering every alert.
fn unit_tests(groups: &[RuleGroup]) -> Value {
    let ok = |n| {
        counter(
            "route=\"default\",status=\"200\",instance=\"a\",region=\"eastus2\"",
            n,
            1600,
        )
    };
    let err = |n| {
        counter(
            "route=\"default\",status=\"500\",instance=\"a\",region=\"eastus2\"",
            n,
            1600,
        )
    };
    let fast = firing(groups, "ServiceErrorBudgetFastBurn", &[]);
    let slow = firing(groups, "ServiceErrorBudgetSlowBurn", &[]);
    let latency = firing(groups, "ServiceLatencyHigh", &[]);
    let restarting = firing(groups, "ServiceRestarting", &[("instance", "a")]);
    let pod = firing(groups, "ServicePodNotReady", &[("instance", "b")]);
    let region = firing(groups, "RegionNotReady", &[]);
    let buckets = |le_fast: u64, le_slow: u64| {
        let b = |le: &str, n: u64| json!({ "series": format!("http_request_duration_seconds_bucket{{route=\"default\",le=\"{le}\",instance=\"a\",region=\"eastus2\"}}"), "values": format!("0+{n}x40") });
        vec![
            b("0.01", le_fast),
            b("0.1", le_fast),
            b("0.5", le_fast + le_slow),
            b("1", le_fast + le_slow),
            b("+Inf", le_fast + le_slow),
        ]
    };
    let ready = |instance: &str, values: &str| json!({ "series": format!("service_ready{{instance=\"{instance}\",region=\"eastus2\"}}"), "values": values });
    json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            // 10 % of /default fails: 100x the 0.1 % budget.
            { "name": "fast burn fires", "interval": "1m", "input_series": [ok(90), err(10)],
              "alert_rule_test": [
                  alert_test("1h10m", "ServiceErrorBudgetFastBurn", vec![fast.clone()]),
              ],
              "promql_expr_test": [{ "expr": "region:service_errors:ratio_rate5m", "eval_time": "1h10m",
                  "exp_samples": [{ "labels": format!("region:service_errors:ratio_rate5m{{region=\"{REGION}\"}}"), "value": 0.1 }] }] },
            // No errors at all: no error series exists, the ratio still reads 0.
            { "name": "healthy is quiet", "interval": "1m", "input_series": [ok(100)],
              "alert_rule_test": [
                  alert_test("1h10m", "ServiceErrorBudgetFastBurn", vec![]),
                  alert_test("1d2h", "ServiceErrorBudgetSlowBurn", vec![]),
              ],
              "promql_expr_test": [{ "expr": "region:service_errors:ratio_rate1h", "eval_time": "1h10m",
                  "exp_samples": [{ "labels": format!("region:service_errors:ratio_rate1h{{region=\"{REGION}\"}}"), "value": 0 }] }] },
            // One minute of 20 % errors in an otherwise clean hour: not worth a page.
            { "name": "a brief blip is quiet", "interval": "1m", "input_series": [
                  { "series": "http_requests_total{route=\"default\",status=\"200\",instance=\"a\",region=\"eastus2\"}", "values": "0+100x60 6080 6160+100x60" },
                  { "series": "http_requests_total{route=\"default\",status=\"500\",instance=\"a\",region=\"eastus2\"}", "values": "0x60 20 20x60" }],
              "alert_rule_test": [
                  alert_test("1h1m", "ServiceErrorBudgetFastBurn", vec![]),
                  alert_test("1h4m", "ServiceErrorBudgetFastBurn", vec![]),
                  alert_test("1h10m", "ServiceErrorBudgetFastBurn", vec![]),
                  alert_test("1h10m", "ServiceErrorBudgetSlowBurn", vec![]),
              ] },
            // 0.5 % errors: 5x the budget; a ticket, not a page.
            { "name": "slow burn fires, fast burn does not", "interval": "1m", "input_series": [ok(995), err(5)],
              "alert_rule_test": [
                  alert_test("1d2h", "ServiceErrorBudgetSlowBurn", vec![slow]),
                  alert_test("1d2h", "ServiceErrorBudgetFastBurn", vec![]),
              ] },
            { "name": "latency above the objective fires", "interval": "1m", "input_series": buckets(0, 100),
              "alert_rule_test": [alert_test("30m", "ServiceLatencyHigh", vec![latency])] },
            { "name": "latency within the objective is quiet", "interval": "1m", "input_series": buckets(100, 0),
              "alert_rule_test": [alert_test("30m", "ServiceLatencyHigh", vec![])] },
            // A new start time every 3 minutes: a crash loop.
            { "name": "restarts fire", "interval": "1m", "input_series": [
                  { "series": "process_start_time_seconds{instance=\"a\",region=\"eastus2\"}", "values": "1000 1000 1000 1180 1180 1180 1360 1360 1360 1540 1540 1540 1720 1720 1720" }],
              "alert_rule_test": [alert_test("14m", "ServiceRestarting", vec![restarting])] },
            { "name": "one restart is quiet", "interval": "1m", "input_series": [
                  { "series": "process_start_time_seconds{instance=\"a\",region=\"eastus2\"}", "values": "1000x5 1300x10" }],
              "alert_rule_test": [alert_test("14m", "ServiceRestarting", vec![])] },
            // Pod b fails readiness for good; pod a stays ready.
            { "name": "a pod not ready past detection fires", "interval": "1m", "input_series": [
                  ready("a", "1x10"), ready("b", "1 1 0x8")],
              "alert_rule_test": [
                  alert_test("5m", "ServicePodNotReady", vec![pod]),
                  alert_test("5m", "RegionNotReady", vec![]),
              ] },
            // A drain: one sample of not-ready, then ready again.
            { "name": "a readiness blip is quiet", "interval": "1m", "input_series": [
                  ready("a", "1x10"), ready("b", "1 0 1x8")],
              "alert_rule_test": [
                  alert_test("1m", "ServicePodNotReady", vec![]),
                  alert_test("2m", "ServicePodNotReady", vec![]),
                  alert_test("5m", "ServicePodNotReady", vec![]),
              ] },
            { "name": "no pod ready fires the region alert", "interval": "1m", "input_series": [
                  ready("a", "1 0x9"), ready("b", "1 0x9")],
              "alert_rule_test": [alert_test("5m", "RegionNotReady", vec![region.clone()])] },
            // Another region's series never count here: centralus fails every request and
            // has no ready pod, eastus2 is healthy.
            { "name": "another region's errors and readiness are not this region's", "interval": "1m", "input_series": [
                  ok(100), ready("a", "1x100"),
                  { "series": "http_requests_total{route=\"default\",status=\"500\",instance=\"c\",region=\"centralus\"}", "values": "0+100x100" },
                  { "series": "service_ready{instance=\"c\",region=\"centralus\"}", "values": "0x100" }],
              "alert_rule_test": [
                  alert_test("1h10m", "ServiceErrorBudgetFastBurn", vec![]),
                  alert_test("1h10m", "ServicePodNotReady", vec![]),
                  alert_test("1h10m", "RegionNotReady", vec![]),
              ],
              "promql_expr_test": [{ "expr": "region:service_errors:ratio_rate5m", "eval_time": "1h10m",
                  "exp_samples": [{ "labels": format!("region:service_errors:ratio_rate5m{{region=\"{REGION}\"}}"), "value": 0 }] }] },
            // Only another region's pods are ready: this region has none.
            { "name": "ready pods elsewhere do not keep this region up", "interval": "1m", "input_series": [
                  { "series": "service_ready{instance=\"c\",region=\"centralus\"}", "values": "1x10" }],
              "alert_rule_test": [alert_test("5m", "RegionNotReady", vec![region.clone()])] },
            // Every pod gone (no series at all) is the same as none ready.
            { "name": "no series at all fires the region alert", "interval": "1m", "input_series": [
                  { "series": "http_requests_total{route=\"default\",status=\"200\",instance=\"a\",region=\"eastus2\"}", "values": "0+1x10" }],
              "alert_rule_test": [alert_test("5m", "RegionNotReady", vec![region])] },
        ]
    })
}

fn write(dir: &Path, groups: &[RuleGroup], tests: &Value) {
    std::fs::write(dir.join("rules.yaml"), to_rule_file(groups)).unwrap();
    std::fs::write(
        dir.join("tests.yaml"),
        serde_saphyr::to_string(tests).unwrap(),
    )
    .unwrap();
}

#[test]
fn promtool_accepts_the_generated_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &groups(), &json!({}));
    let (ok, out) = promtool(&["check", "rules", "rules.yaml"], dir.path());
    assert!(ok, "{out}");
    let count: usize = groups().iter().map(|g| g.rules.len()).sum();
    assert!(
        out.contains(&format!("SUCCESS: {count} rules found")),
        "{out}"
    );
}

#[test]
fn every_alert_fires_when_it_should_and_stays_quiet_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let groups = groups();
    write(dir.path(), &groups, &unit_tests(&groups));
    let (ok, out) = promtool(&["test", "rules", "tests.yaml"], dir.path());
    assert!(ok, "promtool test rules failed:\n{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_alert_has_a_firing_unit_test() {
    let tests = unit_tests(&groups());
    let fired: Vec<String> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().cloned().unwrap_or_default())
        .filter(|a| !a["exp_alerts"].as_array().unwrap().is_empty())
        .map(|a| a["alertname"].as_str().unwrap().to_string())
        .collect();
    for g in groups() {
        for r in g.rules {
            if let Rule::Alert(a) = r {
                assert!(fired.contains(&a.alert), "{} has no firing test", a.alert);
            }
        }
    }
}

/// The harness notices a broken rule: the same unit tests fail against thresholds 1000x too
/// high (nothing fires) and against an alert whose `for` was dropped (blips fire).
#[test]
fn the_unit_tests_fail_when_a_rule_is_broken() {
    let good = groups();
    let tests = unit_tests(&good);
    let mut lax = good.clone();
    for g in &mut lax {
        for r in &mut g.rules {
            if let Rule::Alert(a) = r {
                // 0.0144 -> 9.0144 and so on: no ratio or latency can reach it.
                a.expr = a.expr.replace("> 0.", "> 9.");
            }
        }
    }
    let mut hasty = good.clone();
    for g in &mut hasty {
        for r in &mut g.rules {
            if let Rule::Alert(a) = r
                && a.alert == "ServicePodNotReady"
            {
                a.for_seconds = 0;
            }
        }
    }
    for (what, broken) in [("thresholds too high", lax), ("no for", hasty)] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &broken, &tests);
        let (ok, out) = promtool(&["test", "rules", "tests.yaml"], dir.path());
        assert!(
            !ok,
            "{what}: promtool test rules passed a broken rule:\n{out}"
        );
    }
}
