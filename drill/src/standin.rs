//! The Traffic Manager stand-in: priority routing over endpoints it probes itself, following
//! the documented rules: an endpoint is Degraded after more than `toleratedFailures`
//! consecutive failed probes and Online again after one success; a probe fails on a timeout,
//! a refused connection or a status outside the expected ranges (redirects included); when
//! every enabled endpoint is Degraded they are all treated as Online; a Disabled endpoint is
//! neither probed nor returned.

use catalogue::MonitorProtocol;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// What Traffic Manager's monitor reports for one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MonitorStatus {
    /// Not probed yet: included in DNS answers, like the real service.
    CheckingEndpoint,
    Online,
    Degraded,
    Disabled,
}

/// One endpoint: a region's public name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The region name (the endpoint's name in the profile).
    pub name: String,
    /// The DNS name the profile's CNAME points to (`<dnsLabel>.<region>.cloudapp.azure.com`).
    pub target: String,
    pub address: IpAddr,
    pub priority: u32,
    pub enabled: bool,
}

/// The profile's monitor settings (already scaled).
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub protocol: MonitorProtocol,
    pub port: u16,
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub tolerated_failures: u32,
    /// Inclusive ranges; Traffic Manager's default is 200-200, `infra` sets 200-299.
    pub expected_status: Vec<(u16, u16)>,
}

/// A status change, at a time relative to the drill's epoch.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub at_ms: f64,
    pub endpoint: String,
    pub from: MonitorStatus,
    pub to: MonitorStatus,
    /// Why the last probe failed (or `ok`, `enabled`, `disabled`).
    pub probe: String,
    /// Consecutive failed probes at this moment.
    pub failures: u32,
    /// Probes sent to this endpoint so far (this one included).
    pub probe_number: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointView {
    pub name: String,
    pub target: String,
    pub address: IpAddr,
    pub priority: u32,
    pub status: MonitorStatus,
}

#[derive(Debug)]
struct Endpoint {
    spec: EndpointSpec,
    status: MonitorStatus,
    consecutive_failures: u32,
    probes: u64,
}

#[derive(Debug)]
struct State {
    endpoints: Vec<Endpoint>,
    events: Vec<Event>,
}

/// The running stand-in; dropping it stops the probes.
#[derive(Debug)]
pub struct TrafficManager {
    state: Arc<Mutex<State>>,
    epoch: Instant,
    probes: Vec<JoinHandle<()>>,
}

impl Drop for TrafficManager {
    fn drop(&mut self) {
        for p in &self.probes {
            p.abort();
        }
    }
}

/// A cheap handle for the DNS server and scenarios.
#[derive(Debug, Clone)]
pub struct Handle {
    state: Arc<Mutex<State>>,
    epoch: Instant,
}

