//! Gate 1: the candidate's manifest exists in a region's registry replica.
//!
//! `HEAD /v2/<repo>/manifests/<tag-or-digest>` on the region's endpoint. A registry that asks
//! for a token (`401` with `Www-Authenticate: Bearer realm=…,service=…,scope=…`, as ACR does)
//! gets ACR's exchange: the Entra access token for an ACR refresh token
//! (`POST /oauth2/exchange`), that for an access token with the challenge's scope
//! (`POST <realm>`), then the `HEAD` again with it.

use crate::{Gate, GateFailure, Progress};
use reqwest::{Client, StatusCode, header};
use std::time::{Duration, Instant};

/// Every manifest media type a release may have been pushed as (index or single image).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The registry has it; the digest it reported, if any.
    Present {
        digest: Option<String>,
    },
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "{url} asks for a token and no Entra token was given (set AZURE_ACCESS_TOKEN or sign in)"
    )]
    NeedsToken { url: String },
    #[error("{url}: the token exchange failed: {reason}")]
    Exchange { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
}

#[derive(Debug, Clone)]
pub struct RegistryGate {
    http: Client,
    /// An Entra access token accepted by the registry's `/oauth2/exchange`.
    entra_token: Option<String>,
}

impl RegistryGate {
    pub fn new(entra_token: Option<String>) -> Self {
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            // A redirect could send the bearer token to another origin: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, entra_token }
    }

    /// Whether `base` (a registry v2 base URL) has `repo` at `reference`.
    pub async fn check(
        &self,
        base: &str,
        repo: &str,
        reference: &str,
    ) -> Result<Presence, RegistryError> {
        let url = format!(
            "{}/v2/{repo}/manifests/{reference}",
            base.trim_end_matches('/')
        );
        let first = self.head(&url, None).await?;
        let response = if first.status() == StatusCode::UNAUTHORIZED {
            let challenge = first
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let token = self.token_for(&url, &challenge).await?;
            self.head(&url, Some(&token)).await?
        } else {
            first
        };
        match response.status() {
            StatusCode::OK => Ok(Presence::Present {
                digest: response
                    .headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            }),
            StatusCode::NOT_FOUND => Ok(Presence::Absent),
            s => Err(RegistryError::Status {
                url,
                status: s.as_u16(),
            }),
        }
    }

    async fn head(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut req = self.http.head(url).header(header::ACCEPT, MANIFEST_ACCEPT);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.map_err(|e| RegistryError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }

    /// ACR's exchange: Entra token -> refresh token -> access token for the challenge's scope.
    async fn token_for(&self, url: &str, challenge: &str) -> Result<String, RegistryError> {
        let Some(entra) = &self.entra_token else {
            return Err(RegistryError::NeedsToken { url: url.into() });
        };
        let params = parse_challenge(challenge);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let (Some(realm), Some(service)) = (get("realm"), get("service")) else {
            return Err(RegistryError::Exchange {
                url: url.into(),
                reason: format!("no Bearer realm and service in the challenge `{challenge}`"),
            });
        };
        let realm_url = reqwest::Url::parse(realm).map_err(|e| RegistryError::Exchange {
            url: url.into(),
            reason: format!("realm `{realm}`: {e}"),
        })?;
        // The token goes only to the registry that challenged us, never to another origin.
        let origin = reqwest::Url::parse(url).ok();
        if origin
            .as_ref()
            .map(|o| (o.scheme(), o.host_str(), o.port_or_known_default()))
            != Some((
                realm_url.scheme(),
                realm_url.host_str(),
                realm_url.port_or_known_default(),
            ))
        {
            return Err(RegistryError::Exchange {
                url: url.into(),
                reason: format!("the realm `{realm}` is not the registry's own origin"),
            });
        }
        let mut exchange = realm_url.clone();
        exchange.set_path("/oauth2/exchange");
        let refresh = self
            .form(
                exchange.as_str(),
                &[
                    ("grant_type", "access_token"),
                    ("service", service),
                    ("access_token", entra),
                ],
                "refresh_token",
            )
            .await
            .map_err(|reason| RegistryError::Exchange {
                url: url.into(),
                reason,
            })?;
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("service", service),
            ("refresh_token", refresh.as_str()),
        ];
        if let Some(scope) = get("scope") {
            form.push(("scope", scope));
        }
        self.form(realm, &form, "access_token")
            .await
            .map_err(|reason| RegistryError::Exchange {
                url: url.into(),
                reason,
            })
    }

