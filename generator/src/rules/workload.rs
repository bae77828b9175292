//! Family `workload`: the HA shape of the service's Deployment (probes, spread, disruption
//! budget, autoscaling, resources, token, registry, graceful shutdown). The reasons are those
//! of `ha-rules.md`; each rule's `why` says what breaks without it.

use super::{Build, id, selects, subject};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use policy::{Check, Policy, Rule, Severity, Sink};
use std::collections::BTreeMap;

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

const fn rule(
    id: &'static str,
    summary: &'static str,
    why: &'static str,
    fix: &'static str,
) -> Rule {
    Rule {
        id,
        family: "workload",
        severity: Severity::Error,
        summary,
        why,
        fix,
    }
}

static CHECKS: [Check<Build>; 12] = [
    Check {
        rule: rule(
            "workload-deployment",
            "the build holds the service's Deployment",
            "a region whose overlay deletes the Deployment deploys nothing and every other workload rule has nothing to check",
            "keep the Deployment of base/deployment.yaml in the overlay (no `$patch: delete`)",
        ),
        check: deployment_present,
    },
    Check {
        rule: rule(
            "workload-probes",
            "readiness, liveness and startup probes on every container; liveness does not share readiness's path",
            "without readiness, traffic reaches pods that are starting or draining; a liveness that fails with readiness restarts healthy pods",
            "add an httpGet probe on the named port `http` in base/deployment.yaml",
        ),
        check: probes,
    },
    Check {
        rule: rule(
            "workload-zone-spread",
            "topologySpreadConstraints on topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule, selecting the pods",
            "without it the scheduler may pack one zone, and a zone outage takes every replica",
            "add that constraint to base/deployment.yaml",
        ),
        check: zone_spread,
    },
    Check {
        rule: rule(
            "workload-host-spread",
            "spread or anti-affinity on kubernetes.io/hostname",
            "one node failure must not take several replicas",
            "add a topologySpreadConstraint on kubernetes.io/hostname (maxSkew 1, ScheduleAnyway) to base/deployment.yaml",
        ),
        check: host_spread,
    },
    Check {
        rule: rule(
            "workload-pdb",
            "a PodDisruptionBudget selects every Deployment's pods, sets one of minAvailable/maxUnavailable, and allows a disruption",
            "voluntary disruptions (node upgrades) must keep capacity, and a budget that allows nothing blocks every drain",
            "keep base/poddisruptionbudget.yaml selecting the pod labels; set app.disruption in the catalogue",
        ),
        check: pdb,
    },
    Check {
        rule: rule(
            "workload-hpa",
            "an HPA targets every Deployment; minReplicas >= zones; maxReplicas >= minReplicas",
            "autoscaling must never scale below the zone-spread floor",
            "keep base/horizontalpodautoscaler.yaml targeting the Deployment; set regions[].replicas in the catalogue",
        ),
        check: hpa,
    },
    Check {
        rule: rule(
            "workload-replicas-owned-by-hpa",
            "a Deployment that an HPA targets does not set spec.replicas (the HPA's minReplicas carries the region's minimum)",
            "Flux (server-side apply, drift correction) and Argo CD self-heal re-apply spec.replicas at every reconcile, resetting a Deployment the HPA scaled up, worst in a region absorbing failover load; the Kubernetes HPA docs advise leaving it out",
            "remove `replicas` from the Deployment and `replicas:` from the overlay's kustomization.yaml; the HPA's minReplicas is the region's minimum",
        ),
        check: replicas_owned_by_hpa,
    },
    Check {
        rule: rule(
            "workload-resources",
            "requests on cpu and memory, a limit on memory, on every container",
            "no requests means no scheduling guarantee and no HPA utilisation; no memory limit lets one pod starve the node",
            "set them (the catalogue's app.resources feed the overlay)",
        ),
        check: resources,
    },
    Check {
        rule: rule(
            "workload-service-account-token",
            "automountServiceAccountToken is false (pod or its ServiceAccount)",
            "the service does not call the API server; a mounted token is a credential for whoever breaks in",
            "set `automountServiceAccountToken: false` on the pod spec and the ServiceAccount",
        ),
        check: service_account_token,
    },
    Check {
        rule: rule(
            "workload-image-registry",
            "images come from the catalogue's registry, without pull secrets",
            "pulls go through the kubelet identity's AcrPull on the allowed, geo-replicated registry",
            "images come from the catalogue's registry; the overlay's `images:` sets it",
        ),
        check: image_registry,
    },
    Check {
        rule: rule(
            "workload-graceful-shutdown",
            "terminationGracePeriodSeconds > DRAIN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS",
            "rolling updates and scale-downs must not drop requests: the kubelet kills the pod at the grace period",
            "keep the grace period above drain + in-flight timeout (catalogue app.shutdown)",
        ),
        check: graceful_shutdown,
    },
    Check {
        rule: rule(
            "workload-security-context",
            "every container has readOnlyRootFilesystem: true (the Pod Security rules are family pod-security)",
            "a writable root filesystem lets an intruder persist tools and tamper with the binary",
            "set `readOnlyRootFilesystem: true` in the container's securityContext (base/deployment.yaml)",
        ),
        check: read_only_root,
    },
];

