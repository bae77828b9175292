//! Prometheus metrics on plain atomics.
//!
//! Every series is pre-allocated: the hot path does a handful of relaxed atomic adds and no
//! hashing, locking or allocation. The route label comes from the route that matched (a fixed
//! enum), never from the raw path, so cardinality is bounded: 6 routes × the status codes seen.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The route a request matched; the `route` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /default`.
    Default,
    /// `GET /metrics`.
    Metrics,
    /// Readiness probe.
    Readiness,
    /// Liveness probe.
    Liveness,
    /// Startup probe.
    Startup,
    /// No route matched (404).
    Unmatched,
}

impl Route {
    /// All routes, in label order.
    pub const ALL: [Route; 6] = [
        Route::Default,
        Route::Metrics,
        Route::Readiness,
        Route::Liveness,
        Route::Startup,
        Route::Unmatched,
    ];

    /// The `route` label value.
    pub fn label(self) -> &'static str {
        match self {
            Route::Default => "default",
            Route::Metrics => "metrics",
            Route::Readiness => "readiness",
            Route::Liveness => "liveness",
            Route::Startup => "startup",
            Route::Unmatched => "unmatched",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Histogram upper bounds, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];
const BUCKET_NANOS: [u64; 12] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    500_000_000,
    1_000_000_000,
];
/// Status codes 100..=599 get their own counter.
const STATUS_MIN: u16 = 100;
const STATUS_SLOTS: usize = 500;

struct RouteSeries {
    by_status: Box<[AtomicU64]>,
    /// Non-cumulative bucket counts; the last slot is +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl RouteSeries {
    fn new() -> Self {
        Self {
            by_status: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

/// All metrics of the service.
pub struct Metrics {
    routes: [RouteSeries; Route::ALL.len()],
    in_flight: AtomicI64,
    ready: AtomicI64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Decrements the in-flight gauge when dropped (also when a request is cancelled).
#[derive(Debug)]
pub struct InFlight(Arc<Metrics>);

impl InFlight {
    /// The metrics this guard belongs to.
    #[inline]
    pub fn metrics(&self) -> &Metrics {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Fresh, all-zero metrics.
    pub fn new() -> Self {
        Self {
            routes: std::array::from_fn(|_| RouteSeries::new()),
            in_flight: AtomicI64::new(0),
            ready: AtomicI64::new(0),
        }
    }

    /// Count a request as in flight until the guard drops.
    #[inline]
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(Arc::clone(self))
    }

    /// Record a finished request.
    #[inline]
    pub fn record(&self, route: Route, status: u16, elapsed: Duration) {
        let series = &self.routes[route.index()];
        let slot = usize::from(status.saturating_sub(STATUS_MIN)).min(STATUS_SLOTS - 1);
        series.by_status[slot].fetch_add(1, Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKET_NANOS.partition_point(|&b| b < nanos);
        series.buckets[bucket].fetch_add(1, Relaxed);
        series.sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// Mirror the readiness state in `service_ready`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(i64::from(ready), Relaxed);
    }

    /// Requests counted for `route` and `status` so far.
    pub fn requests(&self, route: Route, status: u16) -> u64 {
        let slot = usize::from(status.saturating_sub(STATUS_MIN)).min(STATUS_SLOTS - 1);
        self.routes[route.index()].by_status[slot].load(Relaxed)
    }

    /// Render everything in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // `write!` into a String cannot fail.
        let _ = self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP http_requests_total HTTP requests answered, by matched route and status code."
        )?;
        writeln!(out, "# TYPE http_requests_total counter")?;
        for route in Route::ALL {
            let series = &self.routes[route.index()];
            for (i, c) in series.by_status.iter().enumerate() {
                let n = c.load(Relaxed);
                if n > 0 {
                    let status = usize::from(STATUS_MIN) + i;
                    writeln!(
                        out,
                        "http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                        route.label()
                    )?;
                }
            }
        }
        writeln!(
            out,
            "# HELP http_request_duration_seconds Time from routing to response head, by matched route."
        )?;
        writeln!(out, "# TYPE http_request_duration_seconds histogram")?;
        for route in Route::ALL {
            let series = &self.routes[route.index()];
            let label = route.label();
            let mut cumulative = 0u64;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += series.buckets[i].load(Relaxed);
                writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{label}\",le=\"{bound}\"}} {cumulative}"
                )?;
            }
            cumulative += series.buckets[BUCKETS.len()].load(Relaxed);
            writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{label}\",le=\"+Inf\"}} {cumulative}"
            )?;
            let sum = series.sum_nanos.load(Relaxed) as f64 / 1e9;
            writeln!(
                out,
                "http_request_duration_seconds_sum{{route=\"{label}\"}} {sum}"
            )?;
            writeln!(
                out,
                "http_request_duration_seconds_count{{route=\"{label}\"}} {cumulative}"
            )?;
        }
        writeln!(
            out,
            "# HELP http_requests_in_flight Requests being handled right now."
        )?;
        writeln!(out, "# TYPE http_requests_in_flight gauge")?;
        writeln!(
            out,
            "http_requests_in_flight {}",
            self.in_flight.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP service_ready 1 while the readiness probe passes, 0 while starting or draining."
        )?;
        writeln!(out, "# TYPE service_ready gauge")?;
        writeln!(out, "service_ready {}", self.ready.load(Relaxed))?;
        writeln!(
            out,
            "# HELP service_build_info Build information; always 1."
        )?;
        writeln!(out, "# TYPE service_build_info gauge")?;
        writeln!(
            out,
            "service_build_info{{version=\"{}\"}} 1",
            crate::VERSION
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_render() {
        let m = Arc::new(Metrics::new());
        m.record(Route::Default, 200, Duration::from_micros(50));
        m.record(Route::Default, 200, Duration::from_millis(3));
        m.record(Route::Unmatched, 404, Duration::from_secs(5));
        m.record(Route::Default, 1000, Duration::ZERO); // clamped, never panics
        {
            let _g = m.start();
            let _h = m.start();
            assert!(m.render().contains("http_requests_in_flight 2\n"));
        }
        let text = m.render();
        assert!(text.contains("http_requests_in_flight 0\n"), "{text}");
        assert!(text.contains("http_requests_total{route=\"default\",status=\"200\"} 2\n"));
        assert!(text.contains("http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
        assert!(
            text.contains(
                "http_request_duration_seconds_bucket{route=\"default\",le=\"0.0001\"} 2\n"
            )
        );
        assert!(
            text.contains(
                "http_request_duration_seconds_bucket{route=\"default\",le=\"0.005\"} 3\n"
            )
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"unmatched\",le=\"1\"} 0\n")
        );
        assert!(
            text.contains(
                "http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 1\n"
            )
        );
        assert!(text.contains("http_request_duration_seconds_count{route=\"default\"} 3\n"));
        assert!(text.contains("http_request_duration_seconds_sum{route=\"unmatched\"} 5\n"));
        assert!(text.contains(&format!(
            "service_build_info{{version=\"{}\"}} 1\n",
            crate::VERSION
        )));
        assert_eq!(m.requests(Route::Default, 200), 2);
    }
}
