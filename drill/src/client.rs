//! The load client: resolves the profile name through a caching resolver (the TTL decides
//! when it asks again, as a real client's resolver cache does) and sends `GET /default` at a
//! fixed rate, open loop (a hanging request never delays the next one).

use crate::DrillError;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{Resolver, TokioResolver};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One request as the client saw it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Send time, milliseconds since the drill's epoch.
    pub at_ms: f64,
    pub latency_ms: f64,
    /// `region` from the `/default` body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// Which simulated user (own resolver cache) sent it.
    pub user: usize,
}

impl Sample {
    pub fn ok(&self) -> bool {
        self.status == Some(200) && self.region.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The profile name, e.g. `contoso-ha.trafficmanager.net`.
    pub name: String,
    /// The DNS server to ask; `None` uses the system's resolver configuration.
    pub dns_server: Option<SocketAddr>,
    /// Port of the regions' public endpoints.
    pub port: u16,
    pub rate_per_second: f64,
    pub request_timeout: Duration,
    pub epoch: Instant,
    /// Independent users, each with its own resolver cache. User `i` starts at
    /// `i x TTL / users`, so the cache expiries are spread over one TTL like a real
    /// population's: the outage the population sees includes the unluckiest phase.
    pub users: usize,
    pub ttl: Duration,
}

/// A running client; [`LoadClient::stop`] ends it and returns every sample.
#[derive(Debug)]
pub struct LoadClient {
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// A resolver that caches by TTL, like a client host's stub resolver cache.
pub fn resolver(
    dns_server: Option<SocketAddr>,
    timeout: Duration,
) -> Result<TokioResolver, DrillError> {
    let mut opts = ResolverOpts::default();
    opts.cache_size = 64;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.ip_strategy = LookupIpStrategy::Ipv4thenIpv6;
    opts.timeout = timeout;
    opts.attempts = 1;
    let builder = match dns_server {
        Some(addr) => {
            let group = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
            Resolver::builder_with_config(
                ResolverConfig::from_parts(None, vec![], group),
                TokioConnectionProvider::default(),
            )
        }
        None => Resolver::builder_tokio().map_err(|e| {
            DrillError::Input(format!(
                "cannot read the system's resolver configuration: {e}\n  help: check /etc/resolv.conf"
            ))
        })?,
    };
    Ok(builder.with_options(opts).build())
}

impl LoadClient {
    pub fn start(cfg: ClientConfig) -> Result<Self, DrillError> {
        if !(cfg.rate_per_second.is_finite()
            && cfg.rate_per_second > 0.0
            && cfg.rate_per_second <= 1000.0)
        {
            return Err(DrillError::Input(format!(
                "invalid request rate {}: expected more than 0 and at most 1000 per second\n  help: --rate 20",
                cfg.rate_per_second
            )));
        }
        let users = cfg.users.clamp(1, 64);
        let resolvers: Vec<Arc<TokioResolver>> = (0..users)
            .map(|_| resolver(cfg.dns_server, cfg.request_timeout).map(Arc::new))
            .collect::<Result<_, _>>()?;
        // Kept-alive connections, as a real HTTP client keeps them.
        let http = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DrillError::Run(format!("cannot build the HTTP client: {e}")))?;
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = watch::channel(false);
        let period = Duration::from_secs_f64(1.0 / cfg.rate_per_second);
        let task = {
            let samples = samples.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                let mut inflight = tokio::task::JoinSet::new();
                let mut n: usize = 0;
                let stagger = cfg.ttl.div_f64(users as f64);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stopped.changed() => break,
                    }
                    let elapsed = cfg.epoch.elapsed();
                    let started = if stagger.is_zero() {
                        users
                    } else {
                        ((elapsed.as_secs_f64() / stagger.as_secs_f64()) as usize + 1).min(users)
                    };
                    let user = n % started;
                    n += 1;
                    let (resolver, http, samples, cfg) = (
                        resolvers[user].clone(),
                        http.clone(),
                        samples.clone(),
                        cfg.clone(),
                    );
                    inflight.spawn(async move {
                        let s = one_request(&resolver, &http, &cfg, user).await;
                        samples.lock().unwrap_or_else(|e| e.into_inner()).push(s);
                    });
                    while inflight.try_join_next().is_some() {}
                }
                // Let requests in flight finish (each is bounded by the request timeout).
                while inflight.join_next().await.is_some() {}
            })
        };
        Ok(Self {
            samples,
            stop,
            task,
        })
    }

    /// Samples so far, in send order.
    pub fn samples(&self) -> Vec<Sample> {
        let mut v = self
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        v.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        v
    }

    pub async fn stop(self) -> Vec<Sample> {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let mut v = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        v
    }
}

async fn one_request(
    resolver: &TokioResolver,
    http: &reqwest::Client,
    cfg: &ClientConfig,
    user: usize,
) -> Sample {
    let started = Instant::now();
    let at_ms = started.duration_since(cfg.epoch).as_secs_f64() * 1000.0;
    let mut sample = Sample {
        at_ms,
        latency_ms: 0.0,
        region: None,
        status: None,
        error: None,
        address: None,
        user,
    };
    let lookup =
        tokio::time::timeout(cfg.request_timeout, resolver.lookup_ip(cfg.name.as_str())).await;
    let ip = match lookup {
        Ok(Ok(l)) => l.iter().next(),
        Ok(Err(e)) => {
            sample.error = Some(format!("dns: {e}"));
            None
        }
        Err(_) => {
            sample.error = Some("dns: timeout".into());
            None
        }
    };
    if let Some(ip) = ip {
        sample.address = Some(ip);
        let url = format!("http://{}/default", SocketAddr::new(ip, cfg.port));
        match http
            .get(&url)
            .header(reqwest::header::HOST, &cfg.name)
            .send()
            .await
        {
            Ok(r) => {
                sample.status = Some(r.status().as_u16());
                match r.json::<serde_json::Value>().await {
                    Ok(body) => {
                        sample.region = body
                            .get("region")
                            .and_then(|v| v.as_str())
                            .map(str::to_string);
                    }
                    Err(e) => sample.error = Some(format!("body: {e}")),
                }
            }
            Err(e) if e.is_timeout() => sample.error = Some("timeout".into()),
            Err(e) => sample.error = Some(format!("request: {}", root_cause(&e))),
        }
    } else if sample.error.is_none() {
        sample.error = Some("dns: no address".into());
    }
    sample.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    sample
}

/// The innermost error's message (`Connection refused (os error 111)`), not the wrapper's.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
