//! Writing a [`RenderedTree`] into the repository atomically, and checking the repository
//! against one.
//!
//! Ownership: gen owns `overlays/<region>/`, `clusters/<region>/`, `argocd/<region>/` and
//! `alerts/<region>/` for the regions in scope (with `All`: every directory under those four),
//! and nothing else.
//! Within its scope the disk must end up equal to the tree: changed and new files written,
//! files not in the tree removed, emptied directories removed, unchanged files untouched
//! (same bytes, same mtime).
//!
//! Atomicity: every new content is first written into a staging directory inside the
//! repository (`.gen-tmp-*`, same filesystem, so renames are atomic) and nothing in the tree
//! is touched until all of it is staged. A region directory that does not exist yet is staged
//! whole and moved in with one rename; a region directory that is no longer rendered is moved
//! aside whole; in an existing region directory each changed file is replaced by moving the
//! old one aside and the staged one in. Every move is recorded; if any step fails the moves
//! are undone in reverse order (each undo is a rename), so the tree is byte-for-byte what it
//! was. If an undo itself fails, the error says so and the staging directory, which holds the
//! original files, is kept. Otherwise the staging directory is removed.
//!
//! Safety: gen never follows a symlink where it owns a directory (`overlays`, `overlays/R`,
//! ...) and refuses symlinks inside them, so it can neither read, replace nor remove a file
//! outside the generated tree.
//!
//! Cost: no fsync (the tree is in Git; atomicity here is about failures, not power loss), and
//! no per-file directories in the staging area: on this project's ext4 disks (mounted with
//! `discard`) an `rmdir` costs 1-3 ms while a file creation costs ~50 µs (BENCHMARKS.md).

use crate::tree::{GENERATED_DIRS, RegionSelection, RenderedTree, is_safe_component};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {action}: {source}\n  help: check permissions and free space; the tree was left as it was", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{}: {message}", path.display())]
    Unsafe { path: PathBuf, message: String },
    #[error("{cause}\nerror: undoing the partial write failed as well, so the tree is NOT as it was:\n  {}\n  help: the original files are kept in {}; move them back by hand", failures.join("\n  "), kept.display())]
    RollbackFailed {
        cause: Box<Error>,
        failures: Vec<String>,
        kept: PathBuf,
    },
}

fn io_err<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(io::Error) -> Error + 'p {
    move |source| Error::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// What a write did (repository-relative paths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub unchanged: usize,
}

impl WriteReport {
    pub fn changed(&self) -> bool {
        !self.written.is_empty() || !self.removed.is_empty()
    }
}

impl fmt::Display for WriteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.written {
            writeln!(f, "wrote   {}", p.display())?;
        }
        for p in &self.removed {
            writeln!(f, "removed {}", p.display())?;
        }
        write!(
            f,
            "gen render: {} written, {} removed, {} unchanged",
            self.written.len(),
            self.removed.len(),
            self.unchanged
        )
    }
}

/// Differences between the repository and a rendered tree (repository-relative paths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// On disk with other content.
    pub differ: Vec<PathBuf>,
    /// Rendered but not on disk.
    pub missing: Vec<PathBuf>,
    /// On disk in gen's scope but not rendered.
    pub extra: Vec<PathBuf>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.differ.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.differ {
            writeln!(f, "differs: {}", p.display())?;
        }
        for p in &self.missing {
            writeln!(f, "missing: {}", p.display())?;
        }
        for p in &self.extra {
            writeln!(f, "extra:   {}", p.display())?;
        }
        Ok(())
    }
}

/// The plan: what must change for the disk to equal the tree within the scope.
#[derive(Debug, Default)]
struct Plan<'t> {
    write: Vec<(PathBuf, &'t str, bool)>, // (path, content, exists)
    remove: Vec<PathBuf>,
    unchanged: usize,
    /// Owned directories (repository-relative) that exist, region directories included.
    dirs: BTreeSet<PathBuf>,
    /// Region directories (`<top>/<region>`) in scope that exist on disk.
    regions: BTreeSet<PathBuf>,
    /// Region directories the tree renders files into.
    rendered: BTreeSet<PathBuf>,
}

