//! The effective objects of an overlay: what `kubectl kustomize overlays/<region>` yields,
//! computed in-process for the subset of Kustomize that the base and the rendered overlays use
//! (`resources`, `namespace`, `labels`, `images`, `replicas`, strategic-merge `patches`).
//!
//! Why not run kustomize: it costs ~150 ms per build and a process per region, and validation
//! must run before anything is written, on every render. Why this is sound: gen renders the
//! overlays itself, `KustomizeFile` rejects every kustomization field outside the subset (so
//! nothing is silently ignored), and the test suite compares this build with the real
//! `kubectl kustomize` output for every region of the shipped catalogue.
//!
//! `replicas` is still built although gen no longer renders it (the HPA's `minReplicas`
//! carries the region's minimum): a hand-edited or stale overlay that sets it must build as
//! kustomize builds it, so that rule `workload-replicas-owned-by-hpa` reports the
//! `spec.replicas` it produces instead of a generic unsupported-field error.

use super::crds::KustomizeFile;
use serde_json::{Map, Value};
use std::fmt;

/// Reads a repository-relative file (forward slashes); `None` when it does not exist.
pub trait Files {
    fn read(&self, path: &str) -> Option<&str>;
    /// The already-built objects of the kustomization in `dir`, when the caller has them
    /// (the base is built once per render, not once per region).
    fn prebuilt(&self, _dir: &str) -> Option<&[Object]> {
        None
    }
}

/// One object after the build, with the file it came from (for findings).
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub origin: String,
    pub value: Value,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// `Kind/name`, as findings name objects.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }
}

/// A build failure: which file, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

fn err(file: &str, message: impl Into<String>) -> BuildError {
    BuildError {
        file: file.to_string(),
        message: message.into(),
    }
}

/// Parser options for gen's own small, trusted-size files: no budget pre-pass, no comment
/// capture (they cost more than the parse itself on 400+ files; see BENCHMARKS.md).
fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.budget = None;
    o.emit_comments = false;
    o
}

/// Parses every YAML document of a file into JSON values (empty documents are skipped).
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Value>, BuildError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| {
            let first = e.to_string();
            let first = first.lines().next().unwrap_or_default().to_string();
            match e.location() {
                Some(l) => err(file, format!("{}:{}: {first}", l.line(), l.column())),
                None => err(file, first),
            }
        })?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Parses a `kustomization.yaml` strictly.
pub fn parse_kustomization(file: &str, text: &str) -> Result<KustomizeFile, BuildError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or_default().to_string();
        let at = e
            .location()
            .map(|l| format!("{}:{}: ", l.line(), l.column()))
            .unwrap_or_default();
        err(
            file,
            format!("{at}{first} (gen builds overlays in-process and supports only resources, namespace, labels, images, replicas and patches)"),
        )
    })
}

/// Joins `dir` and a relative `path`, resolving `..` (forward slashes, no leading `./`).
pub fn join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Builds the kustomization in `dir` (repository-relative).
pub fn build(files: &dyn Files, dir: &str) -> Result<Vec<Object>, BuildError> {
    build_depth(files, dir, 0)
}

fn build_depth(files: &dyn Files, dir: &str, depth: usize) -> Result<Vec<Object>, BuildError> {
    if let Some(objects) = files.prebuilt(dir) {
        return Ok(objects.to_vec());
    }
    let kfile = join(dir, "kustomization.yaml");
    if depth > 8 {
        return Err(err(&kfile, "resources nest too deep (a cycle?)"));
    }
    let text = files
        .read(&kfile)
        .ok_or_else(|| err(&kfile, "missing kustomization.yaml"))?;
    let k = parse_kustomization(&kfile, text)?;
    let mut objects = Vec::new();
    for r in &k.resources {
        let path = join(dir, r);
        if files.read(&join(&path, "kustomization.yaml")).is_some() {
            objects.extend(build_depth(files, &path, depth + 1)?);
        } else if let Some(text) = files.read(&path) {
            for value in parse_documents(&path, text)? {
                objects.push(Object {
                    origin: path.clone(),
                    value,
                });
            }
        } else {
            return Err(err(
                &kfile,
                format!("resource `{r}` does not exist ({path})"),
            ));
        }
    }
    for p in &k.patches {
        let path = join(dir, &p.path);
        let text = files
            .read(&path)
            .ok_or_else(|| err(&kfile, format!("patch `{}` does not exist", p.path)))?;
        for patch in parse_documents(&path, text)? {
            apply_patch(&mut objects, &path, &patch)?;
        }
    }
    if let Some(ns) = &k.namespace {
        for o in &mut objects {
            set_namespace(&mut o.value, ns);
        }
    }
    for set in &k.labels {
        for o in &mut objects {
            add_labels(&mut o.value, set);
        }
    }
    for image in &k.images {
        for o in &mut objects {
            for_each_container(&mut o.value, |c| {
                if let Some(Value::String(current)) = c.get_mut("image") {
                    *current = override_image(current, image);
                }
            });
        }
    }
    for r in &k.replicas {
        let mut found = false;
        for o in objects.iter_mut().filter(|o| o.name() == r.name) {
            let workload = matches!(o.kind(), "Deployment" | "StatefulSet" | "ReplicaSet");
            if workload && let Some(spec) = o.value.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert("replicas".into(), Value::from(r.count));
                found = true;
            }
        }
        if !found {
            return Err(err(
                &kfile,
                format!("replicas: no workload named `{}`", r.name),
            ));
        }
    }
    Ok(objects)
}

const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
];

fn set_namespace(v: &mut Value, ns: &str) {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if kind == "Namespace" {
        // Kustomize renames the Namespace object to the namespace it sets.
        meta.insert("name".into(), Value::from(ns));
    } else if !CLUSTER_SCOPED.contains(&kind.as_str()) {
        meta.insert("namespace".into(), Value::from(ns));
    }
}

