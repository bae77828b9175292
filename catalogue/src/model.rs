//! The typed region catalogue. Field names are camelCase in YAML; unknown fields are errors.
//! See `docs/catalogue.md` for every field's meaning, default and constraints.

use crate::names::{KubeName, RegionName};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;

/// A catalogue that parsed and passed every invariant. Only [`crate::parse`] and
/// [`crate::load`] make one, so holding a `Catalogue` proves it is valid; read its fields
/// through `Deref` (`c.regions`, `c.app`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Catalogue(CatalogueSpec);

impl Catalogue {
    /// Only for the loader, after the invariants passed.
    pub(crate) fn validated(spec: CatalogueSpec) -> Self {
        Self(spec)
    }

    pub fn spec(&self) -> &CatalogueSpec {
        &self.0
    }

    /// The fields, for an edit that must then go through [`crate::parse`] again.
    pub fn into_spec(self) -> CatalogueSpec {
        self.0
    }
}

impl Deref for Catalogue {
    type Target = CatalogueSpec;
    fn deref(&self) -> &CatalogueSpec {
        &self.0
    }
}

impl AsRef<CatalogueSpec> for Catalogue {
    fn as_ref(&self) -> &CatalogueSpec {
        &self.0
    }
}

/// The catalogue as written, before its invariants are checked (what the rules read).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogueSpec {
    pub app: App,
    pub registry: Registry,
    pub traffic_manager: TrafficManager,
    pub gitops: GitOps,
    pub regions: Vec<Region>,
    /// How a release moves through the regions (`gen promote`). Defaults apply when absent.
    #[serde(default)]
    pub rollout: Rollout,
    /// Managed Prometheus scraping, alert rules and receivers. Absent: no monitoring is
    /// rendered or created.
    #[serde(default)]
    pub monitoring: Option<Monitoring>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct App {
    /// Kubernetes name of the workload (DNS-1123 label).
    pub name: KubeName,
    /// Namespace the workload runs in; defaults to `name`.
    #[serde(default)]
    pub namespace: Option<KubeName>,
    /// Repository inside the registry, e.g. `hello` for `<registry>.azurecr.io/hello`.
    pub image: String,
    /// Immutable version tag; exactly one of `tag` and `digest`.
    #[serde(default)]
    pub tag: Option<String>,
    /// `sha256:<64 hex>`; exactly one of `tag` and `digest`.
    #[serde(default)]
    pub digest: Option<String>,
    /// Port the container listens on.
    #[serde(default = "default_container_port")]
    pub port: u16,
    /// Port the LoadBalancer Service exposes (and Traffic Manager probes).
    #[serde(default = "default_service_port")]
    pub service_port: u16,
    pub probes: Probes,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub shutdown: Shutdown,
    #[serde(default)]
    pub disruption: Disruption,
    /// HPA target average CPU utilisation, percent.
    #[serde(default = "default_cpu_target")]
    pub target_cpu_utilization: u8,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probes {
    /// Readiness path: feeds the Deployment readiness probe AND the Traffic Manager monitor.
    pub readiness: String,
    pub liveness: String,
    pub startup: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    #[serde(default = "default_cpu_request")]
    pub cpu_request: String,
    #[serde(default = "default_memory_request")]
    pub memory_request: String,
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            cpu_request: default_cpu_request(),
            memory_request: default_memory_request(),
            memory_limit: default_memory_limit(),
        }
    }
}

/// How a pod leaves: readiness fails, traffic drains, in-flight requests finish.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Shutdown {
    #[serde(default = "default_drain")]
    pub drain_seconds: u32,
    #[serde(default = "default_inflight")]
    pub in_flight_timeout_seconds: u32,
    #[serde(default = "default_grace")]
    pub termination_grace_period_seconds: u32,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            drain_seconds: default_drain(),
            in_flight_timeout_seconds: default_inflight(),
            termination_grace_period_seconds: default_grace(),
        }
    }
}

/// PodDisruptionBudget: exactly one of the two; default `maxUnavailable: 1`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Disruption {
    #[serde(default)]
    pub max_unavailable: Option<u32>,
    #[serde(default)]
    pub min_available: Option<u32>,
}

