//! Catalogue invariants. Each has a stable id (used in messages, docs, `--format json|sarif`),
//! the reason it exists, and a finding that names the field and how to fix it.

use crate::model::{Catalogue, MonitorProtocol, PoolMode, RegistrySku};
use crate::regions::{is_known_region, suggest_region};
use std::collections::HashMap;

/// A broken invariant, located by field path (`regions[1].priority`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub path: String,
    pub message: String,
    pub help: String,
}

/// Every catalogue rule: id, what it checks, why.
pub const RULES: &[(&str, &str, &str)] = &[
    (
        "region-known",
        "region names are real Azure region ids",
        "a typo renders a cluster nobody can create",
    ),
    (
        "region-unique",
        "each region is listed once",
        "two overlays and two clusters would fight over one name",
    ),
    (
        "priority-range",
        "Traffic Manager priorities are integers 1..=1000",
        "Traffic Manager rejects other values",
    ),
    (
        "priority-unique",
        "one priority per region",
        "Traffic Manager rejects duplicate priorities; priority routing needs an order",
    ),
    (
        "priority-primary",
        "priority 1 exists",
        "without it no region is the primary",
    ),
    (
        "zones-redundant",
        "each region has >= 2 distinct zones (1-3), or says `nonZonal: true`",
        "a silent single-zone region is a hidden single point of failure",
    ),
    (
        "replicas-zone-multiple",
        "min replicas >= number of zones and a multiple of it",
        "fewer replicas than zones leaves a zone empty; an uneven count skews load after a zone loss",
    ),
    (
        "replicas-bounds",
        "1 <= min replicas <= max replicas",
        "the HPA needs a valid range",
    ),
    (
        "pdb-allows-disruption",
        "the PodDisruptionBudget allows at least one disruption at min replicas",
        "a PDB with no allowed disruption blocks node drains and AKS upgrades",
    ),
    (
        "failover-capacity",
        "the other regions' max replicas can absorb the primary's min replicas (x takeoverRatio)",
        "failover to a region that cannot carry the load is an outage with extra steps",
    ),
    (
        "image-immutable",
        "the image is pinned by a version tag or a sha256 digest, never `latest`",
        "a moving tag makes rollbacks and PR diffs meaningless",
    ),
    (
        "registry-premium",
        "the registry is Premium when geo-replication or zone redundancy is asked for",
        "ARM refuses replication and zone redundancy on Basic and Standard",
    ),
    (
        "tm-probe-readiness",
        "Traffic Manager probes the service's readiness path on the Service port over HTTP",
        "a probe on another path reports healthy while the app is not ready, so failover never triggers",
    ),
    (
        "tm-monitor-settings",
        "monitor interval, timeout, tolerated failures and TTL are values Traffic Manager accepts",
        "ARM rejects the profile otherwise",
    ),
    (
        "failover-rto",
        "worst-case failover (tolerated+1) x interval + timeout + TTL <= rtoSeconds",
        "users must see the real failover time before they rely on it",
    ),
    (
        "probe-paths",
        "probe paths start with `/`, are distinct, and liveness differs from readiness",
        "a liveness probe that fails with readiness restarts pods that are only draining",
    ),
    (
        "shutdown-budget",
        "terminationGracePeriodSeconds > drainSeconds + inFlightTimeoutSeconds",
        "otherwise the kubelet kills pods mid-request during rollouts",
    ),
    (
        "name-format",
        "names fit Azure and Kubernetes naming rules",
        "ARM and the API server reject them otherwise",
    ),
    (
        "node-pools",
        "one System pool at least; autoscaling bounds are both set and contain count",
        "AKS needs a System pool; the autoscaler rejects counts outside its bounds",
    ),
    (
        "rotation-some-enabled",
        "at least one region stays in Traffic Manager rotation (`inRotation` not false everywhere)",
        "a profile whose endpoints are all Disabled answers no DNS query: a total outage",
    ),
    (
        "gitops-source",
        "the GitOps repo is an https or ssh URL and the branch is set",
        "Flux cannot pull from anything else",
    ),
];

