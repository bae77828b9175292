//! The rendered-object rules, on the shared policy engine (`policy::Policy`): one registry
//! per family, each in its own file. A check reads one region's hydrated [`Build`] and
//! reports what and where (`subject` = `Kind/name: field.path`); placing a finding in a file
//! and applying waivers is the caller's job (`crate::validate`). No clap, no filesystem.

pub mod gitops;
pub mod monitoring;
pub mod network;
pub mod pod_security;
pub mod schema;
pub mod tree;
pub mod values;
pub mod waivers;
pub mod workload;

use crate::hydrate::crds::PodMonitor;
use crate::hydrate::effective::{BuildError, Object};
use crate::tree::RenderedTree;
use catalogue::{Catalogue, Region};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use policy::Policy;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every registry of rules over one region's build, in report order.
pub static FAMILIES: [&Policy<Build>; 8] = [
    &schema::POLICY,
    &workload::POLICY,
    &pod_security::POLICY,
    &network::POLICY,
    &values::POLICY,
    &gitops::POLICY,
    &monitoring::POLICY,
    &waivers::POLICY,
];

/// Every rendered rule (region families and the tree family), for `gen explain` and SARIF.
pub fn all_rules() -> Vec<&'static policy::Rule> {
    let mut out: Vec<_> = FAMILIES.iter().flat_map(|p| p.rules()).collect();
    out.extend(tree::POLICY.rules());
    out
}

/// The annotation that waives a rule on one object: `"<rule-id>: <reason>"`, one per line.
pub const WAIVE_ANNOTATION: &str = "gen.ha-gitops/waive";

/// A finding's subject: the object and the field path, `Kind/name: spec.x`.
pub fn subject(object: &str, field: &str) -> String {
    match (object.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (false, true) => object.to_string(),
        (false, false) => format!("{object}: {field}"),
    }
}

/// The inverse of [`subject`]: `(object, field)`; the object is empty when there is none.
pub fn split_subject(subject: &str) -> (&str, &str) {
    // An object is `Kind/name` (a kind is CamelCase); `clusters/R/kustomization.yaml: resources`
    // names a file, which the caller locates as such.
    let is_object = |o: &str| o.contains('/') && o.starts_with(|c: char| c.is_ascii_uppercase());
    match subject.split_once(": ") {
        Some((o, f)) if is_object(o) => (o, f),
        _ if is_object(subject) && !subject.contains('.') => (subject, ""),
        _ => ("", subject),
    }
}

/// The typed core objects of one build; each entry keeps the index of its [`Object`].
#[derive(Debug, Default, Clone)]
pub struct Typed {
    pub deployments: Vec<(usize, Deployment)>,
    pub services: Vec<(usize, Service)>,
    pub pdbs: Vec<(usize, PodDisruptionBudget)>,
    pub hpas: Vec<(usize, HorizontalPodAutoscaler)>,
    pub netpols: Vec<(usize, NetworkPolicy)>,
    pub accounts: Vec<(usize, ServiceAccount)>,
    /// The managed Prometheus agent's PodMonitors (`hydrate::crds`).
    pub pod_monitors: Vec<(usize, PodMonitor)>,
}

/// A problem of the strict parse: object id, field path, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    pub object: String,
    pub field: String,
    pub message: String,
}

/// One region's hydrated build: what every region rule reads. Owns its data (the catalogue
/// is shared) because the registries are `'static`.
#[derive(Debug)]
pub struct Build {
    pub catalogue: Arc<Catalogue>,
    pub region: Region,
    /// The region's rendered (or committed) files: `overlays/R/`, `clusters/R/`, `argocd/R/`.
    pub files: BTreeMap<String, String>,
    /// The effective objects (`kubectl kustomize overlays/<region>`); empty if the build failed.
    pub objects: Vec<Object>,
    pub build_error: Option<BuildError>,
    pub typed: Typed,
    pub schema: Vec<SchemaProblem>,
}

