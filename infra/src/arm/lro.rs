//! Create-or-update PUTs and the long-running operations behind them: `Azure-AsyncOperation`
//! first, then `Location`, then the resource's own `provisioningState`. Only `Succeeded`,
//! `Failed` and `Canceled` are terminal; every other status (`InProgress`, `Creating`,
//! `Updating`, `Accepted`, …) means "still running". Each resource kind has a deadline.

use super::client::{ArmClient, Response, SendOptions};
use super::error::{ArmError, InfraError};
use reqwest::{Method, Url};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The kinds of resource `infra` manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    ResourceGroup,
    Registry,
    Replication,
    PublicIp,
    ManagedCluster,
    RoleAssignment,
    FluxExtension,
    FluxConfiguration,
    TrafficManagerProfile,
    TrafficManagerEndpoint,
    /// The registry's `regionalEndpoints`, PATCHed alone with the preview api-version.
    RegistryRegionalEndpoints,
    MonitorWorkspace,
    DataCollectionEndpoint,
    DataCollectionRule,
    DataCollectionRuleAssociation,
    PrometheusRuleGroup,
    ActionGroup,
    MetricAlert,
}

impl ResourceKind {
    /// How long one create/update may take before the tool gives up waiting.
    pub fn deadline(self) -> Duration {
        let min = match self {
            Self::ResourceGroup | Self::TrafficManagerProfile | Self::TrafficManagerEndpoint => 5,
            Self::RoleAssignment | Self::PublicIp => 10,
            Self::DataCollectionEndpoint
            | Self::DataCollectionRule
            | Self::DataCollectionRuleAssociation
            | Self::PrometheusRuleGroup
            | Self::ActionGroup
            | Self::MetricAlert => 10,
            Self::Registry | Self::RegistryRegionalEndpoints | Self::MonitorWorkspace => 15,
            Self::Replication | Self::FluxExtension | Self::FluxConfiguration => 30,
            Self::ManagedCluster => 45,
        };
        Duration::from_secs(min * 60)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ResourceGroup => "resource group",
            Self::Registry => "container registry",
            Self::Replication => "registry replication",
            Self::PublicIp => "public IP",
            Self::ManagedCluster => "AKS cluster",
            Self::RoleAssignment => "role assignment",
            Self::FluxExtension => "Flux extension",
            Self::FluxConfiguration => "Flux configuration",
            Self::TrafficManagerProfile => "Traffic Manager profile",
            Self::TrafficManagerEndpoint => "Traffic Manager endpoint",
            Self::RegistryRegionalEndpoints => "registry regional endpoints",
            Self::MonitorWorkspace => "Azure Monitor workspace",
            Self::DataCollectionEndpoint => "data collection endpoint",
            Self::DataCollectionRule => "data collection rule",
            Self::DataCollectionRuleAssociation => "data collection rule association",
            Self::PrometheusRuleGroup => "Prometheus rule group",
            Self::ActionGroup => "action group",
            Self::MetricAlert => "metric alert",
        }
    }
}

/// Where progress lines go (stderr in the binary, a buffer in tests).
pub type ProgressFn = Arc<dyn Fn(&str) + Send + Sync>;

/// What a PUT needs besides its body.
#[derive(Clone)]
pub struct PutOptions {
    pub kind: ResourceKind,
    pub if_match: Option<String>,
    pub retry_principal_not_found: bool,
    /// Told about a long-running operation's status while it is polled.
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for PutOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutOptions")
            .field("kind", &self.kind)
            .field("if_match", &self.if_match)
            .field("retry_principal_not_found", &self.retry_principal_not_found)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl PutOptions {
    pub fn new(kind: ResourceKind) -> Self {
        Self {
            kind,
            if_match: None,
            retry_principal_not_found: false,
            progress: None,
        }
    }

    pub fn with_progress(mut self, p: ProgressFn) -> Self {
        self.progress = Some(p);
        self
    }
}

/// Consecutive failed reads of an operation's status (4xx/5xx after the client's own
/// retries) tolerated before giving up: a failed read is not a failed operation.
pub const MAX_STATUS_READ_FAILURES: u32 = 5;

/// Progress during a poll: on the first status, on every change, then every 4th poll.
struct Heartbeat<'a> {
    progress: Option<&'a ProgressFn>,
    context: &'a str,
    started: Instant,
    last: String,
}

impl<'a> Heartbeat<'a> {
    fn new(opts: &'a PutOptions, context: &'a str) -> Self {
        Self {
            progress: opts.progress.as_ref(),
            context,
            started: Instant::now(),
            last: String::new(),
        }
    }

