//! `gen diff`: per-region diff of the fully built manifests between a git ref and the working
//! tree. The ref's tree is extracted from git blobs into a temporary directory (the checkout is
//! never touched); every region is built on both sides, in parallel, following the cluster
//! entry point the way Flux (or Argo CD) does; objects are compared by
//! apiVersion/kind/namespace/name. Builds run in-process (the Kustomize subset `gen validate`
//! uses) and fall back to `kubectl kustomize` per directory, with a notice, for anything
//! outside it.
//!
//! The same [`Report`] gives `gen commit` its message.

mod build;
pub mod catalogue_change;
pub mod objects;
mod report;
pub mod snapshot;

pub use build::{
    Engine, Fallback, RegionBuild, build_directory, build_region, build_region_in,
    build_region_with, followed_paths,
};
pub use catalogue_change::{CatalogueChange, Ha, HaRow};
pub use objects::{ChangeKind, FieldChange, Manifests, ObjectChange, ObjectKey, Workload};
pub use report::{COMMENT_LIMIT, MARKER, markdown, text};
pub use snapshot::{Snapshot, Source};

use crate::options::{Context, DiffFormat, DiffOptions};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
    #[error(
        "{ENGINE_ENV}=`{0}` is not an engine\n  help: use `auto` (in-process, kubectl for what the subset does not cover) or `kubectl` (every directory with `kubectl kustomize`)"
    )]
    BadEngine(String),
}

/// Environment variable choosing how `gen diff` builds: `auto` (default) or `kubectl`.
pub const ENGINE_ENV: &str = "GEN_DIFF_ENGINE";

fn engine_from_env() -> Result<Engine, Error> {
    match std::env::var(ENGINE_ENV).ok().as_deref().map(str::trim) {
        None | Some("") | Some("auto") => Ok(Engine::Auto),
        Some("kubectl") => Ok(Engine::Kubectl),
        Some(other) => Err(Error::BadEngine(other.chars().take(40).collect())),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionStatus {
    Added,
    Removed,
    Changed,
    Unchanged,
}

/// Which side a build failure happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Old,
    New,
}

#[derive(Debug, Clone)]
pub struct RegionDiff {
    pub region: String,
    pub status: RegionStatus,
    pub old: Option<Workload>,
    pub new: Option<Workload>,
    pub changes: Vec<ObjectChange>,
    /// Object counts on each side (for added/removed regions).
    pub old_objects: usize,
    pub new_objects: usize,
    /// A side that did not build, with the reason. The region's changes are then unknown.
    pub error: Option<(Side, String)>,
}

impl RegionDiff {
    /// One line for a commit message or a terminal: `image hello 1.0.0 → 1.1.0, replicas 3 → 6`,
    /// `added`, `removed`, or the changed objects.
    pub fn summary(&self) -> String {
        if let Some((side, e)) = &self.error {
            let first = e.lines().next().unwrap_or(e);
            return match side {
                Side::Old => format!("changed (the previous tree did not build: {first})"),
                Side::New => format!("does not build: {first}"),
            };
        }
        match self.status {
            RegionStatus::Added => "added".into(),
            RegionStatus::Removed => "removed".into(),
            RegionStatus::Unchanged => "unchanged".into(),
            RegionStatus::Changed => {
                let mut parts = match (&self.old, &self.new) {
                    (Some(o), Some(n)) => objects::workload_changes(o, n),
                    _ => Vec::new(),
                };
                let others: Vec<&ObjectChange> =
                    self.changes.iter().filter(|c| !workload_only(c)).collect();
                if !others.is_empty() {
                    let names: Vec<String> = others.iter().take(3).map(|c| c.key.short()).collect();
                    let more = if others.len() > 3 { ", …" } else { "" };
                    let verb = |k| match k {
                        ChangeKind::Added => "added",
                        ChangeKind::Removed => "removed",
                        ChangeKind::Changed => "changed",
                    };
                    let kinds: BTreeSet<&str> = others.iter().map(|c| verb(c.kind)).collect();
                    let kinds: Vec<&str> = kinds.into_iter().collect();
                    parts.push(format!(
                        "{} object{} {} ({}{more})",
                        others.len(),
                        if others.len() == 1 { "" } else { "s" },
                        kinds.join("/"),
                        names.join(", ")
                    ));
                }
                parts.join(", ")
            }
        }
    }

    /// `3 changed`, `7 added`, `—`.
    pub fn objects_label(&self) -> String {
        match self.status {
            RegionStatus::Added => format!("{} added", self.new_objects),
            RegionStatus::Removed => format!("{} removed", self.old_objects),
            RegionStatus::Unchanged => "—".into(),
            RegionStatus::Changed => {
                let count = |k| self.changes.iter().filter(|c| c.kind == k).count();
                let mut parts = Vec::new();
                for (k, label) in [
                    (ChangeKind::Changed, "changed"),
                    (ChangeKind::Added, "added"),
                    (ChangeKind::Removed, "removed"),
                ] {
                    let n = count(k);
                    if n > 0 {
                        parts.push(format!("{n} {label}"));
                    }
                }
                if parts.is_empty() {
                    "—".into()
                } else {
                    parts.join(", ")
                }
            }
        }
    }
}

/// A change fully described by the workload summary (only the Deployment's image/readiness,
/// or the HPA bounds, which carry the replicas, moved), so a commit message need not list the
/// object. A Deployment's own `spec.replicas` is not in the summary (the HPA owns the count), so
/// a change to it is listed as an object change.
fn workload_only(c: &ObjectChange) -> bool {
    if c.kind != ChangeKind::Changed {
        return false;
    }
    let covered = |p: &str| {
        p == "spec.minReplicas"
            || p == "spec.maxReplicas"
            || (p.starts_with("spec.template.spec.containers[")
                && (p.ends_with("].image") || p.contains("].readinessProbe.")))
    };
    matches!(
        c.key.kind.as_str(),
        "Deployment" | "HorizontalPodAutoscaler"
    ) && !c.fields.is_empty()
        && c.fields.iter().all(|f| covered(&f.path))
}

#[derive(Debug, Clone)]
pub struct Report {
    pub old_label: String,
    pub new_label: String,
    /// Every region of either side, sorted by name.
    pub regions: Vec<RegionDiff>,
    /// Directories built with `kubectl kustomize` instead of in-process, and why.
    pub fallbacks: Vec<Fallback>,
    /// The catalogue change and the per-region HA values, when the caller read the catalogues.
    pub catalogue: Option<CatalogueChange>,
}

impl Report {
    pub fn changed(&self) -> impl Iterator<Item = &RegionDiff> {
        self.regions
            .iter()
            .filter(|r| r.status != RegionStatus::Unchanged || r.error.is_some())
    }

    pub fn has_errors(&self) -> bool {
        self.regions.iter().any(|r| r.error.is_some())
    }

    /// One line per (file, unsupported feature): which directories were built with
    /// `kubectl kustomize` because of it.
    pub fn notices(&self) -> Vec<String> {
        let mut by_cause: std::collections::BTreeMap<(&str, &str), BTreeSet<&str>> =
            std::collections::BTreeMap::new();
        for f in &self.fallbacks {
            by_cause
                .entry((f.file.as_str(), f.feature.as_str()))
                .or_default()
                .insert(f.built.as_str());
        }
        by_cause
            .into_iter()
            .map(|((file, feature), built)| {
                let first = built.iter().next().copied().unwrap_or_default();
                let more = match built.len() {
                    0 | 1 => String::new(),
                    n => format!(" and {} more director{}", n - 1, if n == 2 { "y" } else { "ies" }),
                };
                format!(
                    "gen diff: notice: {file} uses {feature}, outside gen's in-process Kustomize subset: built {first}{more} with `kubectl kustomize`"
                )
            })
            .collect()
    }
}

/// Builds every region of both sides (in parallel, one build per core) and compares them.
/// A region whose inputs (its own directories plus base/ and the shared files) are byte-equal on
/// both sides is built once and reported unchanged.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Report {
    compare_with(old, new, true)
}

