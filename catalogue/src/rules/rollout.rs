//! Family `catalogue/rollout`: the order a release moves through the regions (`gen promote`)
//! and the image each region runs.

use super::image::{is_digest, is_tag};
use crate::model::CatalogueSpec;
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};
use std::collections::BTreeMap;

const FAMILY: &str = "catalogue/rollout";

/// A gate may wait at most a day: a longer wait is a typo (milliseconds for seconds).
pub const MAX_GATE_SECONDS: u32 = 86_400;
/// More answers in a row than this cannot be collected within any sane serve timeout.
pub const MAX_CONSECUTIVE: u32 = 1_000;

pub(super) const ROLLOUT_WAVES_KNOWN: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "rollout-waves-known",
        family: FAMILY,
        severity: Severity::Error,
        summary: "`rollout.waves` names only regions of the catalogue",
        why: "a wave naming a region that does not exist would promote nothing there and hide a typo",
        fix: "use the `name` of a region listed under `regions`",
    },
    check: waves_known,
};

fn waves_known(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(waves) = &c.rollout.waves else {
        return;
    };
    for (w, wave) in waves.iter().enumerate() {
        for (i, name) in wave.iter().enumerate() {
            if c.region(name).is_none() {
                sink.report(
                    format!("rollout.waves[{w}][{i}]"),
                    format!(
                        "wave {} names `{}`, which is not a catalogue region",
                        w + 1,
                        shown(name)
                    ),
                    "use the `name` of a region listed under `regions`",
                );
            }
        }
    }
}

pub(super) const ROLLOUT_WAVES_PARTITION: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "rollout-waves-partition",
        family: FAMILY,
        severity: Severity::Error,
        summary: "with explicit `rollout.waves`, every region is in exactly one wave and no wave is empty",
        why: "a region in no wave never receives a release; a region in two waves would be promoted before its turn",
        fix: "list every region once across the waves (or drop `waves` for one wave per priority)",
    },
    check: waves_partition,
};

fn waves_partition(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(waves) = &c.rollout.waves else {
        return;
    };
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (w, wave) in waves.iter().enumerate() {
        if wave.is_empty() {
            sink.report(
                format!("rollout.waves[{w}]"),
                format!("wave {} is empty", w + 1),
                "remove the empty wave",
            );
        }
        for (i, name) in wave.iter().enumerate() {
            if let Some(first) = seen.insert(name.as_str(), w) {
                sink.report(
                    format!("rollout.waves[{w}][{i}]"),
                    format!(
                        "`{name}` is in wave {} and again in wave {}",
                        first + 1,
                        w + 1
                    ),
                    "list each region in one wave only",
                );
            }
        }
    }
    for r in &c.regions {
        if !seen.contains_key(r.name.as_str()) {
            sink.report(
                "rollout.waves",
                format!(
                    "region `{}` is in no wave: it would never receive a release",
                    r.name
                ),
                "add it to a wave (a new region usually goes in the first)",
            );
        }
    }
}

pub(super) const ROLLOUT_PRIMARY_LAST: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "rollout-primary-last",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the priority-1 region is in the last wave",
        why: "the primary takes all the traffic: it must receive a release only after every other region served it and baked",
        fix: "move the priority-1 region into the last wave",
    },
    check: primary_last,
};

fn primary_last(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(waves) = &c.rollout.waves else {
        return;
    };
    let Some(primary) = c.regions.iter().find(|r| r.priority == 1) else {
        return;
    };
    let last = waves.len().saturating_sub(1);
    for (w, wave) in waves.iter().enumerate() {
        for (i, name) in wave.iter().enumerate() {
            if *name == primary.name && w != last {
                sink.report(
                    format!("rollout.waves[{w}][{i}]"),
                    format!(
                        "the primary `{name}` is in wave {} of {}: it would get the release before the regions after it",
                        w + 1,
                        waves.len()
                    ),
                    "move the priority-1 region into the last wave",
                );
            }
        }
    }
}

pub(super) const ROLLOUT_STAGED: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "rollout-staged",
        family: FAMILY,
        severity: Severity::Error,
        summary: "with two or more regions, no wave holds every region",
        why: "a wave with every region is the all-at-once release progressive promotion exists to prevent",
        fix: "split the regions into at least two waves, the priority-1 region in the last",
    },
    check: staged,
};