impl Build {
    /// Types `objects` strictly; problems go to `schema` (reported by rule `k8s-schema`).
    pub fn new(
        catalogue: Arc<Catalogue>,
        region: Region,
        tree: &RenderedTree,
        built: Result<Vec<Object>, BuildError>,
    ) -> Self {
        let files = tree
            .files
            .iter()
            .filter_map(|(p, text)| {
                let p = p.to_string_lossy().replace('\\', "/");
                let mut parts = p.splitn(3, '/');
                let (_, r) = (parts.next()?, parts.next()?);
                (r == region.name).then(|| (p.clone(), text.clone()))
            })
            .collect();
        let (objects, build_error) = match built {
            Ok(o) => (o, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let mut typed = Typed::default();
        let mut schema = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            type_object(i, o, &mut typed, &mut schema);
        }
        Self {
            catalogue,
            region,
            files,
            objects,
            build_error,
            typed,
            schema,
        }
    }

    /// True when the typed rules can run: the build worked and every object parsed.
    pub fn is_typed(&self) -> bool {
        self.build_error.is_none() && self.schema.is_empty()
    }

    pub fn object(&self, index: usize) -> &Object {
        &self.objects[index]
    }

    /// The service's container: the first container of the first Deployment.
    pub fn app_container(&self) -> &str {
        self.typed
            .deployments
            .first()
            .and_then(|(_, d)| d.spec.as_ref())
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|p| p.containers.first())
            .map_or("", |c| c.name.as_str())
    }
}

/// `Kind/name` of a typed object's metadata name.
pub fn id(kind: &str, name: Option<&String>) -> String {
    format!("{kind}/{}", name.map_or("", String::as_str))
}

/// `serde_ignored` / `serde_path_to_error` paths (`spec.?.template.0.x`) as field paths
/// (`spec.template[0].x`).
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

