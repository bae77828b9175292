//! Running the policy over a tree: hydrate each region, run every rendered-rule family
//! (`crate::rules`), place each finding at the file and line that introduced the value
//! (catalogue, base, or a hand-edited overlay), apply waivers, and merge findings that
//! several regions share. Also reads the committed tree and formats reports.
//!
//! The build is done in-process (`hydrate::effective`) for the Kustomize subset gen uses:
//! running kustomize per region would cost ~150 ms each, and the tests compare both builds.

use crate::hydrate::Base;
use crate::options::ReportFormat;
use crate::rules::{self, Build, FAMILIES, split_subject, tree::TreeInput};
use crate::tree::{GENERATED_DIRS, RenderedTree};
use catalogue::{Catalogue, Locator};
use policy::{Finding, Location};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the findings are placed in: the catalogue file (name and text) and, in `gen
/// validate`, the fresh render to tell a hand-edited generated file from a rendered one.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub catalogue_file: &'a str,
    pub catalogue_text: &'a str,
    /// What the catalogue renders now; `None` when the tree itself is that render.
    pub fresh: Option<&'a RenderedTree>,
}

impl Default for Sources<'static> {
    /// For a tree that is the render itself, with no catalogue text to place findings in.
    fn default() -> Self {
        Self {
            catalogue_file: "catalogue.yaml",
            catalogue_text: "",
            fresh: None,
        }
    }
}

/// Validates the tree's regions `regions` (names) against the catalogue. Returns every
/// finding (waived ones included, marked), merged across regions and sorted.
pub fn validate_tree(
    catalogue: &Catalogue,
    base: &Base,
    tree: &RenderedTree,
    regions: &[&str],
    sources: Sources<'_>,
) -> Vec<Finding> {
    let shared = Arc::new(catalogue.clone());
    let per_region: Vec<Vec<(Finding, String)>> = regions
        .par_iter()
        .filter_map(|name| {
            let index = catalogue.regions.iter().position(|r| r.name == *name)?;
            let region = catalogue.regions[index].clone();
            let built = base.hydrate(tree, name);
            let build = Build::new(shared.clone(), region, tree, built);
            let out = check_build(&build, base, index, sources);
            Some(out.into_iter().map(|f| (f, name.to_string())).collect())
        })
        .collect();
    merge(per_region.into_iter().flatten())
}

/// Every family over one region's build (region `index` of the catalogue), each finding
/// placed and, where an annotation says so, waived.
pub fn check_build(build: &Build, base: &Base, index: usize, sources: Sources<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for family in FAMILIES.iter() {
        for mut f in family.run(build) {
            place(&mut f, build, base, index, sources);
            waive(&mut f, build);
            out.push(f);
        }
    }
    out
}

