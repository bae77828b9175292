//! `infra drill --azure`: the same client and report against a real Traffic Manager profile.
//! The fault is the primary's endpoint disabled through ARM (an [`EndpointControl`] that
//! `infra` implements); the endpoint is restored to what the catalogue says at the end, also
//! after an error or Ctrl-C. Never run against Azure itself: tested against `infra`'s ARM
//! emulator with the local DNS stand-in.

use crate::client::{ClientConfig, LoadClient};
use crate::dns::profile_fqdn;
use crate::measure::{DrillResult, tolerance_ms};
use crate::scenario::{Scenario, assess, primary_and_takeover, regions_of, settle, wait_steady};
use crate::timing::{Timing, secs};
use crate::{DrillError, Progress};
use catalogue::Catalogue;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One endpoint as the control plane reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHealth {
    pub region: String,
    /// `endpointStatus` is `Enabled`.
    pub enabled: bool,
    /// `endpointMonitorStatus`: `Online`, `Degraded`, `CheckingEndpoint`, ...
    pub monitor_status: String,
}

/// What the drill needs from Traffic Manager's control plane.
pub trait EndpointControl: Send + Sync {
    /// Sets the region's endpoint to `Enabled` or `Disabled`.
    fn set_enabled(
        &self,
        region: &str,
        enabled: bool,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Every endpoint of the profile.
    fn health(&self) -> impl Future<Output = Result<Vec<EndpointHealth>, String>> + Send;
}

#[derive(Clone)]
pub struct AzureOptions {
    pub catalogue: Catalogue,
    /// 1 against Azure; smaller only against emulators.
    pub time_scale: f64,
    pub rate_per_second: f64,
    pub users: usize,
    /// `None`: the system resolver (against Azure). Tests point it at the stand-in.
    pub dns_server: Option<SocketAddr>,
    /// Port of the regions' public endpoints (the catalogue's `servicePort` on Azure).
    pub port: u16,
    pub progress: Progress,
}

impl std::fmt::Debug for AzureOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureOptions")
            .field("time_scale", &self.time_scale)
            .field("dns_server", &self.dns_server)
            .field("port", &self.port)
            .finish()
    }
}

/// Refuses unless every catalogue region has an endpoint that is Enabled and Online.
pub fn check_healthy(c: &Catalogue, health: &[EndpointHealth]) -> Result<(), DrillError> {
    let mut problems = vec![];
    for r in &c.regions {
        match health.iter().find(|h| h.region == r.name) {
            None => problems.push(format!("{}: no Traffic Manager endpoint", r.name)),
            Some(h) if !h.enabled => problems.push(format!("{}: endpoint Disabled", r.name)),
            Some(h) if h.monitor_status != "Online" => {
                problems.push(format!("{}: endpoint {}", r.name, h.monitor_status))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(DrillError::Refused(format!(
        "refusing to start the drill: not every region is healthy ({}); nothing was changed\n  help: run `infra status`, fix the region (or `infra bootstrap` to apply the catalogue), then drill again",
        problems.join("; ")
    )))
}

pub async fn run_azure<C: EndpointControl>(
    ctl: &C,
    opts: AzureOptions,
) -> Result<DrillResult, DrillError> {
    let c = &opts.catalogue;
    let timing = Timing::from_catalogue(c, opts.time_scale)?;
    let regions = regions_of(c);
    let (primary, takeover) = primary_and_takeover(&regions)?;
    let p = opts.progress.clone();
    let health = ctl
        .health()
        .await
        .map_err(|e| DrillError::Run(format!("cannot read the endpoints' health: {e}")))?;
    check_healthy(c, &health)?;
    p(&format!(
        "every region healthy; bound {} ({}); evacuating {primary} through its endpoint",
        secs(timing.bound()),
        timing.bound_formula()
    ));
    let epoch = Instant::now();
    let client = LoadClient::start(ClientConfig {
        name: profile_fqdn(&c.traffic_manager.dns_name),
        dns_server: opts.dns_server,
        port: opts.port,
        rate_per_second: opts.rate_per_second,
        request_timeout: timing.timeout.max(Duration::from_millis(100)),
        epoch,
        users: opts.users,
        ttl: timing.ttl(),
    })?;
    let settle = settle(&timing);
    let limit = timing.bound() * 2 + settle * 2 + Duration::from_secs(5);
    let say = |l: &str| {
        p(&format!(
            "azure t={:>6.2}s {l}",
            epoch.elapsed().as_secs_f64()
        ))
    };
    if !wait_steady(&client, &primary, 0.0, settle, limit, &say).await {
        client.stop().await;
        return Err(DrillError::Refused(format!(
            "no steady traffic on {primary} through {} before the fault; nothing was changed\n  help: check that the profile resolves to {primary} and that /default answers",
            profile_fqdn(&c.traffic_manager.dns_name)
        )));
    }
    let fault_at = epoch.elapsed().as_secs_f64() * 1000.0;
    let drive = async {
        ctl.set_enabled(&primary, false).await.map_err(|e| {
            DrillError::Run(format!("cannot disable the endpoint of {primary}: {e}"))
        })?;
        say(&format!("endpoint {primary} disabled through ARM"));
        Ok::<bool, DrillError>(wait_steady(&client, &takeover, fault_at, settle, limit, &say).await)
    };
    let outcome = tokio::select! {
        r = drive => r,
        _ = tokio::signal::ctrl_c() => Err(DrillError::Interrupted(format!("endpoint {primary} restored"))),
    };
    // Restore what the catalogue says, whatever happened above.
    let want = regions
        .iter()
        .find(|r| r.name == primary)
        .is_some_and(|r| r.in_rotation);
    let restored = ctl.set_enabled(&primary, want).await;
    say(&format!(
        "endpoint {primary} restored to {} (catalogue)",
        if want { "Enabled" } else { "Disabled" }
    ));
    let samples = client.stop().await;
    let ended_ms = epoch.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = restored {
        return Err(DrillError::Run(format!(
            "cannot restore the endpoint of {primary} to the catalogue: {e}\n  help: run `infra bootstrap` to apply the catalogue"
        )));
    }
    let recovered = outcome?;
    let tol = tolerance_ms(&timing, opts.rate_per_second);
    let result = assess(
        Scenario::Evacuate,
        &timing,
        tol,
        &primary,
        &takeover,
        format!("endpoint {primary} disabled through ARM"),
        fault_at,
        Some(fault_at),
        None,
        recovered,
        ended_ms,
        vec![],
        vec![],
        samples,
        opts.rate_per_second,
    );
    let passed = result.passed;
    Ok(DrillResult {
        mode: "azure".into(),
        profile: profile_fqdn(&c.traffic_manager.dns_name),
        catalogue_bound_seconds: c.traffic_manager.worst_case_failover_seconds(),
        catalogue_rto_seconds: c.traffic_manager.rto_seconds,
        bound_formula: timing.bound_formula(),
        timing,
        rate_per_second: opts.rate_per_second,
        scenarios: vec![result],
        passed,
    })
}