/// Each Deployment with its id, spec pieces and pod template labels.
struct Workload<'b> {
    id: String,
    deployment: &'b Deployment,
    pod: &'b PodSpec,
    labels: BTreeMap<String, String>,
}

fn workloads(b: &Build) -> Vec<Workload<'_>> {
    if !b.is_typed() {
        return Vec::new();
    }
    b.typed
        .deployments
        .iter()
        .filter_map(|(_, d)| {
            let spec = d.spec.as_ref()?;
            let pod = spec.template.spec.as_ref()?;
            Some(Workload {
                id: id("Deployment", d.metadata.name.as_ref()),
                deployment: d,
                pod,
                labels: spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.clone())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn containers(pod: &PodSpec) -> impl Iterator<Item = (String, &Container)> {
    pod.containers
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.template.spec.containers[{i}]"), c))
}

fn deployment_present(b: &Build, sink: &mut Sink<'_>) {
    if b.is_typed() && b.typed.deployments.is_empty() {
        sink.report(
            "",
            "the build has no Deployment",
            "keep the Deployment of base/deployment.yaml in the overlay (no `$patch: delete`)",
        );
    }
}

fn probe_path(p: &Option<Probe>) -> Option<String> {
    p.as_ref().map(|p| {
        p.http_get
            .as_ref()
            .and_then(|h| h.path.clone())
            .unwrap_or_default()
    })
}

fn probes(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        for (cf, c) in containers(w.pod) {
            let ready = probe_path(&c.readiness_probe);
            let live = probe_path(&c.liveness_probe);
            for (name, p) in [
                ("readinessProbe", &ready),
                ("livenessProbe", &live),
                ("startupProbe", &probe_path(&c.startup_probe)),
            ] {
                if p.is_none() {
                    sink.report(
                        subject(&w.id, &format!("{cf}.{name}")),
                        format!("container `{}` has no {name}", c.name),
                        "add an httpGet probe on the named port `http` in base/deployment.yaml",
                    );
                }
            }
            if let (Some(r), Some(l)) = (&ready, &live)
                && r == l
            {
                sink.report(
                    subject(&w.id, &format!("{cf}.livenessProbe.httpGet.path")),
                    format!("liveness uses the readiness path `{r}`"),
                    "give liveness its own path (catalogue app.probes): readiness fails on purpose while draining",
                );
            }
        }
    }
}

fn spreads(w: &Workload<'_>, key: &str, hard: bool) -> bool {
    w.pod
        .topology_spread_constraints
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|c| {
            c.topology_key == key
                && c.max_skew == 1
                && (!hard || c.when_unsatisfiable == "DoNotSchedule")
                && selects(
                    c.label_selector
                        .as_ref()
                        .and_then(|s| s.match_labels.as_ref()),
                    &w.labels,
                )
        })
}

fn zone_spread(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        if !spreads(&w, "topology.kubernetes.io/zone", true) {
            sink.report(
                subject(&w.id, "spec.template.spec.topologySpreadConstraints"),
                "no zone spread (topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule, selecting the pod labels)",
                "add that constraint to base/deployment.yaml",
            );
        }
    }
}

fn host_spread(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        let anti = w
            .pod
            .affinity
            .as_ref()
            .and_then(|a| a.pod_anti_affinity.as_ref())
            .is_some_and(|p| {
                p.required_during_scheduling_ignored_during_execution
                    .iter()
                    .flatten()
                    .any(|t| t.topology_key == "kubernetes.io/hostname")
                    || p.preferred_during_scheduling_ignored_during_execution
                        .iter()
                        .flatten()
                        .any(|t| t.pod_affinity_term.topology_key == "kubernetes.io/hostname")
            });
        if !anti && !spreads(&w, "kubernetes.io/hostname", false) {
            sink.report(
                subject(&w.id, "spec.template.spec.topologySpreadConstraints"),
                "no spread or anti-affinity on kubernetes.io/hostname",
                "add a topologySpreadConstraint on kubernetes.io/hostname (maxSkew 1, ScheduleAnyway) to base/deployment.yaml",
            );
        }
    }
}

