//! The body of an Azure Monitor `Microsoft.AlertsManagement/prometheusRuleGroups` resource
//! (api-version 2023-03-01) for one rule group.

use crate::{Rule, RuleGroup};
use serde_json::{Value, json};

/// Seconds as an ISO 8601 duration (`PT1M`, `PT90S`, `PT0S`).
pub fn iso_duration(seconds: u64) -> String {
    if seconds > 0 && seconds.is_multiple_of(60) {
        format!("PT{}M", seconds / 60)
    } else {
        format!("PT{seconds}S")
    }
}

/// `properties` of the rule group, scoped to one cluster's series (`clusterName`) in one
/// Azure Monitor workspace, alerts routed to `action_group_id`.
pub fn rule_group_properties(
    group: &RuleGroup,
    cluster_name: &str,
    workspace_id: &str,
    action_group_id: Option<&str>,
) -> Value {
    let rules: Vec<Value> = group
        .rules
        .iter()
        .map(|r| match r {
            Rule::Record(r) => json!({
                "record": r.record,
                "expression": r.expr,
                "labels": r.labels,
                "enabled": true,
            }),
            Rule::Alert(a) => {
                let mut v = json!({
                    "alert": a.alert,
                    "expression": a.expr,
                    "for": iso_duration(a.for_seconds),
                    "severity": a.severity.azure(),
                    "labels": a.labels,
                    "annotations": a.annotations,
                    "enabled": true,
                    "resolveConfiguration": { "autoResolved": true, "timeToResolve": "PT10M" },
                });
                if let Some(id) = action_group_id {
                    v["actions"] = json!([{ "actionGroupId": id }]);
                }
                v
            }
        })
        .collect();
    json!({
        "description": format!("{}: generated from catalogue.yaml", group.name),
        "enabled": true,
        "clusterName": cluster_name,
        "interval": iso_duration(group.interval_seconds),
        "scopes": [workspace_id],
        "rules": rules,
    })
}

/// [`rule_group_properties`] in the cluster-centric form of the spec's example
/// `createOrUpdateClusterCentricRuleGroup.json` (2023-03-01): `scopes` holds the workspace and
/// then the cluster's resource id, next to `clusterName`.
pub fn cluster_centric_rule_group_properties(
    group: &RuleGroup,
    cluster_name: &str,
    cluster_id: &str,
    workspace_id: &str,
    action_group_id: Option<&str>,
) -> Value {
    let mut v = rule_group_properties(group, cluster_name, workspace_id, action_group_id);
    v["scopes"] = json!([workspace_id, cluster_id]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_iso_8601() {
        assert_eq!(iso_duration(60), "PT1M");
        assert_eq!(iso_duration(600), "PT10M");
        assert_eq!(iso_duration(90), "PT90S");
        assert_eq!(iso_duration(0), "PT0S");
    }

    #[test]
    fn cluster_centric_scopes_are_the_workspace_then_the_cluster() {
        let group = RuleGroup {
            name: "eastus2-alerts".into(),
            interval_seconds: 60,
            rules: vec![],
        };
        let v = cluster_centric_rule_group_properties(&group, "aks", "/c/aks", "/w/amw", None);
        assert_eq!(v["scopes"], json!(["/w/amw", "/c/aks"]));
        assert_eq!(v["clusterName"], json!("aks"));
    }
}
