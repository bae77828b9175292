//! Bounded, visible waiting: Retry-After in all its forms held to a cap, no server or
//! environment duration can panic, every step has a deadline, 408/429/5xx and resets are
//! retried with a line each, a 202's new Location is followed, an unreachable endpoint fails
//! fast with progress first, GETs fan out with a bound, the token never shows, a panic in one
//! step leaves the others and the summary.

use crate::support;

use infra::arm::client::{parse_millis, parse_retry_after, scrub};
use infra::arm::{ArmClient, ClientOptions, Endpoint, InfraError, TokenSource};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::emulator::{Emulator, Fault, FaultKind, Kind, LroStyle, SUB, TOKEN};

fn lines_client(emu: &Emulator) -> (ArmClient, Arc<Mutex<Vec<String>>>) {
    let (p, lines) = support::progress();
    (support::client(emu).with_progress(p), lines)
}

fn throttle(header: &'static str, value: &str, status: u16) -> Fault {
    Fault {
        method: Some("GET"),
        path_contains: "/resourcegroups/rg-wait".into(),
        kind: FaultKind::WithHeader {
            status,
            header,
            value: value.to_string(),
        },
        times: 1,
    }
}

#[test]
fn absurd_retry_after_values_parse_without_panicking() {
    for v in [
        "1e30",
        "18446744073709551615",
        "99999999999999999999999999",
        "1.7976931348623157e308",
        "inf",
        "Infinity",
    ] {
        let d = parse_retry_after(v).unwrap_or_else(|| panic!("{v}"));
        assert!(d >= Duration::from_secs(u64::MAX), "{v}: {d:?}");
    }
    for v in ["-1", "nan", "NaN", "", "soon", "1s"] {
        assert_eq!(parse_retry_after(v), None, "{v}");
    }
    assert_eq!(parse_millis("1500"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_millis("1e300"), Some(Duration::MAX));
    assert_eq!(parse_millis("-5"), None);
    // Scaling and deadlines saturate instead of overflowing.
    let o = ClientOptions::default();
    assert_eq!(o.scaled(Duration::MAX), Duration::MAX);
    let far = infra::arm::client::instant_after(Duration::MAX);
    assert!(far > Instant::now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_retry_after_form_is_honoured_up_to_the_cap_and_printed() {
    let emu = Emulator::start().await;
    let (client, lines) = lines_client(&emu);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-wait");
    support::put_resource_group(&client, &rg).await;
    // Cap 300 s, scale 0.001: an absurd value waits 0.3 s, a small one what it says.
    let cases: [(&str, &str, u16, f64, f64); 7] = [
        ("Retry-After", "1e30", 429, 0.28, 1.5),
        ("Retry-After", "18446744073709551615", 503, 0.28, 1.5),
        ("Retry-After", "86400", 429, 0.28, 1.5),
        ("retry-after-ms", "200000", 429, 0.19, 1.0),
        ("x-ms-retry-after-ms", "200000", 503, 0.19, 1.0),
        ("Retry-After", "100", 408, 0.095, 1.0),
        (
            "Retry-After",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            502,
            0.28,
            1.5,
        ),
    ];
    for (header, value, status, lo, hi) in cases {
        emu.fault(throttle(header, value, status));
        lines.lock().unwrap().clear();
        let t = Instant::now();
        let got = client.get(&rg, "2025-04-01", "reading rg-wait").await;
        let took = t.elapsed().as_secs_f64();
        assert!(got.unwrap().is_some(), "{header}: {value}");
        assert!(
            took >= lo && took < hi,
            "{header}: {value} waited {took}s, expected [{lo}, {hi})"
        );
        let l = lines.lock().unwrap().clone();
        assert_eq!(l.len(), 1, "one line per retry: {l:?}");
        assert!(
            l[0].contains(&format!("HTTP {status}"))
                && l[0].contains("attempt 1 of 8")
                && l[0].contains("next try in"),
            "{l:?}"
        );
    }
}

#[test]
fn absurd_environment_and_flag_durations_are_usage_errors_not_panics() {
    let cases: [(&str, &str, &[&str]); 7] = [
        ("INFRA_MANAGED_IDENTITY_TIMEOUT_SECS", "nan", &["plan"]),
        ("INFRA_MANAGED_IDENTITY_TIMEOUT_SECS", "-5", &["plan"]),
        ("INFRA_MANAGED_IDENTITY_TIMEOUT_SECS", "1e30", &["plan"]),
        ("INFRA_POLL_SCALE", "nan", &["plan"]),
        ("INFRA_STEP_DEADLINE_SECS", "inf", &["plan"]),
        ("INFRA_CONNECT_TIMEOUT_SECS", "-1", &["plan"]),
        ("INFRA_CONNECT_TIMEOUT_SECS", "0", &["plan"]),
    ];
    for (name, value, args) in cases {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_infra"))
            .args(args)
            .arg("--catalogue")
            .arg(support::catalogue_path())
            .env_clear()
            .env("INFRA_DISABLE_MANAGED_IDENTITY", "1")
            .env("AZURE_ACCESS_TOKEN", TOKEN)
            .env("AZURE_SUBSCRIPTION_ID", SUB)
            .env("AZURE_RESOURCE_MANAGER_ENDPOINT", "http://127.0.0.1:9")
            .env(name, value)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}={value}: {err}");
        assert!(
            err.contains(name) && err.contains(value) && !err.contains("panicked"),
            "{name}={value}: {err}"
        );
    }
    for flag in [["--step-deadline", "nan"], ["--connect-timeout", "-3"]] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_infra"))
            .args(["plan", &format!("{}={}", flag[0], flag[1])])
            .arg("--catalogue")
            .arg(support::catalogue_path())
            .env_clear()
            .env("AZURE_ACCESS_TOKEN", TOKEN)
            .env("AZURE_SUBSCRIPTION_ID", SUB)
            .env("AZURE_RESOURCE_MANAGER_ENDPOINT", "http://127.0.0.1:9")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag:?}: {err}");
        assert!(err.contains(flag[0]) && !err.contains("panicked"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_past_its_deadline_names_the_resource_what_it_waited_for_and_how_long() {
    let emu = Emulator::start().await;
    // The registry PUT is throttled for ever; its step deadline (2000 s scaled: 2 s) ends it.
    emu.fault(Fault {
        method: Some("PUT"),
        path_contains: "/registries/".into(),
        kind: FaultKind::WithHeader {
            status: 429,
            header: "Retry-After",
            value: "300".into(),
        },
        times: 1000,
    });
    let client = support::client_with(&emu, |o| {
        o.step_deadline = Some(Duration::from_secs(2000));
        o.max_retries = 100;
    });
    let c = support::catalogue();
    let t = Instant::now();
    let (_, report, lines) = support::bootstrap(&client, &c).await;
    let took = t.elapsed().as_secs_f64();
    let e = support::step_error(&report, "registry");
    let InfraError::Deadline {
        waited, seconds, ..
    } = e
    else {
        panic!("{e}");
    };
    assert_eq!(*seconds, 2000);
    assert!((1.9..5.0).contains(waited), "{waited}");
    let s = e.to_string();
    assert!(
        s.contains(&format!("container registry {}", c.registry.name))
            && s.contains("gave up after")
            && s.contains("HTTP 429"),
        "{s}"
    );
    assert!(took < 15.0, "{took}");
    // Replications wait for the registry: skipped, the rest finished.
    assert!(matches!(
        report.step("centralus/replication").unwrap().result,
        Err(InfraError::Skipped(_))
    ));
    assert!(report.step("eastus2/cluster").unwrap().result.is_ok());
    assert!(lines.iter().any(|l| l.contains("FAILED")), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_202_with_a_new_location_is_followed() {
    let emu = Emulator::start().await;
    emu.with(|s| {
        s.lro_style.insert(Kind::PublicIp, LroStyle::Location);
        s.location_moves = true;
    });
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &support::catalogue()).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let moved: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/moved"))
        .collect();
    assert!(moved.len() >= 2, "both public IPs polled the new URL");
}

/// A port nobody listens on: connections are refused at once.
async fn refused_endpoint() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_says_so_at_once_and_gives_up_within_the_bound() {
    let base = refused_endpoint().await;
    let (p, lines) = support::progress();
    let mut o = ClientOptions {
        time_scale: 0.02,
        ..Default::default()
    };
    o.connect_give_up = Duration::from_secs(90);
    let client = ArmClient::new(
        Endpoint::parse(&base).unwrap(),
        SUB,
        TokenSource::fixed(TOKEN),
        o,
    )
    .unwrap()
    .with_progress(p);
    let t = Instant::now();
    let e = infra::plan::plan(&client, &support::catalogue())
        .await
        .expect_err("unreachable");
    let took = t.elapsed().as_secs_f64();
    // 90 s scaled by 0.02 = 1.8 s.
    assert!(took < 1.8 + 1.0, "{took}");
    let s = e.to_string();
    assert!(
        s.contains("cannot connect to ARM") && s.contains("gave up after"),
        "{s}"
    );
    let l = lines.lock().unwrap().clone();
    assert!(
        l.iter().any(|x| x.contains("cannot connect to ARM")
            && x.contains("attempt 1")
            && x.contains("next try in")),
        "{l:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_at_60_regions_still_fails_within_one_bound() {
    let base = refused_endpoint().await;
    let o = ClientOptions {
        time_scale: 0.02,
        ..Default::default()
    };
    let client = ArmClient::new(
        Endpoint::parse(&base).unwrap(),
        SUB,
        TokenSource::fixed(TOKEN),
        o,
    )
    .unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalogue-60.yaml");
    let c = catalogue::load(&path).unwrap().catalogue;
    let t = Instant::now();
    infra::plan::plan(&client, &c)
        .await
        .expect_err("unreachable");
    // One give-up (90 s x 0.02 = 1.8 s), not one per batch of 16 of the ~480 reads.
    let took = t.elapsed().as_secs_f64();
    assert!(took < 1.8 + 1.0, "{took}");
}

#[test]
fn the_binary_gives_up_on_an_unreachable_endpoint_within_its_flag_with_progress_first() {
    let base = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let t = Instant::now();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["plan", "--connect-timeout", "3"])
        .arg("--catalogue")
        .arg(support::catalogue_path())
        .env_clear()
        .env("INFRA_DISABLE_MANAGED_IDENTITY", "1")
        .env("AZURE_ACCESS_TOKEN", TOKEN)
        .env("AZURE_SUBSCRIPTION_ID", SUB)
        .env("AZURE_RESOURCE_MANAGER_ENDPOINT", &base)
        .output()
        .unwrap();
    let took = t.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < 3.0 + 2.0, "{took}s");
    let first_progress = err.find("next try in").expect("a progress line");
    let final_error = err.rfind("error:").expect("the error");
    assert!(first_progress < final_error, "{err}");
    assert!(err.contains("gave up after"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_gets_fan_out_with_a_bound_at_60_regions() {
    let emu = Emulator::start().await;
    emu.with(|s| s.get_delay = Some(Duration::from_millis(20)));
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalogue-60.yaml");
    let c = catalogue::load(&path).unwrap().catalogue;
    assert_eq!(c.regions.len(), 60);
    let client = support::client(&emu);
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let gets = emu.requests().iter().filter(|r| r.method == "GET").count();
    assert!(gets > 400, "{gets} GETs for 60 regions");
    let max = emu.with(|s| s.max_gets_in_flight);
    assert!(
        (2..=16).contains(&max),
        "at most 16 GETs in flight, saw {max}"
    );
    assert!(plan.items.iter().all(|i| matches!(
        i.action,
        infra::plan::Action::Create | infra::plan::Action::Deferred { .. }
    )));
}

/// A raw HTTP server whose first answer promises 200 bytes and sends 10, then closes.
async fn truncating_server(body: &'static str) -> (String, Arc<Mutex<u32>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let served = Arc::new(Mutex::new(0u32));
    let s = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = l.accept().await else {
                return;
            };
            let n = {
                let mut g = s.lock().unwrap();
                *g += 1;
                *g
            };
            let mut buf = vec![0u8; 8192];
            let _ = sock.read(&mut buf).await;
            let resp = if n == 1 {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"id\": \"/su".to_string()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (format!("http://{addr}"), served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_body_is_retried_like_a_5xx() {
    let (base, served) = truncating_server(r#"{"location": "eastus2", "name": "rg"}"#).await;
    let (p, lines) = support::progress();
    let client = ArmClient::new(
        Endpoint::parse(&base).unwrap(),
        SUB,
        TokenSource::fixed(TOKEN),
        ClientOptions {
            time_scale: support::SCALE,
            ..Default::default()
        },
    )
    .unwrap()
    .with_progress(p);
    let got = client
        .get(
            &format!("/subscriptions/{SUB}/resourceGroups/rg"),
            "2025-04-01",
            "reading rg",
        )
        .await
        .expect("retried")
        .expect("found");
    assert_eq!(got.0["location"], "eastus2");
    assert_eq!(*served.lock().unwrap(), 2);
    let l = lines.lock().unwrap().clone();
    assert!(
        l.iter()
            .any(|x| x.contains("broke while reading") && x.contains("attempt 1")),
        "{l:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_token_never_appears_even_when_arm_echoes_it() {
    let emu = Emulator::start().await;
    let long_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-part.signature";
    let echo = format!(
        r#"{{"error": {{"code": "BadRequest", "message": "bad request; headers were Authorization: Bearer {long_token}, token={TOKEN}"}}}}"#
    );
    emu.fault(Fault::new(
        Some("GET"),
        "/resourcegroups/",
        FaultKind::RawBody {
            status: 400,
            body: echo.clone(),
        },
        1,
    ));
    let client = support::client(&emu);
    let e = infra::plan::plan(&client, &support::catalogue())
        .await
        .expect_err("400");
    let s = format!("{e} {e:?}");
    assert!(!s.contains(TOKEN), "{s}");
    assert!(!s.contains("secret-part"), "{s}");
    assert!(s.contains("[redacted]"), "{s}");
    // The scrubber itself: the token and anything after `Bearer `.
    assert_eq!(
        scrub(&format!("a {TOKEN} b Bearer xyz.abc, c"), TOKEN),
        "a [redacted] b Bearer [redacted], c"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_step_leaves_the_others_and_the_summary() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let c = support::catalogue();
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = lines.clone();
    let progress: infra::apply::Progress = Arc::new(move |s: &str| {
        if s.contains("pip-hello-eastus2: creating") {
            panic!("injected failure in the progress sink");
        }
        l.lock().unwrap().push(s.to_string());
    });
    let report = infra::apply::apply(&client, &plan, progress).await.unwrap();
    let e = support::step_error(&report, "eastus2/public-ip");
    assert!(e.to_string().contains("panicked: injected failure"), "{e}");
    assert!(matches!(
        report.step("eastus2/tm-endpoint").unwrap().result,
        Err(InfraError::Skipped(_))
    ));
    for key in [
        "centralus/public-ip",
        "centralus/tm-endpoint",
        "eastus2/cluster",
        "registry",
    ] {
        assert!(report.step(key).unwrap().result.is_ok(), "{key}");
    }
    assert_eq!(report.steps.len(), plan.items.len());
    let summary = infra::apply::render_report(&report);
    assert!(summary.contains("1 failed"), "{summary}");
}
