//! Desired state, from the catalogue: one [`Spec`] per ARM resource, with the fields the tool
//! owns and how each compares (normalisation of §1.9 of the ARM notes) and may change.

mod cluster;
mod flux;
pub mod monitoring;
mod network;
mod registry;
mod role;
mod traffic_manager;

pub use cluster::{cluster_id, cluster_spec, version_matches};
pub use flux::{KUSTOMIZATION_NAME, flux_configuration_spec, flux_extension_spec};
pub use network::{public_ip_id, public_ip_spec, resource_group_spec};
pub use registry::{regional_endpoints_spec, registry_id, registry_spec, replication_spec};
pub use role::{RoleTarget, assignment_description, assignment_name, role_assignment_spec};
pub use traffic_manager::{endpoint_status, tm_endpoint_spec, tm_profile_id, tm_profile_spec};

use crate::arm::ResourceKind;
use serde_json::{Map, Value};

/// The tag every resource created here carries.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "infra");

pub fn tags() -> Value {
    serde_json::json!({ MANAGED_BY.0: MANAGED_BY.1 })
}

/// Can a field change on an existing resource?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Updated in place.
    Mutable,
    /// ARM refuses the change (`PropertyChangeNotAllowed`): plan reports it as blocked.
    Immutable,
    /// The resource must be deleted and created again (role assignments).
    Replace,
    /// A known difference that is reported but neither changed nor blocking (ACR's
    /// zone-redundancy-by-default quirk: a registry reads `Disabled` yet is zone redundant).
    Informational,
}

/// How a desired value is compared with what ARM returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Exact,
    /// Enums: ARM returns `standard` / `Standard` / `STANDARD` as it likes.
    CaseInsensitive,
    /// Unordered list (zones), elements compared as case-insensitive strings.
    Set,
    /// Resource ids: case-insensitive (`resourcegroups` vs `resourceGroups`), no trailing `/`.
    ResourceId,
    /// Locations: `East US 2` = `eastus2`.
    Location,
    /// Role definition ids: compare the trailing GUID only (scope forms differ).
    RoleDefinition,
    /// Structured values a service echoes with defaults of its own added (a metric alert's
    /// criteria, an action group's receivers, rule lists): every key the catalogue sets must
    /// match, recursively, arrays element by element with the same length; keys only ARM has
    /// are its defaults and do not count as a difference.
    Subset,
}

/// One owned field: where it is, what it should be, how to compare, what if it differs.
#[derive(Debug, Clone)]
pub struct Field {
    /// Dotted path; `list[name=x]` selects the element whose `name` is `x`.
    pub path: String,
    pub desired: Value,
    pub mutability: Mutability,
    pub cmp: Cmp,
    /// The value the service fills in when the field is absent (server-side default).
    pub default: Option<Value>,
}

impl Field {
    pub fn new(path: impl Into<String>, desired: Value, mutability: Mutability, cmp: Cmp) -> Self {
        Self {
            path: path.into(),
            desired,
            mutability,
            cmp,
            default: None,
        }
    }

    pub fn mutable(path: impl Into<String>, desired: Value) -> Self {
        Self::new(path, desired, Mutability::Mutable, Cmp::Exact)
    }

    pub fn immutable(path: impl Into<String>, desired: Value, cmp: Cmp) -> Self {
        Self::new(path, desired, Mutability::Immutable, cmp)
    }

    pub fn ci(path: impl Into<String>, desired: Value) -> Self {
        Self::new(path, desired, Mutability::Mutable, Cmp::CaseInsensitive)
    }

    pub fn cmp(mut self, cmp: Cmp) -> Self {
        self.cmp = cmp;
        self
    }

    pub fn with_default(mut self, d: Value) -> Self {
        self.default = Some(d);
        self
    }
}

