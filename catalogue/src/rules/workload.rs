//! Family `catalogue/workload`: values that reach the container, its probes and the service.

use crate::model::CatalogueSpec;
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};

const FAMILY: &str = "catalogue/workload";

/// The service's own limits (service/src/config.rs): longest probe path, longest duration.
const SERVICE_MAX_PATH: usize = 253;
const SERVICE_MAX_SECONDS: u32 = 3600;

fn probes(c: &CatalogueSpec) -> [(&'static str, &str); 3] {
    let p = &c.app.probes;
    [
        ("readiness", p.readiness.as_str()),
        ("liveness", p.liveness.as_str()),
        ("startup", p.startup.as_str()),
    ]
}

pub(super) const PROBE_PATHS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "probe-paths",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the three probe paths are distinct and none is a route of the service",
        why: "a liveness probe that fails with readiness restarts pods that are only draining; the service refuses a probe path that shadows `/default` or `/metrics`",
        fix: "use `/readyz`, `/healthz` and `/startupz`",
    },
    check: probe_paths,
};

fn probe_paths(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (field, path) in probes(c) {
        if path == "/default" || path == "/metrics" {
            sink.report(
                format!("app.probes.{field}"),
                format!("`{path}` is a route of the service, not a probe"),
                "use a dedicated path such as `/readyz`",
            );
        }
    }
    let p = &c.app.probes;
    if p.liveness == p.readiness {
        sink.report(
            "app.probes.liveness",
            "liveness uses the readiness path",
            "give liveness its own path (`/healthz`): readiness fails on purpose while draining",
        );
    }
    if p.startup == p.readiness || p.startup == p.liveness {
        sink.report(
            "app.probes.startup",
            "startup shares a path with another probe",
            "give startup its own path (`/startupz`)",
        );
    }
}

pub(super) const PROBE_PATH_SYNTAX: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "probe-path-syntax",
        family: FAMILY,
        severity: Severity::Error,
        summary: "probe paths are paths the service accepts: `/`, then letters, digits, `/._~-`, no `//`, at most 253 characters",
        why: "the service refuses to start with any other path, so every pod crash-loops",
        fix: "use a plain path such as `/readyz`",
    },
    check: probe_path_syntax,
};

/// The grammar of `parse_path` in service/src/config.rs.
pub(super) fn service_accepts_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= SERVICE_MAX_PATH
        && !s.contains("//")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._~-".contains(&b))
}

fn probe_path_syntax(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let monitor = c.traffic_manager.monitor.path.as_deref();
    let all = probes(c)
        .into_iter()
        .map(|(f, p)| (format!("app.probes.{f}"), p))
        .chain(monitor.map(|p| ("trafficManager.monitor.path".to_string(), p)));
    for (field, path) in all {
        if !service_accepts_path(path) {
            let why = if !path.starts_with('/') {
                "does not start with `/`".to_string()
            } else if path.len() > SERVICE_MAX_PATH {
                format!("is {} characters, above {SERVICE_MAX_PATH}", path.len())
            } else if path.contains("//") {
                "contains `//`".to_string()
            } else {
                "has a character other than letters, digits and `/._~-`".to_string()
            };
            sink.report(
                field,
                format!("`{}` {why}: the service refuses it", shown(path)),
                "use a plain path such as `/readyz` (no query, no escapes, no `//`)",
            );
        }
    }
}

pub(super) const SHUTDOWN_BUDGET: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "shutdown-budget",
        family: FAMILY,
        severity: Severity::Error,
        summary: "terminationGracePeriodSeconds > drainSeconds + inFlightTimeoutSeconds, each phase at most 3600 s",
        why: "otherwise the kubelet kills pods mid-request during rollouts; the service refuses phases above an hour",
        fix: "keep drain and in-flight short (10 s each) and the grace period above their sum",
    },
    check: shutdown_budget,
};

fn shutdown_budget(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let s = &c.app.shutdown;
    for (field, v) in [
        ("drainSeconds", s.drain_seconds),
        ("inFlightTimeoutSeconds", s.in_flight_timeout_seconds),
    ] {
        if v > SERVICE_MAX_SECONDS {
            sink.report(
                format!("app.shutdown.{field}"),
                format!("{v}s is above the service's limit of {SERVICE_MAX_SECONDS}s"),
                "use at most 3600 (10 is typical)",
            );
        }
    }
    if u64::from(s.termination_grace_period_seconds)
        <= u64::from(s.drain_seconds) + u64::from(s.in_flight_timeout_seconds)
    {
        sink.report(
            "app.shutdown.terminationGracePeriodSeconds",
            format!(
                "grace period {}s is not more than drain {}s + in-flight {}s",
                s.termination_grace_period_seconds, s.drain_seconds, s.in_flight_timeout_seconds
            ),
            format!(
                "raise it to at least {}",
                u64::from(s.drain_seconds) + u64::from(s.in_flight_timeout_seconds) + 5
            ),
        );
    }
}