pub fn check(c: &Catalogue) -> Vec<Finding> {
    let mut f = Findings::default();
    check_app(c, &mut f);
    check_registry(c, &mut f);
    check_traffic_manager(c, &mut f);
    check_gitops(c, &mut f);
    check_regions(c, &mut f);
    f.0
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        rule: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        debug_assert!(
            RULES.iter().any(|r| r.0 == rule),
            "undocumented rule {rule}"
        );
        self.0.push(Finding {
            rule,
            path: path.into(),
            message: message.into(),
            help: help.into(),
        });
    }
}

fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_azure_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.()".contains(&b))
        && !s.ends_with('.')
}

fn check_app(c: &Catalogue, f: &mut Findings) {
    let app = &c.app;
    if !is_dns_label(&app.name, 53) {
        f.add(
            "name-format",
            "app.name",
            format!("`{}` is not a Kubernetes name", app.name),
            "use lowercase letters, digits and `-`, at most 53 characters",
        );
    }
    if !is_dns_label(app.namespace(), 63) {
        f.add(
            "name-format",
            "app.namespace",
            format!("`{}` is not a namespace name", app.namespace()),
            "use lowercase letters, digits and `-`, at most 63 characters",
        );
    }
    let repo_ok = !app.image.is_empty()
        && app.image.split('/').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if !repo_ok {
        f.add("name-format", "app.image", format!("`{}` is not an image repository name", app.image), "use a repository path inside the registry, e.g. `hello` or `team/hello` (no registry host, no tag)");
    }
    match (&app.tag, &app.digest) {
        (Some(_), Some(_)) => f.add(
            "image-immutable",
            "app.digest",
            "both `tag` and `digest` are set",
            "keep one: the digest pins the image exactly",
        ),
        (None, None) => f.add(
            "image-immutable",
            "app",
            "the image has neither `tag` nor `digest`",
            "add `tag: \"1.0.0\"` or `digest: sha256:<64 hex>`",
        ),
        (Some(tag), None) => {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                && !tag.starts_with(['.', '-']);
            if !valid {
                f.add(
                    "image-immutable",
                    "app.tag",
                    format!("`{tag}` is not a valid image tag"),
                    "use letters, digits, `.`, `_`, `-` (at most 128), e.g. `1.4.2`",
                );
            } else if !tag.bytes().any(|b| b.is_ascii_digit())
                || ["latest", "stable", "main", "master", "dev"]
                    .contains(&tag.to_ascii_lowercase().as_str())
            {
                f.add(
                    "image-immutable",
                    "app.tag",
                    format!("tag `{tag}` moves: it does not pin a build"),
                    "use a version (`1.4.2`), a commit tag (`sha-1a2b3c4`) or a `digest`",
                );
            }
        }
        (None, Some(d)) => {
            let hex = d.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64
                || !hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                f.add(
                    "image-immutable",
                    "app.digest",
                    format!("`{d}` is not a sha256 digest"),
                    "use `sha256:` followed by 64 lowercase hex digits",
                );
            }
        }
    }
    let p = &app.probes;
    for (field, path) in [
        ("readiness", &p.readiness),
        ("liveness", &p.liveness),
        ("startup", &p.startup),
    ] {
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            f.add(
                "probe-paths",
                format!("app.probes.{field}"),
                format!("`{path}` is not an absolute URL path"),
                "start it with `/`, e.g. `/readyz`",
            );
        } else if path == "/default" || path == "/metrics" {
            f.add(
                "probe-paths",
                format!("app.probes.{field}"),
                format!("`{path}` is a route of the service, not a probe"),
                "use a dedicated path such as `/readyz`",
            );
        }
    }
    if p.liveness == p.readiness {
        f.add(
            "probe-paths",
            "app.probes.liveness",
            "liveness uses the readiness path",
            "give liveness its own path (`/healthz`): readiness fails on purpose while draining",
        );
    }
    if p.startup == p.readiness || p.startup == p.liveness {
        f.add(
            "probe-paths",
            "app.probes.startup",
            "startup shares a path with another probe",
            "give startup its own path (`/startupz`)",
        );
    }
    let s = &app.shutdown;
    if u64::from(s.termination_grace_period_seconds)
        <= u64::from(s.drain_seconds) + u64::from(s.in_flight_timeout_seconds)
    {
        f.add(
            "shutdown-budget",
            "app.shutdown.terminationGracePeriodSeconds",
            format!(
                "grace period {}s is not more than drain {}s + in-flight {}s",
                s.termination_grace_period_seconds, s.drain_seconds, s.in_flight_timeout_seconds
            ),
            format!(
                "raise it to at least {}",
                s.drain_seconds + s.in_flight_timeout_seconds + 5
            ),
        );
    }
    if !(1..=100).contains(&app.target_cpu_utilization) {
        f.add(
            "replicas-bounds",
            "app.targetCpuUtilization",
            format!("{} is not a percentage", app.target_cpu_utilization),
            "use 1..=100, e.g. 70",
        );
    }
    let d = &app.disruption;
    if d.max_unavailable.is_some() == d.min_available.is_some() {
        f.add(
            "pdb-allows-disruption",
            "app.disruption",
            "set exactly one of `maxUnavailable` and `minAvailable`",
            "use `maxUnavailable: 1`",
        );
    } else if d.max_unavailable == Some(0) {
        f.add(
            "pdb-allows-disruption",
            "app.disruption.maxUnavailable",
            "maxUnavailable 0 allows no disruption",
            "use `maxUnavailable: 1`",
        );
    }
}

