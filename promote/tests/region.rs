//! Gates 2 and 3 against the real service binary on 127.0.0.1, configured with the image the
//! overlay passes (`IMAGE`): a region that never serves the candidate fails the serving gate,
//! one that does passes it, and a region answering 5xx during the bake fails the bake.

use promote::Gate;
use promote::region::RegionGate;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::{free_port, service_binary};

const CANDIDATE: &str = "contosoha.azurecr.io/hello@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const PREVIOUS: &str = "contosoha.azurecr.io/hello:1.0.0";

struct Service {
    child: Child,
    base: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_service(image: &str, error_ratio: f64) -> Service {
    let port = free_port();
    let child = Command::new(service_binary())
        .env_clear()
        .env("PORT", port.to_string())
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("REGION", "centralus")
        .env("ZONE", "1")
        .env("HOSTNAME", "pod-a")
        .env("POD_IP", "127.0.0.1")
        .env("IMAGE", image)
        .env("INJECT_ERROR_RATIO", error_ratio.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Service { child, base }
}

fn quiet(_: &str) {}

#[tokio::test]
async fn a_region_serving_the_candidate_passes_after_k_answers_in_a_row() {
    let s = start_service(CANDIDATE, 0.0).await;
    let gate = RegionGate::new();
    let o = gate.observe(&s.base, "/readyz").await;
    assert_eq!(
        o.default,
        Ok(Some(CANDIDATE.to_string())),
        "/default reports the image"
    );
    assert_eq!(o.ready, Ok(200));
    gate.wait_serving(
        "centralus",
        &s.base,
        "/readyz",
        CANDIDATE,
        3,
        Duration::from_secs(10),
        Duration::from_millis(50),
        &quiet,
    )
    .await
    .expect("serves the candidate");
}

#[tokio::test]
async fn a_region_that_never_serves_the_candidate_fails_with_what_it_serves() {
    let s = start_service(PREVIOUS, 0.0).await;
    let start = Instant::now();
    let err = RegionGate::new()
        .wait_serving(
            "centralus",
            &s.base,
            "/readyz",
            CANDIDATE,
            3,
            Duration::from_secs(2),
            Duration::from_millis(100),
            &quiet,
        )
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(4));
    assert_eq!(err.gate, Gate::Serving);
    assert_eq!(err.region, "centralus");
    assert!(
        err.observed
            .contains(&format!("/default serves {PREVIOUS}")),
        "{err}"
    );
    assert!(err.expected.contains(CANDIDATE), "{err}");
}

#[tokio::test]
async fn a_region_that_is_down_fails_the_serving_gate() {
    let port = free_port();
    let err = RegionGate::new()
        .wait_serving(
            "centralus",
            &format!("http://127.0.0.1:{port}"),
            "/readyz",
            CANDIDATE,
            1,
            Duration::from_secs(1),
            Duration::from_millis(100),
            &quiet,
        )
        .await
        .unwrap_err();
    assert!(err.observed.contains("connection failed"), "{err}");
}

#[tokio::test]
async fn a_region_answering_5xx_during_the_bake_fails_it() {
    let s = start_service(CANDIDATE, 0.5).await;
    let err = RegionGate::new()
        .bake(
            "centralus",
            &s.base,
            "/readyz",
            CANDIDATE,
            Duration::from_secs(3),
            Duration::from_millis(50),
            0.05,
            &quiet,
        )
        .await
        .unwrap_err();
    assert_eq!(err.gate, Gate::Bake);
    assert!(err.observed.contains("HTTP 500"), "{err}");
}

#[tokio::test]
async fn a_healthy_region_bakes() {
    let s = start_service(CANDIDATE, 0.0).await;
    let report = RegionGate::new()
        .bake(
            "centralus",
            &s.base,
            "/readyz",
            CANDIDATE,
            Duration::from_secs(1),
            Duration::from_millis(50),
            0.0,
            &quiet,
        )
        .await
        .expect("bakes");
    assert!(report.samples >= 5, "{report:?}");
    assert_eq!(report.failures, 0);
}