pub(super) const RESOURCE_QUANTITY: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "resource-quantity",
        family: FAMILY,
        severity: Severity::Error,
        summary: "CPU and memory values are non-negative Kubernetes quantities, and the memory request fits the limit",
        why: "the API server rejects the Deployment otherwise, and Flux stops applying the region",
        fix: "use quantities such as `100m`, `250m`, `32Mi`, `1Gi`, with memoryRequest <= memoryLimit",
    },
    check: resource_quantity,
};

/// The value of a Kubernetes quantity without sign (`100m`, `1.5Gi`, `1e3`), or `None`.
pub(super) fn quantity(s: &str) -> Option<f64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    // Digits and dots only, so f64's grammar is the quantity's: `1`, `1.`, `.5`, `1.5`
    // (it refuses ``, `.` and `1.5.5`).
    let n: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => {
            // An exponent: i32's grammar is the quantity's (`3`, `+3`, `-3`; not ``, `+`, `3x`).
            let exp = suffix.strip_prefix(['e', 'E'])?;
            10f64.powi(exp.parse::<i32>().ok()?)
        }
    };
    // `1e400` overflows: no API server stores that.
    Some(n * scale).filter(|v| v.is_finite())
}

fn resource_quantity(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let r = &c.app.resources;
    let mut values = Vec::new();
    for (field, v) in [
        ("cpuRequest", &r.cpu_request),
        ("memoryRequest", &r.memory_request),
        ("memoryLimit", &r.memory_limit),
    ] {
        match quantity(v) {
            Some(q) => values.push(q),
            None => sink.report(
                format!("app.resources.{field}"),
                format!("`{}` is not a Kubernetes quantity", shown(v)),
                "use a number with an optional suffix: `100m` (CPU), `32Mi`, `1Gi` (memory); no sign",
            ),
        }
    }
    if let [_, request, limit] = values[..]
        && request > limit
    {
        sink.report(
            "app.resources.memoryRequest",
            format!(
                "memory request {} is above the limit {}",
                r.memory_request, r.memory_limit
            ),
            "lower memoryRequest or raise memoryLimit",
        );
    }
}

pub(super) const PORT_RANGE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "port-range",
        family: FAMILY,
        severity: Severity::Error,
        summary: "container, Service and monitor ports are 1..=65535",
        why: "port 0 is no port: the API server rejects the Service and the probes, ARM the monitor",
        fix: "use `port: 8080` for the container and `servicePort: 80`",
    },
    check: port_range,
};

fn port_range(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (field, port) in [
        ("app.port", c.app.port),
        ("app.servicePort", c.app.service_port),
        (
            "trafficManager.monitor.port",
            c.traffic_manager.monitor.port,
        ),
    ] {
        if port == 0 {
            sink.report(field, "port 0 is not a port", "use 1..=65535");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_the_kubernetes_grammar() {
        assert_eq!(quantity("100m"), Some(0.1));
        assert_eq!(quantity("32Mi"), Some(32.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("1"), Some(1.0));
        assert_eq!(quantity("1.5"), Some(1.5));
        assert_eq!(quantity(".5"), Some(0.5));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("1E-3"), Some(0.001));
        assert_eq!(quantity("2k"), Some(2000.0));
        assert_eq!(quantity("1Gi"), Some(1024f64.powi(3)));
        assert_eq!(quantity("1."), Some(1.0));
        assert_eq!(quantity("1e+3"), Some(1000.0));
        // Every suffix with its own scale.
        for (suffix, scale) in [
            ("M", 1e6),
            ("G", 1e9),
            ("T", 1e12),
            ("P", 1e15),
            ("E", 1e18),
            ("Ki", 1024.0),
            ("Mi", 1024f64.powi(2)),
            ("Ti", 1024f64.powi(4)),
            ("Pi", 1024f64.powi(5)),
            ("Ei", 1024f64.powi(6)),
        ] {
            assert_eq!(
                quantity(&format!("2{suffix}")),
                Some(2.0 * scale),
                "{suffix}"
            );
        }
        for bad in [
            "",
            "banana",
            "-1",
            "+1",
            "1.5.5",
            ".",
            "..",
            "1x",
            "Mi",
            "1e",
            "1e+",
            "1e3x",
            "1ee3",
            "1 Mi",
            "1e99999999999",
            "1e400",
        ] {
            assert_eq!(quantity(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn probe_paths_follow_the_service() {
        assert!(service_accepts_path("/readyz") && service_accepts_path("/a/b.c_d~e-f"));
        let long = format!("/{}", "a".repeat(252));
        assert!(service_accepts_path(&long));
        assert!(!service_accepts_path(&format!("{long}a")));
        for bad in [
            "readyz", "/a!", "/a?b", "//a", "/a//b", "/a%20b", "/a b", "",
        ] {
            assert!(!service_accepts_path(bad), "{bad:?}");
        }
    }
}
