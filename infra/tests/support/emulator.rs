//! An in-process ARM emulator for the resource types `infra` manages, built from the
//! documented behaviour and the recorded real exchanges (see tests/fixtures/recorded.json):
//! 201 on create / 200 on update (Traffic Manager endpoints 201 both ways), LROs with
//! `Azure-AsyncOperation` whose status moves through non-terminal states, `Retry-After`,
//! 404 `ResourceNotFound`, ETag + If-Match on managed clusters, kubelet identity filled in,
//! `PrincipalNotFound` / `RoleAssignmentExists`, `PropertyChangeNotAllowed`, 409 while an
//! operation runs, and scriptable faults. Every request is recorded (minus Authorization).

#![allow(dead_code)]

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use infra::arm::schema::{Request, Violation};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const TOKEN: &str = "emulator-test-token";
pub const SUB: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ResourceGroup,
    Registry,
    Replication,
    PublicIp,
    Cluster,
    RoleAssignment,
    Extension,
    FluxConfig,
    TmProfile,
    TmEndpoint,
    MonitorAccount,
    Dce,
    Dcr,
    Dcra,
    RuleGroup,
    ActionGroup,
    MetricAlert,
}

/// The api-version whose registry bodies carry `regionalEndpoints` (preview only).
pub const REGISTRY_PREVIEW: &str = "2026-01-01-preview";
/// Registry properties only the preview api-version knows: a stable GET never shows them and
/// a stable PUT that lacks them leaves them as they are.
const REGISTRY_PREVIEW_ONLY: [&str; 2] = ["regionalEndpoints", "regionalEndpointHostNames"];

impl Kind {
    /// The library's kind, for the vendored spec schemas.
    pub fn resource_kind(self) -> infra::arm::ResourceKind {
        use infra::arm::ResourceKind as R;
        match self {
            Self::ResourceGroup => R::ResourceGroup,
            Self::Registry => R::Registry,
            Self::Replication => R::Replication,
            Self::PublicIp => R::PublicIp,
            Self::Cluster => R::ManagedCluster,
            Self::RoleAssignment => R::RoleAssignment,
            Self::Extension => R::FluxExtension,
            Self::FluxConfig => R::FluxConfiguration,
            Self::TmProfile => R::TrafficManagerProfile,
            Self::TmEndpoint => R::TrafficManagerEndpoint,
            Self::MonitorAccount => R::MonitorWorkspace,
            Self::Dce => R::DataCollectionEndpoint,
            Self::Dcr => R::DataCollectionRule,
            Self::Dcra => R::DataCollectionRuleAssociation,
            Self::RuleGroup => R::PrometheusRuleGroup,
            Self::ActionGroup => R::ActionGroup,
            Self::MetricAlert => R::MetricAlert,
        }
    }

    fn lro(self) -> bool {
        matches!(
            self,
            Self::Registry
                | Self::Replication
                | Self::PublicIp
                | Self::Cluster
                | Self::Extension
                | Self::FluxConfig
        )
    }

    /// The non-terminal status the recordings show for this RP.
    fn running_status(self) -> &'static str {
        match self {
            Self::Cluster | Self::PublicIp => "InProgress",
            _ => "Creating",
        }
    }

    pub fn of_path(path: &str) -> Option<Self> {
        Self::of(path)
    }

    fn of(path: &str) -> Option<Self> {
        let p = path.to_ascii_lowercase();
        let segs: Vec<&str> = p.trim_matches('/').split('/').collect();
        if p.contains("/providers/microsoft.authorization/roleassignments/") {
            return Some(Self::RoleAssignment);
        }
        if p.contains("/providers/microsoft.insights/datacollectionruleassociations/") {
            return Some(Self::Dcra);
        }
        for (needle, kind) in [
            (
                "/providers/microsoft.monitor/accounts/",
                Self::MonitorAccount,
            ),
            (
                "/providers/microsoft.insights/datacollectionendpoints/",
                Self::Dce,
            ),
            (
                "/providers/microsoft.insights/datacollectionrules/",
                Self::Dcr,
            ),
            (
                "/providers/microsoft.alertsmanagement/prometheusrulegroups/",
                Self::RuleGroup,
            ),
            (
                "/providers/microsoft.insights/actiongroups/",
                Self::ActionGroup,
            ),
            (
                "/providers/microsoft.insights/metricalerts/",
                Self::MetricAlert,
            ),
        ] {
            if p.contains(needle) && segs.len() == 8 {
                return Some(kind);
            }
        }
        if p.contains("/providers/microsoft.kubernetesconfiguration/extensions/") {
            return Some(Self::Extension);
        }
        if p.contains("/providers/microsoft.kubernetesconfiguration/fluxconfigurations/") {
            return Some(Self::FluxConfig);
        }
        if p.contains("/trafficmanagerprofiles/") {
            return Some(if segs.len() == 10 {
                Self::TmEndpoint
            } else {
                Self::TmProfile
            });
        }
        if p.contains("/providers/microsoft.containerservice/managedclusters/") && segs.len() == 8 {
            return Some(Self::Cluster);
        }
        if p.contains("/providers/microsoft.containerregistry/registries/") {
            return Some(if segs.len() == 10 && segs[8] == "replications" {
                Self::Replication
            } else if segs.len() == 8 {
                Self::Registry
            } else {
                return None;
            });
        }
        if p.contains("/providers/microsoft.network/publicipaddresses/") && segs.len() == 8 {
            return Some(Self::PublicIp);
        }
        if segs.len() == 4 && segs[0] == "subscriptions" && segs[2] == "resourcegroups" {
            return Some(Self::ResourceGroup);
        }
        None
    }
}

/// A scripted fault: the next `times` requests matching `method` and `path_contains`
/// (case-insensitive) get this answer instead of the normal one.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<&'static str>,
    pub path_contains: String,
    pub kind: FaultKind,
    pub times: u32,
}

#[derive(Debug, Clone)]
pub enum FaultKind {
    TooManyRequests {
        retry_after: u64,
    },
    ServerError,
    InProgressConflict {
        retry_after: Option<u64>,
    },
    /// An error answer with one extra header set to any text (absurd `Retry-After`s).
    WithHeader {
        status: u16,
        header: &'static str,
        value: String,
    },
    /// The LRO started by the matching PUT ends Failed with this error.
    FailOperation {
        code: String,
        message: String,
    },
    /// A 200 with this raw body.
    RawBody {
        status: u16,
        body: String,
    },
}

impl Fault {
    pub fn new(
        method: Option<&'static str>,
        path_contains: &str,
        kind: FaultKind,
        times: u32,
    ) -> Self {
        Self {
            method,
            path_contains: path_contains.to_ascii_lowercase(),
            kind,
            times,
        }
    }

    /// The LRO started by the next PUT to a path containing `path_contains` ends Failed
    /// with this error.
    pub fn fail_operation(path_contains: &str, code: &str, message: &str) -> Self {
        Self::new(
            Some("PUT"),
            path_contains,
            FaultKind::FailOperation {
                code: code.into(),
                message: message.into(),
            },
            1,
        )
    }

    /// The next `times` GETs of a path containing `path_contains` answer `status` with `body`.
    pub fn raw_get(path_contains: &str, status: u16, body: impl Into<String>, times: u32) -> Self {
        Self::new(
            Some("GET"),
            path_contains,
            FaultKind::RawBody {
                status,
                body: body.into(),
            },
            times,
        )
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
    pub status: u16,
    /// The Retry-After this response advertised, in (unscaled) seconds.
    pub retry_after: Option<u64>,
    /// The operation this response started (lowercased path of its Azure-AsyncOperation URL).
    pub async_op: Option<String>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE")
    }
}

