//! `infra`: plans and bootstraps, idempotently, what the clusters stand on — resource groups,
//! ACR Premium with zone redundancy and geo-replication, zonal AKS clusters, AcrPull and
//! Network Contributor role assignments, the Flux extension and configuration, a static public
//! IP per region and Traffic Manager — all from the region catalogue.
//!
//! Library functions take an [`arm::ArmClient`] and return typed results so tests drive them
//! in-process against the emulator in `tests/support`.

pub mod apply;
pub mod arm;
pub mod cli;
pub mod drill_azure;
pub mod offline;
pub mod plan;
pub mod resources;
pub mod status;
