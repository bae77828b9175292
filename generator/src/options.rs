//! Plain option structs, one per command. Only `cli` knows clap: it parses flags into these,
//! and the commands take them, so tests and other callers drive commands without clap.

use std::path::PathBuf;

/// Resolved global options every command needs.
#[derive(Debug, Clone)]
pub struct Context {
    pub repo: PathBuf,
    pub catalogue: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Regions to render; empty means every region (and stale region directories removed).
    pub regions: Vec<String>,
    /// Write nothing; report the files that differ.
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ValidateOptions {
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFormat {
    #[default]
    Text,
    Markdown,
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub base: String,
    pub format: DiffFormat,
}

#[derive(Debug, Clone)]
pub struct CommitOptions {
    pub push: bool,
    pub remote: String,
    pub include_catalogue: bool,
}