#[derive(Debug, Clone)]
struct Res {
    kind: Kind,
    body: Value,
    etag: u64,
    busy: bool,
}

/// How an RP reports a long-running PUT (ARM RPC async-api-reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LroStyle {
    /// 201/200 + `Azure-AsyncOperation`; the status resource says InProgress… then Succeeded.
    #[default]
    AsyncOperation,
    /// 202 + `Location`; the Location URL answers 202 while running, then 200 with the
    /// resource (or the operation's error as a 4xx).
    Location,
    /// 201/200 without operation headers; the resource's own `provisioningState` moves.
    ProvisioningState,
}

#[derive(Debug, Clone)]
struct Op {
    resource: String,
    statuses: VecDeque<String>,
    failure: Option<(String, String)>,
    creating: bool,
    style: LroStyle,
}

#[derive(Debug, Default)]
pub struct State {
    resources: BTreeMap<String, Res>,
    ops: HashMap<String, Op>,
    pub requests: Vec<Recorded>,
    pub faults: Vec<Fault>,
    /// Non-terminal polls before an operation ends (per kind; default `default_polls`).
    pub polls: HashMap<Kind, Vec<String>>,
    pub default_polls: u32,
    /// Retry-After (seconds) advertised on LRO responses and polls.
    pub retry_after: Option<u64>,
    /// Role assignment PUTs answered `PrincipalNotFound` before the principal "replicates".
    pub principal_not_found: u32,
    principal_tries: HashMap<String, u32>,
    /// complianceState a Flux configuration reports once it Succeeded.
    pub flux_compliance: String,
    /// Kubernetes versions the emulator was asked to move a cluster to (upgrades started).
    pub upgrades: Vec<String>,
    /// LRO style per kind (default: Azure-AsyncOperation).
    pub lro_style: HashMap<Kind, LroStyle>,
    /// A `Location` poll answers its first 202 with a new `Location` and forgets the old URL.
    pub location_moves: bool,
    /// Every GET of a resource waits this long first (fan-out measurements).
    pub get_delay: Option<std::time::Duration>,
    /// Resource GETs being served right now, and the most ever at once.
    pub gets_in_flight: usize,
    pub max_gets_in_flight: usize,
    /// Print one line per request on stderr.
    pub log: bool,
    /// Every PATCH body accepted, with the resource key.
    pub patches: Vec<(String, Value)>,
    /// Endpoints a profile PUT removed (keys).
    pub deleted_by_profile_put: Vec<String>,
    counter: u64,
}

pub struct Emulator {
    pub base: String,
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
}

fn key(path: &str) -> String {
    path.trim_end_matches('/').to_ascii_lowercase()
}

fn err(status: StatusCode, code: &str, message: &str, target: Option<&str>) -> (StatusCode, Value) {
    let mut e = json!({"error": {"code": code, "message": message}});
    if let Some(t) = target {
        e["error"]["target"] = json!(t);
    }
    (status, e)
}

fn get<'a>(v: &'a Value, ptr: &str) -> Option<&'a Value> {
    v.pointer(ptr).filter(|v| !v.is_null())
}

fn loc_norm(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .unwrap_or("")
        .replace(' ', "")
        .to_ascii_lowercase()
}

fn zone_set(v: Option<&Value>) -> Vec<String> {
    let mut z: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    z.sort();
    z
}

impl Emulator {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind emulator");
        Self::serve(listener, false)
    }

    /// On a given loopback address, printing one line per request (the runnable example).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self::serve(listener, true))
    }

    fn serve(listener: tokio::net::TcpListener, log: bool) -> Self {
        let state = Arc::new(Mutex::new(State {
            default_polls: 2,
            retry_after: Some(10),
            flux_compliance: "Compliant".into(),
            log,
            ..Default::default()
        }));
        let addr = listener.local_addr().expect("addr");
        let st = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let st = st.clone();
                async move {
                    let delay = (method == Method::GET)
                        .then(|| {
                            let mut s = st.lock().expect("emulator lock");
                            let d = s.get_delay?;
                            s.gets_in_flight += 1;
                            s.max_gets_in_flight = s.max_gets_in_flight.max(s.gets_in_flight);
                            Some(d)
                        })
                        .flatten();
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                        st.lock().expect("emulator lock").gets_in_flight -= 1;
                    }
                    handle(st, addr, method, uri, headers, body)
                }
            },
        );
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self {
            base: format!("http://{addr}"),
            addr,
            state,
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("emulator lock"))
    }

    /// Operations on `kind` report `InProgress` for their first `polls` status reads.
    pub fn in_progress(&self, kind: Kind, polls: usize) {
        self.with(|s| {
            s.polls.insert(kind, vec!["InProgress".to_string(); polls]);
        });
    }

    pub fn fault(&self, f: Fault) {
        self.with(|s| s.faults.push(f));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(Recorded::is_write)
            .collect()
    }

    pub fn clear_requests(&self) {
        self.with(|s| s.requests.clear());
    }

    /// The stored body of a resource (by ARM id, any case).
    pub fn resource(&self, path: &str) -> Option<Value> {
        self.with(|s| s.resources.get(&key(path)).map(|r| r.body.clone()))
    }

    /// Every stored resource id of a kind.
    pub fn ids(&self, kind: Kind) -> Vec<String> {
        self.with(|s| {
            s.resources
                .iter()
                .filter(|(_, r)| r.kind == kind)
                .map(|(k, _)| k.clone())
                .collect()
        })
    }

    /// Changes a stored resource (simulates something outside the tool).
    pub fn edit(&self, path: &str, f: impl FnOnce(&mut Value)) {
        self.with(|s| {
            let r = s
                .resources
                .get_mut(&key(path))
                .expect("resource to edit exists");
            f(&mut r.body);
            r.etag += 1;
            let etag = format!("\"{}\"", r.etag);
            if r.kind == Kind::Cluster {
                r.body["eTag"] = json!(etag);
            }
        });
    }
}

fn handle(
    st: Arc<Mutex<State>>,
    addr: SocketAddr,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = st.lock().expect("emulator lock");
    s.counter += 1;
    let corr = format!("corr-{:08}", s.counter);
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let parsed_body: Option<Value> = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let rec_headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.as_str() != "authorization")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let idx = s.requests.len();
    s.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        body: parsed_body.clone(),
        headers: rec_headers,
        at: Instant::now(),
        status: 0,
        retry_after: None,
        async_op: None,
    });
    let (status, resp_headers, resp_body) = route(
        &mut s,
        addr,
        &method,
        &path,
        &query,
        &headers,
        &body,
        parsed_body,
    );
    s.requests[idx].status = status.as_u16();
    if s.log {
        eprintln!("{method} {path} -> {}", status.as_u16());
    }
    s.requests[idx].async_op = resp_headers
        .iter()
        .find(|(k, _)| *k == "Azure-AsyncOperation" || *k == "Location")
        .and_then(|(_, v)| v.parse::<Uri>().ok())
        .map(|u| u.path().to_ascii_lowercase());
    s.requests[idx].retry_after = resp_headers
        .iter()
        .find(|(k, _)| *k == "Retry-After")
        .and_then(|(_, v)| v.parse().ok());
    let mut r = match resp_body {
        RespBody::Json(v) => (status, axum::Json(v)).into_response(),
        RespBody::Raw(t) => (status, t).into_response(),
        RespBody::Empty => status.into_response(),
    };
    let h = r.headers_mut();
    h.insert("x-ms-correlation-request-id", corr.parse().expect("header"));
    h.insert(
        "x-ms-request-id",
        format!("req-{}", s.counter).parse().expect("header"),
    );
    for (k, v) in resp_headers {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    r
}

