//! Desired (catalogue) vs actual (ARM GETs) → one action per resource, before any write.

use crate::arm::api_versions::{ROLE_ACR_PULL, ROLE_NETWORK_CONTRIBUTOR};
use crate::arm::lro::provisioning_state;
use crate::arm::{ArmClient, InfraError, ResourceKind};
use crate::resources::{self as res, Change, Mutability, RoleTarget, Spec};
use catalogue::{Catalogue, GitOpsEngine};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// What the catalogue asks for, in apply order (global first, then each region).
#[derive(Debug, Clone)]
pub enum Desired {
    Known(Spec),
    /// A role assignment: its principal is only known from the live cluster.
    Role(RoleStep),
    /// Not managed in this configuration (Flux pieces when the engine is Argo CD).
    Skipped {
        key: String,
        kind: ResourceKind,
        region: Option<String>,
        name: String,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct RoleStep {
    pub key: String,
    pub region: String,
    pub target: RoleTarget,
    pub cluster_key: String,
    /// The cluster's name (marks the assignments made for it).
    pub cluster_name: String,
    /// Scope of the assignment (registry id, or the public IP's resource group).
    pub scope: String,
    pub depends_on: Vec<String>,
}

impl RoleStep {
    pub fn label(&self) -> &'static str {
        match self.target {
            RoleTarget::AcrPull => "AcrPull for the kubelet identity",
            RoleTarget::NetworkContributor => "Network Contributor for the cluster identity",
        }
    }

    pub fn role_guid(&self) -> &'static str {
        match self.target {
            RoleTarget::AcrPull => ROLE_ACR_PULL,
            RoleTarget::NetworkContributor => ROLE_NETWORK_CONTRIBUTOR,
        }
    }

    /// Where the principal lives in the cluster body.
    pub fn principal_pointer(&self) -> &'static str {
        match self.target {
            RoleTarget::AcrPull => "/properties/identityProfile/kubeletidentity/objectId",
            RoleTarget::NetworkContributor => "/identity/principalId",
        }
    }

    pub fn principal_of(&self, cluster: &Value) -> Option<String> {
        cluster
            .pointer(self.principal_pointer())
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    pub fn spec(&self, sub: &str, principal: &str) -> Spec {
        res::role_assignment_spec(
            sub,
            &self.key,
            &self.region,
            self.label(),
            &self.scope,
            principal,
            self.role_guid(),
            &self.description(),
            self.depends_on.clone(),
        )
    }

    pub fn description(&self) -> String {
        res::assignment_description(self.label(), &self.cluster_name)
    }

    /// Assignments this tool made for this cluster and role at this scope whose principal is
    /// not `current` (all of them when the cluster does not exist yet: a new one gets a new
    /// identity). Recognised by their name (UUIDv5 of scope, principal and role) and their
    /// description, so nothing made by anyone else is ever touched.
    pub async fn stale(
        &self,
        client: &ArmClient,
        current: Option<&str>,
    ) -> Result<Vec<StaleAssignment>, InfraError> {
        let path = format!(
            "{}/providers/Microsoft.Authorization/roleAssignments",
            self.scope
        );
        let list = match client
            .list(
                &path,
                crate::arm::api_versions::ROLE_ASSIGNMENTS,
                "$filter=atScope()",
                &format!("listing role assignments on {}", self.scope),
            )
            .await
        {
            Ok(l) => l,
            // The scope does not exist yet: nothing can have been granted on it.
            Err(InfraError::Arm { error, .. }) if error.status == 404 => vec![],
            Err(e) => return Err(e),
        };
        let want = self.description();
        let mut out = vec![];
        for a in list {
            let s = |p: &str| a.pointer(p).and_then(Value::as_str).unwrap_or("");
            let (name, principal) = (s("/name"), s("/properties/principalId"));
            let role_matches = s("/properties/roleDefinitionId")
                .rsplit('/')
                .next()
                .is_some_and(|g| g.eq_ignore_ascii_case(self.role_guid()));
            let ours = role_matches
                && s("/properties/description") == want
                && name.eq_ignore_ascii_case(&res::assignment_name(
                    &self.scope,
                    principal,
                    self.role_guid(),
                ));
            if ours && current.is_none_or(|c| !c.eq_ignore_ascii_case(principal)) {
                out.push(StaleAssignment {
                    path: format!("{path}/{name}"),
                    name: name.to_string(),
                    principal: principal.to_string(),
                });
            }
        }
        Ok(out)
    }
}

