//! Every ARM api-version the tool speaks, pinned in one place (see infra/README.md for why each).
//! Never pick "latest" at runtime: a new version can change defaults and body shapes.

/// `Microsoft.Resources/resourceGroups`.
pub const RESOURCE_GROUPS: &str = "2025-04-01";
/// `Microsoft.ContainerRegistry/registries` and `registries/replications`.
pub const CONTAINER_REGISTRY: &str = "2025-11-01";
/// `Microsoft.ContainerService/managedClusters` (verified in the spec's `main.tsp`).
pub const MANAGED_CLUSTERS: &str = "2025-10-01";
/// `Microsoft.Authorization/roleAssignments` (the only stable version in the TypeSpec).
pub const ROLE_ASSIGNMENTS: &str = "2022-04-01";
/// `Microsoft.KubernetesConfiguration/extensions`.
pub const EXTENSIONS: &str = "2024-11-01";
/// `Microsoft.KubernetesConfiguration/fluxConfigurations`.
pub const FLUX_CONFIGURATIONS: &str = "2025-04-01";
/// `Microsoft.Network/publicIPAddresses`: a long-standing stable Network version that has
/// `sku.tier`, `zones` and `dnsSettings.domainNameLabel` (all the fields used here).
pub const PUBLIC_IP_ADDRESSES: &str = "2024-05-01";
/// `Microsoft.Network/trafficmanagerprofiles` and their endpoints.
pub const TRAFFIC_MANAGER: &str = "2022-04-01";

/// Built-in role: AcrPull.
pub const ROLE_ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
/// Built-in role: Network Contributor.
pub const ROLE_NETWORK_CONTRIBUTOR: &str = "4d97b98b-1d4f-4787-a291-c67834d212e7";

/// The token scope for Azure Resource Manager.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