/// Refuses a symlink or non-directory where gen expects a directory it owns: following it
/// would read, replace or remove files outside the generated tree.
fn check_real_dir(repo: &Path, rel: &Path) -> Result<bool, Error> {
    let abs = repo.join(rel);
    match std::fs::symlink_metadata(&abs) {
        Ok(m) if m.file_type().is_dir() => Ok(true),
        Ok(_) => Err(Error::Unsafe {
            path: rel.to_path_buf(),
            message: "is a symlink or a file where gen owns a directory; remove it".into(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(&abs, "cannot inspect")(e)),
    }
}

/// Region directories in scope: `<top>/<region>` for each generated top directory.
fn scope_dirs(
    repo: &Path,
    tree: &RenderedTree,
    scope: &RegionSelection,
) -> Result<BTreeSet<PathBuf>, Error> {
    // Scope entries and rendered paths become paths under the repository: each must be one
    // plain component, or `../../victim` would name (and remove) a directory outside it.
    if let RegionSelection::Only(regions) = scope
        && let Some(bad) = regions.iter().find(|r| !is_safe_component(r))
    {
        return Err(Error::Unsafe {
            path: PathBuf::from(bad),
            message: "is not a region name (one path component of lowercase letters, digits and `-`); nothing was written".into(),
        });
    }
    for p in tree.files.keys() {
        let parts: Vec<_> = p.iter().map(|c| c.to_string_lossy()).collect();
        let ok = parts.len() == 3
            && GENERATED_DIRS.contains(&parts[0].as_ref())
            && is_safe_component(&parts[1])
            && !parts[2].starts_with('.')
            && parts[2].ends_with(".yaml");
        if !ok {
            return Err(Error::Unsafe {
                path: p.clone(),
                message:
                    "is not `<overlays|clusters|argocd|alerts>/<region>/<file>.yaml`; nothing was written"
                        .into(),
            });
        }
    }
    let mut dirs = BTreeSet::new();
    for top in GENERATED_DIRS {
        if !check_real_dir(repo, Path::new(top))? {
            if let RegionSelection::Only(regions) = scope {
                dirs.extend(regions.iter().map(|r| Path::new(top).join(r)));
            }
            continue;
        }
        match scope {
            RegionSelection::All => {
                let abs = repo.join(top);
                let rd = std::fs::read_dir(&abs).map_err(io_err(&abs, "cannot list"))?;
                for e in rd {
                    let e = e.map_err(io_err(&abs, "cannot list"))?;
                    let ft = e.file_type().map_err(io_err(&abs, "cannot list"))?;
                    let rel = Path::new(top).join(e.file_name());
                    if ft.is_dir() {
                        dirs.insert(rel);
                    } else if ft.is_symlink() {
                        return Err(Error::Unsafe {
                            path: rel,
                            message: "a symlink inside a generated directory; remove it".into(),
                        });
                    }
                }
            }
            RegionSelection::Only(regions) => {
                for r in regions {
                    dirs.insert(Path::new(top).join(r));
                }
            }
        }
    }
    // Every rendered file's region directory is in scope too.
    for p in tree.files.keys() {
        let mut c = p.components();
        if let (Some(a), Some(b)) = (c.next(), c.next()) {
            dirs.insert(Path::new(a.as_os_str()).join(b.as_os_str()));
        }
    }
    for d in &dirs {
        check_real_dir(repo, d)?;
    }
    Ok(dirs)
}

/// Regular files under `dir` (repository-relative), recursively; symlinks are refused.
fn list_files(
    repo: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    dirs: &mut BTreeSet<PathBuf>,
) -> Result<(), Error> {
    let abs = repo.join(dir);
    let rd = match std::fs::read_dir(&abs) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(&abs, "cannot list")(e)),
    };
    dirs.insert(dir.to_path_buf());
    for e in rd {
        let e = e.map_err(io_err(&abs, "cannot list"))?;
        let ft = e.file_type().map_err(io_err(&abs, "cannot list"))?;
        let rel = dir.join(e.file_name());
        if ft.is_dir() {
            list_files(repo, &rel, out, dirs)?;
        } else if ft.is_file() {
            out.push(rel);
        } else {
            return Err(Error::Unsafe {
                path: rel,
                message: "a symlink or special file inside a generated directory; remove it".into(),
            });
        }
    }
    Ok(())
}