/// A role assignment made for an identity the cluster no longer has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleAssignment {
    pub path: String,
    pub name: String,
    pub principal: String,
}

/// Every resource the catalogue implies.
pub fn desired(sub: &str, c: &Catalogue) -> Vec<Desired> {
    let mut out = Vec::new();
    let mut seen_rg = BTreeSet::new();
    let mut rg = |out: &mut Vec<Desired>, name: &str, location: &str, region: Option<&str>| {
        if seen_rg.insert(name.to_ascii_lowercase()) {
            out.push(Desired::Known(res::resource_group_spec(
                sub, name, location, region,
            )));
        }
    };
    // Global pieces live beside the registry.
    rg(&mut out, &c.registry.resource_group, &c.registry.home, None);
    rg(
        &mut out,
        &c.traffic_manager.resource_group,
        &c.registry.home,
        None,
    );
    out.push(Desired::Known(res::registry_spec(sub, c)));
    if let Some(s) = res::regional_endpoints_spec(sub, c) {
        out.push(Desired::Known(s));
    }
    out.push(Desired::Known(res::tm_profile_spec(sub, c)));
    let monitoring = c.monitoring.as_ref();
    if let Some(m) = monitoring {
        rg(&mut out, &m.resource_group, &c.registry.home, None);
        out.extend(monitoring_global(sub, c, m));
    }
    let flux = c.gitops.engine == GitOpsEngine::Flux;
    let scrape = monitoring.is_some_and(|m| m.scrape);
    for r in &c.regions {
        rg(&mut out, &r.cluster.resource_group, &r.name, Some(&r.name));
        rg(
            &mut out,
            r.public_ip_resource_group(),
            &r.name,
            Some(&r.name),
        );
        if let Some(s) = res::replication_spec(sub, c, r) {
            out.push(Desired::Known(s));
        }
        out.push(Desired::Known(res::public_ip_spec(sub, r)));
        let cluster = res::cluster_spec(sub, r, scrape);
        let cluster_key = cluster.key.clone();
        out.push(Desired::Known(cluster));
        out.push(Desired::Role(RoleStep {
            key: format!("{}/acr-pull", r.name),
            region: r.name.to_string(),
            target: RoleTarget::AcrPull,
            cluster_key: cluster_key.clone(),
            cluster_name: r.cluster.name.clone(),
            scope: res::registry_id(sub, c),
            depends_on: vec!["registry".into(), cluster_key.clone()],
        }));
        out.push(Desired::Role(RoleStep {
            key: format!("{}/network-contributor", r.name),
            region: r.name.to_string(),
            target: RoleTarget::NetworkContributor,
            cluster_key: cluster_key.clone(),
            cluster_name: r.cluster.name.clone(),
            scope: res::rg_path(sub, r.public_ip_resource_group()),
            depends_on: vec![
                cluster_key.clone(),
                res::rg_key(r.public_ip_resource_group()),
            ],
        }));
        if flux {
            out.push(Desired::Known(res::flux_extension_spec(sub, r)));
            out.push(Desired::Known(res::flux_configuration_spec(sub, c, r)));
        } else {
            for (suffix, kind, name) in [
                (
                    "flux-extension",
                    ResourceKind::FluxExtension,
                    "microsoft.flux extension",
                ),
                (
                    "flux-config",
                    ResourceKind::FluxConfiguration,
                    "Flux configuration",
                ),
            ] {
                out.push(Desired::Skipped {
                    key: format!("{}/{suffix}", r.name),
                    kind,
                    region: Some(r.name.to_string()),
                    name: format!("{} {name}", r.cluster.name),
                    reason: "gitops.engine is argocd: Argo CD is installed by its own bootstrap, infra manages no Flux resources".into(),
                });
            }
        }
        out.push(Desired::Known(res::tm_endpoint_spec(sub, c, r)));
        if let Some(m) = monitoring {
            out.extend(monitoring_region(sub, c, m, r));
        }
    }
    out
}

