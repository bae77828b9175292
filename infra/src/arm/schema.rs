//! Excerpts of the azure-rest-api-specs request schemas for exactly the pinned api-versions
//! (`infra/schemas/*.json`, each naming its source file and commit). Two uses:
//! - updates built from a live body drop every property the spec marks read-only, so none is
//!   ever sent back ([`Schema::strip_read_only`]);
//! - the test emulator rejects a body the way ARM does: unknown property, wrong type, bad enum
//!   value, read-only property ([`Schema::validate`]).
//!
//! The files use a compact notation: `"string"`, `"integer"`, `"number"`, `"boolean"`, `"any"`
//! (a suffix ` ro` marks read-only), `{"enum": [...]}`, `{"props": {...}}` (an object whose
//! other keys are unknown), `{"map": node}` (an object of free keys), `[node]` or
//! `{"items": node}` (an array); objects may carry `"ro": true`.

use crate::arm::ResourceKind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Any,
}

#[derive(Debug, Clone)]
enum Shape {
    Leaf(Ty),
    Enum(Vec<String>),
    Object(BTreeMap<String, Node>),
    Map(Box<Node>),
    Array(Box<Node>),
}

#[derive(Debug, Clone)]
struct Node {
    shape: Shape,
    read_only: bool,
}

/// What the spec says is wrong with one property of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    Unknown {
        path: String,
    },
    WrongType {
        path: String,
        expected: String,
    },
    BadEnum {
        path: String,
        value: String,
        allowed: Vec<String>,
    },
    ReadOnly {
        path: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown { path } => write!(f, "`{path}`: unknown property"),
            Self::WrongType { path, expected } => {
                write!(f, "`{path}`: wrong type, expected {expected}")
            }
            Self::BadEnum {
                path,
                value,
                allowed,
            } => write!(
                f,
                "`{path}`: `{value}` is not one of {}",
                allowed.join(", ")
            ),
            Self::ReadOnly { path } => write!(f, "`{path}`: read-only property"),
        }
    }
}

/// Where a vendored excerpt comes from.
#[derive(Debug, Clone)]
pub struct Source {
    pub repo: String,
    pub path: String,
    pub commit: String,
}

/// The request schemas of one resource kind at its pinned api-version.
#[derive(Debug)]
pub struct Schema {
    pub api_version: String,
    pub source: Source,
    put: Node,
    patch: Option<Node>,
}

/// Which request a body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Put,
    Patch,
}

fn parse(v: &Value, at: &str) -> Node {
    match v {
        Value::String(s) => {
            let (name, read_only) = match s.strip_suffix(" ro") {
                Some(n) => (n, true),
                None => (s.as_str(), false),
            };
            let ty = match name {
                "string" => Ty::String,
                "integer" => Ty::Integer,
                "number" => Ty::Number,
                "boolean" => Ty::Boolean,
                "any" => Ty::Any,
                other => panic!("schema {at}: unknown type `{other}`"),
            };
            Node {
                shape: Shape::Leaf(ty),
                read_only,
            }
        }
        Value::Array(items) => Node {
            shape: Shape::Array(Box::new(parse(
                items.first().expect("array schema has one item node"),
                at,
            ))),
            read_only: false,
        },
        Value::Object(o) => {
            let read_only = o.get("ro").and_then(Value::as_bool).unwrap_or(false);
            let shape = if let Some(e) = o.get("enum").and_then(Value::as_array) {
                Shape::Enum(
                    e.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                )
            } else if let Some(p) = o.get("props").and_then(Value::as_object) {
                Shape::Object(
                    p.iter()
                        .map(|(k, v)| (k.clone(), parse(v, &format!("{at}.{k}"))))
                        .collect(),
                )
            } else if let Some(m) = o.get("map") {
                Shape::Map(Box::new(parse(m, at)))
            } else if let Some(i) = o.get("items") {
                Shape::Array(Box::new(parse(i, at)))
            } else {
                panic!("schema {at}: object node without enum, props, map or items")
            };
            Node { shape, read_only }
        }
        _ => panic!("schema {at}: not a schema node"),
    }
}

