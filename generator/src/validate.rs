//! Validation of a rendered tree, before anything is written (and by `gen validate`).
//!
//! Two layers:
//! 1. every document of the base and of the tree is parsed strictly into typed form
//!    (k8s-openapi for core kinds, `render::crds` for Kustomize, Flux and Argo CD), with
//!    unknown fields reported (`serde_ignored`) and type errors located (`serde_path_to_error`);
//! 2. the rendered-workload rules of `ha-rules.md` run on the *effective* objects of each
//!    region, i.e. base + overlay as `kubectl kustomize` would build them. The build is done
//!    in-process (`render::effective`) for the Kustomize subset gen uses: running kustomize per
//!    region would cost ~150 ms each, and the tests compare both builds for every region.

use crate::cli::{Context, ReportFormat, ValidateArgs};
use crate::render::crds::{ArgoApplication, FluxKustomization, KustomizeFile};
use crate::render::effective::{self, Object};
use crate::render::{Base, PLACEHOLDER};
use crate::tree::{GENERATED_DIRS, RenderedTree};
use catalogue::{Catalogue, GitOpsEngine, Position};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, Namespace, PodSpec, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Every rule of the rendered tree: id, what it checks, why (`gen validate --format sarif`
/// lists them; README.md documents them).
pub const RULES: &[(&str, &str, &str)] = &[
    (
        "k8s-schema",
        "every document parses into its typed form, with no unknown field",
        "a misspelt field is silently dropped by the API server or the GitOps agent",
    ),
    (
        "kustomize-build",
        "every overlay builds (resources, patches and their targets exist)",
        "Flux and Argo CD stop reconciling a region whose overlay does not build",
    ),
    (
        "overlay-placeholder",
        "no `set-by-overlay` placeholder of the base survives in a region",
        "a placeholder deploys a broken image, region or public IP",
    ),
    (
        "region-values",
        "the built objects carry the catalogue's values (HPA min/max replicas, image, zones, probes, REGION, public IP)",
        "the catalogue is the one truth; a hand edit or a stale render diverges from it",
    ),
    (
        "workload-probes",
        "readiness, liveness and startup probes on every container; liveness does not share readiness's path",
        "without readiness, traffic reaches pods that are starting or draining; a liveness that fails with readiness restarts healthy pods",
    ),
    (
        "workload-zone-spread",
        "topologySpreadConstraints on topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule, selecting the pods",
        "without it the scheduler may pack one zone",
    ),
    (
        "workload-host-spread",
        "spread or anti-affinity on kubernetes.io/hostname",
        "one node failure must not take several replicas",
    ),
    (
        "workload-pdb",
        "a PodDisruptionBudget selects every Deployment and allows a disruption",
        "voluntary disruptions must keep capacity, and must not block drains",
    ),
    (
        "workload-hpa",
        "an HPA targets every Deployment; min >= zones; max >= min",
        "autoscaling must never scale below the zone-spread floor",
    ),
    (
        "workload-replicas-owned-by-hpa",
        "a Deployment that an HPA targets does not set spec.replicas (the HPA's minReplicas carries the region's minimum)",
        "Flux (server-side apply, drift correction) and Argo CD self-heal re-apply spec.replicas at every reconcile, resetting a Deployment the HPA scaled up, worst in a region absorbing failover load; the Kubernetes HPA docs advise leaving it out",
    ),
    (
        "workload-resources",
        "requests on cpu and memory, a limit on memory, on every container",
        "no requests means no scheduling guarantees; safeguards require them",
    ),
    (
        "workload-security-context",
        "Pod Security restricted: runAsNonRoot, allowPrivilegeEscalation false, drop ALL, seccomp RuntimeDefault, readOnlyRootFilesystem",
        "the restricted profile is the AKS and Kubernetes baseline",
    ),
    (
        "workload-service-account-token",
        "automountServiceAccountToken is false",
        "the service does not call the API server",
    ),
    (
        "workload-network-policy",
        "a default-deny NetworkPolicy (ingress and egress); the app's ingress only on its port; egress only DNS",
        "limits blast radius",
    ),
    (
        "workload-image-registry",
        "images come from the catalogue's registry, without pull secrets",
        "pulls go through AcrPull from the allowed registry",
    ),
    (
        "workload-graceful-shutdown",
        "terminationGracePeriodSeconds > DRAIN_DELAY_SECONDS + SHUTDOWN_TIMEOUT_SECONDS",
        "rolling updates and scale-downs must not drop requests",
    ),
    (
        "service-static-ip",
        "a LoadBalancer Service pins the region's public IP name, resource group and DNS label",
        "the Traffic Manager endpoint must not change when the Service is recreated",
    ),
    (
        "gitops-entry-point",
        "each cluster's entry point (Flux Kustomization or Argo CD Application) points at its overlay and at the configured source",
        "an entry point nothing reconciles, or one that points elsewhere, deploys nothing",
    ),
    (
        "tree-stale",
        "no region directory in the tree is missing from the catalogue",
        "a stale overlay is still reconciled by a cluster that should be gone",
    ),
];

/// A problem in the base or the rendered tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    /// Repository-relative file.
    pub file: String,
    pub position: Option<(usize, usize)>,
    /// `Kind/name`, or empty.
    pub object: String,
    /// Field path, e.g. `spec.template.spec.containers[0].livenessProbe`.
    pub field: String,
    pub message: String,
    pub help: String,
    /// Regions in which it was found (empty: not region-specific).
    pub regions: Vec<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": error[{}]: ", self.rule)?;
        if !self.object.is_empty() {
            write!(f, "{} ", self.object)?;
        }
        if !self.field.is_empty() {
            write!(f, "`{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if !self.regions.is_empty() {
            write!(f, " (regions: {})", self.regions.join(", "))?;
        }
        write!(f, "\n  help: {}", self.help)
    }
}

struct Sink<'a> {
    findings: Vec<Finding>,
    region: Option<&'a str>,
}

