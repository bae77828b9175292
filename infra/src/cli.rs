//! Command line: `infra plan | bootstrap | status`.

use crate::apply::{self, Progress};
use crate::arm::{ArmClient, ClientOptions, Endpoint, InfraError, TokenSource};
use crate::{plan, status};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Authentication (first that works):
  AZURE_ACCESS_TOKEN         a bearer token for Azure Resource Manager, used as-is
  workload identity          AZURE_FEDERATED_TOKEN_FILE + AZURE_TENANT_ID + AZURE_CLIENT_ID
  client secret              AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
  managed identity           on Azure (INFRA_DISABLE_MANAGED_IDENTITY=1 skips it)
  Azure CLI                  `az login`

Exit codes (all commands):
  0  ok: plan has nothing blocked, bootstrap applied every step, status is healthy
  1  a check found problems, or the run failed: a blocked plan (an immutable property would
     change; nothing was written), status not healthy (missing, not Succeeded, drift), a
     failed bootstrap step, an ARM or network error, bootstrap not confirmed
  2  usage or input error, found before any request: bad flags, environment, catalogue,
     credential; nothing was sent to Azure

Waiting (every wait is bounded and printed on stderr):
  --connect-timeout SECS     give up on ARM this long after the first failed connect (90)
  --step-deadline SECS       replaces every resource kind's deadline (RG/TM 300, role/IP 600,
                             registry 900, replication/Flux 1800, AKS 2700)
  Retry-After / retry-after-ms / x-ms-retry-after-ms are honoured up to 300 s per wait.

See infra/README.md for what is created and how re-runs behave.";