impl TrafficManager {
    /// Starts probing every enabled endpoint at once, then every interval.
    pub fn start(endpoints: Vec<EndpointSpec>, probe: ProbeSpec, epoch: Instant) -> Self {
        let mut endpoints: Vec<Endpoint> = endpoints
            .into_iter()
            .map(|spec| Endpoint {
                status: if spec.enabled {
                    MonitorStatus::CheckingEndpoint
                } else {
                    MonitorStatus::Disabled
                },
                spec,
                consecutive_failures: 0,
                probes: 0,
            })
            .collect();
        endpoints.sort_by_key(|e| e.spec.priority);
        let state = Arc::new(Mutex::new(State {
            endpoints,
            events: vec![],
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .tls_danger_accept_invalid_certs(true)
            .build()
            .expect("a plain HTTP client builds");
        let names: Vec<String> = lock(&state)
            .endpoints
            .iter()
            .map(|e| e.spec.name.clone())
            .collect();
        let probes = names
            .into_iter()
            .map(|name| {
                let state = state.clone();
                let probe = probe.clone();
                let http = http.clone();
                tokio::spawn(probe_loop(state, name, probe, http, epoch))
            })
            .collect();
        Self {
            state,
            epoch,
            probes,
        }
    }

    pub fn handle(&self) -> Handle {
        Handle {
            state: self.state.clone(),
            epoch: self.epoch,
        }
    }
}

fn lock(s: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panicking probe task must not take the stand-in down with it.
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl Handle {
    /// The endpoints priority routing may return, best first: enabled and not Degraded; when
    /// every enabled endpoint is Degraded, all of them ("as if they were Online").
    pub fn eligible(&self) -> Vec<EndpointView> {
        let s = lock(&self.state);
        let enabled: Vec<&Endpoint> = s.endpoints.iter().filter(|e| e.spec.enabled).collect();
        let healthy: Vec<EndpointView> = enabled
            .iter()
            .filter(|e| e.status != MonitorStatus::Degraded)
            .map(|e| view(e))
            .collect();
        if healthy.is_empty() {
            enabled.iter().map(|e| view(e)).collect()
        } else {
            healthy
        }
    }

    /// The one endpoint a DNS query gets with priority routing.
    pub fn answer(&self) -> Option<EndpointView> {
        self.eligible().into_iter().next()
    }

    pub fn endpoints(&self) -> Vec<EndpointView> {
        lock(&self.state).endpoints.iter().map(view).collect()
    }

    pub fn status(&self, name: &str) -> Option<MonitorStatus> {
        lock(&self.state)
            .endpoints
            .iter()
            .find(|e| e.spec.name == name)
            .map(|e| e.status)
    }

    /// Probes sent to an endpoint so far.
    pub fn probes_sent(&self, name: &str) -> u64 {
        lock(&self.state)
            .endpoints
            .iter()
            .find(|e| e.spec.name == name)
            .map_or(0, |e| e.probes)
    }

    /// Enables or disables an endpoint (`endpointStatus`). Enabling restarts its checks.
    pub fn set_enabled(&self, name: &str, enabled: bool) {
        let at_ms = self.epoch.elapsed().as_secs_f64() * 1000.0;
        let mut s = lock(&self.state);
        let State { endpoints, events } = &mut *s;
        if let Some(e) = endpoints.iter_mut().find(|e| e.spec.name == name)
            && e.spec.enabled != enabled
        {
            e.spec.enabled = enabled;
            e.consecutive_failures = 0;
            let to = if enabled {
                MonitorStatus::CheckingEndpoint
            } else {
                MonitorStatus::Disabled
            };
            events.push(Event {
                at_ms,
                endpoint: name.to_string(),
                from: e.status,
                to,
                probe: if enabled { "enabled" } else { "disabled" }.into(),
                failures: 0,
                probe_number: e.probes,
            });
            e.status = to;
        }
    }

    pub fn events(&self) -> Vec<Event> {
        lock(&self.state).events.clone()
    }

    /// Waits until `name` reaches `status`; `None` after `limit`.
    pub async fn wait_for(&self, name: &str, status: MonitorStatus, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.status(name) == Some(status) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn view(e: &Endpoint) -> EndpointView {
    EndpointView {
        name: e.spec.name.clone(),
        target: e.spec.target.clone(),
        address: e.spec.address,
        priority: e.spec.priority,
        status: e.status,
    }
}

async fn probe_loop(
    state: Arc<Mutex<State>>,
    name: String,
    probe: ProbeSpec,
    http: reqwest::Client,
    epoch: Instant,
) {
    let mut tick = tokio::time::interval(probe.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let target = {
            let mut s = lock(&state);
            let Some(e) = s.endpoints.iter_mut().find(|e| e.spec.name == name) else {
                return;
            };
            if !e.spec.enabled {
                continue; // Disabled endpoints are not monitored.
            }
            e.probes += 1;
            (e.spec.address, e.spec.target.clone())
        };
        let outcome = probe_once(&http, &probe, target.0, &target.1).await;
        let at_ms = epoch.elapsed().as_secs_f64() * 1000.0;
        let mut s = lock(&state);
        let State { endpoints, events } = &mut *s;
        let Some(e) = endpoints.iter_mut().find(|e| e.spec.name == name) else {
            return;
        };
        if !e.spec.enabled {
            continue; // disabled while the probe was in flight: its result no longer counts
        }
        let before = e.status;
        match &outcome {
            Ok(()) => {
                e.consecutive_failures = 0;
                e.status = MonitorStatus::Online;
            }
            Err(_) => {
                e.consecutive_failures += 1;
                if e.consecutive_failures > probe.tolerated_failures {
                    e.status = MonitorStatus::Degraded;
                }
            }
        }
        if e.status != before {
            events.push(Event {
                at_ms,
                endpoint: name.clone(),
                from: before,
                to: e.status,
                probe: outcome.err().unwrap_or_else(|| "ok".into()),
                failures: e.consecutive_failures,
                probe_number: e.probes,
            });
        }
    }
}

/// One probe: `Ok` when it passes, else why it failed.
pub async fn probe_once(
    http: &reqwest::Client,
    probe: &ProbeSpec,
    address: IpAddr,
    host: &str,
) -> Result<(), String> {
    let addr = SocketAddr::new(address, probe.port);
    match probe.protocol {
        MonitorProtocol::Tcp => {
            match tokio::time::timeout(probe.timeout, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(format!("connect: {e}")),
                Err(_) => Err("timeout".into()),
            }
        }
        MonitorProtocol::Http | MonitorProtocol::Https => {
            let scheme = if probe.protocol == MonitorProtocol::Https {
                "https"
            } else {
                "http"
            };
            let url = format!("{scheme}://{addr}{}", probe.path);
            // The probe's Host is the endpoint's DNS name (no custom header configured).
            let req = http
                .get(&url)
                .header(reqwest::header::HOST, host)
                .timeout(probe.timeout);
            match req.send().await {
                Ok(r) => {
                    let code = r.status().as_u16();
                    if probe
                        .expected_status
                        .iter()
                        .any(|&(lo, hi)| (lo..=hi).contains(&code))
                    {
                        Ok(())
                    } else {
                        Err(format!("status {code}"))
                    }
                }
                Err(e) if e.is_timeout() => Err("timeout".into()),
                Err(e) => Err(format!("request: {}", crate::client::root_cause(&e))),
            }
        }
    }
}
