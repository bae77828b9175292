//! The stand-in's probing rules, one failing case each, against real HTTP servers on
//! loopback whose answers the test switches (status, hang, closed port), and its DNS answers
//! through a real resolver (hickory-resolver, and `dig`).

use catalogue::MonitorProtocol;
use drill::dns::DnsServer;
use drill::standin::{EndpointSpec, Handle, MonitorStatus, ProbeSpec, TrafficManager};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the fake endpoint does with the next request.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Status(u16),
    /// Reads the request, then sends nothing for this long.
    Delay(Duration, u16),
}

struct Fake {
    addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    hosts: Arc<Mutex<Vec<String>>>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    async fn start(ip: IpAddr, port: u16, b: Behaviour) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let behaviour = Arc::new(Mutex::new(b));
        let hosts = Arc::new(Mutex::new(vec![]));
        let paths = Arc::new(Mutex::new(vec![]));
        let (bh, hh, ph) = (behaviour.clone(), hosts.clone(), paths.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (bh, hh, ph) = (bh.clone(), hh.clone(), ph.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    if let Some(p) = req.split_whitespace().nth(1) {
                        ph.lock().unwrap().push(p.to_string());
                    }
                    if let Some(h) = req.lines().find_map(|l| {
                        l.strip_prefix("host: ")
                            .or_else(|| l.strip_prefix("Host: "))
                    }) {
                        hh.lock().unwrap().push(h.trim().to_string());
                    }
                    let b = *bh.lock().unwrap();
                    let code = match b {
                        Behaviour::Status(c) => c,
                        Behaviour::Delay(d, c) => {
                            tokio::time::sleep(d).await;
                            c
                        }
                    };
                    let resp = format!(
                        "HTTP/1.1 {code} X\r\ncontent-length: 2\r\nlocation: /elsewhere\r\nconnection: close\r\n\r\n{{}}"
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        Self {
            addr,
            behaviour,
            hosts,
            paths,
        }
    }

    fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }
}

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A fresh `127.x.y.z` per endpoint, so tests never share addresses.
fn fresh_ip() -> IpAddr {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    IpAddr::V4(Ipv4Addr::new(
        127,
        100 + (pid % 100) as u8,
        ((pid >> 7) % 250) as u8,
        (n % 250) as u8 + 1,
    ))
}

fn probe(port: u16, tolerated: u32) -> ProbeSpec {
    ProbeSpec {
        protocol: MonitorProtocol::Http,
        port,
        path: "/readyz".into(),
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(60),
        tolerated_failures: tolerated,
        expected_status: vec![(200, 299)],
    }
}

fn endpoint(name: &str, ip: IpAddr, priority: u32, enabled: bool) -> EndpointSpec {
    EndpointSpec {
        name: name.into(),
        target: format!("app-{name}.{name}.cloudapp.azure.com"),
        address: ip,
        priority,
        enabled,
    }
}

async fn until(h: &Handle, name: &str, status: MonitorStatus) {
    assert!(
        h.wait_for(name, status, Duration::from_secs(10)).await,
        "{name} never became {status:?}: {:?}",
        h.events()
    );
}

#[tokio::test]
async fn degraded_only_after_more_than_tolerated_failures_and_online_after_one_success() {
    let fake = Fake::start(fresh_ip(), 0, Behaviour::Status(200)).await;
    let tm = TrafficManager::start(
        vec![endpoint("a", fake.addr.ip(), 1, true)],
        probe(fake.addr.port(), 3),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "a", MonitorStatus::Online).await;
    fake.set(Behaviour::Status(503));
    until(&h, "a", MonitorStatus::Degraded).await;
    let events = h.events();
    let degraded = events
        .iter()
        .find(|e| e.to == MonitorStatus::Degraded)
        .unwrap();
    let online = events
        .iter()
        .find(|e| e.to == MonitorStatus::Online)
        .unwrap();
    // toleratedFailures 3: still Online after the 3rd failure, Degraded at the 4th.
    assert_eq!(degraded.failures, 4, "{events:?}");
    assert_eq!(degraded.probe, "status 503");
    assert!(degraded.probe_number >= online.probe_number + 4);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.to == MonitorStatus::Degraded)
            .count(),
        1
    );
    fake.set(Behaviour::Status(200));
    let before = h.probes_sent("a");
    until(&h, "a", MonitorStatus::Online).await;
    let back = h
        .events()
        .into_iter()
        .rev()
        .find(|e| e.to == MonitorStatus::Online)
        .unwrap();
    // One successful probe brings it back (the probe in flight at the switch may be it).
    assert!(
        back.probe_number <= before + 1,
        "{back:?} after {before} probes"
    );
    assert_eq!(back.failures, 0);
    // Host is the endpoint's DNS name, the path the readiness path.
    assert!(
        fake.hosts
            .lock()
            .unwrap()
            .iter()
            .all(|h| h == "app-a.a.cloudapp.azure.com")
    );
    assert!(fake.paths.lock().unwrap().iter().all(|p| p == "/readyz"));
}

