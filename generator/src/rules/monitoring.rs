//! Family `monitoring`: the managed Prometheus agent's PodMonitor scrapes exactly the
//! service's pods, on a port and path they serve, with the `region` label the alert rules
//! select on, and the pods' NetworkPolicies let the agent in.

use super::{Build, id, selects, subject};
use crate::hydrate::crds::PodMonitor;
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use policy::{Check, Policy, Rule, Severity, Sink};
use std::collections::BTreeMap;

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

/// Where the agent runs: namespace `kube-system`, pods of the `ama-metrics` ReplicaSet (the
/// one that scrapes PodMonitor targets).
const AGENT_NAMESPACE: &str = "kube-system";
const AGENT_POD_LABELS: &[(&str, &str)] = &[("rsName", "ama-metrics")];

static CHECKS: [Check<Build>; 4] = [
    Check {
        rule: Rule {
            id: "monitoring-pod-monitor",
            family: "monitoring",
            severity: Severity::Error,
            summary: "with monitoring.scrape on, one PodMonitor (azmonitoring.coreos.com/v1) in the Deployment's namespace selects the Deployment's pods; with it off, none",
            why: "a PodMonitor that selects nothing scrapes nothing: every alert then reads no data and the region looks down (or silently healthy)",
            fix: "run `gen render` (it renders overlays/<region>/podmonitor.yaml from the Deployment's selector), or set `monitoring.scrape`",
        },
        check: pod_monitor,
    },
    Check {
        rule: Rule {
            id: "monitoring-scrape-target",
            family: "monitoring",
            severity: Severity::Error,
            summary: "each PodMonitor endpoint scrapes a named container port of the service, over http, at path /metrics, every monitoring.scrapeIntervalSeconds",
            why: "the service serves its metrics only there; another port or path scrapes an error page and the rules read no series",
            fix: "use `port: http`, `path: /metrics` and `interval: <scrapeIntervalSeconds>s` (gen renders them)",
        },
        check: scrape_target,
    },
    Check {
        rule: Rule {
            id: "monitoring-region-label",
            family: "monitoring",
            severity: Severity::Error,
            summary: "each PodMonitor endpoint stamps every series with `region: <the overlay's region>` (relabeling action replace) and nothing rewrites it afterwards",
            why: "every alert rule selects its region by this label; a missing or wrong one makes the region's alerts blind or fire for another region",
            fix: "keep the rendered relabeling `{action: replace, targetLabel: region, replacement: <region>}`",
        },
        check: region_label,
    },
    Check {
        rule: Rule {
            id: "monitoring-network-reach",
            family: "monitoring",
            severity: Severity::Error,
            summary: "the NetworkPolicies that select the service's pods admit the agent (namespace kube-system, ama-metrics pods) on the scraped port",
            why: "a default-deny policy without such an allow drops every scrape: the alerts read no data",
            fix: "allow ingress on port `http` from everywhere (base/networkpolicy.yaml does), or from namespace kube-system pods `rsName: ama-metrics`",
        },
        check: network_reach,
    },
];

/// Whether the catalogue asks for scraping.
fn scraping(b: &Build) -> bool {
    b.catalogue.monitoring.as_ref().is_some_and(|m| m.scrape)
}

/// The pod template labels and namespace of the service's Deployment.
fn pods(b: &Build) -> Option<(BTreeMap<String, String>, String)> {
    let (_, d) = b.typed.deployments.first()?;
    let labels = d
        .spec
        .as_ref()?
        .template
        .metadata
        .as_ref()?
        .labels
        .clone()
        .unwrap_or_default();
    Some((labels, d.metadata.namespace.clone().unwrap_or_default()))
}

fn monitors(b: &Build) -> impl Iterator<Item = (String, &PodMonitor)> {
    b.typed
        .pod_monitors
        .iter()
        .map(|(_, m)| (id("PodMonitor", Some(&m.metadata.name)), m))
}