/// A resource the catalogue asks for.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Step id, unique in a run: `registry`, `eastus2/cluster`, `rg/rg-ha-global`.
    pub key: String,
    pub kind: ResourceKind,
    /// `None` for global pieces (registry, Traffic Manager profile, global resource groups).
    pub region: Option<String>,
    /// Display name.
    pub name: String,
    /// ARM id (path under the endpoint).
    pub path: String,
    pub api_version: &'static str,
    /// Body of a create (updates: see `update`).
    pub body: Value,
    pub fields: Vec<Field>,
    /// Steps that must have succeeded first.
    pub depends_on: Vec<String>,
    /// How an existing resource is updated so that settings the tool does not own survive.
    pub update: UpdateMode,
    /// Things plan should say even when nothing changes.
    pub notes: Vec<String>,
}

/// How an update is sent. Either way nothing the tool does not own is dropped and no
/// read-only property (per the vendored spec of the pinned api-version) is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// GET, merge the owned fields into the live body ([`merge_owned`]), strip read-only
    /// properties, PUT with If-Match when the GET returned an ETag. For kinds whose spec has no
    /// PATCH that fits (resource groups, registry, replications, public IPs, clusters).
    MergePut,
    /// PATCH with only the owned fields that differ ([`patch_body`]). For kinds where a PUT
    /// would replace more than the tool knows: a Traffic Manager profile PUT replaces its
    /// endpoint list, and the Flux extension and configuration hold write-only protected
    /// settings that a GET never returns (a merged PUT would wipe them).
    Patch,
    /// One property of a resource another step creates (the registry's preview-only
    /// `regionalEndpoints`): always a PATCH with the spec's own api-version, never a PUT, even
    /// when the plan found nothing yet (the resource is created by the step it depends on).
    PatchOnly,
}

/// One difference between ARM and the catalogue.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    pub field: String,
    /// What ARM has now (`null` when absent).
    pub actual: Value,
    /// What the catalogue wants.
    pub desired: Value,
    #[serde(skip)]
    pub mutability: Mutability,
}

impl Spec {
    /// Differences over the owned fields, after normalisation.
    pub fn diff(&self, actual: &Value) -> Vec<Change> {
        // What ARM fills in (an action group receiver's `status`, a destination's `accountId`)
        // is never owned: compare without it.
        let mut actual = actual.clone();
        crate::arm::schema::schema(self.kind).strip_read_only(&mut actual);
        let actual = &actual;
        self.fields
            .iter()
            .filter_map(|f| {
                let a = get(actual, &f.path)
                    .filter(|v| !v.is_null())
                    .or(f.default.as_ref());
                if same(f.cmp, &f.desired, a) {
                    None
                } else {
                    Some(Change {
                        field: f.path.clone(),
                        actual: a.cloned().unwrap_or(Value::Null),
                        desired: f.desired.clone(),
                        mutability: f.mutability,
                    })
                }
            })
            .collect()
    }
}

/// The body of a merging update: the live resource as ARM returned it, with read-only bits that
/// get in the way removed (`systemData`, ETags, `provisioningState`, plus per-kind ones: cluster
/// versions, the profile's inlined Traffic Manager endpoints) and every owned mutable field
/// overlaid (objects deep-merged, arrays and scalars replaced). Everything the tool does not own
/// is sent back as it is; immutable and informational fields keep ARM's value.
pub fn merge_owned(spec: &Spec, actual: &Value) -> Value {
    let mut body = actual.clone();
    if let Some(o) = body.as_object_mut() {
        // Identity is in the URL; ETags travel in If-Match.
        for k in ["id", "name", "type", "systemData", "eTag", "etag"] {
            o.remove(k);
        }
    }
    if let Some(p) = body.get_mut("properties").and_then(Value::as_object_mut) {
        p.remove("provisioningState");
        if spec.kind == ResourceKind::TrafficManagerProfile {
            // Endpoints are their own resources, never inlined in the profile PUT.
            p.remove("endpoints");
        }
    }
    if spec.kind == ResourceKind::ManagedCluster {
        cluster::strip_for_update(&mut body);
    }
    for f in spec
        .fields
        .iter()
        .filter(|f| f.mutability == Mutability::Mutable)
    {
        let value = match get(&body, &f.path) {
            Some(cur) if cur.is_object() && f.desired.is_object() => {
                let mut merged = cur.clone();
                deep_merge(&mut merged, &f.desired);
                merged
            }
            _ => f.desired.clone(),
        };
        set(&mut body, &f.path, value);
    }
    crate::arm::schema::schema(spec.kind).strip_read_only(&mut body);
    body
}

