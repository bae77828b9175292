//! The series the rules read: every one is exposed by the service itself (see
//! `service/src/metrics.rs`); the real-Prometheus test checks each exists with these labels.

/// Counter of answered requests, labels `route` and `status`.
pub const REQUESTS: &str = "http_requests_total";
/// Histogram of request durations, labels `route` and `le`.
pub const DURATION_BUCKET: &str = "http_request_duration_seconds_bucket";
/// Gauge: 1 while the readiness probe passes, 0 while starting or draining.
pub const READY: &str = "service_ready";
/// Gauge: the process start time, Unix seconds; changes on every restart.
pub const START_TIME: &str = "process_start_time_seconds";

/// The `route` label value of `GET /default`, the request the objectives are about.
pub const ROUTE_DEFAULT: &str = "default";

/// Every (metric, labels it is filtered or grouped by) pair the rules use.
pub const USED: &[(&str, &[&str])] = &[
    (REQUESTS, &["route", "status"]),
    (DURATION_BUCKET, &["route", "le"]),
    (READY, &[]),
    (START_TIME, &[]),
];
