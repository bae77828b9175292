//! `infra drill --local | --azure`: the failover drill (crate `drill`). `--local` runs it on
//! this machine; `--azure` evacuates the primary through its Traffic Manager endpoint via ARM
//! ([`ArmEndpoints`] implements the drill's [`drill::azure::EndpointControl`]) and restores
//! what the catalogue says at the end, also on error or Ctrl-C. Never run against Azure.

use crate::arm::client::SendOptions;
use crate::arm::{ArmClient, ClientOptions, Endpoint, TokenSource};
use crate::resources::tm_endpoint_spec;
use catalogue::Catalogue;
use drill::azure::{AzureOptions, EndpointControl, EndpointHealth};
use drill::{DrillError, DrillResult, LocalOptions, Scenario};
use reqwest::Method;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["local", "azure"])))]
pub struct DrillArgs {
    /// Run every catalogue region as the real service on loopback, with a Traffic Manager
    /// stand-in and its DNS server.
    #[arg(long)]
    pub local: bool,
    /// Drill the real profile: disable the primary's endpoint through ARM, measure, restore.
    #[arg(long)]
    pub azure: bool,
    /// `--local` scenario (repeatable): loss, blackhole, evacuate, failback, all-down. Default: all.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Multiplies every catalogue duration (interval, timeout, TTL, drain); 0.05 for CI.
    #[arg(long, default_value = "1")]
    pub time_scale: String,
    /// Client requests per second.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Simulated users, each with its own resolver cache, starting spread over one TTL.
    #[arg(long, default_value_t = 8)]
    pub users: usize,
    /// Writes result.json, report.md and timeline.svg (and region logs) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The service binary (`--local`); default: `service` next to this executable.
    #[arg(long)]
    pub service_bin: Option<PathBuf>,
    /// `--azure`: ask this DNS server instead of the system resolver (emulated profiles).
    #[arg(long, hide = true)]
    pub dns_server: Option<SocketAddr>,
    /// `--azure`: port of the regions' public endpoints (default: the catalogue's servicePort).
    #[arg(long, hide = true)]
    pub port: Option<u16>,
}

/// Traffic Manager endpoints through ARM.
#[derive(Debug, Clone)]
pub struct ArmEndpoints {
    pub client: ArmClient,
    pub catalogue: Catalogue,
}

impl ArmEndpoints {
    fn endpoint(&self, region: &str) -> Result<(String, &'static str), String> {
        let r = self
            .catalogue
            .region(region)
            .ok_or_else(|| format!("region {region} is not in the catalogue"))?;
        let spec = tm_endpoint_spec(self.client.subscription(), &self.catalogue, r);
        Ok((spec.path, spec.api_version))
    }
}

impl EndpointControl for ArmEndpoints {
    async fn set_enabled(&self, region: &str, enabled: bool) -> Result<(), String> {
        let (path, api) = self.endpoint(region)?;
        let ctx = format!("Traffic Manager endpoint {region}");
        let (mut body, _) = self
            .client
            .get(&path, api, &ctx)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{ctx} does not exist"))?;
        // The endpoint PUT replaces the endpoint only; its own fields are sent back unchanged.
        body["properties"]["endpointStatus"] =
            serde_json::json!(if enabled { "Enabled" } else { "Disabled" });
        let body = serde_json::json!({ "properties": {
            "targetResourceId": body["properties"]["targetResourceId"],
            "endpointStatus": body["properties"]["endpointStatus"],
            "priority": body["properties"]["priority"],
        }});
        let url = self.client.url(&path, api).map_err(|e| e.to_string())?;
        let resp = self
            .client
            .send(
                Method::PUT,
                &url,
                Some(&body),
                &SendOptions::default(),
                &ctx,
            )
            .await
            .map_err(|e| e.to_string())?;
        if resp.is_success() {
            Ok(())
        } else {
            Err(resp.arm_error().to_string())
        }
    }

    async fn health(&self) -> Result<Vec<EndpointHealth>, String> {
        let mut out = vec![];
        for r in &self.catalogue.regions {
            let (path, api) = self.endpoint(&r.name)?;
            let ctx = format!("Traffic Manager endpoint {}", r.name);
            if let Some((body, _)) = self
                .client
                .get(&path, api, &ctx)
                .await
                .map_err(|e| e.to_string())?
            {
                let p = &body["properties"];
                out.push(EndpointHealth {
                    region: r.name.to_string(),
                    enabled: p["endpointStatus"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("Enabled")),
                    monitor_status: p["endpointMonitorStatus"]
                        .as_str()
                        .unwrap_or("Unknown")
                        .to_string(),
                });
            }
        }
        Ok(out)
    }
}

/// `infra drill`: prints progress on stderr, the summary on stdout; exit 0 when every check
/// passed, 1 when one failed (or the drill was refused), 2 for bad flags or input.
pub async fn run(cli: &crate::cli::Cli, args: &DrillArgs) -> ExitCode {
    match drive(cli, args).await {
        Ok(r) => {
            print!("{}", drill::report::summary(&r));
            if let Some(dir) = &args.out {
                if let Err(e) = drill::report::write(dir, &r) {
                    eprintln!("error: cannot write the report to {}: {e}", dir.display());
                    return ExitCode::from(2);
                }
                println!("Report: {}", dir.join("report.md").display());
            }
            if r.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn drive(cli: &crate::cli::Cli, args: &DrillArgs) -> Result<DrillResult, DrillError> {
    let time_scale = drill::timing::parse_scale(&args.time_scale)?;
    let c = catalogue::load(&cli.catalogue)
        .map_err(|e| DrillError::Input(format!("the catalogue is not valid\n{e}")))?
        .catalogue;
    if args.azure {
        if !args.scenarios.is_empty() || args.service_bin.is_some() {
            return Err(DrillError::Input(
                "--scenario and --service-bin are for --local; --azure always evacuates the primary through its endpoint".into(),
            ));
        }
        let endpoint = Endpoint::parse(&cli.arm_endpoint).map_err(input)?;
        let sub = cli.subscription.clone().unwrap_or_default();
        let tokens = TokenSource::from_env().map_err(input)?;
        let client =
            ArmClient::new(endpoint, &sub, tokens, ClientOptions::default()).map_err(input)?;
        let port = args.port.unwrap_or(c.app.service_port);
        let ctl = ArmEndpoints {
            client,
            catalogue: c.clone(),
        };
        return drill::azure::run_azure(
            &ctl,
            AzureOptions {
                catalogue: c,
                time_scale,
                rate_per_second: args.rate,
                users: args.users,
                dns_server: args.dns_server,
                port,
                progress: drill::stderr_progress(),
            },
        )
        .await;
    }
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
            .iter()
            .map(|s| Scenario::parse(s))
            .collect::<Result<_, _>>()?
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| {
            DrillError::Input(format!("cannot create --out {}: {e}", dir.display()))
        })?;
    }
    drill::run_local(LocalOptions {
        catalogue: c,
        service_bin: args
            .service_bin
            .clone()
            .unwrap_or_else(drill::region::default_service_bin),
        time_scale,
        scenarios,
        rate_per_second: args.rate,
        users: args.users,
        log_dir: args.out.clone(),
        progress: drill::stderr_progress(),
    })
    .await
}

fn input(e: crate::arm::InfraError) -> DrillError {
    DrillError::Input(e.to_string())
}
