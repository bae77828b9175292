//! The failover drill: measures, end to end, what a region loss costs a client.
//!
//! Real parts: the real `service` binary per region on its own loopback address
//! ([`region`]), a Traffic Manager stand-in that probes them by the documented rules
//! ([`standin`]) and answers real DNS over UDP ([`dns`]), a load client that resolves through
//! a caching resolver and sends `GET /default` at a fixed rate ([`client`]). [`scenario`]
//! injects the faults, [`measure`] turns samples and probe events into numbers, [`report`]
//! writes `result.json`, `report.md` and `timeline.svg`. [`azure`] runs the same client and
//! report against a real profile through an [`azure::EndpointControl`] that `infra` provides.
//!
//! A crate of its own so the DNS server, the resolver and process management stay out of the
//! `infra` library (which only wires the command and the ARM calls), and so `drill` never
//! depends on `infra`.

pub mod azure;
pub mod client;
pub mod dns;
pub mod measure;
pub mod region;
pub mod report;
pub mod scenario;
pub mod standin;
pub mod timing;

pub use measure::{Check, DrillResult, ScenarioResult};
pub use scenario::{LocalOptions, Scenario, run_local};
pub use timing::Timing;

use std::sync::Arc;

/// Receives one human-readable progress line at a time.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// Progress lines on stderr, prefixed so they stand apart from the summary on stdout.
pub fn stderr_progress() -> Progress {
    Arc::new(|line: &str| eprintln!("drill: {line}"))
}

/// Progress that goes nowhere (tests that collect nothing).
pub fn quiet() -> Progress {
    Arc::new(|_: &str| {})
}

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// Bad flags, catalogue or environment: nothing was started (exit code 2).
    #[error("{0}")]
    Input(String),
    /// A precondition failed (e.g. a region is not healthy): nothing was changed (exit code 1).
    #[error("{0}")]
    Refused(String),
    /// Something broke while running (a process, a socket, ARM); restore was attempted.
    #[error("{0}")]
    Run(String),
    /// Ctrl-C: the drill stopped early and restored what it had changed.
    #[error("interrupted: the drill stopped early; {0}")]
    Interrupted(String),
}

impl DrillError {
    /// Exit code by the project's scheme: 2 for usage or input, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            _ => 1,
        }
    }
}
