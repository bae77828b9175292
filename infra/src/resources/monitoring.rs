//! Azure Monitor from the catalogue's `monitoring` section: the Azure Monitor workspace,
//! managed Prometheus on each cluster (data collection endpoint and rule in the workspace's
//! region, their association on the cluster, `azureMonitorProfile.metrics.enabled` on the
//! cluster itself), the per-region Prometheus rule groups, one action group, and the metric
//! alert on Traffic Manager endpoint health that fires when traffic fails over.
//!
//! Names the catalogue does not give are derived, deterministically:
//! - action group `<app.name>-alerts`, short name the first 12 characters of `app.name`;
//! - metric alert `<trafficManager.profile>-failover`;
//! - data collection endpoint and rule `MSProm-<registry.home>-<cluster>` and association
//!   `MSProm-<region>-<cluster>` (Microsoft's managed-Prometheus templates), at most 44
//!   characters (longer ones cut, with a hash of the whole name: see [`prom_name`]);
//! - rule groups by the monitoring crate's group names (`<region>-sli`, `<region>-alerts`).

use super::{Cmp, Field, Spec, UpdateMode, rg_key, rg_path, tags};
use crate::arm::ResourceKind;
use crate::arm::api_versions::{
    ACTION_GROUPS, DATA_COLLECTION, METRIC_ALERTS, MONITOR_ACCOUNTS, PROMETHEUS_RULE_GROUPS,
};
use catalogue::{Catalogue, Monitoring, Region};
use serde_json::{Value, json};

/// The Prometheus stream of the data collection rule.
pub const PROMETHEUS_STREAM: &str = "Microsoft-PrometheusMetrics";
/// The Traffic Manager metric: 1 while an endpoint's probe status is online, 0 otherwise.
pub const TM_ENDPOINT_METRIC: &str = "ProbeAgentCurrentEndpointStateByProfileResourceId";
/// Step key of the action group.
pub const ACTION_GROUP_KEY: &str = "monitoring/action-group";
pub const WORKSPACE_KEY: &str = "monitoring/workspace";
pub const FAILOVER_ALERT_KEY: &str = "monitoring/failover-alert";
/// Azure limit on `groupShortName`.
pub const SHORT_NAME_MAX: usize = 12;
/// The cut Microsoft's templates apply to data collection names.
const DATA_COLLECTION_NAME_MAX: usize = 44;

fn provider(sub: &str, m: &Monitoring, path: &str) -> String {
    format!("{}/providers/{path}", rg_path(sub, &m.resource_group))
}

pub fn workspace_id(sub: &str, m: &Monitoring) -> String {
    provider(
        sub,
        m,
        &format!("Microsoft.Monitor/accounts/{}", m.workspace),
    )
}

pub fn action_group_name(c: &Catalogue) -> String {
    format!("{}-alerts", c.app.name)
}

pub fn action_group_short_name(c: &Catalogue) -> String {
    c.app.name.chars().take(SHORT_NAME_MAX).collect()
}

pub fn action_group_id(sub: &str, c: &Catalogue, m: &Monitoring) -> String {
    provider(
        sub,
        m,
        &format!("Microsoft.Insights/actionGroups/{}", action_group_name(c)),
    )
}

pub fn failover_alert_name(c: &Catalogue) -> String {
    format!("{}-failover", c.traffic_manager.profile)
}

/// `MSProm-<location>-<cluster>`; a longer name is cut and given a hash of the whole name, so
/// two long cluster names with the same beginning never share one rule.
pub fn prom_name(location: &str, cluster: &str) -> String {
    let full = format!("MSProm-{location}-{cluster}");
    if full.len() <= DATA_COLLECTION_NAME_MAX {
        return full;
    }
    let hash = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, full.as_bytes())
        .simple()
        .to_string();
    let head: String = full.chars().take(DATA_COLLECTION_NAME_MAX - 9).collect();
    format!("{}-{}", head.trim_end_matches(['-', '.', '_']), &hash[..8])
}

