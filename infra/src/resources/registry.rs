//! ACR Premium in the home region, and a replication in every other catalogue region.

use super::{Cmp, Field, Mutability, Spec, rg_key, rg_path, tags};
use crate::arm::ResourceKind;
use crate::arm::api_versions::{CONTAINER_REGISTRY, CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW};
use catalogue::{Catalogue, RegistrySku};
use serde_json::json;

pub fn registry_id(sub: &str, c: &Catalogue) -> String {
    format!(
        "{}/providers/Microsoft.ContainerRegistry/registries/{}",
        rg_path(sub, &c.registry.resource_group),
        c.registry.name
    )
}

fn zr(enabled: bool) -> &'static str {
    if enabled { "Enabled" } else { "Disabled" }
}

pub fn registry_spec(sub: &str, c: &Catalogue) -> Spec {
    let r = &c.registry;
    let sku = match r.sku {
        RegistrySku::Basic => "Basic",
        RegistrySku::Standard => "Standard",
        RegistrySku::Premium => "Premium",
    };
    // ZR quirk (ARM notes §1.2): Azure now makes registries zone redundant by default in AZ
    // regions but may still report `Disabled`. Wanting Enabled and reading Disabled is
    // therefore informational; wanting Disabled and reading Enabled is a real, blocked change.
    let zr_field = if r.zone_redundancy {
        Field::new(
            "properties.zoneRedundancy",
            json!("Enabled"),
            Mutability::Informational,
            Cmp::CaseInsensitive,
        )
    } else {
        Field::immutable(
            "properties.zoneRedundancy",
            json!("Disabled"),
            Cmp::CaseInsensitive,
        )
        .with_default(json!("Disabled"))
    };
    Spec {
        key: "registry".into(),
        kind: ResourceKind::Registry,
        region: None,
        name: r.name.clone(),
        path: registry_id(sub, c),
        api_version: CONTAINER_REGISTRY,
        body: json!({
            "location": r.home,
            "sku": { "name": sku },
            "tags": tags(),
            "properties": { "adminUserEnabled": false, "zoneRedundancy": zr(r.zone_redundancy) },
        }),
        fields: vec![
            Field::immutable("location", json!(r.home), Cmp::Location),
            Field::ci("sku.name", json!(sku)),
            Field::mutable("properties.adminUserEnabled", json!(false)).with_default(json!(false)),
            zr_field,
            Field::mutable("tags.managed-by", json!(super::MANAGED_BY.1)),
        ],
        depends_on: vec![rg_key(&r.resource_group)],
        update: super::UpdateMode::MergePut,
        notes: vec![],
    }
}

/// `None` for the home region: ARM creates that replication itself.
pub fn replication_spec(sub: &str, c: &Catalogue, region: &catalogue::Region) -> Option<Spec> {
    if super::normalise_location(&region.name) == super::normalise_location(&c.registry.home) {
        return None;
    }
    let zr = zr(c.registry.zone_redundancy);
    Some(Spec {
        key: format!("{}/replication", region.name),
        kind: ResourceKind::Replication,
        region: Some(region.name.to_string()),
        name: format!("{}/{}", c.registry.name, region.name),
        path: format!("{}/replications/{}", registry_id(sub, c), region.name),
        api_version: CONTAINER_REGISTRY,
        body: json!({
            "location": region.name,
            "tags": tags(),
            // Always explicit: a replication without it comes back Disabled (recorded).
            "properties": { "zoneRedundancy": zr, "regionEndpointEnabled": true },
        }),
        fields: vec![
            Field::immutable("location", json!(region.name), Cmp::Location),
            Field::immutable("properties.zoneRedundancy", json!(zr), Cmp::CaseInsensitive)
                .with_default(json!("Disabled")),
            Field::mutable("properties.regionEndpointEnabled", json!(true))
                .with_default(json!(true)),
        ],
        depends_on: vec!["registry".into()],
        update: super::UpdateMode::MergePut,
        notes: vec![],
    })
}

/// The registry's regional endpoints (`<registry>.<region>.geo.azurecr.io`, one per replica),
/// which `gen promote` reads to see a manifest in each region's own replica. The property is
/// preview-only, so it is its own step: read and PATCHed with the preview api-version alone,
/// after the registry step (which, like every other registry request, uses the stable version
/// whose bodies never carry it). Premium only: other SKUs get no such step.
pub fn regional_endpoints_spec(sub: &str, c: &Catalogue) -> Option<Spec> {
    if c.registry.sku != RegistrySku::Premium {
        return None;
    }
    Some(Spec {
        key: "registry/regional-endpoints".into(),
        kind: ResourceKind::RegistryRegionalEndpoints,
        region: None,
        name: c.registry.name.clone(),
        path: registry_id(sub, c),
        api_version: CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW,
        body: json!({ "properties": { "regionalEndpoints": "Enabled" } }),
        fields: vec![
            Field::ci("properties.regionalEndpoints", json!("Enabled"))
                .with_default(json!("Disabled")),
        ],
        depends_on: vec!["registry".into()],
        update: super::UpdateMode::PatchOnly,
        notes: vec![format!(
            "regionalEndpoints is a preview property: this one PATCH uses api-version {CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW}; every other registry request uses {CONTAINER_REGISTRY}, whose bodies never carry it"
        )],
    })
}