    fn status(&mut self, status: &str, polls: u32) {
        let changed = !status.eq_ignore_ascii_case(&self.last);
        if let Some(p) = self.progress
            && (changed || polls.is_multiple_of(4))
            && !is_terminal(status)
        {
            p(&format!(
                "{}: {status} ({:.0}s)",
                self.context,
                self.started.elapsed().as_secs_f64()
            ));
        }
        self.last = status.to_string();
    }
}

/// One status-polling loop: its deadline, the wait before its next poll, and what it has seen.
struct Poll<'a> {
    deadline: Instant,
    kind: ResourceKind,
    context: &'a str,
    retry_after: Option<Duration>,
    polls: u32,
    /// Failed reads of the status in a row.
    failures: u32,
    /// The last status seen, for the deadline error.
    last: String,
    beat: Heartbeat<'a>,
}

impl<'a> Poll<'a> {
    fn new(
        first_retry_after: Option<Duration>,
        deadline: Instant,
        opts: &'a PutOptions,
        context: &'a str,
    ) -> Self {
        Self {
            deadline,
            kind: opts.kind,
            context,
            retry_after: first_retry_after,
            polls: 0,
            failures: 0,
            last: String::from("(not polled yet)"),
            beat: Heartbeat::new(opts, context),
        }
    }

    /// Records the status the latest poll read, and tells progress about it.
    fn saw(&mut self, status: &str) {
        self.last = status.to_string();
        self.beat.status(status, self.polls);
    }
}

pub fn is_terminal(status: &str) -> bool {
    ["Succeeded", "Failed", "Canceled", "Cancelled"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(status))
}

pub fn provisioning_state(body: &Value) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
}

/// The error for an operation that ended `status` (`Failed` or `Canceled`): `error` is its
/// error object, if any, and `from` the response that said so.
fn operation_failed(
    context: String,
    status: &str,
    error: Option<&Value>,
    from: &Response,
) -> InfraError {
    InfraError::OperationFailed {
        context,
        status: status.to_string(),
        error: Box::new(ArmError::from_operation(
            from.status,
            error,
            status,
            from.correlation_id(),
        )),
    }
}

/// What a resource body's `provisioningState` says: `Ok(None)` when it is done (no state, or
/// `Succeeded`), `Ok(Some(state))` while it is still running, and the operation's error (with
/// `failed_context(state)` as its context) when it ended `Failed` or `Canceled`. `from` is
/// the response that carried the body.
fn running_state<'v>(
    v: &'v Value,
    from: &Response,
    failed_context: impl FnOnce(&str) -> String,
) -> Result<Option<&'v str>, InfraError> {
    match provisioning_state(v) {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("Succeeded") => Ok(None),
        Some(s) if is_terminal(s) => Err(operation_failed(
            failed_context(s),
            s,
            v.pointer("/properties/error"),
            from,
        )),
        Some(s) => Ok(Some(s)),
    }
}

/// The outcome of a PUT that reached a terminal state.
#[derive(Debug, Clone)]
pub struct PutResult {
    /// The resource as ARM shows it after the operation (final GET, or the sync response).
    pub body: Value,
    pub status: u16,
    /// Number of operation status polls made.
    pub polls: u32,
}

impl ArmClient {
    /// PUT (create or update) and follow the operation to its end: `Azure-AsyncOperation`
    /// first, then `Location` (202), else the resource's `provisioningState`. After success
    /// the resource is read back and must say `Succeeded` (or nothing).
    pub async fn put_and_wait(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
        opts: &PutOptions,
        context: &str,
    ) -> Result<PutResult, InfraError> {
        self.write_and_wait(Method::PUT, path, api_version, body, opts, context)
            .await
    }

    /// PATCH (partial update) and follow the operation like [`Self::put_and_wait`].
    pub async fn patch_and_wait(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
        opts: &PutOptions,
        context: &str,
    ) -> Result<PutResult, InfraError> {
        self.write_and_wait(Method::PATCH, path, api_version, body, opts, context)
            .await
    }