#[tokio::test]
async fn zero_tolerated_failures_degrades_on_the_first_failure() {
    let fake = Fake::start(fresh_ip(), 0, Behaviour::Status(200)).await;
    let tm = TrafficManager::start(
        vec![endpoint("a", fake.addr.ip(), 1, true)],
        probe(fake.addr.port(), 0),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "a", MonitorStatus::Online).await;
    fake.set(Behaviour::Status(500));
    until(&h, "a", MonitorStatus::Degraded).await;
    let d = h
        .events()
        .into_iter()
        .find(|e| e.to == MonitorStatus::Degraded)
        .unwrap();
    assert_eq!(d.failures, 1);
}

#[tokio::test]
async fn a_probe_slower_than_the_timeout_fails_and_a_slow_one_within_it_passes() {
    let fake = Fake::start(
        fresh_ip(),
        0,
        Behaviour::Delay(Duration::from_millis(20), 200),
    )
    .await;
    let tm = TrafficManager::start(
        vec![endpoint("a", fake.addr.ip(), 1, true)],
        probe(fake.addr.port(), 1),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "a", MonitorStatus::Online).await; // 20 ms < 60 ms timeout
    fake.set(Behaviour::Delay(Duration::from_millis(90), 200)); // 200, but too late
    until(&h, "a", MonitorStatus::Degraded).await;
    let d = h
        .events()
        .into_iter()
        .find(|e| e.to == MonitorStatus::Degraded)
        .unwrap();
    assert_eq!(d.probe, "timeout");
}

#[tokio::test]
async fn a_closed_port_fails_the_probe() {
    let ip = fresh_ip();
    let port = {
        let l = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).unwrap();
        l.local_addr().unwrap().port()
    };
    let tm = TrafficManager::start(
        vec![endpoint("a", ip, 1, true)],
        probe(port, 0),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "a", MonitorStatus::Degraded).await;
    let d = h
        .events()
        .into_iter()
        .find(|e| e.to == MonitorStatus::Degraded)
        .unwrap();
    assert!(d.probe.starts_with("request"), "{d:?}");
}

async fn status_after(code: u16, ranges: Vec<(u16, u16)>) -> (MonitorStatus, String) {
    let fake = Fake::start(fresh_ip(), 0, Behaviour::Status(code)).await;
    let mut p = probe(fake.addr.port(), 0);
    p.expected_status = ranges;
    let tm = TrafficManager::start(
        vec![endpoint("a", fake.addr.ip(), 1, true)],
        p,
        Instant::now(),
    );
    let h = tm.handle();
    let until = Instant::now() + Duration::from_secs(10);
    while h.status("a") == Some(MonitorStatus::CheckingEndpoint) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let why = h
        .events()
        .last()
        .map(|e| e.probe.clone())
        .unwrap_or_default();
    (h.status("a").unwrap(), why)
}

#[tokio::test]
async fn only_statuses_in_the_expected_ranges_pass_and_redirects_fail() {
    let ok = vec![(200, 299)];
    assert_eq!(status_after(204, ok.clone()).await.0, MonitorStatus::Online);
    assert_eq!(status_after(299, ok.clone()).await.0, MonitorStatus::Online);
    let (s, why) = status_after(301, ok.clone()).await;
    assert_eq!((s, why.as_str()), (MonitorStatus::Degraded, "status 301"));
    assert_eq!(
        status_after(302, ok.clone()).await.0,
        MonitorStatus::Degraded
    );
    assert_eq!(
        status_after(404, ok.clone()).await.0,
        MonitorStatus::Degraded
    );
    assert_eq!(status_after(503, ok).await.0, MonitorStatus::Degraded);
    // Traffic Manager's own default is 200 only: 204 is then a failure.
    let only200 = vec![(200, 200), (418, 418)];
    assert_eq!(
        status_after(204, only200.clone()).await.0,
        MonitorStatus::Degraded
    );
    assert_eq!(status_after(418, only200).await.0, MonitorStatus::Online);
}

