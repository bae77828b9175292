//! Alerting as code: the recording and alert rules of one region, derived from the
//! catalogue's objectives, as a Prometheus rule file (checked by `promtool`, loaded by a real
//! Prometheus in the tests) and as the body of an Azure Monitor `prometheusRuleGroups`
//! resource (created by `infra`).
//!
//! Every expression reads only series the service itself exposes on `/metrics` (the names in
//! [`metrics`]), selected by the `region` label the scrape adds ([`scrape`]); a test scrapes
//! the real binary with that relabeling to prove each one exists with its labels.

pub mod arm;
pub mod from_catalogue;
pub mod metrics;
pub mod rules;
pub mod scrape;

pub use rules::{Alert, Record, Rule, RuleGroup, Severity, region_rule_groups};

use serde::Serialize;

/// What a region promises and how fast the rules must notice it breaking.
#[derive(Debug, Clone, PartialEq)]
pub struct Objectives {
    /// Share of `GET /default` requests that must not fail with a 5xx, in percent
    /// (e.g. 99.9). Strictly between 0 and 100.
    pub availability_percent: f64,
    /// 99th percentile latency bound of `GET /default`, in seconds.
    pub latency_p99_seconds: f64,
    /// How long Traffic Manager takes to mark a region degraded:
    /// `(toleratedFailures + 1) × interval + timeout`. Readiness failing longer than this
    /// means traffic has moved (or is moving) away from the region.
    pub detection_seconds: u64,
    /// Process restarts within 15 minutes that count as crash-looping.
    pub restarts_per_15m: u32,
}

/// Why a set of objectives cannot produce sound rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    #[error(
        "availability objective {0} % is not strictly between 0 and 100 (e.g. 99.9 leaves a 0.1 % error budget)"
    )]
    Availability(f64),
    #[error(
        "the fast-burn threshold 14.4 × budget is {0:.3}, above 1: no error rate can reach it; use an objective of at least 93.06 %"
    )]
    BudgetTooLarge(f64),
    #[error(
        "latency objective {0} s must be a positive number of seconds below 1: the service's last finite latency bucket is 1 s, so its p99 never reads higher"
    )]
    Latency(f64),
    #[error("detection time {0} s must be between 1 and 3600 seconds")]
    Detection(u64),
    #[error("restart threshold must be at least 1")]
    Restarts,
}

impl Objectives {
    /// The error budget as a ratio (99.9 % -> 0.001).
    pub fn error_budget(&self) -> f64 {
        (100.0 - self.availability_percent) / 100.0
    }

    /// Refuses objectives whose rules could never fire or would always fire.
    pub fn check(&self) -> Result<(), ObjectiveError> {
        let a = self.availability_percent;
        if !(a.is_finite() && a > 0.0 && a < 100.0) {
            return Err(ObjectiveError::Availability(a));
        }
        let fastest = rules::FAST_BURN.0 * self.error_budget();
        if fastest > 1.0 {
            return Err(ObjectiveError::BudgetTooLarge(fastest));
        }
        let l = self.latency_p99_seconds;
        if !(l.is_finite() && l > 0.0 && l < metrics::LARGEST_FINITE_BUCKET_SECONDS) {
            return Err(ObjectiveError::Latency(l));
        }
        if !(1..=3600).contains(&self.detection_seconds) {
            return Err(ObjectiveError::Detection(self.detection_seconds));
        }
        if self.restarts_per_15m == 0 {
            return Err(ObjectiveError::Restarts);
        }
        Ok(())
    }
}

/// A Prometheus rule file (`groups:`), as `promtool check rules` and Prometheus read it.
pub fn to_rule_file(groups: &[RuleGroup]) -> String {
    #[derive(Serialize)]
    struct File<'a> {
        groups: Vec<FileGroup<'a>>,
    }
    #[derive(Serialize)]
    struct FileGroup<'a> {
        name: &'a str,
        interval: String,
        rules: Vec<FileRule<'a>>,
    }
    #[derive(Serialize)]
    #[serde(untagged)]
    enum FileRule<'a> {
        Record {
            record: &'a str,
            expr: &'a str,
            labels: &'a std::collections::BTreeMap<String, String>,
        },
        Alert {
            alert: &'a str,
            expr: &'a str,
            #[serde(rename = "for")]
            for_: String,
            labels: std::collections::BTreeMap<String, String>,
            annotations: &'a std::collections::BTreeMap<String, String>,
        },
    }
    let file = File {
        groups: groups
            .iter()
            .map(|g| FileGroup {
                name: &g.name,
                interval: format!("{}s", g.interval_seconds),
                rules: g
                    .rules
                    .iter()
                    .map(|r| match r {
                        Rule::Record(r) => FileRule::Record {
                            record: &r.record,
                            expr: &r.expr,
                            labels: &r.labels,
                        },
                        Rule::Alert(a) => {
                            let mut labels = a.labels.clone();
                            labels.insert("severity".into(), a.severity.label().into());
                            FileRule::Alert {
                                alert: &a.alert,
                                expr: &a.expr,
                                for_: format!("{}s", a.for_seconds),
                                labels,
                                annotations: &a.annotations,
                            }
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    let yaml = serde_saphyr::to_string(&file).unwrap_or_default();
    format!("# Generated from catalogue.yaml by the monitoring crate: do not edit by hand.\n{yaml}")
}
