//! One side of a diff: a directory holding `base/` and the generated directories, either the
//! work tree itself or a temporary extraction of a git tree (the checkout is never touched).

use crate::git;
use crate::tree::GENERATED_DIRS;
use git2::{ObjectType, Oid, Repository, Tree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level paths a build can read: the hand-written base plus everything gen generates.
pub fn inputs() -> Vec<&'static str> {
    let mut tops = vec!["base"];
    tops.extend_from_slice(GENERATED_DIRS);
    tops
}

/// Directories whose sub-directories are regions.
const REGION_PARENTS: &[&str] = &["overlays", "clusters", "argocd"];

#[derive(Debug)]
pub struct Snapshot {
    /// What the side is called in reports: `HEAD`, `origin/main`, `working tree`.
    pub label: String,
    /// Directory the builds run in.
    pub root: PathBuf,
    /// Repository-relative path → git blob id of its content (the same id on both sides when
    /// the bytes are equal, so unchanged regions are recognised without building them).
    pub files: BTreeMap<String, String>,
    _temp: Option<tempfile::TempDir>,
}

impl Snapshot {
    /// The commit `reference` names, extracted into a temporary directory.
    pub fn from_ref(repo: &Repository, reference: &str) -> Result<Self, git::Error> {
        let tree = git::resolve_tree(repo, reference)?;
        Self::from_tree(repo, &tree, reference)
    }

    /// A tree object, extracted into a temporary directory.
    pub fn from_tree(repo: &Repository, tree: &Tree<'_>, label: &str) -> Result<Self, git::Error> {
        let temp = scratch_dir()?;
        let files = git::extract_tree(repo, tree, &inputs(), temp.path())?;
        Ok(Self {
            label: label.to_string(),
            root: temp.path().to_path_buf(),
            files,
            _temp: Some(temp),
        })
    }

    /// An empty side (no commit yet).
    pub fn empty(label: &str) -> Result<Self, git::Error> {
        let temp = scratch_dir()?;
        Ok(Self {
            label: label.to_string(),
            root: temp.path().to_path_buf(),
            files: BTreeMap::new(),
            _temp: Some(temp),
        })
    }

    /// The work tree as it is on disk.
    pub fn from_workdir(root: &Path, label: &str) -> Result<Self, git::Error> {
        let mut files = BTreeMap::new();
        for top in inputs() {
            walk(root, &root.join(top), &mut files)?;
        }
        Ok(Self {
            label: label.to_string(),
            root: root.to_path_buf(),
            files,
            _temp: None,
        })
    }

    /// Region names: the sub-directories of `overlays/`, `clusters/` and `argocd/`.
    pub fn regions(&self) -> BTreeSet<String> {
        self.files
            .keys()
            .filter_map(|p| {
                let mut parts = p.split('/');
                let top = parts.next()?;
                let region = parts.next()?;
                parts.next()?;
                REGION_PARENTS.contains(&top).then(|| region.to_string())
            })
            .collect()
    }

    /// Fingerprint of everything a region's build can read: its own directories plus every
    /// file no region owns (base/, shared generated files).
    pub fn region_inputs(&self, region: &str, regions: &BTreeSet<String>) -> Vec<(&str, &str)> {
        self.files
            .iter()
            .filter(|(path, _)| match owner(path, regions) {
                Some(r) => r == region,
                None => true,
            })
            .map(|(p, id)| (p.as_str(), id.as_str()))
            .collect()
    }
}

/// The region a path belongs to: `<generated dir>/<region>/…`.
pub fn owner<'p>(path: &'p str, regions: &BTreeSet<String>) -> Option<&'p str> {
    let mut parts = path.split('/');
    let top = parts.next()?;
    let region = parts.next()?;
    parts.next()?;
    (GENERATED_DIRS.contains(&top) && regions.contains(region)).then_some(region)
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> Result<(), git::Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| git::Error::Io { path, source }
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    };
    if meta.is_file() {
        let bytes = std::fs::read(dir).map_err(io(dir))?;
        let rel = dir
            .strip_prefix(root)
            .unwrap_or(dir)
            .to_string_lossy()
            .replace('\\', "/");
        let id = Oid::hash_object(ObjectType::Blob, &bytes)?;
        files.insert(rel, id.to_string());
        return Ok(());
    }
    if !meta.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        walk(root, &entry.path(), files)?;
    }
    Ok(())
}

/// A private temporary directory for one side of a diff, removed on drop.
fn scratch_dir() -> Result<tempfile::TempDir, git::Error> {
    tempfile::Builder::new()
        .prefix("gen-diff-")
        .tempdir()
        .map_err(|source| git::Error::Io {
            path: std::env::temp_dir(),
            source,
        })
}