/// The HPA that scales `name`, if any, with its minReplicas (default 1).
fn hpa_of<'b>(
    b: &'b Build,
    name: &str,
) -> Option<&'b k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler> {
    b.typed.hpas.iter().map(|(_, h)| h).find(|h| {
        h.spec.as_ref().is_some_and(|s| {
            s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
        })
    })
}

fn pdb(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        let name = w.deployment.metadata.name.as_deref().unwrap_or("");
        let replicas = hpa_of(b, name)
            .and_then(|h| h.spec.as_ref().and_then(|s| s.min_replicas))
            .or(w.deployment.spec.as_ref().and_then(|s| s.replicas))
            .unwrap_or(1);
        let found = b.typed.pdbs.iter().map(|(_, p)| p).find(|p| {
            selects(
                p.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| s.match_labels.as_ref()),
                &w.labels,
            )
        });
        let Some(p) = found else {
            sink.report(
                subject(&w.id, ""),
                "no PodDisruptionBudget selects its pods",
                "add one to the base (poddisruptionbudget.yaml) selecting the pod labels",
            );
            continue;
        };
        let pid = id("PodDisruptionBudget", p.metadata.name.as_ref());
        let s = p.spec.as_ref();
        let (max_u, min_a) = (
            s.and_then(|s| s.max_unavailable.as_ref()),
            s.and_then(|s| s.min_available.as_ref()),
        );
        if max_u.is_some() && min_a.is_some() {
            sink.report(
                subject(&pid, "spec"),
                "sets both minAvailable and maxUnavailable; the API server rejects it",
                "set one of them (catalogue app.disruption); the overlay patch deletes the base's other one",
            );
        }
        let allowed = match (max_u, min_a) {
            (Some(IntOrString::Int(n)), _) => *n >= 1,
            (None, Some(IntOrString::Int(n))) => *n < replicas,
            (Some(IntOrString::String(s)), _) => s != "0%" && s != "0",
            (None, Some(IntOrString::String(s))) => s != "100%",
            (None, None) => false,
        };
        if !allowed {
            sink.report(
                subject(&pid, "spec"),
                format!("allows no disruption at {replicas} replicas"),
                "use maxUnavailable: 1 (catalogue app.disruption)",
            );
        }
    }
}

fn hpa(b: &Build, sink: &mut Sink<'_>) {
    let zones = b.region.zones.len().max(1) as i64;
    for w in workloads(b) {
        let name = w.deployment.metadata.name.as_deref().unwrap_or("");
        let Some(h) = hpa_of(b, name) else {
            sink.report(
                subject(&w.id, ""),
                "no HorizontalPodAutoscaler targets it",
                "add one to the base (horizontalpodautoscaler.yaml)",
            );
            continue;
        };
        let hid = id("HorizontalPodAutoscaler", h.metadata.name.as_ref());
        let s = h.spec.as_ref();
        let min = s.and_then(|s| s.min_replicas).unwrap_or(1);
        let max = s.map_or(0, |s| s.max_replicas);
        if i64::from(min) < zones {
            sink.report(
                subject(&hid, "spec.minReplicas"),
                format!("{min} is below the {zones} zones"),
                "raise regions[].replicas.min in the catalogue to at least the zone count",
            );
        }
        if max < min {
            sink.report(
                subject(&hid, "spec.maxReplicas"),
                format!("{max} is below minReplicas {min}"),
                "raise regions[].replicas.max in the catalogue",
            );
        }
    }
}

fn replicas_owned_by_hpa(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        let name = w.deployment.metadata.name.as_deref().unwrap_or("");
        if hpa_of(b, name).is_some()
            && let Some(set) = w.deployment.spec.as_ref().and_then(|s| s.replicas)
        {
            sink.report(
                subject(&w.id, "spec.replicas"),
                format!("is set ({set}) while an HPA scales this Deployment; every Flux reconcile would reset it to {set}"),
                "remove `replicas` from the Deployment and `replicas:` from the overlay's kustomization.yaml; the HPA's minReplicas is the region's minimum",
            );
        }
    }
}

