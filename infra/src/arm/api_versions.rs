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

/// `Microsoft.ContainerRegistry/registries` PATCH of `regionalEndpoints` only: the property is
/// preview-only (absent from every stable version), so this one request uses the preview
/// version and every other registry request stays on [`CONTAINER_REGISTRY`].
pub const CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW: &str = "2026-01-01-preview";
/// `Microsoft.Monitor/accounts` (Azure Monitor workspace).
pub const MONITOR_ACCOUNTS: &str = "2023-04-03";
/// `Microsoft.Insights/dataCollectionEndpoints`, `dataCollectionRules`,
/// `dataCollectionRuleAssociations`.
pub const DATA_COLLECTION: &str = "2022-06-01";
/// `Microsoft.AlertsManagement/prometheusRuleGroups` (the only stable version).
pub const PROMETHEUS_RULE_GROUPS: &str = "2023-03-01";
/// `Microsoft.Insights/actionGroups`.
pub const ACTION_GROUPS: &str = "2023-01-01";
/// `Microsoft.Insights/metricAlerts`.
pub const METRIC_ALERTS: &str = "2018-03-01";

/// Built-in role: AcrPull.
pub const ROLE_ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
/// Built-in role: Network Contributor.
pub const ROLE_NETWORK_CONTRIBUTOR: &str = "4d97b98b-1d4f-4787-a291-c67834d212e7";

/// The token scope for Azure Resource Manager.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