impl Sink<'_> {
    fn add(
        &mut self,
        rule: &'static str,
        file: &str,
        object: &str,
        field: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        debug_assert!(
            RULES.iter().any(|r| r.0 == rule),
            "undocumented rule {rule}"
        );
        self.findings.push(Finding {
            rule,
            file: file.to_string(),
            position: None,
            object: object.to_string(),
            field: field.to_string(),
            message: message.into(),
            help: help.into(),
            regions: self.region.map(|r| vec![r.to_string()]).unwrap_or_default(),
        });
    }
}

/// `serde_ignored` paths (`spec.?.template.0.x`) as field paths (`spec.template[0].x`).
fn tidy_path(raw: &str) -> String {
    let mut out = String::new();
    for seg in raw.split('.') {
        if seg == "?" || seg.is_empty() {
            continue;
        }
        if seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Strict typed parse: unknown fields and type errors become `(field, message)` problems.
pub fn strict<T: DeserializeOwned>(v: &Value) -> Result<T, Vec<(String, String)>> {
    let mut unknown = Vec::new();
    let mut cb = |p: serde_ignored::Path<'_>| unknown.push(tidy_path(&p.to_string()));
    let de = serde_ignored::Deserializer::new(v, &mut cb);
    let r: Result<T, _> = serde_path_to_error::deserialize(de);
    match r {
        Ok(t) if unknown.is_empty() => Ok(t),
        Ok(_) => Err(unknown
            .into_iter()
            .map(|f| (f, "unknown field".to_string()))
            .collect()),
        Err(e) => {
            let path = tidy_path(&e.path().to_string());
            Err(vec![(path, e.into_inner().to_string())])
        }
    }
}

/// The typed core objects of one build.
#[derive(Default)]
struct Typed<'o> {
    deployments: Vec<(&'o Object, Deployment)>,
    services: Vec<(&'o Object, Service)>,
    pdbs: Vec<(&'o Object, PodDisruptionBudget)>,
    hpas: Vec<(&'o Object, HorizontalPodAutoscaler)>,
    netpols: Vec<(&'o Object, NetworkPolicy)>,
    accounts: Vec<(&'o Object, ServiceAccount)>,
}

/// Parses one object strictly; `Ok(None)` when its parse failed and was reported.
fn type_object<'o>(o: &'o Object, typed: &mut Typed<'o>, sink: &mut Sink<'_>, file: &str) {
    let api = o
        .value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = o.id();
    let report = |problems: Vec<(String, String)>, sink: &mut Sink<'_>| {
        for (field, msg) in problems {
            sink.add(
                "k8s-schema",
                file,
                &id,
                &field,
                msg,
                "fix or remove the field (see the Kubernetes API reference for this kind)",
            );
        }
    };
    macro_rules! typed {
        ($ty:ty, $list:ident) => {
            match strict::<$ty>(&o.value) {
                Ok(t) => typed.$list.push((o, t)),
                Err(p) => report(p, sink),
            }
        };
    }
    match (api, o.kind()) {
        ("apps/v1", "Deployment") => typed!(Deployment, deployments),
        ("v1", "Service") => typed!(Service, services),
        ("policy/v1", "PodDisruptionBudget") => typed!(PodDisruptionBudget, pdbs),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => typed!(HorizontalPodAutoscaler, hpas),
        ("networking.k8s.io/v1", "NetworkPolicy") => typed!(NetworkPolicy, netpols),
        ("v1", "ServiceAccount") => typed!(ServiceAccount, accounts),
        ("v1", "Namespace") => {
            if let Err(p) = strict::<Namespace>(&o.value) {
                report(p, sink);
            }
        }
        (api, kind) => sink.add(
            "k8s-schema",
            file,
            &id,
            "kind",
            format!("{api} {kind} is not a kind gen validates"),
            "the base may hold Namespace, ServiceAccount, Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler (autoscaling/v2) and NetworkPolicy",
        ),
    }
}

/// Validates the base and the tree's regions `regions` (names) against the catalogue.
/// Returns every finding, deduplicated across regions and sorted.
pub fn validate_tree(
    catalogue: &Catalogue,
    base: &Base,
    tree: &RenderedTree,
    regions: &[&str],
) -> Vec<Finding> {
    // Layer 1 for the base files themselves (reported once, not per region).
    let mut sink = Sink {
        findings: Vec::new(),
        region: None,
    };
    let mut bad_origins = Vec::new();
    for (file, text) in &base.files {
        if file.ends_with("/kustomization.yaml") {
            continue; // parsed strictly by the build
        }
        match effective::parse_documents(file, text) {
            Err(e) => {
                sink.add("k8s-schema", file, "", "", e.message, "fix the YAML");
                bad_origins.push(file.clone());
            }
            Ok(docs) => {
                let before = sink.findings.len();
                let objects: Vec<Object> = docs
                    .into_iter()
                    .map(|value| Object {
                        origin: file.clone(),
                        value,
                    })
                    .collect();
                let mut typed = Typed::default();
                for o in &objects {
                    type_object(o, &mut typed, &mut sink, file);
                }
                if sink.findings.len() > before {
                    bad_origins.push(file.clone());
                }
            }
        }
    }
    let mut findings = sink.findings;
    let per_region: Vec<Vec<Finding>> = regions
        .par_iter()
        .map(|r| validate_region(catalogue, base, tree, r, &bad_origins))
        .collect();
    findings.extend(per_region.into_iter().flatten());
    locate(base, &mut findings);
    dedupe(findings)
}

fn dedupe(findings: Vec<Finding>) -> Vec<Finding> {
    type Key = (
        String,
        Option<(usize, usize)>,
        &'static str,
        String,
        String,
        String,
    );
    let mut merged: BTreeMap<Key, Finding> = BTreeMap::new();
    for f in findings {
        let key = (
            f.file.clone(),
            f.position,
            f.rule,
            f.object.clone(),
            f.field.clone(),
            f.message.clone(),
        );
        match merged.get_mut(&key) {
            Some(m) => {
                for r in f.regions {
                    if !m.regions.contains(&r) {
                        m.regions.push(r);
                    }
                }
            }
            None => {
                merged.insert(key, f);
            }
        }
    }
    merged.into_values().collect()
}

/// Adds line:column to findings in base files, where the field path is found.
fn locate(base: &Base, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        if f.position.is_some() || f.field.is_empty() {
            continue;
        }
        if let Some(text) = base.files.get(&f.file)
            && !text.contains("\n---")
            && let Some(Position { line, column }) = catalogue::Locator::new(text).find(&f.field)
        {
            f.position = Some((line, column));
        }
    }
}

fn validate_region(
    catalogue: &Catalogue,
    base: &Base,
    tree: &RenderedTree,
    region: &str,
    bad_origins: &[String],
) -> Vec<Finding> {
    let mut sink = Sink {
        findings: Vec::new(),
        region: Some(region),
    };
    let overlay = format!("overlays/{region}/");
    entry_point(catalogue, tree, region, &base.names.deployment, &mut sink);
    let files = base.files_with(tree);
    let objects = match effective::build(&files, overlay.trim_end_matches('/')) {
        Ok(o) => o,
        Err(e) => {
            sink.add(
                "kustomize-build",
                &e.file,
                "",
                "",
                e.message,
                "fix the kustomization or the patch it names",
            );
            return sink.findings;
        }
    };
    for o in &objects {
        let mut where_ = Vec::new();
        find_placeholders(&o.value, "", &mut where_);
        for field in where_ {
            sink.add(
                "overlay-placeholder",
                &overlay,
                &o.id(),
                &field,
                format!("still holds the base placeholder `{PLACEHOLDER}`"),
                "the overlay must patch this field from the catalogue; re-render with `gen render`",
            );
        }
    }
    let mut typed = Typed::default();
    for o in &objects {
        if bad_origins.contains(&o.origin) {
            continue; // already reported against the base file
        }
        type_object(o, &mut typed, &mut sink, &overlay);
    }
    if bad_origins.is_empty()
        && let Some(r) = catalogue.region(region)
    {
        rules(catalogue, r, &typed, &base.objects, &overlay, &mut sink);
    }
    sink.findings
}

fn has_placeholder(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains(PLACEHOLDER),
        Value::Object(m) => m.values().any(has_placeholder),
        Value::Array(a) => a.iter().any(has_placeholder),
        _ => false,
    }
}

fn find_placeholders(v: &Value, path: &str, out: &mut Vec<String>) {
    if !has_placeholder(v) {
        return;
    }
    match v {
        Value::String(s) if s.contains(PLACEHOLDER) => out.push(path.to_string()),
        Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                find_placeholders(v, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                find_placeholders(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn entry_point(
    catalogue: &Catalogue,
    tree: &RenderedTree,
    region: &str,
    deployment: &str,
    sink: &mut Sink<'_>,
) {
    let g = &catalogue.gitops;
    let overlay_k = format!("overlays/{region}/kustomization.yaml");
    let get = |p: &str| tree.files.get(Path::new(p)).map(String::as_str);
    let help_render = "run `gen render`; entry points are generated, never edited";
    match g.engine {
        GitOpsEngine::Flux => {
            let kfile = format!("clusters/{region}/kustomization.yaml");
            let Some(text) = get(&kfile) else {
                sink.add(
                    "gitops-entry-point",
                    &kfile,
                    "",
                    "",
                    "missing: the Flux configuration of this cluster applies ./clusters/<region>",
                    help_render,
                );
                return;
            };
            let k: KustomizeFile = match effective::parse_kustomization(&kfile, text) {
                Ok(k) => k,
                Err(e) => {
                    sink.add("k8s-schema", &kfile, "", "", e.message, help_render);
                    return;
                }
            };
            let mut found = false;
            for res in &k.resources {
                let path = effective::join(&format!("clusters/{region}"), res);
                let Some(text) = get(&path) else {
                    sink.add(
                        "gitops-entry-point",
                        &kfile,
                        "",
                        "resources",
                        format!("`{res}` does not exist"),
                        help_render,
                    );
                    continue;
                };
                let docs = match effective::parse_documents(&path, text) {
                    Ok(d) => d,
                    Err(e) => {
                        sink.add("k8s-schema", &path, "", "", e.message, help_render);
                        continue;
                    }
                };
                for d in docs {
                    let fk: FluxKustomization = match strict(&d) {
                        Ok(fk) => fk,
                        Err(problems) => {
                            for (field, msg) in problems {
                                sink.add(
                                    "k8s-schema",
                                    &path,
                                    "Kustomization",
                                    &field,
                                    msg,
                                    help_render,
                                );
                            }
                            continue;
                        }
                    };
                    let id = format!("Kustomization/{}", fk.metadata.name);
                    if fk.api_version != "kustomize.toolkit.fluxcd.io/v1"
                        || fk.kind != "Kustomization"
                    {
                        sink.add(
                            "k8s-schema",
                            &path,
                            &id,
                            "apiVersion",
                            "not a kustomize.toolkit.fluxcd.io/v1 Kustomization",
                            help_render,
                        );
                    }
                    let want = format!("./overlays/{region}");
                    if fk.spec.path == want {
                        found = true;
                        if get(&overlay_k).is_none() {
                            sink.add(
                                "gitops-entry-point",
                                &path,
                                &id,
                                "spec.path",
                                format!("`{want}` has no kustomization.yaml"),
                                help_render,
                            );
                        }
                    } else {
                        sink.add(
                            "gitops-entry-point",
                            &path,
                            &id,
                            "spec.path",
                            format!("is `{}`, not `{want}`", fk.spec.path),
                            help_render,
                        );
                    }
                    if fk.spec.source_ref.kind != "GitRepository"
                        || fk.spec.source_ref.name != g.source_name
                        || fk.metadata.namespace != g.namespace
                    {
                        sink.add("gitops-entry-point", &path, &id, "spec.sourceRef", format!("must name GitRepository `{}` in `{}` (gitops.sourceName: what the AKS Flux configuration creates)", g.source_name, g.namespace), help_render);
                    }
                    // Health: `wait: true` health-checks every applied object and makes Flux
                    // ignore `healthChecks`; without it, the Deployment must be listed.
                    let app_checked = fk.spec.health_checks.iter().any(|h| {
                        h.kind == "Deployment"
                            && h.name == deployment
                            && h.namespace.as_deref() == Some(catalogue.app.namespace())
                    });
                    if !fk.spec.wait && !app_checked {
                        sink.add(
                            "gitops-entry-point",
                            &path,
                            &id,
                            "spec.wait",
                            "neither `wait: true` nor a health check of the Deployment: Flux reports Ready before the pods are",
                            help_render,
                        );
                    }
                    if fk.spec.wait && !fk.spec.health_checks.is_empty() {
                        sink.add(
                            "gitops-entry-point",
                            &path,
                            &id,
                            "spec.healthChecks",
                            "is ignored by Flux when `wait: true` (it checks every applied object instead)",
                            help_render,
                        );
                    }
                    if !fk.spec.prune {
                        sink.add(
                            "gitops-entry-point",
                            &path,
                            &id,
                            "spec.prune",
                            "prune is off: objects removed from Git stay in the cluster",
                            help_render,
                        );
                    }
                }
            }
            if !found {
                sink.add(
                    "gitops-entry-point",
                    &kfile,
                    "",
                    "resources",
                    format!("no Flux Kustomization points at ./overlays/{region}"),
                    help_render,
                );
            }
        }
        GitOpsEngine::Argocd => {
            let path = format!("argocd/{region}/application.yaml");
            let Some(text) = get(&path) else {
                sink.add("gitops-entry-point", &path, "", "", "missing", help_render);
                return;
            };
            let docs = match effective::parse_documents(&path, text) {
                Ok(d) => d,
                Err(e) => {
                    sink.add("k8s-schema", &path, "", "", e.message, help_render);
                    return;
                }
            };
            for d in docs {
                match strict::<ArgoApplication>(&d) {
                    Err(problems) => {
                        for (field, msg) in problems {
                            sink.add("k8s-schema", &path, "Application", &field, msg, help_render);
                        }
                    }
                    Ok(app) => {
                        let id = format!("Application/{}", app.metadata.name);
                        if app.api_version != "argoproj.io/v1alpha1" || app.kind != "Application" {
                            sink.add(
                                "k8s-schema",
                                &path,
                                &id,
                                "apiVersion",
                                "not an argoproj.io/v1alpha1 Application",
                                help_render,
                            );
                        }
                        let s = &app.spec.source;
                        if s.path != format!("overlays/{region}")
                            || s.repo_url != g.repo
                            || s.target_revision != g.branch
                        {
                            sink.add(
                                "gitops-entry-point",
                                &path,
                                &id,
                                "spec.source",
                                format!("must be {} @ {} path overlays/{region}", g.repo, g.branch),
                                help_render,
                            );
                        }
                        if get(&overlay_k).is_none() {
                            sink.add(
                                "gitops-entry-point",
                                &path,
                                &id,
                                "spec.source.path",
                                "the overlay has no kustomization.yaml",
                                help_render,
                            );
                        }
                    }
                }
            }
        }
    }
}

fn env_value<'a>(c: &'a Container, name: &str) -> Option<&'a str> {
    c.env
        .as_ref()?
        .iter()
        .find(|e| e.name == name)?
        .value
        .as_deref()
}

fn selects(selector: Option<&BTreeMap<String, String>>, labels: &BTreeMap<String, String>) -> bool {
    selector.is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

fn rules(
    catalogue: &Catalogue,
    region: &catalogue::Region,
    t: &Typed<'_>,
    base_objects: &[Object],
    overlay: &str,
    sink: &mut Sink<'_>,
) {
    let app = &catalogue.app;
    let zones = region.zones.len().max(1);
    let registry = format!("{}/", catalogue.registry.login_server());
    if t.deployments.is_empty() {
        sink.add(
            "workload-pdb",
            overlay,
            "",
            "",
            "no Deployment in the build",
            "the base must hold the service's Deployment",
        );
    }
    for (o, d) in &t.deployments {
        let file = o.origin.as_str();
        let id = format!("Deployment/{}", d.metadata.name.as_deref().unwrap_or(""));
        let Some(spec) = d.spec.as_ref() else {
            continue;
        };
        let pod: &PodSpec = match spec.template.spec.as_ref() {
            Some(p) => p,
            None => continue,
        };
        let labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        // The HPA that scales this Deployment, if any: it owns the replica count.
        let name = d.metadata.name.as_deref().unwrap_or("");
        let hpa = t.hpas.iter().find(|(_, h)| {
            h.spec.as_ref().is_some_and(|s| {
                s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
            })
        });
        let hpa_min = hpa.map(|(_, h)| h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1));
        if hpa.is_some()
            && let Some(set) = spec.replicas
        {
            // Reported where it is set: the base file, or else the overlay (`replicas:` or a patch).
            let in_base = base_objects
                .iter()
                .any(|b| b.id() == id && b.value.pointer("/spec/replicas").is_some());
            sink.add(
                "workload-replicas-owned-by-hpa",
                if in_base { file } else { overlay },
                &id,
                "spec.replicas",
                format!(
                    "is set ({set}) while an HPA scales this Deployment; every Flux reconcile would reset it to {set}"
                ),
                "remove `replicas` from the Deployment and `replicas:` from the overlay's kustomization.yaml; the HPA's minReplicas is the region's minimum",
            );
        }
        // The lowest count the Deployment runs at: the HPA's min, else its own replicas.
        let replicas = hpa_min.or(spec.replicas).unwrap_or(1);
        if hpa.is_none() && replicas != i32::try_from(region.replicas.min).unwrap_or(i32::MAX) {
            sink.add(
                "region-values",
                overlay,
                &id,
                "spec.replicas",
                format!(
                    "is {replicas}, the catalogue says min {}",
                    region.replicas.min
                ),
                "run `gen render`",
            );
        }
        // Zones: node affinity limited to the catalogue's zones.
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
                sink.add(
                    "region-values",
                    overlay,
                    &id,
                    "spec.template.spec.affinity.nodeAffinity",
                    format!(
                        "zones are [{}], the catalogue says [{}]",
                        got.join(", "),
                        want.join(", ")
                    ),
                    "run `gen render`",
                );
            }
        }
        // Spread.
        let tsc = pod
            .topology_spread_constraints
            .as_deref()
            .unwrap_or_default();
        let spread_ok = |key: &str, hard: bool| {
            tsc.iter().any(|c| {
                c.topology_key == key
                    && c.max_skew == 1
                    && (!hard || c.when_unsatisfiable == "DoNotSchedule")
                    && selects(
                        c.label_selector
                            .as_ref()
                            .and_then(|s| s.match_labels.as_ref()),
                        &labels,
                    )
            })
        };
        if !spread_ok("topology.kubernetes.io/zone", true) {
            sink.add("workload-zone-spread", file, &id, "spec.template.spec.topologySpreadConstraints", "no zone spread (topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule, selecting the pod labels)", "add that constraint to base/deployment.yaml");
        }
        let anti = pod
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
        if !spread_ok("kubernetes.io/hostname", false) && !anti {
            sink.add("workload-host-spread", file, &id, "spec.template.spec.topologySpreadConstraints", "no spread or anti-affinity on kubernetes.io/hostname", "add a topologySpreadConstraint on kubernetes.io/hostname (maxSkew 1, ScheduleAnyway) to base/deployment.yaml");
        }
        // Service account token.
        let sa_name = pod.service_account_name.as_deref().unwrap_or("default");
        let sa_auto = t
            .accounts
            .iter()
            .find(|(_, s)| s.metadata.name.as_deref() == Some(sa_name))
            .and_then(|(_, s)| s.automount_service_account_token);
        if pod
            .automount_service_account_token
            .or(sa_auto)
            .unwrap_or(true)
        {
            sink.add(
                "workload-service-account-token",
                file,
                &id,
                "spec.template.spec.automountServiceAccountToken",
                "the pods get an API token they do not need",
                "set `automountServiceAccountToken: false` on the pod spec and the ServiceAccount",
            );
        }
        // Pod-level security.
        let psc = pod.security_context.as_ref();
        let grace = pod.termination_grace_period_seconds.unwrap_or(30);
        if grace != i64::from(app.shutdown.termination_grace_period_seconds) {
            sink.add(
                "region-values",
                overlay,
                &id,
                "spec.template.spec.terminationGracePeriodSeconds",
                format!(
                    "is {grace}, the catalogue says {}",
                    app.shutdown.termination_grace_period_seconds
                ),
                "run `gen render`",
            );
        }
        if pod
            .image_pull_secrets
            .as_ref()
            .is_some_and(|s| !s.is_empty())
        {
            sink.add(
                "workload-image-registry",
                file,
                &id,
                "spec.template.spec.imagePullSecrets",
                "uses a pull secret",
                "remove it: the kubelet identity has AcrPull on the registry",
            );
        }
        for (i, c) in pod.containers.iter().enumerate() {
            let cf = format!("spec.template.spec.containers[{i}]");
            // Probes.
            let path_of = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
                p.as_ref().map(|p| {
                    p.http_get
                        .as_ref()
                        .and_then(|h| h.path.clone())
                        .unwrap_or_default()
                })
            };
            let (ready, live, start) = (
                path_of(&c.readiness_probe),
                path_of(&c.liveness_probe),
                path_of(&c.startup_probe),
            );
            for (name, p) in [
                ("readinessProbe", &ready),
                ("livenessProbe", &live),
                ("startupProbe", &start),
            ] {
                if p.is_none() {
                    sink.add(
                        "workload-probes",
                        file,
                        &id,
                        &format!("{cf}.{name}"),
                        format!("container `{}` has no {name}", c.name),
                        "add an httpGet probe on the named port `http` in base/deployment.yaml",
                    );
                }
            }
            if let (Some(r), Some(l)) = (&ready, &live)
                && r == l
            {
                sink.add(
                    "workload-probes",
                    file,
                    &id,
                    &format!("{cf}.livenessProbe.httpGet.path"),
                    format!("liveness uses the readiness path `{r}`"),
                    "give liveness its own path: readiness fails on purpose while draining",
                );
            }
            if c.name == crate_container(t) {
                let want = [
                    (&ready, &app.probes.readiness, "readinessProbe"),
                    (&live, &app.probes.liveness, "livenessProbe"),
                    (&start, &app.probes.startup, "startupProbe"),
                ];
                for (got, want, name) in want {
                    if got.as_deref().is_some_and(|g| g != want.as_str()) {
                        sink.add(
                            "region-values",
                            overlay,
                            &id,
                            &format!("{cf}.{name}.httpGet.path"),
                            format!(
                                "is `{}`, the catalogue says `{want}`",
                                got.as_deref().unwrap_or("")
                            ),
                            "run `gen render`",
                        );
                    }
                }
                for (env, want) in [
                    ("REGION", region.name.to_string()),
                    ("READINESS_PATH", app.probes.readiness.clone()),
                    ("LIVENESS_PATH", app.probes.liveness.clone()),
                    ("STARTUP_PATH", app.probes.startup.clone()),
                    ("PORT", app.port.to_string()),
                ] {
                    if env_value(c, env) != Some(want.as_str()) {
                        sink.add(
                            "region-values",
                            overlay,
                            &id,
                            &format!("{cf}.env[{env}]"),
                            format!("is {:?}, the catalogue says `{want}`", env_value(c, env)),
                            "run `gen render`",
                        );
                    }
                }
                let image_ref = app.image_ref(&catalogue.registry);
                if c.image.as_deref() != Some(image_ref.as_str()) {
                    sink.add(
                        "region-values",
                        overlay,
                        &id,
                        &format!("{cf}.image"),
                        format!(
                            "is `{}`, the catalogue says `{image_ref}`",
                            c.image.as_deref().unwrap_or("")
                        ),
                        "run `gen render`",
                    );
                }
            }
            // Resources.
            let res = c.resources.as_ref();
            let has = |m: Option<
                &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
            >,
                       k: &str| m.is_some_and(|m| m.contains_key(k));
            for (what, ok) in [
                (
                    "requests.cpu",
                    has(res.and_then(|r| r.requests.as_ref()), "cpu"),
                ),
                (
                    "requests.memory",
                    has(res.and_then(|r| r.requests.as_ref()), "memory"),
                ),
                (
                    "limits.memory",
                    has(res.and_then(|r| r.limits.as_ref()), "memory"),
                ),
            ] {
                if !ok {
                    sink.add(
                        "workload-resources",
                        file,
                        &id,
                        &format!("{cf}.resources.{what}"),
                        format!("container `{}` has no {what}", c.name),
                        "set it (the catalogue's app.resources feed the overlay)",
                    );
                }
            }
            // Container security.
            let csc = c.security_context.as_ref();
            let mut bad = Vec::new();
            if csc
                .and_then(|s| s.run_as_non_root)
                .or(psc.and_then(|s| s.run_as_non_root))
                != Some(true)
            {
                bad.push("runAsNonRoot: true");
            }
            if csc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
                bad.push("allowPrivilegeEscalation: false");
            }
            if csc.and_then(|s| s.privileged) == Some(true) {
                bad.push("privileged: false");
            }
            if !csc
                .and_then(|s| s.capabilities.as_ref())
                .and_then(|c| c.drop.as_ref())
                .is_some_and(|d| d.iter().any(|x| x == "ALL"))
            {
                bad.push("capabilities.drop: [ALL]");
            }
            let seccomp = csc
                .and_then(|s| s.seccomp_profile.as_ref())
                .or(psc.and_then(|s| s.seccomp_profile.as_ref()));
            if !seccomp.is_some_and(|s| s.type_ == "RuntimeDefault" || s.type_ == "Localhost") {
                bad.push("seccompProfile.type: RuntimeDefault");
            }
            if csc.and_then(|s| s.read_only_root_filesystem) != Some(true) {
                bad.push("readOnlyRootFilesystem: true");
            }
            if !bad.is_empty() {
                sink.add(
                    "workload-security-context",
                    file,
                    &id,
                    &format!("{cf}.securityContext"),
                    format!("container `{}` misses {}", c.name, bad.join(", ")),
                    "set them in base/deployment.yaml (Pod Security \"restricted\")",
                );
            }
            // Image.
            if !c.image.as_deref().is_some_and(|i| i.starts_with(&registry)) {
                sink.add(
                    "workload-image-registry",
                    file,
                    &id,
                    &format!("{cf}.image"),
                    format!(
                        "`{}` is not from {registry}",
                        c.image.as_deref().unwrap_or("")
                    ),
                    "images come from the catalogue's registry; the overlay's `images:` sets it",
                );
            }
            // Graceful shutdown.
            let num = |n: &str| env_value(c, n).and_then(|v| v.parse::<i64>().ok());
            match (num("DRAIN_DELAY_SECONDS"), num("SHUTDOWN_TIMEOUT_SECONDS")) {
                (Some(d), Some(s)) if grace > d + s => {}
                (Some(d), Some(s)) => sink.add(
                    "workload-graceful-shutdown",
                    file,
                    &id,
                    "spec.template.spec.terminationGracePeriodSeconds",
                    format!("{grace}s is not more than drain {d}s + shutdown {s}s"),
                    "raise app.shutdown.terminationGracePeriodSeconds in the catalogue",
                ),
                _ if c.name == crate_container(t) => sink.add(
                    "workload-graceful-shutdown",
                    file,
                    &id,
                    &format!("{cf}.env"),
                    "DRAIN_DELAY_SECONDS or SHUTDOWN_TIMEOUT_SECONDS is missing or not a number",
                    "set both in base/deployment.yaml",
                ),
                _ => {}
            }
            if c.name == crate_container(t) {
                for (env, want) in [
                    ("DRAIN_DELAY_SECONDS", app.shutdown.drain_seconds),
                    (
                        "SHUTDOWN_TIMEOUT_SECONDS",
                        app.shutdown.in_flight_timeout_seconds,
                    ),
                ] {
                    if num(env).is_some_and(|v| v != i64::from(want)) {
                        sink.add(
                            "region-values",
                            overlay,
                            &id,
                            &format!("{cf}.env[{env}]"),
                            format!("the catalogue says {want}"),
                            "run `gen render`",
                        );
                    }
                }
            }
        }
        // PDB.
        let pdb = t.pdbs.iter().find(|(_, p)| {
            selects(
                p.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| s.match_labels.as_ref()),
                &labels,
            )
        });
        match pdb {
            None => sink.add(
                "workload-pdb",
                file,
                &id,
                "",
                "no PodDisruptionBudget selects its pods",
                "add one to the base (poddisruptionbudget.yaml)",
            ),
            Some((_, p)) => {
                let s = p.spec.as_ref();
                if s.is_some_and(|s| s.max_unavailable.is_some() && s.min_available.is_some()) {
                    sink.add(
                        "workload-pdb",
                        overlay,
                        &format!(
                            "PodDisruptionBudget/{}",
                            p.metadata.name.as_deref().unwrap_or("")
                        ),
                        "spec",
                        "sets both minAvailable and maxUnavailable; the API server rejects it",
                        "set one of them (catalogue app.disruption); the overlay patch deletes the base's other one",
                    );
                }
                let allowed = match (
                    s.and_then(|s| s.max_unavailable.as_ref()),
                    s.and_then(|s| s.min_available.as_ref()),
                ) {
                    (Some(IntOrString::Int(n)), _) => *n >= 1,
                    (None, Some(IntOrString::Int(n))) => *n < replicas,
                    (Some(IntOrString::String(s)), _) => s != "0%" && s != "0",
                    (None, Some(IntOrString::String(s))) => s != "100%",
                    (None, None) => false,
                };
                if !allowed {
                    sink.add(
                        "workload-pdb",
                        file,
                        &format!(
                            "PodDisruptionBudget/{}",
                            p.metadata.name.as_deref().unwrap_or("")
                        ),
                        "spec",
                        format!("allows no disruption at {replicas} replicas"),
                        "use maxUnavailable: 1 (catalogue app.disruption)",
                    );
                }
            }
        }
        // HPA.
        match hpa {
            None => sink.add(
                "workload-hpa",
                file,
                &id,
                "",
                "no HorizontalPodAutoscaler targets it",
                "add one to the base (horizontalpodautoscaler.yaml)",
            ),
            Some((_, h)) => {
                let hid = format!(
                    "HorizontalPodAutoscaler/{}",
                    h.metadata.name.as_deref().unwrap_or("")
                );
                let s = h.spec.as_ref();
                let min = s.and_then(|s| s.min_replicas).unwrap_or(1);
                let max = s.map_or(0, |s| s.max_replicas);
                if i64::from(min) < zones as i64 {
                    sink.add(
                        "workload-hpa",
                        file,
                        &hid,
                        "spec.minReplicas",
                        format!("{min} is below the {zones} zones"),
                        "raise regions[].replicas.min in the catalogue",
                    );
                }
                if max < min {
                    sink.add(
                        "workload-hpa",
                        file,
                        &hid,
                        "spec.maxReplicas",
                        format!("{max} is below minReplicas {min}"),
                        "raise regions[].replicas.max in the catalogue",
                    );
                }
                if i64::from(min) != i64::from(region.replicas.min)
                    || i64::from(max) != i64::from(region.replicas.max)
                {
                    sink.add(
                        "region-values",
                        overlay,
                        &hid,
                        "spec",
                        format!(
                            "min/max {min}/{max}, the catalogue says {}/{}",
                            region.replicas.min, region.replicas.max
                        ),
                        "run `gen render`",
                    );
                }
            }
        }
    }
    // Service.
    let pip = [
        (
            "service.beta.kubernetes.io/azure-pip-name",
            region.public_ip.name.as_str(),
        ),
        (
            "service.beta.kubernetes.io/azure-load-balancer-resource-group",
            region.public_ip_resource_group(),
        ),
        (
            "service.beta.kubernetes.io/azure-dns-label-name",
            region.public_ip.dns_label.as_str(),
        ),
    ];
    let lbs: Vec<_> = t
        .services
        .iter()
        .filter(|(_, s)| s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer"))
        .collect();
    if lbs.is_empty() {
        sink.add(
            "service-static-ip",
            overlay,
            "",
            "",
            "no Service of type LoadBalancer",
            "the base must expose the service through a LoadBalancer Service",
        );
    }
    for (_, s) in lbs {
        let id = format!("Service/{}", s.metadata.name.as_deref().unwrap_or(""));
        let ann = s.metadata.annotations.clone().unwrap_or_default();
        for (k, want) in pip {
            if ann.get(k).map(String::as_str) != Some(want) {
                sink.add(
                    "service-static-ip",
                    overlay,
                    &id,
                    &format!("metadata.annotations[{k}]"),
                    format!("is {:?}, the catalogue says `{want}`", ann.get(k)),
                    "run `gen render` (the overlay sets it from regions[].publicIp)",
                );
            }
        }
        let port = s
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|p| p.first())
            .map(|p| p.port);
        if port != Some(i32::from(app.service_port)) {
            sink.add(
                "region-values",
                overlay,
                &id,
                "spec.ports[0].port",
                format!("is {port:?}, the catalogue says {}", app.service_port),
                "run `gen render`",
            );
        }
    }
    // NetworkPolicy: a default deny for ingress and egress, and what the app's pods may do.
    let deny = t.netpols.iter().any(|(_, n)| {
        n.spec.as_ref().is_some_and(|s| {
            let all = s.pod_selector.as_ref().is_none_or(|p| {
                p.match_labels.as_ref().is_none_or(|m| m.is_empty())
                    && p.match_expressions.as_ref().is_none_or(|m| m.is_empty())
            });
            let types = s.policy_types.clone().unwrap_or_default();
            all && types.iter().any(|t| t == "Ingress")
                && types.iter().any(|t| t == "Egress")
                && s.ingress.as_ref().is_none_or(|i| i.is_empty())
                && s.egress.as_ref().is_none_or(|e| e.is_empty())
        })
    });
    if !deny {
        sink.add("workload-network-policy", overlay, "", "", "no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)", "add it to base/networkpolicy.yaml");
    }
    for (o, n) in &t.netpols {
        let file = o.origin.as_str();
        let id = format!("NetworkPolicy/{}", n.metadata.name.as_deref().unwrap_or(""));
        let Some(s) = n.spec.as_ref() else { continue };
        for (i, rule) in s.ingress.iter().flatten().enumerate() {
            let ok = rule.ports.as_ref().is_some_and(|ps| {
                !ps.is_empty()
                    && ps.iter().all(|p| match &p.port {
                        Some(IntOrString::String(n)) => n == "http",
                        Some(IntOrString::Int(n)) => i64::from(*n) == i64::from(app.port),
                        None => false,
                    })
            });
            if !ok {
                sink.add(
                    "workload-network-policy",
                    file,
                    &id,
                    &format!("spec.ingress[{i}].ports"),
                    "ingress is allowed on other ports than the service's",
                    "allow only port `http` (the container port)",
                );
            }
        }
        for (i, rule) in s.egress.iter().flatten().enumerate() {
            let dns_only = rule.ports.as_ref().is_some_and(|ps| {
                !ps.is_empty() && ps.iter().all(|p| p.port == Some(IntOrString::Int(53)))
            });
            if !dns_only {
                sink.add(
                    "workload-network-policy",
                    file,
                    &id,
                    &format!("spec.egress[{i}]"),
                    "egress beyond DNS is allowed; the service calls nothing",
                    "allow only port 53 to kube-dns",
                );
            }
        }
    }
}