impl Default for Disruption {
    fn default() -> Self {
        Self {
            max_unavailable: Some(1),
            min_available: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Registry {
    /// ACR name: 5-50 alphanumerics, globally unique (`<name>.azurecr.io`).
    pub name: String,
    /// Region the registry lives in; every other catalogue region gets a replication.
    pub home: RegionName,
    pub resource_group: String,
    #[serde(default)]
    pub sku: RegistrySku,
    #[serde(default = "yes")]
    pub zone_redundancy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum RegistrySku {
    Basic,
    Standard,
    #[default]
    Premium,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficManager {
    pub profile: String,
    pub resource_group: String,
    /// Relative DNS name: `<dnsName>.trafficmanager.net`.
    pub dns_name: String,
    pub ttl: u32,
    /// Worst-case failover the user can accept; checked against the monitor settings.
    pub rto_seconds: u32,
    /// Share of the primary's min replicas the other regions must be able to carry (1.0 = all).
    #[serde(default = "default_takeover")]
    pub takeover_ratio: f64,
    pub monitor: Monitor,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitor {
    pub protocol: MonitorProtocol,
    pub port: u16,
    /// Optional: when given it must equal `app.probes.readiness` (it defaults to it).
    #[serde(default)]
    pub path: Option<String>,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub tolerated_failures: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum MonitorProtocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
    #[serde(rename = "TCP")]
    Tcp,
}

impl fmt::Display for MonitorProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Http => "HTTP",
            Self::Https => "HTTPS",
            Self::Tcp => "TCP",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitOps {
    pub engine: GitOpsEngine,
    /// Repository the clusters pull from (https or ssh URL).
    pub repo: String,
    pub branch: String,
    /// Name of the AKS Flux configuration, hence of the `GitRepository` it creates in
    /// `namespace`; the rendered Flux Kustomizations name it as their source.
    #[serde(default = "default_source_name")]
    pub source_name: KubeName,
    #[serde(default = "default_gitops_namespace")]
    pub namespace: KubeName,
    #[serde(default = "default_source_interval")]
    pub source_interval_seconds: u32,
    #[serde(default = "default_kustomization_interval")]
    pub kustomization_interval_seconds: u32,
    #[serde(default = "default_gitops_timeout")]
    pub timeout_seconds: u32,
    /// Argo CD only: the AppProject the Applications belong to.
    #[serde(default = "default_argocd_project")]
    pub argocd_project: KubeName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GitOpsEngine {
    Flux,
    Argocd,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Region {
    /// Azure region id, e.g. `eastus2`.
    pub name: RegionName,
    /// Traffic Manager priority: 1 is the primary; unique, 1..=1000.
    pub priority: u32,
    /// Availability zones (1-3). Empty only together with `nonZonal: true`.
    #[serde(default)]
    pub zones: Vec<u8>,
    #[serde(default)]
    pub non_zonal: bool,
    /// `false` takes the region out of Traffic Manager rotation (its endpoint is
    /// `Disabled`): for maintenance or an incident. At least one region stays in rotation.
    #[serde(default = "in_rotation_default")]
    pub in_rotation: bool,
    pub replicas: Replicas,
    pub cluster: Cluster,
    pub public_ip: PublicIp,
    /// The image this region runs: a tag or `sha256:` digest of `app.image`, written by
    /// `gen promote`. Absent: the region runs the candidate (`app.tag` / `app.digest`).
    #[serde(default)]
    pub image: Option<String>,
}

fn in_rotation_default() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Replicas {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    pub name: String,
    pub resource_group: String,
    /// Only sent when a cluster is created: `infra` never upgrades by accident.
    pub kubernetes_version: String,
    /// Defaults to the cluster name. Immutable once created.
    #[serde(default)]
    pub dns_prefix: Option<String>,
    #[serde(default)]
    pub tier: ClusterTier,
    pub node_pools: Vec<NodePool>,
}

impl Cluster {
    pub fn dns_prefix(&self) -> &str {
        self.dns_prefix.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum ClusterTier {
    Free,
    #[default]
    Standard,
    Premium,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePool {
    /// 1-12 lowercase alphanumerics, starting with a letter.
    pub name: String,
    pub mode: PoolMode,
    pub vm_size: String,
    pub count: u32,
    /// Autoscaling bounds; both or neither.
    #[serde(default)]
    pub min_count: Option<u32>,
    #[serde(default)]
    pub max_count: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum PoolMode {
    System,
    User,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublicIp {
    pub name: String,
    /// Resource group of the IP; defaults to the cluster's resource group.
    #[serde(default)]
    pub resource_group: Option<String>,
    /// `<dnsLabel>.<region>.cloudapp.azure.com`.
    pub dns_label: String,
}

/// The order and gates of a progressive release (`gen promote next`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rollout {
    /// Explicit waves of region names, first wave first. Absent: one wave per Traffic Manager
    /// priority, highest number first, priority 1 last.
    #[serde(default)]
    pub waves: Option<Vec<Vec<RegionName>>>,
    /// After a wave serves the candidate: how long to watch it before the next wave.
    #[serde(default = "default_bake")]
    pub bake_seconds: u32,
    /// How long to wait for the candidate's manifest in each wave region's registry replica.
    #[serde(default = "default_manifest_timeout")]
    pub manifest_timeout_seconds: u32,
    /// How long to wait, after the push, for each wave region to serve the candidate.
    #[serde(default = "default_serve_timeout")]
    pub serve_timeout_seconds: u32,
    /// Consecutive `/default` answers naming the candidate that count as "serving".
    #[serde(default = "default_consecutive")]
    pub consecutive_responses: u32,
    /// During the bake: the share of failed samples (percent) that fails the wave.
    #[serde(default = "default_bake_error_percent")]
    pub max_error_percent: f64,
}

impl Default for Rollout {
    fn default() -> Self {
        Self {
            waves: None,
            bake_seconds: default_bake(),
            manifest_timeout_seconds: default_manifest_timeout(),
            serve_timeout_seconds: default_serve_timeout(),
            consecutive_responses: default_consecutive(),
            max_error_percent: default_bake_error_percent(),
        }
    }
}

/// Azure Monitor managed Prometheus: what is scraped, what alerts, who is told.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitoring {
    /// Resource group of the Azure Monitor workspace, the action group and the alerts.
    pub resource_group: String,
    /// Azure Monitor workspace name; it lives in `registry.home`.
    pub workspace: String,
    pub objectives: Objectives,
    #[serde(default)]
    pub receivers: Receivers,
    /// Render the agent's scrape configuration (PodMonitor) and enable managed Prometheus on
    /// every cluster.
    #[serde(default = "yes")]
    pub scrape: bool,
    #[serde(default = "default_scrape_interval")]
    pub scrape_interval_seconds: u32,
    /// Create the per-region Prometheus rule groups (recording rules and alerts).
    #[serde(default = "yes")]
    pub alerts: bool,
    /// Create the metric alert on Traffic Manager endpoint health (fires on failover).
    #[serde(default = "yes")]
    pub failover_alert: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Objectives {
    /// Share of `GET /default` requests that succeed, percent, strictly between 0 and 100.
    pub availability_percent: f64,
    /// p99 latency bound of `GET /default`, milliseconds.
    pub latency_p99_milliseconds: u32,
}

/// Who the action group notifies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Receivers {
    #[serde(default)]
    pub emails: Vec<String>,
    /// `https://` URLs only.
    #[serde(default)]
    pub webhooks: Vec<String>,
}

impl App {
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(&self.name)
    }

    /// `<registry>.azurecr.io/<image>:<tag>` or `…@sha256:…`.
    pub fn image_ref(&self, registry: &Registry) -> String {
        let base = format!("{}/{}", registry.login_server(), self.image);
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{base}@{d}"),
            (None, Some(t)) => format!("{base}:{t}"),
            (None, None) => base,
        }
    }

    /// The tag or digest alone, for summaries.
    pub fn version(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("")
    }

    /// `<registry>.azurecr.io/<image>` pinned at `version` (a tag, or a `sha256:` digest).
    pub fn image_ref_at(&self, registry: &Registry, version: &str) -> String {
        let base = format!("{}/{}", registry.login_server(), self.image);
        if version.starts_with("sha256:") {
            format!("{base}@{version}")
        } else {
            format!("{base}:{version}")
        }
    }
}

impl Registry {
    pub fn login_server(&self) -> String {
        format!("{}.azurecr.io", self.name)
    }
}

impl TrafficManager {
    /// Worst case until clients move: `(tolerated + 1) × interval + timeout + TTL`.
    pub fn worst_case_failover_seconds(&self) -> u64 {
        let m = &self.monitor;
        (u64::from(m.tolerated_failures) + 1) * u64::from(m.interval_seconds)
            + u64::from(m.timeout_seconds)
            + u64::from(self.ttl)
    }
}

impl Region {
    /// The tag or digest this region runs: its `image`, else the candidate.
    pub fn version<'a>(&'a self, app: &'a App) -> &'a str {
        self.image.as_deref().unwrap_or_else(|| app.version())
    }

    pub fn public_ip_resource_group(&self) -> &str {
        self.public_ip
            .resource_group
            .as_deref()
            .unwrap_or(&self.cluster.resource_group)
    }
}

impl CatalogueSpec {
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == name)
    }

    /// The readiness path Traffic Manager probes (always the app's readiness probe).
    pub fn monitor_path(&self) -> &str {
        &self.app.probes.readiness
    }
}

fn default_container_port() -> u16 {
    8080
}
fn default_service_port() -> u16 {
    80
}
fn default_cpu_target() -> u8 {
    70
}
fn default_cpu_request() -> String {
    "100m".into()
}
fn default_memory_request() -> String {
    "32Mi".into()
}
fn default_memory_limit() -> String {
    "64Mi".into()
}
fn default_drain() -> u32 {
    10
}
fn default_inflight() -> u32 {
    10
}
fn default_grace() -> u32 {
    30
}
fn default_takeover() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn default_source_name() -> KubeName {
    KubeName::known("cluster-config")
}
fn default_gitops_namespace() -> KubeName {
    KubeName::known("flux-system")
}
fn default_source_interval() -> u32 {
    120
}
fn default_kustomization_interval() -> u32 {
    300
}
fn default_gitops_timeout() -> u32 {
    600
}
fn default_argocd_project() -> KubeName {
    KubeName::known("default")
}
fn default_bake() -> u32 {
    300
}
fn default_manifest_timeout() -> u32 {
    900
}
fn default_serve_timeout() -> u32 {
    900
}
fn default_consecutive() -> u32 {
    5
}
fn default_bake_error_percent() -> f64 {
    1.0
}
fn default_scrape_interval() -> u32 {
    30
}