    /// POSTs a form and returns the JSON string field `field` of a 200 answer.
    async fn form(
        &self,
        url: &str,
        fields: &[(&str, &str)],
        field: &str,
    ) -> Result<String, String> {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = r.status();
        // Never echo the body: it may carry a token.
        if !status.is_success() {
            return Err(format!("POST {url}: HTTP {}", status.as_u16()));
        }
        let v: serde_json::Value = r
            .json()
            .await
            .map_err(|_| format!("POST {url}: the answer is not JSON"))?;
        v[field]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("POST {url}: no `{field}` in the answer"))
    }

    /// Waits until every `(region, base)` has the manifest, polling every `poll`, at most
    /// `timeout`; one progress line per check that is still waiting.
    pub async fn wait(
        &self,
        regions: &[(String, String)],
        repo: &str,
        reference: &str,
        timeout: Duration,
        poll: Duration,
        progress: Progress<'_>,
    ) -> Result<(), GateFailure> {
        let start = Instant::now();
        let mut waiting: Vec<&(String, String)> = regions.iter().collect();
        loop {
            let mut still = Vec::new();
            let mut observed = Vec::new();
            for entry in &waiting {
                let (region, base) = entry;
                let seen = match self.check(base, repo, reference).await {
                    Ok(Presence::Present { .. }) => {
                        progress(&format!(
                            "{region}: manifest {repo}:{reference} present in {base}"
                        ));
                        continue;
                    }
                    Ok(Presence::Absent) => "absent (HTTP 404)".to_string(),
                    Err(e) => e.to_string(),
                };
                let left = timeout.saturating_sub(start.elapsed());
                progress(&format!(
                    "{region}: waiting for manifest {repo}:{reference} in {base}: {seen}; {}s left",
                    left.as_secs()
                ));
                still.push(*entry);
                observed.push(seen);
            }
            if still.is_empty() {
                return Ok(());
            }
            waiting = still;
            if start.elapsed() + poll > timeout {
                let (region, base) = waiting[0];
                return Err(GateFailure {
                    region: region.clone(),
                    gate: Gate::Manifest,
                    expected: format!("manifest {repo}:{reference} in {base}"),
                    observed: observed.swap_remove(0),
                    elapsed: start.elapsed(),
                });
            }
            tokio::time::sleep(poll).await;
        }
    }
}

/// `Bearer realm="…",service="…",scope="…"` -> [(realm, …), (service, …), (scope, …)].
fn parse_challenge(h: &str) -> Vec<(String, String)> {
    let Some(rest) = h
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| h.trim().strip_prefix("bearer "))
    else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut s = rest;
    while let Some(eq) = s.find('=') {
        let key = s[..eq].trim().trim_start_matches(',').trim().to_string();
        let after = &s[eq + 1..];
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].to_string(), &after[end..]),
                None => (after.to_string(), ""),
            }
        };
        out.push((key, value));
        s = tail.trim_start_matches(',');
    }
    out
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_commas_inside_quotes() {
        let p = parse_challenge(
            r#"Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io",scope="repository:hello:pull,push""#,
        );
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://r.azurecr.io/oauth2/token".into()),
                ("service".into(), "r.azurecr.io".into()),
                ("scope".into(), "repository:hello:pull,push".into()),
            ]
        );
        assert!(parse_challenge("Basic realm=x").is_empty());
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(form_encode("a b&c=d"), "a%20b%26c%3Dd");
    }
}
