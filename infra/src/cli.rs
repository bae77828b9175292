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

Exit codes:
  0  success (plan: nothing blocked; bootstrap: every step succeeded; status: all Succeeded)
  1  error: bad flags, environment or catalogue (nothing was sent), an ARM error, a failed
     step, or bootstrap not confirmed
  2  blocked: an immutable property would change (plan and bootstrap; nothing was written)
  3  status: a resource is missing or not Succeeded

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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show, per resource, what bootstrap would do. Writes nothing.
    ///
    /// Per resource: create, update (each field: Azure -> catalogue), no change, replace, or
    /// BLOCKED (an immutable property would change; both values shown). Exit code 2 when
    /// something is blocked.
    Plan {
        /// `json` for scripts (one object with `items`, each with `key` and `action`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
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
    /// Exit code 3 when a resource is missing or not Succeeded.
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
            match e {
                InfraError::Blocked(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// Everything checked before the first request.
fn client_from(cli: &Cli) -> Result<ArmClient, InfraError> {
    let endpoint = Endpoint::parse(&cli.arm_endpoint)?;
    let mut options = ClientOptions::default();
    if let Some(s) = &cli.poll_scale {
        options.time_scale = crate::arm::client::parse_scale(s)?;
    }
    let sub = cli.subscription.clone().unwrap_or_default();
    if sub.trim().is_empty() {
        return Err(InfraError::Config(
            "no subscription given\n  help: pass --subscription <id> or set AZURE_SUBSCRIPTION_ID"
                .into(),
        ));
    }
    let tokens = TokenSource::from_env()?;
    ArmClient::new(endpoint, &sub, tokens, options)
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
    let client = client_from(&cli)?;
    client.check_credentials().await?;
    match cli.command {
        Command::Plan { format } => {
            let p = plan::plan(&client, &c).await?;
            match format {
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default())
                }
                Format::Text => print!("{}", plan::render_text(&p)),
            }
            Ok(if p.blocked().is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Status { format } => {
            let st = status::status(&client, &c).await?;
            match format {
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&st).unwrap_or_default())
                }
                Format::Text => print!("{}", status::render_text(&st)),
            }
            Ok(if st.healthy() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
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
