//! One side of a diff: `base/` and the generated directories, either the work tree itself or
//! the blobs of a git tree held in memory (the checkout is never touched). A git side is
//! written to a temporary directory only when a directory must be built with `kubectl
//! kustomize` (creating ~400 files costs more than the whole in-process diff).

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
    /// Where the builds read the files.
    pub source: Source,
    /// Repository-relative path → git blob id of its content (the same id on both sides when
    /// the bytes are equal, so unchanged regions are recognised without building them).
    pub files: BTreeMap<String, String>,
}

/// The files a build reads (repository-relative paths, forward slashes).
#[derive(Debug)]
pub enum Source {
    /// A directory on disk (the work tree).
    Disk(PathBuf),
    /// Blob contents in memory; written to a temporary directory on first need.
    Memory {
        contents: BTreeMap<String, Vec<u8>>,
        dir: std::sync::OnceLock<Result<tempfile::TempDir, String>>,
    },
}

impl Source {
    pub fn memory(contents: BTreeMap<String, Vec<u8>>) -> Self {
        Self::Memory {
            contents,
            dir: std::sync::OnceLock::new(),
        }
    }

    pub fn is_file(&self, rel: &str) -> bool {
        match self {
            Self::Disk(root) => root.join(rel).is_file(),
            Self::Memory { contents, .. } => contents.contains_key(rel),
        }
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        match self {
            Self::Disk(root) => root.join(rel).is_dir(),
            Self::Memory { contents, .. } => {
                let prefix = if rel.is_empty() {
                    String::new()
                } else {
                    format!("{rel}/")
                };
                contents
                    .range(prefix.clone()..)
                    .next()
                    .is_some_and(|(k, _)| k.starts_with(&prefix))
            }
        }
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        match self {
            Self::Disk(root) => std::fs::read_to_string(root.join(rel)).ok(),
            Self::Memory { contents, .. } => contents
                .get(rel)
                .and_then(|b| String::from_utf8(b.clone()).ok()),
        }
    }

    /// The `*.yaml`/`*.yml` files directly in `dir`, sorted.
    pub fn yaml_files_in(&self, dir: &str) -> Vec<String> {
        let yaml = |n: &str| n.ends_with(".yaml") || n.ends_with(".yml");
        match self {
            Self::Disk(root) => {
                let mut out: Vec<String> = std::fs::read_dir(root.join(dir))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| yaml(n))
                    .map(|n| format!("{dir}/{n}"))
                    .collect();
                out.sort();
                out
            }
            Self::Memory { contents, .. } => {
                let prefix = format!("{dir}/");
                contents
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .filter(|k| !k[prefix.len()..].contains('/') && yaml(k))
                    .collect()
            }
        }
    }

    /// A directory holding the files, for `kubectl kustomize`.
    pub fn on_disk(&self) -> Result<PathBuf, String> {
        match self {
            Self::Disk(root) => Ok(root.clone()),
            Self::Memory { contents, dir } => dir
                .get_or_init(|| {
                    let temp = scratch_dir().map_err(|e| e.to_string())?;
                    for (rel, bytes) in contents {
                        let path = temp.path().join(rel);
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent)
                                .map_err(|e| format!("{}: {e}", parent.display()))?;
                        }
                        std::fs::write(&path, bytes)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                    Ok(temp)
                })
                .as_ref()
                .map(|t| t.path().to_path_buf())
                .map_err(Clone::clone),
        }
    }
}

impl Snapshot {
    /// The commit `reference` names, extracted into a temporary directory.
    pub fn from_ref(repo: &Repository, reference: &str) -> Result<Self, git::Error> {
        let tree = git::resolve_tree(repo, reference)?;
        Self::from_tree(repo, &tree, reference)
    }

    /// A tree object, read into memory.
    pub fn from_tree(repo: &Repository, tree: &Tree<'_>, label: &str) -> Result<Self, git::Error> {
        let mut files = BTreeMap::new();
        let mut contents = BTreeMap::new();
        for (rel, (id, bytes)) in git::read_tree(repo, tree, &inputs())? {
            files.insert(rel.clone(), id);
            contents.insert(rel, bytes);
        }
        Ok(Self {
            label: label.to_string(),
            source: Source::memory(contents),
            files,
        })
    }

    /// An empty side (no commit yet).
    pub fn empty(label: &str) -> Result<Self, git::Error> {
        Ok(Self {
            label: label.to_string(),
            source: Source::memory(BTreeMap::new()),
            files: BTreeMap::new(),
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
            source: Source::Disk(root.to_path_buf()),
            files,
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
