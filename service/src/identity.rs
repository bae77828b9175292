//! Who this instance is: the body of `GET /default`, computed once at start.

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use serde::Serialize;

use crate::config::Config;

/// The instance identity served by `GET /default`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Pod (host) name.
    pub hostname: String,
    /// Pod IP (`POD_IP`), else the first non-loopback address of the host.
    pub ip: IpAddr,
    /// Azure region (`REGION`).
    pub region: String,
    /// Availability zone (`ZONE`).
    pub zone: String,
    /// Version of this binary.
    pub version: &'static str,
    /// The image reference the pod runs (`IMAGE`), `null` when unset.
    pub image: Option<String>,
}

impl Identity {
    /// Resolve the identity from the configuration and, where it is silent, the host.
    pub fn resolve(config: &Config) -> Self {
        Self {
            hostname: config.hostname.clone().unwrap_or_else(system_hostname),
            ip: config.pod_ip.unwrap_or_else(first_non_loopback_ip),
            region: config.region.clone(),
            zone: config.zone.clone(),
            version: crate::VERSION,
            image: config.image.clone(),
        }
    }

    /// The JSON body, serialized once.
    pub fn to_body(&self) -> Bytes {
        // Serializing a struct of strings and an IP address cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// The kernel's host name (the pod name on Kubernetes), `unknown` when unreadable.
pub fn system_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            let s = std::fs::read_to_string(p).ok()?;
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The first non-loopback IPv4 address of the host, else the first global-looking IPv6
/// address, else 127.0.0.1.
pub fn first_non_loopback_ip() -> IpAddr {
    let addrs: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|ifs| {
            ifs.into_iter()
                .filter(|i| !i.is_loopback())
                .map(|i| i.ip())
                .collect()
        })
        .unwrap_or_default();
    pick_address(&addrs)
}

fn pick_address(addrs: &[IpAddr]) -> IpAddr {
    let v4 = addrs
        .iter()
        .find(|a| matches!(a, IpAddr::V4(v) if !v.is_loopback() && !v.is_unspecified()));
    let v6 = addrs.iter().find(|a| {
        matches!(a, IpAddr::V6(v) if !v.is_loopback() && !v.is_unspecified()
            && (v.segments()[0] & 0xffc0) != 0xfe80)
    });
    v4.or(v6)
        .copied()
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_ip_and_hostname_win() {
        let cfg = Config {
            pod_ip: Some("10.0.0.7".parse().expect("ip")),
            hostname: Some("pod-1".into()),
            region: "westeurope".into(),
            zone: "1".into(),
            ..Config::default()
        };
        let id = Identity::resolve(&cfg);
        let v: serde_json::Value = serde_json::from_slice(&id.to_body()).expect("json");
        assert_eq!(
            v,
            serde_json::json!({
                "hostname": "pod-1", "ip": "10.0.0.7", "region": "westeurope",
                "zone": "1", "version": crate::VERSION, "image": null
            })
        );
        let cfg = Config {
            image: Some("contosoha.azurecr.io/hello:1.2.3".into()),
            ..cfg
        };
        let v: serde_json::Value =
            serde_json::from_slice(&Identity::resolve(&cfg).to_body()).expect("json");
        assert_eq!(v["image"], "contosoha.azurecr.io/hello:1.2.3");
    }

    #[test]
    fn address_choice_prefers_ipv4_and_skips_link_local() {
        let ll: IpAddr = "fe80::1".parse().expect("ip");
        let g6: IpAddr = "2001:db8::1".parse().expect("ip");
        let v4: IpAddr = "192.168.1.5".parse().expect("ip");
        assert_eq!(pick_address(&[ll, g6, v4]), v4);
        assert_eq!(pick_address(&[ll, g6]), g6);
        assert_eq!(pick_address(&[ll]), IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(pick_address(&[]), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn detected_defaults_are_usable() {
        let id = Identity::resolve(&Config::default());
        assert!(!id.hostname.is_empty());
        assert!(!id.ip.is_unspecified());
    }
}
