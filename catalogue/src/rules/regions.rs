//! Family `catalogue/regions`: which regions exist, their Traffic Manager order and zones.

use crate::model::CatalogueSpec;
use crate::names::shown;
use crate::regions::{is_known_region, suggest_region};
use policy::{Check, Rule, Severity, Sink};
use std::collections::HashMap;

const FAMILY: &str = "catalogue/regions";

pub(super) const REGION_KNOWN: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "region-known",
        family: FAMILY,
        severity: Severity::Error,
        summary: "region names (and `registry.home`) are real Azure region ids",
        why: "a typo renders a cluster nobody can create",
        fix: "use an id from `az account list-locations -o table`, e.g. `eastus2`",
    },
    check: region_known,
};

fn hint(region: &str) -> String {
    match suggest_region(region) {
        Some(s) => format!(
            "did you mean `{s}`? Region ids are lowercase without spaces (`az account list-locations -o table`)"
        ),
        None => "use a region id such as `eastus2` (`az account list-locations -o table`)".into(),
    }
}

fn region_known(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    if !is_known_region(&c.registry.home) {
        sink.report(
            "registry.home",
            format!("`{}` is not an Azure region id", shown(&c.registry.home)),
            hint(&c.registry.home),
        );
    }
    for (i, r) in c.regions.iter().enumerate() {
        if !is_known_region(&r.name) {
            sink.report(
                format!("regions[{i}].name"),
                format!("`{}` is not an Azure region id", shown(&r.name)),
                hint(&r.name),
            );
        }
    }
}

pub(super) const REGION_UNIQUE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "region-unique",
        family: FAMILY,
        severity: Severity::Error,
        summary: "each region is listed once",
        why: "two overlays and two clusters would fight over one name",
        fix: "keep one entry per region",
    },
    check: region_unique,
};

fn region_unique(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, r) in c.regions.iter().enumerate() {
        if let Some(first) = seen.insert(&r.name, i) {
            sink.report(
                format!("regions[{i}].name"),
                format!(
                    "region `{}` is listed twice (also regions[{first}])",
                    r.name
                ),
                "keep one entry per region",
            );
        }
    }
}

pub(super) const PRIORITY_RANGE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "priority-range",
        family: FAMILY,
        severity: Severity::Error,
        summary: "Traffic Manager priorities are integers 1..=1000",
        why: "Traffic Manager rejects other values",
        fix: "use 1 for the primary, 2, 3, ... for the others",
    },
    check: priority_range,
};

fn priority_range(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        if !(1..=1000).contains(&r.priority) {
            sink.report(
                format!("regions[{i}].priority"),
                format!("priority {} is outside 1..=1000", r.priority),
                "use 1 for the primary, 2, 3, ... for the others",
            );
        }
    }
}

pub(super) const PRIORITY_UNIQUE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "priority-unique",
        family: FAMILY,
        severity: Severity::Error,
        summary: "one priority per region",
        why: "Traffic Manager rejects duplicate priorities; priority routing needs an order",
        fix: "give every region its own priority",
    },
    check: priority_unique,
};

fn priority_unique(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for (i, r) in c.regions.iter().enumerate() {
        if let Some(first) = seen.insert(r.priority, i) {
            sink.report(
                format!("regions[{i}].priority"),
                format!(
                    "priority {} is also used by regions[{first}] ({})",
                    r.priority, c.regions[first].name
                ),
                "give every region its own priority",
            );
        }
    }
}

pub(super) const PRIORITY_PRIMARY: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "priority-primary",
        family: FAMILY,
        severity: Severity::Error,
        summary: "there is at least one region, and one has priority 1",
        why: "without it no region is the primary",
        fix: "give the primary region `priority: 1`",
    },
    check: priority_primary,
};

fn priority_primary(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    if c.regions.is_empty() {
        sink.report(
            "regions",
            "no regions",
            "add at least one region with `priority: 1`",
        );
    } else if !c.regions.iter().any(|r| r.priority == 1) {
        sink.report(
            "regions",
            "no region has priority 1",
            "give the primary region `priority: 1`",
        );
    }
}

pub(super) const ROTATION_SOME_ENABLED: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "rotation-some-enabled",
        family: FAMILY,
        severity: Severity::Error,
        summary: "at least one region stays in Traffic Manager rotation (`inRotation` not false everywhere)",
        why: "a profile whose endpoints are all Disabled answers no DNS query: a total outage",
        fix: "set `inRotation: true` on at least one region",
    },
    check: rotation_some_enabled,
};

fn rotation_some_enabled(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    if !c.regions.is_empty() && c.regions.iter().all(|r| !r.in_rotation) {
        sink.report(
            "regions[0].inRotation",
            "every region has `inRotation: false`: Traffic Manager would answer no query",
            "set `inRotation: true` on at least one region (normally all but the one under maintenance)",
        );
    }
}

pub(super) const ZONES_REDUNDANT: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "zones-redundant",
        family: FAMILY,
        severity: Severity::Error,
        summary: "each region has >= 2 distinct zones (1-3), or says `nonZonal: true`",
        why: "a silent single-zone region is a hidden single point of failure",
        fix: "list at least two zones, e.g. [1, 2, 3], or set `nonZonal: true`",
    },
    check: zones_redundant,
};

fn zones_redundant(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        let mut zones = r.zones.clone();
        zones.sort_unstable();
        zones.dedup();
        if zones.len() != r.zones.len() {
            sink.report(
                format!("regions[{i}].zones"),
                "a zone is listed twice",
                "list each zone once, e.g. [1, 2, 3]",
            );
        }
        if let Some(z) = r.zones.iter().find(|z| !(1..=3).contains(*z)) {
            sink.report(
                format!("regions[{i}].zones"),
                format!("zone {z} does not exist"),
                "Azure zones are 1, 2 and 3",
            );
        }
        if r.non_zonal && !r.zones.is_empty() {
            sink.report(
                format!("regions[{i}].nonZonal"),
                "`nonZonal: true` but zones are listed",
                "remove one of the two",
            );
        } else if !r.non_zonal && zones.len() < 2 {
            sink.report(
                format!("regions[{i}].zones"),
                format!("{} has {} availability zone(s)", r.name, zones.len()),
                "list at least two zones, e.g. [1, 2, 3], or set `nonZonal: true` for a region without zones",
            );
        }
    }
}