/// A webhook URL without what may be a credential (userinfo, query, fragment), for output.
pub fn redact_uri(uri: &str) -> String {
    match reqwest::Url::parse(uri) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let hidden =
                if u.query().is_some() || !u.username().is_empty() || u.fragment().is_some() {
                    "?…"
                } else {
                    ""
                };
            format!("{}://{host}{port}{}{hidden}", u.scheme(), u.path())
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

/// Webhook URLs in a planned change, shown without their query or credentials: plan output
/// goes to terminals, CI logs and PR comments.
pub fn redact_change(change: &mut super::Change) {
    if !change.field.contains("webhookReceivers") {
        return;
    }
    for v in [&mut change.actual, &mut change.desired] {
        if let Some(list) = v.as_array_mut() {
            for r in list {
                if let Some(u) = r.get("serviceUri").and_then(Value::as_str) {
                    r["serviceUri"] = Value::String(redact_uri(u));
                }
            }
        }
    }
}

/// Whether an action group is created: something alerts and someone is to be told.
pub fn has_action_group(m: &Monitoring) -> bool {
    (m.alerts || m.failover_alert)
        && !(m.receivers.emails.is_empty() && m.receivers.webhooks.is_empty())
}

pub fn workspace_spec(sub: &str, c: &Catalogue, m: &Monitoring) -> Spec {
    let home = c.registry.home.to_string();
    Spec {
        key: WORKSPACE_KEY.into(),
        kind: ResourceKind::MonitorWorkspace,
        region: None,
        name: m.workspace.clone(),
        path: workspace_id(sub, m),
        api_version: MONITOR_ACCOUNTS,
        body: json!({ "location": home, "tags": tags() }),
        fields: vec![
            Field::immutable("location", json!(home), Cmp::Location),
            Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
        ],
        depends_on: vec![rg_key(&m.resource_group)],
        update: UpdateMode::MergePut,
        notes: vec![],
    }
}

pub fn action_group_spec(sub: &str, c: &Catalogue, m: &Monitoring) -> Spec {
    let emails: Vec<Value> = m
        .receivers
        .emails
        .iter()
        .enumerate()
        .map(|(i, e)| json!({ "name": format!("email-{}", i + 1), "emailAddress": e, "useCommonAlertSchema": true }))
        .collect();
    let webhooks: Vec<Value> = m
        .receivers
        .webhooks
        .iter()
        .enumerate()
        .map(|(i, u)| json!({ "name": format!("webhook-{}", i + 1), "serviceUri": u, "useCommonAlertSchema": true }))
        .collect();
    let short = action_group_short_name(c);
    Spec {
        key: ACTION_GROUP_KEY.into(),
        kind: ResourceKind::ActionGroup,
        region: None,
        name: action_group_name(c),
        path: action_group_id(sub, c, m),
        api_version: ACTION_GROUPS,
        body: json!({
            "location": "global",
            "tags": tags(),
            "properties": {
                "groupShortName": short,
                "enabled": true,
                "emailReceivers": emails,
                "webhookReceivers": webhooks,
            },
        }),
        fields: vec![
            Field::immutable("location", json!("global"), Cmp::Location),
            Field::mutable("properties.groupShortName", json!(short)),
            Field::mutable("properties.enabled", json!(true)),
            Field::mutable("properties.emailReceivers", json!(emails)).cmp(Cmp::Subset),
            Field::mutable("properties.webhookReceivers", json!(webhooks)).cmp(Cmp::Subset),
            Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
        ],
        depends_on: vec![rg_key(&m.resource_group)],
        update: UpdateMode::MergePut,
        notes: vec![],
    }
}

/// The dimension filter of the failover alert: every endpoint while all are in rotation;
/// otherwise every endpoint except those the catalogue took out (a Disabled endpoint is not
/// probed, so its state says nothing about a failover and must not page anyone).
pub fn endpoint_dimension(c: &Catalogue) -> Value {
    let mut out: Vec<String> = c
        .regions
        .iter()
        .filter(|r| !r.in_rotation)
        .map(|r| r.name.to_string())
        .collect();
    out.sort();
    if out.is_empty() {
        json!({ "name": "EndpointName", "operator": "Include", "values": ["*"] })
    } else {
        json!({ "name": "EndpointName", "operator": "Exclude", "values": out })
    }
}

pub fn failover_alert_spec(sub: &str, c: &Catalogue, m: &Monitoring) -> Spec {
    let profile = super::tm_profile_id(sub, c);
    let criteria = json!({
        "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
        "allOf": [{
            "name": "EndpointDegraded",
            "criterionType": "StaticThresholdCriterion",
            "metricNamespace": "Microsoft.Network/trafficManagerProfiles",
            "metricName": TM_ENDPOINT_METRIC,
            "dimensions": [endpoint_dimension(c)],
            // Maximum over one minute below 1: the endpoint was not online at any probe of
            // that minute, i.e. Traffic Manager answers DNS with the next priority.
            "operator": "LessThan",
            "threshold": 1,
            "timeAggregation": "Maximum",
        }],
    });
    let actions = if has_action_group(m) {
        json!([{ "actionGroupId": action_group_id(sub, c, m) }])
    } else {
        json!([])
    };
    let description = format!(
        "Traffic failed over: a Traffic Manager endpoint of {} is degraded (generated from catalogue.yaml; out-of-rotation endpoints excluded)",
        c.traffic_manager.profile
    );
    let mut depends_on = vec![rg_key(&m.resource_group), "traffic-manager".into()];
    if has_action_group(m) {
        depends_on.push(ACTION_GROUP_KEY.into());
    }
    Spec {
        key: FAILOVER_ALERT_KEY.into(),
        kind: ResourceKind::MetricAlert,
        region: None,
        name: failover_alert_name(c),
        path: provider(
            sub,
            m,
            &format!("Microsoft.Insights/metricAlerts/{}", failover_alert_name(c)),
        ),
        api_version: METRIC_ALERTS,
        body: json!({
            "location": "global",
            "tags": tags(),
            "properties": {
                "description": description,
                "severity": 1,
                "enabled": true,
                "scopes": [profile],
                "evaluationFrequency": "PT1M",
                "windowSize": "PT1M",
                "autoMitigate": true,
                "criteria": criteria,
                "actions": actions,
            },
        }),
        fields: vec![
            Field::immutable("location", json!("global"), Cmp::Location),
            Field::mutable("properties.description", json!(description)),
            Field::mutable("properties.severity", json!(1)),
            Field::mutable("properties.enabled", json!(true)),
            Field::mutable("properties.scopes", json!([profile])),
            Field::mutable("properties.evaluationFrequency", json!("PT1M")),
            Field::mutable("properties.windowSize", json!("PT1M")),
            Field::mutable("properties.autoMitigate", json!(true)).with_default(json!(true)),
            Field::mutable("properties.criteria", criteria).cmp(Cmp::Subset),
            Field::mutable("properties.actions", actions).cmp(Cmp::Subset),
            Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
        ],
        depends_on,
        // The spec's MetricAlertResourcePatch carries every property: a rotation change is one
        // PATCH of `criteria`, and nothing else on the alert is rewritten.
        update: UpdateMode::Patch,
        notes: vec![],
    }
}

/// Data collection endpoint, rule and association of one cluster.
pub fn data_collection_specs(sub: &str, c: &Catalogue, m: &Monitoring, r: &Region) -> Vec<Spec> {
    let home = c.registry.home.to_string();
    let cluster = &r.cluster.name;
    let dce_name = prom_name(&home, cluster);
    let dce_id = provider(
        sub,
        m,
        &format!("Microsoft.Insights/dataCollectionEndpoints/{dce_name}"),
    );
    let dcr_name = prom_name(&home, cluster);
    let dcr_id = provider(
        sub,
        m,
        &format!("Microsoft.Insights/dataCollectionRules/{dcr_name}"),
    );
    let ws = workspace_id(sub, m);
    let data_sources = json!({ "prometheusForwarder": [{
        "name": "PrometheusDataSource",
        "streams": [PROMETHEUS_STREAM],
    }]});
    let destinations = json!({ "monitoringAccounts": [{ "accountResourceId": ws, "name": "MonitoringAccount1" }] });
    let flows = json!([{ "streams": [PROMETHEUS_STREAM], "destinations": ["MonitoringAccount1"] }]);
    let cluster_key = format!("{}/cluster", r.name);
    let dcra_name = prom_name(&r.name, cluster);
    vec![
        Spec {
            key: format!("{}/dce", r.name),
            kind: ResourceKind::DataCollectionEndpoint,
            region: Some(r.name.to_string()),
            name: dce_name,
            path: dce_id.clone(),
            api_version: DATA_COLLECTION,
            body: json!({ "location": home, "kind": "Linux", "tags": tags(), "properties": {} }),
            fields: vec![
                Field::immutable("location", json!(home), Cmp::Location),
                Field::immutable("kind", json!("Linux"), Cmp::CaseInsensitive),
                Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
            ],
            depends_on: vec![rg_key(&m.resource_group)],
            update: UpdateMode::MergePut,
            notes: vec![],
        },
        Spec {
            key: format!("{}/dcr", r.name),
            kind: ResourceKind::DataCollectionRule,
            region: Some(r.name.to_string()),
            name: dcr_name,
            path: dcr_id.clone(),
            api_version: DATA_COLLECTION,
            body: json!({
                "location": home,
                "kind": "Linux",
                "tags": tags(),
                "properties": {
                    "dataCollectionEndpointId": dce_id,
                    "dataSources": data_sources,
                    "destinations": destinations,
                    "dataFlows": flows,
                },
            }),
            fields: vec![
                Field::immutable("location", json!(home), Cmp::Location),
                Field::immutable("kind", json!("Linux"), Cmp::CaseInsensitive),
                Field::mutable("properties.dataCollectionEndpointId", json!(dce_id))
                    .cmp(Cmp::ResourceId),
                Field::mutable("properties.dataSources", data_sources).cmp(Cmp::Subset),
                Field::mutable("properties.destinations", destinations).cmp(Cmp::Subset),
                Field::mutable("properties.dataFlows", flows).cmp(Cmp::Subset),
                Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
            ],
            depends_on: vec![format!("{}/dce", r.name), WORKSPACE_KEY.into()],
            update: UpdateMode::MergePut,
            notes: vec![],
        },
        Spec {
            key: format!("{}/dcra", r.name),
            kind: ResourceKind::DataCollectionRuleAssociation,
            region: Some(r.name.to_string()),
            name: format!("{cluster}/{dcra_name}"),
            path: format!(
                "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/{dcra_name}",
                super::cluster_id(sub, r)
            ),
            api_version: DATA_COLLECTION,
            body: json!({ "properties": {
                "dataCollectionRuleId": dcr_id,
                "description": "Managed Prometheus of this cluster into the Azure Monitor workspace (managed by infra). Deleting it stops metric collection.",
            }}),
            fields: vec![
                Field::mutable("properties.dataCollectionRuleId", json!(dcr_id))
                    .cmp(Cmp::ResourceId),
            ],
            depends_on: vec![format!("{}/dcr", r.name), cluster_key],
            update: UpdateMode::MergePut,
            notes: vec![],
        },
    ]
}

/// The two rule groups of one region (recording rules, alerts), cluster-centric.
pub fn rule_group_specs(sub: &str, c: &Catalogue, m: &Monitoring, r: &Region) -> Vec<Spec> {
    let Some(objectives) = monitoring::from_catalogue::objectives(c) else {
        return vec![];
    };
    let runbook = monitoring::from_catalogue::runbook_url(c);
    let ws = workspace_id(sub, m);
    let ag = has_action_group(m).then(|| action_group_id(sub, c, m));
    let home = c.registry.home.to_string();
    let cluster_id = super::cluster_id(sub, r);
    monitoring::region_rule_groups(&objectives, &r.name, &runbook)
        .into_iter()
        .map(|g| {
            let props = monitoring::arm::cluster_centric_rule_group_properties(
                &g,
                &r.cluster.name,
                &cluster_id,
                &ws,
                ag.as_deref(),
            );
            let mut fields = vec![Field::immutable("location", json!(home), Cmp::Location)];
            for k in [
                "description",
                "enabled",
                "clusterName",
                "interval",
                "scopes",
            ] {
                fields.push(Field::mutable(format!("properties.{k}"), props[k].clone()));
            }
            fields
                .push(Field::mutable("properties.rules", props["rules"].clone()).cmp(Cmp::Subset));
            fields.push(Field::mutable(
                "tags.managed-by",
                json!(super::MANAGED_BY.1),
            ));
            let mut depends_on = vec![WORKSPACE_KEY.to_string(), format!("{}/cluster", r.name)];
            if ag.is_some() {
                depends_on.push(ACTION_GROUP_KEY.into());
            }
            Spec {
                key: format!("{}/rule-group/{}", r.name, g.name),
                kind: ResourceKind::PrometheusRuleGroup,
                region: Some(r.name.to_string()),
                name: g.name.clone(),
                path: provider(
                    sub,
                    m,
                    &format!("Microsoft.AlertsManagement/prometheusRuleGroups/{}", g.name),
                ),
                api_version: PROMETHEUS_RULE_GROUPS,
                body: json!({ "location": home, "tags": tags(), "properties": props }),
                fields,
                depends_on,
                // The spec's PATCH only carries `enabled` and tags: rules change by a merged PUT.
                update: UpdateMode::MergePut,
                notes: vec![],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_collection_names_stay_distinct_and_within_44() {
        assert_eq!(
            prom_name("eastus2", "aks-eastus2"),
            "MSProm-eastus2-aks-eastus2"
        );
        let a = prom_name("eastus2", "aks-contoso-production-hello-world-centralus-01");
        let b = prom_name("eastus2", "aks-contoso-production-hello-world-centralus-02");
        assert_ne!(a, b);
        assert!(a.len() <= 44 && b.len() <= 44, "{a} {b}");
        assert!(a.starts_with("MSProm-eastus2-aks-contoso"), "{a}");
        assert_eq!(
            a,
            prom_name("eastus2", "aks-contoso-production-hello-world-centralus-01")
        );
    }

    #[test]
    fn webhook_urls_lose_their_query_and_credentials_in_output() {
        assert_eq!(
            redact_uri("https://hooks.example.com/alerts?token=s3cret"),
            "https://hooks.example.com/alerts?…"
        );
        assert_eq!(
            redact_uri("https://user:pw@hooks.example.com:8443/a/b"),
            "https://hooks.example.com:8443/a/b?…"
        );
        assert_eq!(
            redact_uri("https://hooks.example.com/a"),
            "https://hooks.example.com/a"
        );
        let mut c = super::super::Change {
            field: "properties.webhookReceivers".into(),
            actual: json!([{"name": "webhook-1", "serviceUri": "https://h.example/x?sig=abc"}]),
            desired: json!([{"name": "webhook-1", "serviceUri": "https://h.example/y?sig=def"}]),
            mutability: super::super::Mutability::Mutable,
        };
        redact_change(&mut c);
        let text = format!("{} {}", c.actual, c.desired);
        assert!(
            !text.contains("sig=") && text.contains("https://h.example/y?…"),
            "{text}"
        );
    }
}
