//! Catalogue invariants as one [`policy::Policy`] registry, one file per family. Each rule has
//! a stable id (messages, docs, `--format json|sarif`), the reason it exists and a fix; a
//! check names the field path (`regions[1].priority`) and the loader places it in the file.
//!
//! Adding a rule: write its `Check` in the family's file, list it in `CHECKS` below, add its
//! failing case and fixed twin to `catalogue/tests/rules.rs`, and describe it in
//! `docs/catalogue.md`; tests fail until all three exist.

mod capacity;
mod cluster;
mod gitops;
mod image;
mod monitoring;
mod names;
mod regions;
mod rollout;
mod traffic;
mod workload;

pub use image::{is_digest, is_tag};

use crate::model::CatalogueSpec;
use policy::{Check, Policy};

/// Every catalogue rule, in the order findings are produced.
pub static POLICY: Policy<CatalogueSpec> = Policy::new(&CHECKS);

static CHECKS: [Check<CatalogueSpec>; 41] = [
    regions::REGION_KNOWN,
    regions::REGION_UNIQUE,
    regions::PRIORITY_RANGE,
    regions::PRIORITY_UNIQUE,
    regions::PRIORITY_PRIMARY,
    regions::ROTATION_SOME_ENABLED,
    regions::ZONES_REDUNDANT,
    capacity::REPLICAS_ZONE_MULTIPLE,
    capacity::REPLICAS_BOUNDS,
    capacity::PDB_ALLOWS_DISRUPTION,
    capacity::FAILOVER_CAPACITY,
    image::IMAGE_IMMUTABLE,
    image::IMAGE_REPOSITORY,
    image::REGISTRY_PREMIUM,
    traffic::TM_PROBE_READINESS,
    traffic::TM_MONITOR_SETTINGS,
    traffic::FAILOVER_RTO,
    workload::PROBE_PATHS,
    workload::PROBE_PATH_SYNTAX,
    workload::SHUTDOWN_BUDGET,
    workload::RESOURCE_QUANTITY,
    workload::PORT_RANGE,
    names::NAME_FORMAT,
    cluster::NODE_POOLS,
    cluster::KUBERNETES_VERSION,
    cluster::VM_SIZE,
    gitops::GITOPS_SOURCE,
    gitops::GIT_REF_FORMAT,
    monitoring::MONITORING_AVAILABILITY,
    monitoring::MONITORING_LATENCY,
    monitoring::MONITORING_RECEIVERS,
    monitoring::MONITORING_EMAIL,
    monitoring::MONITORING_WEBHOOK,
    monitoring::MONITORING_NAMES,
    monitoring::MONITORING_SCRAPE,
    rollout::ROLLOUT_WAVES_KNOWN,
    rollout::ROLLOUT_WAVES_PARTITION,
    rollout::ROLLOUT_PRIMARY_LAST,
    rollout::ROLLOUT_STAGED,
    rollout::REGION_IMAGE_FORMAT,
    rollout::ROLLOUT_BOUNDS,
];

/// An RFC 1123 label of at most `max` characters.
fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// An ARM resource (group) name: letters, digits, `-_.()`, not ending in `.`.
fn is_azure_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.()".contains(&b))
        && !s.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_ids_are_unique_and_rules_complete() {
        assert!(
            POLICY.duplicate_ids().is_empty(),
            "{:?}",
            POLICY.duplicate_ids()
        );
        for r in POLICY.rules() {
            assert!(r.family.starts_with("catalogue/"), "{}", r.id);
            assert!(
                !r.summary.is_empty() && !r.why.is_empty() && !r.fix.is_empty(),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn name_helpers_hold_their_bounds() {
        assert!(is_dns_label("a", 1) && !is_dns_label("ab", 1) && !is_dns_label("", 5));
        assert!(!is_dns_label("-a", 5) && !is_dns_label("a-", 5) && !is_dns_label("A", 5));
        assert!(is_dns_label("a-1", 5));
        assert!(is_azure_name("rg-(a)_b.c", 90) && !is_azure_name("rg.", 90));
        assert!(!is_azure_name("", 90) && !is_azure_name("ab", 1) && is_azure_name("a", 1));
        assert!(!is_azure_name("a b", 9));
    }
}
