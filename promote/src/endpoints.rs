//! Where the gates look: each region's registry replica and its own public name, derived from
//! the catalogue (`<registry>.<region>.geo.azurecr.io`,
//! `<dnsLabel>.<region>.cloudapp.azure.com`) and overridable per region through a file, for
//! tests (127.0.0.1) and sovereign clouds (other suffixes).

use serde::Deserialize;
use std::collections::BTreeMap;

/// DNS suffixes of the cloud the catalogue's resources live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSuffixes {
    /// `azurecr.io` in the public cloud.
    pub registry: String,
    /// `cloudapp.azure.com` in the public cloud.
    pub public_ip: String,
}

impl Default for CloudSuffixes {
    fn default() -> Self {
        Self {
            registry: "azurecr.io".into(),
            public_ip: "cloudapp.azure.com".into(),
        }
    }
}

/// The two base URLs the gates use for one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionEndpoints {
    /// Registry v2 base URL of the region's replica, e.g. `https://contosoha.eastus2.geo.azurecr.io`.
    pub registry: String,
    /// Base URL of the region's own public name (not Traffic Manager).
    pub public: String,
}

/// The endpoints the catalogue implies.
pub fn derived(
    registry: &str,
    region: &str,
    dns_label: &str,
    suffixes: &CloudSuffixes,
) -> RegionEndpoints {
    RegionEndpoints {
        registry: format!("https://{registry}.{region}.geo.{}", suffixes.registry),
        public: format!("http://{dns_label}.{region}.{}", suffixes.public_ip),
    }
}

/// The global registry endpoint: the weaker fallback when a registry has no regional ones.
pub fn global_registry(registry: &str, suffixes: &CloudSuffixes) -> String {
    format!("https://{registry}.{}", suffixes.registry)
}

/// An overrides file: `regions: { <region>: { registry: <url>, public: <url> } }`, either key
/// optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    pub regions: BTreeMap<String, RegionOverride>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionOverride {
    pub registry: Option<String>,
    pub public: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error(
        "{file}: {message}\n  help: the file is `regions: {{ <region>: {{ registry: <url>, public: <url> }} }}`"
    )]
    Syntax { file: String, message: String },
    #[error("{file}: region `{region}` is not in the catalogue\n  help: use one of: {known}")]
    UnknownRegion {
        file: String,
        region: String,
        known: String,
    },
    #[error(
        "{file}: regions.{region}.{key}: `{url}` is not an https URL (http only on 127.0.0.0/8 or localhost)\n  help: write https://<host>[:port]"
    )]
    Url {
        file: String,
        region: String,
        key: &'static str,
        url: String,
    },
}

/// Parses an overrides file and checks every region exists and every URL is https (or
/// loopback http).
pub fn parse_overrides(
    file: &str,
    text: &str,
    known_regions: &[&str],
) -> Result<Overrides, OverrideError> {
    let o: Overrides = serde_saphyr::from_str(text).map_err(|e| OverrideError::Syntax {
        file: file.into(),
        message: e.to_string(),
    })?;
    for (region, r) in &o.regions {
        if !known_regions.contains(&region.as_str()) {
            return Err(OverrideError::UnknownRegion {
                file: file.into(),
                region: region.clone(),
                known: known_regions.join(", "),
            });
        }
        for (key, url) in [("registry", &r.registry), ("public", &r.public)] {
            if let Some(url) = url
                && !acceptable_url(url)
            {
                return Err(OverrideError::Url {
                    file: file.into(),
                    region: region.clone(),
                    key,
                    url: url.clone(),
                });
            }
        }
    }
    Ok(o)
}

impl Overrides {
    /// `derived` with this file's overrides for `region` applied.
    pub fn apply(&self, region: &str, derived: RegionEndpoints) -> RegionEndpoints {
        let Some(o) = self.regions.get(region) else {
            return derived;
        };
        RegionEndpoints {
            registry: o.registry.clone().unwrap_or(derived.registry),
            public: o.public.clone().unwrap_or(derived.public),
        }
    }
}

/// https anywhere; http only to loopback (tests), never credentials in the URL.
pub fn acceptable_url(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    if !u.username().is_empty() || u.password().is_some() || u.host_str().is_none() {
        return false;
    }
    match u.scheme() {
        "https" => true,
        "http" => {
            let host = u.host_str().unwrap_or_default();
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_derive_from_the_catalogue() {
        let e = derived(
            "contosoha",
            "eastus2",
            "contoso-ha-eastus2",
            &CloudSuffixes::default(),
        );
        assert_eq!(e.registry, "https://contosoha.eastus2.geo.azurecr.io");
        assert_eq!(
            e.public,
            "http://contoso-ha-eastus2.eastus2.cloudapp.azure.com"
        );
    }

    #[test]
    fn overrides_replace_per_region_and_refuse_bad_input() {
        let text = "regions:\n  eastus2:\n    public: http://127.0.0.1:18080\n";
        let o = parse_overrides("ep.yaml", text, &["eastus2", "centralus"]).unwrap();
        let d = derived("r", "eastus2", "l", &CloudSuffixes::default());
        let e = o.apply("eastus2", d.clone());
        assert_eq!(e.public, "http://127.0.0.1:18080");
        assert_eq!(e.registry, d.registry);
        let err = parse_overrides("ep.yaml", "regions:\n  mars: {}\n", &["eastus2"]).unwrap_err();
        assert!(
            err.to_string().contains("`mars` is not in the catalogue"),
            "{err}"
        );
        for bad in [
            "http://10.0.0.1:80",
            "ftp://127.0.0.1",
            "https://u:p@example.com",
            "nonsense",
        ] {
            let text = format!("regions:\n  eastus2:\n    registry: \"{bad}\"\n");
            let err = parse_overrides("ep.yaml", &text, &["eastus2"]).unwrap_err();
            assert!(matches!(err, OverrideError::Url { .. }), "{bad}: {err}");
        }
        let err = parse_overrides(
            "ep.yaml",
            "regions:\n  eastus2:\n    regsitry: x\n",
            &["eastus2"],
        )
        .unwrap_err();
        assert!(matches!(err, OverrideError::Syntax { .. }), "{err}");
    }
}
