//! `gen commit [--push] [--remote R] [--include-catalogue]`: commits exactly the generated
//! paths (overlays/, clusters/, argocd/, including deleted regions) and, on request,
//! catalogue.yaml, with a message built from the same per-region report as `gen diff`
//! (HEAD → the tree being committed). Refuses, committing nothing, when the catalogue
//! does not validate or the generated files are not exactly what the catalogue renders (exit
//! 1), or when unrelated changes are staged (exit 2). Makes no commit, and pushes nothing, when nothing changed.

use crate::diff::{self, RegionStatus, Snapshot};
use crate::git;
use crate::options::{CommitOptions, Context};
use crate::tree::GENERATED_DIRS;
use git2::{IndexAddOption, Repository, Status};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error("git: {0}")]
    Git2(#[from] git2::Error),
    /// The pipeline's checks (catalogue, render, rules) refused the tree.
    #[error("gen commit: refusing to commit:\n{message}")]
    Refused { code: u8, message: String },
    #[error("gen commit: cannot compare the tree with the render: {0}")]
    Check(crate::write::Error),
    #[error(
        "gen commit: refusing to commit: the generated files are not what the catalogue renders:\n{0}  help: run `gen render --all`, review, then `gen commit`"
    )]
    Drift(String),
    #[error(
        "gen commit: refusing to commit: changes outside the generated paths are staged:\n{}\n  help: gen commits only {}{}; unstage them (`git restore --staged <path>`) or commit them separately",
        paths.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"),
        GENERATED_DIRS.iter().map(|d| format!("{d}/")).collect::<Vec<_>>().join(", "),
        if *include_catalogue { " and catalogue.yaml" } else { " (and catalogue.yaml with --include-catalogue)" }
    )]
    Unrelated {
        paths: Vec<String>,
        include_catalogue: bool,
    },
    #[error(
        "gen commit: refusing to commit: {0} has uncommitted changes, so the rendered files would not match the committed catalogue\n  help: pass --include-catalogue to commit it with the render, or commit it first"
    )]
    CatalogueUncommitted(String),
    #[error(
        "gen commit: --include-catalogue: the catalogue {0} is outside the repository's work tree"
    )]
    CatalogueOutside(String),
    #[error("gen commit: refusing to commit: the new tree does not build:\n{}", .0.join("\n"))]
    Build(Vec<String>),
}

impl Error {
    /// 1 when a check found problems (findings, drift), 2 for input and git errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused { code, .. } => *code,
            Self::Drift(_) => 1,
            _ => 2,
        }
    }
}

