//! Writing a [`RenderedTree`] into the repository atomically, and checking the repository
//! against one.
//!
//! Ownership: gen owns `overlays/<region>/`, `clusters/<region>/` and `argocd/<region>/` for
//! the regions in scope (with `All`: every directory under those three), and nothing else.
//! Within its scope the disk must end up equal to the tree: changed and new files written,
//! files not in the tree removed, emptied directories removed, unchanged files untouched
//! (same bytes, same mtime).
//!
//! Atomicity: every new content is first written into a staging directory inside the
//! repository (`.gen-tmp-*`, same filesystem, so renames are atomic); only then are files
//! moved into place, each replaced file being moved aside into the staging directory first.
//! If any step fails, the moves done so far are undone in reverse order, so the tree is
//! byte-for-byte what it was. The staging directory is removed in every case.

use crate::render::RegionSelection;
use crate::tree::{GENERATED_DIRS, RenderedTree};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
    /// Owned directories (repository-relative) to delete if they end up empty.
    dirs: BTreeSet<PathBuf>,
}

/// Region directories in scope: `<top>/<region>` for each generated top directory.
fn scope_dirs(
    repo: &Path,
    tree: &RenderedTree,
    scope: &RegionSelection,
) -> Result<BTreeSet<PathBuf>, Error> {
    let mut dirs = BTreeSet::new();
    for top in GENERATED_DIRS {
        match scope {
            RegionSelection::All => {
                let abs = repo.join(top);
                match std::fs::read_dir(&abs) {
                    Ok(rd) => {
                        for e in rd {
                            let e = e.map_err(io_err(&abs, "cannot list"))?;
                            let ft = e.file_type().map_err(io_err(&abs, "cannot list"))?;
                            if ft.is_dir() {
                                dirs.insert(Path::new(top).join(e.file_name()));
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&abs, "cannot list")(e)),
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
                message: "gen only writes <overlays|clusters|argocd>/<region>/...".into(),
            });
        }
    }
    let mut plan = Plan::default();
    let mut on_disk = Vec::new();
    for d in scope_dirs(repo, tree, scope)? {
        list_files(repo, &d, &mut on_disk, &mut plan.dirs)?;
    }
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

enum Done {
    /// `path` was moved to `backup`.
    MovedAside { path: PathBuf, backup: PathBuf },
    /// A new file was moved into `path`.
    Placed { path: PathBuf },
    /// Directory created.
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
    let new_root = staging.path().join("new");
    let old_root = staging.path().join("old");
    // 1. Stage every new content: the only step that needs space, and it touches nothing.
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for (p, content, _) in &plan.write {
        let dst = new_root.join(p);
        if let Some(parent) = dst.parent()
            && made.insert(parent.to_path_buf())
        {
            std::fs::create_dir_all(parent).map_err(io_err(parent, "cannot create"))?;
        }
        std::fs::write(&dst, content).map_err(io_err(&dst, "cannot write"))?;
    }
    // 2. Move into place, remembering every step so a failure can be undone.
    let mut done: Vec<Done> = Vec::new();
    let result = apply(repo, &plan, &new_root, &old_root, &mut done);
    if let Err(e) = result {
        rollback(done);
        return Err(e);
    }
    // 3. Remove owned directories that are now empty (deepest first).
    for d in plan.dirs.iter().rev() {
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
    drop(staging);
    report.written = plan.write.into_iter().map(|(p, _, _)| p).collect();
    report.removed = plan.remove;
    Ok(report)
}

fn ensure_dir(repo: &Path, dir: &Path, done: &mut Vec<Done>) -> Result<(), Error> {
    let abs = repo.join(dir);
    if abs.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent()
        && !parent.as_os_str().is_empty()
    {
        ensure_dir(repo, parent, done)?;
    }
    std::fs::create_dir(&abs).map_err(io_err(&abs, "cannot create"))?;
    done.push(Done::Created { dir: abs });
    Ok(())
}

fn apply(
    repo: &Path,
    plan: &Plan<'_>,
    new_root: &Path,
    old_root: &Path,
    done: &mut Vec<Done>,
) -> Result<(), Error> {
    let aside = |p: &Path, done: &mut Vec<Done>| -> Result<(), Error> {
        let abs = repo.join(p);
        let backup = old_root.join(p);
        if let Some(parent) = backup.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent, "cannot create"))?;
        }
        std::fs::rename(&abs, &backup).map_err(io_err(&abs, "cannot move aside"))?;
        done.push(Done::MovedAside { path: abs, backup });
        fail_point(done.len())
    };
    for p in &plan.remove {
        aside(p, done)?;
    }
    let mut by_dir: BTreeMap<&Path, Vec<&Path>> = BTreeMap::new();
    for (p, _, _) in &plan.write {
        by_dir
            .entry(p.parent().unwrap_or(Path::new("")))
            .or_default()
            .push(p);
    }
    for (dir, files) in by_dir {
        ensure_dir(repo, dir, done)?;
        for p in files {
            let abs = repo.join(p);
            if abs.exists() {
                aside(p, done)?;
            }
            let staged = new_root.join(p);
            std::fs::rename(&staged, &abs).map_err(io_err(&abs, "cannot move into place"))?;
            done.push(Done::Placed { path: abs });
            fail_point(done.len())?;
        }
    }
    Ok(())
}

/// Test hook: `GEN_TEST_FAIL_AFTER_MOVES=n` fails the write after its n-th move, so the
/// tests can prove that a failure mid-way leaves the tree byte-for-byte unchanged.
fn fail_point(moves: usize) -> Result<(), Error> {
    match std::env::var("GEN_TEST_FAIL_AFTER_MOVES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(n) if moves >= n => Err(Error::Io {
            path: PathBuf::from("."),
            action: "injected failure (GEN_TEST_FAIL_AFTER_MOVES)",
            source: io::Error::other("test hook"),
        }),
        _ => Ok(()),
    }
}

fn rollback(done: Vec<Done>) {
    for step in done.into_iter().rev() {
        match step {
            Done::Placed { path } => {
                let _ = std::fs::remove_file(path);
            }
            Done::MovedAside { path, backup } => {
                let _ = std::fs::rename(backup, path);
            }
            Done::Created { dir } => {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}