/// [`compare`]; with `build_unchanged: false`, regions whose inputs are equal on both sides are
/// not built at all (reported unchanged, without workload values): what `gen commit` needs for
/// its message.
pub fn compare_with(old: &Snapshot, new: &Snapshot, build_unchanged: bool) -> Report {
    compare_using(old, new, build_unchanged, Engine::Auto)
}

/// [`compare_with`] with a chosen build engine.
pub fn compare_using(
    old: &Snapshot,
    new: &Snapshot,
    build_unchanged: bool,
    engine: Engine,
) -> Report {
    use rayon::prelude::*;
    let old_regions = old.regions();
    let new_regions = new.regions();
    let all: BTreeSet<String> = old_regions.union(&new_regions).cloned().collect();

    // (region, side) jobs; `None` side = same inputs, build once from the new side.
    let mut jobs: Vec<(String, Side)> = Vec::new();
    let mut same: BTreeSet<String> = BTreeSet::new();
    for r in &all {
        let (in_old, in_new) = (old_regions.contains(r), new_regions.contains(r));
        if in_old
            && in_new
            && old.region_inputs(r, &old_regions) == new.region_inputs(r, &new_regions)
        {
            same.insert(r.clone());
            if build_unchanged {
                jobs.push((r.clone(), Side::New));
            }
            continue;
        }
        if in_old {
            jobs.push((r.clone(), Side::Old));
        }
        if in_new {
            jobs.push((r.clone(), Side::New));
        }
    }
    let built: Vec<((String, Side), RegionBuild)> = jobs
        .into_par_iter()
        .map(|(region, side)| {
            let source = match side {
                Side::Old => &old.source,
                Side::New => &new.source,
            };
            let result = build_region_in(source, &region, engine);
            ((region, side), result)
        })
        .collect();
    let mut fallbacks: Vec<Fallback> = Vec::new();
    let mut by_key: std::collections::BTreeMap<(String, Side), Result<Manifests, String>> = built
        .into_iter()
        .map(|(k, b)| {
            fallbacks.extend(b.fallbacks);
            (k, b.manifests)
        })
        .collect();
    fallbacks.sort();
    fallbacks.dedup();

    let regions = all
        .iter()
        .map(|r| {
            let new_built = by_key.remove(&(r.clone(), Side::New));
            let old_built = if same.contains(r) {
                new_built.clone()
            } else {
                by_key.remove(&(r.clone(), Side::Old))
            };
            region_diff(r, old_built, new_built)
        })
        .collect();
    Report {
        old_label: old.label.clone(),
        new_label: new.label.clone(),
        regions,
        fallbacks,
        catalogue: None,
    }
}

