//! The router: routes, handlers and the per-route middleware stack.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::routing::{MethodRouter, any, get};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::{Config, DEFAULT_PATH, METRICS_PATH, ProbePaths};
use crate::errors;
use crate::health::{Health, Phase};
use crate::identity::Identity;
use crate::metrics::{Metrics, Route};
use crate::observe::ObserveLayer;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const PROMETHEUS: HeaderValue =
    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Pre-serialized body of `GET /default`.
    pub default_body: Bytes,
    /// Lifecycle state behind the probes.
    pub health: Arc<Health>,
    /// Request metrics (one set per process, see [`Metrics::leak`]).
    pub metrics: &'static Metrics,
}

impl AppState {
    /// State for `identity`, in [`Phase::Starting`].
    pub fn new(identity: &Identity) -> Self {
        let metrics = Metrics::leak();
        Self {
            default_body: identity.to_body(),
            health: Arc::new(Health::new(metrics)),
            metrics,
        }
    }
}

/// Settings the router needs.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// Probe paths.
    pub probes: ProbePaths,
    /// Handler deadline; late requests get 503.
    pub request_timeout: Duration,
    /// Share of `GET /default` answered 500 on purpose (see `INJECT_ERROR_RATIO`).
    pub inject_error_ratio: f64,
}

impl From<&Config> for RouterSettings {
    fn from(c: &Config) -> Self {
        Self {
            probes: c.probes.clone(),
            request_timeout: c.request_timeout,
            inject_error_ratio: c.inject_error_ratio,
        }
    }
}

/// Wrap `route` in the per-route stack: metrics (outermost, so it sees every status), panic
/// catcher, request timeout. Methods `route` does not serve get a JSON 405 with `Allow`
/// (call this after adding the method handlers).
pub fn instrument(
    route: MethodRouter,
    label: Route,
    metrics: &'static Metrics,
    request_timeout: Duration,
) -> MethodRouter {
    route.layer(
        ServiceBuilder::new()
            .layer(ObserveLayer::new(label, metrics))
            .layer(CatchPanicLayer::custom(|_| errors::internal()))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                request_timeout,
            )),
    )
}

/// Build the application router.
pub fn router(state: &AppState, settings: &RouterSettings) -> Router {
    let m = state.metrics;
    let t = settings.request_timeout;

    let body = state.default_body.clone();
    let faults = Arc::new(InjectedFaults::new(settings.inject_error_ratio));
    let default = get_only(move || {
        let body = body.clone();
        let fail = faults.next_fails();
        async move {
            if fail {
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Bytes::from_static(br#"{"error":"injected fault (INJECT_ERROR_RATIO)"}"#),
                )
            } else {
                json_response(StatusCode::OK, body)
            }
        }
    });

    let metrics = state.metrics;
    let metrics_route = get_only(move || async move {
        let mut resp = Response::new(Body::from(metrics.render()));
        resp.headers_mut().insert(header::CONTENT_TYPE, PROMETHEUS);
        resp
    });

    let health = state.health.clone();
    let readiness = get_only(move || {
        let phase = health.phase();
        async move {
            match phase {
                Phase::Ready => probe(StatusCode::OK, r#"{"status":"ready"}"#),
                Phase::Starting => {
                    probe(StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"starting"}"#)
                }
                Phase::Draining => {
                    probe(StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"draining"}"#)
                }
            }
        }
    });

    let health = state.health.clone();
    let startup = get_only(move || {
        let phase = health.phase();
        async move {
            match phase {
                Phase::Starting => {
                    probe(StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"starting"}"#)
                }
                Phase::Ready | Phase::Draining => probe(StatusCode::OK, r#"{"status":"started"}"#),
            }
        }
    });

    let liveness = get_only(|| async { probe(StatusCode::OK, r#"{"status":"alive"}"#) });

    Router::new()
        .route(DEFAULT_PATH, instrument(default, Route::Default, m, t))
        .route(
            METRICS_PATH,
            instrument(metrics_route, Route::Metrics, m, t),
        )
        .route(
            &settings.probes.readiness,
            instrument(readiness, Route::Readiness, m, t),
        )
        .route(
            &settings.probes.liveness,
            instrument(liveness, Route::Liveness, m, t),
        )
        .route(
            &settings.probes.startup,
            instrument(startup, Route::Startup, m, t),
        )
        .fallback_service(instrument(any(not_found), Route::Unmatched, m, t))
}

/// A GET (and HEAD) route whose other methods get a JSON 405 with `Allow`.
pub fn get_only<H, T>(handler: H) -> MethodRouter
where
    H: axum::handler::Handler<T, ()>,
    T: 'static,
{
    get(handler).fallback(method_not_allowed)
}

/// Which requests fail on purpose: request n fails when `floor((n+1)·r) > floor(n·r)`, so
/// exactly the share `r` of every run of requests fails, spread evenly (no randomness to make
/// a test flaky).
#[derive(Debug)]
struct InjectedFaults {
    ratio: f64,
    count: std::sync::atomic::AtomicU64,
}

impl InjectedFaults {
    fn new(ratio: f64) -> Self {
        Self {
            ratio,
            count: std::sync::atomic::AtomicU64::new(0),
        }
    }

    #[inline]
    fn next_fails(&self) -> bool {
        if self.ratio <= 0.0 {
            return false;
        }
        let n = self
            .count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed) as f64;
        ((n + 1.0) * self.ratio).floor() > (n * self.ratio).floor()
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, JSON);
    resp
}

fn probe(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = json_response(status, Bytes::from_static(body.as_bytes()));
    resp.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
    resp
}

async fn not_found() -> Response<Body> {
    errors::not_found()
}

async fn method_not_allowed() -> Response<Body> {
    errors::method_not_allowed()
}