/// A monitoring piece the section switches off: listed, never written, never deleted.
fn monitoring_off(
    key: String,
    kind: ResourceKind,
    region: Option<&str>,
    name: String,
    switch: &str,
) -> Desired {
    Desired::Skipped {
        key,
        kind,
        region: region.map(str::to_string),
        name,
        reason: format!(
            "monitoring.{switch} is false: not managed; one created earlier is left as it is (infra deletes nothing but stale role assignments)"
        ),
    }
}

fn monitoring_global(sub: &str, c: &Catalogue, m: &catalogue::Monitoring) -> Vec<Desired> {
    use res::monitoring as mon;
    let mut out = vec![Desired::Known(mon::workspace_spec(sub, c, m))];
    if mon::has_action_group(m) {
        out.push(Desired::Known(mon::action_group_spec(sub, c, m)));
    }
    out.push(if m.failover_alert {
        Desired::Known(mon::failover_alert_spec(sub, c, m))
    } else {
        monitoring_off(
            mon::FAILOVER_ALERT_KEY.into(),
            ResourceKind::MetricAlert,
            None,
            mon::failover_alert_name(c),
            "failoverAlert",
        )
    });
    out
}

fn monitoring_region(
    sub: &str,
    c: &Catalogue,
    m: &catalogue::Monitoring,
    r: &catalogue::Region,
) -> Vec<Desired> {
    use res::monitoring as mon;
    let mut out = vec![];
    if m.scrape {
        out.extend(
            mon::data_collection_specs(sub, c, m, r)
                .into_iter()
                .map(Desired::Known),
        );
    } else {
        out.push(monitoring_off(
            format!("{}/dcr", r.name),
            ResourceKind::DataCollectionRule,
            Some(&r.name),
            format!("managed Prometheus of {}", r.cluster.name),
            "scrape",
        ));
    }
    if m.alerts {
        out.extend(
            mon::rule_group_specs(sub, c, m, r)
                .into_iter()
                .map(Desired::Known),
        );
    } else {
        out.push(monitoring_off(
            format!("{}/rule-groups", r.name),
            ResourceKind::PrometheusRuleGroup,
            Some(&r.name),
            format!("{} rule groups", r.name),
            "alerts",
        ));
    }
    out
}

/// One resource's planned action.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    Create,
    Update {
        changes: Vec<Change>,
    },
    NoChange,
    /// Delete and create again (role assignments are immutable).
    Replace {
        changes: Vec<Change>,
    },
    /// An immutable property would change: never sent.
    Blocked {
        changes: Vec<Change>,
    },
    /// Only known once a dependency exists (the role assignment of a cluster to be created).
    Deferred {
        reason: String,
    },
    Skipped {
        reason: String,
    },
    /// Delete: a role assignment made for an identity the cluster no longer has.
    Remove {
        reason: String,
    },
}

impl Action {
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Self::Create
                | Self::Update { .. }
                | Self::Replace { .. }
                | Self::Deferred { .. }
                | Self::Remove { .. }
        )
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanItem {
    pub key: String,
    pub kind: ResourceKind,
    pub region: Option<String>,
    pub name: String,
    /// ARM id (None while unknown).
    pub id: Option<String>,
    #[serde(flatten)]
    pub action: Action,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip)]
    pub spec: Option<Spec>,
    #[serde(skip)]
    pub role: Option<RoleStep>,
    #[serde(skip)]
    pub actual: Option<Value>,
    #[serde(skip)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub subscription: String,
    pub items: Vec<PlanItem>,
    pub worst_case_failover_seconds: u64,
    pub failover_formula: String,
}

impl Plan {
    pub fn blocked(&self) -> Vec<&PlanItem> {
        self.items
            .iter()
            .filter(|i| matches!(i.action, Action::Blocked { .. }))
            .collect()
    }

