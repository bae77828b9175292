//! `gen render`: catalogue + base + embedded templates → an in-memory [`RenderedTree`],
//! validated (see [`crate::validate`]) before [`crate::write`] replaces the files atomically.
//!
//! Layout of what is rendered, per region `R` of the catalogue:
//! - `overlays/R/`: `kustomization.yaml` (base, namespace, region label, image) and one
//!   strategic-merge patch per object the region changes (the region's minimum replicas is the
//!   HPA's `minReplicas`; no `replicas:`, the HPA owns the Deployment's count);
//! - Flux: `clusters/R/kustomization.yaml` + `clusters/R/<app>.yaml`, a Flux `Kustomization`
//!   whose path is `./overlays/R` and whose source is the GitRepository the AKS Flux
//!   configuration creates (`gitops.sourceName`);
//! - Argo CD: `argocd/R/application.yaml`, an `Application` applied to that cluster's Argo CD.

pub mod crds;
pub mod effective;

use crate::cli::{Context, RenderArgs};
use crate::tree::RenderedTree;
use catalogue::{Catalogue, GitOpsEngine, Region};
use rayon::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

/// The version written into every generated file's header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Marker of the base's placeholder values; no rendered overlay may leave one in place.
pub const PLACEHOLDER: &str = "set-by-overlay";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Catalogue(#[from] catalogue::CatalogueError),
    #[error("error: unknown region `{name}`\n  help: the catalogue has: {}", valid.join(", "))]
    UnknownRegion { name: String, valid: Vec<String> },
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
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("{} problem(s) in what would be rendered; nothing was written:\n{}", findings.len(), findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid {
        findings: Vec<crate::validate::Finding>,
    },
    #[error(transparent)]
    Write(#[from] crate::write::Error),
}

impl Error {
    /// Process exit code: 1 for rule findings, 2 for bad input and errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid { .. } => 1,
            _ => 2,
        }
    }
}