/// The service's container: the first container of the first Deployment.
fn crate_container<'t>(t: &'t Typed<'_>) -> &'t str {
    t.deployments
        .first()
        .and_then(|(_, d)| d.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .map_or("", |c| c.name.as_str())
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Catalogue(catalogue::CatalogueError),
    #[error(transparent)]
    Render(#[from] crate::render::Error),
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The generated files on disk, as a tree (for validating what is committed).
pub fn read_tree(repo: &Path) -> Result<RenderedTree, Error> {
    fn walk(repo: &Path, rel: &Path, tree: &mut RenderedTree) -> Result<(), Error> {
        let abs = repo.join(rel);
        let rd = match std::fs::read_dir(&abs) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(Error::Read { path: abs, source }),
        };
        for e in rd {
            let e = e.map_err(|source| Error::Read {
                path: abs.clone(),
                source,
            })?;
            let rel = rel.join(e.file_name());
            let ft = e.file_type().map_err(|source| Error::Read {
                path: abs.clone(),
                source,
            })?;
            if ft.is_dir() {
                walk(repo, &rel, tree)?;
            } else if ft.is_file() {
                let text =
                    std::fs::read_to_string(repo.join(&rel)).map_err(|source| Error::Read {
                        path: repo.join(&rel),
                        source,
                    })?;
                tree.files.insert(rel, text);
            }
        }
        Ok(())
    }
    let mut tree = RenderedTree::default();
    for top in GENERATED_DIRS {
        walk(repo, Path::new(top), &mut tree)?;
    }
    Ok(tree)
}

/// All findings of `gen validate`: catalogue invariants, then the committed tree's rules.
/// `Err` for input that cannot be checked at all (unreadable or unparsable catalogue, base).
pub fn validate_repo(ctx: &Context) -> Result<Vec<Finding>, Error> {
    let loaded = match catalogue::load(&ctx.catalogue) {
        Ok(l) => l,
        Err(catalogue::CatalogueError::Invalid { findings }) => {
            return Ok(findings
                .into_iter()
                .map(|l| Finding {
                    rule: l.rule,
                    file: l
                        .location
                        .as_ref()
                        .map(|a| a.file.clone())
                        .unwrap_or_default(),
                    position: l.location.as_ref().map(|a| (a.line, a.column)),
                    object: String::new(),
                    field: l.subject,
                    message: l.message,
                    help: l.help,
                    regions: Vec::new(),
                })
                .collect());
        }
        Err(e) => return Err(Error::Catalogue(e)),
    };
    let c = &loaded.catalogue;
    let base = Base::load(&ctx.repo.join("base"))?;
    let tree = read_tree(&ctx.repo)?;
    let names: Vec<&str> = c.regions.iter().map(|r| r.name.as_str()).collect();
    let mut findings = validate_tree(c, &base, &tree, &names);
    let mut stale = std::collections::BTreeSet::new();
    for p in tree.files.keys() {
        let mut comps = p.components();
        if let (Some(top), Some(region)) = (comps.next(), comps.next()) {
            let region = region.as_os_str().to_string_lossy().into_owned();
            if c.region(&region).is_none() {
                stale.insert(format!("{}/{region}", top.as_os_str().to_string_lossy()));
            }
        }
    }
    for dir in stale {
        findings.push(Finding {
            rule: "tree-stale",
            file: dir,
            position: None,
            object: String::new(),
            field: String::new(),
            message: "is not a region of the catalogue".into(),
            help: "run `gen render --all`, which removes it".into(),
            regions: Vec::new(),
        });
    }
    Ok(findings)
}

/// Text, JSON or SARIF 2.1.0 output of findings.
pub fn format_findings(findings: &[Finding], format: ReportFormat) -> String {
    match format {
        ReportFormat::Text => {
            let mut s: String = findings.iter().map(|f| format!("{f}\n")).collect();
            s.push_str(&format!("gen validate: {} finding(s)\n", findings.len()));
            s
        }
        ReportFormat::Json => serde_json::to_string_pretty(findings).unwrap_or_default() + "\n",
        ReportFormat::Sarif => sarif(findings),
    }
}

fn sarif(findings: &[Finding]) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let catalogue_rules = catalogue::POLICY.rules().map(|r| (r.id, r.summary, r.why));
    for (id, what, why) in catalogue_rules.chain(RULES.iter().copied()) {
        rules.push(serde_json::json!({
            "id": id,
            "shortDescription": { "text": what },
            "fullDescription": { "text": format!("{what}: {why}") },
            "help": { "text": why },
        }));
    }
    rules.push(
        serde_json::json!({"id": "schema", "shortDescription": {"text": "the catalogue parses"}}),
    );
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut loc = serde_json::json!({ "artifactLocation": { "uri": f.file } });
            if let Some((line, col)) = f.position {
                loc["region"] = serde_json::json!({ "startLine": line, "startColumn": col });
            }
            let mut text = String::new();
            if !f.object.is_empty() {
                text.push_str(&format!("{} ", f.object));
            }
            if !f.field.is_empty() {
                text.push_str(&format!("`{}`: ", f.field));
            }
            text.push_str(&format!("{} (fix: {})", f.message, f.help));
            if !f.regions.is_empty() {
                text.push_str(&format!(" [regions: {}]", f.regions.join(", ")));
            }
            serde_json::json!({
                "ruleId": f.rule,
                "level": "error",
                "message": { "text": text },
                "locations": [ { "physicalLocation": loc } ],
            })
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": { "name": "gen", "version": crate::render::VERSION, "rules": rules } },
            "results": results,
        } ],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// `gen validate`.
pub fn run(ctx: &Context, args: &ValidateArgs) -> Result<ExitCode, Error> {
    let findings = validate_repo(ctx)?;
    print!("{}", format_findings(&findings, args.format));
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
