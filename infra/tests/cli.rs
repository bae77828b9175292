//! The real binary: bad input is refused before any request, with clear messages.

use crate::support;

use std::process::{Command, Output, Stdio};
use support::emulator::{Emulator, Fault, SUB, TOKEN};

fn infra(args: &[&str], env: &[(&str, &str)]) -> Output {
    infra_with(args, env, &support::catalogue_path())
}

fn infra_with(args: &[&str], env: &[(&str, &str)], catalogue: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_infra"));
    cmd.args(args)
        .arg("--catalogue")
        .arg(catalogue)
        .env_clear()
        .env("PATH", "/nonexistent")
        .env("INFRA_DISABLE_MANAGED_IDENTITY", "1")
        .env("INFRA_POLL_SCALE", "0.001")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run infra")
}

async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    run_with(args, env, support::catalogue_path()).await
}

async fn run_with(
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    catalogue: std::path::PathBuf,
) -> Output {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        infra_with(&a, &e, &catalogue)
    })
    .await
    .unwrap()
}

fn edited_catalogue(dir: &tempfile::TempDir, from: &str, to: &str) -> std::path::PathBuf {
    let text = support::catalogue_text();
    assert!(text.contains(from), "{from}");
    let path = dir.path().join("catalogue.yaml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("AZURE_ACCESS_TOKEN", TOKEN.to_string()),
        ("AZURE_SUBSCRIPTION_ID", SUB.to_string()),
        ("AZURE_RESOURCE_MANAGER_ENDPOINT", emu.base.clone()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_loopback_http_is_rejected_before_any_request() {
    let emu = Emulator::start().await;
    // `localhost.` resolves to the emulator, so a missing check would reach it.
    let url = format!("http://localhost.:{}", emu.addr.port());
    let mut env = ok_env(&emu);
    env[2].1 = url;
    let o = run(vec!["plan".into()], env).await;
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("plain http on a non-loopback host"), "{e}");
    assert!(emu.requests().is_empty());
    assert!(infra::arm::Endpoint::parse("http://10.0.0.4").is_err());
    assert!(infra::arm::Endpoint::parse("ftp://127.0.0.1").is_err());
    assert!(infra::arm::Endpoint::parse("http://[::1]:8080").is_ok());
    assert!(infra::arm::Endpoint::parse("http://localhost:1").is_ok());
    assert!(infra::arm::Endpoint::parse("https://management.azure.com").is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_subscription_is_a_clear_error() {
    let emu = Emulator::start().await;
    let env: Vec<_> = ok_env(&emu)
        .into_iter()
        .filter(|(k, _)| *k != "AZURE_SUBSCRIPTION_ID")
        .collect();
    let o = run(vec!["plan".into()], env).await;
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no subscription given")
            && stderr(&o).contains("AZURE_SUBSCRIPTION_ID"),
        "{}",
        stderr(&o)
    );
    let mut env = ok_env(&emu);
    env[1].1 = "not-a-guid".into();
    let o = run(vec!["plan".into()], env).await;
    assert!(
        stderr(&o).contains("is not a subscription id"),
        "{}",
        stderr(&o)
    );
    assert!(emu.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_and_no_credential_is_a_clear_error_without_secrets() {
    let emu = Emulator::start().await;
    let secret = "s3cr3t-value-never-printed";
    let env = vec![
        ("AZURE_SUBSCRIPTION_ID", SUB.to_string()),
        ("AZURE_RESOURCE_MANAGER_ENDPOINT", emu.base.clone()),
        ("AZURE_CLIENT_SECRET", secret.to_string()),
    ];
    let o = run(vec!["plan".into()], env).await;
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("no Azure credential is available"), "{e}");
    assert!(
        e.contains("az login") && e.contains("AZURE_ACCESS_TOKEN"),
        "{e}"
    );
    assert!(!e.contains(secret) && !String::from_utf8_lossy(&o.stdout).contains(secret));
    assert!(emu.requests().is_empty());
    // And a token never shows in Debug output.
    let client = support::client(&emu);
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_without_a_terminal_and_without_yes_refuses() {
    let emu = Emulator::start().await;
    let o = run(vec!["bootstrap".into()], ok_env(&emu)).await;
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("stdin is not a terminal") && e.contains("--yes"),
        "{e}"
    );
    assert!(emu.requests().is_empty(), "nothing read or written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_bootstrap_status_through_the_binary() {
    let emu = Emulator::start().await;
    let o = run(
        vec!["plan".into(), "--format".into(), "json".into()],
        ok_env(&emu),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("plan JSON");
    assert_eq!(v["items"].as_array().unwrap().len(), 21);
    assert_eq!(v["items"][0]["action"], "create");
    assert_eq!(v["worstCaseFailoverSeconds"], 65);
    assert!(emu.writes().is_empty());

    let o = run(vec!["bootstrap".into(), "--yes".into()], ok_env(&emu)).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Applied: 21 created") && out.contains("worst-case failover"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("[centralus] AKS cluster aks-centralus: creating"),
        "progress on stderr"
    );

    let o = run(
        vec!["status".into(), "--format".into(), "json".into()],
        ok_env(&emu),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["state"] == "Succeeded"), "{items:?}");
    let flux = items
        .iter()
        .find(|i| i["key"] == "eastus2/flux-config")
        .unwrap();
    assert_eq!(flux["compliance"], "Compliant");
    let ep = items
        .iter()
        .find(|i| i["key"] == "centralus/tm-endpoint")
        .unwrap();
    assert_eq!(ep["monitor"], "Online");

    let o = run(vec!["bootstrap".into(), "--yes".into()], ok_env(&emu)).await;
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("Nothing to do"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_operation_exits_non_zero_with_code_and_correlation_id() {
    let emu = Emulator::start().await;
    emu.fault(Fault::fail_operation(
        "/managedclusters/aks-centralus",
        "QuotaExceeded",
        "cores quota",
    ));
    let o = run(vec!["bootstrap".into(), "--yes".into()], ok_env(&emu)).await;
    assert_eq!(o.status.code(), Some(1), "a failed step: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("QuotaExceeded: cores quota") && e.contains("correlation id: corr-"),
        "{e}"
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("resumes"),
        "tells how to resume"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_catalogue_is_refused_with_its_location_and_no_request() {
    let emu = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Two regions with the same Traffic Manager priority (a catalogue rule), and, separately,
    // a schema error (a field that does not exist).
    for (from, to, what) in [
        ("    priority: 2\n", "    priority: 1\n", "priority"),
        ("  ttl: 30\n", "  ttl: 30\n  ttlSeconds: 30\n", "ttlSeconds"),
    ] {
        let path = edited_catalogue(&dir, from, to);
        for args in [vec!["plan"], vec!["bootstrap", "--yes"], vec!["status"]] {
            let o = run_with(
                args.iter().map(|s| s.to_string()).collect(),
                ok_env(&emu),
                path.clone(),
            )
            .await;
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let e = stderr(&o);
            let located = format!("{}:", path.display());
            assert!(
                e.contains("the catalogue is not valid; nothing was sent to Azure")
                    && e.contains(&located)
                    && e.contains("error[")
                    && e.contains(what)
                    && e.contains("help:"),
                "{args:?}: {e}"
            );
            // file:line:column
            let after = &e[e.find(&located).unwrap() + located.len()..];
            assert!(
                after.split(':').next().unwrap().parse::<u32>().is_ok(),
                "no line number: {e}"
            );
        }
    }
    assert!(emu.requests().is_empty(), "no request at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_plan_exits_1_and_bootstrap_writes_nothing() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &support::catalogue()).await;
    assert!(report.ok());
    emu.clear_requests();
    let dir = tempfile::tempdir().unwrap();
    let path = edited_catalogue(&dir, "  dnsName: contoso-ha\n", "  dnsName: contoso-ha2\n");
    let o = run_with(vec!["plan".into()], ok_env(&emu), path.clone()).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("BLOCKED")
            && out.contains(r#"Azure has "contoso-ha", catalogue wants "contoso-ha2""#),
        "{out}"
    );
    let o = run_with(vec!["bootstrap".into(), "--yes".into()], ok_env(&emu), path).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Traffic Manager profile contoso-ha")
            && stderr(&o).contains("nothing was written"),
        "{}",
        stderr(&o)
    );
    assert!(emu.writes().is_empty());
    assert!(!emu.requests().is_empty(), "it did read (the plan)");
}

#[test]
fn help_explains_auth_and_exit_codes() {
    let o = infra(&["--help"], &[]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "AZURE_ACCESS_TOKEN",
        "az login",
        "Exit codes (all commands):",
        "1  a check found problems",
        "2  usage or input error",
        "--connect-timeout",
        "--step-deadline",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_RESOURCE_MANAGER_ENDPOINT",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let o = infra(&["plan", "--help"], &[]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("json"));
}

/// The exit-code scheme, each case through the binary: 0 ok, 1 a check found problems,
/// 2 usage or input error (here: an unknown flag and a bad flag value).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_the_scheme() {
    let emu = Emulator::start().await;
    for args in [
        vec!["plan", "--bogus"],
        vec!["status", "--format", "yaml"],
        vec!["frobnicate"],
    ] {
        let o = run(args.iter().map(|s| s.to_string()).collect(), ok_env(&emu)).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    assert!(emu.requests().is_empty(), "usage errors send nothing");
    // Nothing exists yet: status finds problems (1); plan has nothing blocked (0).
    let o = run(vec!["status".into()], ok_env(&emu)).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(vec!["plan".into()], ok_env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(vec!["bootstrap".into(), "--yes".into()], ok_env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(vec!["status".into()], ok_env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_through_the_binary_plan_bootstrap_status() {
    let emu = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalogue.yaml");
    std::fs::write(
        &path,
        format!(
            "{}\nmonitoring:\n  resourceGroup: rg-ha-monitoring\n  workspace: amw-contoso-ha\n  objectives:\n    availabilityPercent: 99.9\n    latencyP99Milliseconds: 300\n  receivers:\n    emails: [oncall@example.com]\n",
            support::catalogue_text()
        ),
    )
    .unwrap();
    let o = run_with(vec!["plan".into()], ok_env(&emu), path.clone()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "[global] Azure Monitor workspace amw-contoso-ha: create",
        "[global] action group hello-alerts: create",
        "[global] metric alert contoso-ha-failover: create",
        "[eastus2] data collection rule association aks-eastus2/MSProm-eastus2-aks-eastus2: create",
        "[centralus] Prometheus rule group centralus-alerts: create",
        "note: regionalEndpoints is a preview property",
    ] {
        assert!(out.contains(want), "missing `{want}`:\n{out}");
    }
    let o = run_with(
        vec!["bootstrap".into(), "--yes".into()],
        ok_env(&emu),
        path.clone(),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_with(vec!["status".into()], ok_env(&emu), path.clone()).await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[global] metric alert contoso-ha-failover: Succeeded"),
        "{out}"
    );
    assert!(!out.contains("differs from the catalogue"), "{out}");
    emu.clear_requests();
    let o = run_with(vec!["bootstrap".into(), "--yes".into()], ok_env(&emu), path).await;
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("Nothing to do"));
    assert!(emu.writes().is_empty());
}