#[tokio::test]
async fn priority_routing_picks_the_best_online_endpoint() {
    let a = Fake::start(fresh_ip(), 0, Behaviour::Status(200)).await;
    // Each on its own address, one port for all, as the regions are (listed out of order).
    let b = Fake::start(fresh_ip(), a.addr.port(), Behaviour::Status(200)).await;
    let tm = TrafficManager::start(
        vec![
            endpoint("second", b.addr.ip(), 2, true),
            endpoint("first", a.addr.ip(), 1, true),
        ],
        probe(a.addr.port(), 0),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "first", MonitorStatus::Online).await;
    until(&h, "second", MonitorStatus::Online).await;
    assert_eq!(h.answer().unwrap().name, "first");
    a.set(Behaviour::Status(503));
    until(&h, "first", MonitorStatus::Degraded).await;
    assert_eq!(h.answer().unwrap().name, "second");
    assert_eq!(h.eligible().len(), 1);
    // Online again after one success: priority 1 wins again.
    a.set(Behaviour::Status(200));
    until(&h, "first", MonitorStatus::Online).await;
    assert_eq!(h.answer().unwrap().name, "first");
}

#[tokio::test]
async fn when_every_endpoint_is_degraded_all_are_returned() {
    let a = Fake::start(fresh_ip(), 0, Behaviour::Status(503)).await;
    let b = Fake::start(fresh_ip(), a.addr.port(), Behaviour::Status(503)).await;
    let tm = TrafficManager::start(
        vec![
            endpoint("first", a.addr.ip(), 1, true),
            endpoint("second", b.addr.ip(), 2, true),
        ],
        probe(a.addr.port(), 0),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "first", MonitorStatus::Degraded).await;
    until(&h, "second", MonitorStatus::Degraded).await;
    let names: Vec<String> = h.eligible().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["first", "second"]);
    assert_eq!(
        h.answer().unwrap().name,
        "first",
        "priority order among them"
    );
    // One coming back wins, though its priority is lower.
    b.set(Behaviour::Status(200));
    until(&h, "second", MonitorStatus::Online).await;
    assert_eq!(h.answer().unwrap().name, "second");
}

#[tokio::test]
async fn disabled_endpoints_are_never_probed_nor_returned() {
    let a = Fake::start(fresh_ip(), 0, Behaviour::Status(200)).await;
    let b = Fake::start(fresh_ip(), a.addr.port(), Behaviour::Status(503)).await;
    let tm = TrafficManager::start(
        vec![
            endpoint("first", a.addr.ip(), 1, false),
            endpoint("second", b.addr.ip(), 2, true),
        ],
        probe(a.addr.port(), 0),
        Instant::now(),
    );
    let h = tm.handle();
    until(&h, "second", MonitorStatus::Degraded).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The only healthy endpoint is disabled: it is not returned even though the other is
    // Degraded, and it is never probed.
    assert_eq!(h.status("first"), Some(MonitorStatus::Disabled));
    assert_eq!(h.probes_sent("first"), 0);
    assert!(a.paths.lock().unwrap().is_empty());
    assert_eq!(
        h.eligible().into_iter().map(|e| e.name).collect::<Vec<_>>(),
        ["second"]
    );
    // Enabling starts the checks again; disabling everything leaves no answer.
    h.set_enabled("first", true);
    assert_eq!(h.status("first"), Some(MonitorStatus::CheckingEndpoint));
    until(&h, "first", MonitorStatus::Online).await;
    assert_eq!(h.answer().unwrap().name, "first");
    h.set_enabled("first", false);
    h.set_enabled("second", false);
    assert!(h.answer().is_none());
}

// ---- DNS ---------------------------------------------------------------------------------

async fn dns_fixture(ttl: u32) -> (Fake, Fake, TrafficManager, DnsServer) {
    let a = Fake::start(fresh_ip(), 0, Behaviour::Status(200)).await;
    let b = Fake::start(fresh_ip(), a.addr.port(), Behaviour::Status(200)).await;
    let tm = TrafficManager::start(
        vec![
            endpoint("eastus2", a.addr.ip(), 1, true),
            endpoint("centralus", b.addr.ip(), 2, true),
        ],
        probe(a.addr.port(), 0),
        Instant::now(),
    );
    let dns = DnsServer::start(
        tm.handle(),
        "contoso-ha",
        ttl,
        SocketAddr::new(fresh_ip(), 0),
    )
    .await
    .expect("dns");
    (a, b, tm, dns)
}