fn region_diff(
    region: &str,
    old: Option<Result<Manifests, String>>,
    new: Option<Result<Manifests, String>>,
) -> RegionDiff {
    let mut d = RegionDiff {
        region: region.to_string(),
        status: RegionStatus::Unchanged,
        old: None,
        new: None,
        changes: Vec::new(),
        old_objects: 0,
        new_objects: 0,
        error: None,
    };
    let empty = Manifests::new();
    let (old_m, new_m) = match (old, new) {
        (_, Some(Err(e))) => {
            d.status = RegionStatus::Changed;
            d.error = Some((Side::New, e));
            return d;
        }
        (Some(Err(e)), Some(Ok(n))) => {
            d.status = RegionStatus::Changed;
            d.new = Some(Workload::of(&n));
            d.new_objects = n.len();
            d.error = Some((Side::Old, e));
            return d;
        }
        (Some(Err(e)), None) => {
            d.status = RegionStatus::Removed;
            d.error = Some((Side::Old, e));
            return d;
        }
        (Some(Ok(o)), Some(Ok(n))) => (o, n),
        (Some(Ok(o)), None) => {
            d.status = RegionStatus::Removed;
            (o, empty)
        }
        (None, Some(Ok(n))) => {
            d.status = RegionStatus::Added;
            (empty, n)
        }
        // Same inputs, not built: unchanged.
        (None, None) => return d,
    };
    d.old_objects = old_m.len();
    d.new_objects = new_m.len();
    if d.status != RegionStatus::Added {
        d.old = Some(Workload::of(&old_m));
    }
    if d.status != RegionStatus::Removed {
        d.new = Some(Workload::of(&new_m));
    }
    d.changes = objects::compare(&old_m, &new_m);
    if d.status == RegionStatus::Unchanged && !d.changes.is_empty() {
        d.status = RegionStatus::Changed;
    }
    d
}

/// The catalogue at `ctx.catalogue` in the ref (its path relative to the work tree) and on
/// disk. `None` when the catalogue lies outside the repository.
fn catalogue_change(
    repo: &git2::Repository,
    workdir: &std::path::Path,
    ctx: &Context,
    args: &DiffOptions,
    old_label: &str,
    new_label: &str,
) -> Option<CatalogueChange> {
    let abs = if ctx.catalogue.is_absolute() {
        ctx.catalogue.clone()
    } else {
        std::env::current_dir().ok()?.join(&ctx.catalogue)
    };
    let root = workdir.canonicalize().ok()?;
    let abs = abs.canonicalize().unwrap_or(abs);
    let rel = abs
        .strip_prefix(&root)
        .ok()?
        .to_string_lossy()
        .replace('\\', "/");
    let old_text = crate::git::resolve_tree(repo, &args.base)
        .ok()
        .and_then(|t| t.get_path(std::path::Path::new(&rel)).ok())
        .and_then(|e| e.to_object(repo).ok())
        .and_then(|o| o.into_blob().ok())
        .and_then(|b| String::from_utf8(b.content().to_vec()).ok());
    let new_text = std::fs::read_to_string(&abs).ok();
    if old_text.is_none() && new_text.is_none() {
        return None;
    }
    Some(CatalogueChange::between(
        &rel,
        old_label,
        old_text.as_deref(),
        new_label,
        new_text.as_deref(),
    ))
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `gen diff`: the exit code (0, or 2 when a region did not build).
pub fn run(ctx: &Context, args: &DiffOptions) -> Result<u8, Error> {
    let engine = engine_from_env()?;
    let (repo, workdir) = crate::git::open(&ctx.repo)?;
    let old = Snapshot::from_ref(&repo, &args.base)?;
    let new = Snapshot::from_workdir(&workdir, "working tree")?;
    let mut report = compare_using(&old, &new, true, engine);
    report.catalogue = catalogue_change(&repo, &workdir, ctx, args, &old.label, &new.label);
    for notice in report.notices() {
        eprintln!("{notice}");
    }
    let out = match args.format {
        DiffFormat::Text => text(&report, use_colour()),
        DiffFormat::Markdown => markdown(&report, COMMENT_LIMIT),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    if report.has_errors() {
        eprintln!("gen diff: some regions did not build (see above)");
        return Ok(2);
    }
    Ok(0)
}
