//! A rendered tree: repository-relative path → file content. Rendering builds one in memory;
//! writing, checking, diffing and committing all consume it.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Top-level directories `gen` owns. Nothing else in the repository is ever written by it.
pub const GENERATED_DIRS: &[&str] = &["overlays", "clusters", "argocd"];

/// Repository-relative paths (forward slashes) to file contents, sorted for determinism.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<PathBuf, String>,
}
