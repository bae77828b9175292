//! Family `tree`: rules over the whole generated tree rather than one region's build.

use super::subject;
use policy::{Check, Policy, Rule, Severity, Sink};
use std::collections::BTreeSet;

/// The region directories found in the tree and the catalogue's region names.
#[derive(Debug, Clone, Default)]
pub struct TreeInput {
    /// `<top>/<region>` of every file of the tree.
    pub region_dirs: BTreeSet<(String, String)>,
    pub catalogue_regions: BTreeSet<String>,
}

pub static POLICY: Policy<TreeInput> = Policy::new(&CHECKS);

static CHECKS: [Check<TreeInput>; 1] = [Check {
    rule: Rule {
        id: "tree-stale",
        family: "tree",
        severity: Severity::Error,
        summary: "no region directory in the tree is missing from the catalogue",
        why: "a stale overlay is still reconciled by a cluster that should be gone",
        fix: "run `gen render --all`, which removes it",
    },
    check: stale,
}];

fn stale(t: &TreeInput, sink: &mut Sink<'_>) {
    for (top, region) in &t.region_dirs {
        if !t.catalogue_regions.contains(region) {
            sink.report(
                subject("", &format!("{top}/{region}")),
                "is not a region of the catalogue",
                "run `gen render --all`, which removes it",
            );
        }
    }
}
