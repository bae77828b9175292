//! `infra drill --local`: every catalogue region as real `service` processes on loopback, the
//! Traffic Manager stand-in and its DNS server, the load client, and the five scenarios.

use crate::client::{ClientConfig, LoadClient, Sample};
use crate::dns::{DnsServer, profile_fqdn};
use crate::measure::{
    Check, DrillResult, ScenarioResult, answered_by_after, event_at, ms, outage, steady_since,
    tally, tolerance_ms,
};
use crate::region::{RegionProcess, ServiceConfig, check_service_bin};
use crate::standin::{EndpointSpec, MonitorStatus, ProbeSpec, TrafficManager};
use crate::timing::{Timing, secs};
use crate::{DrillError, Progress};
use catalogue::Catalogue;
use nix::sys::signal::Signal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Every process of the primary SIGKILLed.
    Loss,
    /// The primary stops answering (SIGSTOP): probes time out.
    Blackhole,
    /// Planned: endpoint disabled, wait the TTL, then SIGTERM. Goal: zero failed requests.
    Evacuate,
    /// The primary comes back after a loss; traffic returns to it.
    Failback,
    /// Every region down, then one back.
    AllDown,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Self::Loss,
        Self::Blackhole,
        Self::Evacuate,
        Self::Failback,
        Self::AllDown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Blackhole => "blackhole",
            Self::Evacuate => "evacuate",
            Self::Failback => "failback",
            Self::AllDown => "all-down",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DrillError> {
        Self::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                DrillError::Input(format!(
                    "unknown scenario `{s}`\n  help: one of loss, blackhole, evacuate, failback, all-down"
                ))
            })
    }
}

#[derive(Clone)]
pub struct LocalOptions {
    pub catalogue: Catalogue,
    pub service_bin: PathBuf,
    pub time_scale: f64,
    pub scenarios: Vec<Scenario>,
    pub rate_per_second: f64,
    /// Simulated users, each with its own resolver cache (see [`ClientConfig::users`]).
    pub users: usize,
    /// Where region process logs go (the report directory); `None` discards them.
    pub log_dir: Option<PathBuf>,
    pub progress: Progress,
}

impl std::fmt::Debug for LocalOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalOptions")
            .field("service_bin", &self.service_bin)
            .field("time_scale", &self.time_scale)
            .field("scenarios", &self.scenarios)
            .field("rate_per_second", &self.rate_per_second)
            .finish()
    }
}

/// A catalogue region as the drill uses it.
#[derive(Debug, Clone)]
pub(crate) struct RegionInfo {
    pub name: String,
    pub priority: u32,
    pub in_rotation: bool,
    /// `<dnsLabel>.<region>.cloudapp.azure.com`.
    pub target: String,
    pub zone: String,
}

pub(crate) fn regions_of(c: &Catalogue) -> Vec<RegionInfo> {
    let mut v: Vec<RegionInfo> = c
        .regions
        .iter()
        .map(|r| RegionInfo {
            name: r.name.to_string(),
            priority: r.priority,
            in_rotation: r.in_rotation,
            target: format!("{}.{}.cloudapp.azure.com", r.public_ip.dns_label, r.name),
            zone: match r.zones.first() {
                Some(z) => format!("{}-{z}", r.name),
                None => "0".into(),
            },
        })
        .collect();
    v.sort_by_key(|r| r.priority);
    v
}

/// The primary and the region that takes over: the first two in rotation by priority.
pub(crate) fn primary_and_takeover(regions: &[RegionInfo]) -> Result<(String, String), DrillError> {
    let mut rot = regions.iter().filter(|r| r.in_rotation);
    match (rot.next(), rot.next()) {
        (Some(a), Some(b)) => Ok((a.name.clone(), b.name.clone())),
        _ => Err(DrillError::Input(
            "a failover drill needs at least two regions in Traffic Manager rotation\n  help: add a region to catalogue.yaml or set `inRotation: true` on a second one".into(),
        )),
    }
}

