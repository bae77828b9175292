//! Built manifests as objects keyed by apiVersion/kind/namespace/name, and their comparison:
//! added, removed, changed field paths (old → new for scalars), a unified diff per object.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    /// `Deployment hello/hello (apps/v1)`: kind, namespace/name, apiVersion.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        write!(f, "{} ({})", self.name, self.api_version)
    }
}

impl ObjectKey {
    /// `Deployment/hello`: short form for commit messages.
    pub fn short(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    pub(crate) fn of(v: &Value) -> Option<Self> {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let key = Self {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
        };
        (!key.kind.is_empty()).then_some(key)
    }
}

/// The objects of one region on one side.
pub type Manifests = BTreeMap<ObjectKey, Value>;

/// Parses multi-document YAML (as `kubectl kustomize` prints it) into objects.
pub fn parse(yaml: &str) -> Result<Vec<(ObjectKey, Value)>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).map_err(|e| e.to_string())?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.is_null())
        .filter_map(|d| ObjectKey::of(&d).map(|k| (k, d)))
        .collect())
}

/// One changed field: a path such as `spec.template.spec.containers[name=hello].image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub path: String,
    /// `None`: the field was added.
    pub old: Option<String>,
    /// `None`: the field was removed.
    pub new: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone)]
pub struct ObjectChange {
    pub key: ObjectKey,
    pub kind: ChangeKind,
    /// Changed fields (only for `Changed`).
    pub fields: Vec<FieldChange>,
    /// Unified diff of the object's YAML (the whole object for added/removed ones).
    pub unified: String,
}

/// Compares two object sets.
pub fn compare(old: &Manifests, new: &Manifests) -> Vec<ObjectChange> {
    let mut out = Vec::new();
    for (key, o) in old {
        match new.get(key) {
            None => out.push(change(key, ChangeKind::Removed, Some(o), None)),
            Some(n) if n != o => out.push(change(key, ChangeKind::Changed, Some(o), Some(n))),
            Some(_) => {}
        }
    }
    for (key, n) in new {
        if !old.contains_key(key) {
            out.push(change(key, ChangeKind::Added, None, Some(n)));
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn change(
    key: &ObjectKey,
    kind: ChangeKind,
    old: Option<&Value>,
    new: Option<&Value>,
) -> ObjectChange {
    let mut fields = Vec::new();
    if let (Some(o), Some(n)) = (old, new) {
        fields_diff("", o, n, &mut fields);
    }
    let old_text = old.map(to_yaml).unwrap_or_default();
    let new_text = new.map(to_yaml).unwrap_or_default();
    let label = format!("{}/{}/{}", key.kind, key.namespace, key.name).replace("//", "/");
    let unified = similar::TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{label}"), &format!("b/{label}"))
        .to_string();
    ObjectChange {
        key: key.clone(),
        kind,
        fields,
        unified,
    }
}

fn to_yaml(v: &Value) -> String {
    serde_saphyr::to_string(v)
        .unwrap_or_else(|_| serde_json::to_string_pretty(v).unwrap_or_default())
}

/// A scalar as people read it; containers as compact JSON, shortened.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn join(prefix: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (prefix.is_empty(), simple) {
        (true, true) => key.to_string(),
        (false, true) => format!("{prefix}.{key}"),
        (_, false) => format!("{prefix}[{key:?}]"),
    }
}

pub(crate) fn fields_diff(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, ov) in o {
                let p = join(path, k);
                match n.get(k) {
                    Some(nv) => fields_diff(&p, ov, nv, out),
                    None => out.push(FieldChange {
                        path: p,
                        old: Some(show(ov)),
                        new: None,
                    }),
                }
            }
            for (k, nv) in n {
                if !o.contains_key(k) {
                    out.push(FieldChange {
                        path: join(path, k),
                        old: None,
                        new: Some(show(nv)),
                    });
                }
            }
        }
        (Value::Array(o), Value::Array(n)) => {
            let names = |a: &[Value]| -> Option<Vec<String>> {
                a.iter()
                    .map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            };
            match (names(o), names(n)) {
                (Some(on), Some(nn)) if !on.is_empty() || !nn.is_empty() => {
                    // Lists of named things (containers, ports, env): match by name.
                    for (name, ov) in on.iter().zip(o) {
                        let p = format!("{path}[name={name}]");
                        match nn.iter().position(|x| x == name) {
                            Some(i) => fields_diff(&p, ov, &n[i], out),
                            None => out.push(FieldChange {
                                path: p,
                                old: Some(show(ov)),
                                new: None,
                            }),
                        }
                    }
                    for (name, nv) in nn.iter().zip(n) {
                        if !on.contains(name) {
                            out.push(FieldChange {
                                path: format!("{path}[name={name}]"),
                                old: None,
                                new: Some(show(nv)),
                            });
                        }
                    }
                }
                _ => {
                    for i in 0..o.len().max(n.len()) {
                        let p = format!("{path}[{i}]");
                        match (o.get(i), n.get(i)) {
                            (Some(ov), Some(nv)) => fields_diff(&p, ov, nv, out),
                            (Some(ov), None) => out.push(FieldChange {
                                path: p,
                                old: Some(show(ov)),
                                new: None,
                            }),
                            (None, Some(nv)) => out.push(FieldChange {
                                path: p,
                                old: None,
                                new: Some(show(nv)),
                            }),
                            (None, None) => {}
                        }
                    }
                }
            }
        }
        _ => out.push(FieldChange {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.to_string()
            },
            old: Some(show(old)),
            new: Some(show(new)),
        }),
    }
}

