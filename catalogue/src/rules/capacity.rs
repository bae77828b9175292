//! Family `catalogue/capacity`: replica counts, disruption budget and failover headroom.

use crate::model::CatalogueSpec;
use policy::{Check, Rule, Severity, Sink};

const FAMILY: &str = "catalogue/capacity";

/// The HPA's replica fields are int32 in the Kubernetes API.
pub(super) const MAX_REPLICAS: u32 = i32::MAX as u32;

fn zone_count(r: &crate::model::Region) -> u32 {
    let mut zones = r.zones.clone();
    zones.sort_unstable();
    zones.dedup();
    u32::try_from(zones.len()).unwrap_or(u32::MAX).max(1)
}

pub(super) const REPLICAS_ZONE_MULTIPLE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "replicas-zone-multiple",
        family: FAMILY,
        severity: Severity::Error,
        summary: "min replicas >= number of zones and a multiple of it",
        why: "fewer replicas than zones leaves a zone empty; an uneven count skews load after a zone loss",
        fix: "use a multiple of the zone count for `replicas.min`",
    },
    check: replicas_zone_multiple,
};

fn replicas_zone_multiple(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        let zones = zone_count(r);
        if !r.non_zonal && (r.replicas.min < zones || r.replicas.min % zones != 0) {
            let fix = r.replicas.min.div_ceil(zones).max(1).saturating_mul(zones);
            sink.report(
                format!("regions[{i}].replicas.min"),
                format!(
                    "min replicas {} does not spread evenly over {zones} zones",
                    r.replicas.min
                ),
                format!("use {fix}"),
            );
        }
    }
}

pub(super) const REPLICAS_BOUNDS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "replicas-bounds",
        family: FAMILY,
        severity: Severity::Error,
        summary: "1 <= min replicas <= max replicas <= 2147483647; the CPU target is a percentage",
        why: "the HPA needs a valid range, and the Kubernetes API stores replica counts as int32",
        fix: "use 1 <= min <= max, e.g. `{ min: 3, max: 12 }`",
    },
    check: replicas_bounds,
};

fn replicas_bounds(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let app = &c.app;
    if !(1..=100).contains(&app.target_cpu_utilization) {
        sink.report(
            "app.targetCpuUtilization",
            format!("{} is not a percentage", app.target_cpu_utilization),
            "use 1..=100, e.g. 70",
        );
    }
    for (i, r) in c.regions.iter().enumerate() {
        if r.replicas.min == 0 || r.replicas.max < r.replicas.min {
            sink.report(
                format!("regions[{i}].replicas"),
                format!(
                    "min {} / max {} is not a valid range",
                    r.replicas.min, r.replicas.max
                ),
                "use 1 <= min <= max",
            );
        }
        if r.replicas.max > MAX_REPLICAS {
            sink.report(
                format!("regions[{i}].replicas.max"),
                format!(
                    "{} is more than the {MAX_REPLICAS} replicas an HPA can hold",
                    r.replicas.max
                ),
                "use a count the region can really run, e.g. 4 x replicas.min",
            );
        }
    }
}

pub(super) const PDB_ALLOWS_DISRUPTION: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "pdb-allows-disruption",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the PodDisruptionBudget allows at least one disruption at min replicas",
        why: "a PDB with no allowed disruption blocks node drains and AKS upgrades",
        fix: "use `app.disruption.maxUnavailable: 1`",
    },
    check: pdb_allows_disruption,
};

fn pdb_allows_disruption(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let d = &c.app.disruption;
    if d.max_unavailable.is_some() == d.min_available.is_some() {
        sink.report(
            "app.disruption",
            "set exactly one of `maxUnavailable` and `minAvailable`",
            "use `maxUnavailable: 1`",
        );
    } else if d.max_unavailable == Some(0) {
        sink.report(
            "app.disruption.maxUnavailable",
            "maxUnavailable 0 allows no disruption",
            "use `maxUnavailable: 1`",
        );
    }
    let Some(min_available) = d.min_available else {
        return;
    };
    for (i, r) in c.regions.iter().enumerate() {
        if min_available >= r.replicas.min {
            sink.report(
                format!("regions[{i}].replicas.min"),
                format!(
                    "PDB minAvailable {min_available} leaves no disruption at {} replicas",
                    r.replicas.min
                ),
                format!(
                    "use app.disruption.maxUnavailable: 1, or minAvailable below {}",
                    r.replicas.min
                ),
            );
        }
    }
}

pub(super) const FAILOVER_CAPACITY: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "failover-capacity",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the other regions' max replicas can absorb the primary's min replicas (x takeoverRatio)",
        why: "failover to a region that cannot carry the load is an outage with extra steps",
        fix: "raise replicas.max in the other regions, or lower trafficManager.takeoverRatio",
    },
    check: failover_capacity,
};

fn failover_capacity(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let tm = &c.traffic_manager;
    if !(tm.takeover_ratio > 0.0 && tm.takeover_ratio <= 1.0) {
        sink.report(
            "trafficManager.takeoverRatio",
            format!("{} is not in (0, 1]", tm.takeover_ratio),
            "use 1.0 (the others carry all of the primary's load) or a smaller share",
        );
    }
    // Only meaningful with exactly one primary; other cases are priority-* findings.
    let mut primaries = c
        .regions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.priority == 1);
    let (Some((i, primary)), None) = (primaries.next(), primaries.next()) else {
        return;
    };
    if c.regions.len() < 2 {
        return;
    }
    let others: u64 = c
        .regions
        .iter()
        .filter(|r| r.priority != 1)
        .map(|r| u64::from(r.replicas.max))
        .sum();
    let need = (f64::from(primary.replicas.min) * tm.takeover_ratio).ceil();
    if (others as f64) < need {
        sink.report(
            format!("regions[{i}].replicas.min"),
            format!(
                "the other regions can run {others} replicas at most; the primary {} needs {need} to fail over",
                primary.name
            ),
            "raise replicas.max in the other regions, or lower trafficManager.takeoverRatio if they may run degraded",
        );
    }
}
