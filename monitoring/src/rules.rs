//! The rules themselves: multi-window, multi-burn-rate alerts on the availability objective
//! (the Google SRE workbook's page and ticket pairs), latency above the objective, restarts,
//! and readiness failing longer than Traffic Manager's detection time.

use crate::Objectives;
use crate::metrics::{DURATION_BUCKET, READY, REGION_LABEL, REQUESTS, ROUTE_DEFAULT, START_TIME};
use std::collections::BTreeMap;

/// (burn rate, long window, short window): 2 % of a 30-day budget in 1 h, 5 % in 6 h (page).
pub(crate) const FAST_BURN: (f64, &str, &str) = (14.4, "1h", "5m");
pub(crate) const FAST_BURN_2: (f64, &str, &str) = (6.0, "6h", "30m");
/// 10 % of the budget in 1 d, 10 % in 3 d (ticket).
pub(crate) const SLOW_BURN: (f64, &str, &str) = (3.0, "1d", "2h");
pub(crate) const SLOW_BURN_2: (f64, &str, &str) = (1.0, "3d", "6h");

/// Windows the error ratio is recorded over (every window the alerts read).
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// Evaluation interval of both groups: Azure accepts 1 to 15 minutes.
const INTERVAL_SECONDS: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Page someone now.
    Critical,
    /// Look at it today.
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
        }
    }

    /// Azure Monitor severity, 0 (critical) to 4 (verbose).
    pub fn azure(self) -> u8 {
        match self {
            Self::Critical => 1,
            Self::Warning => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub record: String,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub alert: String,
    pub expr: String,
    pub for_seconds: u64,
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Record(Record),
    Alert(Alert),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    pub interval_seconds: u64,
    pub rules: Vec<Rule>,
}

/// The name of the recorded error ratio over `window` (e.g. `5m`).
pub fn error_ratio(window: &str) -> String {
    format!("region:service_errors:ratio_rate{window}")
}

/// The name of the recorded p99 latency of `GET /default` over 5 minutes.
pub const LATENCY_P99: &str = "region:service_latency_seconds:p99_5m";

/// The two rule groups of one region: `<region>-sli` (recordings) and `<region>-alerts`.
/// `runbook` is the URL of the runbook page; each alert links to its own anchor there.
pub fn region_rule_groups(objectives: &Objectives, region: &str, runbook: &str) -> Vec<RuleGroup> {
    let region_label = BTreeMap::from([("region".to_string(), region.to_string())]);
    // Raw series are selected by the label the scrape adds, so the rules mean the same in a
    // workspace (or any Prometheus) holding every region's series.
    let in_region = format!("{REGION_LABEL}=\"{region}\"");
    let errors = format!("{REQUESTS}{{{in_region},route=\"{ROUTE_DEFAULT}\",status=~\"5..\"}}");
    let all = format!("{REQUESTS}{{{in_region},route=\"{ROUTE_DEFAULT}\"}}");
    let mut records: Vec<Rule> = WINDOWS
        .iter()
        .map(|w| {
            Rule::Record(Record {
                record: error_ratio(w),
                // `or vector(0)`: a region with no 5xx at all has no error series, and its
                // ratio must read 0, not "no data".
                expr: format!("(sum(rate({errors}[{w}])) or vector(0)) / sum(rate({all}[{w}]))"),
                labels: region_label.clone(),
            })
        })
        .collect();
    records.push(Rule::Record(Record {
        record: LATENCY_P99.into(),
        expr: format!(
            "histogram_quantile(0.99, sum by (le) (rate({DURATION_BUCKET}{{{in_region},route=\"{ROUTE_DEFAULT}\"}}[5m])))"
        ),
        labels: region_label.clone(),
    }));

    let budget = objectives.error_budget();
    let sel = format!("{{{in_region}}}");
    let burn = |(rate, long, short): (f64, &str, &str)| {
        let threshold = fmt_number(rate * budget);
        format!(
            "({long_r}{sel} > {threshold} and {short_r}{sel} > {threshold})",
            long_r = error_ratio(long),
            short_r = error_ratio(short),
        )
    };
    let anchor = |name: &str| format!("{runbook}#{}", name.to_ascii_lowercase());
    let alert = |name: &str,
                 expr: String,
                 for_seconds: u64,
                 severity: Severity,
                 summary: String,
                 description: String| {
        Rule::Alert(Alert {
            alert: name.into(),
            expr,
            for_seconds,
            severity,
            labels: region_label.clone(),
            annotations: BTreeMap::from([
                ("summary".into(), summary),
                ("description".into(), description),
                ("runbook_url".into(), anchor(name)),
            ]),
        })
    };
    // As written in the catalogue: rounding 99.9999999999 would print "100".
    let objective = objectives.availability_percent.to_string();
    let p99 = fmt_number(objectives.latency_p99_seconds);
    let detect = objectives.detection_seconds;
    let alerts = vec![
        alert(
            "ServiceErrorBudgetFastBurn",
            format!("{} or {}", burn(FAST_BURN), burn(FAST_BURN_2)),
            120,
            Severity::Critical,
            format!("{region}: /default errors are burning the {objective} % budget fast"),
            format!(
                "More than 14.4x the error budget over 1h and 5m, or 6x over 6h and 30m: at this rate the 30-day budget of {region} is gone in under 2 days."
            ),
        ),
        alert(
            "ServiceErrorBudgetSlowBurn",
            format!("{} or {}", burn(SLOW_BURN), burn(SLOW_BURN_2)),
            900,
            Severity::Warning,
            format!("{region}: /default errors are burning the {objective} % budget"),
            format!(
                "More than 3x the error budget over 1d and 2h, or 1x over 3d and 6h: {region} will miss its objective this month if nothing changes."
            ),
        ),
        alert(
            "ServiceLatencyHigh",
            format!("{LATENCY_P99}{sel} > {p99}"),
            600,
            Severity::Warning,
            format!("{region}: p99 latency of /default above {p99} s"),
            format!(
                "The 99th percentile of /default over 5m has been above the {p99} s objective for 10 minutes in {region}."
            ),
        ),
        alert(
            "ServiceRestarting",
            format!(
                "changes({START_TIME}{sel}[15m]) >= {}",
                objectives.restarts_per_15m
            ),
            0,
            Severity::Warning,
            format!("{region}: a service process restarted repeatedly"),
            format!(
                "A pod of {region} started {} or more times within 15 minutes (crash loop or liveness failures).",
                objectives.restarts_per_15m
            ),
        ),
        alert(
            "ServicePodNotReady",
            format!("{READY}{sel} == 0"),
            detect,
            Severity::Warning,
            format!("{region}: a pod has failed readiness for {detect} s"),
            format!(
                "A pod of {region} has reported not ready for longer than Traffic Manager's detection time ({detect} s); the region runs with less capacity."
            ),
        ),
        alert(
            "RegionNotReady",
            // `or vector(0)`: with every pod gone there is no series left to sum.
            format!("(sum({READY}{sel}) or vector(0)) == 0"),
            detect,
            Severity::Critical,
            format!("{region}: no pod is ready: Traffic Manager fails the region over"),
            format!(
                "No pod of {region} has passed readiness for {detect} s, Traffic Manager's detection time: its endpoint is degraded and traffic is moving to the next priority."
            ),
        ),
    ];
    vec![
        RuleGroup {
            name: format!("{region}-sli"),
            interval_seconds: INTERVAL_SECONDS,
            rules: records,
        },
        RuleGroup {
            name: format!("{region}-alerts"),
            interval_seconds: INTERVAL_SECONDS,
            rules: alerts,
        },
    ]
}

/// A float as PromQL reads it, without exponent noise (0.0144, not 0.014400000000000001):
/// ten significant digits, so a tiny error budget (99.9999999999 %) keeps its threshold
/// instead of rounding to `> 0`, which would fire on a single error.
fn fmt_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    // Objectives are checked finite and in range, so the magnitude fits an i32 easily.
    #[allow(clippy::cast_possible_truncation)]
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = usize::try_from((9 - magnitude).max(0)).unwrap_or(0);
    let s = format!("{v:.decimals$}");
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_float_noise() {
        assert_eq!(fmt_number(14.4 * 0.001), "0.0144");
        assert_eq!(fmt_number(99.9), "99.9");
        assert_eq!(fmt_number(2.0), "2");
        assert_eq!(fmt_number(0.0), "0");
        assert_eq!(fmt_number(1e9), "1000000000");
        // (100 - 99.99999) / 100 carries noise in the 17th digit.
        assert_eq!(fmt_number((100.0 - 99.99999) / 100.0), "0.0000001");
    }

    #[test]
    fn a_tiny_error_budget_keeps_nonzero_thresholds() {
        let objectives = Objectives {
            availability_percent: 99.9999999999,
            latency_p99_seconds: 0.3,
            detection_seconds: 35,
            restarts_per_15m: 3,
        };
        let groups = region_rule_groups(&objectives, "eastus2", "https://runbook.example/a");
        let alerts = groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter_map(|r| match r {
                Rule::Alert(a) if a.alert.starts_with("ServiceErrorBudget") => Some(a),
                _ => None,
            })
            .collect::<Vec<_>>();
        assert_eq!(alerts.len(), 2);
        for a in alerts {
            for threshold in a.expr.split("> ").skip(1) {
                let n: f64 = threshold.split([' ', ')']).next().unwrap().parse().unwrap();
                assert!(n > 0.0, "{}: {}", a.alert, a.expr);
            }
            assert!(
                a.annotations["summary"].contains("99.9999999999 %"),
                "{:?}",
                a.annotations
            );
        }
    }
}
