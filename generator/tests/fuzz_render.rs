//! The generator half of the loader fuzz: seeded random mutations of the frozen default
//! catalogue (byte-level, as `catalogue/tests/fuzz.rs` does, plus value-level edits that keep
//! the YAML well-formed so that many cases get past the loader). For every mutated catalogue
//! the catalogue crate accepts: rendering and the rendered-object policy do not panic and find
//! nothing (an accepted catalogue must render a tree that validates). The bulk uses the
//! in-process build; a small sample of accepted cases is also built with the real
//! `kubectl kustomize` and must equal the in-process build object for object.

use crate::helpers;
use test_support::Rng;

use generator::diff::{Engine, build_region_with};
use generator::hydrate::Base;
use generator::pipeline::render_validated;
use generator::tree::RegionSelection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

const CASES: usize = 2000;
const SEED: u64 = 0x5eed_9e4e_0008_0002;
/// Far above one render + validation of two regions (milliseconds); only a hang reaches it.
const PER_CASE: Duration = Duration::from_secs(5);
/// Accepted cases also built with kubectl (each costs ~0.3 s per region).
const KUBECTL_SAMPLE: usize = 6;

/// Values a field might plausibly be edited to, including edge cases each consumer rejects.
const VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "9",
    "12",
    "30",
    "65535",
    "4294967295",
    "-1",
    "\"1\"",
    "true",
    "false",
    "[]",
    "[1]",
    "[1, 2]",
    "[1, 2, 3]",
    "[3, 2, 1]",
    "[1, 1, 2]",
    "{ min: 2, max: 4 }",
    "{ min: 6, max: 6 }",
    "{ min: 3, max: 2 }",
    "/ready",
    "/readyz",
    "/a/b-c_d.e~f",
    "/x?y",
    "\"/\"",
    "\"1.0.1\"",
    "\"v2\"",
    "\"1.0.0-rc.1+build.5\"",
    "\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
    "flux",
    "argocd",
    "hello",
    "hello-2",
    "a",
    "main",
    "release/1.2",
    "\"1.32\"",
    "\"1.34\"",
    "Standard_D2s_v5",
    "100m",
    "250m",
    "1",
    "64Mi",
    "1Gi",
    "x",
    "\"\"",
];

/// Replaces the value after the `n`-th `: ` on a random line with one of [`VALUES`], inserts or
/// removes a whole region, or swaps two regions' priorities: edits that keep the YAML valid.
fn mutate_value(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match rng.below(10) {
        0 => {
            // Duplicate the last region under a new name and priority.
            let start = text.rfind("\n  - name: ").map(|i| i + 1).unwrap_or(0);
            let block = &text[start..];
            let old = block
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("  - name: ");
            let name = ["westus3", "northeurope", "westeurope", "eastus", "uksouth"][rng.below(5)];
            let block = block.replace(old, name).replacen(
                "priority: 2",
                &format!("priority: {}", 3 + rng.below(3)),
                1,
            );
            return format!("{}\n{}", text.trim_end(), block);
        }
        1 => {
            // Remove the first region's block.
            if let (Some(a), Some(b)) = (
                text.find("\n  - name: "),
                text.find("\n  - name: ")
                    .and_then(|a| text[a + 1..].find("\n  - name: ").map(|b| a + 1 + b)),
            ) {
                return format!("{}{}", &text[..a], &text[b..]);
            }
        }
        _ => {
            let candidates: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.contains(": ") && !l.trim_start().starts_with('#'))
                .map(|(i, _)| i)
                .collect();
            let i = candidates[rng.below(candidates.len())];
            let line = &lines[i];
            let colons: Vec<usize> = line.match_indices(": ").map(|(p, _)| p).collect();
            let p = colons[rng.below(colons.len())] + 2;
            let rest = &line[p..];
            let end = rest
                .find([',', '}'])
                .filter(|_| line.trim_start().starts_with("- {") || line.contains("{ "))
                .unwrap_or(rest.len());
            let value = VALUES[rng.below(VALUES.len())];
            lines[i] = format!("{}{value}{}", &line[..p], &rest[end..]);
        }
    }
    lines.join("\n") + "\n"
}

