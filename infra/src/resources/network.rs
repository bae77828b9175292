//! Resource groups and the static public IP each region's Service pins.

use super::{Cmp, Field, Spec, rg_key, rg_path, tags, zones};
use crate::arm::ResourceKind;
use crate::arm::api_versions::{PUBLIC_IP_ADDRESSES, RESOURCE_GROUPS};
use catalogue::Region;
use serde_json::json;

pub fn resource_group_spec(sub: &str, name: &str, location: &str, region: Option<&str>) -> Spec {
    Spec {
        key: rg_key(name),
        kind: ResourceKind::ResourceGroup,
        region: region.map(str::to_string),
        name: name.to_string(),
        path: rg_path(sub, name),
        api_version: RESOURCE_GROUPS,
        body: json!({ "location": location, "tags": tags() }),
        fields: vec![
            Field::immutable("location", json!(location), Cmp::Location),
            Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
        ],
        depends_on: vec![],
        update: super::UpdateMode::MergePut,
        notes: vec![],
    }
}

pub fn public_ip_id(sub: &str, region: &Region) -> String {
    format!(
        "{}/providers/Microsoft.Network/publicIPAddresses/{}",
        rg_path(sub, region.public_ip_resource_group()),
        region.public_ip.name
    )
}

pub fn public_ip_spec(sub: &str, region: &Region) -> Spec {
    let zonal = !region.zones.is_empty();
    let mut body = json!({
        "location": region.name,
        "tags": tags(),
        "sku": { "name": "Standard", "tier": "Regional" },
        "properties": {
            "publicIPAllocationMethod": "Static",
            "publicIPAddressVersion": "IPv4",
            "dnsSettings": { "domainNameLabel": region.public_ip.dns_label },
        },
    });
    let mut fields = vec![
        Field::immutable("location", json!(region.name), Cmp::Location),
        Field::immutable("sku.name", json!("Standard"), Cmp::CaseInsensitive),
        Field::immutable("sku.tier", json!("Regional"), Cmp::CaseInsensitive)
            .with_default(json!("Regional")),
        Field::ci("properties.publicIPAllocationMethod", json!("Static")),
        Field::mutable(
            "properties.dnsSettings.domainNameLabel",
            json!(region.public_ip.dns_label),
        ),
        Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
    ];
    if zonal {
        body["zones"] = zones(region);
        fields.push(Field::immutable("zones", zones(region), Cmp::Set));
    } else {
        fields.push(Field::immutable("zones", json!([]), Cmp::Set).with_default(json!([])));
    }
    Spec {
        key: format!("{}/public-ip", region.name),
        kind: ResourceKind::PublicIp,
        region: Some(region.name.to_string()),
        name: region.public_ip.name.clone(),
        path: public_ip_id(sub, region),
        api_version: PUBLIC_IP_ADDRESSES,
        body,
        fields,
        depends_on: vec![rg_key(region.public_ip_resource_group())],
        update: super::UpdateMode::MergePut,
        notes: vec![],
    }
}