/// The body of a PATCH: the owned mutable fields that differ (all owned mutable fields when
/// none differs, i.e. a resource left `Failed` is written again). Tags are sent as the live
/// tag set with the owned ones overlaid, because a PATCH replaces `tags` as a whole.
pub fn patch_body(spec: &Spec, actual: &Value, changes: &[Change]) -> Value {
    let owned: Vec<&Field> = spec
        .fields
        .iter()
        .filter(|f| f.mutability == Mutability::Mutable)
        .collect();
    let changed: Vec<&Field> = owned
        .iter()
        .copied()
        .filter(|f| changes.iter().any(|c| c.field == f.path))
        .collect();
    let send = if changed.is_empty() { owned } else { changed };
    let mut body = Value::Object(Map::new());
    let mut tags = false;
    for f in send {
        if f.path.starts_with("tags.") {
            tags = true;
        } else {
            set(&mut body, &f.path, f.desired.clone());
        }
    }
    if tags {
        let mut t = actual
            .get("tags")
            .filter(|t| t.is_object())
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        for f in spec.fields.iter().filter(|f| f.path.starts_with("tags.")) {
            set(&mut t, &f.path["tags.".len()..], f.desired.clone());
        }
        body["tags"] = t;
    }
    crate::arm::schema::schema(spec.kind).strip_read_only(&mut body);
    body
}

/// Overlays `src` on `dst`: objects merge key by key (keys matched case-insensitively when not
/// found exactly), anything else (arrays included) replaces.
fn deep_merge(dst: &mut Value, src: &Value) {
    match (dst.as_object_mut(), src.as_object()) {
        (Some(d), Some(s)) => {
            for (k, v) in s {
                let key = if d.contains_key(k) {
                    Some(k.clone())
                } else {
                    d.keys().find(|dk| dk.eq_ignore_ascii_case(k)).cloned()
                };
                match key.and_then(|k| d.get_mut(&k)) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        _ => *dst = src.clone(),
    }
}

fn same(cmp: Cmp, desired: &Value, actual: Option<&Value>) -> bool {
    let Some(actual) = actual else {
        return desired.is_null();
    };
    match cmp {
        Cmp::Exact => values_equal(desired, actual),
        Cmp::CaseInsensitive => match (desired.as_str(), actual.as_str()) {
            (Some(d), Some(a)) => d.eq_ignore_ascii_case(a),
            _ => values_equal(desired, actual),
        },
        Cmp::Set => {
            let norm = |v: &Value| -> Option<Vec<String>> {
                let mut s: Vec<String> = v.as_array()?.iter().map(scalar_string).collect();
                s.sort();
                s.dedup();
                Some(s)
            };
            norm(desired) == norm(actual)
        }
        Cmp::ResourceId => match (desired.as_str(), actual.as_str()) {
            (Some(d), Some(a)) => d
                .trim_end_matches('/')
                .eq_ignore_ascii_case(a.trim_end_matches('/')),
            _ => false,
        },
        Cmp::Location => match (desired.as_str(), actual.as_str()) {
            (Some(d), Some(a)) => normalise_location(d) == normalise_location(a),
            _ => false,
        },
        Cmp::RoleDefinition => match (desired.as_str(), actual.as_str()) {
            (Some(d), Some(a)) => last_segment(d).eq_ignore_ascii_case(last_segment(a)),
            _ => false,
        },
        Cmp::Subset => subset(desired, actual),
    }
}

/// `desired` is contained in `actual` (see [`Cmp::Subset`]).
fn subset(desired: &Value, actual: &Value) -> bool {
    match (desired, actual) {
        (Value::Object(d), Value::Object(a)) => d.iter().all(|(k, dv)| match a.get(k) {
            Some(av) => subset(dv, av),
            None => dv.is_null(),
        }),
        (Value::Array(d), Value::Array(a)) => {
            d.len() == a.len() && d.iter().zip(a).all(|(p, q)| subset(p, q))
        }
        _ => values_equal(desired, actual),
    }
}

/// Numbers compare by value (`30` = `30.0`); everything else structurally.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            // Absent and null are the same thing in ARM bodies.
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => values_equal(p, q),
                (Some(p), None) | (None, Some(p)) => p.is_null(),
                (None, None) => true,
            })
        }
        _ => a == b,
    }
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    }
}