/// Repository-relative, forward-slash form of the catalogue path, if it is inside `workdir`.
pub(crate) fn catalogue_rel(workdir: &Path, catalogue: &Path) -> Option<String> {
    let abs = if catalogue.is_absolute() {
        catalogue.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(catalogue)
    };
    let abs = abs.canonicalize().ok()?;
    let root = workdir.canonicalize().ok()?;
    let rel = abs.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn is_generated(path: &str) -> bool {
    let top = path.split('/').next().unwrap_or("");
    GENERATED_DIRS.contains(&top) && path.contains('/')
}

/// Paths staged (HEAD → index) outside what gen may commit.
fn unrelated_staged(
    repo: &Repository,
    catalogue: Option<&str>,
    include_catalogue: bool,
) -> Result<Vec<String>, Error> {
    let head_tree = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let index = repo.index()?;
    let staged = repo.diff_tree_to_index(head_tree.as_ref(), Some(&index), None)?;
    let mut out = BTreeSet::new();
    for delta in staged.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            let Some(p) = file.path() else { continue };
            let p = p.to_string_lossy().replace('\\', "/");
            let allowed = is_generated(&p) || (include_catalogue && Some(p.as_str()) == catalogue);
            if !allowed {
                out.insert(p);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The commit message: subject `gen: render N regions`, one body line per region.
pub fn message(
    report: &diff::Report,
    old: &Snapshot,
    new: &Snapshot,
    catalogue: Option<&str>,
) -> String {
    let regions: BTreeSet<String> = old.regions().union(&new.regions()).cloned().collect();
    // Files that differ between the two trees, by owner.
    let mut changed_files: BTreeMap<Option<String>, Vec<&str>> = BTreeMap::new();
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    for p in paths {
        if old.files.get(p) == new.files.get(p) || !is_generated(p) {
            continue;
        }
        let owner = diff::snapshot::owner(p, &regions).map(str::to_string);
        changed_files.entry(owner).or_default().push(p);
    }
    let mut lines = Vec::new();
    for r in &report.regions {
        let files_changed = changed_files.contains_key(&Some(r.region.clone()));
        if r.status != RegionStatus::Unchanged || r.error.is_some() {
            lines.push(format!("{}: {}", r.region, r.summary()));
        } else if files_changed {
            lines.push(format!(
                "{}: generated files changed (built manifests unchanged)",
                r.region
            ));
        }
    }
    let regions_count = lines.len();
    if let Some(shared) = changed_files.get(&None) {
        let shown: Vec<&str> = shared.iter().take(5).copied().collect();
        let more = if shared.len() > 5 { ", …" } else { "" };
        lines.push(format!(
            "shared generated files: {}{more}",
            shown.join(", ")
        ));
    }
    if let Some(c) = catalogue {
        lines.push(format!("{c}: updated"));
    }
    let subject = match (regions_count, catalogue.is_some()) {
        (0, true) => "gen: update the catalogue".to_string(),
        (0, false) => "gen: update generated files".to_string(),
        (1, _) => "gen: render 1 region".to_string(),
        (n, _) => format!("gen: render {n} regions"),
    };
    format!("{subject}\n\n{}\n", lines.join("\n"))
}

/// `gen commit`; `verify(workdir, catalogue)` is the pipeline's check that the generated
/// files are exactly the validated render, run after the staging checks and before git writes.
pub fn run(
    ctx: &Context,
    args: &CommitOptions,
    verify: impl FnOnce(&Path, &Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let (repo, workdir) = git::open(&ctx.repo)?;
    let catalogue = catalogue_rel(&workdir, &ctx.catalogue);
    if args.include_catalogue && catalogue.is_none() {
        return Err(Error::CatalogueOutside(ctx.catalogue.display().to_string()));
    }

    // 0. With --push, the branch and remote must exist before anything is committed.
    let branch = if args.push {
        let branch = git::current_branch(&repo)?;
        repo.find_remote(&args.remote)
            .map_err(|_| git::Error::NoRemote(args.remote.clone()))?;
        Some(branch)
    } else {
        None
    };

    // 1. Nothing unrelated may ride along.
    let unrelated = unrelated_staged(&repo, catalogue.as_deref(), args.include_catalogue)?;
    if !unrelated.is_empty() {
        return Err(Error::Unrelated {
            paths: unrelated,
            include_catalogue: args.include_catalogue,
        });
    }
    // 2. The catalogue validates and the generated files are exactly its render.
    verify(&workdir, &ctx.catalogue)?;
    // 3. The committed catalogue must be the one rendered.
    if !args.include_catalogue
        && let Some(c) = &catalogue
    {
        let status = repo.status_file(Path::new(c)).unwrap_or(Status::CURRENT);
        if status.intersects(Status::WT_MODIFIED | Status::WT_NEW | Status::WT_DELETED) {
            return Err(Error::CatalogueUncommitted(c.clone()));
        }
    }

    // 4. Stage in memory: the generated directories (additions, changes, deletions).
    let mut specs: Vec<String> = GENERATED_DIRS.iter().map(|d| (*d).to_string()).collect();
    if args.include_catalogue
        && let Some(c) = &catalogue
    {
        specs.push(c.clone());
    }
    let mut index = repo.index()?;
    index.add_all(specs.iter(), IndexAddOption::DEFAULT, None)?;
    index.update_all(specs.iter(), None)?;
    let tree_id = index.write_tree()?;
    let head_commit = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let head_tree = head_commit.as_ref().map(|c| c.tree()).transpose()?;
    if head_tree.as_ref().map(|t| t.id()) == Some(tree_id) {
        println!("gen commit: nothing to commit: the generated files already match HEAD");
        return Ok(());
    }
    let new_tree = repo.find_tree(tree_id)?;

    // 5. The message: the same per-region report as `gen diff`, HEAD → this tree.
    let old = match &head_tree {
        Some(t) => Snapshot::from_tree(&repo, t, "HEAD")?,
        None => Snapshot::empty("(no commit)")?,
    };
    let new = Snapshot::from_tree(&repo, &new_tree, "commit")?;
    let report = diff::compare_with(&old, &new, false);
    for notice in report.notices() {
        eprintln!("{notice}");
    }
    let broken: Vec<String> = report
        .regions
        .iter()
        .filter_map(|r| match &r.error {
            Some((diff::Side::New, e)) => Some(format!("  {}: {e}", r.region)),
            _ => None,
        })
        .collect();
    if !broken.is_empty() {
        return Err(Error::Build(broken));
    }
    let catalogue_changed = match (&catalogue, args.include_catalogue) {
        (Some(c), true) => {
            let id = |t: &git2::Tree<'_>| t.get_path(Path::new(c)).ok().map(|e| e.id());
            (head_tree.as_ref().and_then(id) != id(&new_tree)).then_some(c.as_str())
        }
        _ => None,
    };
    let msg = message(&report, &old, &new, catalogue_changed);

    // 6. Commit, then make the index on disk match.
    let (author, committer) = git::signatures(&repo)?;
    let parents: Vec<&git2::Commit<'_>> = head_commit.iter().collect();
    let id = repo.commit(Some("HEAD"), &author, &committer, &msg, &new_tree, &parents)?;
    index.write()?;
    let short = &id.to_string()[..12];
    print!("gen commit: {short} {msg}");

    if let Some(branch) = branch {
        git::push(&repo, &args.remote, &branch)?;
        println!("gen commit: pushed {branch} to {}", args.remote);
    }
    Ok(())
}
