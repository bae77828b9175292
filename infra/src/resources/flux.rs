//! The `microsoft.flux` cluster extension and the Flux configuration whose one kustomization
//! points at `./clusters/<region>` of the GitOps repository.

use super::{Cmp, Field, Spec};
use crate::arm::ResourceKind;
use crate::arm::api_versions::{EXTENSIONS, FLUX_CONFIGURATIONS};
use catalogue::{Catalogue, Region};
use serde_json::json;

/// The extension's name (the CLI's convention).
pub const EXTENSION_NAME: &str = "flux";
/// Namespace Flux itself is installed in.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// The one kustomization of the configuration.
pub const KUSTOMIZATION_NAME: &str = "cluster";

pub fn flux_extension_spec(sub: &str, region: &Region) -> Spec {
    let cluster = super::cluster::cluster_id(sub, region);
    Spec {
        key: format!("{}/flux-extension", region.name),
        kind: ResourceKind::FluxExtension,
        region: Some(region.name.to_string()),
        name: format!("{}/{EXTENSION_NAME}", region.cluster.name),
        path: format!(
            "{cluster}/providers/Microsoft.KubernetesConfiguration/extensions/{EXTENSION_NAME}"
        ),
        api_version: EXTENSIONS,
        body: json!({
            "properties": {
                "extensionType": "microsoft.flux",
                "autoUpgradeMinorVersion": true,
                "releaseTrain": "Stable",
                "scope": { "cluster": { "releaseNamespace": FLUX_NAMESPACE } },
            }
        }),
        fields: vec![
            Field::immutable(
                "properties.extensionType",
                json!("microsoft.flux"),
                Cmp::CaseInsensitive,
            ),
            Field::immutable(
                "properties.scope.cluster.releaseNamespace",
                json!(FLUX_NAMESPACE),
                Cmp::Exact,
            ),
            Field::mutable("properties.autoUpgradeMinorVersion", json!(true))
                .with_default(json!(true)),
            Field::ci("properties.releaseTrain", json!("Stable")).with_default(json!("Stable")),
        ],
        depends_on: vec![format!("{}/cluster", region.name)],
        update: super::UpdateMode::Patch,
        notes: vec![],
    }
}

pub fn flux_configuration_spec(sub: &str, c: &Catalogue, region: &Region) -> Spec {
    let g = &c.gitops;
    let cluster = super::cluster::cluster_id(sub, region);
    let path = format!("./clusters/{}", region.name);
    let k = |f: &str| format!("properties.kustomizations.{KUSTOMIZATION_NAME}.{f}");
    Spec {
        key: format!("{}/flux-config", region.name),
        kind: ResourceKind::FluxConfiguration,
        region: Some(region.name.to_string()),
        name: format!("{}/{}", region.cluster.name, g.source_name),
        path: format!(
            "{cluster}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{}",
            g.source_name
        ),
        api_version: FLUX_CONFIGURATIONS,
        body: json!({
            "properties": {
                "scope": "cluster",
                "namespace": g.namespace,
                "sourceKind": "GitRepository",
                "suspend": false,
                "gitRepository": {
                    "url": g.repo,
                    "repositoryRef": { "branch": g.branch },
                    "syncIntervalInSeconds": g.source_interval_seconds,
                    "timeoutInSeconds": g.timeout_seconds,
                },
                "kustomizations": {
                    KUSTOMIZATION_NAME: {
                        "path": path,
                        "prune": true,
                        "wait": true,
                        "syncIntervalInSeconds": g.kustomization_interval_seconds,
                        "timeoutInSeconds": g.timeout_seconds,
                    }
                },
            }
        }),
        fields: vec![
            Field::immutable("properties.scope", json!("cluster"), Cmp::CaseInsensitive)
                .with_default(json!("cluster")),
            Field::immutable("properties.namespace", json!(g.namespace), Cmp::Exact),
            Field::ci("properties.sourceKind", json!("GitRepository")),
            Field::mutable("properties.suspend", json!(false)).with_default(json!(false)),
            Field::mutable("properties.gitRepository.url", json!(g.repo)),
            Field::mutable(
                "properties.gitRepository.repositoryRef.branch",
                json!(g.branch),
            ),
            Field::mutable(
                "properties.gitRepository.syncIntervalInSeconds",
                json!(g.source_interval_seconds),
            )
            .with_default(json!(600)),
            Field::mutable(
                "properties.gitRepository.timeoutInSeconds",
                json!(g.timeout_seconds),
            )
            .with_default(json!(600)),
            Field::mutable(k("path"), json!(path)),
            Field::mutable(k("prune"), json!(true)).with_default(json!(false)),
            Field::mutable(k("wait"), json!(true)).with_default(json!(true)),
            Field::mutable(
                k("syncIntervalInSeconds"),
                json!(g.kustomization_interval_seconds),
            )
            .with_default(json!(600)),
            Field::mutable(k("timeoutInSeconds"), json!(g.timeout_seconds))
                .with_default(json!(600)),
        ],
        depends_on: vec![format!("{}/flux-extension", region.name)],
        update: super::UpdateMode::Patch,
        notes: vec![],
    }
}