/// The loader fuzz's byte-level edits, fewer and milder.
fn mutate_bytes(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    let at = rng.below(out.len() + 1);
    match rng.below(4) {
        0 => {
            let t: &[u8] = [&b"  "[..], b"\n", b"- ", b"\"", b"#", b"0"][rng.below(6)];
            out.splice(at..at, t.iter().copied());
        }
        1 if !out.is_empty() => {
            let end = (at + 1 + rng.below(4)).min(out.len());
            out.drain(at.min(end)..end);
        }
        2 if at < out.len() => out[at] = b"abcxyz019-_./:"[rng.below(14)],
        _ => {
            let mut lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(i, j);
            out = lines.join(&b'\n');
        }
    }
    out
}

#[test]
fn every_accepted_mutation_renders_a_tree_that_validates() {
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    let flux = helpers::default_catalogue_text();
    let argocd = flux.replace("engine: flux", "engine: argocd");
    assert_ne!(flux, argocd);
    let mut rng = Rng(SEED);
    let (mut accepted, mut refused) = (0usize, 0usize);
    let mut sampled = 0usize;
    let mut engines = std::collections::BTreeSet::new();
    let started = Instant::now();
    for case in 0..CASES {
        // A quarter of the cases start from the Argo CD variant.
        let fixture = if rng.below(4) == 0 { &argocd } else { &flux };
        let bytes = match rng.below(4) {
            0 => mutate_bytes(&mut rng, fixture),
            _ => {
                let mut text = mutate_value(&mut rng, fixture);
                for _ in 0..rng.below(3) {
                    text = mutate_value(&mut rng, &text);
                }
                text.into_bytes()
            }
        };
        let shown = String::from_utf8_lossy(&bytes).into_owned();
        let t = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let c = catalogue::parse_bytes(Path::new("catalogue.yaml"), &bytes).ok()?;
            Some((render_validated(&c, &base, &RegionSelection::All), c))
        }));
        assert!(
            t.elapsed() < PER_CASE,
            "case {case} took {:?}:\n{shown}",
            t.elapsed()
        );
        let Ok(outcome) = outcome else {
            panic!("case {case} panicked:\n{shown}");
        };
        let Some((result, c)) = outcome else {
            refused += 1;
            continue;
        };
        accepted += 1;
        engines.insert(format!("{:?}", c.gitops.engine));
        let tree = match result {
            Ok(tree) => tree,
            Err(findings) => {
                let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
                panic!(
                    "case {case}: the catalogue was accepted but its render does not validate:\n{}\n--- catalogue ---\n{shown}",
                    list.join("\n")
                );
            }
        };
        // A small sample: the in-process build equals kubectl's, region by region.
        if sampled < KUBECTL_SAMPLE && shown != *fixture && accepted % 7 == 1 {
            sampled += 1;
            let dir = helpers::temp_repo(&shown);
            generator::write::write_tree(dir.path(), &tree, &RegionSelection::All).unwrap();
            for r in &c.regions {
                let ours = build_region_with(dir.path(), r.name.as_str(), Engine::Auto);
                assert!(
                    ours.fallbacks.is_empty(),
                    "case {case}: {:?}",
                    ours.fallbacks
                );
                let theirs = build_region_with(dir.path(), r.name.as_str(), Engine::Kubectl);
                assert_eq!(
                    ours.manifests.unwrap(),
                    theirs.manifests.unwrap(),
                    "case {case}, region {}: in-process ≠ kubectl\n{shown}",
                    r.name.as_str()
                );
            }
        }
    }
    let took = started.elapsed();
    println!(
        "{CASES} cases in {took:?}: {accepted} accepted (rendered and validated), {refused} refused, {sampled} also built with kubectl; engines {engines:?}"
    );
    // The mutations must reach the renderer often, or the fuzzer tests nothing.
    assert!(
        accepted >= CASES / 10 && refused >= CASES / 5,
        "{accepted} accepted, {refused} refused"
    );
    assert_eq!(sampled, KUBECTL_SAMPLE);
    assert!(engines.len() == 2, "both engines rendered: {engines:?}");
}
