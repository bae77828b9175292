//! Bad input is refused before anything starts, with what, where and how to fix it.

use crate::common;

use drill::{DrillError, LocalOptions, Scenario};
use std::path::PathBuf;

fn opts(c: catalogue::Catalogue) -> LocalOptions {
    LocalOptions {
        catalogue: c,
        service_bin: common::service_bin().to_path_buf(),
        time_scale: 0.05,
        scenarios: vec![Scenario::Loss],
        rate_per_second: 20.0,
        users: 8,
        log_dir: None,
        progress: drill::quiet(),
    }
}

fn edited(from: &str, to: &str) -> catalogue::Catalogue {
    // A frozen catalogue: the live one changes with every release.
    let path = common::repo_root().join("infra/tests/fixtures/catalogue.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from));
    catalogue::parse(&path, &text.replacen(from, to, 1)).expect("still a valid catalogue")
}

async fn input_error(o: LocalOptions) -> String {
    match drill::run_local(o).await {
        Err(e @ DrillError::Input(_)) => {
            assert_eq!(e.exit_code(), 2);
            e.to_string()
        }
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[tokio::test]
async fn time_scale_out_of_range_or_not_a_number() {
    for bad in ["0", "-1", "1.5", "NaN", "inf", "0.001"] {
        let e = drill::timing::parse_scale(bad).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--time-scale"), "{e}");
        assert!(e.to_string().contains("help:"), "{e}");
    }
    let e = drill::timing::parse_scale("fast").unwrap_err();
    assert!(e.to_string().contains("`fast`"));
    assert_eq!(drill::timing::parse_scale("0.05").unwrap(), 0.05);
    let mut o = opts(common::catalogue());
    o.time_scale = 2.0;
    assert!(input_error(o).await.contains("at most 1"));
}

#[tokio::test]
async fn a_missing_service_binary_is_named_with_the_fix() {
    let mut o = opts(common::catalogue());
    o.service_bin = PathBuf::from("no/such/service");
    let e = input_error(o).await;
    assert!(
        e.contains("no/such/service") && e.contains("--service-bin"),
        "{e}"
    );
}

#[tokio::test]
async fn fewer_than_two_regions_in_rotation_cannot_fail_over() {
    let c = edited(
        "    priority: 2\n",
        "    priority: 2\n    inRotation: false\n",
    );
    let e = input_error(opts(c)).await;
    assert!(e.contains("two regions in Traffic Manager rotation"), "{e}");
}

#[tokio::test]
async fn absurd_rates_and_no_scenarios_are_refused() {
    for rate in [0.0, -5.0, f64::NAN, 1e9] {
        let mut o = opts(common::catalogue());
        o.rate_per_second = rate;
        assert!(input_error(o).await.contains("request rate"));
    }
    let mut o = opts(common::catalogue());
    o.scenarios.clear();
    assert!(input_error(o).await.contains("no scenario"));
    let e = Scenario::parse("meteor").unwrap_err();
    assert!(
        e.to_string()
            .contains("loss, blackhole, evacuate, failback, all-down")
    );
}

#[test]
fn the_bound_is_the_catalogue_formula_scaled() {
    let c = common::catalogue();
    let real = drill::Timing::from_catalogue(&c, 1.0).unwrap();
    assert_eq!(real.bound().as_secs(), 65);
    assert_eq!(
        real.bound().as_secs(),
        c.traffic_manager.worst_case_failover_seconds()
    );
    let ci = drill::Timing::from_catalogue(&c, 0.05).unwrap();
    // 3 x 0.5 + 0.25 + TTL 1.5 s rounded up to 2 s.
    assert_eq!(ci.ttl_seconds, 2);
    assert_eq!(ci.bound().as_millis(), 3750);
    assert_eq!(ci.rto.as_millis(), 4500);
}
