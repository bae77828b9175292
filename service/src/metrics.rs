//! Prometheus metrics on plain atomics.
//!
//! Every series is pre-allocated: the hot path does a handful of relaxed atomic adds and no
//! hashing, locking or allocation. The route label comes from the route that matched (a fixed
//! enum), never from the raw path, so cardinality is bounded: 6 routes × the status codes seen.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
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
/// Status codes 100..=599 get their own counter; anything else (hyper allows up to 999) is
/// counted under `status="other"`, never mislabelled.
const STATUS_MIN: u16 = 100;
const STATUS_EXACT: usize = 500;
const STATUS_SLOTS: usize = STATUS_EXACT + 1;
/// Counter shards. Each thread updates one shard (picked round-robin on its first request), so
/// the worker threads of the runtime never bounce a cache line between cores on the hot path.
/// More threads than shards share shards: still correct, only slower.
const SHARDS: usize = 8;

#[inline]
fn status_slot(status: u16) -> usize {
    match status {
        100..=599 => usize::from(status - STATUS_MIN),
        _ => STATUS_EXACT,
    }
}

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

/// One thread's share of the counters, alone on its cache lines.
#[repr(align(128))]
struct Shard {
    routes: [RouteSeries; Route::ALL.len()],
    /// Requests started minus requests finished on this shard; a request may start on one
    /// thread and finish on another, so only the sum over shards is meaningful.
    in_flight: AtomicI64,
}

impl Shard {
    fn new() -> Self {
        Self {
            routes: std::array::from_fn(|_| RouteSeries::new()),
            in_flight: AtomicI64::new(0),
        }
    }
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The shard of the current thread.
#[inline]
fn shard_index() -> usize {
    SHARD.with(|s| {
        let i = s.get();
        if i != usize::MAX {
            return i;
        }
        let i = NEXT_SHARD.fetch_add(1, Relaxed) % SHARDS;
        s.set(i);
        i
    })
}

/// Why a connection was refused an answer (the `reason` label of
/// `service_connections_rejected_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Unparsable request head (hyper answered 400).
    BadRequest,
    /// Request head over the size or header-count limit (431).
    HeadTooLarge,
    /// An HTTP/2 prior-knowledge preface (answered with GOAWAY `HTTP_1_1_REQUIRED`).
    Http2PriorKnowledge,
}

impl Rejected {
    /// All reasons, in label order.
    pub const ALL: [Rejected; 3] = [
        Rejected::BadRequest,
        Rejected::HeadTooLarge,
        Rejected::Http2PriorKnowledge,
    ];

    /// The `reason` label value.
    pub fn label(self) -> &'static str {
        match self {
            Rejected::BadRequest => "bad_request",
            Rejected::HeadTooLarge => "head_too_large",
            Rejected::Http2PriorKnowledge => "http2_prior_knowledge",
        }
    }
}

/// Why a connection was cut off by a timer (`service_connections_timed_out_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedOut {
    /// No complete request head within the header-read timeout (silent, slow or idle).
    HeaderRead,
    /// Still open when the shutdown timeout ended the drain.
    Shutdown,
}

impl TimedOut {
    /// All reasons, in label order.
    pub const ALL: [TimedOut; 2] = [TimedOut::HeaderRead, TimedOut::Shutdown];

    /// The `reason` label value.
    pub fn label(self) -> &'static str {
        match self {
            TimedOut::HeaderRead => "header_read",
            TimedOut::Shutdown => "shutdown",
        }
    }
}

/// Why `accept` failed (`service_accept_errors_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptFailure {
    /// EMFILE / ENFILE: the open-file limit of the process or the system.
    FdLimit,
    /// ENOBUFS / ENOMEM.
    Memory,
    /// Anything else (e.g. ECONNABORTED: the client gave up while queued).
    Other,
}

impl AcceptFailure {
    /// All reasons, in label order.
    pub const ALL: [AcceptFailure; 3] = [
        AcceptFailure::FdLimit,
        AcceptFailure::Memory,
        AcceptFailure::Other,
    ];

    /// Classify an `accept` error.
    pub fn of(err: &std::io::Error) -> Self {
        // Linux errno values: EMFILE 24, ENFILE 23, ENOBUFS 105, ENOMEM 12.
        match err.raw_os_error() {
            Some(24 | 23) => AcceptFailure::FdLimit,
            Some(105 | 12) => AcceptFailure::Memory,
            _ => AcceptFailure::Other,
        }
    }

    /// The `reason` label value.
    pub fn label(self) -> &'static str {
        match self {
            AcceptFailure::FdLimit => "fd_limit",
            AcceptFailure::Memory => "memory",
            AcceptFailure::Other => "other",
        }
    }
}