/// Runs the scenarios one after another, each from a fresh steady state.
pub async fn run_local(opts: LocalOptions) -> Result<DrillResult, DrillError> {
    let timing = Timing::from_catalogue(&opts.catalogue, opts.time_scale)?;
    check_service_bin(&opts.service_bin)?;
    let regions = regions_of(&opts.catalogue);
    if regions.len() > 15 {
        return Err(DrillError::Input(format!(
            "the local drill runs at most 15 regions, the catalogue has {}",
            regions.len()
        )));
    }
    primary_and_takeover(&regions)?;
    if opts.scenarios.is_empty() {
        return Err(DrillError::Input(
            "no scenario selected\n  help: --scenario loss (repeatable), or leave it out for all"
                .into(),
        ));
    }
    // Probe rate limits of the client are checked before any process starts.
    if !(opts.rate_per_second.is_finite()
        && opts.rate_per_second > 0.0
        && opts.rate_per_second <= 1000.0)
    {
        return Err(DrillError::Input(format!(
            "invalid request rate {}: expected more than 0 and at most 1000 per second\n  help: --rate 20",
            opts.rate_per_second
        )));
    }
    let p = &opts.progress;
    p(&format!(
        "{} region(s), bound {} ({}), RTO {}, time scale {}",
        regions.len(),
        secs(timing.bound()),
        timing.bound_formula(),
        secs(timing.rto),
        timing.time_scale
    ));
    let base = address_base();
    let mut results = vec![];
    for (slot, sc) in opts.scenarios.iter().enumerate() {
        let slot = u8::try_from(slot % 5).unwrap_or(0);
        // Ctrl-C or SIGTERM drops the scenario, and with it every region process.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| DrillError::Run(format!("cannot watch SIGTERM: {e}")))?;
        let r = tokio::select! {
            r = run_scenario(&opts, &timing, &regions, base, slot, *sc) => r?,
            _ = tokio::signal::ctrl_c() => return Err(DrillError::Interrupted("every region process was stopped".into())),
            _ = term.recv() => return Err(DrillError::Interrupted("every region process was stopped".into())),
        };
        results.push(r);
    }
    let passed = results.iter().all(|r| r.passed);
    Ok(DrillResult {
        mode: "local".into(),
        profile: profile_fqdn(&opts.catalogue.traffic_manager.dns_name),
        catalogue_bound_seconds: opts.catalogue.traffic_manager.worst_case_failover_seconds(),
        catalogue_rto_seconds: opts.catalogue.traffic_manager.rto_seconds,
        bound_formula: timing.bound_formula(),
        timing,
        rate_per_second: opts.rate_per_second,
        scenarios: results,
        passed,
    })
}

/// `127.a.b.0/24` for this process: concurrent drills (parallel tests) never share addresses.
fn address_base() -> [u8; 2] {
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mix = pid.wrapping_mul(2_654_435_761) ^ nanos;
    [20 + (mix % 200) as u8, ((mix >> 8) % 256) as u8]
}

fn addr(base: [u8; 2], last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, base[0], base[1], last))
}

/// A port free on the first region's address (all regions use it, each on its own address).
fn free_port(ip: IpAddr) -> Result<u16, DrillError> {
    let l = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).map_err(|e| {
        DrillError::Run(format!(
            "cannot bind {ip}: {e}\n  help: the drill needs the whole 127.0.0.0/8 on the loopback interface (Linux has it by default)"
        ))
    })?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| DrillError::Run(e.to_string()))
}

/// How long traffic must stay on one region without a failure to count as steady.
pub(crate) fn settle(timing: &Timing) -> Duration {
    timing
        .ttl()
        .max(timing.interval)
        .max(Duration::from_millis(500))
}

/// One scenario's world: processes, stand-in, DNS, client.
struct Env<'a> {
    sc: Scenario,
    opts: &'a LocalOptions,
    timing: &'a Timing,
    epoch: Instant,
    svc: ServiceConfig,
    addresses: BTreeMap<String, IpAddr>,
    zones: BTreeMap<String, String>,
    procs: BTreeMap<String, RegionProcess>,
    tm: TrafficManager,
    _dns: DnsServer,
    client: Option<LoadClient>,
}

