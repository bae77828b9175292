//! Where the bearer token comes from: `AZURE_ACCESS_TOKEN` used as-is, or a credential chain
//! (workload identity → client secret → managed identity → Azure CLI). Rust's azure_identity
//! has no `DefaultAzureCredential`, so the chain is built here. Tokens never reach Debug,
//! Display or logs.

use super::api_versions::ARM_SCOPE;
use super::error::InfraError;
use azure_core::credentials::{Secret, TokenCredential};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// A source of ARM bearer tokens.
#[derive(Clone)]
pub enum TokenSource {
    /// A token given verbatim (`AZURE_ACCESS_TOKEN`), for CI and tests.
    Static(Arc<Secret>),
    /// The credential chain, with a cached token refreshed 5 minutes before it expires.
    Chain(Arc<Chain>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static(_) => f.write_str("TokenSource::Static(<redacted>)"),
            Self::Chain(c) => write!(f, "TokenSource::Chain({:?})", c.names()),
        }
    }
}

/// An ordered list of credentials; the first one that returns a token wins and is kept.
pub struct Chain {
    candidates: Vec<(&'static str, Arc<dyn TokenCredential>)>,
    /// Why credentials could not even be constructed (missing environment), for the error.
    skipped: Vec<String>,
    managed_identity_timeout: Duration,
    cache: Mutex<Option<(usize, Secret, i64)>>,
}

impl Chain {
    fn names(&self) -> Vec<&'static str> {
        self.candidates.iter().map(|(n, _)| *n).collect()
    }
}

impl TokenSource {
    /// `AZURE_ACCESS_TOKEN` if set (and not empty), else the credential chain.
    pub fn from_env() -> Result<Self, InfraError> {
        // Checked even when a token is given: a bad value is an error, never ignored.
        let managed_identity_timeout = match env("INFRA_MANAGED_IDENTITY_TIMEOUT_SECS") {
            Some(v) => {
                super::client::parse_seconds("INFRA_MANAGED_IDENTITY_TIMEOUT_SECS", &v, 300)?
            }
            None => Duration::from_secs(5),
        };
        if let Ok(t) = std::env::var("AZURE_ACCESS_TOKEN") {
            let t = t.trim().to_string();
            if t.is_empty() {
                return Err(InfraError::Auth(
                    "AZURE_ACCESS_TOKEN is set but empty\n  help: unset it to use a credential (workload identity, service principal, managed identity, `az login`), or give a token".into(),
                ));
            }
            return Ok(Self::Static(Arc::new(Secret::new(t))));
        }
        Ok(Self::Chain(Arc::new(build_chain(managed_identity_timeout))))
    }

    /// A fixed token (tests, CI).
    pub fn fixed(token: impl Into<String>) -> Self {
        Self::Static(Arc::new(Secret::new(token.into())))
    }

    /// A bearer token for ARM.
    pub async fn token(&self) -> Result<Secret, InfraError> {
        match self {
            Self::Static(s) => Ok((**s).clone()),
            Self::Chain(chain) => chain.token().await,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn build_chain(managed_identity_timeout: Duration) -> Chain {
    let mut candidates: Vec<(&'static str, Arc<dyn TokenCredential>)> = Vec::new();
    let mut skipped = Vec::new();
    // 1. Workload identity (AKS pods, GitHub OIDC via a federated token file).
    if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        match azure_identity::WorkloadIdentityCredential::new(None) {
            Ok(c) => candidates.push(("workload identity", c)),
            Err(e) => skipped.push(format!("workload identity: {e}")),
        }
    } else {
        skipped.push("workload identity: AZURE_FEDERATED_TOKEN_FILE is not set".into());
    }
    // 2. Service principal with a client secret.
    match (env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET")) {
        (Some(tenant), Some(client), Some(secret)) => {
            match azure_identity::ClientSecretCredential::new(&tenant, client, Secret::new(secret), None) {
                Ok(c) => candidates.push(("client secret", c)),
                Err(e) => skipped.push(format!("client secret: {e}")),
            }
        }
        _ => skipped.push("client secret: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not all set".into()),
    }
    // 3. Managed identity (IMDS / App Service); bounded by a short timeout off Azure.
    if env("INFRA_DISABLE_MANAGED_IDENTITY").is_none() {
        let options =
            env("AZURE_CLIENT_ID").map(|id| azure_identity::ManagedIdentityCredentialOptions {
                user_assigned_id: Some(azure_identity::UserAssignedId::ClientId(id)),
                ..Default::default()
            });
        match azure_identity::ManagedIdentityCredential::new(options) {
            Ok(c) => candidates.push(("managed identity", c)),
            Err(e) => skipped.push(format!("managed identity: {e}")),
        }
    } else {
        skipped.push("managed identity: disabled by INFRA_DISABLE_MANAGED_IDENTITY".into());
    }
    // 4. Azure CLI (`az login`).
    match azure_identity::AzureCliCredential::new(None) {
        Ok(c) => candidates.push(("Azure CLI", c)),
        Err(e) => skipped.push(format!("Azure CLI: {e}")),
    }
    Chain {
        candidates,
        skipped,
        managed_identity_timeout,
        cache: Mutex::new(None),
    }
}

impl Chain {
    async fn token(&self) -> Result<Secret, InfraError> {
        let now = azure_core::time::OffsetDateTime::now_utc().unix_timestamp();
        let mut cache = self.cache.lock().await;
        if let Some((_, token, expires)) = cache.as_ref()
            && *expires - 300 > now
        {
            return Ok(token.clone());
        }
        // Try the one that worked last time first.
        let start = cache.as_ref().map(|(i, _, _)| *i).unwrap_or(0);
        let mut errors = self.skipped.clone();
        let order: Vec<usize> = (start..self.candidates.len()).chain(0..start).collect();
        for i in order {
            let (name, cred) = &self.candidates[i];
            let attempt = cred.get_token(&[ARM_SCOPE], None);
            let result = if *name == "managed identity" {
                match tokio::time::timeout(self.managed_identity_timeout, attempt).await {
                    Ok(r) => r,
                    Err(_) => {
                        errors.push(format!(
                            "{name}: no identity endpoint answered within {:?}",
                            self.managed_identity_timeout
                        ));
                        continue;
                    }
                }
            } else {
                attempt.await
            };
            match result {
                Ok(t) => {
                    *cache = Some((i, t.token.clone(), t.expires_on.unix_timestamp()));
                    return Ok(t.token);
                }
                // azure_core errors describe the failure, never the secret.
                Err(e) => errors.push(format!("{name}: {}", first_line(&e.to_string()))),
            }
        }
        Err(InfraError::Auth(format!(
            "no Azure credential is available:\n  - {}\n  help: run `az login`, or set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or AZURE_FEDERATED_TOKEN_FILE (workload identity), or give a bearer token in AZURE_ACCESS_TOKEN",
            errors.join("\n  - ")
        )))
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