fn pod_monitor(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() {
        return;
    }
    let found = b.typed.pod_monitors.len();
    if !scraping(b) {
        for (mid, _) in monitors(b) {
            sink.report(
                subject(&mid, ""),
                "a PodMonitor is rendered but monitoring.scrape is off (or there is no monitoring section)",
                "remove it, or set `monitoring.scrape: true` and run `gen render`",
            );
        }
        return;
    }
    if found != 1 {
        sink.report(
            "",
            format!("monitoring.scrape is on but the overlay has {found} PodMonitors, not one"),
            "run `gen render` (it lists podmonitor.yaml in the overlay's resources)",
        );
    }
    let Some((labels, namespace)) = pods(b) else {
        return;
    };
    for (mid, m) in monitors(b) {
        let sel = &m.spec.selector;
        if !sel.match_expressions.is_empty() || !selects(Some(&sel.match_labels), &labels) {
            sink.report(
                subject(&mid, "spec.selector"),
                format!(
                    "selects {:?}, which the Deployment's pods (labels {labels:?}) do not all carry",
                    sel.match_labels
                ),
                "select the Deployment's `spec.selector.matchLabels` (gen renders them)",
            );
        }
        let here = match &m.spec.namespace_selector {
            None => m.metadata.namespace == namespace,
            Some(n) => n.any || n.match_names.contains(&namespace),
        };
        if !here {
            sink.report(
                subject(&mid, "spec.namespaceSelector"),
                format!("does not cover the Deployment's namespace `{namespace}`"),
                "drop `namespaceSelector`: the PodMonitor lives in the pods' namespace",
            );
        }
    }
}