fn file_of(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ResourceGroup => include_str!("../../schemas/resource-group.json"),
        ResourceKind::Registry => include_str!("../../schemas/registry.json"),
        ResourceKind::Replication => include_str!("../../schemas/replication.json"),
        ResourceKind::PublicIp => include_str!("../../schemas/public-ip.json"),
        ResourceKind::ManagedCluster => include_str!("../../schemas/managed-cluster.json"),
        ResourceKind::RoleAssignment => include_str!("../../schemas/role-assignment.json"),
        ResourceKind::FluxExtension => include_str!("../../schemas/flux-extension.json"),
        ResourceKind::FluxConfiguration => include_str!("../../schemas/flux-configuration.json"),
        ResourceKind::TrafficManagerProfile => {
            include_str!("../../schemas/traffic-manager-profile.json")
        }
        ResourceKind::TrafficManagerEndpoint => {
            include_str!("../../schemas/traffic-manager-endpoint.json")
        }
        ResourceKind::RegistryRegionalEndpoints => {
            include_str!("../../schemas/registry-regional-endpoints.json")
        }
        ResourceKind::MonitorWorkspace => include_str!("../../schemas/monitor-workspace.json"),
        ResourceKind::DataCollectionEndpoint => {
            include_str!("../../schemas/data-collection-endpoint.json")
        }
        ResourceKind::DataCollectionRule => include_str!("../../schemas/data-collection-rule.json"),
        ResourceKind::DataCollectionRuleAssociation => {
            include_str!("../../schemas/data-collection-rule-association.json")
        }
        ResourceKind::PrometheusRuleGroup => {
            include_str!("../../schemas/prometheus-rule-group.json")
        }
        ResourceKind::ActionGroup => include_str!("../../schemas/action-group.json"),
        ResourceKind::MetricAlert => include_str!("../../schemas/metric-alert.json"),
    }
}

const KINDS: [ResourceKind; 18] = [
    ResourceKind::ResourceGroup,
    ResourceKind::Registry,
    ResourceKind::Replication,
    ResourceKind::PublicIp,
    ResourceKind::ManagedCluster,
    ResourceKind::RoleAssignment,
    ResourceKind::FluxExtension,
    ResourceKind::FluxConfiguration,
    ResourceKind::TrafficManagerProfile,
    ResourceKind::TrafficManagerEndpoint,
    ResourceKind::RegistryRegionalEndpoints,
    ResourceKind::MonitorWorkspace,
    ResourceKind::DataCollectionEndpoint,
    ResourceKind::DataCollectionRule,
    ResourceKind::DataCollectionRuleAssociation,
    ResourceKind::PrometheusRuleGroup,
    ResourceKind::ActionGroup,
    ResourceKind::MetricAlert,
];

fn load(kind: ResourceKind) -> Schema {
    let v: Value = serde_json::from_str(file_of(kind)).expect("vendored schema is JSON");
    let src = &v["$source"];
    let s = |k: &str| src[k].as_str().unwrap_or_default().to_string();
    Schema {
        api_version: v["apiVersion"].as_str().unwrap_or_default().to_string(),
        source: Source {
            repo: s("repo"),
            path: s("path"),
            commit: s("commit"),
        },
        put: parse(&v["put"], kind.label()),
        patch: v.get("patch").map(|p| parse(p, kind.label())),
    }
}

/// The schema of `kind` (parsed once).
pub fn schema(kind: ResourceKind) -> &'static Schema {
    static ALL: OnceLock<Vec<(ResourceKind, Schema)>> = OnceLock::new();
    let all = ALL.get_or_init(|| KINDS.iter().map(|k| (*k, load(*k))).collect());
    &all.iter()
        .find(|(k, _)| *k == kind)
        .expect("every kind has a schema")
        .1
}

fn find<'a>(props: &'a BTreeMap<String, Node>, key: &str) -> Option<&'a Node> {
    // ARM matches property names case-insensitively.
    props.get(key).or_else(|| {
        props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, n)| n)
    })
}