fn resources(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        for (cf, c) in containers(w.pod) {
            let res = c.resources.as_ref();
            for (what, map, key) in [
                ("requests.cpu", res.and_then(|r| r.requests.as_ref()), "cpu"),
                (
                    "requests.memory",
                    res.and_then(|r| r.requests.as_ref()),
                    "memory",
                ),
                (
                    "limits.memory",
                    res.and_then(|r| r.limits.as_ref()),
                    "memory",
                ),
            ] {
                if !map.is_some_and(|m| m.contains_key(key)) {
                    sink.report(
                        subject(&w.id, &format!("{cf}.resources.{what}")),
                        format!("container `{}` has no {what}", c.name),
                        "set it (the catalogue's app.resources feed the overlay)",
                    );
                }
            }
        }
    }
}

fn service_account_token(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        let sa_name = w.pod.service_account_name.as_deref().unwrap_or("default");
        let sa_auto = b
            .typed
            .accounts
            .iter()
            .find(|(_, s)| s.metadata.name.as_deref() == Some(sa_name))
            .and_then(|(_, s)| s.automount_service_account_token);
        if w.pod
            .automount_service_account_token
            .or(sa_auto)
            .unwrap_or(true)
        {
            sink.report(
                subject(&w.id, "spec.template.spec.automountServiceAccountToken"),
                "the pods get an API token they do not need",
                "set `automountServiceAccountToken: false` on the pod spec and the ServiceAccount",
            );
        }
    }
}

fn image_registry(b: &Build, sink: &mut Sink<'_>) {
    let registry = format!("{}/", b.catalogue.registry.login_server());
    for w in workloads(b) {
        if w.pod
            .image_pull_secrets
            .as_ref()
            .is_some_and(|s| !s.is_empty())
        {
            sink.report(
                subject(&w.id, "spec.template.spec.imagePullSecrets"),
                "uses a pull secret",
                "remove it: the kubelet identity has AcrPull on the registry",
            );
        }
        for (cf, c) in containers(w.pod) {
            if !c.image.as_deref().is_some_and(|i| i.starts_with(&registry)) {
                sink.report(
                    subject(&w.id, &format!("{cf}.image")),
                    format!(
                        "`{}` is not from {registry}",
                        c.image.as_deref().unwrap_or("")
                    ),
                    "images come from the catalogue's registry; the overlay's `images:` sets it",
                );
            }
        }
    }
}

pub(crate) fn env_value<'c>(c: &'c Container, name: &str) -> Option<&'c str> {
    c.env
        .as_ref()?
        .iter()
        .find(|e| e.name == name)?
        .value
        .as_deref()
}

fn graceful_shutdown(b: &Build, sink: &mut Sink<'_>) {
    let app = b.app_container().to_string();
    for w in workloads(b) {
        let grace = w.pod.termination_grace_period_seconds.unwrap_or(30);
        for (cf, c) in containers(w.pod) {
            let num = |n: &str| env_value(c, n).and_then(|v| v.parse::<i64>().ok());
            match (num("DRAIN_DELAY_SECONDS"), num("SHUTDOWN_TIMEOUT_SECONDS")) {
                (Some(d), Some(s)) if grace > d + s => {}
                (Some(d), Some(s)) => sink.report(
                    subject(&w.id, "spec.template.spec.terminationGracePeriodSeconds"),
                    format!("{grace}s is not more than drain {d}s + shutdown {s}s"),
                    "keep app.shutdown.terminationGracePeriodSeconds above drainSeconds + inFlightTimeoutSeconds in the catalogue",
                ),
                _ if c.name == app => sink.report(
                    subject(&w.id, &format!("{cf}.env")),
                    "DRAIN_DELAY_SECONDS or SHUTDOWN_TIMEOUT_SECONDS is missing or not a number",
                    "set both in base/deployment.yaml",
                ),
                _ => {}
            }
        }
    }
}

fn read_only_root(b: &Build, sink: &mut Sink<'_>) {
    for w in workloads(b) {
        for (cf, c) in containers(w.pod) {
            if c.security_context
                .as_ref()
                .and_then(|s| s.read_only_root_filesystem)
                != Some(true)
            {
                sink.report(
                    subject(
                        &w.id,
                        &format!("{cf}.securityContext.readOnlyRootFilesystem"),
                    ),
                    format!("container `{}` may write its root filesystem", c.name),
                    "set `readOnlyRootFilesystem: true` in base/deployment.yaml",
                );
            }
        }
    }
}
