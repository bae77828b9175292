//! `infra drill --azure` against the in-suite ARM emulator (the control plane) and the drill's
//! local Traffic Manager stand-in with its DNS server (the data plane), in front of the real
//! service binary per region. A glue task makes the stand-in follow the emulator's
//! `endpointStatus`, as Traffic Manager follows ARM. Also `infra drill --local` end to end.

use crate::support;

use drill::azure::{AzureOptions, EndpointControl};
use drill::dns::DnsServer;
use drill::region::{RegionProcess, ServiceConfig};
use drill::standin::{EndpointSpec, MonitorStatus, ProbeSpec, TrafficManager};
use infra::drill_azure::ArmEndpoints;
use infra::resources::tm_endpoint_spec;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::emulator::{Emulator, SUB, TOKEN};

const SCALE: f64 = 0.05;

fn service_bin() -> PathBuf {
    let bin = drill::region::default_service_bin();
    if !bin.is_file() {
        let ok = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "service", "--bin", "service"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("cargo runs")
            .success();
        assert!(ok, "building the service binary failed");
    }
    bin
}

fn base() -> [u8; 2] {
    let pid = std::process::id();
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mix = pid.wrapping_mul(2_654_435_761) ^ n;
    [20 + (mix % 200) as u8, ((mix >> 8) % 256) as u8]
}

/// Emulated Azure: ARM with everything bootstrapped, the stand-in following it, regions.
struct World {
    emu: Emulator,
    catalogue: catalogue::Catalogue,
    dns: DnsServer,
    port: u16,
    tm: TrafficManager,
    _procs: Vec<RegionProcess>,
    glue: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.glue.abort();
    }
}

fn endpoint_path(c: &catalogue::Catalogue, region: &str) -> String {
    tm_endpoint_spec(SUB, c, c.region(region).unwrap()).path
}