fn check(node: &Node, v: &Value, path: &str, out: &mut Vec<Violation>) {
    if v.is_null() {
        return;
    }
    if node.read_only {
        out.push(Violation::ReadOnly { path: path.into() });
        return;
    }
    let wrong = |expected: &str, out: &mut Vec<Violation>| {
        out.push(Violation::WrongType {
            path: path.into(),
            expected: expected.into(),
        })
    };
    match &node.shape {
        Shape::Leaf(Ty::Any) => {}
        Shape::Leaf(Ty::String) if !v.is_string() => wrong("a string", out),
        Shape::Leaf(Ty::Integer) if !(v.is_i64() || v.is_u64()) => wrong("an integer", out),
        Shape::Leaf(Ty::Number) if !v.is_number() => wrong("a number", out),
        Shape::Leaf(Ty::Boolean) if !v.is_boolean() => wrong("a boolean", out),
        Shape::Leaf(_) => {}
        Shape::Enum(allowed) => match v.as_str() {
            Some(s) if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) => {}
            Some(s) => out.push(Violation::BadEnum {
                path: path.into(),
                value: s.into(),
                allowed: allowed.clone(),
            }),
            None => wrong("a string", out),
        },
        Shape::Object(props) => match v.as_object() {
            Some(o) => {
                for (k, child) in o {
                    let p = join(path, k);
                    match find(props, k) {
                        Some(n) => check(n, child, &p, out),
                        None if child.is_null() => {}
                        None => out.push(Violation::Unknown { path: p }),
                    }
                }
            }
            None => wrong("an object", out),
        },
        Shape::Map(n) => match v.as_object() {
            Some(o) => {
                for (k, child) in o {
                    check(n, child, &join(path, k), out);
                }
            }
            None => wrong("an object", out),
        },
        Shape::Array(n) => match v.as_array() {
            Some(a) => {
                for (i, child) in a.iter().enumerate() {
                    check(n, child, &format!("{path}[{i}]"), out);
                }
            }
            None => wrong("an array", out),
        },
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn strip(node: &Node, v: &mut Value) {
    match (&node.shape, v) {
        (Shape::Object(props), Value::Object(o)) => {
            o.retain(|k, _| find(props, k).is_none_or(|n| !n.read_only));
            for (k, child) in o.iter_mut() {
                if let Some(n) = find(props, k) {
                    strip(n, child);
                }
            }
        }
        (Shape::Map(n), Value::Object(o)) => {
            for child in o.values_mut() {
                strip(n, child);
            }
        }
        (Shape::Array(n), Value::Array(a)) => {
            for child in a {
                strip(n, child);
            }
        }
        _ => {}
    }
}

impl Schema {
    /// Every way `body` breaks the spec of `request` (empty when it conforms). A PATCH
    /// against a kind whose spec has none is reported as one unknown property at the root.
    pub fn validate(&self, request: Request, body: &Value) -> Vec<Violation> {
        let mut out = vec![];
        match (request, &self.patch) {
            (Request::Put, _) => check(&self.put, body, "", &mut out),
            (Request::Patch, Some(p)) => check(p, body, "", &mut out),
            (Request::Patch, None) => out.push(Violation::Unknown {
                path: "(PATCH is not in this spec)".into(),
            }),
        }
        out
    }

    pub fn has_patch(&self) -> bool {
        self.patch.is_some()
    }

    /// Removes every property the PUT schema marks read-only; unknown ones are kept.
    pub fn strip_read_only(&self, body: &mut Value) {
        strip(&self.put, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_schema_parses_and_names_its_source_and_version() {
        for k in KINDS {
            let s = schema(k);
            assert_eq!(s.source.repo, "Azure/azure-rest-api-specs", "{k:?}");
            assert_eq!(s.source.commit.len(), 40, "{k:?}");
            assert!(
                s.source.path.contains(&s.api_version),
                "{k:?}: {} not in {}",
                s.api_version,
                s.source.path
            );
        }
    }

    #[test]
    fn pinned_versions_match_the_schemas() {
        use crate::arm::api_versions as v;
        let pinned = [
            (ResourceKind::ResourceGroup, v::RESOURCE_GROUPS),
            (ResourceKind::Registry, v::CONTAINER_REGISTRY),
            (ResourceKind::Replication, v::CONTAINER_REGISTRY),
            (ResourceKind::PublicIp, v::PUBLIC_IP_ADDRESSES),
            (ResourceKind::ManagedCluster, v::MANAGED_CLUSTERS),
            (ResourceKind::RoleAssignment, v::ROLE_ASSIGNMENTS),
            (ResourceKind::FluxExtension, v::EXTENSIONS),
            (ResourceKind::FluxConfiguration, v::FLUX_CONFIGURATIONS),
            (ResourceKind::TrafficManagerProfile, v::TRAFFIC_MANAGER),
            (ResourceKind::TrafficManagerEndpoint, v::TRAFFIC_MANAGER),
            (
                ResourceKind::RegistryRegionalEndpoints,
                v::CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW,
            ),
            (ResourceKind::MonitorWorkspace, v::MONITOR_ACCOUNTS),
            (ResourceKind::DataCollectionEndpoint, v::DATA_COLLECTION),
            (ResourceKind::DataCollectionRule, v::DATA_COLLECTION),
            (
                ResourceKind::DataCollectionRuleAssociation,
                v::DATA_COLLECTION,
            ),
            (ResourceKind::PrometheusRuleGroup, v::PROMETHEUS_RULE_GROUPS),
            (ResourceKind::ActionGroup, v::ACTION_GROUPS),
            (ResourceKind::MetricAlert, v::METRIC_ALERTS),
        ];
        for (k, version) in pinned {
            assert_eq!(schema(k).api_version, version, "{k:?}");
        }
    }

    #[test]
    fn each_violation_kind_is_found() {
        let s = schema(ResourceKind::Registry);
        let v = s.validate(
            Request::Put,
            &json!({
                "location": "eastus2",
                "sku": {"name": "Premuim"},
                "properties": {"adminUserEnabled": "no", "loginServer": "x.azurecr.io", "zoneRedundnacy": "Enabled"}
            }),
        );
        assert_eq!(v.len(), 4, "{v:?}");
        assert!(v.contains(&Violation::BadEnum {
            path: "sku.name".into(),
            value: "Premuim".into(),
            allowed: vec![
                "Classic".into(),
                "Basic".into(),
                "Standard".into(),
                "Premium".into()
            ]
        }));
        assert!(v.contains(&Violation::WrongType {
            path: "properties.adminUserEnabled".into(),
            expected: "a boolean".into()
        }));
        assert!(v.contains(&Violation::ReadOnly {
            path: "properties.loginServer".into()
        }));
        assert!(v.contains(&Violation::Unknown {
            path: "properties.zoneRedundnacy".into()
        }));
    }

    #[test]
    fn strip_removes_read_only_at_every_depth_and_keeps_the_rest() {
        let s = schema(ResourceKind::ManagedCluster);
        let mut b = json!({
            "id": "/x", "name": "n", "type": "t", "eTag": "\"1\"", "location": "eastus2",
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "properties": {
                "oidcIssuerProfile": {"enabled": true, "issuerURL": "https://oidc"},
                "agentPoolProfiles": [{"name": "system", "eTag": "e", "count": 3}],
                "networkProfile": {"loadBalancerProfile": {"effectiveOutboundIPs": [{"id": "i"}], "idleTimeoutInMinutes": 4}},
                "someoneElsesSetting": {"x": 1}
            }
        });
        s.strip_read_only(&mut b);
        assert_eq!(
            b,
            json!({
                "location": "eastus2",
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "oidcIssuerProfile": {"enabled": true},
                    "agentPoolProfiles": [{"name": "system", "count": 3}],
                    "networkProfile": {"loadBalancerProfile": {"idleTimeoutInMinutes": 4}},
                    "someoneElsesSetting": {"x": 1}
                }
            })
        );
        assert_eq!(
            s.validate(Request::Put, &b),
            vec![Violation::Unknown {
                path: "properties.someoneElsesSetting".into()
            }]
        );
    }

    #[test]
    fn patch_schemas_are_narrower_than_put() {
        let s = schema(ResourceKind::FluxExtension);
        assert!(
            s.validate(
                Request::Patch,
                &json!({"properties": {"autoUpgradeMinorVersion": true}})
            )
            .is_empty()
        );
        assert_eq!(
            s.validate(
                Request::Patch,
                &json!({"properties": {"extensionType": "microsoft.flux"}})
            ),
            vec![Violation::Unknown {
                path: "properties.extensionType".into()
            }]
        );
        assert!(!schema(ResourceKind::Registry).has_patch());
    }
}