/// Connection-level counters: touched once per connection or per failure, never per request.
struct ConnectionCounters {
    open: AtomicI64,
    max: AtomicI64,
    cap_waits: AtomicU64,
    rejected: [AtomicU64; Rejected::ALL.len()],
    timed_out: [AtomicU64; TimedOut::ALL.len()],
    accept_errors: [AtomicU64; AcceptFailure::ALL.len()],
}

/// All metrics of the service. Lives for the whole process: see [`Metrics::leak`].
pub struct Metrics {
    shards: Box<[Shard]>,
    ready: AtomicI64,
    conns: ConnectionCounters,
    /// Unix time this process created its metrics (start-up): changes on every restart, so
    /// the `ServiceRestarting` alert counts restarts from the service's own series.
    start_time_seconds: f64,
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

/// Decrements `service_connections_open` when the connection ends.
#[derive(Debug)]
pub struct OpenConnection {
    metrics: &'static Metrics,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.metrics.conns.open.fetch_sub(1, Relaxed);
    }
}

/// Decrements the in-flight gauge when dropped (also when a request is cancelled).
#[derive(Debug)]
pub struct InFlight {
    metrics: &'static Metrics,
    shard: usize,
}

impl InFlight {
    /// The metrics this guard belongs to.
    #[inline]
    pub fn metrics(&self) -> &'static Metrics {
        self.metrics
    }
}

