//! Role assignments: AcrPull on the registry for each kubelet identity, and Network
//! Contributor on the public IP's resource group for each cluster identity. Names are
//! deterministic (UUIDv5 of scope|principal|role) so a re-run finds its own assignment.

use super::{Cmp, Field, Mutability, Spec};
use crate::arm::ResourceKind;
use crate::arm::api_versions::ROLE_ASSIGNMENTS;
use serde_json::json;

/// Which of the two assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleTarget {
    /// AcrPull for the kubelet identity on the registry.
    AcrPull,
    /// Network Contributor for the cluster identity on the public IP's resource group.
    NetworkContributor,
}

/// A fixed namespace for assignment names (UUIDv5 of "infra.role-assignments").
fn namespace() -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"urn:infra:role-assignments")
}

/// UUIDv5 of `scope|principal|role`, all lowercased so case differences in ids don't matter.
pub fn assignment_name(scope: &str, principal: &str, role_guid: &str) -> String {
    let key = format!(
        "{}|{}|{}",
        scope.trim_end_matches('/'),
        principal,
        role_guid
    )
    .to_ascii_lowercase();
    uuid::Uuid::new_v5(&namespace(), key.as_bytes()).to_string()
}

/// The `description` every assignment made here carries: it ties the assignment to the
/// cluster whose identity it grants, so one made for an identity the cluster no longer has
/// can be found and removed (the AcrPull scope, the registry, is shared by every region).
pub fn assignment_description(label: &str, cluster: &str) -> String {
    format!("managed by infra: {label} of cluster {cluster}")
}

#[allow(clippy::too_many_arguments)]
pub fn role_assignment_spec(
    sub: &str,
    key: &str,
    region: &str,
    label: &str,
    scope: &str,
    principal: &str,
    role_guid: &str,
    description: &str,
    depends_on: Vec<String>,
) -> Spec {
    let name = assignment_name(scope, principal, role_guid);
    let role_id = format!(
        "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
    );
    Spec {
        key: key.to_string(),
        kind: ResourceKind::RoleAssignment,
        region: Some(region.to_string()),
        name: format!("{label} ({name})"),
        path: format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        api_version: ROLE_ASSIGNMENTS,
        body: json!({
            "properties": {
                "roleDefinitionId": role_id,
                "principalId": principal,
                // Avoids the PrincipalNotFound race for identities Entra has not replicated yet.
                "principalType": "ServicePrincipal",
                "description": description,
            }
        }),
        fields: vec![
            Field::new(
                "properties.roleDefinitionId",
                json!(role_id),
                Mutability::Replace,
                Cmp::RoleDefinition,
            ),
            Field::new(
                "properties.principalId",
                json!(principal),
                Mutability::Replace,
                Cmp::CaseInsensitive,
            ),
            Field::new(
                "properties.scope",
                json!(scope),
                Mutability::Replace,
                Cmp::ResourceId,
            )
            .with_default(json!(scope)),
        ],
        depends_on,
        update: super::UpdateMode::MergePut,
        notes: vec![],
    }
}