    async fn write_and_wait(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: &Value,
        opts: &PutOptions,
        context: &str,
    ) -> Result<PutResult, InfraError> {
        let url = self.url(path, api_version)?;
        let deadline =
            super::client::instant_after(self.options.scaled(self.options.deadline_of(opts.kind)));
        let send_opts = SendOptions {
            if_match: opts.if_match.clone(),
            if_none_match: None,
            retry_principal_not_found: opts.retry_principal_not_found,
        };
        let resp = self
            .send(method, &url, Some(body), &send_opts, context)
            .await?;
        if !resp.is_success() {
            return Err(InfraError::Arm {
                context: context.into(),
                error: Box::new(resp.arm_error()),
            });
        }
        let async_op = resp.header("azure-asyncoperation").map(str::to_string);
        let location = resp.header("location").map(str::to_string);
        let polls;
        if let Some(op) = async_op {
            let op = self.parse_op_url(&op, &resp, context)?;
            polls = self
                .poll_async(&op, resp.retry_after(), deadline, opts, context)
                .await?;
        } else if resp.status == 202 {
            let Some(loc) = location else {
                return Err(resp.malformed(
                    context,
                    "202 Accepted without Azure-AsyncOperation or Location header",
                ));
            };
            let loc = self.parse_op_url(&loc, &resp, context)?;
            polls = self
                .poll_location(&loc, resp.retry_after(), deadline, opts, context)
                .await?;
        } else {
            // 200/201 without an operation header: the body's provisioningState decides.
            let v = if resp.text.trim().is_empty() {
                Value::Null
            } else {
                resp.json(context)?
            };
            if running_state(&v, &resp, |_| context.into())?.is_none() {
                return Ok(PutResult {
                    body: v,
                    status: resp.status,
                    polls: 0,
                });
            }
            // The resource itself is the operation: the last GET is the final state.
            let (polls, body) = self
                .poll_resource(&url, resp.retry_after(), deadline, opts, context)
                .await?;
            return Ok(PutResult {
                body,
                status: resp.status,
                polls,
            });
        }
        // The operation succeeded: the canonical final state is the resource itself.
        let final_resp = self
            .send(Method::GET, &url, None, &SendOptions::default(), context)
            .await?;
        if final_resp.status != 200 {
            return Err(InfraError::Arm {
                context: format!("{context} (reading it after the operation succeeded)"),
                error: Box::new(final_resp.arm_error()),
            });
        }
        let v = final_resp.json(context)?;
        let failed_context =
            |s: &str| format!("{context} (the operation said Succeeded, the resource says {s})");
        if running_state(&v, &final_resp, failed_context)?.is_none() {
            return Ok(PutResult {
                body: v,
                status: resp.status,
                polls,
            });
        }
        // Still settling (e.g. `Updating`): wait for the resource's own terminal state.
        let (more, body) = self
            .poll_resource(&url, final_resp.retry_after(), deadline, opts, context)
            .await?;
        Ok(PutResult {
            body,
            status: resp.status,
            polls: polls + more,
        })
    }

    fn parse_op_url(&self, s: &str, resp: &Response, context: &str) -> Result<Url, InfraError> {
        // Stored verbatim: signed operation URLs must not be re-encoded.
        Url::parse(s).map_err(|e| {
            resp.malformed(
                context,
                &format!(
                    "operation URL `{}` is not a URL: {e}",
                    super::error::snippet(s)
                ),
            )
        })
    }

    /// Sleep before a poll: `Retry-After` (or the default) but never under the floor; scaled.
    fn poll_wait(&self, retry_after: Option<Duration>) -> Duration {
        let d = retry_after
            .map(|d| self.capped(d))
            .unwrap_or(self.options.default_poll)
            .max(self.options.poll_floor);
        self.options.scaled(d)
    }