fn plan<'t>(
    repo: &Path,
    tree: &'t RenderedTree,
    scope: &RegionSelection,
) -> Result<Plan<'t>, Error> {
    for p in tree.files.keys() {
        let safe = p
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
            && p.components()
                .next()
                .is_some_and(|c| GENERATED_DIRS.iter().any(|g| c.as_os_str() == *g))
            && p.components().count() >= 3;
        if !safe {
            return Err(Error::Unsafe {
                path: p.clone(),
                message: "gen only writes <overlays|clusters|argocd|alerts>/<region>/...".into(),
            });
        }
    }
    let mut plan = Plan::default();
    let mut on_disk = Vec::new();
    for d in scope_dirs(repo, tree, scope)? {
        list_files(repo, &d, &mut on_disk, &mut plan.dirs)?;
        if plan.dirs.contains(&d) {
            plan.regions.insert(d);
        }
    }
    plan.rendered = tree.files.keys().map(|p| region_of(p)).collect();
    let on_disk: BTreeSet<PathBuf> = on_disk.into_iter().collect();
    for (p, content) in &tree.files {
        if on_disk.contains(p) {
            let abs = repo.join(p);
            let current = std::fs::read(&abs).map_err(io_err(&abs, "cannot read"))?;
            if current == content.as_bytes() {
                plan.unchanged += 1;
            } else {
                plan.write.push((p.clone(), content, true));
            }
        } else {
            plan.write.push((p.clone(), content, false));
        }
    }
    plan.remove = on_disk
        .into_iter()
        .filter(|p| !tree.files.contains_key(p))
        .collect();
    Ok(plan)
}

/// Compares the repository with `tree` within `scope`; writes nothing.
pub fn check_tree(
    repo: &Path,
    tree: &RenderedTree,
    scope: &RegionSelection,
) -> Result<CheckReport, Error> {
    let plan = plan(repo, tree, scope)?;
    let mut r = CheckReport::default();
    for (p, _, exists) in plan.write {
        if exists {
            r.differ.push(p);
        } else {
            r.missing.push(p);
        }
    }
    r.extra = plan.remove;
    Ok(r)
}

/// The region directory (`<top>/<region>`) of a repository-relative path.
fn region_of(p: &Path) -> PathBuf {
    p.components().take(2).collect()
}

enum Done {
    /// `path` (a file, or a whole region directory) was moved to `backup` in the staging dir.
    MovedAside { path: PathBuf, backup: PathBuf },
    /// `path` (a file, or a whole staged region directory) was moved in from `staged`.
    Placed { path: PathBuf, staged: PathBuf },
    /// Directory created in the repository.
    Created { dir: PathBuf },
}

/// Makes the repository equal `tree` within `scope` (see the module docs), atomically: on
/// error nothing has changed. Writes nothing when the disk already matches.
pub fn write_tree(
    repo: &Path,
    tree: &RenderedTree,
    scope: &RegionSelection,
) -> Result<WriteReport, Error> {
    let plan = plan(repo, tree, scope)?;
    let mut report = WriteReport {
        unchanged: plan.unchanged,
        ..WriteReport::default()
    };
    if plan.write.is_empty() && plan.remove.is_empty() {
        return Ok(report);
    }
    let staging = tempfile::Builder::new()
        .prefix(".gen-tmp-")
        .tempdir_in(repo)
        .map_err(io_err(repo, "cannot create the staging directory"))?;
    let stage = staging.path();
    // 1. Stage every new content: the only step that needs space, and it touches nothing in
    //    the tree. A region directory that does not exist yet is staged whole (`d<n>`) and
    //    later moved in with one rename; files of existing region directories are staged flat
    //    (`f<n>`). No directory is created in the staging area that must be removed one by
    //    one afterwards: on this project's disks `rmdir` costs milliseconds (BENCHMARKS.md).
    let mut new_dirs: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut files: Vec<(&Path, PathBuf)> = Vec::new();
    for (p, content, _) in &plan.write {
        let region = region_of(p);
        let dst = if plan.regions.contains(&region) {
            let staged = stage.join(format!("f{}", files.len()));
            files.push((p.as_path(), staged.clone()));
            staged
        } else {
            let root = match new_dirs.get(&region) {
                Some(d) => d.clone(),
                None => {
                    let d = stage.join(format!("d{}", new_dirs.len()));
                    std::fs::create_dir(&d).map_err(io_err(&d, "cannot create"))?;
                    new_dirs.insert(region.clone(), d.clone());
                    d
                }
            };
            let dst = root.join(p.strip_prefix(&region).unwrap_or(p));
            if let Some(parent) = dst.parent()
                && parent != root
            {
                std::fs::create_dir_all(parent).map_err(io_err(parent, "cannot create"))?;
            }
            dst
        };
        std::fs::write(&dst, content).map_err(io_err(&dst, "cannot write"))?;
    }
    // 2. Move into place, remembering every step so a failure can be undone.
    let mut done: Vec<Done> = Vec::new();
    if let Err(cause) = apply(repo, stage, &plan, &new_dirs, &files, &mut done) {
        return Err(match rollback(done) {
            Ok(()) => cause,
            Err(failures) => Error::RollbackFailed {
                cause: Box::new(cause),
                failures,
                kept: staging.keep(),
            },
        });
    }
    // 3. Remove owned directories that per-file removals emptied (deepest first), and
    //    top-level directories left empty.
    let touched: BTreeSet<&Path> = plan
        .remove
        .iter()
        .flat_map(|p| p.ancestors().skip(1))
        .filter(|d| d.components().count() >= 2)
        .collect();
    for d in touched.iter().rev() {
        let abs = repo.join(d);
        if std::fs::read_dir(&abs).is_ok_and(|mut rd| rd.next().is_none()) {
            let _ = std::fs::remove_dir(&abs);
        }
    }
    for top in GENERATED_DIRS {
        let abs = repo.join(top);
        if std::fs::read_dir(&abs).is_ok_and(|mut rd| rd.next().is_none()) {
            let _ = std::fs::remove_dir(&abs);
        }
    }
    // Best effort: the tree is already complete; a staging directory that cannot be removed
    // holds only old copies.
    let _ = staging.close();
    report.written = plan.write.into_iter().map(|(p, _, _)| p).collect();
    report.removed = plan.remove;
    Ok(report)
}

