//! Flag parsing. Each subcommand's flags are a plain struct handed to its module's `run`.
//! Exit codes: 0 success, 1 a check found differences or rule violations, 2 bad input or error.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "gen",
    version,
    about = "Render the GitOps tree of every region from catalogue.yaml"
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
    Render(RenderArgs),
    /// Check the catalogue invariants and the rules over the rendered tree.
    Validate(ValidateArgs),
    /// Per-region diff of the fully built manifests between a git ref and the working tree.
    Diff(DiffArgs),
    /// Commit the generated paths (and push) with a message that says what changed.
    Commit(CommitArgs),
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
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Git ref to compare the working tree with.
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
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

/// Resolved global options every command needs.
#[derive(Debug, Clone)]
pub struct Context {
    pub repo: PathBuf,
    pub catalogue: PathBuf,
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
    let result: Result<ExitCode, Box<dyn std::error::Error>> = match &cli.command {
        Command::Render(a) => crate::render::run(&ctx, a).map_err(Into::into),
        Command::Validate(a) => crate::validate::run(&ctx, a).map_err(Into::into),
        Command::Diff(a) => crate::diff::run(&ctx, a).map_err(Into::into),
        Command::Commit(a) => crate::commit::run(&ctx, a).map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

pub fn main() -> ExitCode {
    run(std::env::args_os())
}
