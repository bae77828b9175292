//! Family `values`: the built objects carry the catalogue's values. A finding here means the
//! overlay (hand-edited or stale) or the base diverges from the one truth.

use super::workload::env_value;
use super::{Build, id, subject};
use policy::{Check, Policy, Rule, Severity, Sink};

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

static CHECKS: [Check<Build>; 1] = [Check {
    rule: Rule {
        id: "region-values",
        family: "values",
        severity: Severity::Error,
        summary: "the built objects carry the catalogue's values (HPA min/max replicas, image, zones, probes, env, grace period, Service port)",
        why: "the catalogue is the one truth; a hand edit or a stale render diverges from it, and what is reviewed is not what runs",
        fix: "run `gen render`; change catalogue.yaml, never a generated file",
    },
    check: region_values,
}];

const RENDER: &str = "run `gen render`; change catalogue.yaml, never a generated file";

fn region_values(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() {
        return;
    }
    let (app, region) = (&b.catalogue.app, &b.region);
    let container = b.app_container().to_string();
    for (_, h) in &b.typed.hpas {
        let hid = id("HorizontalPodAutoscaler", h.metadata.name.as_ref());
        let s = h.spec.as_ref();
        let min = s.and_then(|s| s.min_replicas).unwrap_or(1);
        let max = s.map_or(0, |s| s.max_replicas);
        for (field, got, want) in [
            (
                "spec.minReplicas",
                i64::from(min),
                i64::from(region.replicas.min),
            ),
            (
                "spec.maxReplicas",
                i64::from(max),
                i64::from(region.replicas.max),
            ),
        ] {
            if got != want {
                sink.report(
                    subject(&hid, field),
                    format!("is {got}, the catalogue says {want}"),
                    RENDER,
                );
            }
        }
    }
    for (_, s) in &b.typed.services {
        if s.spec.as_ref().and_then(|s| s.type_.as_deref()) != Some("LoadBalancer") {
            continue;
        }
        let port = s
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|p| p.first())
            .map(|p| p.port);
        if port != Some(i32::from(app.service_port)) {
            sink.report(
                subject(
                    &id("Service", s.metadata.name.as_ref()),
                    "spec.ports[0].port",
                ),
                format!("is {port:?}, the catalogue says {}", app.service_port),
                RENDER,
            );
        }
    }
    for (_, d) in &b.typed.deployments {
        let did = id("Deployment", d.metadata.name.as_ref());
        let Some(pod) = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
            continue;
        };
        let grace = pod.termination_grace_period_seconds.unwrap_or(30);
        if grace != i64::from(app.shutdown.termination_grace_period_seconds) {
            sink.report(
                subject(&did, "spec.template.spec.terminationGracePeriodSeconds"),
                format!(
                    "is {grace}, the catalogue says {}",
                    app.shutdown.termination_grace_period_seconds
                ),
                RENDER,
            );
        }
        if !region.zones.is_empty() {
            let want: Vec<String> = region
                .zones
                .iter()
                .map(|z| format!("{}-{z}", region.name))
                .collect();
            let got: Vec<String> = pod
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|n| {
                    n.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .map(|r| {
                    r.node_selector_terms
                        .iter()
                        .flat_map(|t| t.match_expressions.iter().flatten())
                        .filter(|e| e.key == "topology.kubernetes.io/zone" && e.operator == "In")
                        .flat_map(|e| e.values.iter().flatten().cloned())
                        .collect()
                })
                .unwrap_or_default();
            if got != want {
                sink.report(
                    subject(&did, "spec.template.spec.affinity.nodeAffinity"),
                    format!(
                        "zones are [{}], the catalogue says [{}]",
                        got.join(", "),
                        want.join(", ")
                    ),
                    RENDER,
                );
            }
        }
        for (i, c) in pod.containers.iter().enumerate() {
            if c.name != container {
                continue;
            }
            let cf = format!("spec.template.spec.containers[{i}]");
            let path = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
                p.as_ref()
                    .and_then(|p| p.http_get.as_ref())
                    .and_then(|h| h.path.clone())
            };
            for (got, want, name) in [
                (
                    path(&c.readiness_probe),
                    &app.probes.readiness,
                    "readinessProbe",
                ),
                (
                    path(&c.liveness_probe),
                    &app.probes.liveness,
                    "livenessProbe",
                ),
                (path(&c.startup_probe), &app.probes.startup, "startupProbe"),
            ] {
                if got.as_deref().is_some_and(|g| g != want.as_str()) {
                    sink.report(
                        subject(&did, &format!("{cf}.{name}.httpGet.path")),
                        format!(
                            "is `{}`, the catalogue says `{want}`",
                            got.as_deref().unwrap_or("")
                        ),
                        RENDER,
                    );
                }
            }
            let image_ref = app.image_ref_at(&b.catalogue.registry, region.version(app));
            for (env, want) in [
                ("REGION", region.name.to_string()),
                ("IMAGE", image_ref.clone()),
                ("READINESS_PATH", app.probes.readiness.clone()),
                ("LIVENESS_PATH", app.probes.liveness.clone()),
                ("STARTUP_PATH", app.probes.startup.clone()),
                ("PORT", app.port.to_string()),
                (
                    "DRAIN_DELAY_SECONDS",
                    app.shutdown.drain_seconds.to_string(),
                ),
                (
                    "SHUTDOWN_TIMEOUT_SECONDS",
                    app.shutdown.in_flight_timeout_seconds.to_string(),
                ),
            ] {
                if env_value(c, env) != Some(want.as_str()) {
                    sink.report(
                        subject(&did, &format!("{cf}.env[{env}]")),
                        format!("is {:?}, the catalogue says `{want}`", env_value(c, env)),
                        RENDER,
                    );
                }
            }
            if c.image.as_deref() != Some(image_ref.as_str()) {
                sink.report(
                    subject(&did, &format!("{cf}.image")),
                    format!(
                        "is `{}`, the catalogue says `{image_ref}`",
                        c.image.as_deref().unwrap_or("")
                    ),
                    RENDER,
                );
            }
        }
        // Without an HPA the Deployment's own count is the region's minimum.
        let name = d.metadata.name.as_deref().unwrap_or("");
        let scaled = b.typed.hpas.iter().any(|(_, h)| {
            h.spec.as_ref().is_some_and(|s| {
                s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
            })
        });
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        if !scaled && i64::from(replicas) != i64::from(region.replicas.min) {
            sink.report(
                subject(&did, "spec.replicas"),
                format!(
                    "is {replicas}, the catalogue says min {}",
                    region.replicas.min
                ),
                RENDER,
            );
        }
    }
}
