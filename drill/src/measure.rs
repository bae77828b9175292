//! Turns samples and probe events into the numbers of a scenario, and the checks on them.

use crate::client::Sample;
use crate::scenario::Scenario;
use crate::standin::{Event, MonitorStatus};
use crate::timing::Timing;
use serde::Serialize;
use std::collections::BTreeMap;

/// One assertion of the drill, with the numbers behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl Check {
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// The client's view of the outage: first failed request to the last failure before steady
/// success (send times).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outage {
    pub first_failure_ms: f64,
    pub last_failure_ms: f64,
    pub outage_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    pub scenario: Scenario,
    /// The region that served before the fault (priority 1 in rotation).
    pub primary: String,
    /// The region expected to serve after it.
    pub takeover: String,
    pub fault: String,
    pub fault_at_ms: f64,
    /// The stand-in marked the faulted endpoint Degraded (or, for `evacuate` and `--azure`,
    /// the endpoint was disabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_at_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_detect_ms: Option<f64>,
    /// A region was started again (`failback`, `all-down`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back_at_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
    pub failed_requests: u64,
    pub total_requests: u64,
    pub requests_by_region: BTreeMap<String, u64>,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// `failback`: region back (ready) to steady traffic on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failback_ms: Option<f64>,
    /// `all-down`: a region back (ready) to steady success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_ms: Option<f64>,
    pub bound_ms: f64,
    pub rto_ms: f64,
    pub tolerance_ms: f64,
    pub ended_ms: f64,
    pub checks: Vec<Check>,
    pub passed: bool,
    pub events: Vec<Event>,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillResult {
    /// `local` or `azure`.
    pub mode: String,
    pub profile: String,
    pub timing: Timing,
    /// The bound with the catalogue's own (unscaled) values.
    pub catalogue_bound_seconds: u64,
    pub catalogue_rto_seconds: u32,
    pub bound_formula: String,
    pub rate_per_second: f64,
    pub scenarios: Vec<ScenarioResult>,
    pub passed: bool,
}

/// Slack on the time checks: two request periods (the client's resolution) plus 5 % of the
/// bound and 200 ms (scheduling on a loaded machine).
pub fn tolerance_ms(timing: &Timing, rate_per_second: f64) -> f64 {
    2000.0 / rate_per_second + 0.05 * timing.bound().as_secs_f64() * 1000.0 + 200.0
}

pub fn outage(samples: &[Sample], from_ms: f64) -> Option<Outage> {
    let failed: Vec<f64> = samples
        .iter()
        .filter(|s| s.at_ms >= from_ms && !s.ok())
        .map(|s| s.at_ms)
        .collect();
    let first = *failed.first()?;
    let last = *failed.last()?;
    Some(Outage {
        first_failure_ms: first,
        last_failure_ms: last,
        outage_ms: last - first,
    })
}

/// Start of the final unbroken run of successes answered by `region` (send time), if the
/// samples end with one.
pub fn steady_since(samples: &[Sample], region: &str) -> Option<f64> {
    let mut start = None;
    for s in samples.iter().rev() {
        if s.ok() && s.region.as_deref() == Some(region) {
            start = Some(s.at_ms);
        } else {
            break;
        }
    }
    start
}

/// First time `endpoint` went to `to` at or after `from_ms`.
pub fn event_at(events: &[Event], endpoint: &str, to: MonitorStatus, from_ms: f64) -> Option<f64> {
    events
        .iter()
        .find(|e| e.endpoint == endpoint && e.to == to && e.at_ms >= from_ms)
        .map(|e| e.at_ms)
}

/// Successful answers from `region` sent after `after_ms`.
pub fn answered_by_after(samples: &[Sample], region: &str, after_ms: f64) -> u64 {
    samples
        .iter()
        .filter(|s| s.ok() && s.at_ms > after_ms && s.region.as_deref() == Some(region))
        .count() as u64
}

pub fn tally(samples: &[Sample]) -> (u64, BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut by_region = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut failed = 0;
    for s in samples {
        if s.ok() {
            *by_region
                .entry(s.region.clone().unwrap_or_default())
                .or_insert(0) += 1;
        } else {
            failed += 1;
            let kind = match (&s.error, s.status) {
                (Some(e), _) => e.split(':').next().unwrap_or(e).trim().to_string(),
                (None, Some(code)) => format!("status {code}"),
                (None, None) => "unknown".into(),
            };
            *errors.entry(kind).or_insert(0) += 1;
        }
    }
    (failed, by_region, errors)
}

pub fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at_ms: f64, region: Option<&str>) -> Sample {
        Sample {
            at_ms,
            latency_ms: 1.0,
            region: region.map(str::to_string),
            status: region.map(|_| 200),
            error: region
                .is_none()
                .then(|| "request: Connection refused".to_string()),
            address: None,
            user: 0,
        }
    }

    #[test]
    fn outage_spans_first_to_last_failure_after_the_fault() {
        let v = vec![
            s(0.0, None), // before the fault: not part of this outage
            s(10.0, Some("a")),
            s(20.0, None),
            s(30.0, Some("b")),
            s(40.0, None),
            s(50.0, Some("b")),
        ];
        let o = outage(&v, 5.0).unwrap();
        assert_eq!(
            (o.first_failure_ms, o.last_failure_ms, o.outage_ms),
            (20.0, 40.0, 20.0)
        );
        assert!(outage(&v, 45.0).is_none());
    }

    #[test]
    fn steady_since_is_the_start_of_the_final_run_on_that_region() {
        let v = vec![
            s(0.0, Some("b")),
            s(1.0, None),
            s(2.0, Some("b")),
            s(3.0, Some("b")),
        ];
        assert_eq!(steady_since(&v, "b"), Some(2.0));
        assert_eq!(steady_since(&v, "a"), None);
        let ends_with_failure = vec![s(0.0, Some("b")), s(1.0, None)];
        assert_eq!(steady_since(&ends_with_failure, "b"), None);
    }

    #[test]
    fn tally_counts_regions_and_error_kinds() {
        let mut timeout = s(3.0, None);
        timeout.error = Some("timeout".into());
        let v = vec![s(0.0, Some("a")), s(1.0, Some("b")), s(2.0, None), timeout];
        let (failed, by, errors) = tally(&v);
        assert_eq!(failed, 2);
        assert_eq!(by["a"] + by["b"], 2);
        assert_eq!(errors["request"], 1);
        assert_eq!(errors["timeout"], 1);
        assert_eq!(answered_by_after(&v, "b", 0.5), 1);
        assert_eq!(answered_by_after(&v, "b", 1.0), 0);
    }
}
