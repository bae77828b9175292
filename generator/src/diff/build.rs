//! Building one region the way its GitOps agent would: start at the cluster entry point
//! (`clusters/<region>/`, or `argocd/<region>/`), build it, then follow every Flux
//! Kustomization's `spec.path` (Argo CD Application's `spec.source(s).path`) and build that,
//! recursively. Without an entry point, `overlays/<region>/` is built directly.

use super::objects::{self, Manifests};
use crate::kustomize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn is_kustomization_dir(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// Paths (repository-relative) the objects tell the agent to build next.
pub fn followed_paths(object: &Value) -> Vec<String> {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut out = Vec::new();
    if api.starts_with("kustomize.toolkit.fluxcd.io/") && kind == "Kustomization" {
        if let Some(p) = object.pointer("/spec/path").and_then(Value::as_str) {
            out.push(p.to_string());
        } else {
            out.push(String::new()); // Flux builds the source root when path is empty
        }
    }
    if api.starts_with("argoproj.io/") && kind == "Application" {
        if let Some(p) = object.pointer("/spec/source/path").and_then(Value::as_str) {
            out.push(p.to_string());
        }
        if let Some(sources) = object.pointer("/spec/sources").and_then(Value::as_array) {
            out.extend(
                sources
                    .iter()
                    .filter_map(|s| s.get("path").and_then(Value::as_str))
                    .map(str::to_string),
            );
        }
    }
    out
}

/// `./overlays/eastus2/` → `overlays/eastus2`; refuses absolute paths and `..`.
fn normalize(path: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("`{path}` leaves the repository")),
            p => parts.push(p),
        }
    }
    if path.starts_with('/') {
        return Err(format!(
            "`{path}` is absolute; GitOps paths are relative to the repository root"
        ));
    }
    Ok(parts.join("/"))
}

/// Builds `region` under `root`. Errors are plain messages naming the directory.
pub fn build_region(root: &Path, region: &str) -> Result<Manifests, String> {
    let mut queue: Vec<String> = ["clusters", "argocd"]
        .iter()
        .map(|top| format!("{top}/{region}"))
        .filter(|d| is_kustomization_dir(&root.join(d)))
        .collect();
    if queue.is_empty() {
        let overlay = format!("overlays/{region}");
        if !root.join(&overlay).is_dir() {
            return Err(format!(
                "{region}: neither clusters/{region}/ nor overlays/{region}/ holds a kustomization"
            ));
        }
        queue.push(overlay);
    }
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut manifests = Manifests::new();
    while let Some(dir) = queue.pop() {
        let shown = if dir.is_empty() { "." } else { dir.as_str() };
        let yaml = kustomize::build(&root.join(&dir)).map_err(|e| match e {
            kustomize::Error::Build { stderr, .. } => {
                format!("kustomize build of {shown}/ failed: {}", stderr.trim())
            }
            other => other.to_string(),
        })?;
        let objects = objects::parse(&yaml)
            .map_err(|e| format!("{shown}/: cannot parse the build output: {e}"))?;
        for (key, value) in objects {
            for next in followed_paths(&value) {
                let next =
                    normalize(&next).map_err(|e| format!("{shown}/: {key}: spec path {e}"))?;
                if seen.insert(next.clone()) {
                    if !is_kustomization_dir(&root.join(&next)) {
                        return Err(format!(
                            "{shown}/: {key} points at ./{next}, which holds no kustomization in this tree"
                        ));
                    }
                    queue.push(next);
                }
            }
            manifests.insert(key, value);
        }
    }
    Ok(manifests)
}
