//! Family `gitops`: each cluster's entry point (Flux Kustomization or Argo CD Application)
//! is there, parses, and points at its overlay and at the configured source.

use super::{Build, strict_crd, subject};
use crate::hydrate::crds::{ArgoApplication, FluxKustomization, KustomizeFile};
use crate::hydrate::effective;
use catalogue::GitOpsEngine;
use policy::{Check, Policy, Rule, Severity, Sink};

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

static CHECKS: [Check<Build>; 1] = [Check {
    rule: Rule {
        id: "gitops-entry-point",
        family: "gitops",
        severity: Severity::Error,
        summary: "each cluster's entry point (Flux Kustomization or Argo CD Application) parses, points at its overlay and at the configured source, prunes, and health-checks the Deployment",
        why: "an entry point nothing reconciles, or one that points elsewhere, deploys nothing; without pruning, removed objects stay; without health checks Flux reports Ready before the pods are",
        fix: "run `gen render`; entry points are generated, never edited",
    },
    check: entry_point,
}];

const HELP: &str = "run `gen render`; entry points are generated, never edited";

fn entry_point(b: &Build, sink: &mut Sink<'_>) {
    let region = &b.region.name;
    let g = &b.catalogue.gitops;
    let get = |p: &str| b.files.get(p).map(String::as_str);
    let overlay_k = format!("overlays/{region}/kustomization.yaml");
    match g.engine {
        GitOpsEngine::Flux => {
            let kfile = format!("clusters/{region}/kustomization.yaml");
            let Some(text) = get(&kfile) else {
                sink.report(
                    subject("", &kfile),
                    "missing: the Flux configuration of this cluster applies ./clusters/<region>",
                    HELP,
                );
                return;
            };
            let k: KustomizeFile = match effective::parse_kustomization(&kfile, text) {
                Ok(k) => k,
                Err(e) => {
                    sink.report(subject("", &kfile), e.message, HELP);
                    return;
                }
            };
            let mut found = false;
            for res in &k.resources {
                let path = effective::join(&format!("clusters/{region}"), res);
                let Some(text) = get(&path) else {
                    sink.report(
                        subject("", &format!("{kfile}: resources")),
                        format!("`{res}` does not exist"),
                        HELP,
                    );
                    continue;
                };
                let docs = match effective::parse_documents(&path, text) {
                    Ok(d) => d,
                    Err(e) => {
                        sink.report(subject("", &path), e.message, HELP);
                        continue;
                    }
                };
                for d in docs {
                    let fk: FluxKustomization = match strict_crd(&d) {
                        Ok(fk) => fk,
                        Err(problems) => {
                            for (field, msg) in problems {
                                sink.report(subject("Kustomization/?", &field), msg, HELP);
                            }
                            continue;
                        }
                    };
                    let id = format!("Kustomization/{}", fk.metadata.name);
                    if fk.api_version != "kustomize.toolkit.fluxcd.io/v1"
                        || fk.kind != "Kustomization"
                    {
                        sink.report(
                            subject(&id, "apiVersion"),
                            "not a kustomize.toolkit.fluxcd.io/v1 Kustomization",
                            HELP,
                        );
                    }
                    let want = format!("./overlays/{region}");
                    if fk.spec.path == want {
                        found = true;
                        if get(&overlay_k).is_none() {
                            sink.report(
                                subject(&id, "spec.path"),
                                format!("`{want}` has no kustomization.yaml"),
                                HELP,
                            );
                        }
                    } else {
                        sink.report(
                            subject(&id, "spec.path"),
                            format!("is `{}`, not `{want}`", fk.spec.path),
                            HELP,
                        );
                    }
                    if fk.spec.source_ref.kind != "GitRepository"
                        || fk.spec.source_ref.name != g.source_name
                        || fk.metadata.namespace != g.namespace
                    {
                        sink.report(
                            subject(&id, "spec.sourceRef"),
                            format!("must name GitRepository `{}` in `{}` (gitops.sourceName: what the AKS Flux configuration creates)", g.source_name, g.namespace),
                            HELP,
                        );
                    }
                    // `wait: true` health-checks every applied object and makes Flux ignore
                    // `healthChecks`; without it, the Deployment must be listed.
                    let deployment = b
                        .typed
                        .deployments
                        .first()
                        .and_then(|(_, d)| d.metadata.name.clone())
                        .unwrap_or_default();
                    let app_checked = fk.spec.health_checks.iter().any(|h| {
                        h.kind == "Deployment"
                            && h.name == deployment
                            && h.namespace.as_deref() == Some(b.catalogue.app.namespace())
                    });
                    if !fk.spec.wait && !app_checked {
                        sink.report(
                            subject(&id, "spec.wait"),
                            "neither `wait: true` nor a health check of the Deployment: Flux reports Ready before the pods are",
                            HELP,
                        );
                    }
                    if fk.spec.wait && !fk.spec.health_checks.is_empty() {
                        sink.report(
                            subject(&id, "spec.healthChecks"),
                            "is ignored by Flux when `wait: true` (it checks every applied object instead)",
                            HELP,
                        );
                    }
                    if !fk.spec.prune {
                        sink.report(
                            subject(&id, "spec.prune"),
                            "prune is off: objects removed from Git stay in the cluster",
                            HELP,
                        );
                    }
                }
            }
            if !found {
                sink.report(
                    subject("", &format!("{kfile}: resources")),
                    format!("no Flux Kustomization points at ./overlays/{region}"),
                    HELP,
                );
            }
        }
        GitOpsEngine::Argocd => {
            let path = format!("argocd/{region}/application.yaml");
            let Some(text) = get(&path) else {
                sink.report(subject("", &path), "missing", HELP);
                return;
            };
            let docs = match effective::parse_documents(&path, text) {
                Ok(d) => d,
                Err(e) => {
                    sink.report(subject("", &path), e.message, HELP);
                    return;
                }
            };
            for d in docs {
                let app: ArgoApplication = match strict_crd(&d) {
                    Ok(a) => a,
                    Err(problems) => {
                        for (field, msg) in problems {
                            sink.report(subject("Application/?", &field), msg, HELP);
                        }
                        continue;
                    }
                };
                let id = format!("Application/{}", app.metadata.name);
                if app.api_version != "argoproj.io/v1alpha1" || app.kind != "Application" {
                    sink.report(
                        subject(&id, "apiVersion"),
                        "not an argoproj.io/v1alpha1 Application",
                        HELP,
                    );
                }
                let s = &app.spec.source;
                if s.path != format!("overlays/{region}")
                    || s.repo_url != g.repo
                    || s.target_revision != g.branch
                {
                    sink.report(
                        subject(&id, "spec.source"),
                        format!("must be {} @ {} path overlays/{region}", g.repo, g.branch),
                        HELP,
                    );
                }
                if get(&overlay_k).is_none() {
                    sink.report(
                        subject(&id, "spec.source.path"),
                        "the overlay has no kustomization.yaml",
                        HELP,
                    );
                }
            }
        }
    }
}
