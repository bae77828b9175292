//! Every integration test of this crate in one binary: the shared helpers compile once and
//! one executable links, instead of one of each per file (the suite's build time on a fresh
//! machine). Each file below is still one area; nextest names a test `<file>::<test>`.

mod support;

mod bootstrap;
mod cli;
mod drill_azure;
mod lro;
mod monitoring;
mod offline;
mod plan;
mod regional_endpoints;
mod responses;
mod roles;
mod updates;
mod waiting;
