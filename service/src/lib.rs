//! The microservice: `GET /default` (who answered: hostname, IP, region, zone, version),
//! readiness/liveness/startup probes, Prometheus metrics and a graceful, drain-first shutdown.
//!
//! `main.rs` only parses the configuration, sets up logging and calls [`run`]; the router is
//! built by [`app::router`] so tests can drive it in-process.

pub mod app;
pub mod config;
pub mod errors;
pub mod health;
pub mod identity;
pub mod metrics;
pub mod observe;
pub mod server;

pub use app::{AppState, RouterSettings, router};
pub use config::{Config, ConfigError, ConfigErrors, LogLevel};
pub use server::{ServeError, run, serve};

/// Version of this crate, reported by `GET /default` and `service_build_info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