fn join_field(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Required fields the input lacks. k8s-openapi fills a missing required field with its
/// default (a probe without `port` parses, with port 0), so the parse alone accepts what
/// the API server and `kubernetes-validate --strict` refuse. Every non-`Option` field is
/// serialized back, and `Option` fields only when set: a key of the re-serialized value that
/// the input lacks is exactly a required property that is missing.
fn missing_required(input: &Value, typed: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match (input, typed) {
        (Value::Object(i), Value::Object(t)) => {
            for (k, tv) in t {
                match i.get(k) {
                    None | Some(Value::Null) => {
                        out.push((join_field(path, k), format!("'{k}' is a required property")))
                    }
                    Some(iv) => missing_required(iv, tv, &join_field(path, k), out),
                }
            }
        }
        (Value::Array(i), Value::Array(t)) => {
            for (n, (iv, tv)) in i.iter().zip(t).enumerate() {
                missing_required(iv, tv, &format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

/// Strict typed parse of a Kubernetes core kind: unknown fields, type errors and missing
/// required fields become `(field, message)` problems.
pub fn strict<T: DeserializeOwned + Serialize>(v: &Value) -> Result<T, Vec<(String, String)>> {
    strict_with(v, true)
}

/// Strict parse of gen's own CRD types (`hydrate::crds`): their optional fields have serde
/// defaults that serialize back, so only unknown fields and type errors are problems.
pub fn strict_crd<T: DeserializeOwned + Serialize>(v: &Value) -> Result<T, Vec<(String, String)>> {
    strict_with(v, false)
}

fn strict_with<T: DeserializeOwned + Serialize>(
    v: &Value,
    required: bool,
) -> Result<T, Vec<(String, String)>> {
    let mut unknown = Vec::new();
    let mut cb = |p: serde_ignored::Path<'_>| unknown.push(tidy_path(&p.to_string()));
    let de = serde_ignored::Deserializer::new(v, &mut cb);
    let r: Result<T, _> = serde_path_to_error::deserialize(de);
    match r {
        Ok(t) => {
            let mut problems: Vec<(String, String)> = unknown
                .into_iter()
                .map(|f| (f, "unknown field".to_string()))
                .collect();
            if required && let Ok(back) = serde_json::to_value(&t) {
                let mut missing = Vec::new();
                missing_required(v, &back, "", &mut missing);
                // The envelope is not the object's schema: `metadata` is optional there, and
                // `apiVersion`/`kind` are checked by the dispatch on them.
                missing.retain(|(f, _)| !matches!(f.as_str(), "metadata" | "apiVersion" | "kind"));
                problems.extend(missing);
            }
            if problems.is_empty() {
                Ok(t)
            } else {
                Err(problems)
            }
        }
        Err(e) => {
            let path = tidy_path(&e.path().to_string());
            Err(vec![(path, e.into_inner().to_string())])
        }
    }
}

fn type_object(i: usize, o: &Object, typed: &mut Typed, schema: &mut Vec<SchemaProblem>) {
    let api = o
        .value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let object = o.id();
    let mut report = |problems: Vec<(String, String)>| {
        schema.extend(problems.into_iter().map(|(field, message)| SchemaProblem {
            object: object.clone(),
            field,
            message,
        }));
    };
    macro_rules! typed {
        ($ty:ty, $list:ident) => {
            match strict::<$ty>(&o.value) {
                Ok(t) => typed.$list.push((i, t)),
                Err(p) => report(p),
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
        ("azmonitoring.coreos.com/v1", "PodMonitor") => match strict_crd::<PodMonitor>(&o.value) {
            Ok(t) => typed.pod_monitors.push((i, t)),
            Err(p) => report(p),
        },
        ("monitoring.coreos.com/v1", kind @ ("PodMonitor" | "ServiceMonitor")) => report(vec![(
            "apiVersion".into(),
            format!(
                "monitoring.coreos.com/v1 {kind} is ignored by the Azure Monitor managed Prometheus agent; use apiVersion azmonitoring.coreos.com/v1"
            ),
        )]),
        ("v1", "Namespace") => {
            if let Err(p) = strict::<Namespace>(&o.value) {
                report(p);
            }
        }
        (api, kind) => report(vec![(
            "kind".into(),
            format!(
                "{api} {kind} is not a kind gen validates (the base may hold Namespace, ServiceAccount, Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler (autoscaling/v2) and NetworkPolicy; the overlay adds an azmonitoring.coreos.com/v1 PodMonitor)"
            ),
        )]),
    }
}

/// True when `selector` is non-empty and every pair of it is in `labels`.
pub fn selects(
    selector: Option<&BTreeMap<String, String>>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Probe;

    #[test]
    fn a_probe_with_a_path_and_no_port_is_refused_like_kubernetes_validate_strict() {
        let v = serde_json::json!({"httpGet": {"path": "/readyz"}, "periodSeconds": 5});
        let err = strict::<Probe>(&v).unwrap_err();
        assert_eq!(
            err,
            vec![(
                "httpGet.port".to_string(),
                "'port' is a required property".to_string()
            )]
        );
        let fixed = serde_json::json!({"httpGet": {"path": "/readyz", "port": "http"}});
        assert!(strict::<Probe>(&fixed).is_ok());
    }

    #[test]
    fn unknown_fields_and_type_errors_are_problems() {
        let v = serde_json::json!({"httpGet": {"path": "/r", "port": 1}, "perodSeconds": 5});
        assert_eq!(strict::<Probe>(&v).unwrap_err()[0].0, "perodSeconds");
        let v = serde_json::json!({"httpGet": {"path": "/r", "port": 1}, "periodSeconds": "x"});
        assert_eq!(strict::<Probe>(&v).unwrap_err()[0].0, "periodSeconds");
    }

    #[test]
    fn subjects_round_trip() {
        assert_eq!(
            split_subject(&subject("Deployment/hello", "spec.x")),
            ("Deployment/hello", "spec.x")
        );
        assert_eq!(
            split_subject(&subject("Deployment/hello", "")),
            ("Deployment/hello", "")
        );
        assert_eq!(split_subject(&subject("", "resources")), ("", "resources"));
        // A file is not an object: the caller places it at that file.
        assert_eq!(
            split_subject("clusters/eastus2/kustomization.yaml: resources"),
            ("", "clusters/eastus2/kustomization.yaml: resources")
        );
    }

    #[test]
    fn serde_paths_become_field_paths() {
        assert_eq!(tidy_path("spec.?.template.0.x"), "spec.template[0].x");
        assert_eq!(tidy_path("a..b.?"), "a.b");
        assert_eq!(tidy_path("0.name"), "[0].name");
    }
}