pub fn normalise_location(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn last_segment(s: &str) -> &str {
    s.trim_end_matches('/').rsplit('/').next().unwrap_or(s)
}

/// A path segment: `key` or `key[name=value]`.
fn split_segment(seg: &str) -> (&str, Option<(&str, &str)>) {
    if let Some(open) = seg.find('[')
        && seg.ends_with(']')
    {
        let key = &seg[..open];
        let sel = &seg[open + 1..seg.len() - 1];
        if let Some((k, v)) = sel.split_once('=') {
            return (key, Some((k, v)));
        }
    }
    (seg, None)
}

/// The value at a dotted path (keys compared case-insensitively when not found exactly:
/// some RPs return `NestedProfile` next to `nestedProfile`).
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.') {
        let (key, sel) = split_segment(seg);
        let obj = cur.as_object()?;
        cur = obj.get(key).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })?;
        if let Some((k, want)) = sel {
            cur = cur.as_array()?.iter().find(|e| {
                e.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(want))
            })?;
        }
    }
    Some(cur)
}

/// Sets the value at a dotted path, creating objects (and selected list elements) on the way.
pub fn set(v: &mut Value, path: &str, value: Value) {
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    for (i, seg) in segs.iter().enumerate() {
        let last = i == segs.len() - 1;
        let (key, sel) = split_segment(seg);
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let obj = cur.as_object_mut().expect("just made an object");
        let existing = obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
        let key = existing.unwrap_or_else(|| key.to_string());
        match sel {
            None if last => {
                obj.insert(key, value);
                return;
            }
            None => cur = obj.entry(key).or_insert_with(|| Value::Object(Map::new())),
            Some((k, want)) => {
                let list = obj.entry(key).or_insert_with(|| Value::Array(vec![]));
                if !list.is_array() {
                    *list = Value::Array(vec![]);
                }
                let arr = list.as_array_mut().expect("just made an array");
                let idx = match arr.iter().position(|e| {
                    e.get(k)
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case(want))
                }) {
                    Some(i) => i,
                    None => {
                        arr.push(serde_json::json!({ k: want }));
                        arr.len() - 1
                    }
                };
                if last {
                    arr[idx] = value;
                    return;
                }
                cur = &mut arr[idx];
            }
        }
    }
}

/// Zones as ARM wants them: `["1","2","3"]`.
pub fn zones(region: &catalogue::Region) -> Value {
    let mut z = region.zones.clone();
    z.sort_unstable();
    z.dedup();
    Value::Array(
        z.into_iter()
            .map(|z| Value::String(z.to_string()))
            .collect(),
    )
}

pub fn rg_key(name: &str) -> String {
    format!("rg/{}", name.to_ascii_lowercase())
}