/// Which regions a render (and a write) covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSelection {
    /// Every catalogue region; region directories no longer in the catalogue are removed.
    All,
    /// Only these regions; other regions' files are left alone.
    Only(Vec<String>),
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
    pub fn resolve<'c>(&self, catalogue: &'c Catalogue) -> Result<Vec<&'c Region>, Error> {
        match self {
            Self::All => Ok(catalogue.regions.iter().collect()),
            Self::Only(names) => {
                for n in names {
                    if catalogue.region(n).is_none() {
                        return Err(Error::UnknownRegion {
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
        let names = BaseNames {
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

const TEMPLATES: &[(&str, &str)] = &[
    (
        "overlay/kustomization.yaml",
        include_str!("../templates/overlay/kustomization.yaml"),
    ),
    (
        "overlay/patch-deployment.yaml",
        include_str!("../templates/overlay/patch-deployment.yaml"),
    ),
    (
        "overlay/patch-service.yaml",
        include_str!("../templates/overlay/patch-service.yaml"),
    ),
    (
        "overlay/patch-horizontalpodautoscaler.yaml",
        include_str!("../templates/overlay/patch-horizontalpodautoscaler.yaml"),
    ),
    (
        "overlay/patch-poddisruptionbudget.yaml",
        include_str!("../templates/overlay/patch-poddisruptionbudget.yaml"),
    ),
    (
        "flux/kustomization.yaml",
        include_str!("../templates/flux/kustomization.yaml"),
    ),
    ("flux/app.yaml", include_str!("../templates/flux/app.yaml")),
    (
        "argocd/application.yaml",
        include_str!("../templates/argocd/application.yaml"),
    ),
];

/// The templates, compiled once per process.
fn tera() -> Result<&'static tera::Tera, Error> {
    static TERA: OnceLock<Result<tera::Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut t = tera::Tera::new();
        t.autoescape_on(Vec::<&str>::new());
        t.register_filter(
            "yaml",
            |v: &tera::Value, _: tera::Kwargs, _: &tera::State| match v.as_str() {
                Some(s) => yaml_scalar(s),
                None => v.to_string(),
            },
        );
        t.add_raw_templates(TEMPLATES.iter().copied())
            .map_err(|e| e.to_string())?;
        Ok(t)
    })
    .as_ref()
    .map_err(|message| Error::Template {
        name: "(compiling)".into(),
        message: message.clone(),
    })
}

/// A YAML scalar for `s` that every reader (YAML 1.1 or 1.2, Go or Rust) reads back as the
/// same string: plain when unambiguous, else double-quoted (JSON escapes are valid YAML).
pub fn yaml_scalar(s: &str) -> String {
    const SPECIAL: &[&str] = &[
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
    ];
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
        || s.starts_with("./")
        || s.starts_with("../");
    let chars_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    let plain = first_ok
        && chars_ok
        && !SPECIAL.contains(&s.to_ascii_lowercase().as_str())
        && !s.ends_with('.');
    if plain {
        s.to_string()
    } else {
        serde_json::Value::from(s).to_string()
    }
}

fn header() -> String {
    format!(
        "# Generated by gen {VERSION} from catalogue.yaml and base/. Do not edit: change\n\
         # catalogue.yaml (or base/) and run `gen render`; CI fails if this file differs.\n"
    )
}

fn context(catalogue: &Catalogue, base: &BaseNames, region: &Region) -> serde_json::Value {
    let app = &catalogue.app;
    let g = &catalogue.gitops;
    let (key, version) = match (&app.digest, &app.tag) {
        (Some(d), _) => ("digest", d.clone()),
        (None, Some(t)) => ("newTag", t.clone()),
        (None, None) => ("newTag", String::new()),
    };
    let zones: Vec<String> = region
        .zones
        .iter()
        .map(|z| format!("{}-{z}", region.name))
        .collect();
    let zones_text = if zones.is_empty() {
        "none (non-zonal)".to_string()
    } else {
        region
            .zones
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    json!({
        "base": base,
        "app": {
            "name": app.name,
            "namespace": app.namespace(),
            "port": app.port,
            "service_port": app.service_port,
            "readiness": app.probes.readiness,
            "liveness": app.probes.liveness,
            "startup": app.probes.startup,
            "cpu_request": app.resources.cpu_request,
            "memory_request": app.resources.memory_request,
            "memory_limit": app.resources.memory_limit,
            "drain": app.shutdown.drain_seconds,
            "in_flight": app.shutdown.in_flight_timeout_seconds,
            "grace": app.shutdown.termination_grace_period_seconds,
            "max_unavailable": app.disruption.max_unavailable,
            "min_available": app.disruption.min_available,
            "cpu_target": app.target_cpu_utilization,
        },
        "image": {
            "name": format!("{}/{}", catalogue.registry.login_server(), app.image),
            "key": key,
            "version": version,
        },
        "gitops": {
            "source_name": g.source_name,
            "namespace": g.namespace,
            "interval": format!("{}s", g.kustomization_interval_seconds),
            "timeout": format!("{}s", g.timeout_seconds),
            "repo": g.repo,
            "branch": g.branch,
            "project": g.argocd_project,
        },
        "region": {
            "name": region.name,
            "priority": region.priority,
            "min": region.replicas.min,
            "max": region.replicas.max,
            "zone_labels": zones,
            "zones_text": zones_text,
            "cluster": region.cluster.name,
            "pip_name": region.public_ip.name,
            "pip_resource_group": region.public_ip_resource_group(),
            "dns_label": region.public_ip.dns_label,
            "overlay_dir": format!("overlays/{}", region.name),
            "overlay_path": format!("./overlays/{}", region.name),
            "application": format!("{}-{}", app.name, region.name),
        },
    })
}

/// The files of one region: `(repository-relative path, content)`.
pub fn render_region(
    catalogue: &Catalogue,
    base: &BaseNames,
    region: &Region,
) -> Result<Vec<(PathBuf, String)>, Error> {
    let t = tera()?;
    let ctx = tera::Context::from_serialize(&context(catalogue, base, region)).map_err(|e| {
        Error::Template {
            name: "(context)".into(),
            message: e.to_string(),
        }
    })?;
    let r = &region.name;
    let mut jobs: Vec<(&str, String)> = vec![
        (
            "overlay/kustomization.yaml",
            format!("overlays/{r}/kustomization.yaml"),
        ),
        (
            "overlay/patch-deployment.yaml",
            format!("overlays/{r}/patch-deployment.yaml"),
        ),
        (
            "overlay/patch-service.yaml",
            format!("overlays/{r}/patch-service.yaml"),
        ),
        (
            "overlay/patch-horizontalpodautoscaler.yaml",
            format!("overlays/{r}/patch-horizontalpodautoscaler.yaml"),
        ),
        (
            "overlay/patch-poddisruptionbudget.yaml",
            format!("overlays/{r}/patch-poddisruptionbudget.yaml"),
        ),
    ];
    match catalogue.gitops.engine {
        GitOpsEngine::Flux => {
            jobs.push((
                "flux/kustomization.yaml",
                format!("clusters/{r}/kustomization.yaml"),
            ));
            jobs.push((
                "flux/app.yaml",
                format!("clusters/{r}/{}.yaml", catalogue.app.name),
            ));
        }
        GitOpsEngine::Argocd => {
            jobs.push((
                "argocd/application.yaml",
                format!("argocd/{r}/application.yaml"),
            ));
        }
    }
    let head = header();
    jobs.into_iter()
        .map(|(name, path)| {
            let body = t.render(name, &ctx).map_err(|e| Error::Template {
                name: name.into(),
                message: format!("{e:?}"),
            })?;
            let mut text = String::with_capacity(head.len() + body.len() + 1);
            text.push_str(&head);
            text.push_str(&body);
            if !text.ends_with('\n') {
                text.push('\n');
            }
            Ok((PathBuf::from(path), text))
        })
        .collect()
}

/// Renders the selected regions from an already-loaded base, then validates the result
/// (typed parse of every object and the workload rules); `Error::Invalid` carries the
/// findings. Pure: the same inputs give the same bytes.
pub fn render_tree_with_base(
    catalogue: &Catalogue,
    base: &Base,
    regions: &RegionSelection,
) -> Result<RenderedTree, Error> {
    let selected = regions.resolve(catalogue)?;
    let parts: Vec<Vec<(PathBuf, String)>> = selected
        .par_iter()
        .map(|r| render_region(catalogue, &base.names, r))
        .collect::<Result<_, _>>()?;
    let tree = RenderedTree {
        files: parts.into_iter().flatten().collect(),
    };
    let names: Vec<&str> = selected.iter().map(|r| r.name.as_str()).collect();
    let findings = crate::validate::validate_tree(catalogue, base, &tree, &names);
    if findings.is_empty() {
        Ok(tree)
    } else {
        Err(Error::Invalid { findings })
    }
}

/// Reads the base in `base_dir` and renders + validates the selected regions
/// (see [`render_tree_with_base`]).
pub fn render_tree(
    catalogue: &Catalogue,
    base_dir: &Path,
    regions: &RegionSelection,
) -> Result<RenderedTree, Error> {
    let base = Base::load(base_dir)?;
    render_tree_with_base(catalogue, &base, regions)
}

/// `gen render`.
pub fn run(ctx: &Context, args: &RenderArgs) -> Result<ExitCode, Error> {
    let loaded = catalogue::load(&ctx.catalogue)?;
    let selection = RegionSelection::from_flags(&args.regions);
    let tree = match render_tree(&loaded.catalogue, &ctx.repo.join("base"), &selection) {
        Ok(t) => t,
        Err(e @ Error::Invalid { .. }) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(e.exit_code()));
        }
        Err(e) => return Err(e),
    };
    if args.check {
        let report = crate::write::check_tree(&ctx.repo, &tree, &selection)?;
        if report.is_clean() {
            println!(
                "gen render --check: the tree is what the catalogue renders ({} files)",
                tree.files.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let text = report.to_string(); // one write, not one per line
        eprint!("{text}");
        eprintln!(
            "help: run `gen render` and commit the result; never edit generated files by hand"
        );
        return Ok(ExitCode::from(1));
    }
    let report = crate::write::write_tree(&ctx.repo, &tree, &selection)?;
    // One write: stdout is line-buffered, and 420 lines were 420 syscalls.
    let text = format!("{report}\n");
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(ExitCode::SUCCESS)
}