/// What a reviewer wants first about a region: what runs, how many, how it is probed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// Image of the first container of the (first) Deployment.
    pub image: Option<String>,
    /// The Deployment's replica floor: `minReplicas` of the HPA whose `scaleTargetRef` names
    /// it (the HPA owns the count; the Deployment sets no `spec.replicas`), else the
    /// Deployment's own `spec.replicas`. `replicas 3 → 6` in a summary is this value.
    pub replicas: Option<String>,
    /// `min–max` of the HorizontalPodAutoscaler, if any.
    pub autoscaling: Option<String>,
    /// Readiness probe of the first container: the HTTP path (or `tcp:<port>`, `exec`).
    pub readiness: Option<String>,
}

impl Workload {
    pub fn of(objects: &Manifests) -> Self {
        let mut w = Self::default();
        let deployment = objects.iter().find(|(k, _)| k.kind == "Deployment");
        if let Some((_, d)) = deployment {
            let c = d.pointer("/spec/template/spec/containers/0");
            w.image = c
                .and_then(|c| c.get("image"))
                .and_then(Value::as_str)
                .map(str::to_string);
            w.replicas = d.pointer("/spec/replicas").map(show);
            w.readiness = c.and_then(|c| c.get("readinessProbe")).map(|p| {
                if let Some(path) = p.pointer("/httpGet/path") {
                    show(path)
                } else if let Some(port) = p.pointer("/tcpSocket/port") {
                    format!("tcp:{}", show(port))
                } else if p.get("grpc").is_some() {
                    "grpc".into()
                } else {
                    "exec".into()
                }
            });
        }
        // The HPA scaling that Deployment (any HPA when there is no Deployment).
        let targets = |hk: &ObjectKey, h: &Value| match deployment {
            Some((dk, _)) => {
                hk.namespace == dk.namespace
                    && h.pointer("/spec/scaleTargetRef/kind")
                        .and_then(Value::as_str)
                        == Some("Deployment")
                    && h.pointer("/spec/scaleTargetRef/name")
                        .and_then(Value::as_str)
                        == Some(dk.name.as_str())
            }
            None => true,
        };
        if let Some(h) = objects
            .iter()
            .find(|(k, v)| k.kind == "HorizontalPodAutoscaler" && targets(k, v))
            .map(|(_, v)| v)
        {
            let min = h
                .pointer("/spec/minReplicas")
                .map(show)
                .unwrap_or("1".into());
            let max = h
                .pointer("/spec/maxReplicas")
                .map(show)
                .unwrap_or("?".into());
            w.autoscaling = Some(format!("{min}–{max}"));
            if deployment.is_some() {
                w.replicas = Some(min);
            }
        }
        w
    }

    /// `3` or `3 (HPA 3–12)`.
    pub fn replicas_label(&self) -> Option<String> {
        match (&self.replicas, &self.autoscaling) {
            (Some(r), Some(a)) => Some(format!("{r} (HPA {a})")),
            (Some(r), None) => Some(r.clone()),
            (None, Some(a)) => Some(format!("HPA {a}")),
            (None, None) => None,
        }
    }
}

/// `hello:1.0.0` → (`…/hello`, `1.0.0`); digests keep `sha256:` and are shortened to 12 hex.
pub fn split_image(image: &str) -> (&str, String) {
    if let Some((name, digest)) = image.split_once('@') {
        let short = match digest.split_once(':') {
            Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
            _ => digest.to_string(),
        };
        return (name, short);
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], image[slash + i + 1..].to_string()),
        None => (image, String::new()),
    }
}