fn ensure_dir(
    repo: &Path,
    dir: &Path,
    done: &mut Vec<Done>,
    journal: &mut Journal,
) -> Result<(), Error> {
    let abs = repo.join(dir);
    if abs.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent()
        && !parent.as_os_str().is_empty()
    {
        ensure_dir(repo, parent, done, journal)?;
    }
    journal.intend('C', &abs, &abs)?;
    std::fs::create_dir(&abs).map_err(io_err(&abs, "cannot create"))?;
    done.push(Done::Created { dir: abs });
    Ok(())
}

fn apply(
    repo: &Path,
    stage: &Path,
    plan: &Plan<'_>,
    new_dirs: &BTreeMap<PathBuf, PathBuf>,
    files: &[(&Path, PathBuf)],
    done: &mut Vec<Done>,
) -> Result<(), Error> {
    let mut journal = Journal::create(repo, stage)?;
    let mut backups = 0usize;
    let mut aside =
        |abs: PathBuf, done: &mut Vec<Done>, journal: &mut Journal| -> Result<(), Error> {
            let backup = stage.join(format!("b{backups}"));
            backups += 1;
            journal.intend('A', &abs, &backup)?;
            std::fs::rename(&abs, &backup).map_err(io_err(&abs, "cannot move aside"))?;
            done.push(Done::MovedAside { path: abs, backup });
            fail_point(done.len())
        };
    // Removals: a region directory nothing is rendered into any more goes aside whole (one
    // rename); other stale files one by one.
    let rendered: BTreeSet<PathBuf> = plan.rendered.clone();
    let gone: BTreeSet<&PathBuf> = plan
        .regions
        .iter()
        .filter(|r| !rendered.contains(*r))
        .collect();
    for r in &gone {
        aside(repo.join(r), done, &mut journal)?;
    }
    for p in &plan.remove {
        if !gone.contains(&region_of(p)) {
            aside(repo.join(p), done, &mut journal)?;
        }
    }
    // New region directories: one rename each.
    for (region, staged) in new_dirs {
        if let Some(top) = region.parent() {
            ensure_dir(repo, top, done, &mut journal)?;
        }
        let abs = repo.join(region);
        journal.intend('P', &abs, staged)?;
        std::fs::rename(staged, &abs).map_err(io_err(&abs, "cannot move into place"))?;
        done.push(Done::Placed {
            path: abs,
            staged: staged.clone(),
        });
        fail_point(done.len())?;
    }
    // Changed and new files of existing region directories.
    for (p, staged) in files {
        if let Some(parent) = p.parent() {
            ensure_dir(repo, parent, done, &mut journal)?;
        }
        let abs = repo.join(p);
        if std::fs::symlink_metadata(&abs).is_ok() {
            aside(abs.clone(), done, &mut journal)?;
        }
        journal.intend('P', &abs, staged)?;
        std::fs::rename(staged, &abs).map_err(io_err(&abs, "cannot move into place"))?;
        done.push(Done::Placed {
            path: abs,
            staged: staged.clone(),
        });
        fail_point(done.len())?;
    }
    journal.finish()
}