fn check_registry(c: &Catalogue, f: &mut Findings) {
    let r = &c.registry;
    if !(5..=50).contains(&r.name.len()) || !r.name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        f.add(
            "name-format",
            "registry.name",
            format!("`{}` is not a valid ACR name", r.name),
            "use 5-50 letters and digits (no `-`)",
        );
    }
    if !is_known_region(&r.home) {
        f.add(
            "region-known",
            "registry.home",
            format!("`{}` is not an Azure region id", r.home),
            hint(&r.home),
        );
    }
    if !is_azure_name(&r.resource_group, 90) {
        f.add(
            "name-format",
            "registry.resourceGroup",
            format!("`{}` is not a resource group name", r.resource_group),
            "use letters, digits, `-_.()`, at most 90",
        );
    }
    let replicated = c.regions.iter().any(|reg| reg.name != r.home);
    if r.sku != RegistrySku::Premium && (replicated || r.zone_redundancy) {
        let why = if replicated {
            "geo-replication to the other regions"
        } else {
            "zone redundancy"
        };
        f.add(
            "registry-premium",
            "registry.sku",
            format!("{:?} does not support {why}", r.sku),
            "use `sku: Premium`",
        );
    }
}

fn check_traffic_manager(c: &Catalogue, f: &mut Findings) {
    let tm = &c.traffic_manager;
    let m = &tm.monitor;
    if !is_dns_label(&tm.dns_name, 63) {
        f.add(
            "name-format",
            "trafficManager.dnsName",
            format!("`{}` is not a DNS label", tm.dns_name),
            "use lowercase letters, digits and `-`",
        );
    }
    if !is_azure_name(&tm.profile, 63) {
        f.add(
            "name-format",
            "trafficManager.profile",
            format!("`{}` is not a profile name", tm.profile),
            "use letters, digits, `-_.`, at most 63",
        );
    }
    if !is_azure_name(&tm.resource_group, 90) {
        f.add(
            "name-format",
            "trafficManager.resourceGroup",
            format!("`{}` is not a resource group name", tm.resource_group),
            "use letters, digits, `-_.()`, at most 90",
        );
    }
    if m.protocol != MonitorProtocol::Http {
        f.add(
            "tm-probe-readiness",
            "trafficManager.monitor.protocol",
            format!(
                "the service answers plain HTTP, the monitor uses {}",
                m.protocol
            ),
            "use `protocol: HTTP`",
        );
    }
    if m.port != c.app.service_port {
        f.add(
            "tm-probe-readiness",
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
        f.add(
            "tm-probe-readiness",
            "trafficManager.monitor.path",
            format!(
                "monitor path `{path}` is not the readiness path `{}`",
                c.app.probes.readiness
            ),
            "remove `path`: it defaults to app.probes.readiness",
        );
    }
    let timeout_ok = match m.interval_seconds {
        30 => (5..=10).contains(&m.timeout_seconds),
        10 => (5..=9).contains(&m.timeout_seconds),
        _ => {
            f.add(
                "tm-monitor-settings",
                "trafficManager.monitor.intervalSeconds",
                format!("interval {}s is not offered", m.interval_seconds),
                "use 30 (standard) or 10 (fast probing)",
            );
            true
        }
    };
    if !timeout_ok {
        let max = if m.interval_seconds == 30 { 10 } else { 9 };
        f.add(
            "tm-monitor-settings",
            "trafficManager.monitor.timeoutSeconds",
            format!(
                "timeout {}s is out of range for a {}s interval",
                m.timeout_seconds, m.interval_seconds
            ),
            format!("use 5..={max}"),
        );
    }
    if m.tolerated_failures > 9 {
        f.add(
            "tm-monitor-settings",
            "trafficManager.monitor.toleratedFailures",
            format!("{} tolerated failures is more than 9", m.tolerated_failures),
            "use 0..=9",
        );
    }
    if i32::try_from(tm.ttl).is_err() {
        f.add(
            "tm-monitor-settings",
            "trafficManager.ttl",
            "TTL is larger than 2147483647",
            "use a TTL in seconds such as 30",
        );
    }
    let worst = tm.worst_case_failover_seconds();
    if worst > u64::from(tm.rto_seconds) {
        f.add("failover-rto", "trafficManager.rtoSeconds",
            format!("worst-case failover is {worst}s = ({} + 1) x {}s + {}s timeout + {}s TTL, above the {}s RTO", m.tolerated_failures, m.interval_seconds, m.timeout_seconds, tm.ttl, tm.rto_seconds),
            "lower ttl, toleratedFailures or intervalSeconds (10 = fast probing), or accept a larger rtoSeconds");
    }
    if !(tm.takeover_ratio > 0.0 && tm.takeover_ratio <= 1.0) {
        f.add(
            "failover-capacity",
            "trafficManager.takeoverRatio",
            format!("{} is not in (0, 1]", tm.takeover_ratio),
            "use 1.0 (the others carry all of the primary's load) or a smaller share",
        );
    }
}

fn check_gitops(c: &Catalogue, f: &mut Findings) {
    let g = &c.gitops;
    // https without credentials in the URL, or ssh; credentials belong in the cluster.
    let url_ok = !g.repo.contains(char::is_whitespace)
        && match g.repo.strip_prefix("https://") {
            Some(rest) => rest.contains('/') && !rest.split('/').next().unwrap_or("").contains('@'),
            None => g.repo.starts_with("ssh://") || g.repo.starts_with("git@"),
        };
    if !url_ok {
        f.add("gitops-source", "gitops.repo", format!("`{}` is not an https or ssh repository URL without credentials", g.repo), "use e.g. `https://github.com/contoso/ha-gitops`; credentials belong in the cluster, never in the catalogue");
    }
    if g.branch.trim().is_empty() || g.branch.contains(char::is_whitespace) {
        f.add(
            "gitops-source",
            "gitops.branch",
            "the branch is empty or has spaces",
            "use the branch the clusters follow, e.g. `main`",
        );
    }
    for (field, name) in [("sourceName", &g.source_name), ("namespace", &g.namespace)] {
        if !is_dns_label(name, 63) {
            f.add(
                "name-format",
                format!("gitops.{field}"),
                format!("`{name}` is not a Kubernetes name"),
                "use lowercase letters, digits and `-`",
            );
        }
    }
    for (field, v) in [
        ("sourceIntervalSeconds", g.source_interval_seconds),
        (
            "kustomizationIntervalSeconds",
            g.kustomization_interval_seconds,
        ),
        ("timeoutSeconds", g.timeout_seconds),
    ] {
        if v == 0 {
            f.add(
                "gitops-source",
                format!("gitops.{field}"),
                "0 seconds",
                "use a positive number of seconds",
            );
        }
    }
}

fn hint(region: &str) -> String {
    match suggest_region(region) {
        Some(s) => format!(
            "did you mean `{s}`? Region ids are lowercase without spaces (`az account list-locations -o table`)"
        ),
        None => "use a region id such as `eastus2` (`az account list-locations -o table`)".into(),
    }
}

fn check_regions(c: &Catalogue, f: &mut Findings) {
    if c.regions.is_empty() {
        f.add(
            "priority-primary",
            "regions",
            "no regions",
            "add at least one region with `priority: 1`",
        );
        return;
    }
    if c.regions.iter().all(|r| !r.in_rotation) {
        f.add(
            "rotation-some-enabled",
            "regions[0].inRotation",
            "every region has `inRotation: false`: Traffic Manager would answer no query",
            "set `inRotation: true` on at least one region (normally all but the one under maintenance)",
        );
    }
    let mut seen_name: HashMap<&str, usize> = HashMap::new();
    let mut seen_priority: HashMap<u32, usize> = HashMap::new();
    for (i, r) in c.regions.iter().enumerate() {
        let at = |field: &str| format!("regions[{i}].{field}");
        if !is_known_region(&r.name) {
            f.add(
                "region-known",
                at("name"),
                format!("`{}` is not an Azure region id", r.name),
                hint(&r.name),
            );
        }
        if let Some(first) = seen_name.insert(&r.name, i) {
            f.add(
                "region-unique",
                at("name"),
                format!(
                    "region `{}` is listed twice (also regions[{first}])",
                    r.name
                ),
                "keep one entry per region",
            );
        }
        if !(1..=1000).contains(&r.priority) {
            f.add(
                "priority-range",
                at("priority"),
                format!("priority {} is outside 1..=1000", r.priority),
                "use 1 for the primary, 2, 3, ... for the others",
            );
        } else if let Some(first) = seen_priority.insert(r.priority, i) {
            f.add(
                "priority-unique",
                at("priority"),
                format!(
                    "priority {} is also used by regions[{first}] ({})",
                    r.priority, c.regions[first].name
                ),
                "give every region its own priority",
            );
        }
        // zones
        let mut zones = r.zones.clone();
        zones.sort_unstable();
        zones.dedup();
        if zones.len() != r.zones.len() {
            f.add(
                "zones-redundant",
                at("zones"),
                "a zone is listed twice",
                "list each zone once, e.g. [1, 2, 3]",
            );
        }
        if let Some(z) = r.zones.iter().find(|z| !(1..=3).contains(*z)) {
            f.add(
                "zones-redundant",
                at("zones"),
                format!("zone {z} does not exist"),
                "Azure zones are 1, 2 and 3",
            );
        }
        if r.non_zonal && !r.zones.is_empty() {
            f.add(
                "zones-redundant",
                at("nonZonal"),
                "`nonZonal: true` but zones are listed",
                "remove one of the two",
            );
        } else if !r.non_zonal && zones.len() < 2 {
            f.add("zones-redundant", at("zones"), format!("{} has {} availability zone(s)", r.name, zones.len()), "list at least two zones, e.g. [1, 2, 3], or set `nonZonal: true` for a region without zones");
        }
        // replicas
        let zone_count = u32::try_from(zones.len()).unwrap_or(u32::MAX).max(1);
        if r.replicas.min == 0 || r.replicas.max < r.replicas.min {
            f.add(
                "replicas-bounds",
                at("replicas"),
                format!(
                    "min {} / max {} is not a valid range",
                    r.replicas.min, r.replicas.max
                ),
                "use 1 <= min <= max",
            );
        }
        if !r.non_zonal && (r.replicas.min < zone_count || r.replicas.min % zone_count != 0) {
            let fix = r.replicas.min.div_ceil(zone_count).max(1) * zone_count;
            f.add(
                "replicas-zone-multiple",
                at("replicas.min"),
                format!(
                    "min replicas {} does not spread evenly over {} zones",
                    r.replicas.min, zone_count
                ),
                format!("use {fix}"),
            );
        }
        let d = &c.app.disruption;
        if let Some(min_available) = d.min_available
            && min_available >= r.replicas.min
        {
            f.add(
                "pdb-allows-disruption",
                at("replicas.min"),
                format!(
                    "PDB minAvailable {min_available} leaves no disruption at {} replicas",
                    r.replicas.min
                ),
                format!(
                    "use app.disruption.maxUnavailable: 1, or minAvailable below {}",
                    r.replicas.min
                ),
            );
        }
        // cluster and names
        let cl = &r.cluster;
        let cluster_name_ok = !cl.name.is_empty()
            && cl.name.len() <= 63
            && cl
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && cl.name.as_bytes()[0].is_ascii_alphanumeric();
        if !cluster_name_ok {
            f.add(
                "name-format",
                at("cluster.name"),
                format!("`{}` is not an AKS cluster name", cl.name),
                "use 1-63 letters, digits, `-`, `_`, starting with a letter or digit",
            );
        }
        if !is_azure_name(&cl.resource_group, 90) {
            f.add(
                "name-format",
                at("cluster.resourceGroup"),
                format!("`{}` is not a resource group name", cl.resource_group),
                "use letters, digits, `-_.()`, at most 90",
            );
        }
        let prefix = cl.dns_prefix();
        if prefix.is_empty()
            || prefix.len() > 54
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            f.add(
                "name-format",
                at("cluster.dnsPrefix"),
                format!("`{prefix}` is not a DNS prefix"),
                "use 1-54 letters, digits and `-`",
            );
        }
        let v = &cl.kubernetes_version;
        if v.split('.').count() < 2
            || !v
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            f.add(
                "name-format",
                at("cluster.kubernetesVersion"),
                format!("`{v}` is not a Kubernetes version"),
                "use e.g. \"1.33\" (quoted)",
            );
        }
        if !cl.node_pools.iter().any(|p| p.mode == PoolMode::System) {
            f.add(
                "node-pools",
                at("cluster.nodePools"),
                "no System node pool",
                "add a pool with `mode: System`",
            );
        }
        let mut pool_names: HashMap<&str, ()> = HashMap::new();
        for (j, p) in cl.node_pools.iter().enumerate() {
            let pat = format!("regions[{i}].cluster.nodePools[{j}]");
            let name_ok = (1..=12).contains(&p.name.len())
                && p.name.as_bytes()[0].is_ascii_lowercase()
                && p.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !name_ok {
                f.add(
                    "name-format",
                    format!("{pat}.name"),
                    format!("`{}` is not a node pool name", p.name),
                    "use 1-12 lowercase letters and digits, starting with a letter",
                );
            }
            if pool_names.insert(&p.name, ()).is_some() {
                f.add(
                    "node-pools",
                    format!("{pat}.name"),
                    format!("pool `{}` is listed twice", p.name),
                    "give each pool its own name",
                );
            }
            match (p.min_count, p.max_count) {
                (None, None) => {}
                (Some(lo), Some(hi)) if lo <= p.count && p.count <= hi => {}
                (Some(lo), Some(hi)) => f.add(
                    "node-pools",
                    format!("{pat}.count"),
                    format!(
                        "count {} is outside minCount {lo} .. maxCount {hi}",
                        p.count
                    ),
                    "keep minCount <= count <= maxCount",
                ),
                _ => f.add(
                    "node-pools",
                    pat.clone(),
                    "only one of minCount and maxCount is set",
                    "set both to autoscale, or neither",
                ),
            }
            if p.count == 0 {
                f.add(
                    "node-pools",
                    format!("{pat}.count"),
                    "a pool of 0 nodes",
                    "use at least 1 node (3 across 3 zones for zone spread)",
                );
            }
        }
        if !is_azure_name(&r.public_ip.name, 80) {
            f.add(
                "name-format",
                at("publicIp.name"),
                format!("`{}` is not a public IP name", r.public_ip.name),
                "use letters, digits, `-_.`, at most 80",
            );
        }
        let label = &r.public_ip.dns_label;
        if !is_dns_label(label, 63) || !label.as_bytes()[0].is_ascii_lowercase() {
            f.add(
                "name-format",
                at("publicIp.dnsLabel"),
                format!("`{label}` is not a DNS label"),
                "use lowercase letters, digits and `-`, starting with a letter",
            );
        }
    }
    if !c.regions.iter().any(|r| r.priority == 1) {
        f.add(
            "priority-primary",
            "regions",
            "no region has priority 1",
            "give the primary region `priority: 1`",
        );
    }
    // failover capacity: the others together must carry the primary's floor.
    // Only meaningful with exactly one primary; duplicates are reported above.
    let primaries = c.regions.iter().filter(|r| r.priority == 1).count();
    if c.regions.len() > 1
        && primaries == 1
        && let Some((i, primary)) = c.regions.iter().enumerate().find(|(_, r)| r.priority == 1)
    {
        let others: u64 = c
            .regions
            .iter()
            .filter(|r| r.priority != 1)
            .map(|r| u64::from(r.replicas.max))
            .sum();
        let need = (f64::from(primary.replicas.min) * c.traffic_manager.takeover_ratio).ceil();
        if (others as f64) < need {
            f.add("failover-capacity", format!("regions[{i}].replicas.min"),
                format!("the other regions can run {others} replicas at most; the primary {} needs {need} to fail over", primary.name),
                "raise replicas.max in the other regions, or lower trafficManager.takeoverRatio if they may run degraded");
        }
    }
}
