//! The HTTP side: endpoint validation, bearer auth, retries honouring `Retry-After` on 429,
//! 5xx and operation-in-progress conflicts, and ARM errors with their correlation id.

use super::auth::TokenSource;
use super::error::{ArmError, InfraError, snippet};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant};

/// A validated ARM base URL: https anywhere, plain http only on a loopback host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(Url);

impl Endpoint {
    pub const DEFAULT: &'static str = "https://management.azure.com";

    pub fn parse(s: &str) -> Result<Self, InfraError> {
        let url = Url::parse(s.trim()).map_err(|e| {
            InfraError::Config(format!(
                "--arm-endpoint `{s}` is not a URL: {e}\n  help: use e.g. {}",
                Self::DEFAULT
            ))
        })?;
        let host = url.host_str().unwrap_or("");
        let loopback = matches!(host, "127.0.0.1" | "[::1]" | "::1" | "localhost");
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(InfraError::Config(format!(
                    "--arm-endpoint `{s}` uses plain http on a non-loopback host `{host}`: the bearer token would travel unencrypted\n  help: use https, or http only on 127.0.0.1, ::1 or localhost (a local emulator)"
                )));
            }
            other => {
                return Err(InfraError::Config(format!(
                    "--arm-endpoint `{s}` has scheme `{other}`\n  help: use an https URL such as {}",
                    Self::DEFAULT
                )));
            }
        }
        if host.is_empty()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(InfraError::Config(format!(
                "--arm-endpoint `{s}` must be a bare base URL (scheme, host, optional port)\n  help: e.g. {}",
                Self::DEFAULT
            )));
        }
        Ok(Self(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// True if `url` is on this endpoint's scheme, host and port (tokens go nowhere else).
    pub fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.0.scheme()
            && url.host_str().map(str::to_ascii_lowercase)
                == self.0.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == self.0.port_or_known_default()
    }
}

/// Timing knobs. `time_scale` multiplies every wait (Retry-After, poll floor, backoff,
/// deadlines, the connect give-up): 1.0 in production; the emulator tests use ~0.001 so that
/// a `Retry-After: 10` means 10 ms, still honoured proportionally.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub time_scale: f64,
    /// Never poll an operation faster than this, whatever `Retry-After` says.
    pub poll_floor: Duration,
    /// Poll interval when the service gives no `Retry-After`.
    pub default_poll: Duration,
    /// First retry wait without `Retry-After`; doubles per attempt up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The longest wait a `Retry-After` (in any of its forms) is honoured for.
    pub retry_after_cap: Duration,
    /// Retries of one request on 408 / 429 / 5xx / in-progress conflicts / transport errors.
    pub max_retries: u32,
    /// How long `PrincipalNotFound` is retried (Entra replication delay).
    pub principal_not_found_window: Duration,
    /// Timeout of one HTTP exchange (not scaled).
    pub request_timeout: Duration,
    /// Timeout of one TCP/TLS connect (not scaled).
    pub connect_timeout: Duration,
    /// Give up on a request this long after its first failed connect (`--connect-timeout`).
    pub connect_give_up: Duration,
    /// Replaces every resource kind's step deadline (`--step-deadline`).
    pub step_deadline: Option<Duration>,
    /// GETs in flight at once while planning.
    pub max_parallel_reads: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            time_scale: 1.0,
            poll_floor: Duration::from_secs(5),
            default_poll: Duration::from_secs(15),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(60),
            retry_after_cap: RETRY_AFTER_CAP,
            max_retries: 8,
            principal_not_found_window: Duration::from_secs(300),
            request_timeout: Duration::from_secs(100),
            connect_timeout: Duration::from_secs(10),
            connect_give_up: Duration::from_secs(90),
            step_deadline: None,
            max_parallel_reads: 16,
        }
    }
}

/// The documented cap on a server-requested wait: a `Retry-After` of a day (or 10^30 s) is
/// honoured as 5 minutes.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(300);

impl ClientOptions {
    /// Defaults, with `INFRA_POLL_SCALE` (a positive factor) applied.
    pub fn from_env() -> Result<Self, InfraError> {
        let mut o = Self::default();
        if let Ok(s) = std::env::var("INFRA_POLL_SCALE") {
            o.time_scale = parse_scale(&s)?;
        }
        Ok(o)
    }

