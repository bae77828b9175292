//! Gates 2 and 3: a region's own public name serves the candidate, then a bake.
//!
//! Both ask the region directly (its public IP's DNS name), not Traffic Manager, so a region
//! is judged by what it serves itself while traffic may still go elsewhere.

use crate::{Gate, GateFailure, Progress};
use reqwest::Client;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct RegionGate {
    http: Client,
}

impl Default for RegionGate {
    fn default() -> Self {
        Self::new()
    }
}

/// One look at a region: what `/default` said and whether readiness answered 200.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// `Ok(image)` from a 2xx `/default` (`None` when the body names no image), or what went wrong.
    pub default: Result<Option<String>, String>,
    pub ready: Result<u16, String>,
}

impl Observation {
    fn serves(&self, candidate: &str) -> bool {
        matches!(&self.default, Ok(Some(i)) if i == candidate) && self.ready == Ok(200)
    }

    fn failed(&self) -> bool {
        self.default.is_err() || self.ready != Ok(200)
    }

    fn describe(&self) -> String {
        let d = match &self.default {
            Ok(Some(i)) => format!("/default serves {i}"),
            Ok(None) => "/default names no image".to_string(),
            Err(e) => format!("/default {e}"),
        };
        let r = match &self.ready {
            Ok(s) => format!("readiness HTTP {s}"),
            Err(e) => format!("readiness {e}"),
        };
        format!("{d}, {r}")
    }
}

/// What a bake saw.
#[derive(Debug, Clone, PartialEq)]
pub struct BakeReport {
    pub samples: u32,
    pub failures: u32,
}

impl RegionGate {
    pub fn new() -> Self {
        let http = Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            // A fresh connection per look: each sample may reach another pod behind the LB.
            .pool_max_idle_per_host(0)
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// `GET <base>/default` and `GET <base><readiness>`.
    pub async fn observe(&self, base: &str, readiness: &str) -> Observation {
        let base = base.trim_end_matches('/');
        let default = match self.http.get(format!("{base}/default")).send().await {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(v) => Ok(v["image"].as_str().map(str::to_string)),
                Err(_) => Err("answered a body that is not JSON".to_string()),
            },
            Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
            Err(e) => Err(transport(&e)),
        };
        let ready = match self.http.get(format!("{base}{readiness}")).send().await {
            Ok(r) => Ok(r.status().as_u16()),
            Err(e) => Err(transport(&e)),
        };
        Observation { default, ready }
    }

    /// Waits until `consecutive` looks in a row see `candidate` on `/default` and readiness
    /// 200, at most `timeout`.
    #[allow(clippy::too_many_arguments)]
    pub async fn wait_serving(
        &self,
        region: &str,
        base: &str,
        readiness: &str,
        candidate: &str,
        consecutive: u32,
        timeout: Duration,
        poll: Duration,
        progress: Progress<'_>,
    ) -> Result<(), GateFailure> {
        let start = Instant::now();
        let mut streak = 0;
        loop {
            let o = self.observe(base, readiness).await;
            if o.serves(candidate) {
                streak += 1;
            } else {
                streak = 0;
            }
            let left = timeout.saturating_sub(start.elapsed());
            progress(&format!(
                "{region}: waiting for {base} to serve {candidate} ({streak}/{consecutive} in a row): {}; {}s left",
                o.describe(),
                left.as_secs()
            ));
            if streak >= consecutive {
                return Ok(());
            }
            if start.elapsed() + poll > timeout {
                return Err(GateFailure {
                    region: region.into(),
                    gate: Gate::Serving,
                    expected: format!(
                        "{base}/default serving {candidate} in {consecutive} consecutive answers, readiness 200"
                    ),
                    observed: o.describe(),
                    elapsed: start.elapsed(),
                });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Samples the region every `interval` for `duration`; fails as soon as the failures
    /// (transport errors, non-2xx `/default`, readiness not 200, or another image than the
    /// candidate) exceed `max_failure_ratio` of the planned samples.
    #[allow(clippy::too_many_arguments)]
    pub async fn bake(
        &self,
        region: &str,
        base: &str,
        readiness: &str,
        candidate: &str,
        duration: Duration,
        interval: Duration,
        max_failure_ratio: f64,
        progress: Progress<'_>,
    ) -> Result<BakeReport, GateFailure> {
        let start = Instant::now();
        let planned = (duration.as_secs_f64() / interval.as_secs_f64().max(0.001))
            .ceil()
            .max(1.0);
        // `as` saturates: a NaN or absurd ratio cannot panic; the catalogue bounds it anyway.
        let allowed = (planned * max_failure_ratio.clamp(0.0, 1.0)).floor() as u32;
        let mut report = BakeReport {
            samples: 0,
            failures: 0,
        };
        let mut last_failure = String::new();
        while start.elapsed() < duration {
            let o = self.observe(base, readiness).await;
            report.samples += 1;
            let wrong_image = matches!(&o.default, Ok(i) if i.as_deref() != Some(candidate));
            if o.failed() || wrong_image {
                report.failures += 1;
                last_failure = o.describe();
                progress(&format!(
                    "{region}: bake sample {} failed: {last_failure} ({} of {allowed} allowed)",
                    report.samples, report.failures
                ));
            }
            if report.failures > allowed {
                return Err(GateFailure {
                    region: region.into(),
                    gate: Gate::Bake,
                    expected: format!(
                        "at most {allowed} failed samples of {planned} over {}s",
                        duration.as_secs()
                    ),
                    observed: format!(
                        "{} failed of {} so far; last: {last_failure}",
                        report.failures, report.samples
                    ),
                    elapsed: start.elapsed(),
                });
            }
            tokio::time::sleep(interval).await;
        }
        progress(&format!(
            "{region}: baked {}s: {} samples, {} failed",
            duration.as_secs(),
            report.samples,
            report.failures
        ));
        Ok(report)
    }
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "transport error".into()
    }
}