async fn world(run_regions: &[&str]) -> World {
    let emu = Emulator::start().await;
    let catalogue = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &catalogue).await;
    assert!(report.ok(), "bootstrap in the emulator");
    let b = base();
    let timing = drill::Timing::from_catalogue(&catalogue, SCALE).unwrap();
    let ip = |i: u8| IpAddr::V4(Ipv4Addr::new(127, b[0], b[1], i));
    let port = std::net::TcpListener::bind(SocketAddr::new(ip(1), 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let svc = ServiceConfig {
        bin: service_bin(),
        port,
        readiness_path: "/readyz".into(),
        liveness_path: "/healthz".into(),
        startup_path: "/startupz".into(),
        drain: timing.drain,
        shutdown_timeout: timing.in_flight_timeout,
        log_dir: None,
    };
    let mut endpoints = vec![];
    let mut procs = vec![];
    for (i, r) in catalogue.regions.iter().enumerate() {
        let addr = ip(u8::try_from(i).unwrap() + 1);
        endpoints.push(EndpointSpec {
            name: r.name.to_string(),
            target: format!("{}.{}.cloudapp.azure.com", r.public_ip.dns_label, r.name),
            address: addr,
            priority: r.priority,
            enabled: true,
        });
        if run_regions.contains(&r.name.as_str()) {
            let mut p = RegionProcess::spawn(&svc, &r.name, "1", &format!("{}-0", r.name), addr)
                .await
                .unwrap();
            p.wait_ready("/readyz", Duration::from_secs(15))
                .await
                .unwrap();
            procs.push(p);
        }
    }
    let tm = TrafficManager::start(
        endpoints,
        ProbeSpec {
            protocol: catalogue::MonitorProtocol::Http,
            port,
            path: "/readyz".into(),
            interval: timing.interval,
            timeout: timing.timeout,
            tolerated_failures: timing.tolerated_failures,
            expected_status: vec![(200, 299)],
        },
        Instant::now(),
    );
    let dns = DnsServer::start(
        tm.handle(),
        "contoso-ha",
        timing.ttl_seconds,
        SocketAddr::new(ip(250), 0),
    )
    .await
    .unwrap();
    // Traffic Manager's data plane follows its control plane.
    let glue = {
        let h = tm.handle();
        let emu_state: Vec<(String, String)> = catalogue
            .regions
            .iter()
            .map(|r| (r.name.to_string(), endpoint_path(&catalogue, &r.name)))
            .collect();
        let emu2 = Emulator {
            base: emu.base.clone(),
            addr: emu.addr,
            state: emu.state.clone(),
        };
        tokio::spawn(async move {
            loop {
                for (region, path) in &emu_state {
                    if let Some(v) = emu2.resource(path) {
                        let enabled = v["properties"]["endpointStatus"].as_str() == Some("Enabled");
                        h.set_enabled(region, enabled);
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    World {
        emu,
        catalogue,
        dns,
        port,
        tm,
        _procs: procs,
        glue,
    }
}

fn options(w: &World) -> AzureOptions {
    AzureOptions {
        catalogue: w.catalogue.clone(),
        time_scale: SCALE,
        rate_per_second: 40.0,
        users: 8,
        dns_server: Some(w.dns.addr),
        port: w.port,
        progress: drill::quiet(),
    }
}

fn status_of(w: &World, region: &str) -> String {
    w.emu
        .resource(&endpoint_path(&w.catalogue, region))
        .unwrap()["properties"]["endpointStatus"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_drill_evacuates_through_arm_with_zero_failures_and_restores_the_endpoint() {
    let w = world(&["eastus2", "centralus"]).await;
    w.emu.clear_requests();
    let ctl = ArmEndpoints {
        client: support::client(&w.emu),
        catalogue: w.catalogue.clone(),
    };
    let r = drill::azure::run_azure(&ctl, options(&w))
        .await
        .expect("the drill runs");
    let s = &r.scenarios[0];
    assert!(r.passed, "{:?}", s.checks);
    assert_eq!(r.mode, "azure");
    assert_eq!(s.failed_requests, 0);
    assert!(s.requests_by_region["eastus2"] > 0 && s.requests_by_region["centralus"] > 0);
    // Exactly two writes, both on the primary's endpoint: Disabled, then back to Enabled.
    let writes = w.emu.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    let path = endpoint_path(&w.catalogue, "eastus2").to_ascii_lowercase();
    assert!(
        writes
            .iter()
            .all(|x| x.method == "PUT" && x.path.to_ascii_lowercase() == path)
    );
    assert_eq!(status_of(&w, "eastus2"), "Enabled");
    assert_eq!(status_of(&w, "centralus"), "Enabled");
    // The stand-in saw the disable through the glue: the data plane really moved.
    assert!(
        w.tm.handle()
            .events()
            .iter()
            .any(|e| e.endpoint == "eastus2" && e.to == MonitorStatus::Disabled)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_drill_refuses_unless_every_region_is_healthy_and_writes_nothing() {
    let w = world(&["eastus2", "centralus"]).await;
    let ctl = ArmEndpoints {
        client: support::client(&w.emu),
        catalogue: w.catalogue.clone(),
    };
    let health = ctl.health().await.unwrap();
    assert_eq!(health.len(), 2);
    assert!(
        health
            .iter()
            .all(|h| h.enabled && h.monitor_status == "Online")
    );
    for (edit, want) in [
        ("Degraded", "centralus: endpoint Degraded"),
        ("Disabled", "centralus: endpoint Disabled"),
    ] {
        let path = endpoint_path(&w.catalogue, "centralus");
        w.emu.edit(&path, |v| {
            if edit == "Disabled" {
                v["properties"]["endpointStatus"] = "Disabled".into();
                v["properties"]["endpointMonitorStatus"] = "Disabled".into();
            } else {
                v["properties"]["endpointMonitorStatus"] = edit.into();
            }
        });
        w.emu.clear_requests();
        let e = drill::azure::run_azure(&ctl, options(&w))
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let msg = e.to_string();
        assert!(
            msg.contains("refusing to start") && msg.contains(want),
            "{msg}"
        );
        assert!(msg.contains("nothing was changed") && msg.contains("help:"));
        assert!(
            w.emu.writes().is_empty(),
            "no ARM write after a failed check"
        );
        w.emu.edit(&path, |v| {
            v["properties"]["endpointStatus"] = "Enabled".into();
            v["properties"]["endpointMonitorStatus"] = "Online".into();
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_drill_restores_the_endpoint_when_the_takeover_fails() {
    // centralus's endpoint is Online in ARM, but nothing serves there: after the disable no
    // request succeeds, the drill fails its checks, and the endpoint is still restored.
    let w = world(&["eastus2"]).await;
    w.emu.clear_requests();
    let ctl = ArmEndpoints {
        client: support::client(&w.emu),
        catalogue: w.catalogue.clone(),
    };
    let r = drill::azure::run_azure(&ctl, options(&w))
        .await
        .expect("runs to the end");
    assert!(!r.passed);
    let s = &r.scenarios[0];
    assert!(s.failed_requests > 0);
    assert!(
        s.checks
            .iter()
            .any(|c| c.name.starts_with("steady on centralus") && !c.passed)
    );
    assert_eq!(status_of(&w, "eastus2"), "Enabled");
    assert_eq!(w.emu.writes().len(), 2);
}

fn infra_cmd() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_infra"));
    // From the fixtures directory, the default `catalogue.yaml` is the frozen fixture.
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .env_remove("AZURE_SUBSCRIPTION_ID")
        .env_remove("AZURE_RESOURCE_MANAGER_ENDPOINT")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_the_azure_drill_restores_the_endpoint() {
    let w = world(&["eastus2", "centralus"]).await;
    let mut cmd = infra_cmd();
    cmd.args([
        "drill",
        "--azure",
        "--arm-endpoint",
        &w.emu.base,
        "--subscription",
        SUB,
        "--time-scale",
        "0.5",
        "--dns-server",
        &w.dns.addr.to_string(),
        "--port",
        &w.port.to_string(),
    ])
    .env("AZURE_ACCESS_TOKEN", TOKEN)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while status_of(&w, "eastus2") != "Disabled" {
        assert!(
            Instant::now() < until,
            "the drill never disabled the endpoint"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits after Ctrl-C")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("restored"),
        "{stderr}"
    );
    assert_eq!(status_of(&w, "eastus2"), "Enabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infra_drill_local_writes_the_report_and_bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = infra_cmd()
        .args([
            "drill",
            "--local",
            "--scenario",
            "evacuate",
            "--time-scale",
            "0.05",
            "--rate",
            "40",
            "--out",
        ])
        .arg(dir.path())
        .arg("--service-bin")
        .arg(service_bin())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("evacuate") && stdout.contains("failed 0/"),
        "{stdout}"
    );
    assert!(
        stderr.contains("drill: evacuate t="),
        "progress lines: {stderr}"
    );
    for f in ["result.json", "report.md", "timeline.svg"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    for (args, needle) in [
        (vec!["drill"], "--local"),
        (vec!["drill", "--local", "--azure"], "cannot be used with"),
        (
            vec!["drill", "--local", "--time-scale", "7"],
            "--time-scale",
        ),
        (
            vec!["drill", "--local", "--scenario", "meteor"],
            "unknown scenario",
        ),
        (
            vec!["drill", "--local", "--service-bin", "no/such/bin"],
            "no/such/bin",
        ),
        (vec!["drill", "--azure", "--scenario", "loss"], "--scenario"),
        (
            vec!["--catalogue", "no-such.yaml", "drill", "--local"],
            "no-such.yaml",
        ),
    ] {
        let out = infra_cmd().args(&args).output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_the_local_drill_stops_every_region_process() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = infra_cmd()
        .args([
            "drill",
            "--local",
            "--scenario",
            "loss",
            "--time-scale",
            "0.5",
            "--out",
        ])
        .arg(dir.path())
        .arg("--service-bin")
        .arg(service_bin())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(l) = lines.next_line().await.unwrap() {
            if l.contains("region processes ready") {
                return;
            }
        }
        panic!("stderr closed before the regions were ready");
    });
    ready.await.expect("regions ready");
    // Where the regions listen, from their own logs.
    let mut addrs = vec![];
    for region in ["eastus2", "centralus"] {
        let log = std::fs::read_to_string(dir.path().join(format!("loss-{region}-0.log"))).unwrap();
        let line = log
            .lines()
            .find(|l| l.contains("\"listening\""))
            .expect("listening line");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let addr: SocketAddr = v["addr"].as_str().unwrap().parse().unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_ok(),
            "{region} serves"
        );
        addrs.push(addr);
    }
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits after Ctrl-C")
        .unwrap();
    let mut rest = String::new();
    while let Ok(Some(l)) = lines.next_line().await {
        rest.push_str(&l);
        rest.push('\n');
    }
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    // Nothing is left listening: the region processes went with the drill.
    let until = Instant::now() + Duration::from_secs(5);
    for addr in addrs {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            assert!(
                Instant::now() < until,
                "{addr} still serves after the drill stopped"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