/// One finding per (place, rule, subject, message); the regions that share it are listed.
fn merge(findings: impl Iterator<Item = (Finding, String)>) -> Vec<Finding> {
    type Key = (Option<Location>, &'static str, String, String);
    let mut merged: BTreeMap<Key, (Finding, Vec<String>)> = BTreeMap::new();
    for (f, region) in findings {
        let key = (
            f.location.clone(),
            f.rule,
            f.subject.clone(),
            f.message.clone(),
        );
        let entry = merged.entry(key).or_insert_with(|| (f, Vec::new()));
        if !entry.1.contains(&region) {
            entry.1.push(region);
        }
    }
    merged
        .into_values()
        .map(|(mut f, regions)| {
            f.message = format!("{} (regions: {})", f.message, regions.join(", "));
            f
        })
        .collect()
}

/// The waiver of the finding's object for its rule, if any, becomes the finding's `waived`.
fn waive(f: &mut Finding, build: &Build) {
    if f.rule == rules::waivers::WAIVER_RULE {
        return;
    }
    let (object, _) = split_subject(&f.subject);
    let Some(o) = build.objects.iter().find(|o| o.id() == object) else {
        return;
    };
    for w in rules::waivers::parse(o.value.pointer("/metadata/annotations")) {
        if let Ok((id, reason)) = w
            && id == f.rule
        {
            f.waived = Some(reason);
        }
    }
}

/// How deep `field` is found in `text`: the length of the longest prefix of the path that
/// exists there, and its position (`None` when none does, or the file holds several
/// documents).
fn located_depth(text: &str, field: &str) -> Option<(usize, catalogue::Position)> {
    if field.is_empty() || text.contains("\n---") {
        return None;
    }
    let loc = Locator::new(text);
    let mut prefix = field;
    loop {
        let here = loc.find(prefix)?;
        let parent = prefix.rfind(['.', '[']).map(|cut| &prefix[..cut]);
        match parent {
            Some(p) if loc.find(p) == Some(here) => prefix = p,
            _ => return Some((prefix.len(), here)),
        }
    }
}

/// The catalogue field that feeds a rendered field of region `index`, if the overlay
/// templates set it from the catalogue.
fn catalogue_source(field: &str, index: usize, catalogue: &Catalogue) -> Option<String> {
    let r = format!("regions[{index}]");
    let pairs: &[(&str, String)] = &[
        (
            "terminationGracePeriodSeconds",
            "app.shutdown.terminationGracePeriodSeconds".into(),
        ),
        (
            "env[DRAIN_DELAY_SECONDS]",
            "app.shutdown.drainSeconds".into(),
        ),
        (
            "env[SHUTDOWN_TIMEOUT_SECONDS]",
            "app.shutdown.inFlightTimeoutSeconds".into(),
        ),
        ("env[READINESS_PATH]", "app.probes.readiness".into()),
        ("readinessProbe.httpGet.path", "app.probes.readiness".into()),
        ("env[LIVENESS_PATH]", "app.probes.liveness".into()),
        ("livenessProbe.httpGet.path", "app.probes.liveness".into()),
        ("env[STARTUP_PATH]", "app.probes.startup".into()),
        ("startupProbe.httpGet.path", "app.probes.startup".into()),
        ("env[PORT]", "app.port".into()),
        ("env[REGION]", format!("{r}.name")),
        ("spec.minReplicas", format!("{r}.replicas.min")),
        ("spec.maxReplicas", format!("{r}.replicas.max")),
        ("nodeAffinity", format!("{r}.zones")),
        ("resources.requests.cpu", "app.resources.cpuRequest".into()),
        (
            "resources.requests.memory",
            "app.resources.memoryRequest".into(),
        ),
        (
            "resources.limits.memory",
            "app.resources.memoryLimit".into(),
        ),
        ("azure-pip-name", format!("{r}.publicIp.name")),
        ("azure-dns-label-name", format!("{r}.publicIp.dnsLabel")),
        (
            "azure-load-balancer-resource-group",
            format!("{r}.publicIp"),
        ),
        ("spec.ports[0].port", "app.servicePort".into()),
    ];
    if field.ends_with(".image") {
        let key = if catalogue.app.digest.is_some() {
            "digest"
        } else {
            "tag"
        };
        return Some(format!("app.{key}"));
    }
    pairs
        .iter()
        .find(|(suffix, _)| field.contains(suffix))
        .map(|(_, c)| c.clone())
}

/// `field` with every list index one higher (`ports[0].port` → `ports[1].port`).
fn shift_list_indices(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 2);
    let mut rest = field;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let close = rest.find(']').unwrap_or(rest.len());
        match rest[..close].parse::<usize>() {
            Ok(n) => out.push_str(&(n + 1).to_string()),
            Err(_) => out.push_str(&rest[..close]),
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

fn at(file: &str, pos: Option<catalogue::Position>) -> Location {
    let pos = pos.unwrap_or(catalogue::Position { line: 1, column: 1 });
    Location {
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
    }
}

/// Places `f` at the file and line that introduced the value: the overlay patch or the base
/// file where the field is found deepest (the overlay wins a tie: it is applied last). A
/// rendered overlay value is the catalogue's, so it is placed at the catalogue key; a
/// hand-edited overlay file is named as such, and the help says to restore it rather than to
/// change a catalogue value that is already right.
fn place(f: &mut Finding, build: &Build, base: &Base, index: usize, sources: Sources<'_>) {
    let region = &build.region.name;
    let (object, field) = split_subject(&f.subject);
    // A subject that is a file (`clusters/R/kustomization.yaml: resources`) names its place.
    let file_part = field.split(": ").next().unwrap_or(field);
    if object.is_empty() && (file_part.ends_with(".yaml") || file_part.ends_with(".yml")) {
        let rest = field.split_once(": ").map_or("", |(_, r)| r);
        let text = build
            .files
            .get(file_part)
            .or_else(|| base.files.get(file_part))
            .map_or("", String::as_str);
        f.location = Some(at(file_part, located_depth(text, rest).map(|(_, p)| p)));
        return;
    }
    let overlay_k = format!("overlays/{region}/kustomization.yaml");
    let mut best: Option<(usize, String, catalogue::Position, bool)> = None;
    let mut consider = |file: &str, text: &str, path: &str, overlay: bool| {
        if let Some((depth, pos)) = located_depth(text, path)
            && best
                .as_ref()
                .is_none_or(|b| depth > b.0 || (depth == b.0 && overlay && !b.3))
        {
            best = Some((depth, file.to_string(), pos, overlay));
        }
    };
    let (kind, name) = object.split_once('/').unwrap_or(("", ""));
    // Every file of the region (overlay patches, entry points) that holds this object.
    for (file, text) in &build.files {
        if file == &overlay_k {
            continue;
        }
        let targets =
            text.contains(&format!("kind: {kind}\n")) && text.contains(&format!("name: {name}\n"));
        if targets {
            consider(file, text, field, true);
            if text.contains("- $patch: replace") {
                // A list replaced by a strategic-merge patch starts with its `$patch` item:
                // the built object's item n is the file's item n + 1.
                consider(file, text, &shift_list_indices(field), true);
            }
        }
    }
    if let Some(text) = build.files.get(&overlay_k) {
        if field.ends_with(".image") {
            consider(&overlay_k, text, "images", true);
        } else if field == "spec.replicas" {
            consider(&overlay_k, text, "replicas", true);
        }
    }
    let origin = build
        .objects
        .iter()
        .find(|o| o.id() == object)
        .map(|o| o.origin.clone());
    if let Some(origin) = &origin
        && let Some(text) = base.files.get(origin)
    {
        consider(origin, text, field, false);
    }
    let Some((_, file, pos, overlay)) = best else {
        f.location = Some(at(origin.as_deref().unwrap_or(&overlay_k), None));
        return;
    };
    if overlay {
        let hand_edited = sources
            .fresh
            .is_some_and(|fresh| fresh.files.get(Path::new(&file)) != build.files.get(&file));
        if hand_edited {
            f.help = format!(
                "{file} was edited by hand: it differs from what catalogue.yaml renders; run `gen render` to restore it, and change catalogue.yaml (or base/) instead"
            );
        } else if f.rule == "k8s-schema" {
            f.help = format!(
                "{file} patches this object from the catalogue, and strategic merge keeps only what the base has: define the whole field (with its required properties) in base/"
            );
        } else if let Some(key) = catalogue_source(field, index, &build.catalogue) {
            // A rendered value: the catalogue introduced it.
            let pos = Locator::new(sources.catalogue_text).find(&key);
            f.location = Some(at(sources.catalogue_file, pos));
            f.help = format!("{} (catalogue `{key}`)", f.help);
            return;
        }
    }
    f.location = Some(at(&file, Some(pos)));
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The generated files on disk, as a tree (for validating what is committed).
pub fn read_tree(repo: &Path) -> Result<RenderedTree, Error> {
    fn walk(repo: &Path, rel: &Path, tree: &mut RenderedTree) -> Result<(), Error> {
        let abs = repo.join(rel);
        let rd = match std::fs::read_dir(&abs) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(Error::Read { path: abs, source }),
        };
        for e in rd {
            let e = e.map_err(|source| Error::Read {
                path: abs.clone(),
                source,
            })?;
            let rel = rel.join(e.file_name());
            let ft = e.file_type().map_err(|source| Error::Read {
                path: abs.clone(),
                source,
            })?;
            if ft.is_dir() {
                walk(repo, &rel, tree)?;
            } else if ft.is_file() {
                let text =
                    std::fs::read_to_string(repo.join(&rel)).map_err(|source| Error::Read {
                        path: repo.join(&rel),
                        source,
                    })?;
                tree.files.insert(rel, text);
            }
        }
        Ok(())
    }
    let mut tree = RenderedTree::default();
    for top in GENERATED_DIRS {
        walk(repo, Path::new(top), &mut tree)?;
    }
    Ok(tree)
}

/// Rule `tree-stale` over the whole tree.
pub fn tree_findings(catalogue: &Catalogue, tree: &RenderedTree) -> Vec<Finding> {
    let mut input = TreeInput {
        catalogue_regions: catalogue
            .regions
            .iter()
            .map(|r| r.name.to_string())
            .collect(),
        ..TreeInput::default()
    };
    for p in tree.files.keys() {
        let mut comps = p.components();
        if let (Some(top), Some(region)) = (comps.next(), comps.next()) {
            input.region_dirs.insert((
                top.as_os_str().to_string_lossy().into_owned(),
                region.as_os_str().to_string_lossy().into_owned(),
            ));
        }
    }
    let mut out = rules::tree::POLICY.run(&input);
    for f in &mut out {
        f.location = Some(at(&f.subject, None));
    }
    out
}

/// Text, JSON or SARIF 2.1.0 output of findings.
pub fn format_findings(findings: &[Finding], format: ReportFormat) -> String {
    match format {
        ReportFormat::Text => {
            let mut s: String = findings.iter().map(|f| format!("{f}\n")).collect();
            let waived = findings.iter().filter(|f| f.waived.is_some()).count();
            s.push_str(&format!(
                "gen validate: {} finding(s), {waived} waived\n",
                findings.len() - waived
            ));
            s
        }
        ReportFormat::Json => policy::to_json(findings) + "\n",
        ReportFormat::Sarif => {
            let rendered = rules::all_rules();
            policy::to_sarif(
                "gen",
                catalogue::POLICY.rules().chain(rendered.iter().copied()),
                findings,
            ) + "\n"
        }
    }
}
