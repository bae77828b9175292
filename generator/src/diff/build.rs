//! Building one region the way its GitOps agent would: start at the cluster entry point
//! (`clusters/<region>/`, or `argocd/<region>/`), build it, then follow every Flux
//! Kustomization's `spec.path` (Argo CD Application's `spec.source(s).path`) and build that,
//! recursively. Without an entry point, `overlays/<region>/` is built directly.
//!
//! Each directory is built in-process (`hydrate::effective`, the engine `gen validate` uses)
//! when every kustomization it reaches is inside that subset; otherwise with `kubectl
//! kustomize`, and the build says why ([`Fallback`]) so the caller can print one notice.
//! A directory the subset supports but that does not build in-process is also handed to
//! kubectl, so a broken tree is reported with kustomize's own message.

use super::objects::{self, Manifests, ObjectKey};
use super::snapshot::Source;
use crate::hydrate::effective::{self, Files};
use crate::kustomize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn is_kustomization_dir(src: &Source, dir: &str) -> bool {
    KUSTOMIZATION_FILES
        .iter()
        .any(|f| src.is_file(&effective::join(dir, f)))
}

/// Which engine builds the directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// In-process when the subset covers the directory, else `kubectl kustomize`.
    Auto,
    /// Always `kubectl kustomize` (for comparisons and benchmarks).
    Kubectl,
}

/// A directory built with `kubectl kustomize` because of a feature outside the in-process
/// subset: `built` is the directory that was built, `file` the kustomization (or patch) that
/// uses the feature.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fallback {
    pub built: String,
    pub file: String,
    pub feature: String,
}

