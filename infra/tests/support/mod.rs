//! Test support: the ARM emulator and helpers shared by the integration tests.

#![allow(dead_code)]

pub mod emulator;

use emulator::{Emulator, Recorded, SUB, TOKEN};
use infra::apply::ApplyReport;
use infra::arm::lro::{PutOptions, PutResult};
use infra::arm::{ArmClient, ClientOptions, Endpoint, InfraError, ResourceKind, TokenSource};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Waits are scaled by this: `Retry-After: 10` → 10 ms.
pub const SCALE: f64 = 0.001;

pub fn client(emu: &Emulator) -> ArmClient {
    client_with(emu, |_| {})
}

pub fn client_with(emu: &Emulator, f: impl FnOnce(&mut ClientOptions)) -> ArmClient {
    let mut o = ClientOptions {
        time_scale: SCALE,
        ..Default::default()
    };
    f(&mut o);
    ArmClient::new(
        Endpoint::parse(&emu.base).expect("loopback endpoint"),
        SUB,
        TokenSource::fixed(TOKEN),
        o,
    )
    .expect("client")
}

/// A frozen copy of the shipped catalogue: releases and new sections change the live
/// `catalogue.yaml`, and only the drift gate may read that one.
pub fn catalogue_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalogue.yaml")
}

pub fn catalogue_text() -> String {
    std::fs::read_to_string(catalogue_path()).expect("the catalogue fixture")
}

pub fn catalogue() -> catalogue::Catalogue {
    catalogue::load(&catalogue_path())
        .expect("the catalogue fixture is valid")
        .catalogue
}

/// The shipped catalogue with a text edit applied (and validated).
pub fn catalogue_edited(from: &str, to: &str) -> catalogue::Catalogue {
    let text = catalogue_text();
    assert!(
        text.contains(from),
        "catalogue.yaml no longer contains `{from}`"
    );
    let edited = text.replacen(from, to, 1);
    catalogue::parse(&catalogue_path(), &edited)
        .unwrap_or_else(|e| panic!("edited catalogue invalid: {e}"))
}

/// Progress lines collected in memory.
pub fn progress() -> (infra::apply::Progress, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    (
        Arc::new(move |s: &str| l.lock().expect("lines").push(s.to_string())),
        lines,
    )
}

/// Runs plan + apply like `infra bootstrap --yes`.
pub async fn bootstrap(
    client: &ArmClient,
    c: &catalogue::Catalogue,
) -> (infra::plan::Plan, infra::apply::ApplyReport, Vec<String>) {
    let plan = infra::plan::plan(client, c).await.expect("plan");
    let (p, lines) = progress();
    let report = infra::apply::apply(client, &plan, p).await.expect("apply");
    let lines = lines.lock().expect("lines").clone();
    (plan, report, lines)
}

/// The error the step `key` of an apply ended with.
pub fn step_error<'a>(report: &'a ApplyReport, key: &str) -> &'a InfraError {
    report.step(key).unwrap().result.as_ref().unwrap_err()
}

/// `put_and_wait` with the default options for `kind`.
pub async fn put(
    client: &ArmClient,
    path: &str,
    api_version: &str,
    body: &Value,
    kind: ResourceKind,
    context: &str,
) -> Result<PutResult, InfraError> {
    client
        .put_and_wait(path, api_version, body, &PutOptions::new(kind), context)
        .await
}

/// Creates the resource group at `path` in eastus2 (context `rg`).
pub async fn put_resource_group(client: &ArmClient, path: &str) {
    put(
        client,
        path,
        "2025-04-01",
        &serde_json::json!({"location": "eastus2"}),
        ResourceKind::ResourceGroup,
        "rg",
    )
    .await
    .expect("resource group");
}

pub fn puts(reqs: &[Recorded], path_contains: &str) -> Vec<Recorded> {
    let needle = path_contains.to_ascii_lowercase();
    reqs.iter()
        .filter(|r| r.method == "PUT" && r.path.to_ascii_lowercase().contains(&needle))
        .cloned()
        .collect()
}

pub fn ends_with<'a>(reqs: &'a [Recorded], method: &str, suffix: &str) -> Vec<&'a Recorded> {
    let s = suffix.to_ascii_lowercase();
    reqs.iter()
        .filter(|r| r.method == method && r.path.to_ascii_lowercase().ends_with(&s))
        .collect()
}