enum RespBody {
    Json(Value),
    Raw(String),
    Empty,
}

type Routed = (StatusCode, Vec<(&'static str, String)>, RespBody);

fn json_resp((status, v): (StatusCode, Value)) -> Routed {
    (status, vec![], RespBody::Json(v))
}

#[allow(clippy::too_many_arguments)]
fn route(
    s: &mut State,
    addr: SocketAddr,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    raw: &Bytes,
    body: Option<Value>,
) -> Routed {
    // Authentication.
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {TOKEN}") {
        return json_resp(err(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or invalid.",
            None,
        ));
    }
    if !query.contains("api-version=") {
        return json_resp(err(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
            None,
        ));
    }
    // Scripted faults.
    let lower = path.to_ascii_lowercase();
    let mut fail_op = None;
    if let Some(i) = s.faults.iter().position(|f| {
        f.times > 0
            && f.method.is_none_or(|m| m == method.as_str())
            && lower.contains(&f.path_contains)
    }) {
        s.faults[i].times -= 1;
        match s.faults[i].kind.clone() {
            FaultKind::TooManyRequests { retry_after } => {
                let (st, v) = err(
                    StatusCode::TOO_MANY_REQUESTS,
                    "SubscriptionRequestsThrottled",
                    "Number of requests for subscription exceeded the limit.",
                    None,
                );
                return (
                    st,
                    vec![("Retry-After", retry_after.to_string())],
                    RespBody::Json(v),
                );
            }
            FaultKind::ServerError => {
                return json_resp(err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "Encountered internal server error. Please try again.",
                    None,
                ));
            }
            FaultKind::InProgressConflict { retry_after } => {
                let (st, v) = err(
                    StatusCode::CONFLICT,
                    "AnotherOperationInProgress",
                    "Another operation is in progress on the resource. Please wait for it to finish.",
                    None,
                );
                return (
                    st,
                    retry_after
                        .map(|r| vec![("Retry-After", r.to_string())])
                        .unwrap_or_default(),
                    RespBody::Json(v),
                );
            }
            FaultKind::RawBody { status, body } => {
                return (
                    StatusCode::from_u16(status).expect("status"),
                    vec![],
                    RespBody::Raw(body),
                );
            }
            FaultKind::FailOperation { code, message } => fail_op = Some((code, message)),
            FaultKind::WithHeader {
                status,
                header,
                value,
            } => {
                let st = StatusCode::from_u16(status).expect("status");
                let (st, v) = err(
                    st,
                    if status == 429 {
                        "TooManyRequests"
                    } else {
                        "ServiceUnavailable"
                    },
                    "Please retry later.",
                    None,
                );
                return (st, vec![(header, value)], RespBody::Json(v));
            }
        }
    }
    // Operation status polls.
    if method == Method::GET
        && let Some(op) = s.ops.get_mut(&key(path))
    {
        let ra = s.retry_after;
        let mut hdrs = vec![];
        let style = op.style;
        if let Some(next) = op.statuses.pop_front() {
            if let Some(r) = ra {
                hdrs.push(("Retry-After", r.to_string()));
            }
            return match style {
                LroStyle::AsyncOperation => (
                    StatusCode::OK,
                    hdrs,
                    RespBody::Json(
                        json!({"name": path.rsplit('/').next(), "status": next, "startTime": "2026-01-01T00:00:00Z"}),
                    ),
                ),
                LroStyle::Location if s.location_moves && !path.ends_with("/moved") => {
                    let op = s.ops.remove(&key(path)).expect("op");
                    let moved = format!("{path}/moved");
                    s.ops.insert(key(&moved), op);
                    hdrs.push((
                        "Location",
                        format!("http://{addr}{moved}?api-version=2025-01-01"),
                    ));
                    (StatusCode::ACCEPTED, hdrs, RespBody::Empty)
                }
                LroStyle::Location => (StatusCode::ACCEPTED, hdrs, RespBody::Empty),
                LroStyle::ProvisioningState => {
                    let resource = op.resource.clone();
                    let mut v = s
                        .resources
                        .get(&resource)
                        .map(|r| r.body.clone())
                        .unwrap_or_else(|| json!({}));
                    v["properties"]["provisioningState"] = json!(next);
                    (StatusCode::OK, hdrs, RespBody::Json(v))
                }
            };
        }
        let op = op.clone();
        if style != LroStyle::AsyncOperation {
            s.ops.remove(&key(path));
        }
        let res = s.resources.get_mut(&op.resource);
        let (status, v) = match (&op.failure, res) {
            (Some((code, message)), Some(r)) => {
                r.busy = false;
                r.body["properties"]["provisioningState"] = json!("Failed");
                (
                    "Failed",
                    json!({"status": "Failed", "error": {"code": code, "message": message, "details": [{"code": "Detail", "message": format!("{message} (detail)")}]}}),
                )
            }
            (None, Some(r)) => {
                r.busy = false;
                r.body["properties"]["provisioningState"] = json!("Succeeded");
                on_succeeded(r, &s.flux_compliance);
                (
                    "Succeeded",
                    json!({"status": "Succeeded", "startTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:05:00Z"}),
                )
            }
            (_, None) => (
                "Failed",
                json!({"status": "Failed", "error": {"code": "ResourceGone", "message": "the resource disappeared"}}),
            ),
        };
        let body = s.resources.get(&op.resource).map(|r| r.body.clone());
        return match (style, status) {
            (LroStyle::AsyncOperation, _) => (StatusCode::OK, vec![], RespBody::Json(v)),
            (LroStyle::Location, "Failed") => (
                StatusCode::BAD_REQUEST,
                vec![],
                RespBody::Json(json!({"error": v["error"].clone()})),
            ),
            (_, _) => (
                StatusCode::OK,
                vec![],
                RespBody::Json(body.unwrap_or_else(|| json!({}))),
            ),
        };
    }
    // Role assignments at a scope (`$filter=atScope()`): only those directly on it.
    if method == Method::GET
        && lower.ends_with("/providers/microsoft.authorization/roleassignments")
    {
        let scope = lower.trim_end_matches("/providers/microsoft.authorization/roleassignments");
        let scope_exists = s.resources.contains_key(scope)
            || s.resources
                .keys()
                .any(|k| k.starts_with(&format!("{scope}/")));
        if !scope_exists {
            return json_resp(err(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!("The Resource '{scope}' was not found."),
                None,
            ));
        }
        let prefix = format!("{lower}/");
        let value: Vec<Value> = s
            .resources
            .iter()
            .filter(|(k, r)| k.starts_with(&prefix) && r.kind == Kind::RoleAssignment)
            .map(|(_, r)| r.body.clone())
            .collect();
        return json_resp((StatusCode::OK, json!({ "value": value })));
    }
    let Some(kind) = Kind::of(path) else {
        return json_resp(err(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            &format!("The resource type could not be found for path {path}."),
            None,
        ));
    };
    let k = key(path);
    match *method {
        Method::GET => match s.resources.get(&k) {
            Some(r) => {
                let mut v = r.body.clone();
                if kind == Kind::TmProfile {
                    let prefix = format!("{k}/");
                    let eps: Vec<Value> = s
                        .resources
                        .iter()
                        .filter(|(rk, _)| rk.starts_with(&prefix))
                        .map(|(_, e)| e.body.clone())
                        .collect();
                    v["properties"]["endpoints"] = Value::Array(eps);
                }
                if matches!(kind, Kind::Extension | Kind::FluxConfig)
                    && v["properties"]
                        .get("configurationProtectedSettings")
                        .is_some()
                {
                    // Stored, never returned: a GET shows an empty map.
                    v["properties"]["configurationProtectedSettings"] = json!({});
                }
                let mut h = vec![];
                if kind == Kind::Cluster {
                    h.push(("ETag", format!("\"{}\"", r.etag)));
                }
                if kind == Kind::Registry {
                    registry_view(s, &k, &mut v, query);
                }
                (StatusCode::OK, h, RespBody::Json(v))
            }
            None => json_resp(not_found(kind, path)),
        },
        Method::DELETE => {
            s.resources.remove(&k);
            json_resp((StatusCode::OK, json!({})))
        }
        Method::PUT => {
            let Some(body) = body else {
                return json_resp(err(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContent",
                    &format!(
                        "The request content was invalid and could not be deserialized: {}",
                        String::from_utf8_lossy(raw)
                    ),
                    None,
                ));
            };
            if let Some(bad) = schema_error(schema_kind(kind, query), Request::Put, &body) {
                return bad;
            }
            put(
                s,
                addr,
                kind,
                path,
                &k,
                headers,
                body,
                fail_op,
                Request::Put,
            )
        }
        Method::PATCH => {
            let Some(body) = body.filter(Value::is_object) else {
                return json_resp(err(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.",
                    None,
                ));
            };
            if kind == Kind::TmProfile && get(&body, "/properties/endpoints").is_some() {
                // Recorded service answer (azure-sdk-for-net #43949).
                return json_resp(err(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "The 'endpoints' property cannot be specified when updating a profile using PATCH. Please use PUT to update the profile instead.",
                    None,
                ));
            }
            if let Some(bad) = schema_error(schema_kind(kind, query), Request::Patch, &body) {
                return bad;
            }
            let Some(existing) = s.resources.get(&k).map(|r| r.body.clone()) else {
                return json_resp(not_found(kind, path));
            };
            s.patches.push((k.clone(), body.clone()));
            let merged = merge_patch(existing, &body);
            put(
                s,
                addr,
                kind,
                path,
                &k,
                headers,
                merged,
                fail_op,
                Request::Patch,
            )
        }
        _ => json_resp(err(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "not supported by the emulator",
            None,
        )),
    }
}

