//! Typed forms of the non-core documents `gen` renders and reads: the Kustomize
//! `kustomization.yaml` (the subset gen understands), the Flux `Kustomization` and the Argo CD
//! `Application`. Unknown fields are errors (`deny_unknown_fields`), so a typo in a template or
//! a hand edit is caught before anything is written.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `kustomization.yaml` (kustomize.config.k8s.io/v1beta1), the fields gen renders and the
/// hand-kept base uses. Anything else is rejected: gen builds overlays in-process with exactly
/// these semantics (see `effective`), so it must not meet a field it would silently ignore.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KustomizeFile {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: Vec<LabelSet>,
    #[serde(default)]
    pub images: Vec<ImageOverride>,
    /// Not rendered by gen (an HPA owns the Deployment's count); parsed so that an overlay
    /// setting it builds and rule `workload-replicas-owned-by-hpa` reports it.
    #[serde(default)]
    pub replicas: Vec<ReplicaOverride>,
    #[serde(default)]
    pub patches: Vec<PatchRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSet {
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageOverride {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub new_tag: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaOverride {
    pub name: String,
    pub count: i32,
}

/// A strategic-merge patch file; its target is the object its `kind` and `metadata.name` name.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRef {
    pub path: String,
}

/// Common object metadata of the custom resources below.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Flux `Kustomization` (kustomize.toolkit.fluxcd.io/v1).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FluxKustomization {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: FluxKustomizationSpec,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FluxKustomizationSpec {
    pub interval: String,
    #[serde(default)]
    pub retry_interval: Option<String>,
    pub path: String,
    pub prune: bool,
    #[serde(default)]
    pub wait: bool,
    #[serde(default)]
    pub timeout: Option<String>,
    pub source_ref: FluxSourceRef,
    #[serde(default)]
    pub target_namespace: Option<String>,
    #[serde(default)]
    pub health_checks: Vec<FluxHealthCheck>,
    #[serde(default)]
    pub depends_on: Vec<BTreeMap<String, String>>,
    #[serde(default)]
    pub suspend: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FluxSourceRef {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FluxHealthCheck {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Argo CD `Application` (argoproj.io/v1alpha1).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoApplication {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: ArgoApplicationSpec,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoApplicationSpec {
    pub project: String,
    pub source: ArgoSource,
    pub destination: ArgoDestination,
    #[serde(default)]
    pub sync_policy: Option<ArgoSyncPolicy>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoSource {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoDestination {
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoSyncPolicy {
    #[serde(default)]
    pub automated: Option<ArgoAutomated>,
    #[serde(default)]
    pub sync_options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoAutomated {
    #[serde(default)]
    pub prune: bool,
    #[serde(default)]
    pub self_heal: bool,
}

/// The Azure Monitor managed Prometheus agent's `PodMonitor` (azmonitoring.coreos.com/v1):
/// the prometheus-operator CRD under Azure's API group (the agent ignores
/// `monitoring.coreos.com`). The fields gen renders and the ones a reviewer may meet; anything
/// else is refused.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodMonitor {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: PodMonitorSpec,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodMonitorSpec {
    pub selector: LabelSelector,
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
    #[serde(default)]
    pub namespace_selector: Option<NamespaceSelector>,
    #[serde(default)]
    pub pod_target_labels: Vec<String>,
    #[serde(default)]
    pub job_label: Option<String>,
    #[serde(default)]
    pub sample_limit: Option<u64>,
    #[serde(default)]
    pub label_limit: Option<u64>,
    #[serde(default)]
    pub label_name_length_limit: Option<u64>,
    #[serde(default)]
    pub label_value_length_limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSelector {
    #[serde(default)]
    pub any: bool,
    #[serde(default)]
    pub match_names: Vec<String>,
}

/// One scrape target of the selected pods. `port` (a container port's name) and `path` are
/// required here, though the CRD defaults them: a default would hide which port is scraped.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodMetricsEndpoint {
    pub port: String,
    pub path: String,
    #[serde(default)]
    pub scheme: Option<String>,
    #[serde(default)]
    pub interval: Option<String>,
    #[serde(default)]
    pub scrape_timeout: Option<String>,
    #[serde(default)]
    pub honor_labels: bool,
    #[serde(default)]
    pub relabelings: Vec<RelabelConfig>,
    #[serde(default)]
    pub metric_relabelings: Vec<RelabelConfig>,
}

/// A prometheus-operator `RelabelConfig` (camelCase form of Prometheus' `relabel_configs`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelabelConfig {
    #[serde(default)]
    pub source_labels: Vec<String>,
    #[serde(default)]
    pub separator: Option<String>,
    #[serde(default)]
    pub target_label: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub modulus: Option<u64>,
    #[serde(default)]
    pub replacement: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}