fn staged(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(waves) = &c.rollout.waves else {
        return;
    };
    if c.regions.len() < 2 {
        return;
    }
    for (w, wave) in waves.iter().enumerate() {
        if c.regions.iter().all(|r| wave.contains(&r.name)) {
            sink.report(
                format!("rollout.waves[{w}]"),
                format!("wave {} holds all {} regions", w + 1, c.regions.len()),
                "split the regions into at least two waves, the priority-1 region in the last",
            );
        }
    }
}

pub(super) const REGION_IMAGE_FORMAT: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "region-image-format",
        family: FAMILY,
        severity: Severity::Error,
        summary: "`regions[].image` is a version tag or a `sha256:` digest of `app.image`",
        why: "the region's overlay pins exactly this value: a malformed one never pulls, a moving tag makes the rollout state meaningless",
        fix: "write the tag (`1.4.2`) or `sha256:<64 hex>` the region runs, or remove `image` so it runs the candidate",
    },
    check: region_image_format,
};

fn region_image_format(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    for (i, r) in c.regions.iter().enumerate() {
        let Some(image) = &r.image else { continue };
        let path = format!("regions[{i}].image");
        if image.starts_with("sha256:") {
            if !is_digest(image) {
                sink.report(
                    path,
                    format!("`{}` is not a sha256 digest", shown(image)),
                    "use `sha256:` followed by 64 lowercase hex digits",
                );
            }
        } else if !is_tag(image) {
            sink.report(
                path,
                format!("`{}` is not a valid image tag", shown(image)),
                "use letters, digits, `.`, `_`, `-` (at most 128), e.g. `1.4.2`, or a `sha256:` digest",
            );
        } else if !image.bytes().any(|b| b.is_ascii_digit()) {
            sink.report(
                path,
                format!("tag `{image}` moves: it does not pin a build"),
                "use a version (`1.4.2`), a commit tag (`sha-1a2b3c4`) or a `sha256:` digest",
            );
        }
    }
}

pub(super) const ROLLOUT_BOUNDS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "rollout-bounds",
        family: FAMILY,
        severity: Severity::Error,
        summary: "rollout gate timeouts are 1..=86400 s, bakeSeconds <= 86400, consecutiveResponses 1..=1000, maxErrorPercent in [0, 100)",
        why: "a zero timeout fails every gate, an absurd one hangs a release for days, and an error share of 100% lets a broken region pass its bake",
        fix: "keep the defaults (manifest and serve timeouts 900, bake 300, 5 consecutive answers, 1% errors) or values within the bounds",
    },
    check: bounds,
};

fn bounds(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let r = &c.rollout;
    for (key, v) in [
        ("manifestTimeoutSeconds", r.manifest_timeout_seconds),
        ("serveTimeoutSeconds", r.serve_timeout_seconds),
    ] {
        if v == 0 || v > MAX_GATE_SECONDS {
            sink.report(
                format!("rollout.{key}"),
                format!("{key} is {v}: outside 1..={MAX_GATE_SECONDS}"),
                "use a timeout between 1 and 86400 seconds (the default is 900)",
            );
        }
    }
    if r.bake_seconds > MAX_GATE_SECONDS {
        sink.report(
            "rollout.bakeSeconds",
            format!(
                "bakeSeconds is {}: above {MAX_GATE_SECONDS}",
                r.bake_seconds
            ),
            "use at most 86400 seconds (the default is 300; 0 skips the bake)",
        );
    }
    if r.consecutive_responses == 0 || r.consecutive_responses > MAX_CONSECUTIVE {
        sink.report(
            "rollout.consecutiveResponses",
            format!(
                "consecutiveResponses is {}: outside 1..={MAX_CONSECUTIVE}",
                r.consecutive_responses
            ),
            "use at least 1 (the default is 5)",
        );
    }
    let p = r.max_error_percent;
    if !p.is_finite() || !(0.0..100.0).contains(&p) {
        sink.report(
            "rollout.maxErrorPercent",
            format!("maxErrorPercent is {p}: outside [0, 100)"),
            "use a share below 100, e.g. 1 (the default)",
        );
    }
}