fn not_found(kind: Kind, path: &str) -> (StatusCode, Value) {
    let name = path.rsplit('/').next().unwrap_or("");
    match kind {
        Kind::ResourceGroup => err(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{name}' could not be found."),
            None,
        ),
        Kind::FluxConfig => err(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The fluxConfiguration was not found. Name: '{name}'."),
            None,
        ),
        Kind::RoleAssignment => err(
            StatusCode::NOT_FOUND,
            "RoleAssignmentNotFound",
            &format!("The role assignment '{name}' is not found."),
            None,
        ),
        _ => err(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!(
                "The Resource '{name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
            None,
        ),
    }
}

fn rg_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    (segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourcegroups")).then(|| {
        format!("/subscriptions/{}/resourcegroups/{}", segs[1], segs[3]).to_ascii_lowercase()
    })
}

fn parent(path: &str, levels: usize) -> String {
    let mut p = key(path);
    for _ in 0..levels {
        if let Some(i) = p.rfind('/') {
            p.truncate(i);
        }
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn put(
    s: &mut State,
    addr: SocketAddr,
    kind: Kind,
    path: &str,
    k: &str,
    headers: &HeaderMap,
    mut body: Value,
    fail_op: Option<(String, String)>,
    request: Request,
) -> Routed {
    // Parents must exist.
    if kind != Kind::ResourceGroup
        && let Some(rg) = rg_of(path)
        && !s.resources.contains_key(&rg)
    {
        return json_resp(err(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!(
                "Resource group '{}' could not be found.",
                rg.rsplit('/').next().unwrap_or("")
            ),
            None,
        ));
    }
    let needs_parent = match kind {
        Kind::Replication | Kind::TmEndpoint => Some(parent(path, 2)),
        Kind::Extension | Kind::FluxConfig => Some(parent(path, 4)),
        Kind::RoleAssignment | Kind::Dcra => Some(parent(path, 4)),
        _ => None,
    };
    if let Some(p) = needs_parent
        && !s.resources.contains_key(&p)
    {
        return json_resp(err(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            &format!(
                "Can not perform requested operation on nested resource. Parent resource '{p}' not found."
            ),
            None,
        ));
    }
    let existing = s.resources.get(k).cloned();
    if let Some(e) = &existing
        && e.busy
    {
        return json_resp(err(
            StatusCode::CONFLICT,
            "AnotherOperationInProgress",
            "Operation is not allowed because there's an in-progress operation on the resource.",
            None,
        ));
    }
    // Optimistic concurrency.
    if let Some(m) = headers.get("if-match").and_then(|v| v.to_str().ok()) {
        let current = existing.as_ref().map(|e| format!("\"{}\"", e.etag));
        if m != "*" && current.as_deref() != Some(m) {
            return json_resp(err(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                &format!("The ETag '{m}' does not match the resource's current ETag."),
                None,
            ));
        }
    }
    if kind == Kind::RoleAssignment {
        return put_role(s, path, k, body);
    }
    // Immutable properties.
    if let Some(e) = &existing
        && let Some((target, old, new)) = immutable_change(kind, &e.body, &body)
    {
        return json_resp(err(
            StatusCode::BAD_REQUEST,
            "PropertyChangeNotAllowed",
            &format!("Changing property '{target}' is not allowed (from {old} to {new})."),
            Some(&target),
        ));
    }
    let creating = existing.is_none();
    let id = path.to_string();
    let name = path.rsplit('/').next().unwrap_or("").to_string();
    fill(
        s,
        kind,
        &id,
        &name,
        &mut body,
        existing.as_ref().map(|e| &e.body),
    );
    let etag = existing.as_ref().map(|e| e.etag + 1).unwrap_or(1);
    if kind == Kind::Cluster {
        body["eTag"] = json!(format!("\"{etag}\""));
    }
    let mut hdrs = vec![];
    if kind == Kind::Cluster {
        hdrs.push(("ETag", format!("\"{etag}\"")));
    }
    let status = if creating || (kind == Kind::TmEndpoint && request == Request::Put) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    if kind == Kind::TmProfile && request == Request::Put && !creating {
        replace_endpoints(s, k, &body);
    }
    if kind.lro() {
        body["properties"]["provisioningState"] =
            json!(if creating { "Creating" } else { "Updating" });
        let style = s.lro_style.get(&kind).copied().unwrap_or_default();
        let op_path = match style {
            LroStyle::AsyncOperation => op_path(kind, path, &body, s.counter),
            LroStyle::Location => format!(
                "{path}/operationResults/{:08}?api-version=2025-01-01",
                s.counter
            ),
            LroStyle::ProvisioningState => path.to_string(),
        };
        let statuses: VecDeque<String> = s
            .polls
            .get(&kind)
            .cloned()
            .map(VecDeque::from)
            .unwrap_or_else(|| {
                (0..s.default_polls)
                    .map(|_| kind.running_status().to_string())
                    .collect()
            });
        s.ops.insert(
            key(op_path.split('?').next().unwrap_or("")),
            Op {
                resource: k.to_string(),
                statuses,
                failure: fail_op,
                creating,
                style,
            },
        );
        s.resources.insert(
            k.to_string(),
            Res {
                kind,
                body: body.clone(),
                etag,
                busy: true,
            },
        );
        if kind == Kind::Registry && creating {
            // ARM creates the home-region replication itself (recorded).
            let loc = body["location"].as_str().unwrap_or("").to_string();
            let rid = format!("{id}/replications/{loc}");
            s.resources.insert(
                key(&rid),
                Res {
                    kind: Kind::Replication,
                    body: json!({"id": rid, "name": loc, "type": "Microsoft.ContainerRegistry/registries/replications", "location": loc,
                        "systemData": {"createdByType": "Application"},
                        "properties": {"provisioningState": "Succeeded", "status": {"displayStatus": "Ready"}, "regionEndpointEnabled": true,
                            "zoneRedundancy": body["properties"]["zoneRedundancy"].clone()}}),
                    etag: 1,
                    busy: false,
                },
            );
        }
        if let Some(r) = s.retry_after {
            hdrs.push(("Retry-After", r.to_string()));
        }
        return match style {
            LroStyle::AsyncOperation => {
                hdrs.push(("Azure-AsyncOperation", format!("http://{addr}{op_path}")));
                (status, hdrs, RespBody::Json(body))
            }
            LroStyle::Location => {
                hdrs.push(("Location", format!("http://{addr}{op_path}")));
                (StatusCode::ACCEPTED, hdrs, RespBody::Empty)
            }
            LroStyle::ProvisioningState => (status, hdrs, RespBody::Json(body)),
        };
    }
    if kind == Kind::ResourceGroup {
        body["properties"] = json!({"provisioningState": "Succeeded"});
    }
    s.resources.insert(
        k.to_string(),
        Res {
            kind,
            body: body.clone(),
            etag,
            busy: false,
        },
    );
    (status, hdrs, RespBody::Json(body))
}

fn op_path(kind: Kind, path: &str, body: &Value, n: u64) -> String {
    let id = format!("{n:08}-9dcc-43c9-9aee-30c68b96eec8");
    let loc = body["location"].as_str().unwrap_or("eastus2");
    match kind {
        Kind::Cluster => format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/{loc}/operations/{id}?api-version=2016-03-30"
        ),
        Kind::Registry => {
            format!("{path}/operationStatuses/registries-{id}?api-version=2025-11-01")
        }
        Kind::Replication => {
            format!("{path}/operationStatuses/replications-{id}?api-version=2025-11-01")
        }
        Kind::PublicIp => format!(
            "/subscriptions/{SUB}/providers/Microsoft.Network/locations/{loc}/operations/{id}?api-version=2024-05-01"
        ),
        // Signed URL like the Flux recording: long t/c/s/h query that must be kept verbatim.
        _ => format!(
            "{}/operations/{id}?api-version=2025-04-01&t=638621604636452931&c=MIIHhzCCBm%2BgAwIBAgITfAQ{}&s=Zm9vYmFy%2Bbaz%3D%3D&h=ry3BbQ0u4WTTcrX6M2iBei8VIHjs6hWio6Sh5zm0DKI",
            path.replace("/managedClusters/", "/ManagedClusters/"),
            "A".repeat(1200)
        ),
    }
}

/// The string at `pointer` in `v`, owned.
fn string_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn immutable_change(kind: Kind, old: &Value, new: &Value) -> Option<(String, String, String)> {
    let diff = |t: &str, a: String, b: String| (a != b).then(|| (t.to_string(), a, b));
    // `diff` of the JSON text at `pointer` (empty where absent).
    let diff_at = |t: &str, pointer: &str| {
        let text = |v: &Value| get(v, pointer).map(|v| v.to_string()).unwrap_or_default();
        diff(t, text(old), text(new))
    };
    if matches!(
        kind,
        Kind::Registry
            | Kind::Replication
            | Kind::PublicIp
            | Kind::Cluster
            | Kind::ResourceGroup
            | Kind::TmProfile
    ) && new.get("location").is_some()
        && let Some(d) = diff(
            "location",
            loc_norm(old.get("location")),
            loc_norm(new.get("location")),
        )
    {
        return Some(d);
    }
    match kind {
        Kind::Cluster => {
            if let Some(d) = diff_at("properties.dnsPrefix", "/properties/dnsPrefix") {
                return Some(d);
            }
            let pools = |v: &Value| {
                v.pointer("/properties/agentPoolProfiles")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            for np in pools(new) {
                let name = np["name"].as_str().unwrap_or("");
                if let Some(op) = pools(old)
                    .into_iter()
                    .find(|p| p["name"].as_str() == Some(name))
                {
                    let (a, b) = (
                        zone_set(op.get("availabilityZones")),
                        zone_set(np.get("availabilityZones")),
                    );
                    if a != b {
                        return Some((
                            format!("agentPoolProfiles[{name}].availabilityZones"),
                            format!("{a:?}"),
                            format!("{b:?}"),
                        ));
                    }
                    if let Some(d) = diff(
                        &format!("agentPoolProfiles[{name}].vmSize"),
                        op["vmSize"].to_string(),
                        np["vmSize"].to_string(),
                    ) {
                        return Some(d);
                    }
                }
            }
            None
        }
        Kind::Registry | Kind::Replication => diff(
            "properties.zoneRedundancy",
            get(old, "/properties/zoneRedundancy")
                .and_then(Value::as_str)
                .unwrap_or("Disabled")
                .to_string(),
            get(new, "/properties/zoneRedundancy")
                .and_then(Value::as_str)
                .unwrap_or("Disabled")
                .to_string(),
        ),
        Kind::PublicIp => diff(
            "zones",
            format!("{:?}", zone_set(old.get("zones"))),
            format!("{:?}", zone_set(new.get("zones"))),
        ),
        Kind::TmProfile => diff_at(
            "properties.dnsConfig.relativeName",
            "/properties/dnsConfig/relativeName",
        ),
        _ => None,
    }
}

fn put_role(s: &mut State, path: &str, k: &str, body: Value) -> Routed {
    let principal = body
        .pointer("/properties/principalId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let role = body
        .pointer("/properties/roleDefinitionId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if principal.is_empty() || role.is_empty() {
        return json_resp(err(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentRequest",
            "principalId and roleDefinitionId are required.",
            None,
        ));
    }
    let tries = s.principal_tries.entry(principal.clone()).or_insert(0);
    *tries += 1;
    if *tries <= s.principal_not_found {
        return json_resp(err(
            StatusCode::BAD_REQUEST,
            "PrincipalNotFound",
            &format!(
                "Principal {principal} does not exist in the directory. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay."
            ),
            None,
        ));
    }
    let scope = parent(path, 4);
    let role_guid = role.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    for (rk, r) in &s.resources {
        if r.kind == Kind::RoleAssignment && rk != k && parent(rk, 4) == scope {
            let p = r
                .body
                .pointer("/properties/principalId")
                .and_then(Value::as_str)
                .unwrap_or("");
            let g = r
                .body
                .pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if p.eq_ignore_ascii_case(&principal) && g == role_guid {
                return json_resp(err(
                    StatusCode::CONFLICT,
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                    None,
                ));
            }
        }
    }
    if let Some(e) = s.resources.get(k) {
        let same = e.body.pointer("/properties/principalId")
            == body.pointer("/properties/principalId")
            && e.body
                .pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                == Some(role.to_ascii_lowercase());
        if !same {
            return json_resp(err(
                StatusCode::BAD_REQUEST,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                None,
            ));
        }
        return json_resp((StatusCode::OK, e.body.clone()));
    }
    let name = path.rsplit('/').next().unwrap_or("");
    let stored = json!({
        "id": path, "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            // Returned in the subscription-scoped form (recorded).
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
            "principalId": principal,
            "principalType": body.pointer("/properties/principalType").cloned().unwrap_or(json!("ServicePrincipal")),
            "scope": scope,
            "description": body.pointer("/properties/description").cloned().unwrap_or(Value::Null),
            "createdOn": "2026-01-01T00:00:00Z", "updatedOn": "2026-01-01T00:00:00Z", "createdBy": null, "updatedBy": "x"
        }
    });
    s.resources.insert(
        k.to_string(),
        Res {
            kind: Kind::RoleAssignment,
            body: stored.clone(),
            etag: 1,
            busy: false,
        },
    );
    json_resp((StatusCode::CREATED, stored))
}

fn uuid_from(n: u64, salt: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        n as u32,
        salt as u16,
        (n >> 8) as u16 & 0xfff,
        salt as u16 & 0xfff,
        n.wrapping_mul(2654435761) & 0xffff_ffff_ffff
    )
}

/// Server-side fields, defaults and case changes, as the recordings show them.
fn fill(s: &mut State, kind: Kind, id: &str, name: &str, body: &mut Value, old: Option<&Value>) {
    s.counter += 1;
    let n = s.counter;
    // ARM ids come back with varying case (recorded: `resourcegroups`).
    body["id"] = json!(id.replace("/resourceGroups/", "/resourcegroups/"));
    body["name"] = json!(name);
    let props = body
        .as_object_mut()
        .expect("object body")
        .entry("properties")
        .or_insert_with(|| json!({}));
    if !props.is_object() {
        *props = json!({});
    }
    match kind {
        Kind::ResourceGroup => body["type"] = json!("Microsoft.Resources/resourceGroups"),
        Kind::Registry => {
            body["type"] = json!("Microsoft.ContainerRegistry/registries");
            body["sku"]["tier"] = body["sku"]["name"].clone();
            let p = &mut body["properties"];
            p["loginServer"] = json!(format!("{name}.azurecr.io"));
            p["creationDate"] = json!("2026-01-01T00:00:00Z");
            p["publicNetworkAccess"] = json!("Enabled");
            p["networkRuleBypassOptions"] = json!("AzureServices");
            p["dataEndpointHostNames"] = json!([format!("{name}.eastus2.data.azurecr.io")]);
            p["privateEndpointConnections"] = json!([]);
            if p.get("zoneRedundancy").is_none() {
                p["zoneRedundancy"] = json!("Disabled");
            }
            if p.get("adminUserEnabled").is_none() {
                p["adminUserEnabled"] = json!(false);
            }
            // A stable-version PUT does not know the preview-only properties: they keep their
            // value (the RP behaviour for properties an older api-version lacks).
            if let Some(old_p) = old.and_then(|o| o.get("properties")) {
                for k in REGISTRY_PREVIEW_ONLY {
                    if p.get(k).is_none()
                        && let Some(v) = old_p.get(k)
                    {
                        p[k] = v.clone();
                    }
                }
            }
        }
        Kind::Replication => {
            body["type"] = json!("Microsoft.ContainerRegistry/registries/replications");
            let p = &mut body["properties"];
            if p.get("zoneRedundancy").is_none() {
                p["zoneRedundancy"] = json!("Disabled");
            }
            if p.get("regionEndpointEnabled").is_none() {
                p["regionEndpointEnabled"] = json!(true);
            }
            p["status"] = json!({"displayStatus": "Syncing"});
        }
        Kind::PublicIp => {
            body["type"] = json!("Microsoft.Network/publicIPAddresses");
            if body["sku"].get("tier").is_none() {
                body["sku"]["tier"] = json!("Regional");
            }
            let loc = body["location"].as_str().unwrap_or("").to_string();
            let p = &mut body["properties"];
            p["ipAddress"] = json!(format!("20.{}.{}.{}", n % 250, (n / 250) % 250, 7));
            p["idleTimeoutInMinutes"] = json!(4);
            p["resourceGuid"] = json!(uuid_from(n, 4));
            p["publicIPAllocationMethod"] =
                json!(p["publicIPAllocationMethod"].as_str().unwrap_or("Dynamic"));
            if let Some(label) = string_at(p, "/dnsSettings/domainNameLabel") {
                p["dnsSettings"]["fqdn"] = json!(format!("{label}.{loc}.cloudapp.azure.com"));
            }
        }
        Kind::Cluster => {
            body["type"] = json!("Microsoft.ContainerService/ManagedClusters");
            let requested = string_at(body, "/properties/kubernetesVersion");
            let running = old.and_then(|o| string_at(o, "/properties/currentKubernetesVersion"));
            let version = match (&requested, &running) {
                (Some(r), Some(cur)) if !cur.starts_with(r.as_str()) => {
                    s.upgrades.push(r.clone());
                    format!("{r}.0")
                }
                (Some(r), None) => format!("{r}.5"),
                (_, Some(cur)) => cur.clone(),
                (None, None) => "1.33.5".into(),
            };
            let p = &mut body["properties"];
            if let Some(m) = p.pointer_mut("/azureMonitorProfile/metrics")
                && m.get("kubeStateMetrics").is_none()
            {
                // Server default of the metrics add-on.
                m["kubeStateMetrics"] =
                    json!({"metricLabelsAllowlist": "", "metricAnnotationsAllowList": ""});
            }
            p["kubernetesVersion"] = json!(version);
            p["currentKubernetesVersion"] = json!(version);
            p["fqdn"] = json!(format!(
                "{}-abc123.hcp.eastus2.azmk8s.io",
                p["dnsPrefix"].as_str().unwrap_or("")
            ));
            p["powerState"] = json!({"code": "Running"});
            p["maxAgentPools"] = json!(100);
            p["resourceUID"] = json!(uuid_from(n, 5));
            if p["networkProfile"].is_object() {
                p["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"] = json!([{
                    "id": format!("/subscriptions/{SUB}/resourceGroups/MC_{name}/providers/Microsoft.Network/publicIPAddresses/outbound-{n}")
                }]);
            }
            p["nodeResourceGroup"] = json!(format!("MC_{name}"));
            if let Some(np) = p.get_mut("networkProfile")
                && let Some(sku) = string_at(np, "/loadBalancerSku")
            {
                np["loadBalancerSku"] = json!(if sku.eq_ignore_ascii_case("standard") {
                    "Standard".to_string()
                } else {
                    sku
                });
            }
            if let Some(pools) = p.get_mut("agentPoolProfiles").and_then(Value::as_array_mut) {
                for pool in pools {
                    pool["orchestratorVersion"] = json!(version);
                    pool["currentOrchestratorVersion"] = json!(version);
                    pool["osDiskSizeGB"] = json!(128);
                    pool["maxPods"] = json!(250);
                    pool["osSKU"] = json!("Ubuntu");
                    pool["provisioningState"] = json!("Succeeded");
                    pool["nodeImageVersion"] = json!("AKSUbuntu-2204gen2containerd-202601.01.0");
                    pool["eTag"] = json!(format!("pool-{n}"));
                }
            }
            // Server-managed identities survive updates.
            let kubelet = old
                .and_then(|o| o.pointer("/properties/identityProfile").cloned())
                .unwrap_or_else(|| json!({"kubeletidentity": {
                    "resourceId": format!("/subscriptions/{SUB}/resourcegroups/MC_{name}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool"),
                    "clientId": uuid_from(n, 1), "objectId": uuid_from(n, 2)}}));
            p["identityProfile"] = kubelet;
            p["oidcIssuerProfile"]["issuerURL"] = json!(format!(
                "https://eastus2.oic.prod-aks.azure.com/tenant/{n}/"
            ));
            let principal = old
                .and_then(|o| o.pointer("/identity/principalId").cloned())
                .unwrap_or_else(|| json!(uuid_from(n, 3)));
            body["identity"]["principalId"] = principal;
            body["identity"]["tenantId"] = json!("72f988bf-86f1-41af-91ab-2d7cd011db47");
        }
        Kind::Extension => {
            body["type"] = json!("Microsoft.KubernetesConfiguration/extensions");
            let p = &mut body["properties"];
            p["currentVersion"] = json!("1.15.1");
            p["statuses"] = json!([]);
            if p.get("autoUpgradeMinorVersion").is_none() {
                p["autoUpgradeMinorVersion"] = json!(true);
            }
        }
        Kind::FluxConfig => {
            body["type"] = json!("Microsoft.KubernetesConfiguration/fluxConfigurations");
            let p = &mut body["properties"];
            for (k, v) in [
                ("suspend", json!(false)),
                ("scope", json!("cluster")),
                ("namespace", json!("default")),
            ] {
                if p.get(k).is_none() {
                    p[k] = v;
                }
            }
            if let Some(g) = p.get_mut("gitRepository") {
                for (k, v) in [("timeoutInSeconds", 600), ("syncIntervalInSeconds", 600)] {
                    if g.get(k).is_none() {
                        g[k] = json!(v);
                    }
                }
                for k in ["tag", "semver", "commit"] {
                    g["repositoryRef"][k] = Value::Null;
                }
                g["sshKnownHosts"] = Value::Null;
            }
            if let Some(ks) = p.get_mut("kustomizations").and_then(Value::as_object_mut) {
                for (kname, kv) in ks.iter_mut() {
                    kv["name"] = json!(kname);
                    for (k, v) in [
                        ("timeoutInSeconds", json!(600)),
                        ("syncIntervalInSeconds", json!(600)),
                        ("prune", json!(false)),
                        ("force", json!(false)),
                        ("wait", json!(true)),
                        ("path", json!("")),
                    ] {
                        if kv.get(k).is_none() {
                            kv[k] = v;
                        }
                    }
                    kv["dependsOn"] = Value::Null;
                    kv["retryIntervalInSeconds"] = Value::Null;
                }
            }
            p["complianceState"] = json!("Pending");
            p["statuses"] = json!([]);
            if p.get("configurationProtectedSettings").is_none() {
                p["configurationProtectedSettings"] = json!({});
            }
        }
        Kind::TmProfile => {
            body["type"] = json!("Microsoft.Network/trafficManagerProfiles");
            let p = &mut body["properties"];
            if let Some(rel) = string_at(p, "/dnsConfig/relativeName") {
                p["dnsConfig"]["fqdn"] = json!(format!("{rel}.trafficmanager.net"));
            }
            let m = &mut p["monitorConfig"];
            for (k, v) in [
                ("intervalInSeconds", 30),
                ("toleratedNumberOfFailures", 3),
                ("timeoutInSeconds", 10),
            ] {
                if m.get(k).is_none() {
                    m[k] = json!(v);
                }
            }
            m["profileMonitorStatus"] = json!("CheckingEndpoints");
            if p.get("trafficViewEnrollmentStatus").is_none() {
                // Server default when a (full-replace) PUT leaves it out.
                p["trafficViewEnrollmentStatus"] = json!("Disabled");
            }
            p.as_object_mut().expect("object").remove("endpoints");
        }
        Kind::TmEndpoint => {
            body["type"] = json!("Microsoft.Network/trafficManagerProfiles/azureEndpoints");
            let p = &mut body["properties"];
            if let Some(t) = string_at(p, "/targetResourceId") {
                p["targetResourceId"] = json!(t.replace("/resourceGroups/", "/resourcegroups/"));
            }
            p["endpointMonitorStatus"] = json!("Online");
            p["endpointLocation"] = Value::Null;
            p["NestedProfile"] = Value::Null;
        }
        Kind::RoleAssignment => {}
        Kind::MonitorAccount => {
            body["type"] = json!("Microsoft.Monitor/accounts");
            let loc = body["location"].as_str().unwrap_or("").to_string();
            body["etag"] = json!(format!("\"{n:08x}\""));
            let p = &mut body["properties"];
            p["accountId"] = json!(uuid_from(n, 6));
            p["metrics"] = json!({
                "prometheusQueryEndpoint": format!("https://{name}-{n}.{loc}.prometheus.monitor.azure.com"),
                "internalId": format!("mac_{}", uuid_from(n, 7)),
            });
            p["provisioningState"] = json!("Succeeded");
            p["defaultIngestionSettings"] = json!({
                "dataCollectionRuleResourceId": format!("/subscriptions/{SUB}/resourceGroups/MA_{name}_{loc}_managed/providers/Microsoft.Insights/dataCollectionRules/{name}"),
                "dataCollectionEndpointResourceId": format!("/subscriptions/{SUB}/resourceGroups/MA_{name}_{loc}_managed/providers/Microsoft.Insights/dataCollectionEndpoints/{name}"),
            });
            if p.get("publicNetworkAccess").is_none() {
                p["publicNetworkAccess"] = json!("Enabled");
            }
        }
        Kind::Dce => {
            body["type"] = json!("Microsoft.Insights/dataCollectionEndpoints");
            let loc = body["location"].as_str().unwrap_or("").to_string();
            let host = format!("{}-{n:04x}.{loc}-1", name.to_ascii_lowercase());
            let p = &mut body["properties"];
            p["immutableId"] = json!(format!("dce-{}", uuid_from(n, 8).replace('-', "")));
            p["configurationAccess"] =
                json!({"endpoint": format!("https://{host}.handler.control.monitor.azure.com")});
            p["logsIngestion"] =
                json!({"endpoint": format!("https://{host}.ingest.monitor.azure.com")});
            p["metricsIngestion"] =
                json!({"endpoint": format!("https://{host}.metrics.ingest.monitor.azure.com")});
            if p.get("networkAcls").is_none() {
                p["networkAcls"] = json!({"publicNetworkAccess": "Enabled"});
            }
            p["provisioningState"] = json!("Succeeded");
        }
        Kind::Dcr => {
            body["type"] = json!("Microsoft.Insights/dataCollectionRules");
            let p = &mut body["properties"];
            p["immutableId"] = json!(format!("dcr-{}", uuid_from(n, 9).replace('-', "")));
            if let Some(accounts) = p
                .pointer_mut("/destinations/monitoringAccounts")
                .and_then(Value::as_array_mut)
            {
                for a in accounts {
                    a["accountId"] = json!(uuid_from(n, 10));
                }
            }
            p["provisioningState"] = json!("Succeeded");
        }
        Kind::Dcra => {
            body["type"] = json!("Microsoft.Insights/dataCollectionRuleAssociations");
            body["properties"]["provisioningState"] = json!("Succeeded");
        }
        Kind::RuleGroup => {
            body["type"] = json!("Microsoft.AlertsManagement/prometheusRuleGroups");
            // The spec example echoes `actions: []` on a rule sent without actions.
            if let Some(rules) = body
                .pointer_mut("/properties/rules")
                .and_then(Value::as_array_mut)
            {
                for r in rules.iter_mut().filter(|r| r.get("actions").is_none()) {
                    r["actions"] = json!([]);
                }
            }
        }
        Kind::ActionGroup => {
            body["type"] = json!("Microsoft.Insights/ActionGroups");
            // Recorded in the spec examples: the location comes back as `Global`.
            body["location"] = json!("Global");
            if let Some(rs) = body
                .pointer_mut("/properties/emailReceivers")
                .and_then(Value::as_array_mut)
            {
                for r in rs {
                    r["status"] = json!("Enabled");
                }
            }
            // Modelled server default (optional boolean echoed as false; not observed).
            if let Some(rs) = body
                .pointer_mut("/properties/webhookReceivers")
                .and_then(Value::as_array_mut)
            {
                for r in rs.iter_mut().filter(|r| r.get("useAadAuth").is_none()) {
                    r["useAadAuth"] = json!(false);
                }
            }
        }
        Kind::MetricAlert => {
            body["type"] = json!("Microsoft.Insights/metricAlerts");
            let p = &mut body["properties"];
            p["lastUpdatedTime"] = json!("2026-01-01T00:00:00Z");
            p["isMigrated"] = json!(false);
            // Modelled server default (optional boolean echoed as false; not observed).
            if let Some(all) = p
                .pointer_mut("/criteria/allOf")
                .and_then(Value::as_array_mut)
            {
                for c in all
                    .iter_mut()
                    .filter(|c| c.get("skipMetricValidation").is_none())
                {
                    c["skipMetricValidation"] = json!(false);
                }
            }
        }
    }
}

fn on_succeeded(r: &mut Res, flux_compliance: &str) {
    match r.kind {
        Kind::Replication => r.body["properties"]["status"] = json!({"displayStatus": "Ready"}),
        Kind::FluxConfig => r.body["properties"]["complianceState"] = json!(flux_compliance),
        _ => {}
    }
}

/// A profile PUT is a full replace: the endpoint list becomes exactly what the body carries
/// (terraform-provider-azurerm #6041 / #7470: a PUT without `endpoints` deletes them all).
fn replace_endpoints(s: &mut State, profile_key: &str, body: &Value) {
    let keep: Vec<String> = body
        .pointer("/properties/endpoints")
        .and_then(Value::as_array)
        .map(|eps| {
            eps.iter()
                .filter_map(|e| {
                    let t = e["type"].as_str()?.rsplit('/').next()?.to_string();
                    let n = e["name"].as_str()?.to_string();
                    Some(format!("{profile_key}/{t}/{n}").to_ascii_lowercase())
                })
                .collect()
        })
        .unwrap_or_default();
    let prefix = format!("{profile_key}/");
    let gone: Vec<String> = s
        .resources
        .keys()
        .filter(|k| k.starts_with(&prefix) && !keep.contains(k))
        .cloned()
        .collect();
    for k in gone {
        s.resources.remove(&k);
        s.deleted_by_profile_put.push(k);
    }
}

/// JSON merge patch (RFC 7386) as ARM applies a PATCH, except that `tags` is replaced whole.
fn merge_patch(mut target: Value, patch: &Value) -> Value {
    fn merge(t: &mut Value, p: &Value) {
        match (t.as_object_mut(), p.as_object()) {
            (Some(to), Some(po)) => {
                for (k, v) in po {
                    if v.is_null() {
                        to.remove(k);
                    } else if let Some(existing) = to.get_mut(k)
                        && existing.is_object()
                        && v.is_object()
                    {
                        merge(existing, v);
                    } else {
                        to.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => *t = p.clone(),
        }
    }
    if let (Some(t), Some(tags)) = (target.as_object_mut(), patch.get("tags")) {
        t.insert("tags".into(), tags.clone());
    }
    let mut p = patch.clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("tags");
    }
    merge(&mut target, &p);
    target
}

fn is_registry_preview(query: &str) -> bool {
    query
        .split('&')
        .any(|kv| kv.eq_ignore_ascii_case(&format!("api-version={REGISTRY_PREVIEW}")))
}

/// The spec a body is checked against: the registry's depends on the api-version (only the
/// preview one knows `regionalEndpoints`).
pub fn schema_kind(kind: Kind, query: &str) -> infra::arm::ResourceKind {
    if kind == Kind::Registry && is_registry_preview(query) {
        infra::arm::ResourceKind::RegistryRegionalEndpoints
    } else {
        kind.resource_kind()
    }
}

/// A registry GET as the api-version shows it: the stable one without the preview-only
/// properties, the preview one with `regionalEndpoints` (default Disabled) and one
/// `<registry>.<region>.geo.azurecr.io` per replica while enabled.
fn registry_view(s: &State, key_: &str, v: &mut Value, query: &str) {
    let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    if !is_registry_preview(query) {
        for k in REGISTRY_PREVIEW_ONLY {
            p.remove(k);
        }
        return;
    }
    let enabled = p
        .get("regionalEndpoints")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("Enabled"));
    if !enabled {
        p.insert("regionalEndpoints".into(), json!("Disabled"));
    }
    let name = key_.rsplit('/').next().unwrap_or("").to_string();
    let prefix = format!("{key_}/replications/");
    let mut hosts: Vec<String> = if enabled {
        s.resources
            .iter()
            .filter(|(k, r)| k.starts_with(&prefix) && r.kind == Kind::Replication)
            .filter_map(|(_, r)| r.body["location"].as_str().map(str::to_string))
            .map(|loc| format!("{name}.{}.geo.azurecr.io", loc.to_ascii_lowercase()))
            .collect()
    } else {
        vec![]
    };
    hosts.sort();
    p.insert("regionalEndpointHostNames".into(), json!(hosts));
    p.entry("endpointProtocol").or_insert(json!("IPv4"));
}

/// A 400 like ARM's when `body` breaks the vendored spec schema of `kind`.
fn schema_error(kind: infra::arm::ResourceKind, request: Request, body: &Value) -> Option<Routed> {
    let violations = infra::arm::schema::schema(kind).validate(request, body);
    let first = violations.first()?;
    let target = match first {
        Violation::Unknown { path }
        | Violation::WrongType { path, .. }
        | Violation::BadEnum { path, .. }
        | Violation::ReadOnly { path } => path.clone(),
    };
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    Some(json_resp(err(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        &format!("The request content was invalid: {}", list.join("; ")),
        Some(&target),
    )))
}
