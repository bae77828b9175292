//! Building Kustomize directories with `kubectl kustomize` (Kustomize is not a library we can
//! link; kubectl ships it). One small function, reusable by `render --check`, `diff`, `commit`.
//!
//! The binary is `kubectl` from `PATH`, or the one named by `GEN_KUBECTL`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment variable naming the kubectl binary to run instead of `kubectl` on `PATH`.
pub const KUBECTL_ENV: &str = "GEN_KUBECTL";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot run `{program}`: {source}\n  help: install kubectl (it bundles Kustomize), or name the binary in {KUBECTL_ENV}"
    )]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("kustomize build of {} failed:\n{}", dir.display(), indent(stderr))]
    Build { dir: PathBuf, stderr: String },
    #[error("kustomize build of {} printed output that is not UTF-8", dir.display())]
    Utf8 { dir: PathBuf },
}

impl Error {
    /// True when kubectl itself could not be started (not installed), as opposed to a build
    /// that failed on its input.
    pub fn is_missing_tool(&self) -> bool {
        matches!(self, Self::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn indent(s: &str) -> String {
    s.trim_end()
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn program() -> OsString {
    std::env::var_os(KUBECTL_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "kubectl".into())
}

/// `kubectl kustomize <dir>`: the fully built manifests as one multi-document YAML string.
pub fn build(dir: &Path) -> Result<String, Error> {
    let program = program();
    let output = Command::new(&program)
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|source| Error::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
    if !output.status.success() {
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if stderr.trim().is_empty() {
            stderr = format!("exited with {}", output.status);
        }
        return Err(Error::Build {
            dir: dir.to_path_buf(),
            stderr,
        });
    }
    String::from_utf8(output.stdout).map_err(|_| Error::Utf8 {
        dir: dir.to_path_buf(),
    })
}

/// Builds every directory in parallel (bounded by rayon's pool: one thread per core), results
/// in the order of `dirs`.
pub fn build_all(dirs: &[PathBuf]) -> Vec<Result<String, Error>> {
    use rayon::prelude::*;
    dirs.par_iter().map(|d| build(d)).collect()
}
