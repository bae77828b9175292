//! Shared by the drill tests: a frozen copy of the shipped catalogue (infra's fixture; the
//! live one changes with every release) and the real service binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn catalogue() -> catalogue::Catalogue {
    catalogue::load(&repo_root().join("infra/tests/fixtures/catalogue.yaml"))
        .expect("the catalogue fixture is valid")
        .catalogue
}

/// `target/<profile>/service`: `cargo nextest run --workspace` builds it; with `-p drill` it
/// may be missing, then it is built once here.
pub fn service_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = drill::region::default_service_bin();
        if !bin.is_file() {
            let status = std::process::Command::new(env!("CARGO"))
                .args(["build", "-p", "service", "--bin", "service"])
                .current_dir(repo_root())
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the service binary failed");
        }
        assert!(bin.is_file(), "no service binary at {}", bin.display());
        bin
    })
}
