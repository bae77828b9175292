//! The gates of a progressive release, region by region (`gen promote next`):
//!
//! 1. **before** a wave's commit: the candidate's manifest exists in every wave region's own
//!    registry replica (registry v2 `HEAD /v2/<repo>/manifests/<ref>` on the regional endpoint
//!    `<registry>.<region>.geo.azurecr.io`, with ACR's token exchange from an Entra token);
//! 2. **after** the push: each wave region's own public name answers `GET /default` with the
//!    candidate in K consecutive responses, and readiness with 200;
//! 3. a **bake**: for the bake time, samples of `/default` and readiness, failing when the
//!    error share passes a threshold.
//!
//! Waves come from the regions' Traffic Manager priorities ([`waves`]); endpoints derive from
//! the catalogue and are overridable ([`endpoints`]). Nothing here writes to Git: the caller
//! commits only after gate 1 passed, and stops the rollout when gate 2 or 3 fails.

pub mod endpoints;
pub mod region;
pub mod registry;
pub mod waves;

use std::fmt;
use std::time::Duration;

/// Which gate stopped a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Manifest,
    Serving,
    Bake,
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Manifest => "manifest in the region's registry replica",
            Self::Serving => "region serves the candidate",
            Self::Bake => "bake",
        })
    }
}

/// A failed gate: the region, the gate, what was expected and what was observed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{region}: gate `{gate}` failed after {elapsed:?}: expected {expected}; observed {observed}"
)]
pub struct GateFailure {
    pub region: String,
    pub gate: Gate,
    pub expected: String,
    pub observed: String,
    pub elapsed: Duration,
}

/// Where progress lines go: one line per gate check (region, what it waits for, time left).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);
