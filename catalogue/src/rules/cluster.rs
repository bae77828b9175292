//! Family `catalogue/cluster`: what `infra` sends ARM to create each AKS cluster.

use crate::model::{CatalogueSpec, PoolMode};
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};
use std::collections::HashSet;

const FAMILY: &str = "catalogue/cluster";

/// AKS caps a node pool at 1000 nodes.
const MAX_POOL_NODES: u32 = 1000;

pub(super) const NODE_POOLS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "node-pools",
        family: FAMILY,
        severity: Severity::Error,
        summary: "one System pool at least; unique pool names; 1-1000 nodes; autoscaling bounds are both set and contain count",
        why: "AKS needs a System pool; ARM rejects empty or oversized pools and counts outside the autoscaler's bounds",
        fix: "keep a `mode: System` pool, and 1 <= minCount <= count <= maxCount <= 1000",
    },
    check: node_pools,
};

fn node_pools(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        let cl = &r.cluster;
        if !cl.node_pools.iter().any(|p| p.mode == PoolMode::System) {
            sink.report(
                format!("regions[{i}].cluster.nodePools"),
                "no System node pool",
                "add a pool with `mode: System`",
            );
        }
        let mut names = HashSet::new();
        for (j, p) in cl.node_pools.iter().enumerate() {
            let at = format!("regions[{i}].cluster.nodePools[{j}]");
            if !names.insert(p.name.as_str()) {
                sink.report(
                    format!("{at}.name"),
                    format!("pool `{}` is listed twice", shown(&p.name)),
                    "give each pool its own name",
                );
            }
            match (p.min_count, p.max_count) {
                (None, None) => {}
                (Some(lo), Some(hi)) if lo <= p.count && p.count <= hi && hi <= MAX_POOL_NODES => {}
                (Some(lo), Some(hi)) => sink.report(
                    format!("{at}.count"),
                    format!(
                        "count {} is outside minCount {lo} .. maxCount {hi} (at most {MAX_POOL_NODES})",
                        p.count
                    ),
                    "keep minCount <= count <= maxCount <= 1000",
                ),
                _ => sink.report(
                    at.clone(),
                    "only one of minCount and maxCount is set",
                    "set both to autoscale, or neither",
                ),
            }
            if p.count == 0 || p.count > MAX_POOL_NODES {
                sink.report(
                    format!("{at}.count"),
                    format!("a pool of {} nodes", p.count),
                    "use 1..=1000 nodes (3 across 3 zones for zone spread)",
                );
            }
        }
    }
}

pub(super) const KUBERNETES_VERSION: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "kubernetes-version",
        family: FAMILY,
        severity: Severity::Error,
        summary: "`kubernetesVersion` is `1.<minor>` or `1.<minor>.<patch>` (numbers without leading zeros)",
        why: "ARM refuses the cluster with any other version, after everything before it was created",
        fix: "use a version AKS offers, quoted: `kubernetesVersion: \"1.33\"` (`az aks get-versions -l <region>`)",
    },
    check: kubernetes_version,
};

pub(super) fn is_kubernetes_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    let number = |p: &str| {
        !p.is_empty()
            && p.len() <= 4
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p == "0" || !p.starts_with('0'))
    };
    (2..=3).contains(&parts.len()) && parts[0] == "1" && parts.iter().all(|p| number(p))
}

fn kubernetes_version(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        let v = &r.cluster.kubernetes_version;
        if !is_kubernetes_version(v) {
            sink.report(
                format!("regions[{i}].cluster.kubernetesVersion"),
                format!("`{}` is not a Kubernetes version", shown(v)),
                "use e.g. \"1.33\" (quoted)",
            );
        }
    }
}

pub(super) const VM_SIZE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "vm-size",
        family: FAMILY,
        severity: Severity::Error,
        summary: "node pool VM sizes are Azure size names (`Standard_D4ds_v5`)",
        why: "ARM refuses the node pool with an empty or malformed size, after the cluster's other resources were created",
        fix: "use a size offered in the region, e.g. `Standard_D4ds_v5` (`az vm list-sizes -l <region>`)",
    },
    check: vm_size,
};

pub(super) fn is_vm_size(s: &str) -> bool {
    let rest = s
        .strip_prefix("Standard_")
        .or_else(|| s.strip_prefix("Basic_"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && s.len() <= 64
            && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && r.as_bytes()[0].is_ascii_alphabetic()
    })
}

fn vm_size(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        for (j, p) in r.cluster.node_pools.iter().enumerate() {
            if !is_vm_size(&p.vm_size) {
                sink.report(
                    format!("regions[{i}].cluster.nodePools[{j}].vmSize"),
                    format!("`{}` is not an Azure VM size", shown(&p.vm_size)),
                    "use a size such as `Standard_D4ds_v5`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_sizes() {
        for ok in ["1.33", "1.33.2", "1.0", "1.9999"] {
            assert!(is_kubernetes_version(ok), "{ok}");
        }
        for bad in [
            "", "0.0", "1", "2.1", "1.33.2.1", "1.033", "1.a", "1..2", "v1.33", "1.12345",
        ] {
            assert!(!is_kubernetes_version(bad), "{bad}");
        }
        for ok in ["Standard_D4ds_v5", "Basic_A1", "Standard_B2s"] {
            assert!(is_vm_size(ok), "{ok}");
        }
        let long = format!("Standard_{}", "D".repeat(55));
        assert!(is_vm_size(&long) && !is_vm_size(&format!("{long}D")));
        for bad in [
            "",
            "Standard_",
            "D4ds_v5",
            "Standard_D4 ds",
            "standard_D4",
            "Standard_4D",
            "Standard_D-4",
        ] {
            assert!(!is_vm_size(bad), "{bad}");
        }
    }
}
