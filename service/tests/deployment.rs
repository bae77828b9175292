//! The base Deployment must give the service enough time to drain:
//! `terminationGracePeriodSeconds > DRAIN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS`, read from
//! the container's env, and its literal env values must be a valid service configuration.

use std::path::Path;

use serde_json::Value;
use service::Config;
use service::server::{DEFAULT_MAX_CONNECTIONS, MAX_ACTIVE_CONNECTIONS, memory_bound};

fn deployments() -> Vec<Value> {
    deployments_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../base/deployment.yaml"))
}

fn deployments_in(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    let deps: Vec<Value> = docs
        .into_iter()
        .filter(|d| d["kind"] == "Deployment")
        .collect();
    assert!(!deps.is_empty(), "no Deployment in {}", path.display());
    deps
}

/// `name -> value` for env entries with a literal `value` (not `valueFrom`).
fn literal_env(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_owned(),
                e["value"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn seconds(env: &[(String, String)], name: &str, container: &str) -> f64 {
    let (_, v) = env
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("container {container} does not set {name}"));
    v.parse()
        .unwrap_or_else(|e| panic!("{name}={v:?} in container {container}: {e}"))
}

#[test]
fn grace_period_exceeds_drain_plus_shutdown_timeout() {
    for dep in deployments() {
        let spec = &dep["spec"]["template"]["spec"];
        let grace = spec["terminationGracePeriodSeconds"]
            .as_f64()
            .expect("terminationGracePeriodSeconds must be set (the default 30 s is implicit)");
        let containers = spec["containers"].as_array().expect("containers");
        for c in containers {
            let name = c["name"].as_str().unwrap_or("?");
            let env = literal_env(c);
            let drain = seconds(&env, "DRAIN_DELAY_SECONDS", name);
            let timeout = seconds(&env, "SHUTDOWN_TIMEOUT_SECONDS", name);
            assert!(
                grace > drain + timeout,
                "terminationGracePeriodSeconds {grace} must exceed DRAIN_DELAY_SECONDS {drain} \
                 + SHUTDOWN_TIMEOUT_SECONDS {timeout} (container {name})"
            );
        }
    }
}

#[test]
fn literal_env_is_a_valid_configuration_and_probes_match() {
    for dep in deployments() {
        for c in dep["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers")
        {
            let env = literal_env(c);
            let cfg = Config::from_vars(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .unwrap_or_else(|e| panic!("base/deployment.yaml env is rejected: {e}"));
            for (probe, path) in [
                ("readinessProbe", &cfg.probes.readiness),
                ("livenessProbe", &cfg.probes.liveness),
                ("startupProbe", &cfg.probes.startup),
            ] {
                assert_eq!(
                    c[probe]["httpGet"]["path"].as_str(),
                    Some(path.as_str()),
                    "{probe} path must match the service's configured path"
                );
            }
        }
    }
}

/// Bytes of a Kubernetes memory quantity (`64Mi`, `1Gi`, `128M`, `67108864`).
fn quantity_bytes(q: &str) -> u64 {
    let q = q.trim();
    let (num, mult) = [
        ("Ki", 1u64 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ]
    .iter()
    .find_map(|(suffix, m)| q.strip_suffix(suffix).map(|n| (n, *m)))
    .unwrap_or((q, 1));
    num.parse::<u64>()
        .unwrap_or_else(|e| panic!("memory quantity {q:?}: {e}"))
        * mult
}

/// The documented relation: with every connection slot taken (the default cap) and the
/// active ones at their limit, the service's memory (resident plus kernel socket memory,
/// both charged to the pod) stays at most 2/3 of the memory limit of the base Deployment
/// and of every rendered overlay. `tests/stress.rs` measures the per-connection figures the
/// bound is made of.
#[test]
fn default_connection_cap_fits_the_rendered_memory_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("base/deployment.yaml")];
    for region in std::fs::read_dir(root.join("overlays")).expect("overlays/") {
        let patch = region.expect("entry").path().join("patch-deployment.yaml");
        if patch.exists() {
            files.push(patch);
        }
    }
    assert!(files.len() > 1, "no rendered overlay found");
    let bound = memory_bound(DEFAULT_MAX_CONNECTIONS, MAX_ACTIVE_CONNECTIONS);
    let mut checked = 0;
    for file in &files {
        for dep in deployments_in(file) {
            for c in dep["spec"]["template"]["spec"]["containers"]
                .as_array()
                .expect("containers")
            {
                let Some(limit) = c["resources"]["limits"]["memory"].as_str() else {
                    continue;
                };
                let limit = quantity_bytes(limit);
                assert!(
                    bound * 3 <= limit * 2,
                    "{}: memory bound at the default cap {} B exceeds 2/3 of the limit {} B",
                    file.display(),
                    bound,
                    limit
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= files.len(), "every file sets a memory limit");
    assert_eq!(quantity_bytes("64Mi"), 64 << 20);
}
