//! Building Kustomize directories with `kubectl kustomize` (Kustomize is not a library we can
//! link; kubectl ships it). One small function, reusable by `render --check`, `diff`, `commit`.
//!
//! The binary is `kubectl` from `PATH`, or the one named by `GEN_KUBECTL`.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    #[error("kustomize build of {} did not finish within {seconds} s and was stopped\n  help: a remote base or a stuck filesystem? raise GEN_KUBECTL_TIMEOUT_SECONDS if the build is just slow", dir.display())]
    Timeout { dir: PathBuf, seconds: u64 },
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

/// How long one `kubectl kustomize` may take (`GEN_KUBECTL_TIMEOUT_SECONDS`, default 60):
/// a hung build (a remote base, a stuck filesystem) must fail, not hang CI.
fn timeout() -> Duration {
    std::env::var("GEN_KUBECTL_TIMEOUT_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

/// `kubectl kustomize <dir>`: the fully built manifests as one multi-document YAML string.
pub fn build(dir: &Path) -> Result<String, Error> {
    build_with(&program(), dir, timeout())
}

fn build_with(program: &std::ffi::OsStr, dir: &Path, limit: Duration) -> Result<String, Error> {
    let mut child = Command::new(program)
        .arg("kustomize")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
    // Read both pipes on threads so a large output cannot block the child while we wait.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout {
                    dir: dir.to_path_buf(),
                    seconds: limit.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(source) => {
                return Err(Error::Spawn {
                    program: program.to_string_lossy().into_owned(),
                    source,
                });
            }
        }
    };
    let output = std::process::Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_that_hangs_is_stopped_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("kubectl");
        std::fs::write(&fake, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .unwrap();
        let start = Instant::now();
        let err = build_with(fake.as_os_str(), dir.path(), Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(
            err.to_string().contains("GEN_KUBECTL_TIMEOUT_SECONDS"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
        let fast = dir.path().join("ok");
        std::fs::write(&fast, "#!/bin/sh\necho built\n").unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fast)
            .status()
            .unwrap();
        assert_eq!(
            build_with(fast.as_os_str(), dir.path(), Duration::from_secs(20)).unwrap(),
            "built\n"
        );
    }
}
