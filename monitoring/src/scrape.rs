//! How scraped series get the `region` label the rules select on: one relabeling, rendered by
//! `gen` into each region's PodMonitor (`podMetricsEndpoints[].relabelings`) and written
//! verbatim into the scrape config of the real-Prometheus test, so both read the same rule.
//!
//! Why a label and not only the rule group's `clusterName`: every region writes to one Azure
//! Monitor workspace, and the rule file rendered for review must mean the same in any
//! Prometheus that holds several regions' series (a test, a federation, a dashboard).

use crate::metrics::REGION_LABEL;

/// One Prometheus relabeling: `action: replace` of `target_label` with a fixed `replacement`
/// (no source labels, so the default regex `(.*)` always matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relabel {
    pub action: &'static str,
    pub target_label: &'static str,
    pub replacement: String,
}

/// The relabeling that stamps every series scraped in `region` with `region="<region>"`.
pub fn region_relabeling(region: &str) -> Relabel {
    Relabel {
        action: "replace",
        target_label: REGION_LABEL,
        replacement: region.to_string(),
    }
}

/// The path the service exposes its metrics on (`service::config::METRICS_PATH`).
pub const METRICS_PATH: &str = "/metrics";

impl Relabel {
    /// As a Prometheus `relabel_configs` entry (snake_case keys).
    pub fn to_prometheus(&self) -> serde_json::Value {
        serde_json::json!({
            "action": self.action,
            "target_label": self.target_label,
            "replacement": self.replacement,
        })
    }

    /// As a prometheus-operator `RelabelConfig` (camelCase keys), the form of a PodMonitor.
    pub fn to_operator(&self) -> serde_json::Value {
        serde_json::json!({
            "action": self.action,
            "targetLabel": self.target_label,
            "replacement": self.replacement,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_carry_the_same_rule() {
        let r = region_relabeling("eastus2");
        assert_eq!(r.to_prometheus()["target_label"], "region");
        assert_eq!(r.to_operator()["targetLabel"], "region");
        assert_eq!(
            r.to_prometheus()["replacement"],
            r.to_operator()["replacement"]
        );
        assert_eq!(r.to_operator()["action"], "replace");
    }
}
