//! Flags of `gen promote` (clap), turned into the plain options of [`super`].

use super::{EndpointOptions, NextOptions, RollbackOptions};
use crate::options::Context;
use crate::pipeline::{INPUT, OK, Stop};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(subcommand)]
    pub command: PromoteCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum PromoteCommand {
    /// Per region: its image, its wave, and whether it runs the candidate.
    Status {
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Promote the next wave not running the candidate: manifest gate, one commit, push;
    /// with --wait, then the serving gate and the bake.
    Next(NextArgs),
    /// Re-pin the previous image in every region running the candidate, in one commit.
    Rollback {
        /// Remote to push to.
        #[arg(long, default_value = "origin")]
        remote: String,
    },
}

/// `REGION=URL`.
fn region_url(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((r, u)) if !r.is_empty() && !u.is_empty() => Ok((r.to_string(), u.to_string())),
        _ => Err(format!(
            "`{s}` is not REGION=URL (e.g. eastus2=https://host:443)"
        )),
    }
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// Remote to push the wave's commit to.
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// After the push, wait until each wave region serves the candidate, then bake.
    #[arg(long)]
    pub wait: bool,
    /// Endpoint overrides: `regions: { <region>: { registry: <url>, public: <url> } }`.
    #[arg(long, value_name = "FILE")]
    pub endpoints: Option<PathBuf>,
    /// The region's own public base URL (overrides the derived `<dnsLabel>.<region>.cloudapp.azure.com`).
    #[arg(long = "endpoint", value_name = "REGION=URL", value_parser = region_url)]
    pub endpoint: Vec<(String, String)>,
    /// The region's registry replica base URL (overrides `<registry>.<region>.geo.azurecr.io`).
    #[arg(long = "registry-endpoint", value_name = "REGION=URL", value_parser = region_url)]
    pub registry_endpoint: Vec<(String, String)>,
    /// The registry has no regional endpoints: check the global one (a weaker check).
    #[arg(long)]
    pub global_registry: bool,
    /// Milliseconds between two looks of a gate and between bake samples.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
}

/// Runs `gen promote …`; the exit code.
pub fn run(ctx: &Context, a: PromoteArgs) -> u8 {
    let r: Result<u8, Stop> = match a.command {
        PromoteCommand::Status { format } => status(ctx, format),
        PromoteCommand::Next(n) => super::next(
            &ctx.repo,
            &ctx.catalogue,
            &NextOptions {
                remote: n.remote,
                wait: n.wait,
                endpoints: EndpointOptions {
                    file: n.endpoints,
                    public: n.endpoint,
                    registry: n.registry_endpoint,
                    global_registry: n.global_registry,
                },
                poll: Duration::from_millis(n.poll_ms),
            },
        ),
        PromoteCommand::Rollback { remote } => {
            super::rollback(&ctx.repo, &ctx.catalogue, &RollbackOptions { remote })
        }
    };
    match r {
        Ok(code) => code,
        Err(s) => {
            eprintln!("{}", s.message);
            s.code
        }
    }
}

fn status(ctx: &Context, format: StatusFormat) -> Result<u8, Stop> {
    let loaded = catalogue::load(&ctx.catalogue).map_err(|e| Stop {
        code: if e.is_input_error() { INPUT } else { 1 },
        message: e.to_string(),
    })?;
    let st = super::status(&loaded.catalogue);
    let text = match format {
        StatusFormat::Text => st.text(),
        StatusFormat::Json => st.json(),
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(OK)
}
