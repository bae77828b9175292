//! AKS managed clusters: zonal system and user pools, OIDC issuer, workload identity,
//! system-assigned identity. Updates merge owned fields into the live body and never carry a
//! Kubernetes version (that would start an upgrade).

use super::{Cmp, Field, Spec, rg_key, rg_path, tags, zones};
use crate::arm::ResourceKind;
use crate::arm::api_versions::MANAGED_CLUSTERS;
use catalogue::{ClusterTier, PoolMode, Region};
use serde_json::{Value, json};

pub fn cluster_id(sub: &str, region: &Region) -> String {
    format!(
        "{}/providers/Microsoft.ContainerService/managedClusters/{}",
        rg_path(sub, &region.cluster.resource_group),
        region.cluster.name
    )
}

fn tier(t: ClusterTier) -> &'static str {
    match t {
        ClusterTier::Free => "Free",
        ClusterTier::Standard => "Standard",
        ClusterTier::Premium => "Premium",
    }
}

/// `managed_prometheus`: the catalogue's `monitoring.scrape` is on, so the cluster runs the
/// Azure Monitor metrics add-on (`azureMonitorProfile.metrics.enabled`). Turning it off later
/// leaves the add-on as it is (infra does not own it then).
pub fn cluster_spec(sub: &str, region: &Region, managed_prometheus: bool) -> Spec {
    let cl = &region.cluster;
    let zonal = !region.zones.is_empty();
    let mut pools = Vec::new();
    let mut fields = vec![
        Field::immutable("location", json!(region.name), Cmp::Location),
        Field::immutable(
            "properties.dnsPrefix",
            json!(cl.dns_prefix()),
            Cmp::CaseInsensitive,
        ),
        Field::immutable(
            "identity.type",
            json!("SystemAssigned"),
            Cmp::CaseInsensitive,
        ),
        Field::ci("sku.tier", json!(tier(cl.tier))),
        Field::mutable("properties.oidcIssuerProfile.enabled", json!(true)),
        Field::mutable(
            "properties.securityProfile.workloadIdentity.enabled",
            json!(true),
        ),
        Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
    ];
    for p in &cl.node_pools {
        let mode = match p.mode {
            PoolMode::System => "System",
            PoolMode::User => "User",
        };
        let mut pool = json!({
            "name": p.name,
            "mode": mode,
            "type": "VirtualMachineScaleSets",
            "vmSize": p.vm_size,
            "count": p.count,
            "osType": "Linux",
        });
        let at = |f: &str| format!("properties.agentPoolProfiles[name={}].{f}", p.name);
        fields.push(Field::immutable(
            at("name"),
            json!(p.name),
            Cmp::CaseInsensitive,
        ));
        fields.push(Field::immutable(
            at("vmSize"),
            json!(p.vm_size),
            Cmp::CaseInsensitive,
        ));
        if zonal {
            pool["availabilityZones"] = zones(region);
            fields.push(Field::immutable(
                at("availabilityZones"),
                zones(region),
                Cmp::Set,
            ));
        } else {
            fields.push(
                Field::immutable(at("availabilityZones"), json!([]), Cmp::Set)
                    .with_default(json!([])),
            );
        }
        fields.push(Field::ci(at("mode"), json!(mode)));
        match (p.min_count, p.max_count) {
            (Some(lo), Some(hi)) => {
                pool["enableAutoScaling"] = json!(true);
                pool["minCount"] = json!(lo);
                pool["maxCount"] = json!(hi);
                // With the autoscaler on, `count` is the autoscaler's business: not diffed.
                fields.push(Field::mutable(at("enableAutoScaling"), json!(true)));
                fields.push(Field::mutable(at("minCount"), json!(lo)));
                fields.push(Field::mutable(at("maxCount"), json!(hi)));
            }
            _ => {
                pool["enableAutoScaling"] = json!(false);
                fields.push(
                    Field::mutable(at("enableAutoScaling"), json!(false))
                        .with_default(json!(false)),
                );
                fields.push(Field::mutable(at("count"), json!(p.count)));
            }
        }
        pools.push(pool);
    }
    let mut body = json!({
        "location": region.name,
        "tags": tags(),
        "identity": { "type": "SystemAssigned" },
        "sku": { "name": "Base", "tier": tier(cl.tier) },
        "properties": {
            // Only ever sent on create (see strip_for_update).
            "kubernetesVersion": cl.kubernetes_version,
            "dnsPrefix": cl.dns_prefix(),
            "agentPoolProfiles": pools,
            "oidcIssuerProfile": { "enabled": true },
            "securityProfile": { "workloadIdentity": { "enabled": true } },
            // Create-only choices: a Standard load balancer is what a Standard static public IP
            // needs; Azure CNI overlay keeps pod IPs off the VNet.
            "networkProfile": {
                "networkPlugin": "azure",
                "networkPluginMode": "overlay",
                "loadBalancerSku": "standard",
                "outboundType": "loadBalancer",
            },
        },
    });
    if managed_prometheus {
        body["properties"]["azureMonitorProfile"] = json!({ "metrics": { "enabled": true } });
        // Only this one flag: kube-state-metrics allow-lists and anything else set on the
        // profile survive (merged into the live body like every owned field).
        fields.push(
            Field::mutable(
                "properties.azureMonitorProfile.metrics.enabled",
                json!(true),
            )
            .with_default(json!(false)),
        );
    }
    Spec {
        key: format!("{}/cluster", region.name),
        kind: ResourceKind::ManagedCluster,
        region: Some(region.name.to_string()),
        name: cl.name.clone(),
        path: cluster_id(sub, region),
        api_version: MANAGED_CLUSTERS,
        body,
        fields,
        depends_on: vec![rg_key(&cl.resource_group)],
        update: super::UpdateMode::MergePut,
        notes: vec![],
    }
}

/// Cluster-specific part of the update body (see [`super::merge_owned`]): read-only fields and
/// every Kubernetes version removed (sending one could start an upgrade). Everything the tool
/// does not own (addons, auto-upgrade profile, network profile, …) is kept as it is.
pub(super) fn strip_for_update(body: &mut Value) {
    if let Some(p) = body.get_mut("properties").and_then(Value::as_object_mut) {
        for k in [
            "provisioningState",
            "powerState",
            "kubernetesVersion",
            "currentKubernetesVersion",
            "fqdn",
            "azurePortalFQDN",
            "privateFQDN",
            "maxAgentPools",
        ] {
            p.remove(k);
        }
        if let Some(pools) = p.get_mut("agentPoolProfiles").and_then(Value::as_array_mut) {
            for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
                for k in [
                    "orchestratorVersion",
                    "currentOrchestratorVersion",
                    "provisioningState",
                    "powerState",
                    "nodeImageVersion",
                ] {
                    pool.remove(k);
                }
            }
        }
    }
}

/// `x.y` of the catalogue matches a running `x.y.z`.
pub fn version_matches(catalogue: &str, running: &str) -> bool {
    running == catalogue || running.starts_with(&format!("{catalogue}."))
}