    /// Waits before the next poll, or fails if that would pass the deadline.
    #[allow(clippy::too_many_arguments)]
    async fn wait_for_poll(
        &self,
        retry_after: Option<Duration>,
        deadline: Instant,
        kind: ResourceKind,
        context: &str,
        last: &str,
        started: Instant,
    ) -> Result<(), InfraError> {
        let wait = self.poll_wait(retry_after);
        if Instant::now()
            .checked_add(wait)
            .is_none_or(|t| t > deadline)
        {
            return Err(self.deadline_error(kind, context, last, started));
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// A failed read of the status: tolerated up to [`MAX_STATUS_READ_FAILURES`] in a row.
    fn status_read_failed(
        &self,
        failures: &mut u32,
        r: &Response,
        context: &str,
    ) -> Result<(), InfraError> {
        *failures += 1;
        if *failures > MAX_STATUS_READ_FAILURES {
            return Err(InfraError::Arm {
                context: format!(
                    "{context} (reading the operation status failed {} times in a row; the operation itself may still be running: check `infra status`)",
                    *failures
                ),
                error: Box::new(r.arm_error()),
            });
        }
        Ok(())
    }

    /// The next read of an operation's status at `url`: waits (or fails at the deadline), then
    /// GETs it. A response `ok` rejects is a failed read of the status, not a failed operation:
    /// it is tolerated (`Ok(None)`: read again) up to [`MAX_STATUS_READ_FAILURES`] in a row.
    async fn next_status_read(
        &self,
        poll: &mut Poll<'_>,
        url: &Url,
        ok: fn(&Response) -> bool,
    ) -> Result<Option<Response>, InfraError> {
        self.wait_for_poll(
            poll.retry_after,
            poll.deadline,
            poll.kind,
            poll.context,
            &poll.last,
            poll.beat.started,
        )
        .await?;
        poll.polls += 1;
        let r = self
            .send(
                Method::GET,
                url,
                None,
                &SendOptions::default(),
                poll.context,
            )
            .await?;
        poll.retry_after = r.retry_after();
        if !ok(&r) {
            self.status_read_failed(&mut poll.failures, &r, poll.context)?;
            return Ok(None);
        }
        poll.failures = 0;
        Ok(Some(r))
    }

    async fn poll_async(
        &self,
        op: &Url,
        first_retry_after: Option<Duration>,
        deadline: Instant,
        opts: &PutOptions,
        context: &str,
    ) -> Result<u32, InfraError> {
        let mut poll = Poll::new(first_retry_after, deadline, opts, context);
        loop {
            // Reading the status failed, not the operation: read again.
            let Some(r) = self
                .next_status_read(&mut poll, op, Response::is_success)
                .await?
            else {
                continue;
            };
            let v = r.json(&format!("{context} (operation status)"))?;
            let Some(status) = v.get("status").and_then(Value::as_str) else {
                return Err(r.malformed(
                    &format!("{context} (operation status)"),
                    "no `status` field in the operation resource",
                ));
            };
            poll.saw(status);
            if status.eq_ignore_ascii_case("Succeeded") {
                return Ok(poll.polls);
            }
            if is_terminal(status) {
                return Err(operation_failed(context.into(), status, v.get("error"), &r));
            }
        }
    }

    /// `Location` polling: 202 while running; 200/201/204 is the end; 4xx/5xx is the
    /// operation's error (ARM RPC).
    async fn poll_location(
        &self,
        loc: &Url,
        first_retry_after: Option<Duration>,
        deadline: Instant,
        opts: &PutOptions,
        context: &str,
    ) -> Result<u32, InfraError> {
        let mut retry_after = first_retry_after;
        let mut polls = 0;
        let mut beat = Heartbeat::new(opts, context);
        let mut loc = loc.clone();
        loop {
            self.wait_for_poll(
                retry_after,
                deadline,
                opts.kind,
                context,
                "the operation (202 Accepted)",
                beat.started,
            )
            .await?;
            polls += 1;
            let r = self
                .send(Method::GET, &loc, None, &SendOptions::default(), context)
                .await?;
            match r.status {
                202 => {
                    beat.status("Accepted", polls);
                    retry_after = r.retry_after();
                    // A 202 may point to where to poll next (ARM RPC): follow it.
                    if let Some(next) = r.header("location") {
                        loc = self.parse_op_url(next, &r, context)?;
                    }
                }
                200 | 201 | 204 => return Ok(polls),
                _ => {
                    return Err(InfraError::OperationFailed {
                        context: context.into(),
                        status: "Failed".into(),
                        error: Box::new(r.arm_error()),
                    });
                }
            }
        }
    }

    /// GET the resource until its `provisioningState` is terminal; returns the final body.
    async fn poll_resource(
        &self,
        url: &Url,
        first_retry_after: Option<Duration>,
        deadline: Instant,
        opts: &PutOptions,
        context: &str,
    ) -> Result<(u32, Value), InfraError> {
        let mut poll = Poll::new(first_retry_after, deadline, opts, context);
        loop {
            let Some(r) = self
                .next_status_read(&mut poll, url, |r| r.status == 200)
                .await?
            else {
                continue;
            };
            let v = r.json(context)?;
            let Some(s) = running_state(&v, &r, |_| context.into())? else {
                return Ok((poll.polls, v));
            };
            poll.saw(s);
        }
    }

    fn deadline_error(
        &self,
        kind: ResourceKind,
        context: &str,
        last: &str,
        started: Instant,
    ) -> InfraError {
        InfraError::Deadline {
            context: context.into(),
            seconds: self.options.deadline_of(kind).as_secs(),
            waited: started.elapsed().as_secs_f64(),
            last: if last.starts_with("the ") {
                last.to_string()
            } else {
                format!("the operation to finish (last status `{last}`)")
            },
        }
    }
}
