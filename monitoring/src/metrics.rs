//! The series the rules read: every one is exposed by the service itself (see
//! `service/src/metrics.rs`) except `region`, which the scrape adds; the real-Prometheus test
//! checks each exists with these labels.

/// Counter of answered requests, labels `route` and `status`.
pub const REQUESTS: &str = "http_requests_total";
/// Histogram of request durations, labels `route` and `le`.
pub const DURATION_BUCKET: &str = "http_request_duration_seconds_bucket";
/// Gauge: 1 while the readiness probe passes, 0 while starting or draining.
pub const READY: &str = "service_ready";
/// Gauge: the process start time, Unix seconds; changes on every restart.
pub const START_TIME: &str = "process_start_time_seconds";

/// The largest finite `le` of the duration histogram (`service/src/metrics.rs` `BUCKETS`):
/// `histogram_quantile` never returns more, so a latency objective must stay below it.
pub const LARGEST_FINITE_BUCKET_SECONDS: f64 = 1.0;

/// The `route` label value of `GET /default`, the request the objectives are about.
pub const ROUTE_DEFAULT: &str = "default";

/// The label every rule selects its region by. The service does not set it: the scrape does
/// (see [`crate::scrape::region_relabeling`]), so one binary serves every region unchanged.
pub const REGION_LABEL: &str = "region";

/// Every (metric, labels it is filtered or grouped by) pair the rules use.
pub const USED: &[(&str, &[&str])] = &[
    (REQUESTS, &["route", "status", REGION_LABEL]),
    (DURATION_BUCKET, &["route", "le", REGION_LABEL]),
    (READY, &[REGION_LABEL]),
    (START_TIME, &[REGION_LABEL]),
];