fn scrape_target(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() {
        return;
    }
    let Some(m) = b.catalogue.monitoring.as_ref() else {
        return;
    };
    let interval = format!("{}s", m.scrape_interval_seconds);
    let ports: Vec<String> = b
        .typed
        .deployments
        .first()
        .and_then(|(_, d)| d.spec.as_ref()?.template.spec.as_ref()?.containers.first())
        .and_then(|c| c.ports.as_ref())
        .map(|ps| ps.iter().filter_map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    for (mid, pm) in monitors(b) {
        if pm.spec.pod_metrics_endpoints.is_empty() {
            sink.report(
                subject(&mid, "spec.podMetricsEndpoints"),
                "has no endpoint: nothing is scraped",
                "add `- port: http` with `path: /metrics`",
            );
        }
        for (i, e) in pm.spec.pod_metrics_endpoints.iter().enumerate() {
            let at = |f: &str| subject(&mid, &format!("spec.podMetricsEndpoints[{i}].{f}"));
            if !ports.contains(&e.port) {
                sink.report(
                    at("port"),
                    format!(
                        "port `{}` is not a named port of the service's container (it has {ports:?})",
                        e.port
                    ),
                    "use `port: http`",
                );
            }
            if e.path != monitoring::scrape::METRICS_PATH {
                sink.report(
                    at("path"),
                    format!("path `{}` is not where the service serves metrics", e.path),
                    format!("use `path: {}`", monitoring::scrape::METRICS_PATH),
                );
            }
            if e.scheme.as_deref().is_some_and(|s| s != "http") {
                sink.report(
                    at("scheme"),
                    "the service serves plain HTTP",
                    "drop `scheme` (http is the default)",
                );
            }
            if e.interval.as_deref() != Some(interval.as_str()) {
                sink.report(
                    at("interval"),
                    format!(
                        "interval {:?} is not the catalogue's {interval} (monitoring.scrapeIntervalSeconds)",
                        e.interval
                    ),
                    format!("use `interval: {interval}`"),
                );
            }
        }
    }
}

fn region_label(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() {
        return;
    }
    let want = monitoring::scrape::region_relabeling(&b.region.name);
    for (mid, pm) in monitors(b) {
        for (i, e) in pm.spec.pod_metrics_endpoints.iter().enumerate() {
            // Relabelings apply in order: the last one that writes `region` decides.
            let last = e
                .relabelings
                .iter()
                .enumerate()
                .rfind(|(_, r)| r.target_label.as_deref() == Some(want.target_label));
            let ok = last.is_some_and(|(_, r)| {
                r.action.as_deref().unwrap_or("replace") == want.action
                    && r.source_labels.is_empty()
                    && r.replacement.as_deref() == Some(want.replacement.as_str())
            });
            let field = match last {
                Some((n, _)) => format!("spec.podMetricsEndpoints[{i}].relabelings[{n}]"),
                None => format!("spec.podMetricsEndpoints[{i}].relabelings"),
            };
            if !ok {
                sink.report(
                    subject(&mid, &field),
                    format!(
                        "series are not labelled `{}: {}`",
                        want.target_label, want.replacement
                    ),
                    format!(
                        "end the relabelings with `{{action: replace, targetLabel: {}, replacement: {}}}`",
                        want.target_label, want.replacement
                    ),
                );
            }
            let dropped = e.metric_relabelings.iter().any(|r| {
                r.target_label.as_deref() == Some(want.target_label)
                    || matches!(r.action.as_deref(), Some("labeldrop" | "labelkeep"))
            });
            if dropped {
                sink.report(
                    subject(
                        &mid,
                        &format!("spec.podMetricsEndpoints[{i}].metricRelabelings"),
                    ),
                    format!("may rewrite or drop the `{}` label", want.target_label),
                    "remove the metricRelabelings",
                );
            }
        }
    }
}

/// True when `peer` (of an ingress rule) matches the agent's pods.
fn admits_agent(peer: &NetworkPolicyPeer) -> bool {
    if peer.ip_block.is_some() {
        // Pod IPs are not known here; an ipBlock cannot be shown to cover the agent.
        return false;
    }
    let ns_ok = match &peer.namespace_selector {
        // No namespaceSelector: the policy's own namespace only.
        None => false,
        Some(s) => {
            s.match_expressions.as_ref().is_none_or(Vec::is_empty)
                && s.match_labels.as_ref().is_none_or(|m| {
                    m.iter()
                        .all(|(k, v)| k == "kubernetes.io/metadata.name" && v == AGENT_NAMESPACE)
                })
        }
    };
    let pod_ok = match &peer.pod_selector {
        None => true,
        Some(s) => {
            s.match_expressions.as_ref().is_none_or(Vec::is_empty)
                && s.match_labels.as_ref().is_none_or(|m| {
                    m.iter()
                        .all(|(k, v)| AGENT_POD_LABELS.contains(&(k.as_str(), v.as_str())))
                })
        }
    };
    ns_ok && pod_ok
}

fn port_matches(p: &NetworkPolicyPort, name: &str, number: i64) -> bool {
    p.protocol.as_deref().unwrap_or("TCP") == "TCP"
        && match &p.port {
            None => true,
            Some(IntOrString::String(n)) => n == name,
            Some(IntOrString::Int(n)) => {
                let end = p.end_port.map_or(i64::from(*n), i64::from);
                (i64::from(*n)..=end).contains(&number)
            }
        }
}

fn network_reach(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() || !scraping(b) {
        return;
    }
    let Some((labels, _)) = pods(b) else { return };
    let number = i64::from(b.catalogue.app.port);
    for (mid, pm) in monitors(b) {
        for (i, e) in pm.spec.pod_metrics_endpoints.iter().enumerate() {
            // Kubernetes: ingress is denied once any policy selecting the pod restricts it,
            // then allowed by the union of their rules.
            let mut restricting = 0;
            let mut admitted = false;
            for (_, n) in &b.typed.netpols {
                let Some(s) = n.spec.as_ref() else { continue };
                let selected = s.pod_selector.as_ref().is_none_or(|p| {
                    p.match_expressions.as_ref().is_none_or(Vec::is_empty)
                        && p.match_labels
                            .as_ref()
                            .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
                });
                let ingress_type = s
                    .policy_types
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|t| t == "Ingress"));
                if !selected || !ingress_type {
                    continue;
                }
                restricting += 1;
                admitted |= s.ingress.iter().flatten().any(|r| {
                    let from_ok = r
                        .from
                        .as_ref()
                        .is_none_or(|f| f.is_empty() || f.iter().any(admits_agent));
                    let port_ok = r.ports.as_ref().is_none_or(|ps| {
                        ps.is_empty() || ps.iter().any(|p| port_matches(p, &e.port, number))
                    });
                    from_ok && port_ok
                });
            }
            if restricting > 0 && !admitted {
                sink.report(
                    subject(&mid, &format!("spec.podMetricsEndpoints[{i}].port")),
                    format!(
                        "no NetworkPolicy selecting the pods admits the agent ({AGENT_NAMESPACE}, ama-metrics) on port `{}`: every scrape is dropped",
                        e.port
                    ),
                    "allow ingress on port `http` from everywhere (base/networkpolicy.yaml), or from namespace kube-system pods `rsName: ama-metrics`",
                );
            }
        }
    }
}
