//! In-process tests of the router: every route, status and error body.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use service::app::{RouterSettings, get_only, instrument};
use service::config::{Config, ProbePaths};
use service::health::Phase;
use service::identity::Identity;
use service::metrics::Route;
use service::{AppState, router};
use tower::ServiceExt as _;

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status);
        assert_eq!(self.headers[header::CONTENT_TYPE], "application/json");
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
    }
}

async fn call(app: &Router, method: Method, uri: &str) -> Resp {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = resp.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

fn config() -> Config {
    Config {
        hostname: Some("pod-7".into()),
        pod_ip: Some("10.244.1.7".parse().expect("ip")),
        region: "westeurope".into(),
        zone: "westeurope-1".into(),
        ..Config::default()
    }
}

fn app_with(cfg: &Config) -> (AppState, Router) {
    let state = AppState::new(&Identity::resolve(cfg));
    let app = router(&state, &RouterSettings::from(cfg));
    (state, app)
}

fn ready_app() -> (AppState, Router) {
    let (state, app) = app_with(&config());
    state.health.set_ready();
    (state, app)
}

#[tokio::test]
async fn default_returns_identity() {
    let (_, app) = ready_app();
    let r = call(&app, Method::GET, "/default").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        r.json(),
        json!({
            "hostname": "pod-7", "ip": "10.244.1.7", "region": "westeurope",
            "zone": "westeurope-1", "version": service::VERSION, "image": null
        })
    );
    // The query string does not change the route.
    let r = call(&app, Method::GET, "/default?x=1").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn head_is_served_without_body() {
    let (_, app) = ready_app();
    let r = call(&app, Method::HEAD, "/default").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn probes_follow_the_lifecycle() {
    let (state, app) = app_with(&config());
    let status = |path: &'static str| {
        let app = app.clone();
        async move { call(&app, Method::GET, path).await }
    };

    // Starting: readiness and startup fail, liveness passes.
    assert_eq!(state.health.phase(), Phase::Starting);
    let r = status("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json(), json!({"status": "starting"}));
    assert_eq!(
        status("/startupz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(status("/healthz").await.status, StatusCode::OK);

    // Ready: everything passes.
    state.health.set_ready();
    let r = status("/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(r.json(), json!({"status": "ready"}));
    assert_eq!(status("/startupz").await.status, StatusCode::OK);
    assert_eq!(status("/healthz").await.json(), json!({"status": "alive"}));

    // Draining: only readiness fails; /default is still served.
    state.health.set_draining();
    let r = status("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json(), json!({"status": "draining"}));
    assert_eq!(status("/startupz").await.status, StatusCode::OK);
    assert_eq!(status("/healthz").await.status, StatusCode::OK);
    assert_eq!(status("/default").await.status, StatusCode::OK);
}

#[tokio::test]
async fn probe_paths_are_configurable() {
    let cfg = Config {
        probes: ProbePaths {
            readiness: "/ready".into(),
            liveness: "/live".into(),
            startup: "/started".into(),
        },
        ..config()
    };
    let (state, app) = app_with(&cfg);
    state.health.set_ready();
    for path in ["/ready", "/live", "/started"] {
        assert_eq!(
            call(&app, Method::GET, path).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    for path in ["/readyz", "/healthz", "/startupz"] {
        call(&app, Method::GET, path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "NotFound");
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let (_, app) = ready_app();
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::GET, "/default/"),
        (Method::POST, "/nope"),
        (Method::DELETE, "/metrics/x"),
    ] {
        let r = call(&app, method, path).await;
        r.assert_error(StatusCode::NOT_FOUND, "NotFound");
        assert_eq!(
            r.json(),
            json!({"error": {"code": "NotFound", "message": "no route matches this path"}})
        );
    }
}

#[tokio::test]
async fn wrong_method_is_json_405_with_allow() {
    let (_, app) = ready_app();
    for path in ["/default", "/metrics", "/readyz", "/healthz", "/startupz"] {
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
            let r = call(&app, method.clone(), path).await;
            r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
            assert_eq!(r.headers[header::ALLOW], "GET, HEAD", "{method} {path}");
        }
    }
}

#[tokio::test]
async fn overlong_uri_is_json_414() {
    let (_, app) = ready_app();
    let long = format!("/default?q={}", "a".repeat(9000));
    call(&app, Method::GET, &long)
        .await
        .assert_error(StatusCode::URI_TOO_LONG, "UriTooLong");
    let long_path = format!("/{}", "b".repeat(9000));
    call(&app, Method::GET, &long_path)
        .await
        .assert_error(StatusCode::URI_TOO_LONG, "UriTooLong");
    // Just under the limit is fine.
    let ok = format!("/default?q={}", "a".repeat(8000));
    assert_eq!(call(&app, Method::GET, &ok).await.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_by_route_and_status() {
    let (_, app) = ready_app();
    for _ in 0..3 {
        call(&app, Method::GET, "/default").await;
    }
    call(&app, Method::GET, "/nope-1").await;
    call(&app, Method::GET, "/nope-2").await;
    call(&app, Method::POST, "/default").await;
    call(&app, Method::GET, "/readyz").await;

    let r = call(&app, Method::GET, "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(r.body.to_vec()).expect("utf-8");
    for line in [
        "http_requests_total{route=\"default\",status=\"200\"} 3",
        "http_requests_total{route=\"default\",status=\"405\"} 1",
        "http_requests_total{route=\"unmatched\",status=\"404\"} 2",
        "http_requests_total{route=\"readiness\",status=\"200\"} 1",
        "http_request_duration_seconds_count{route=\"default\"} 4",
        "http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 2",
        // The scrape itself is in flight while rendering.
        "http_requests_in_flight 1",
        "service_ready 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains(&format!(
        "service_build_info{{version=\"{}\"}} 1",
        service::VERSION
    )));
    // The raw path never becomes a label.
    assert!(!text.contains("nope"), "{text}");
}

/// A router using the production middleware stack around test-only handlers.
fn stack_app(state: &AppState, timeout: Duration) -> Router {
    let m = state.metrics;
    Router::new()
        .route(
            "/slow",
            instrument(
                get_only(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "late"
                }),
                Route::Default,
                m,
                timeout,
            ),
        )
        .route(
            "/panic",
            instrument(
                get_only(|| async {
                    if std::hint::black_box(true) {
                        panic!("boom");
                    }
                    "unreachable"
                }),
                Route::Default,
                m,
                timeout,
            ),
        )
}

#[tokio::test]
async fn request_timeout_is_json_503() {
    let state = AppState::new(&Identity::resolve(&config()));
    let app = stack_app(&state, Duration::from_millis(50));
    let started = std::time::Instant::now();
    let r = call(&app, Method::GET, "/slow").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "Timeout");
    assert_eq!(state.metrics.requests(Route::Default, 503), 1);
}

#[tokio::test]
async fn panics_become_json_500() {
    let state = AppState::new(&Identity::resolve(&config()));
    let app = stack_app(&state, Duration::from_secs(5));
    let r = call(&app, Method::GET, "/panic").await;
    r.assert_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal");
    assert_eq!(state.metrics.requests(Route::Default, 500), 1);
    assert!(state.metrics.render().contains("http_requests_in_flight 0"));
}

#[tokio::test]
async fn cancelled_requests_leave_the_in_flight_gauge() {
    let state = Arc::new(AppState::new(&Identity::resolve(&config())));
    let app = stack_app(&state, Duration::from_secs(60));
    let fut = call(&app, Method::GET, "/slow");
    let res = tokio::time::timeout(Duration::from_millis(20), fut).await;
    assert!(res.is_err(), "the slow handler cannot have finished");
    assert!(
        state
            .metrics
            .render()
            .contains("http_requests_in_flight 0\n")
    );
}

#[tokio::test]
async fn injected_errors_fail_exactly_their_share_of_default_and_nothing_else() {
    let cfg = Config {
        inject_error_ratio: 0.25,
        ..config()
    };
    let (state, app) = app_with(&cfg);
    state.health.set_ready();
    let mut failed = 0;
    for _ in 0..100 {
        let r = call(&app, Method::GET, "/default").await;
        match r.status {
            StatusCode::OK => {}
            StatusCode::INTERNAL_SERVER_ERROR => {
                failed += 1;
                assert!(String::from_utf8_lossy(&r.body).contains("injected fault"));
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!(failed, 25);
    // Probes never fail on purpose: an injected fault must not take the pod out of rotation.
    for _ in 0..8 {
        assert_eq!(
            call(&app, Method::GET, "/readyz").await.status,
            StatusCode::OK
        );
    }
    let metrics =
        String::from_utf8_lossy(&call(&app, Method::GET, "/metrics").await.body).into_owned();
    assert!(
        metrics.contains("http_requests_total{route=\"default\",status=\"500\"} 25\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nprocess_start_time_seconds "),
        "{metrics}"
    );
}

#[tokio::test]
async fn without_injection_default_never_fails() {
    let (_state, app) = ready_app();
    for _ in 0..50 {
        assert_eq!(
            call(&app, Method::GET, "/default").await.status,
            StatusCode::OK
        );
    }
}