/// Test hooks: `GEN_TEST_FAIL_AFTER_MOVES=n` fails the write after its n-th move, so the
/// tests can prove that a failure mid-way leaves the tree byte-for-byte unchanged;
/// `GEN_TEST_ABORT_AFTER_MOVES=n` aborts the process there (as a SIGKILL would), so they
/// can prove that the next command recovers.
fn fail_point(moves: usize) -> Result<(), Error> {
    static ABORT: OnceLock<Option<usize>> = OnceLock::new();
    let abort = ABORT.get_or_init(|| {
        std::env::var("GEN_TEST_ABORT_AFTER_MOVES")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
    });
    if abort.is_some_and(|n| moves >= n) {
        std::process::abort();
    }
    static AFTER: OnceLock<Option<usize>> = OnceLock::new();
    let after = AFTER.get_or_init(|| {
        std::env::var("GEN_TEST_FAIL_AFTER_MOVES")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
    });
    match after {
        Some(n) if moves >= *n => Err(Error::Io {
            path: PathBuf::from("."),
            action: "injected failure (GEN_TEST_FAIL_AFTER_MOVES)",
            source: io::Error::other("test hook"),
        }),
        _ => Ok(()),
    }
}

/// Undoes `done` in reverse order. Every step is a rename back into place (or the removal of
/// a directory gen created), so nothing is copied. Returns the steps that failed.
fn rollback(done: Vec<Done>) -> Result<(), Vec<String>> {
    let mut failures = Vec::new();
    for step in done.into_iter().rev() {
        let (what, r) = match &step {
            Done::Placed { path, staged } => (path, std::fs::rename(path, staged)),
            Done::MovedAside { path, backup } => (path, std::fs::rename(backup, path)),
            Done::Created { dir } => (dir, std::fs::remove_dir(dir)),
        };
        if let Err(e) = r {
            failures.push(format!("{}: {e}", what.display()));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

/// The record of a write's moves, kept in its staging directory (`journal`): each move is
/// written down before it is made (`A` aside, `P` placed, `C` created; repository-relative
/// paths), and `DONE` after the last. A process killed mid-way leaves it behind, and
/// [`recover`] undoes exactly the moves that happened. Appends are not fsynced: this
/// survives a killed process; after a power loss it relies on the filesystem keeping the
/// order of a file's appends and renames (ext4's default `data=ordered` does).
struct Journal {
    file: std::fs::File,
    repo: PathBuf,
}

const JOURNAL: &str = "journal";
const STAGING_PREFIX: &str = ".gen-tmp-";

impl Journal {
    fn create(repo: &Path, stage: &Path) -> Result<Self, Error> {
        let path = stage.join(JOURNAL);
        let file = std::fs::File::create(&path).map_err(io_err(&path, "cannot write"))?;
        Ok(Self {
            file,
            repo: repo.to_path_buf(),
        })
    }

    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.repo)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }

    fn line(&mut self, text: &str) -> Result<(), Error> {
        use std::io::Write as _;
        self.file
            .write_all(text.as_bytes())
            .map_err(io_err(Path::new(JOURNAL), "cannot write the journal"))
    }

    fn intend(&mut self, kind: char, path: &Path, other: &Path) -> Result<(), Error> {
        let line = format!("{kind}\t{}\t{}\n", self.rel(path), self.rel(other));
        self.line(&line)
    }

    fn finish(mut self) -> Result<(), Error> {
        self.line("DONE\n")
    }
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Interrupted writes rolled back (their staging directories).
    pub rolled_back: Vec<PathBuf>,
    /// Staging directories of writes that had finished, or had not moved anything yet.
    pub removed: Vec<PathBuf>,
}

impl Recovery {
    pub fn is_empty(&self) -> bool {
        self.rolled_back.is_empty() && self.removed.is_empty()
    }
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.rolled_back {
            writeln!(
                f,
                "gen: an interrupted render ({}) was rolled back: the tree is as it was before it",
                d.display()
            )?;
        }
        for d in &self.removed {
            writeln!(
                f,
                "gen: removed the stale staging directory {}",
                d.display()
            )?;
        }
        Ok(())
    }
}

