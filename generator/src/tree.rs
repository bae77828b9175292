//! A rendered tree: repository-relative path → file content. Rendering builds one in memory;
//! hydrating, checking, writing, diffing and committing all consume it. Leaf module: it
//! imports nothing from the crate.

use catalogue::{Catalogue, Region};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Top-level directories `gen` owns. Nothing else in the repository is ever written by it.
pub const GENERATED_DIRS: &[&str] = &["overlays", "clusters", "argocd", "alerts"];

/// Repository-relative paths (forward slashes) to file contents, sorted for determinism.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<PathBuf, String>,
}

/// Which regions a render (and a write) covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSelection {
    /// Every catalogue region; region directories no longer in the catalogue are removed.
    All,
    /// Only these regions; other regions' files are left alone.
    Only(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error: unknown region `{name}`\n  help: the catalogue has: {}", valid.join(", "))]
pub struct UnknownRegion {
    pub name: String,
    pub valid: Vec<String>,
}

/// True when `name` is exactly one ordinary path component: a region directory name that
/// cannot climb out of (`..`), reach past (`a/b`) or hide (`.x`) in the directory it names.
pub fn is_safe_component(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

impl RegionSelection {
    /// `--region` values, or `All` when there are none.
    pub fn from_flags(regions: &[String]) -> Self {
        if regions.is_empty() {
            Self::All
        } else {
            let mut r = regions.to_vec();
            r.sort();
            r.dedup();
            Self::Only(r)
        }
    }

    /// The catalogue regions selected, in catalogue order; an unknown name is an error that
    /// lists the valid ones.
    pub fn resolve<'c>(&self, catalogue: &'c Catalogue) -> Result<Vec<&'c Region>, UnknownRegion> {
        match self {
            Self::All => Ok(catalogue.regions.iter().collect()),
            Self::Only(names) => {
                for n in names {
                    if catalogue.region(n).is_none() {
                        return Err(UnknownRegion {
                            name: n.clone(),
                            valid: catalogue
                                .regions
                                .iter()
                                .map(|r| r.name.to_string())
                                .collect(),
                        });
                    }
                }
                Ok(catalogue
                    .regions
                    .iter()
                    .filter(|r| names.iter().any(|n| r.name == *n))
                    .collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_safe_component;

    #[test]
    fn only_plain_region_names_are_safe_components() {
        for ok in ["eastus2", "west-europe", "a1"] {
            assert!(is_safe_component(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".",
            "../../victim",
            "a/b",
            "a\\b",
            ".hidden",
            "-x",
            "East",
            "a b",
            "a\0",
        ] {
            assert!(!is_safe_component(bad), "{bad:?}");
        }
        assert!(!is_safe_component(&"a".repeat(64)));
    }
}