pub fn rg_path(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_get_and_set_with_selectors() {
        let mut v = json!({"properties": {"agentPoolProfiles": [{"name": "system", "count": 3}]}});
        assert_eq!(
            get(&v, "properties.agentPoolProfiles[name=system].count"),
            Some(&json!(3))
        );
        set(
            &mut v,
            "properties.agentPoolProfiles[name=system].count",
            json!(5),
        );
        set(
            &mut v,
            "properties.agentPoolProfiles[name=user].count",
            json!(2),
        );
        assert_eq!(
            get(&v, "properties.agentPoolProfiles[name=SYSTEM].count"),
            Some(&json!(5))
        );
        assert_eq!(
            get(&v, "properties.agentPoolProfiles[name=user].count"),
            Some(&json!(2))
        );
    }

    #[test]
    fn normalisation() {
        assert!(same(
            Cmp::Set,
            &json!(["1", "2", "3"]),
            Some(&json!(["3", "1", "2"]))
        ));
        assert!(!same(
            Cmp::Set,
            &json!(["1", "2", "3"]),
            Some(&json!(["1", "2"]))
        ));
        assert!(same(
            Cmp::CaseInsensitive,
            &json!("Standard"),
            Some(&json!("standard"))
        ));
        assert!(same(
            Cmp::Location,
            &json!("eastus2"),
            Some(&json!("East US 2"))
        ));
        assert!(same(
            Cmp::ResourceId,
            &json!("/subscriptions/s/resourceGroups/R/x"),
            Some(&json!("/subscriptions/s/resourcegroups/r/x/"))
        ));
        assert!(same(
            Cmp::RoleDefinition,
            &json!("/providers/Microsoft.Authorization/roleDefinitions/ABC"),
            Some(&json!(
                "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/abc"
            ))
        ));
        assert!(same(Cmp::Exact, &json!(30), Some(&json!(30.0))));
        // Subset: ARM's own defaults are not a difference; a changed or missing value is.
        let want = json!([{"name": "a", "dims": [{"op": "Include", "values": ["*"]}]}]);
        assert!(same(
            Cmp::Subset,
            &want,
            Some(
                &json!([{"name": "a", "skip": false, "dims": [{"op": "Include", "values": ["*"]}]}])
            )
        ));
        assert!(!same(
            Cmp::Subset,
            &want,
            Some(&json!([{"name": "a", "dims": [{"op": "Exclude", "values": ["*"]}]}]))
        ));
        assert!(!same(Cmp::Subset, &want, Some(&json!([{"dims": []}]))));
        assert!(!same(Cmp::Subset, &want, Some(&json!([]))));
        assert!(!same(
            Cmp::Subset,
            &json!({"values": ["a", "b"]}),
            Some(&json!({"values": ["a"]}))
        ));
        assert!(same(
            Cmp::Exact,
            &json!({"a": 1}),
            Some(&json!({"a": 1, "b": null}))
        ));
    }

    #[test]
    fn merge_owned_keeps_unowned_and_overlays_owned() {
        let spec = Spec {
            key: "k".into(),
            kind: ResourceKind::Registry,
            region: None,
            name: "n".into(),
            path: "/p".into(),
            api_version: "v",
            body: json!({}),
            fields: vec![
                Field::mutable("properties.adminUserEnabled", json!(false)),
                Field::mutable("properties.list", json!([1])),
                Field::mutable("properties.obj", json!({"a": 1})),
                Field::immutable("location", json!("eastus2"), Cmp::Location),
                Field::mutable("tags.managed-by", json!("infra")),
            ],
            depends_on: vec![],
            update: UpdateMode::MergePut,
            notes: vec![],
        };
        let live = json!({
            "location": "East US 2",
            "eTag": "\"1\"",
            "systemData": {"createdBy": "x"},
            "tags": {"owner": "team"},
            "properties": {
                "provisioningState": "Succeeded",
                "adminUserEnabled": true,
                "networkRuleSet": {"defaultAction": "Deny"},
                "list": [1, 2],
                "obj": {"a": 0, "b": 2},
            }
        });
        let b = merge_owned(&spec, &live);
        assert_eq!(
            b,
            json!({
                "location": "East US 2",
                "tags": {"owner": "team", "managed-by": "infra"},
                "properties": {
                    "adminUserEnabled": false,
                    "networkRuleSet": {"defaultAction": "Deny"},
                    "list": [1],
                    "obj": {"a": 1, "b": 2},
                }
            })
        );
    }
}
