//! Objectives the rules could never act on are refused before any rule is rendered.

use monitoring::Objectives;
use monitoring::metrics::LARGEST_FINITE_BUCKET_SECONDS;

fn with_latency(latency_p99_seconds: f64) -> Objectives {
    Objectives {
        availability_percent: 99.9,
        latency_p99_seconds,
        detection_seconds: 35,
        restarts_per_15m: 3,
    }
}

#[test]
fn the_latency_limit_is_the_services_last_finite_bucket() {
    let last = *service::metrics::BUCKETS
        .last()
        .expect("the service has buckets");
    assert_eq!(LARGEST_FINITE_BUCKET_SECONDS, last);
}

#[test]
fn a_latency_objective_the_histogram_cannot_reach_is_refused() {
    // histogram_quantile never returns more than the last finite bucket: `p99 > 1` never fires.
    for unreachable in [1.0, 1.5, 59.999] {
        let err = with_latency(unreachable).check().expect_err("refused");
        assert!(err.to_string().contains("below 1"), "{err}");
    }
    assert!(with_latency(0.999).check().is_ok());
    assert!(with_latency(0.3).check().is_ok());
}
