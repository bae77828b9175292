//! Flag parsing: the only module that knows clap. Each subcommand's flags become a plain
//! option struct (`crate::options`) handed to the pipeline.

use crate::options::{
    CommitOptions, Context, DiffFormat, DiffOptions, RenderOptions, ReportFormat, ValidateOptions,
};
use crate::promote::{EndpointOptions, NextOptions, RollbackOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes (every command):
  0  success: nothing to report
  1  a check found problems: rule or catalogue-invariant findings, drift between the
     committed tree and the render
  2  usage or input error: a bad flag, a catalogue or base that cannot be read or parsed,
     an unknown region or rule, a git or kustomize failure";

#[derive(Debug, Parser)]
#[command(
    name = "gen",
    version,
    about = "Render the GitOps tree of every region from catalogue.yaml",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Repository root (holds catalogue.yaml, base/, overlays/, clusters/).
    #[arg(long, global = true, default_value = ".")]
    pub repo: PathBuf,
    /// Catalogue file; relative paths are taken from the current directory.
    /// Defaults to `<repo>/catalogue.yaml`.
    #[arg(long, global = true)]
    pub catalogue: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render overlays/<region>/ and clusters/<region>/ (or argocd/) from the catalogue.
    #[command(after_help = EXIT_CODES)]
    Render(RenderArgs),
    /// Check the catalogue invariants and the rules over the rendered tree.
    #[command(after_help = EXIT_CODES)]
    Validate(ValidateArgs),
    /// Per-region diff of the fully built manifests between a git ref and the working tree.
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Commit the generated paths (and push) with a message that says what changed.
    #[command(after_help = EXIT_CODES)]
    Commit(CommitArgs),
    /// Print what a rule checks, why it exists and how to fix a finding; no id lists them all.
    #[command(after_help = EXIT_CODES)]
    Explain(ExplainArgs),
    /// Set the release candidate (app.tag or app.digest) in the catalogue, changing one line.
    #[command(after_help = EXIT_CODES)]
    SetImage(SetImageArgs),
    /// Move the candidate through the regions wave by wave, gated (status, next, rollback).
    #[command(after_help = EXIT_CODES)]
    Promote(PromoteArgs),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SetImageArgs {
    /// An immutable version tag the image was pushed as, e.g. 1.4.2 (never `latest`).
    #[arg(long)]
    pub tag: Option<String>,
    /// The image's digest, `sha256:<64 lowercase hex>`.
    #[arg(long)]
    pub digest: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Render only this region (repeatable). Other regions' files are left as they are.
    #[arg(long = "region", value_name = "REGION", conflicts_with = "all")]
    pub regions: Vec<String>,
    /// Render every region and remove the directories of regions no longer in the catalogue
    /// (the default when no --region is given).
    #[arg(long)]
    pub all: bool,
    /// Write nothing; exit 1 listing the files that differ from what the catalogue renders.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    Text,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Git ref to compare the working tree with.
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Text)]
    pub format: DiffFormatArg,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Push the commit after making it.
    #[arg(long)]
    pub push: bool,
    /// Remote to push to.
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// Also stage catalogue.yaml (the release workflow bumps the tag there).
    #[arg(long)]
    pub include_catalogue: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id, as findings print it (`error[<id>]`).
    pub rule: Option<String>,
}

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

impl Cli {
    pub fn context(&self) -> Context {
        let catalogue = self
            .catalogue
            .clone()
            .unwrap_or_else(|| self.repo.join(catalogue::DEFAULT_FILE));
        Context {
            repo: self.repo.clone(),
            catalogue,
        }
    }
}

/// Parses `args` (including the program name) and runs the command.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let ctx = cli.context();
    let code = match cli.command {
        Command::Render(a) => crate::pipeline::render(
            &ctx,
            &RenderOptions {
                regions: a.regions,
                check: a.check,
            },
        ),
        Command::Validate(a) => crate::pipeline::validate(
            &ctx,
            &ValidateOptions {
                format: match a.format {
                    FormatArg::Text => ReportFormat::Text,
                    FormatArg::Json => ReportFormat::Json,
                    FormatArg::Sarif => ReportFormat::Sarif,
                },
            },
        ),
        Command::Diff(a) => crate::pipeline::diff(
            &ctx,
            &DiffOptions {
                base: a.base,
                format: match a.format {
                    DiffFormatArg::Text => DiffFormat::Text,
                    DiffFormatArg::Markdown => DiffFormat::Markdown,
                },
            },
        ),
        Command::Commit(a) => crate::pipeline::commit(
            &ctx,
            &CommitOptions {
                push: a.push,
                remote: a.remote,
                include_catalogue: a.include_catalogue,
            },
        ),
        Command::Explain(a) => crate::pipeline::explain(a.rule.as_deref()),
        Command::SetImage(a) => {
            let c = match (a.tag, a.digest) {
                (Some(t), _) => crate::set_image::Candidate::Tag(t),
                (None, Some(d)) => crate::set_image::Candidate::Digest(d),
                (None, None) => unreachable!("clap requires one of --tag and --digest"),
            };
            crate::set_image::command(&ctx.catalogue, &c)
        }
        Command::Promote(a) => crate::promote::command(
            &ctx,
            match a.command {
                PromoteCommand::Status { format } => crate::promote::Command::Status {
                    json: format == StatusFormat::Json,
                },
                PromoteCommand::Next(n) => crate::promote::Command::Next(NextOptions {
                    remote: n.remote,
                    wait: n.wait,
                    endpoints: EndpointOptions {
                        file: n.endpoints,
                        public: n.endpoint,
                        registry: n.registry_endpoint,
                        global_registry: n.global_registry,
                    },
                    poll: std::time::Duration::from_millis(n.poll_ms),
                }),
                PromoteCommand::Rollback { remote } => {
                    crate::promote::Command::Rollback(RollbackOptions { remote })
                }
            },
        ),
    };
    ExitCode::from(code)
}

pub fn main() -> ExitCode {
    run(std::env::args_os())
}