    /// `d` times the scale; saturates instead of panicking on any input.
    pub fn scaled(&self, d: Duration) -> Duration {
        Duration::try_from_secs_f64(d.as_secs_f64() * self.time_scale).unwrap_or(Duration::MAX)
    }

    /// The deadline of one step of `kind` (unscaled).
    pub fn deadline_of(&self, kind: super::ResourceKind) -> Duration {
        self.step_deadline.unwrap_or_else(|| kind.deadline())
    }
}

/// `now + d`, or a point a century away when that does not fit (never panics).
pub fn instant_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// A number of seconds from a flag or the environment: finite, > 0 and at most `max`.
pub fn parse_seconds(name: &str, value: &str, max: u64) -> Result<Duration, InfraError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= max as f64 => Ok(Duration::from_secs_f64(v)),
        _ => Err(InfraError::Config(format!(
            "{name} `{value}` is not a number of seconds in (0, {max}]\n  help: give e.g. 90, or leave it unset for the default"
        ))),
    }
}

pub fn parse_scale(s: &str) -> Result<f64, InfraError> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 && v.is_finite() => Ok(v),
        _ => Err(InfraError::Config(format!(
            "INFRA_POLL_SCALE `{s}` is not a number in (0, 1]\n  help: unset it (1.0); it only exists to run the emulator tests fast"
        ))),
    }
}

/// One ARM answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn correlation_id(&self) -> Option<String> {
        self.header("x-ms-correlation-request-id")
            .map(str::to_string)
    }

    /// The wait the server asks for, uncapped: `retry-after-ms` / `x-ms-retry-after-ms`
    /// (milliseconds) first, then `Retry-After` (seconds or an HTTP-date). Never panics.
    pub fn retry_after(&self) -> Option<Duration> {
        for h in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let Some(d) = self.header(h).and_then(parse_millis) {
                return Some(d);
            }
        }
        parse_retry_after(self.header("retry-after")?)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn arm_error(&self) -> ArmError {
        ArmError::from_body(
            self.status,
            &self.text,
            self.correlation_id(),
            self.header("x-ms-request-id").map(str::to_string),
        )
    }

    /// The body as JSON, or a clear "malformed" error.
    pub fn json(&self, context: &str) -> Result<Value, InfraError> {
        match serde_json::from_str::<Value>(&self.text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err(self.malformed(context, "expected a JSON object")),
            Err(e) => Err(self.malformed(context, &format!("not JSON ({e})"))),
        }
    }

    pub fn malformed(&self, context: &str, what: &str) -> InfraError {
        InfraError::Malformed {
            context: context.to_string(),
            status: self.status,
            what: what.to_string(),
            body: snippet(&self.text),
            correlation_id: self.correlation_id(),
        }
    }
}

/// Extra behaviour of one request.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// Retry `400 PrincipalNotFound` for `principal_not_found_window`.
    pub retry_principal_not_found: bool,
}

/// The ARM client. Cheap to clone; its Debug output never shows the token.
#[derive(Clone)]
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: Endpoint,
    subscription: String,
    tokens: TokenSource,
    pub options: ClientOptions,
    /// Told about every retry (and connect failure) as it happens.
    progress: Option<super::lro::ProgressFn>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.endpoint.url().as_str())
            .field("subscription", &self.subscription)
            .field("tokens", &self.tokens)
            .field("options", &self.options)
            .finish()
    }
}