fn staging_dirs(repo: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(repo) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(repo, "cannot list")(e)),
    };
    for e in rd {
        let e = e.map_err(io_err(repo, "cannot list"))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING_PREFIX) && e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(PathBuf::from(name));
        }
    }
    out.sort();
    Ok(out)
}

/// Staging directories whose write was interrupted after it started moving files (what
/// `render --check` reports; it repairs nothing).
pub fn interrupted(repo: &Path) -> Result<Vec<PathBuf>, Error> {
    Ok(staging_dirs(repo)?
        .into_iter()
        .filter(|d| {
            std::fs::read_to_string(repo.join(d).join(JOURNAL))
                .is_ok_and(|j| !j.is_empty() && !j.ends_with("DONE\n"))
        })
        .collect())
}

/// Rolls back every interrupted write and removes every stale staging directory. Run by
/// every command that may write, under the lock, before anything else.
pub fn recover(repo: &Path) -> Result<Recovery, Error> {
    let mut out = Recovery::default();
    for dir in staging_dirs(repo)? {
        let abs = repo.join(&dir);
        let journal = std::fs::read_to_string(abs.join(JOURNAL)).unwrap_or_default();
        let finished = journal.ends_with("DONE\n");
        if !finished && !journal.is_empty() {
            let mut failures = Vec::new();
            for line in journal.lines().rev() {
                let mut parts = line.split('\t');
                let (Some(kind), Some(a), Some(b)) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let (a, b) = (repo.join(a), repo.join(b));
                // Each step is undone only if it happened: its source is gone and its
                // destination is there.
                let r = match kind {
                    "A" if !a.exists() && b.exists() => std::fs::rename(&b, &a),
                    "P" if !b.exists() && std::fs::symlink_metadata(&a).is_ok() => {
                        std::fs::rename(&a, &b)
                    }
                    "C" if a.is_dir() => std::fs::remove_dir(&a),
                    _ => Ok(()),
                };
                if let Err(e) = r {
                    failures.push(format!("{}: {e}", a.display()));
                }
            }
            if !failures.is_empty() {
                return Err(Error::RollbackFailed {
                    cause: Box::new(Error::Unsafe {
                        path: dir.clone(),
                        message: "an interrupted render could not be rolled back".into(),
                    }),
                    failures,
                    kept: abs,
                });
            }
            out.rolled_back.push(dir.clone());
        } else {
            out.removed.push(dir.clone());
        }
        if finished {
            // The write completed; only its clean-up of emptied directories may be missing.
            remove_empty_tops(repo);
        }
        std::fs::remove_dir_all(&abs).map_err(io_err(&abs, "cannot remove"))?;
    }
    Ok(out)
}

fn remove_empty_tops(repo: &Path) {
    for top in GENERATED_DIRS {
        let abs = repo.join(top);
        if let Ok(rd) = std::fs::read_dir(&abs) {
            for e in rd.flatten() {
                let p = e.path();
                if std::fs::read_dir(&p).is_ok_and(|mut rd| rd.next().is_none()) {
                    let _ = std::fs::remove_dir(&p);
                }
            }
        }
        if std::fs::read_dir(&abs).is_ok_and(|mut rd| rd.next().is_none()) {
            let _ = std::fs::remove_dir(&abs);
        }
    }
}

/// The repository's writer lock: an OS file lock (flock) on the repository directory itself,
/// so it leaves no file behind and is released when the process ends, however it ends. A
/// second writer waits for it, saying so.
#[derive(Debug)]
pub struct Lock {
    _dir: std::fs::File,
}

/// Takes the writer lock of `repo`, waiting (and saying so on stderr) while another gen holds it.
pub fn lock(repo: &Path) -> Result<Lock, Error> {
    let dir = std::fs::File::open(repo).map_err(io_err(repo, "cannot open the repository"))?;
    match dir.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "gen: another gen is writing {} (it holds the repository lock); waiting for it to finish",
                repo.display()
            );
            dir.lock().map_err(io_err(repo, "cannot lock"))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io_err(repo, "cannot lock")(e)),
    }
    Ok(Lock { _dir: dir })
}