/// Short display of an image change: `hello 1.0.0 → 1.1.0`, or both full references when the
/// repository itself changed.
pub fn image_change(old: &str, new: &str) -> String {
    let (on, ov) = split_image(old);
    let (nn, nv) = split_image(new);
    if on == nn {
        let base = on.rsplit('/').next().unwrap_or(on);
        format!("{base} {ov} → {nv}")
    } else {
        format!("{old} → {new}")
    }
}

/// The workload fields that differ, e.g. `image hello 1.0.0 → 1.1.0, replicas 3 → 6`.
pub fn workload_changes(old: &Workload, new: &Workload) -> Vec<String> {
    let none = || "none".to_string();
    let mut out = Vec::new();
    if old.image != new.image {
        match (&old.image, &new.image) {
            (Some(o), Some(n)) => out.push(format!("image {}", image_change(o, n))),
            (o, n) => out.push(format!(
                "image {} → {}",
                o.clone().unwrap_or_else(none),
                n.clone().unwrap_or_else(none)
            )),
        }
    }
    let pairs = [
        ("replicas", &old.replicas, &new.replicas),
        ("autoscaling", &old.autoscaling, &new.autoscaling),
        ("readiness", &old.readiness, &new.readiness),
    ];
    for (label, o, n) in pairs {
        if o != n {
            out.push(format!(
                "{label} {} → {}",
                o.clone().unwrap_or_else(none),
                n.clone().unwrap_or_else(none)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_lists_match_by_name_and_scalars_show_old_and_new() {
        let old: Value = serde_json::json!({"spec": {"replicas": 3, "containers": [
            {"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let new: Value = serde_json::json!({"spec": {"replicas": 6, "containers": [
            {"name": "b", "image": "y:1"}, {"name": "a", "image": "x:2"}], "paused": true}});
        let mut out = Vec::new();
        fields_diff("", &old, &new, &mut out);
        let paths: Vec<String> = out
            .iter()
            .map(|f| format!("{} {:?} {:?}", f.path, f.old, f.new))
            .collect();
        assert_eq!(
            paths,
            [
                "spec.containers[name=a].image Some(\"x:1\") Some(\"x:2\")",
                "spec.replicas Some(\"3\") Some(\"6\")",
                "spec.paused None Some(\"true\")",
            ]
        );
    }

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey {
            api_version: String::new(),
            kind: kind.into(),
            namespace: "hello".into(),
            name: name.into(),
        }
    }

    #[test]
    fn replicas_are_the_min_of_the_hpa_scaling_the_deployment() {
        let mut m = Manifests::new();
        m.insert(
            key("Deployment", "hello"),
            serde_json::json!({"spec": {"template": {"spec": {"containers": [{"image": "x:1"}]}}}}),
        );
        m.insert(
            key("HorizontalPodAutoscaler", "other"),
            serde_json::json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "other"},
                "minReplicas": 9, "maxReplicas": 9}}),
        );
        m.insert(
            key("HorizontalPodAutoscaler", "hello"),
            serde_json::json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "hello"},
                "minReplicas": 3, "maxReplicas": 12}}),
        );
        let w = Workload::of(&m);
        assert_eq!(w.replicas.as_deref(), Some("3"));
        assert_eq!(w.autoscaling.as_deref(), Some("3–12"));
        assert_eq!(w.replicas_label().as_deref(), Some("3 (HPA 3–12)"));
        let mut six = m.clone();
        six.insert(
            key("HorizontalPodAutoscaler", "hello"),
            serde_json::json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "hello"},
                "minReplicas": 6, "maxReplicas": 12}}),
        );
        assert_eq!(
            workload_changes(&w, &Workload::of(&six)),
            ["replicas 3 → 6", "autoscaling 3–12 → 6–12"]
        );
        // Without an HPA, the Deployment's own spec.replicas.
        let mut bare = Manifests::new();
        bare.insert(
            key("Deployment", "hello"),
            serde_json::json!({"spec": {"replicas": 2}}),
        );
        assert_eq!(Workload::of(&bare).replicas.as_deref(), Some("2"));
    }

    #[test]
    fn image_changes_read_short() {
        assert_eq!(
            image_change("r.azurecr.io/hello:1.0.0", "r.azurecr.io/hello:1.1.0"),
            "hello 1.0.0 → 1.1.0"
        );
        let d = format!("r.azurecr.io/hello@sha256:{}", "a".repeat(64));
        assert_eq!(
            image_change("r.azurecr.io/hello:1.0.0", &d),
            "hello 1.0.0 → sha256:aaaaaaaaaaaa"
        );
        assert_eq!(
            split_image("localhost:5000/x"),
            ("localhost:5000/x", String::new())
        );
    }
}