impl ArmClient {
    pub fn new(
        endpoint: Endpoint,
        subscription: &str,
        tokens: TokenSource,
        options: ClientOptions,
    ) -> Result<Self, InfraError> {
        let subscription = subscription.trim();
        if subscription.is_empty() {
            return Err(InfraError::Config(
                "no subscription given\n  help: pass --subscription <id> or set AZURE_SUBSCRIPTION_ID".into(),
            ));
        }
        if !subscription
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-')
            || subscription.len() != 36
        {
            return Err(InfraError::Config(format!(
                "subscription `{subscription}` is not a subscription id (a GUID like 00000000-0000-0000-0000-000000000000)\n  help: `az account show --query id -o tsv` prints yours"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| InfraError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            endpoint,
            subscription: subscription.to_string(),
            tokens,
            options,
            progress: None,
        })
    }

    /// Reports retries and connect failures through `p`.
    pub fn with_progress(mut self, p: super::lro::ProgressFn) -> Self {
        self.progress = Some(p);
        self
    }

    pub(crate) fn say(&self, line: &str) {
        if let Some(p) = &self.progress {
            p(line);
        }
    }

    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Fails early (before planning) when no credential works.
    pub async fn check_credentials(&self) -> Result<(), InfraError> {
        self.tokens.token().await.map(|_| ())
    }

    /// `<endpoint><path>?api-version=<v>`.
    pub fn url(&self, path: &str, api_version: &str) -> Result<Url, InfraError> {
        let mut url = self
            .endpoint
            .url()
            .join(path)
            .map_err(|e| InfraError::Config(format!("bad resource path `{path}`: {e}")))?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        Ok(url)
    }

    /// Sends one request, retrying 429 / 5xx / in-progress 409 / transport errors
    /// (honouring `Retry-After`, scaled), and optionally `PrincipalNotFound`.
    /// Returns the final response whatever its status.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        opts: &SendOptions,
        context: &str,
    ) -> Result<Response, InfraError> {
        if !self.endpoint.same_origin(url) {
            return Err(InfraError::Malformed {
                context: context.into(),
                status: 0,
                what: format!(
                    "ARM pointed to `{}` which is not on the ARM endpoint; refusing to send the token there",
                    origin(url)
                ),
                body: String::new(),
                correlation_id: None,
            });
        }
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let mut first_connect_failure: Option<Instant> = None;
        loop {
            let token = self.tokens.token().await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
                .header(reqwest::header::ACCEPT, "application/json");
            let mut auth =
                HeaderValue::from_str(&format!("Bearer {}", token.secret())).map_err(|_| {
                    InfraError::Auth(
                        "the access token contains characters not allowed in an HTTP header".into(),
                    )
                })?;
            auth.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, auth);
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Some(m) = &opts.if_match {
                req = req.header(reqwest::header::IF_MATCH, m);
            }
            if let Some(m) = &opts.if_none_match {
                req = req.header(reqwest::header::IF_NONE_MATCH, m);
            }
            // A failure to connect, a timeout, or a connection reset mid-body: retried like a 5xx.
            let failure = match req.send().await {
                Ok(r) => {
                    let status = r.status();
                    let headers = r.headers().clone();
                    match r.text().await {
                        Ok(text) => Ok(Response {
                            status: status.as_u16(),
                            headers,
                            text: scrub(&text, token.secret()),
                        }),
                        Err(e) => Err((
                            false,
                            format!(
                                "the connection broke while reading the HTTP {} body: {}",
                                status.as_u16(),
                                describe_reqwest(&e)
                            ),
                        )),
                    }
                }
                Err(e) if e.is_builder() => {
                    return Err(InfraError::Transport {
                        context: context.into(),
                        message: describe_reqwest(&e),
                    });
                }
                Err(e) => Err((e.is_connect(), describe_reqwest(&e))),
            };
            let resp = match failure {
                Ok(r) => r,
                Err((connect, message)) => {
                    let message = scrub(&message, token.secret());
                    let give_up = self.options.scaled(self.options.connect_give_up);
                    if connect {
                        let since = *first_connect_failure.get_or_insert_with(Instant::now);
                        let waited = since.elapsed();
                        let wait = self.backoff(attempt + 1, None);
                        if waited + wait > give_up {
                            return Err(InfraError::Transport {
                                context: context.into(),
                                message: format!(
                                    "cannot connect to ARM at {}: {message}; gave up after {:.1}s (--connect-timeout {}s)",
                                    origin(url),
                                    waited.as_secs_f64(),
                                    self.options.connect_give_up.as_secs()
                                ),
                            });
                        }
                        attempt += 1;
                        self.say(&format!(
                            "{context}: cannot connect to ARM at {}: {message}; attempt {attempt}, next try in {:.1}s (giving up {}s after the first failure)",
                            origin(url),
                            wait.as_secs_f64(),
                            self.options.connect_give_up.as_secs()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if attempt < self.options.max_retries {
                        attempt += 1;
                        let wait = self.backoff(attempt, None);
                        self.say(&format!(
                            "{context}: {message}; attempt {attempt} of {}, next try in {:.1}s",
                            self.options.max_retries,
                            wait.as_secs_f64()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(InfraError::Transport {
                        context: context.into(),
                        message: format!("{message} (after {attempt} retries)"),
                    });
                }
            };
            first_connect_failure = None;
            let retryable = match StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK) {
                StatusCode::REQUEST_TIMEOUT
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT => attempt < self.options.max_retries,
                StatusCode::CONFLICT => {
                    is_in_progress_conflict(&resp.arm_error()) && attempt < self.options.max_retries
                }
                StatusCode::BAD_REQUEST if opts.retry_principal_not_found => {
                    resp.arm_error().is("PrincipalNotFound")
                        && started.elapsed()
                            < self.options.scaled(self.options.principal_not_found_window)
                }
                _ => false,
            };
            if !retryable {
                return Ok(resp);
            }
            attempt += 1;
            let wait = self.backoff(attempt, resp.retry_after());
            let e = resp.arm_error();
            self.say(&format!(
                "{context}: HTTP {} {}; attempt {attempt} of {}, next try in {:.1}s",
                resp.status,
                e.code,
                self.options.max_retries,
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }

    /// Wait before retry `attempt` (1-based): `Retry-After` if given, else exponential backoff;
    /// plus up to 10 % jitter, never less than asked.
    pub(crate) fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let base = retry_after.map(|d| self.capped(d)).unwrap_or_else(|| {
            let exp = self
                .options
                .backoff_base
                .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
            exp.min(self.options.backoff_cap)
        });
        let d = self.options.scaled(base);
        d.saturating_add(
            Duration::try_from_secs_f64(d.as_secs_f64() * jitter() * 0.1).unwrap_or_default(),
        )
    }

    /// A server-requested wait, held to [`ClientOptions::retry_after_cap`].
    pub(crate) fn capped(&self, d: Duration) -> Duration {
        d.min(self.options.retry_after_cap)
    }

    /// GET a resource: `Ok(None)` on 404.
    pub async fn get(
        &self,
        path: &str,
        api_version: &str,
        context: &str,
    ) -> Result<Option<(Value, Response)>, InfraError> {
        let url = self.url(path, api_version)?;
        let resp = self
            .send(Method::GET, &url, None, &SendOptions::default(), context)
            .await?;
        match resp.status {
            200 => Ok(Some((resp.json(context)?, resp))),
            404 => Ok(None),
            _ => Err(InfraError::Arm {
                context: context.into(),
                error: Box::new(resp.arm_error()),
            }),
        }
    }

    /// GET a collection (`value` array), following `nextLink` (at most 100 pages).
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        query: &str,
        context: &str,
    ) -> Result<Vec<Value>, InfraError> {
        let mut url = self.url(path, api_version)?;
        if !query.is_empty() {
            let q = format!("{}&{query}", url.query().unwrap_or(""));
            url.set_query(Some(&q));
        }
        let mut out = vec![];
        for _ in 0..100 {
            let resp = self
                .send(Method::GET, &url, None, &SendOptions::default(), context)
                .await?;
            if resp.status != 200 {
                return Err(InfraError::Arm {
                    context: context.into(),
                    error: Box::new(resp.arm_error()),
                });
            }
            let v = resp.json(context)?;
            let Some(items) = v.get("value").and_then(Value::as_array) else {
                return Err(resp.malformed(context, "a list without a `value` array"));
            };
            out.extend(items.iter().cloned());
            match v.get("nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    url = Url::parse(next)
                        .map_err(|e| resp.malformed(context, &format!("bad nextLink: {e}")))?;
                }
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// DELETE a resource (synchronous kinds only: role assignments).
    pub async fn delete(
        &self,
        path: &str,
        api_version: &str,
        context: &str,
    ) -> Result<(), InfraError> {
        let url = self.url(path, api_version)?;
        let resp = self
            .send(Method::DELETE, &url, None, &SendOptions::default(), context)
            .await?;
        match resp.status {
            200 | 202 | 204 | 404 => Ok(()),
            _ => Err(InfraError::Arm {
                context: context.into(),
                error: Box::new(resp.arm_error()),
            }),
        }
    }
}

/// `Retry-After` as integer (or decimal) seconds, or as an HTTP-date (then the time left
/// until it, zero if past). `None` when unparseable: the caller falls back to its backoff.
/// Any value, however absurd, gives a duration (saturating), never a panic.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    if let Some(f) = v.parse::<f64>().ok().filter(|f| !f.is_nan() && *f >= 0.0) {
        return Some(Duration::try_from_secs_f64(f).unwrap_or(Duration::MAX));
    }
    let at = azure_core::time::parse_rfc7231(v).ok()?;
    let left = at - azure_core::time::OffsetDateTime::now_utc();
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

/// `retry-after-ms` / `x-ms-retry-after-ms`: milliseconds (saturating).
pub fn parse_millis(v: &str) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            v.parse::<u64>()
                .map_or(Duration::MAX, Duration::from_millis),
        );
    }
    let f = v.parse::<f64>().ok().filter(|f| !f.is_nan() && *f >= 0.0)?;
    Some(Duration::try_from_secs_f64(f / 1000.0).unwrap_or(Duration::MAX))
}

/// Removes the bearer token from text ARM sent back (some services echo request headers in
/// error bodies): the token itself, and whatever follows any `Bearer `.
pub fn scrub(text: &str, token: &str) -> String {
    let mut out = if token.len() >= 8 {
        text.replace(token, "[redacted]")
    } else {
        text.to_string()
    };
    let mut from = 0;
    while let Some(i) = out[from..].to_ascii_lowercase().find("bearer ") {
        let start = from + i + "bearer ".len();
        let end = out[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '}' | '\\'))
            .map_or(out.len(), |e| start + e);
        if end > start && &out[start..end] != "[redacted]" {
            out.replace_range(start..end, "[redacted]");
        }
        from = start + "[redacted]".len().min(out.len() - start);
    }
    out
}

/// A 409 that means "another operation is running on this resource; try again later".
/// `OperationNotAllowed` is also used for permanent refusals, so it only counts when its
/// message speaks of an operation in progress.
pub fn is_in_progress_conflict(e: &ArmError) -> bool {
    if e.is("AnotherOperationInProgress")
        || e.is("RetryableErrorDueToAnotherOperation")
        || e.is("OperationPreempted")
        || e.is("ResourceBusy")
    {
        return true;
    }
    let m = e.message.to_ascii_lowercase();
    e.is("OperationNotAllowed")
        && (m.contains("in progress")
            || m.contains("in-progress")
            || m.contains("another operation"))
}

fn origin(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// A number in [0, 1) from the clock; good enough to spread retries.
fn jitter() -> f64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(n % 1000) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_http_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "a date in the past means: now"
        );
        let future = azure_core::time::OffsetDateTime::now_utc() + Duration::from_secs(120);
        let fmt = azure_core::time::to_rfc7231(&future);
        let d = parse_retry_after(&fmt).expect("HTTP-date parses");
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn which_conflicts_are_retried() {
        let e = |code: &str, msg: &str| {
            ArmError::from_body(
                409,
                &serde_json::json!({"error": {"code": code, "message": msg}}).to_string(),
                None,
                None,
            )
        };
        assert!(is_in_progress_conflict(&e(
            "AnotherOperationInProgress",
            "x"
        )));
        assert!(is_in_progress_conflict(&e(
            "OperationNotAllowed",
            "Operation is not allowed because there's an in progress create managed cluster operation"
        )));
        assert!(!is_in_progress_conflict(&e(
            "OperationNotAllowed",
            "Operation is not allowed: the cluster is stopped"
        )));
        assert!(!is_in_progress_conflict(&e(
            "RoleAssignmentExists",
            "exists"
        )));
        assert!(!is_in_progress_conflict(&e(
            "MissingSubscriptionRegistration",
            "register"
        )));
    }
}