#[derive(Debug, Parser)]
#[command(
    name = "infra",
    version,
    about = "Plans and bootstraps the Azure resources of the catalogue (ACR, AKS, Flux, public IPs, Traffic Manager)",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The region catalogue.
    #[arg(long, global = true, default_value = catalogue::DEFAULT_FILE)]
    pub catalogue: PathBuf,
    /// Azure subscription id.
    #[arg(long, global = true, env = "AZURE_SUBSCRIPTION_ID")]
    pub subscription: Option<String>,
    /// ARM base URL; plain http only on 127.0.0.1, ::1 or localhost.
    #[arg(long, global = true, env = "AZURE_RESOURCE_MANAGER_ENDPOINT", default_value = Endpoint::DEFAULT)]
    pub arm_endpoint: String,
    /// Multiplies every wait (tests only).
    #[arg(long, global = true, env = "INFRA_POLL_SCALE", hide = true)]
    pub poll_scale: Option<String>,
    /// Seconds after the first failed connect to ARM before giving up (default 90).
    #[arg(
        long,
        global = true,
        env = "INFRA_CONNECT_TIMEOUT_SECS",
        value_name = "SECS"
    )]
    pub connect_timeout: Option<String>,
    /// Seconds one step may take, for every resource kind (default: per kind, see below).
    #[arg(
        long,
        global = true,
        env = "INFRA_STEP_DEADLINE_SECS",
        value_name = "SECS"
    )]
    pub step_deadline: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show, per resource, what bootstrap would do. Writes nothing.
    ///
    /// Per resource: create, update (each field: Azure -> catalogue), no change, replace,
    /// remove (a role assignment left behind by an identity that changed), or BLOCKED (an
    /// immutable property would change; both values shown). Exit code 1 when something is
    /// blocked.
    ///
    /// With --offline: no Azure at all. The change a catalogue edit implies, from the desired
    /// state of the catalogue at --base (a git ref, default HEAD) and of the working file, as
    /// markdown for a pull request.
    Plan {
        /// `json` for scripts (one object with `items`, each with `key` and `action`);
        /// `markdown` (the default with --offline).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Compare two catalogue versions instead of asking ARM.
        #[arg(long)]
        offline: bool,
        /// The git revision of the catalogue to compare against (with --offline).
        #[arg(long, value_name = "REF", requires = "offline")]
        base: Option<String>,
    },
    /// Plan, confirm, then apply in dependency order (regions in parallel).
    ///
    /// Asks for `yes` on a terminal; `--yes` skips that. Without a terminal and without
    /// `--yes` it refuses before reading or writing anything. Writes nothing when the plan
    /// has a blocked item (exit code 2). Re-running resumes after a failure.
    Bootstrap {
        /// Apply without asking (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Provisioning state, Flux compliance and Traffic Manager monitor status.
    ///
    /// Exit code 1 when a resource is missing, not Succeeded or differs from the catalogue.
    Status {
        /// `json` for scripts.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Failover drill: measures a region loss end to end (docs/drill.md).
    Drill(crate::drill_azure::DrillArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli, apply::stderr_progress())) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 for usage and input errors (found before any request), 1 for everything else.
pub fn exit_code(e: &InfraError) -> u8 {
    match e {
        InfraError::Config(_) | InfraError::Auth(_) => 2,
        _ => 1,
    }
}

/// Everything checked before the first request.
fn client_from(cli: &Cli, progress: &Progress) -> Result<ArmClient, InfraError> {
    let endpoint = Endpoint::parse(&cli.arm_endpoint)?;
    let mut options = ClientOptions::default();
    if let Some(s) = &cli.poll_scale {
        options.time_scale = crate::arm::client::parse_scale(s)?;
    }
    if let Some(s) = &cli.connect_timeout {
        options.connect_give_up = crate::arm::client::parse_seconds(
            "--connect-timeout / INFRA_CONNECT_TIMEOUT_SECS",
            s,
            3600,
        )?;
    }
    if let Some(s) = &cli.step_deadline {
        options.step_deadline = Some(crate::arm::client::parse_seconds(
            "--step-deadline / INFRA_STEP_DEADLINE_SECS",
            s,
            86_400,
        )?);
    }
    let sub = cli.subscription.clone().unwrap_or_default();
    if sub.trim().is_empty() {
        return Err(InfraError::Config(
            "no subscription given\n  help: pass --subscription <id> or set AZURE_SUBSCRIPTION_ID"
                .into(),
        ));
    }
    let tokens = TokenSource::from_env()?;
    Ok(ArmClient::new(endpoint, &sub, tokens, options)?.with_progress(progress.clone()))
}

fn load(cli: &Cli) -> Result<catalogue::Catalogue, InfraError> {
    catalogue::load(&cli.catalogue)
        .map(|l| l.catalogue)
        .map_err(|e| {
            InfraError::Config(format!(
                "the catalogue is not valid; nothing was sent to Azure\n{e}"
            ))
        })
}

pub async fn run(cli: Cli, progress: Progress) -> Result<ExitCode, InfraError> {
    if let Command::Drill(args) = &cli.command {
        return Ok(crate::drill_azure::run(&cli, args).await);
    }
    // Refuse an unconfirmable bootstrap before touching anything.
    if let Command::Bootstrap { yes: false } = cli.command
        && !std::io::stdin().is_terminal()
    {
        return Err(InfraError::Config(
            "refusing to bootstrap without confirmation: stdin is not a terminal and --yes was not given; nothing was read or written\n  help: review `infra plan`, then run `infra bootstrap --yes`".into(),
        ));
    }
    let c = load(&cli)?;
    if let Command::Plan {
        offline: true,
        format,
        base,
    } = &cli.command
    {
        let base = base.as_deref().unwrap_or("HEAD");
        let old = crate::offline::catalogue_at(&cli.catalogue, base)?;
        let p = crate::offline::plan(&old, &c, base);
        match format.unwrap_or(Format::Markdown) {
            Format::Json => println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default()),
            Format::Text | Format::Markdown => print!("{}", crate::offline::render_markdown(&p)),
        }
        return Ok(if p.blocked() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let client = client_from(&cli, &progress)?;
    client.check_credentials().await?;
    match cli.command {
        Command::Plan { format, .. } => {
            let p = plan::plan(&client, &c).await?;
            match format.unwrap_or(Format::Text) {
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default())
                }
                Format::Text | Format::Markdown => print!("{}", plan::render_text(&p)),
            }
            Ok(if p.blocked().is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Status { format } => {
            let st = status::status(&client, &c).await?;
            match format {
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&st).unwrap_or_default())
                }
                Format::Text | Format::Markdown => print!("{}", status::render_text(&st)),
            }
            Ok(if st.healthy() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Drill(_) => unreachable!("handled first"),
        Command::Bootstrap { yes } => {
            let p = plan::plan(&client, &c).await?;
            print!("{}", plan::render_text(&p));
            if !p.blocked().is_empty() {
                let what: Vec<String> = p
                    .blocked()
                    .iter()
                    .map(|i| format!("{} {}", i.kind.label(), i.name))
                    .collect();
                return Err(InfraError::Blocked(format!(
                    "refusing to bootstrap: immutable properties would change on {} (values above); nothing was written\n  help: revert those catalogue fields, or delete and recreate the resources deliberately, then run `infra bootstrap` again",
                    what.join(", ")
                )));
            }
            if !p.has_writes() {
                println!("Nothing to do: every resource matches the catalogue.");
                return Ok(ExitCode::SUCCESS);
            }
            if !yes && !confirm()? {
                println!("Not applied.");
                return Ok(ExitCode::from(1));
            }
            let report = apply::apply(&client, &p, progress).await?;
            print!("{}", apply::render_report(&report));
            println!(
                "Traffic Manager worst-case failover: {}",
                p.failover_formula
            );
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn confirm() -> Result<bool, InfraError> {
    print!("Apply this plan? Type `yes` to continue: ");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| InfraError::Config(format!("cannot read the answer: {e}")))?;
    Ok(line.trim() == "yes")
}