fn labels_of<'a>(v: &'a mut Value, pointer: &str) -> Option<&'a mut Map<String, Value>> {
    let obj = v.pointer_mut(pointer)?.as_object_mut()?;
    obj.entry("labels")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

fn add_labels(v: &mut Value, set: &super::crds::LabelSet) {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut targets = vec!["/metadata".to_string()];
    let has_template = matches!(
        kind.as_str(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job"
    );
    if (set.include_templates || set.include_selectors) && has_template {
        targets.push("/spec/template/metadata".into());
    }
    for t in targets {
        if t.starts_with("/spec/template") {
            // Kustomize creates the template's metadata (and labels) when the template has none.
            let Some(template) = v
                .pointer_mut("/spec/template")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            template
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if let Some(labels) = labels_of(v, &t) {
            for (k, val) in &set.pairs {
                labels.insert(k.clone(), Value::from(val.as_str()));
            }
        }
    }
    if set.include_selectors {
        let selectors: &[&str] = match kind.as_str() {
            "Service" => &["/spec/selector"],
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "PodDisruptionBudget" => {
                &["/spec/selector/matchLabels"]
            }
            _ => &[],
        };
        for s in selectors {
            if let Some(m) = v.pointer_mut(s).and_then(Value::as_object_mut) {
                for (k, val) in &set.pairs {
                    m.insert(k.clone(), Value::from(val.as_str()));
                }
            }
        }
    }
}

fn for_each_container(v: &mut Value, mut f: impl FnMut(&mut Map<String, Value>)) {
    for list in ["containers", "initContainers"] {
        let pointer = format!("/spec/template/spec/{list}");
        if let Some(cs) = v.pointer_mut(&pointer).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                f(c);
            }
        }
    }
}

/// Splits `name[:tag][@digest]` the way Kustomize's image transformer matches names.
fn split_image(image: &str) -> (&str, &str) {
    if let Some(at) = image.find('@') {
        return (&image[..at], &image[at..]);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].find(':') {
        Some(c) => (&image[..last_slash + c], &image[last_slash + c..]),
        None => (image, ""),
    }
}

fn override_image(current: &str, o: &super::crds::ImageOverride) -> String {
    let (name, suffix) = split_image(current);
    if name != o.name {
        return current.to_string();
    }
    let name = o.new_name.as_deref().unwrap_or(name);
    if let Some(d) = &o.digest {
        format!("{name}@{d}")
    } else if let Some(t) = &o.new_tag {
        format!("{name}:{t}")
    } else {
        format!("{name}{suffix}")
    }
}

fn apply_patch(objects: &mut [Object], file: &str, patch: &Value) -> Result<(), BuildError> {
    let kind = patch.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = patch
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let target = objects
        .iter_mut()
        .find(|o| o.kind() == kind && o.name() == name)
        .ok_or_else(|| {
            err(
                file,
                format!("the patch targets {kind}/{name}, which the base does not have"),
            )
        })?;
    merge(&mut target.value, patch, "");
    Ok(())
}

/// Strategic merge for the subset gen uses: maps merge recursively, `null` deletes a key,
/// lists with a known merge key merge by it, a `$patch: replace` element replaces the list,
/// any other list is replaced (as Kubernetes' patch strategies say for those fields).
pub fn merge(base: &mut Value, patch: &Value, field: &str) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, pv) in p {
                if pv.is_null() {
                    b.remove(k);
                } else if let Some(bv) = b.get_mut(k) {
                    merge(bv, pv, k);
                } else {
                    let mut v = pv.clone();
                    strip_directives(&mut v);
                    b.insert(k.clone(), v);
                }
            }
        }
        (Value::Array(b), Value::Array(p)) => {
            let replace = p
                .iter()
                .any(|e| e.get("$patch").and_then(Value::as_str) == Some("replace"));
            let key = merge_key(field, p);
            match key {
                Some(key) if !replace => {
                    // As Kubernetes' strategic merge orders it: the patch's elements first
                    // (merged with their base element), then the base elements it does not name.
                    let mut rest: Vec<Value> = std::mem::take(b);
                    for pe in p {
                        let id = pe.get(key);
                        let found = rest.iter().position(|be| id.is_some() && be.get(key) == id);
                        let mut v = match found {
                            Some(i) => {
                                let mut be = rest.remove(i);
                                merge(&mut be, pe, "");
                                be
                            }
                            None => pe.clone(),
                        };
                        strip_directives(&mut v);
                        b.push(v);
                    }
                    b.extend(rest);
                }
                _ => {
                    let mut v: Vec<Value> = p
                        .iter()
                        .filter(|e| e.get("$patch").is_none())
                        .cloned()
                        .collect();
                    v.iter_mut().for_each(strip_directives);
                    *b = v;
                }
            }
        }
        (b, p) => {
            let mut v = p.clone();
            strip_directives(&mut v);
            *b = v;
        }
    }
}

fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("$patch");
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => {
            a.retain(|e| e.get("$patch").is_none());
            a.iter_mut().for_each(strip_directives);
        }
        _ => {}
    }
}

fn merge_key(field: &str, patch: &[Value]) -> Option<&'static str> {
    match field {
        "containers" | "initContainers" | "env" | "volumes" | "imagePullSecrets" => Some("name"),
        // The Kubernetes API merges volume mounts by path, not by volume name.
        "volumeMounts" => Some("mountPath"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ports" if patch.iter().any(|e| e.get("containerPort").is_some()) => Some("containerPort"),
        "ports" if patch.iter().any(|e| e.get("port").is_some()) => Some("port"),
        _ => None,
    }
}
