//! Family `catalogue/traffic-manager`: the health probe and failover timing.

use crate::model::{CatalogueSpec, MonitorProtocol};
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};

const FAMILY: &str = "catalogue/traffic-manager";

pub(super) const TM_PROBE_READINESS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "tm-probe-readiness",
        family: FAMILY,
        severity: Severity::Error,
        summary: "Traffic Manager probes the service's readiness path on the Service port over HTTP",
        why: "a probe on another path reports healthy while the app is not ready, so failover never triggers",
        fix: "use `protocol: HTTP`, `port:` = app.servicePort, and no `path` (it defaults to the readiness path)",
    },
    check: tm_probe_readiness,
};

fn tm_probe_readiness(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let m = &c.traffic_manager.monitor;
    if m.protocol != MonitorProtocol::Http {
        sink.report(
            "trafficManager.monitor.protocol",
            format!(
                "the service answers plain HTTP, the monitor uses {}",
                m.protocol
            ),
            "use `protocol: HTTP`",
        );
    }
    if m.port != c.app.service_port {
        sink.report(
            "trafficManager.monitor.port",
            format!(
                "monitor port {} is not the Service port {}",
                m.port, c.app.service_port
            ),
            format!("use `port: {}`", c.app.service_port),
        );
    }
    if let Some(path) = &m.path
        && *path != c.app.probes.readiness
    {
        sink.report(
            "trafficManager.monitor.path",
            format!(
                "monitor path `{}` is not the readiness path `{}`",
                shown(path),
                shown(&c.app.probes.readiness)
            ),
            "remove `path`: it defaults to app.probes.readiness",
        );
    }
}

pub(super) const TM_MONITOR_SETTINGS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "tm-monitor-settings",
        family: FAMILY,
        severity: Severity::Error,
        summary: "monitor interval, timeout, tolerated failures and TTL are values Traffic Manager accepts",
        why: "ARM rejects the profile otherwise",
        fix: "interval 10 or 30; timeout 5-9 (10 s interval) or 5-10 (30 s); toleratedFailures 0-9; ttl <= 2147483647",
    },
    check: tm_monitor_settings,
};

fn tm_monitor_settings(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let tm = &c.traffic_manager;
    let m = &tm.monitor;
    let max_timeout = match m.interval_seconds {
        30 => Some(10),
        10 => Some(9),
        _ => {
            sink.report(
                "trafficManager.monitor.intervalSeconds",
                format!("interval {}s is not offered", m.interval_seconds),
                "use 30 (standard) or 10 (fast probing)",
            );
            None
        }
    };
    if let Some(max) = max_timeout
        && !(5..=max).contains(&m.timeout_seconds)
    {
        sink.report(
            "trafficManager.monitor.timeoutSeconds",
            format!(
                "timeout {}s is out of range for a {}s interval",
                m.timeout_seconds, m.interval_seconds
            ),
            format!("use 5..={max}"),
        );
    }
    if m.tolerated_failures > 9 {
        sink.report(
            "trafficManager.monitor.toleratedFailures",
            format!("{} tolerated failures is more than 9", m.tolerated_failures),
            "use 0..=9",
        );
    }
    if i32::try_from(tm.ttl).is_err() {
        sink.report(
            "trafficManager.ttl",
            "TTL is larger than 2147483647",
            "use a TTL in seconds such as 30",
        );
    }
}

pub(super) const FAILOVER_RTO: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "failover-rto",
        family: FAMILY,
        severity: Severity::Error,
        summary: "worst-case failover (tolerated+1) x interval + timeout + TTL <= rtoSeconds",
        why: "users must see the real failover time before they rely on it",
        fix: "lower ttl, toleratedFailures or intervalSeconds, or accept a larger rtoSeconds",
    },
    check: failover_rto,
};

fn failover_rto(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let tm = &c.traffic_manager;
    let m = &tm.monitor;
    let worst = tm.worst_case_failover_seconds();
    if worst > u64::from(tm.rto_seconds) {
        sink.report(
            "trafficManager.rtoSeconds",
            format!(
                "worst-case failover is {worst}s = ({} + 1) x {}s + {}s timeout + {}s TTL, above the {}s RTO",
                m.tolerated_failures, m.interval_seconds, m.timeout_seconds, tm.ttl, tm.rto_seconds
            ),
            "lower ttl, toleratedFailures or intervalSeconds (10 = fast probing), or accept a larger rtoSeconds",
        );
    }
}