    pub fn has_writes(&self) -> bool {
        self.items.iter().any(|i| i.action.writes())
    }

    pub fn item(&self, key: &str) -> Option<&PlanItem> {
        self.items.iter().find(|i| i.key == key)
    }
}

pub fn failover_formula(c: &Catalogue) -> String {
    let tm = &c.traffic_manager;
    let m = &tm.monitor;
    format!(
        "({} tolerated + 1) x {}s interval + {}s timeout + {}s TTL = {}s (RTO {}s)",
        m.tolerated_failures,
        m.interval_seconds,
        m.timeout_seconds,
        tm.ttl,
        tm.worst_case_failover_seconds(),
        tm.rto_seconds
    )
}

/// Classifies one resource from its desired spec and what ARM has.
pub fn classify(spec: &Spec, actual: Option<&Value>) -> (Action, Vec<String>) {
    let mut notes = spec.notes.clone();
    let Some(actual) = actual else {
        return (Action::Create, notes);
    };
    let mut changes = spec.diff(actual);
    changes.iter_mut().for_each(res::monitoring::redact_change);
    let by = |m: Mutability| {
        changes
            .iter()
            .filter(|c| c.mutability == m)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (blocked, replace, update, info) = (
        by(Mutability::Immutable),
        by(Mutability::Replace),
        by(Mutability::Mutable),
        by(Mutability::Informational),
    );
    for i in &info {
        notes.push(format!(
            "{} reads {} (catalogue: {}); Azure makes registries zone redundant by default in AZ regions but may report Disabled, and it cannot be changed after creation: informational only",
            i.field, i.actual, i.desired
        ));
    }
    if spec.kind == ResourceKind::ManagedCluster {
        let want = spec
            .body
            .pointer("/properties/kubernetesVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let running = actual
            .pointer("/properties/currentKubernetesVersion")
            .or_else(|| actual.pointer("/properties/kubernetesVersion"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !running.is_empty() && !res::version_matches(want, running) {
            notes.push(format!(
                "runs Kubernetes {running}, catalogue says {want}: kubernetesVersion is only sent on create; infra never upgrades (use `az aks upgrade`)"
            ));
        }
    }
    let action = if !blocked.is_empty() {
        Action::Blocked { changes: blocked }
    } else if !replace.is_empty() {
        Action::Replace { changes: replace }
    } else if !update.is_empty() {
        Action::Update { changes: update }
    } else {
        match provisioning_state(actual) {
            Some(s) if s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Canceled") => {
                Action::Update {
                    changes: vec![Change {
                        field: "properties.provisioningState".into(),
                        actual: Value::String(s.to_string()),
                        desired: Value::String("Succeeded".into()),
                        mutability: Mutability::Mutable,
                    }],
                }
            }
            _ => Action::NoChange,
        }
    };
    (action, notes)
}

async fn get_all(
    client: &ArmClient,
    specs: Vec<Spec>,
) -> Result<HashMap<String, Option<Value>>, InfraError> {
    let mut set = tokio::task::JoinSet::new();
    // Bounded fan-out: ARM throttles reads per principal; 16 in flight is plenty.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(
        client.options.max_parallel_reads.max(1),
    ));
    for s in specs {
        let client = client.clone();
        let gate = gate.clone();
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let context = format!("reading {} {}", s.kind.label(), s.name);
            let r = client.get(&s.path, s.api_version, &context).await;
            (s.key, r.map(|o| o.map(|(v, _)| v)))
        });
    }
    collect(set, "reading").await
}

/// The results of a set of keyed lookups. The first failure ends the plan at once (dropping
/// the set aborts the other lookups), so an unreachable ARM costs one give-up, not one per
/// queued request.
async fn collect<T: 'static>(
    mut set: tokio::task::JoinSet<(String, Result<T, InfraError>)>,
    doing: &str,
) -> Result<HashMap<String, T>, InfraError> {
    let mut out = HashMap::new();
    while let Some(j) = set.join_next().await {
        match j {
            Ok((k, Ok(v))) => {
                out.insert(k, v);
            }
            Ok((_, Err(e))) => return Err(e),
            Err(e) => {
                return Err(InfraError::Config(format!(
                    "internal error while {doing}: {e}"
                )));
            }
        }
    }
    Ok(out)
}