impl Env<'_> {
    fn now_ms(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64() * 1000.0
    }

    fn say(&self, line: &str) {
        (self.opts.progress)(&format!(
            "{} t={:>6.2}s {line}",
            self.sc.name(),
            self.epoch.elapsed().as_secs_f64()
        ));
    }

    async fn spawn(&mut self, region: &str) -> Result<(), DrillError> {
        let address = self.addresses[region];
        let instance = format!("{}-{region}-{}", self.sc.name(), self.procs.len());
        let mut p =
            RegionProcess::spawn(&self.svc, region, &self.zones[region], &instance, address)
                .await?;
        p.wait_ready(&self.svc.readiness_path, Duration::from_secs(15))
            .await?;
        self.procs.insert(region.to_string(), p);
        Ok(())
    }

    async fn kill(&mut self, region: &str) -> Result<(), DrillError> {
        if let Some(mut p) = self.procs.remove(region) {
            p.kill().await?;
        }
        Ok(())
    }

    fn settle(&self) -> Duration {
        settle(self.timing)
    }

    async fn wait_steady(&self, region: &str, since_ms: f64, limit: Duration) -> bool {
        let Some(client) = self.client.as_ref() else {
            return false;
        };
        wait_steady(client, region, since_ms, self.settle(), limit, &|l| {
            self.say(l)
        })
        .await
    }
}

