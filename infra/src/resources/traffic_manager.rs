//! Traffic Manager: a priority-routed profile whose monitor probes the service's readiness
//! path, and one AzureEndpoints endpoint per region on its static public IP. Endpoints are
//! managed through their own URLs. A profile PUT replaces the whole profile, endpoint list
//! included (a PUT without `endpoints` deletes them all), so the profile is created by PUT but
//! updated only by PATCH with the changed fields, which leaves the endpoints alone.

use super::{Cmp, Field, Spec, rg_key, rg_path, tags};
use crate::arm::ResourceKind;
use crate::arm::api_versions::TRAFFIC_MANAGER;
use catalogue::{Catalogue, MonitorProtocol, Region};
use serde_json::json;

pub fn tm_profile_id(sub: &str, c: &Catalogue) -> String {
    format!(
        "{}/providers/Microsoft.Network/trafficmanagerprofiles/{}",
        rg_path(sub, &c.traffic_manager.resource_group),
        c.traffic_manager.profile
    )
}

pub fn tm_profile_spec(sub: &str, c: &Catalogue) -> Spec {
    let tm = &c.traffic_manager;
    let m = &tm.monitor;
    let mut monitor = json!({
        "protocol": m.protocol.to_string(),
        "port": m.port,
        "intervalInSeconds": m.interval_seconds,
        "timeoutInSeconds": m.timeout_seconds,
        "toleratedNumberOfFailures": m.tolerated_failures,
        "expectedStatusCodeRanges": [{ "min": 200, "max": 299 }],
    });
    let mut fields = vec![
        Field::immutable("location", json!("global"), Cmp::Location),
        Field::immutable(
            "properties.dnsConfig.relativeName",
            json!(tm.dns_name),
            Cmp::CaseInsensitive,
        ),
        Field::mutable("properties.dnsConfig.ttl", json!(tm.ttl)),
        Field::ci("properties.profileStatus", json!("Enabled")),
        Field::ci("properties.trafficRoutingMethod", json!("Priority")),
        Field::ci(
            "properties.monitorConfig.protocol",
            json!(m.protocol.to_string()),
        ),
        Field::mutable("properties.monitorConfig.port", json!(m.port)),
        Field::mutable(
            "properties.monitorConfig.intervalInSeconds",
            json!(m.interval_seconds),
        )
        .with_default(json!(30)),
        Field::mutable(
            "properties.monitorConfig.timeoutInSeconds",
            json!(m.timeout_seconds),
        )
        .with_default(json!(10)),
        Field::mutable(
            "properties.monitorConfig.toleratedNumberOfFailures",
            json!(m.tolerated_failures),
        )
        .with_default(json!(3)),
        Field::mutable(
            "properties.monitorConfig.expectedStatusCodeRanges",
            json!([{ "min": 200, "max": 299 }]),
        ),
        Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
    ];
    if m.protocol != MonitorProtocol::Tcp {
        monitor["path"] = json!(c.monitor_path());
        fields.push(Field::mutable(
            "properties.monitorConfig.path",
            json!(c.monitor_path()),
        ));
    }
    Spec {
        key: "traffic-manager".into(),
        kind: ResourceKind::TrafficManagerProfile,
        region: None,
        name: tm.profile.clone(),
        path: tm_profile_id(sub, c),
        api_version: TRAFFIC_MANAGER,
        body: json!({
            "location": "global",
            "tags": tags(),
            "properties": {
                "profileStatus": "Enabled",
                "trafficRoutingMethod": "Priority",
                "dnsConfig": { "relativeName": tm.dns_name, "ttl": tm.ttl },
                "monitorConfig": monitor,
            }
        }),
        fields,
        depends_on: vec![rg_key(&tm.resource_group)],
        update: super::UpdateMode::Patch,
        notes: vec![format!(
            "worst-case failover {}s = ({} + 1) x {}s interval + {}s timeout + {}s TTL (RTO {}s)",
            tm.worst_case_failover_seconds(),
            m.tolerated_failures,
            m.interval_seconds,
            m.timeout_seconds,
            tm.ttl,
            tm.rto_seconds
        )],
    }
}

/// `Enabled` while the region is in rotation, `Disabled` when the catalogue takes it out
/// (evacuation): a disabled endpoint is neither probed nor answered in DNS.
pub fn endpoint_status(region: &Region) -> &'static str {
    if region.in_rotation {
        "Enabled"
    } else {
        "Disabled"
    }
}

pub fn tm_endpoint_spec(sub: &str, c: &Catalogue, region: &Region) -> Spec {
    let pip = super::public_ip_id(sub, region);
    let status = endpoint_status(region);
    Spec {
        key: format!("{}/tm-endpoint", region.name),
        kind: ResourceKind::TrafficManagerEndpoint,
        region: Some(region.name.to_string()),
        name: format!("{}/{}", c.traffic_manager.profile, region.name),
        path: format!("{}/AzureEndpoints/{}", tm_profile_id(sub, c), region.name),
        api_version: TRAFFIC_MANAGER,
        body: json!({
            "properties": {
                "targetResourceId": pip,
                "endpointStatus": status,
                "priority": region.priority,
            }
        }),
        fields: vec![
            Field::mutable("properties.targetResourceId", json!(pip)).cmp(Cmp::ResourceId),
            Field::ci("properties.endpointStatus", json!(status)),
            Field::mutable("properties.priority", json!(region.priority)),
        ],
        depends_on: vec![
            "traffic-manager".into(),
            format!("{}/public-ip", region.name),
        ],
        update: super::UpdateMode::Patch,
        notes: vec![],
    }
}
