//! Hydration: from the hand-kept base and a rendered tree to the effective objects each
//! region deploys (what `kubectl kustomize overlays/<region>` yields), built in-process for
//! the Kustomize subset gen uses (`effective`), with the typed forms of gen's own kinds
//! (`crds`). Knows nothing of rules or of how the tree was rendered.

pub mod crds;
pub mod effective;

use crate::tree::RenderedTree;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Marker of the base's placeholder values; no rendered overlay may leave one in place.
pub const PLACEHOLDER: &str = "set-by-overlay";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read the base: {source}\n  help: run from the repository root (it holds base/), or pass --repo", dir.display())]
    BaseRead {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0}\n  help: fix the base (gen supports resources, namespace, labels, images, replicas and patches in kustomization.yaml)"
    )]
    Base(effective::BuildError),
    #[error(
        "base: {0}\n  help: the base must hold one Deployment (with a container), a Service, a HorizontalPodAutoscaler and a PodDisruptionBudget"
    )]
    BaseShape(String),
}

/// The hand-kept base, read once: its files (keyed `base/<file>`) and the names the overlays
/// patch.
#[derive(Debug, Clone)]
pub struct Base {
    pub files: BTreeMap<String, String>,
    pub names: BaseNames,
    /// The base built once (`kubectl kustomize base` in-process), reused by every region.
    pub objects: Vec<effective::Object>,
}

/// Names of the base objects the rendered patches target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BaseNames {
    pub deployment: String,
    pub container: String,
    /// The container image in the base (a placeholder the overlay's `images:` replaces).
    pub image: String,
    pub service: String,
    pub hpa: String,
    pub pdb: String,
    /// Which of `minAvailable` / `maxUnavailable` the base PDB sets: the overlay's patch
    /// deletes (`null`, strategic merge) only a field the base has, so the output stays clean.
    pub pdb_min_available: bool,
    pub pdb_max_unavailable: bool,
    /// The Deployment's `spec.selector.matchLabels`: what the rendered PodMonitor selects.
    pub pod_selector: BTreeMap<String, String>,
}

struct MapFiles<'a>(&'a BTreeMap<String, String>);

impl effective::Files for MapFiles<'_> {
    fn read(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

impl Base {
    /// Reads every `*.yaml`/`*.yml` file directly in `dir`.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let read_err = |source| Error::BaseRead {
            dir: dir.to_path_buf(),
            source,
        };
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().map_err(read_err)?.is_file()
                && (name.ends_with(".yaml") || name.ends_with(".yml"))
            {
                let text = std::fs::read_to_string(entry.path()).map_err(read_err)?;
                files.insert(format!("base/{name}"), text);
            }
        }
        Self::from_files(files)
    }

    /// A base from its files (keys `base/<file>`), e.g. for tests and benchmarks.
    pub fn from_files(files: BTreeMap<String, String>) -> Result<Self, Error> {
        let objects = effective::build(&MapFiles(&files), "base").map_err(Error::Base)?;
        let find = |kind: &str| {
            objects
                .iter()
                .find(|o| o.kind() == kind)
                .map(|o| o.name().to_string())
                .ok_or_else(|| Error::BaseShape(format!("no {kind}")))
        };
        let deployment = find("Deployment")?;
        let d = objects
            .iter()
            .find(|o| o.kind() == "Deployment")
            .map(|o| &o.value);
        let container = d
            .and_then(|d| d.pointer("/spec/template/spec/containers/0"))
            .ok_or_else(|| Error::BaseShape(format!("Deployment/{deployment} has no container")))?;
        let text = |field: &str| {
            container
                .get(field)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::BaseShape(format!(
                        "the first container of Deployment/{deployment} has no {field}"
                    ))
                })
        };
        let pdb_spec = |field: &str| {
            objects
                .iter()
                .find(|o| o.kind() == "PodDisruptionBudget")
                .and_then(|o| o.value.pointer(&format!("/spec/{field}")))
                .is_some_and(|v| !v.is_null())
        };
        let pod_selector = d
            .and_then(|d| d.pointer("/spec/selector/matchLabels"))
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let names = BaseNames {
            pod_selector,
            pdb_min_available: pdb_spec("minAvailable"),
            pdb_max_unavailable: pdb_spec("maxUnavailable"),
            container: text("name")?,
            image: text("image")?,
            service: find("Service")?,
            hpa: find("HorizontalPodAutoscaler")?,
            pdb: find("PodDisruptionBudget")?,
            deployment,
        };
        Ok(Self {
            files,
            names,
            objects,
        })
    }

    /// Reads base and rendered files alike, for the in-process build.
    pub fn files_with<'a>(&'a self, tree: &'a RenderedTree) -> impl effective::Files + 'a {
        TreeFiles { base: self, tree }
    }

    /// The effective objects of `overlays/<region>`: base + the tree's overlay.
    pub fn hydrate(
        &self,
        tree: &RenderedTree,
        region: &str,
    ) -> Result<Vec<effective::Object>, effective::BuildError> {
        effective::build(&self.files_with(tree), &format!("overlays/{region}"))
    }
}

struct TreeFiles<'a> {
    base: &'a Base,
    tree: &'a RenderedTree,
}

impl effective::Files for TreeFiles<'_> {
    fn read(&self, path: &str) -> Option<&str> {
        self.base
            .files
            .get(path)
            .or_else(|| self.tree.files.get(Path::new(path)))
            .map(String::as_str)
    }
    fn prebuilt(&self, dir: &str) -> Option<&[effective::Object]> {
        (dir == "base").then_some(self.base.objects.as_slice())
    }
}