/// Stale role assignments of every role step, looked up with the same bound as the GETs.
async fn stale_all(
    client: &ArmClient,
    wanted: &[Desired],
    actual: &HashMap<String, Option<Value>>,
) -> Result<HashMap<String, Vec<StaleAssignment>>, InfraError> {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(
        client.options.max_parallel_reads.max(1),
    ));
    let mut set = tokio::task::JoinSet::new();
    for d in wanted {
        let Desired::Role(r) = d else { continue };
        // No scope yet (registry or resource group to be created): nothing was granted on it.
        if r.depends_on
            .iter()
            .any(|k| *k != r.cluster_key && matches!(actual.get(k), Some(None)))
        {
            continue;
        }
        let current = actual
            .get(&r.cluster_key)
            .cloned()
            .flatten()
            .and_then(|cl| r.principal_of(&cl));
        let (client, gate, r) = (client.clone(), gate.clone(), r.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let found = r.stale(&client, current.as_deref()).await;
            (r.key.clone(), found)
        });
    }
    collect(set, "listing role assignments").await
}

/// GETs every resource and classifies it. No writes.
pub async fn plan(client: &ArmClient, c: &Catalogue) -> Result<Plan, InfraError> {
    let sub = client.subscription().to_string();
    let wanted = desired(&sub, c);
    let known: Vec<Spec> = wanted
        .iter()
        .filter_map(|d| match d {
            Desired::Known(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let mut actual = get_all(client, known).await?;
    // Role assignments whose cluster exists: the principal is known now.
    let mut role_specs = Vec::new();
    for d in &wanted {
        if let Desired::Role(r) = d
            && let Some(Some(cluster)) = actual.get(&r.cluster_key)
            && let Some(p) = r.principal_of(cluster)
        {
            role_specs.push(r.spec(&sub, &p));
        }
    }
    let role_actual = get_all(client, role_specs.clone()).await?;
    actual.extend(role_actual);
    let role_specs: HashMap<String, Spec> =
        role_specs.into_iter().map(|s| (s.key.clone(), s)).collect();
    let mut stale = stale_all(client, &wanted, &actual).await?;

    let mut items = Vec::new();
    for d in wanted {
        match d {
            Desired::Known(spec) => {
                let a = actual.get(&spec.key).cloned().flatten();
                let (action, notes) = classify(&spec, a.as_ref());
                items.push(PlanItem {
                    key: spec.key.clone(),
                    kind: spec.kind,
                    region: spec.region.clone(),
                    name: spec.name.clone(),
                    id: Some(spec.path.clone()),
                    action,
                    notes,
                    depends_on: spec.depends_on.clone(),
                    spec: Some(spec),
                    role: None,
                    actual: a,
                });
            }
            Desired::Role(r) => {
                let (action, notes, spec, a) = match role_specs.get(&r.key) {
                    Some(spec) => {
                        let a = actual.get(&spec.key).cloned().flatten();
                        let (action, notes) = classify(spec, a.as_ref());
                        (action, notes, Some(spec.clone()), a)
                    }
                    None => {
                        let what = match r.target {
                            RoleTarget::AcrPull => {
                                "the kubelet identity (identityProfile.kubeletidentity.objectId)"
                            }
                            RoleTarget::NetworkContributor => {
                                "the cluster's system-assigned identity (identity.principalId)"
                            }
                        };
                        (
                            Action::Deferred {
                                reason: format!(
                                    "the principal is {what}, known once the cluster exists"
                                ),
                            },
                            vec![],
                            None,
                            None,
                        )
                    }
                };
                let current = actual
                    .get(&r.cluster_key)
                    .cloned()
                    .flatten()
                    .and_then(|cl| r.principal_of(&cl));
                let stale = stale.remove(&r.key).unwrap_or_default();
                let role_key = r.key.clone();
                let region = r.region.clone();
                let label = r.label();
                items.push(PlanItem {
                    key: r.key.clone(),
                    kind: ResourceKind::RoleAssignment,
                    region: Some(r.region.clone()),
                    name: r.label().to_string(),
                    id: spec.as_ref().map(|s| s.path.clone()),
                    action,
                    notes,
                    depends_on: r.depends_on.clone(),
                    spec,
                    role: Some(r),
                    actual: a,
                });
                for st in stale {
                    let now = match &current {
                        Some(p) => format!("the cluster now runs as {p}"),
                        None => "the cluster is created again with a new identity".into(),
                    };
                    items.push(PlanItem {
                        key: format!("{role_key}/stale/{}", st.name),
                        kind: ResourceKind::RoleAssignment,
                        region: Some(region.clone()),
                        name: format!("{label} ({})", st.name),
                        id: Some(st.path.clone()),
                        action: Action::Remove {
                            reason: format!(
                                "granted to a previous identity {}; {now}: removed after the new grant",
                                st.principal
                            ),
                        },
                        notes: vec![],
                        // After the new grant, so pulls never lose their permission.
                        depends_on: vec![role_key.clone()],
                        spec: None,
                        role: None,
                        actual: None,
                    });
                }
            }
            Desired::Skipped {
                key,
                kind,
                region,
                name,
                reason,
            } => items.push(PlanItem {
                key,
                kind,
                region,
                name,
                id: None,
                action: Action::Skipped { reason },
                notes: vec![],
                spec: None,
                role: None,
                actual: None,
                depends_on: vec![],
            }),
        }
    }
    Ok(Plan {
        subscription: sub,
        items,
        worst_case_failover_seconds: c.traffic_manager.worst_case_failover_seconds(),
        failover_formula: failover_formula(c),
    })
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(absent)".into(),
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The plan for people.
pub fn render_text(plan: &Plan) -> String {
    let mut s = String::new();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in &plan.items {
        let scope = i.region.as_deref().unwrap_or("global");
        let (word, detail): (&str, Vec<String>) = match &i.action {
            Action::Create => ("create", vec![]),
            Action::NoChange => ("no change", vec![]),
            Action::Update { changes } => (
                "update",
                changes
                    .iter()
                    .map(|c| format!("{}: {} -> {}", c.field, show(&c.actual), show(&c.desired)))
                    .collect(),
            ),
            Action::Replace { changes } => (
                "replace",
                changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{}: {} -> {} (delete + create)",
                            c.field,
                            show(&c.actual),
                            show(&c.desired)
                        )
                    })
                    .collect(),
            ),
            Action::Blocked { changes } => (
                "BLOCKED",
                changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{} is immutable: Azure has {}, catalogue wants {}",
                            c.field,
                            show(&c.actual),
                            show(&c.desired)
                        )
                    })
                    .collect(),
            ),
            Action::Deferred { reason } => ("create (after its cluster)", vec![reason.clone()]),
            Action::Skipped { reason } => ("skip", vec![reason.clone()]),
            Action::Remove { reason } => ("remove", vec![reason.clone()]),
        };
        *counts
            .entry(match &i.action {
                Action::Create | Action::Deferred { .. } => "create",
                Action::Update { .. } => "update",
                Action::Replace { .. } => "replace",
                Action::Blocked { .. } => "blocked",
                Action::NoChange => "no change",
                Action::Skipped { .. } => "skip",
                Action::Remove { .. } => "remove",
            })
            .or_default() += 1;
        s.push_str(&format!(
            "[{scope}] {} {}: {word}\n",
            i.kind.label(),
            i.name
        ));
        for d in detail {
            s.push_str(&format!("    {d}\n"));
        }
        for n in &i.notes {
            s.push_str(&format!("    note: {n}\n"));
        }
    }
    s.push_str(&format!(
        "Traffic Manager worst-case failover: {}\n",
        plan.failover_formula
    ));
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    s.push_str(&format!("Plan: {}\n", summary.join(", ")));
    if !plan.blocked().is_empty() {
        s.push_str("Blocked: an immutable property differs. Nothing will be written; change the catalogue back, or recreate the resource by hand.\n");
    }
    s
}