/// Waits until the client has been served by `region` without a failure for `settle`,
/// starting at or after `since_ms`. False at `limit`.
pub(crate) async fn wait_steady(
    client: &LoadClient,
    region: &str,
    since_ms: f64,
    settle: Duration,
    limit: Duration,
    say: &dyn Fn(&str),
) -> bool {
    let until = Instant::now() + limit;
    let settle_ms = settle.as_secs_f64() * 1000.0;
    let mut last_note = Instant::now();
    loop {
        let samples = client.samples();
        if let (Some(start), Some(last)) = (steady_since(&samples, region), samples.last())
            && start >= since_ms
            && last.at_ms - start >= settle_ms
        {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        if last_note.elapsed() >= Duration::from_secs(5) {
            last_note = Instant::now();
            let (failed, by_region, _) = tally(&samples);
            say(&format!(
                "waiting for steady traffic on {region}: {} requests, {failed} failed, by region {by_region:?}",
                samples.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start_env<'a>(
    opts: &'a LocalOptions,
    timing: &'a Timing,
    regions: &[RegionInfo],
    base: [u8; 2],
    slot: u8,
    sc: Scenario,
) -> Result<Env<'a>, DrillError> {
    let c = &opts.catalogue;
    let epoch = Instant::now();
    let mut addresses = BTreeMap::new();
    let mut zones = BTreeMap::new();
    for (i, r) in regions.iter().enumerate() {
        let last = slot * 16 + u8::try_from(i).unwrap_or(0) + 1;
        addresses.insert(r.name.clone(), addr(base, last));
        zones.insert(r.name.clone(), r.zone.clone());
    }
    let port = free_port(addresses[&regions[0].name])?;
    let svc = ServiceConfig {
        bin: opts.service_bin.clone(),
        port,
        readiness_path: c.app.probes.readiness.clone(),
        liveness_path: c.app.probes.liveness.clone(),
        startup_path: c.app.probes.startup.clone(),
        drain: timing.drain,
        shutdown_timeout: timing.in_flight_timeout,
        log_dir: opts.log_dir.clone(),
    };
    let endpoints = regions
        .iter()
        .map(|r| EndpointSpec {
            name: r.name.clone(),
            target: r.target.clone(),
            address: addresses[&r.name],
            priority: r.priority,
            enabled: r.in_rotation,
        })
        .collect();
    let probe = ProbeSpec {
        protocol: c.traffic_manager.monitor.protocol,
        // Locally the service listens on the port the load balancer would map
        // monitor.port (the Service port) to.
        port,
        path: c.monitor_path().to_string(),
        interval: timing.interval,
        timeout: timing.timeout,
        tolerated_failures: timing.tolerated_failures,
        expected_status: vec![(200, 299)],
    };
    let mut procs = BTreeMap::new();
    for r in regions {
        let instance = format!("{}-{}-0", sc.name(), r.name);
        let mut p =
            RegionProcess::spawn(&svc, &r.name, &r.zone, &instance, addresses[&r.name]).await?;
        p.wait_ready(&svc.readiness_path, Duration::from_secs(15))
            .await?;
        procs.insert(r.name.clone(), p);
    }
    let tm = TrafficManager::start(endpoints, probe, epoch);
    let dns = DnsServer::start(
        tm.handle(),
        &c.traffic_manager.dns_name,
        timing.ttl_seconds,
        SocketAddr::new(addr(base, 250), 0),
    )
    .await
    .map_err(|e| DrillError::Run(format!("cannot start the DNS stand-in: {e}")))?;
    let client = LoadClient::start(ClientConfig {
        name: profile_fqdn(&c.traffic_manager.dns_name),
        dns_server: Some(dns.addr),
        port,
        rate_per_second: opts.rate_per_second,
        // A client gives up after the probe timeout, like Traffic Manager's own probe.
        request_timeout: timing.timeout.max(Duration::from_millis(100)),
        epoch,
        users: opts.users,
        ttl: timing.ttl(),
    })?;
    Ok(Env {
        sc,
        opts,
        timing,
        epoch,
        svc,
        addresses,
        zones,
        procs,
        tm,
        _dns: dns,
        client: Some(client),
    })
}

async fn run_scenario(
    opts: &LocalOptions,
    timing: &Timing,
    regions: &[RegionInfo],
    base: [u8; 2],
    slot: u8,
    sc: Scenario,
) -> Result<ScenarioResult, DrillError> {
    let (primary, takeover) = primary_and_takeover(regions)?;
    let mut env = start_env(opts, timing, regions, base, slot, sc).await?;
    let tm = env.tm.handle();
    let bound = timing.bound();
    let tol = tolerance_ms(timing, opts.rate_per_second);
    let limit = bound * 2 + env.settle() * 2 + Duration::from_secs(5);
    env.say(&format!(
        "{} region processes ready; waiting for steady traffic on {primary}",
        env.procs.len()
    ));
    if !env.wait_steady(&primary, 0.0, limit).await {
        return Err(DrillError::Run(format!(
            "{sc:?}: no steady traffic on {primary} before the fault; see the region logs",
        )));
    }
    let fault_at = env.now_ms();
    let mut checks = vec![];
    let mut back_at = None;
    let mut detected_at = None;
    let mut recovered_region = takeover.clone();
    let fault;
    match sc {
        Scenario::Loss => {
            fault = format!("SIGKILL every process of {primary}");
            env.kill(&primary).await?;
        }
        Scenario::Blackhole => {
            fault = format!("SIGSTOP every process of {primary} (probes time out)");
            env.procs[&primary].signal(Signal::SIGSTOP)?;
        }
        Scenario::Evacuate => {
            fault = format!("endpoint {primary} disabled, TTL waited, then SIGTERM");
            tm.set_enabled(&primary, false);
            detected_at = Some(fault_at);
            env.say(&format!(
                "endpoint {primary} disabled; waiting the TTL ({} s) before stopping it",
                timing.ttl_seconds
            ));
            // A resolver that asked just before the change keeps the old answer for one TTL.
            let margin = Duration::from_millis((tol as u64).min(2000));
            tokio::time::sleep(timing.ttl() + margin).await;
            let stop_at = env.now_ms();
            env.say(&format!("SIGTERM {primary}"));
            let mut p = env
                .procs
                .remove(&primary)
                .ok_or_else(|| DrillError::Run(format!("{primary} has no process to stop")))?;
            p.signal(Signal::SIGTERM)?;
            let exit = p
                .wait_exit(timing.drain + timing.in_flight_timeout + Duration::from_secs(10))
                .await?;
            checks.push(Check::new(
                "primary exits 0 after SIGTERM",
                exit == Some(0),
                format!("exit code {exit:?}, stopped at {}", ms(stop_at)),
            ));
        }
        Scenario::Failback => {
            fault = format!("{primary} killed, then started again");
            env.kill(&primary).await?;
            if !env.wait_steady(&takeover, fault_at, limit).await {
                checks.push(Check::new(
                    "traffic moved to the next region before the failback",
                    false,
                    format!("no steady traffic on {takeover}"),
                ));
            }
            env.say(&format!("starting {primary} again"));
            env.spawn(&primary).await?;
            back_at = Some(env.now_ms());
            recovered_region = primary.clone();
        }
        Scenario::AllDown => {
            fault = "every region SIGKILLed, then one started again".into();
            let names: Vec<String> = env.procs.keys().cloned().collect();
            for n in &names {
                env.kill(n).await?;
            }
            let enabled: Vec<String> = regions
                .iter()
                .filter(|r| r.in_rotation)
                .map(|r| r.name.clone())
                .collect();
            let until = Instant::now() + limit;
            while Instant::now() < until
                && !enabled
                    .iter()
                    .all(|n| tm.status(n) == Some(MonitorStatus::Degraded))
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let all_degraded = enabled
                .iter()
                .all(|n| tm.status(n) == Some(MonitorStatus::Degraded));
            let eligible: Vec<String> = tm.eligible().into_iter().map(|e| e.name).collect();
            let answer = tm.answer().map(|e| e.name);
            checks.push(Check::new(
                "every endpoint degraded: all are returned, priority 1 first",
                all_degraded && eligible == enabled && answer.as_deref() == Some(primary.as_str()),
                format!("eligible {eligible:?}, DNS answer {answer:?}"),
            ));
            env.say(&format!(
                "all endpoints degraded; starting {takeover} again"
            ));
            env.spawn(&takeover).await?;
            back_at = Some(env.now_ms());
        }
    }
    env.say(&format!("fault: {fault}"));
    let recovered = env
        .wait_steady(&recovered_region, back_at.unwrap_or(fault_at), limit)
        .await;
    env.say(if recovered {
        "steady again"
    } else {
        "NOT steady before the deadline"
    });
    let samples = match env.client.take() {
        Some(c) => c.stop().await,
        None => vec![],
    };
    let ended_ms = env.now_ms();
    let events = tm.events();
    drop(env);
    if detected_at.is_none() {
        let watched = if sc == Scenario::AllDown {
            // the last region to go Degraded completes the detection
            regions
                .iter()
                .filter(|r| r.in_rotation)
                .filter_map(|r| event_at(&events, &r.name, MonitorStatus::Degraded, fault_at))
                .fold(None, |acc: Option<f64>, t| {
                    Some(acc.map_or(t, |a| a.max(t)))
                })
        } else {
            event_at(&events, &primary, MonitorStatus::Degraded, fault_at)
        };
        detected_at = watched;
    }
    let result = assess(
        sc,
        timing,
        tol,
        &primary,
        &recovered_region,
        fault,
        fault_at,
        detected_at,
        back_at,
        recovered,
        ended_ms,
        checks,
        events,
        samples,
        opts.rate_per_second,
    );
    (opts.progress)(&format!(
        "{}: {}",
        sc.name(),
        if result.passed { "passed" } else { "FAILED" }
    ));
    Ok(result)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn assess(
    sc: Scenario,
    timing: &Timing,
    tol: f64,
    primary: &str,
    recovered_region: &str,
    fault: String,
    fault_at: f64,
    detected_at: Option<f64>,
    back_at: Option<f64>,
    recovered: bool,
    ended_ms: f64,
    mut checks: Vec<Check>,
    events: Vec<crate::standin::Event>,
    samples: Vec<Sample>,
    _rate: f64,
) -> ScenarioResult {
    let bound_ms = timing.bound().as_secs_f64() * 1000.0;
    let ttl_ms = timing.ttl().as_secs_f64() * 1000.0;
    let interval_ms = timing.interval.as_secs_f64() * 1000.0;
    let timeout_ms = timing.timeout.as_secs_f64() * 1000.0;
    let (failed, by_region, errors) = tally(&samples);
    let out = outage(&samples, fault_at);
    checks.push(Check::new(
        format!("steady on {recovered_region} at the end"),
        recovered,
        if recovered {
            "the last requests all succeeded there".to_string()
        } else {
            "no steady success before the deadline".to_string()
        },
    ));
    match sc {
        Scenario::Loss | Scenario::Blackhole => {
            let o = out.map_or(0.0, |o| o.outage_ms);
            checks.push(Check::new(
                "the client saw an outage",
                failed > 0 && o > 0.0,
                format!("{failed} failed requests over {}", ms(o)),
            ));
            checks.push(Check::new(
                "outage within the computed bound",
                o <= bound_ms + tol,
                format!("{} <= {} + {} tolerance", ms(o), ms(bound_ms), ms(tol)),
            ));
            checks.push(Check::new(
                "the fault was detected",
                detected_at.is_some(),
                detected_at.map_or("never marked Degraded".into(), |d| {
                    format!("Degraded after {}", ms(d - fault_at))
                }),
            ));
        }
        Scenario::Evacuate => {
            checks.push(Check::new(
                "zero failed requests",
                failed == 0,
                format!("{failed} of {} failed", samples.len()),
            ));
        }
        Scenario::Failback => {
            let fb = back_at.and_then(|b| steady_since(&samples, primary).map(|s| s - b));
            let limit = interval_ms + timeout_ms + ttl_ms + tol;
            checks.push(Check::new(
                "traffic returns to priority 1 within interval + timeout + TTL",
                fb.is_some_and(|f| f <= limit),
                fb.map_or("never".into(), |f| {
                    format!("{} <= {}", ms(f.max(0.0)), ms(limit))
                }),
            ));
        }
        Scenario::AllDown => {
            let rec = back_at.and_then(|b| steady_since(&samples, recovered_region).map(|s| s - b));
            let limit = interval_ms + timeout_ms + ttl_ms + tol;
            checks.push(Check::new(
                "recovers within interval + timeout + TTL of a region coming back",
                rec.is_some_and(|r| r <= limit),
                rec.map_or("never".into(), |r| {
                    format!("{} <= {}", ms(r.max(0.0)), ms(limit))
                }),
            ));
        }
    }
    // After detection (or disabling) plus one TTL, no client may still reach the faulted
    // region; it cannot answer after a kill, so this bites for the evacuation and a blackhole
    // that resumed.
    if let Some(d) = detected_at
        && !matches!(sc, Scenario::Failback | Scenario::AllDown)
    {
        let late = answered_by_after(&samples, primary, d + ttl_ms + tol);
        checks.push(Check::new(
            "no answer from the faulted region after detection + TTL",
            late == 0,
            format!(
                "{late} answered by {primary} after {}",
                ms(d + ttl_ms + tol)
            ),
        ));
    }
    let passed = checks.iter().all(|c| c.passed);
    let failback_ms = (sc == Scenario::Failback)
        .then(|| back_at.and_then(|b| steady_since(&samples, primary).map(|s| (s - b).max(0.0))))
        .flatten();
    let recovery_ms = (sc == Scenario::AllDown)
        .then(|| {
            back_at.and_then(|b| steady_since(&samples, recovered_region).map(|s| (s - b).max(0.0)))
        })
        .flatten();
    ScenarioResult {
        scenario: sc,
        primary: primary.to_string(),
        takeover: recovered_region.to_string(),
        fault,
        fault_at_ms: fault_at,
        detected_at_ms: detected_at,
        time_to_detect_ms: detected_at.map(|d| d - fault_at),
        back_at_ms: back_at,
        outage: out,
        failed_requests: failed,
        total_requests: samples.len() as u64,
        requests_by_region: by_region,
        errors_by_kind: errors,
        failback_ms,
        recovery_ms,
        bound_ms,
        rto_ms: timing.rto.as_secs_f64() * 1000.0,
        tolerance_ms: tol,
        ended_ms,
        checks,
        passed,
        events,
        samples,
    }
}
