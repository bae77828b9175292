//! The base Deployment must give the service enough time to drain:
//! `terminationGracePeriodSeconds > DRAIN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS`, read from
//! the container's env, and its literal env values must be a valid service configuration.

use std::path::Path;

use serde_json::Value;
use service::Config;

fn deployments() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../base/deployment.yaml");
    let text = std::fs::read_to_string(&path)
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