impl Drop for InFlight {
    #[inline]
    fn drop(&mut self) {
        // The shard of `start`, not of the dropping thread: per-shard values stay >= 0.
        self.metrics.shards[self.shard]
            .in_flight
            .fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Fresh, all-zero metrics.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::new()).collect(),
            ready: AtomicI64::new(0),
            start_time_seconds: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            conns: ConnectionCounters {
                open: AtomicI64::new(0),
                max: AtomicI64::new(0),
                cap_waits: AtomicU64::new(0),
                rejected: std::array::from_fn(|_| AtomicU64::new(0)),
                timed_out: std::array::from_fn(|_| AtomicU64::new(0)),
                accept_errors: std::array::from_fn(|_| AtomicU64::new(0)),
            },
        }
    }

    /// Publish the connection cap (`service_connections_max`).
    pub fn set_max_connections(&self, max: usize) {
        self.conns
            .max
            .store(i64::try_from(max).unwrap_or(i64::MAX), Relaxed);
    }

    /// A connection was accepted; it counts as open until the guard drops.
    pub fn connection_opened(&'static self) -> OpenConnection {
        self.conns.open.fetch_add(1, Relaxed);
        OpenConnection { metrics: self }
    }

    /// The accept loop found every slot taken and paused until one freed.
    pub fn cap_reached(&self) {
        self.conns.cap_waits.fetch_add(1, Relaxed);
    }

    /// A connection was answered with an error and closed.
    pub fn rejected(&self, reason: Rejected) {
        self.conns.rejected[reason as usize].fetch_add(1, Relaxed);
    }

    /// A connection was closed by a timer.
    pub fn timed_out(&self, reason: TimedOut) {
        self.conns.timed_out[reason as usize].fetch_add(1, Relaxed);
    }

    /// `accept` failed.
    pub fn accept_failed(&self, reason: AcceptFailure) {
        self.conns.accept_errors[reason as usize].fetch_add(1, Relaxed);
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> i64 {
        self.conns.open.load(Relaxed)
    }

    /// Times the accept loop paused at the connection cap.
    pub fn cap_waits(&self) -> u64 {
        self.conns.cap_waits.load(Relaxed)
    }

    /// Connections rejected for `reason` so far.
    pub fn rejected_count(&self, reason: Rejected) -> u64 {
        self.conns.rejected[reason as usize].load(Relaxed)
    }

    /// Connections timed out for `reason` so far.
    pub fn timed_out_count(&self, reason: TimedOut) -> u64 {
        self.conns.timed_out[reason as usize].load(Relaxed)
    }

    /// `accept` failures for `reason` so far.
    pub fn accept_failures(&self, reason: AcceptFailure) -> u64 {
        self.conns.accept_errors[reason as usize].load(Relaxed)
    }

    /// Fresh metrics that live until the process exits. The service creates exactly one set;
    /// a `'static` reference lets every request use it without touching a shared reference
    /// count (an `Arc` clone per request is a contended atomic on every core).
    pub fn leak() -> &'static Self {
        Box::leak(Box::new(Self::new()))
    }

    /// Count a request as in flight until the guard drops.
    #[inline]
    pub fn start(&'static self) -> InFlight {
        let shard = shard_index();
        self.shards[shard].in_flight.fetch_add(1, Relaxed);
        InFlight {
            metrics: self,
            shard,
        }
    }

    /// Record a finished request.
    #[inline]
    pub fn record(&self, route: Route, status: u16, elapsed: Duration) {
        let series = &self.shards[shard_index()].routes[route.index()];
        series.by_status[status_slot(status)].fetch_add(1, Relaxed);
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
        let slot = status_slot(status);
        self.sum(|s| s.routes[route.index()].by_status[slot].load(Relaxed))
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> i64 {
        self.shards.iter().map(|s| s.in_flight.load(Relaxed)).sum()
    }

    fn sum(&self, f: impl Fn(&Shard) -> u64) -> u64 {
        self.shards.iter().map(f).fold(0, u64::wrapping_add)
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
            let r = route.index();
            for slot in 0..STATUS_SLOTS {
                let n = self.sum(|s| s.routes[r].by_status[slot].load(Relaxed));
                if n == 0 {
                    continue;
                }
                let label = route.label();
                if slot == STATUS_EXACT {
                    writeln!(
                        out,
                        "http_requests_total{{route=\"{label}\",status=\"other\"}} {n}"
                    )?;
                } else {
                    let status = usize::from(STATUS_MIN) + slot;
                    writeln!(
                        out,
                        "http_requests_total{{route=\"{label}\",status=\"{status}\"}} {n}"
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
            let r = route.index();
            let label = route.label();
            let bucket = |i: usize| self.sum(|s| s.routes[r].buckets[i].load(Relaxed));
            let mut cumulative = 0u64;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += bucket(i);
                writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{label}\",le=\"{bound}\"}} {cumulative}"
                )?;
            }
            cumulative += bucket(BUCKETS.len());
            writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{label}\",le=\"+Inf\"}} {cumulative}"
            )?;
            let sum = self.sum(|s| s.routes[r].sum_nanos.load(Relaxed)) as f64 / 1e9;
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
        writeln!(out, "http_requests_in_flight {}", self.in_flight())?;
        writeln!(
            out,
            "# HELP service_ready 1 while the readiness probe passes, 0 while starting or draining."
        )?;
        writeln!(out, "# TYPE service_ready gauge")?;
        writeln!(out, "service_ready {}", self.ready.load(Relaxed))?;
        let c = &self.conns;
        writeln!(
            out,
            "# HELP service_connections_open TCP connections accepted and not yet closed."
        )?;
        writeln!(out, "# TYPE service_connections_open gauge")?;
        writeln!(out, "service_connections_open {}", c.open.load(Relaxed))?;
        writeln!(
            out,
            "# HELP service_connections_max The connection cap; past it the server stops accepting until a connection closes."
        )?;
        writeln!(out, "# TYPE service_connections_max gauge")?;
        writeln!(out, "service_connections_max {}", c.max.load(Relaxed))?;
        writeln!(
            out,
            "# HELP service_connection_cap_waits_total Times the accept loop paused because every connection slot was taken."
        )?;
        writeln!(out, "# TYPE service_connection_cap_waits_total counter")?;
        writeln!(
            out,
            "service_connection_cap_waits_total {}",
            c.cap_waits.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP service_connections_rejected_total Connections answered with an error and closed, by reason."
        )?;
        writeln!(out, "# TYPE service_connections_rejected_total counter")?;
        for r in Rejected::ALL {
            writeln!(
                out,
                "service_connections_rejected_total{{reason=\"{}\"}} {}",
                r.label(),
                c.rejected[r as usize].load(Relaxed)
            )?;
        }
        writeln!(
            out,
            "# HELP service_connections_timed_out_total Connections closed by a timer, by reason."
        )?;
        writeln!(out, "# TYPE service_connections_timed_out_total counter")?;
        for t in TimedOut::ALL {
            writeln!(
                out,
                "service_connections_timed_out_total{{reason=\"{}\"}} {}",
                t.label(),
                c.timed_out[t as usize].load(Relaxed)
            )?;
        }
        writeln!(
            out,
            "# HELP service_accept_errors_total Failed accept calls, by reason (each is followed by a back-off)."
        )?;
        writeln!(out, "# TYPE service_accept_errors_total counter")?;
        for a in AcceptFailure::ALL {
            writeln!(
                out,
                "service_accept_errors_total{{reason=\"{}\"}} {}",
                a.label(),
                c.accept_errors[a as usize].load(Relaxed)
            )?;
        }
        writeln!(
            out,
            "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds."
        )?;
        writeln!(out, "# TYPE process_start_time_seconds gauge")?;
        writeln!(
            out,
            "process_start_time_seconds {:.3}",
            self.start_time_seconds
        )?;
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

    /// `name{labels} value` lines of `text` whose name is `name`.
    fn samples<'a>(text: &'a str, name: &str) -> Vec<(&'a str, f64)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let metric = series.split('{').next()?;
                (metric == name).then(|| (series, value.parse().expect("numeric value")))
            })
            .collect()
    }

    #[test]
    fn record_and_render() {
        let m = Metrics::leak();
        m.record(Route::Default, 200, Duration::from_micros(50));
        m.record(Route::Default, 200, Duration::from_millis(3));
        m.record(Route::Unmatched, 404, Duration::from_secs(5));
        m.record(Route::Default, 999, Duration::ZERO); // out of 1xx-5xx: "other", no panic
        {
            let _g = m.start();
            let _h = m.start();
            assert!(m.render().contains("http_requests_in_flight 2\n"));
        }
        let text = m.render();
        assert!(text.contains("http_requests_in_flight 0\n"), "{text}");
        assert!(text.contains("http_requests_total{route=\"default\",status=\"200\"} 2\n"));
        assert!(text.contains("http_requests_total{route=\"default\",status=\"other\"} 1\n"));
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
        assert_eq!(m.requests(Route::Default, 600), 1);
    }

    #[test]
    fn bucket_boundaries_are_inclusive_upper_bounds() {
        let m = Metrics::leak();
        m.record(Route::Metrics, 200, Duration::from_micros(100)); // exactly le=0.0001
        m.record(Route::Metrics, 200, Duration::from_nanos(100_001)); // just above
        m.record(Route::Metrics, 200, Duration::from_secs(1)); // exactly le=1
        let text = m.render();
        for line in [
            "http_request_duration_seconds_bucket{route=\"metrics\",le=\"0.0001\"} 1\n",
            "http_request_duration_seconds_bucket{route=\"metrics\",le=\"0.00025\"} 2\n",
            "http_request_duration_seconds_bucket{route=\"metrics\",le=\"0.5\"} 2\n",
            "http_request_duration_seconds_bucket{route=\"metrics\",le=\"1\"} 3\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    /// Requests recorded on many threads (so on several shards) add up, and every histogram is
    /// well-formed: buckets in increasing `le` order, cumulative (never decreasing),
    /// `+Inf == _count ==` the route's request counters, `_sum` the total duration.
    #[test]
    fn shards_add_up_and_histograms_are_consistent() {
        let m = Metrics::leak();
        let threads: Vec<_> = (0..12u64)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..1000u64 {
                        let _g = m.start();
                        let status = if i % 10 == 0 { 503 } else { 200 };
                        m.record(Route::Default, status, Duration::from_micros(t * 97 + i));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let text = m.render();
        assert_eq!(m.requests(Route::Default, 200), 10_800);
        assert_eq!(m.requests(Route::Default, 503), 1_200);
        assert_eq!(m.in_flight(), 0);

        let buckets = samples(&text, "http_request_duration_seconds_bucket");
        let default: Vec<_> = buckets
            .iter()
            .filter(|(s, _)| s.contains("route=\"default\""))
            .collect();
        assert_eq!(default.len(), BUCKETS.len() + 1);
        let mut previous = 0.0;
        for (i, (series, v)) in default.iter().enumerate() {
            let le = series
                .split("le=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("le label");
            if i < BUCKETS.len() {
                assert_eq!(le.parse::<f64>().expect("le"), BUCKETS[i]);
            } else {
                assert_eq!(le, "+Inf");
            }
            assert!(*v >= previous, "not cumulative: {series} {v} < {previous}");
            previous = *v;
        }
        assert_eq!(previous, 12_000.0, "+Inf is every request");
        let count = samples(&text, "http_request_duration_seconds_count");
        assert!(count.contains(&(
            "http_request_duration_seconds_count{route=\"default\"}",
            12_000.0
        )));
        let expected_sum: u64 = (0..12u64)
            .flat_map(|t| (0..1000u64).map(move |i| t * 97 + i))
            .sum();
        let sum = samples(&text, "http_request_duration_seconds_sum");
        let (_, got) = sum
            .iter()
            .find(|(s, _)| s.contains("route=\"default\""))
            .expect("sum");
        assert!((got - expected_sum as f64 / 1e6).abs() < 1e-6, "{got}");
        // Routes without traffic still expose a complete, zero histogram.
        assert!(text.contains("http_request_duration_seconds_count{route=\"startup\"} 0\n"));
    }

    #[test]
    fn every_line_is_valid_exposition_format() {
        let m = Metrics::leak();
        m.record(Route::Readiness, 503, Duration::from_millis(1));
        let text = m.render();
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# ") {
                assert!(
                    rest.starts_with("HELP ") || rest.starts_with("TYPE "),
                    "{line}"
                );
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect(line);
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().expect(line);
            assert!(
                name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "{line}"
            );
            let labels = &series[name.len()..];
            if labels.is_empty() {
                continue;
            }
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split(',') {
                let (k, v) = pair.split_once('=').expect(line);
                assert!(k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
                // Values come from fixed enums, numbers and the crate version: nothing that
                // would need escaping.
                let inner = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                let inner = inner.expect(line);
                assert!(!inner.contains(['"', '\\', '\n']), "{line}");
            }
        }
    }
}