#[tokio::test]
async fn dns_answers_a_cname_to_the_region_and_its_address_with_the_ttl() {
    use hickory_proto::rr::{RData, RecordType};
    let (a, _b, tm, dns) = dns_fixture(7).await;
    until(&tm.handle(), "eastus2", MonitorStatus::Online).await;
    let r = drill::client::resolver(Some(dns.addr), Duration::from_secs(2)).unwrap();
    let lookup = r
        .lookup_ip("contoso-ha.trafficmanager.net")
        .await
        .expect("resolves");
    assert_eq!(lookup.iter().collect::<Vec<_>>(), vec![a.addr.ip()]);
    let records = lookup.as_lookup().records();
    let cname = records
        .iter()
        .find(|r| r.record_type() == RecordType::CNAME)
        .expect("a CNAME");
    assert_eq!(cname.name().to_ascii(), "contoso-ha.trafficmanager.net.");
    match cname.data() {
        RData::CNAME(t) => assert_eq!(t.0.to_ascii(), "app-eastus2.eastus2.cloudapp.azure.com."),
        other => panic!("{other:?}"),
    }
    assert!(
        records.iter().all(|r| r.ttl() <= 7 && r.ttl() >= 6),
        "{records:?}"
    );
    // The region's own name, case-insensitively.
    let direct = r
        .lookup_ip("APP-centralus.centralus.cloudapp.azure.com.")
        .await
        .unwrap();
    assert_eq!(direct.iter().count(), 1);
    // Other names under trafficmanager.net do not exist; others are refused.
    let nx = r.lookup_ip("nope.trafficmanager.net.").await.unwrap_err();
    assert!(nx.is_no_records_found(), "{nx}");
    assert!(r.lookup_ip("example.org.").await.is_err());
}

#[tokio::test]
async fn the_resolver_keeps_an_answer_for_its_ttl_then_follows_the_failover() {
    let (a, b, tm, dns) = dns_fixture(1).await;
    let h = tm.handle();
    until(&h, "eastus2", MonitorStatus::Online).await;
    until(&h, "centralus", MonitorStatus::Online).await;
    let r = drill::client::resolver(Some(dns.addr), Duration::from_secs(2)).unwrap();
    let first = r.lookup_ip("contoso-ha.trafficmanager.net").await.unwrap();
    assert_eq!(first.iter().next(), Some(a.addr.ip()));
    let asked = Instant::now();
    a.set(Behaviour::Status(503));
    until(&h, "eastus2", MonitorStatus::Degraded).await;
    if asked.elapsed() < Duration::from_millis(900) {
        // Still cached: the answer has not expired yet.
        let cached = r.lookup_ip("contoso-ha.trafficmanager.net").await.unwrap();
        assert_eq!(
            cached.iter().next(),
            Some(a.addr.ip()),
            "served from the cache"
        );
    }
    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(asked.elapsed())).await;
    let after = r.lookup_ip("contoso-ha.trafficmanager.net").await.unwrap();
    assert_eq!(
        after.iter().next(),
        Some(b.addr.ip()),
        "asked again after the TTL"
    );
}

#[tokio::test]
async fn dig_sees_the_cname_chain_and_the_ttl() {
    let (a, _b, tm, dns) = dns_fixture(30).await;
    until(&tm.handle(), "eastus2", MonitorStatus::Online).await;
    let out = tokio::process::Command::new("dig")
        .args([
            &format!("@{}", dns.addr.ip()),
            "-p",
            &dns.addr.port().to_string(),
            "+noall",
            "+answer",
            "+tries=1",
            "+time=2",
            "contoso-ha.trafficmanager.net",
            "A",
        ])
        .output()
        .await
        .expect("dig is installed (scripts/install-tools.sh installs dnsutils)");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        lines[0],
        [
            "contoso-ha.trafficmanager.net.",
            "30",
            "IN",
            "CNAME",
            "app-eastus2.eastus2.cloudapp.azure.com."
        ]
    );
    let ip = a.addr.ip().to_string();
    assert_eq!(
        lines[1],
        [
            "app-eastus2.eastus2.cloudapp.azure.com.",
            "30",
            "IN",
            "A",
            ip.as_str()
        ]
    );
    // Authoritative answer.
    let flags = tokio::process::Command::new("dig")
        .args([
            &format!("@{}", dns.addr.ip()),
            "-p",
            &dns.addr.port().to_string(),
            "+tries=1",
            "contoso-ha.trafficmanager.net",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&flags.stdout).contains(" aa"),
        "authoritative flag"
    );
}