/// One region's objects, and the directories that needed kubectl.
#[derive(Debug, Clone)]
pub struct RegionBuild {
    pub manifests: Result<Manifests, String>,
    pub fallbacks: Vec<Fallback>,
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

/// Builds `region` under `root` (in-process where the subset allows). Errors are plain
/// messages naming the directory.
pub fn build_region(root: &Path, region: &str) -> Result<Manifests, String> {
    build_region_with(root, region, Engine::Auto).manifests
}

/// [`build_region`] with a chosen engine, reporting the directories that needed kubectl.
pub fn build_region_with(root: &Path, region: &str, engine: Engine) -> RegionBuild {
    build_region_in(&Source::Disk(root.to_path_buf()), region, engine)
}

/// [`build_region_with`] over any [`Source`] (a git tree held in memory, or a directory).
pub fn build_region_in(src: &Source, region: &str, engine: Engine) -> RegionBuild {
    let mut fallbacks = Vec::new();
    let manifests = build_region_inner(src, region, engine, &mut fallbacks);
    RegionBuild {
        manifests,
        fallbacks,
    }
}

/// Builds one kustomization directory (repository-relative) as [`build_region_with`] builds
/// each directory it meets, without following entry points.
pub fn build_directory(root: &Path, dir: &str, engine: Engine) -> RegionBuild {
    let src = Source::Disk(root.to_path_buf());
    let mut fallbacks = Vec::new();
    let manifests =
        build_dir(&src, dir, dir, engine, &mut fallbacks).map(|o| o.into_iter().collect());
    RegionBuild {
        manifests,
        fallbacks,
    }
}

/// An Argo CD entry point (`argocd/<region>/`) without a kustomization: its YAML files are
/// the objects applied to the cluster's Argo CD as they are.
fn is_plain_entry_dir(src: &Source, dir: &str) -> bool {
    !is_kustomization_dir(src, dir) && !src.yaml_files_in(dir).is_empty()
}

fn build_region_inner(
    src: &Source,
    region: &str,
    engine: Engine,
    fallbacks: &mut Vec<Fallback>,
) -> Result<Manifests, String> {
    let mut queue: Vec<String> = Vec::new();
    let mut plain: Vec<String> = Vec::new();
    for top in ["clusters", "argocd"] {
        let d = format!("{top}/{region}");
        if is_kustomization_dir(src, &d) {
            queue.push(d);
        } else if is_plain_entry_dir(src, &d) {
            plain.push(d);
        }
    }
    if queue.is_empty() && plain.is_empty() {
        let overlay = format!("overlays/{region}");
        if !src.is_dir(&overlay) {
            return Err(format!(
                "{region}: neither clusters/{region}/ nor overlays/{region}/ holds a kustomization"
            ));
        }
        queue.push(overlay);
    }
    let mut seen: BTreeSet<String> = queue.iter().chain(&plain).cloned().collect();
    let mut manifests = Manifests::new();
    let mut built: Vec<(String, Vec<(ObjectKey, Value)>)> = Vec::new();
    for dir in &plain {
        let mut objects = Vec::new();
        for rel in src.yaml_files_in(dir) {
            let text = src
                .read(&rel)
                .ok_or_else(|| format!("{rel}: cannot read it (not UTF-8?)"))?;
            let docs = effective::parse_documents(&rel, &text).map_err(|e| e.to_string())?;
            objects.extend(keyed(docs));
        }
        built.push((dir.clone(), objects));
    }
    loop {
        if let Some((shown, objects)) = built.pop() {
            for (key, value) in objects {
                for next in followed_paths(&value) {
                    let next =
                        normalize(&next).map_err(|e| format!("{shown}/: {key}: spec path {e}"))?;
                    if seen.insert(next.clone()) {
                        if !is_kustomization_dir(src, &next) {
                            return Err(format!(
                                "{shown}/: {key} points at ./{next}, which holds no kustomization in this tree"
                            ));
                        }
                        queue.push(next);
                    }
                }
                manifests.insert(key, value);
            }
            continue;
        }
        let Some(dir) = queue.pop() else { break };
        let shown = if dir.is_empty() { "." } else { dir.as_str() }.to_string();
        let objects = build_dir(src, &dir, &shown, engine, fallbacks)?;
        built.push((shown, objects));
    }
    Ok(manifests)
}

fn keyed(docs: Vec<Value>) -> Vec<(ObjectKey, Value)> {
    docs.into_iter()
        .filter_map(|d| ObjectKey::of(&d).map(|k| (k, d)))
        .collect()
}

/// One kustomization directory: in-process when the subset covers it, else kubectl.
fn build_dir(
    src: &Source,
    dir: &str,
    shown: &str,
    engine: Engine,
    fallbacks: &mut Vec<Fallback>,
) -> Result<Vec<(ObjectKey, Value)>, String> {
    if engine == Engine::Auto {
        match build_in_process(src, dir) {
            Ok(objects) => return Ok(objects),
            Err(Outside::Unsupported { file, feature }) => fallbacks.push(Fallback {
                built: format!("{shown}/"),
                file,
                feature,
            }),
            // Inside the subset but not buildable: kubectl gives the authoritative message.
            Err(Outside::Broken) => {}
        }
    }
    let root = src
        .on_disk()
        .map_err(|e| format!("{shown}/: cannot write the tree for kubectl: {e}"))?;
    let yaml = kustomize::build(&root.join(dir)).map_err(|e| match e {
        kustomize::Error::Build { stderr, .. } => {
            format!("kustomize build of {shown}/ failed: {}", stderr.trim())
        }
        other => other.to_string(),
    })?;
    objects::parse(&yaml).map_err(|e| format!("{shown}/: cannot parse the build output: {e}"))
}

/// Why a directory is not built in-process.
#[derive(Debug)]
enum Outside {
    /// A feature outside the subset, in `file`.
    Unsupported { file: String, feature: String },
    /// Inside the subset, but it does not build (a missing file, a bad patch target, ...).
    Broken,
}

fn unsupported(file: &str, feature: impl Into<String>) -> Outside {
    Outside::Unsupported {
        file: file.to_string(),
        feature: feature.into(),
    }
}

/// The files of one build, read while checking the subset.
struct DiskFiles(BTreeMap<String, String>);

impl Files for DiskFiles {
    fn read(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

/// Which transformers the kustomizations of one build use (their file), for the checks that
/// depend on the kinds of the objects.
#[derive(Default)]
struct Uses {
    namespace: Option<String>,
    images: Option<String>,
    labels: Option<String>,
}

fn build_in_process(src: &Source, dir: &str) -> Result<Vec<(ObjectKey, Value)>, Outside> {
    let mut files = DiskFiles(BTreeMap::new());
    let mut uses = Uses::default();
    collect(src, dir, &mut files, &mut uses, 0)?;
    let objects = effective::build(&files, dir).map_err(|_| Outside::Broken)?;
    check_kinds(&objects, &uses)?;
    let keyed: Vec<(ObjectKey, Value)> = keyed(objects.into_iter().map(|o| o.value).collect());
    // Kustomize refuses two objects with one id; let it say so.
    let ids: BTreeSet<&ObjectKey> = keyed.iter().map(|(k, _)| k).collect();
    if ids.len() != keyed.len() {
        return Err(Outside::Broken);
    }
    Ok(keyed)
}

const TOP_LEVEL: &[&str] = &[
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
];

/// Does `rel` (relative to `dir`) climb above the repository root?
fn escapes(dir: &str, rel: &str) -> bool {
    let mut depth = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .count() as i64;
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    rel.starts_with('/')
}

fn is_remote(r: &str) -> bool {
    r.contains("://")
        || r.starts_with("git@")
        || r.starts_with("github.com/")
        || r.contains("?ref=")
}

fn read(src: &Source, rel: &str, files: &mut DiskFiles) -> Result<(), Outside> {
    if files.0.contains_key(rel) {
        return Ok(());
    }
    let text = src.read(rel).ok_or(Outside::Broken)?;
    files.0.insert(rel.to_string(), text);
    Ok(())
}

fn keys_within(v: &Value, allowed: &[&str], file: &str, what: &str) -> Result<(), Outside> {
    let Some(map) = v.as_object() else {
        return Err(Outside::Broken);
    };
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(unsupported(file, format!("`{what}` with `{k}`"))),
        None => Ok(()),
    }
}

/// Reads every file the build of `dir` needs, refusing features outside the subset.
fn collect(
    src: &Source,
    dir: &str,
    files: &mut DiskFiles,
    uses: &mut Uses,
    depth: usize,
) -> Result<(), Outside> {
    let kfile = effective::join(dir, "kustomization.yaml");
    if depth > 8 {
        return Err(Outside::Broken);
    }
    if !src.is_file(&kfile) {
        for other in &KUSTOMIZATION_FILES[1..] {
            let f = effective::join(dir, other);
            if src.is_file(&f) {
                return Err(unsupported(
                    &f,
                    format!("a kustomization file named `{other}`"),
                ));
            }
        }
        return Err(Outside::Broken);
    }
    read(src, &kfile, files)?;
    let text = &files.0[&kfile];
    let doc: Value = effective::parse_documents(&kfile, text)
        .ok()
        .and_then(|d| d.into_iter().next())
        .ok_or(Outside::Broken)?;
    let map = doc.as_object().ok_or(Outside::Broken)?;
    if let Some(k) = map.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(unsupported(&kfile, format!("`{k}`")));
    }
    if let Some(kind) = map.get("kind").and_then(Value::as_str)
        && kind != "Kustomization"
    {
        return Err(unsupported(&kfile, format!("`kind: {kind}`")));
    }
    let list = |field: &str| {
        map.get(field)
            .map(|v| v.as_array().cloned().ok_or(Outside::Broken))
            .unwrap_or(Ok(Vec::new()))
    };
    if map.get("namespace").is_some() {
        uses.namespace.get_or_insert_with(|| kfile.clone());
    }
    for set in list("labels")? {
        keys_within(
            &set,
            &["pairs", "includeSelectors", "includeTemplates"],
            &kfile,
            "labels",
        )?;
        if set.get("includeSelectors").and_then(Value::as_bool) == Some(true) {
            return Err(unsupported(
                &kfile,
                "`labels` with `includeSelectors: true`",
            ));
        }
        uses.labels.get_or_insert_with(|| kfile.clone());
    }
    for image in list("images")? {
        keys_within(
            &image,
            &["name", "newName", "newTag", "digest"],
            &kfile,
            "images",
        )?;
        uses.images.get_or_insert_with(|| kfile.clone());
    }
    for r in list("replicas")? {
        keys_within(&r, &["name", "count"], &kfile, "replicas")?;
    }
    let mut patch_paths = Vec::new();
    for p in list("patches")? {
        let Some(entry) = p.as_object() else {
            return Err(Outside::Broken);
        };
        if entry.contains_key("target") {
            return Err(unsupported(
                &kfile,
                "a `patches` entry with `target` (a JSON 6902 or targeted patch)",
            ));
        }
        if entry.contains_key("patch") {
            return Err(unsupported(&kfile, "an inline `patches` entry (`patch:`)"));
        }
        keys_within(&p, &["path"], &kfile, "patches")?;
        let path = p
            .get("path")
            .and_then(Value::as_str)
            .ok_or(Outside::Broken)?;
        if is_remote(path) || escapes(dir, path) {
            return Err(unsupported(
                &kfile,
                format!("patch `{path}` outside the repository"),
            ));
        }
        // Kustomize's default load restrictor refuses a file outside the kustomization's own
        // directory: let kubectl say so.
        if escapes("", path) {
            return Err(Outside::Broken);
        }
        patch_paths.push(effective::join(dir, path));
    }
    for r in list("resources")? {
        let r = r.as_str().ok_or(Outside::Broken)?;
        if is_remote(r) {
            return Err(unsupported(&kfile, format!("remote resource `{r}`")));
        }
        if escapes(dir, r) {
            return Err(unsupported(
                &kfile,
                format!("resource `{r}` outside the repository"),
            ));
        }
        let path = effective::join(dir, r);
        if src.is_dir(&path) {
            collect(src, &path, files, uses, depth + 1)?;
        } else if escapes("", r) {
            // A file (not a base directory) outside this kustomization's directory: kustomize
            // refuses it by default.
            return Err(Outside::Broken);
        } else {
            read(src, &path, files)?;
        }
    }
    for path in patch_paths {
        read(src, &path, files)?;
        let docs =
            effective::parse_documents(&path, &files.0[&path]).map_err(|_| Outside::Broken)?;
        for doc in &docs {
            check_patch(doc, "", &path)?;
        }
    }
    Ok(())
}

/// List fields whose strategic merge the subset models: by merge key (see
/// `effective::merge`), or replaced whole (no patch strategy in the Kubernetes API).
const MERGED_LISTS: &[&str] = &[
    "containers",
    "initContainers",
    "env",
    "volumes",
    "volumeMounts",
    "imagePullSecrets",
    "topologySpreadConstraints",
    "ports",
];
const ATOMIC_LISTS: &[&str] = &[
    "args",
    "command",
    "envFrom",
    "tolerations",
    "nodeSelectorTerms",
    "matchExpressions",
    "values",
    "metrics",
    "add",
    "drop",
    "ingress",
    "egress",
    "policyTypes",
];

/// A strategic-merge patch inside the subset: no directive but `$patch: replace` in a list,
/// and lists only where the subset knows Kubernetes' merge strategy.
fn check_patch(v: &Value, field: &str, file: &str) -> Result<(), Outside> {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k.starts_with('$') {
                    let replace_in_list = k == "$patch"
                        && child.as_str() == Some("replace")
                        && field.starts_with('[');
                    if !replace_in_list {
                        return Err(unsupported(file, format!("the patch directive `{k}`")));
                    }
                    continue;
                }
                check_patch(child, k, file)?;
            }
        }
        Value::Array(items) => {
            if !MERGED_LISTS.contains(&field) && !ATOMIC_LISTS.contains(&field) {
                return Err(unsupported(
                    file,
                    format!("a patch of the list `{field}` (its merge strategy is not modelled)"),
                ));
            }
            let in_list = format!("[{field}]");
            for item in items {
                check_patch(item, &in_list, file)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Kinds whose transforms the subset does not model in full.
fn check_kinds(objects: &[effective::Object], uses: &Uses) -> Result<(), Outside> {
    for o in objects {
        let kind = o.kind();
        if let Some(file) = &uses.namespace
            && matches!(
                kind,
                "RoleBinding"
                    | "ClusterRoleBinding"
                    | "MutatingWebhookConfiguration"
                    | "ValidatingWebhookConfiguration"
                    | "APIService"
                    | "CustomResourceDefinition"
            )
        {
            return Err(unsupported(file, format!("`namespace` over a {kind}")));
        }
        if let Some(file) = &uses.images
            && matches!(kind, "Pod" | "CronJob" | "ReplicationController")
        {
            return Err(unsupported(file, format!("`images` over a {kind}")));
        }
        if let Some(file) = &uses.labels
            && matches!(kind, "CronJob" | "ReplicationController")
        {
            return Err(unsupported(file, format!("`labels` over a {kind}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_climb_out_of_the_repository_are_recognised() {
        assert!(!escapes("overlays/eastus2", "../../base"));
        assert!(escapes("overlays/eastus2", "../../../base"));
        assert!(escapes("base", "/etc/passwd"));
        assert!(!escapes("", "base"));
        assert!(is_remote("https://github.com/o/r//base?ref=v1"));
        assert!(!is_remote("../../base"));
    }
}
