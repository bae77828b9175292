//! Gate 1 against real registries: two Debian `docker-registry` instances on 127.0.0.1 stand
//! for two regional replicas. A real image manifest is pushed to one and copied to the other
//! after a delay (geo-replication is eventually consistent): the gate waits, then passes;
//! never copied: the gate times out naming the region. ACR's token exchange, which no local
//! registry implements, is checked against a stand-in that follows ACR's documented flow.

use promote::registry::{Presence, RegistryError, RegistryGate};
use promote::{Gate, Progress};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use test_support::{free_port, push_image, start_registry};

type Lines = Arc<Mutex<Vec<String>>>;
type Sink = Box<dyn Fn(&str) + Sync + Send>;

fn collecting() -> (Lines, Sink) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    (
        lines,
        Box::new(move |s: &str| l.lock().unwrap().push(s.to_string())),
    )
}

#[tokio::test]
async fn the_gate_waits_for_the_replica_then_passes() {
    let (east, central) = (start_registry(), start_registry());
    let digest = push_image(&east.base, "hello", "1.2.3", b"layer-one").await;
    let gate = RegistryGate::new(None);
    assert_eq!(
        gate.check(&east.base, "hello", "1.2.3").await.unwrap(),
        Presence::Present {
            digest: Some(digest.clone())
        }
    );
    assert_eq!(
        gate.check(&central.base, "hello", "1.2.3").await.unwrap(),
        Presence::Absent
    );
    assert_eq!(
        gate.check(&east.base, "hello", &digest).await.unwrap(),
        Presence::Present {
            digest: Some(digest.clone())
        },
        "a digest reference works like a tag"
    );

    // "Geo-replication": the same image reaches the second replica 2 s later.
    let central_base = central.base.clone();
    let copier = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        push_image(&central_base, "hello", "1.2.3", b"layer-one").await
    });
    let (lines, progress) = collecting();
    let progress: Progress<'_> = &*progress;
    let regions = vec![
        ("eastus2".to_string(), east.base.clone()),
        ("centralus".to_string(), central.base.clone()),
    ];
    let start = Instant::now();
    gate.wait(
        &regions,
        "hello",
        "1.2.3",
        Duration::from_secs(20),
        Duration::from_millis(300),
        progress,
    )
    .await
    .expect("passes once the replica has it");
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "did not wait for the copy"
    );
    assert_eq!(copier.await.unwrap(), digest, "same content, same digest");
    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(
            |l| l.starts_with("centralus: waiting for manifest hello:1.2.3")
                && l.contains("absent (HTTP 404)")
                && l.ends_with("s left")
        ),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("centralus: manifest hello:1.2.3 present")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_manifest_never_replicated_times_out_naming_the_region() {
    let (east, central) = (start_registry(), start_registry());
    push_image(&east.base, "hello", "2.0.0", b"layer-two").await;
    let gate = RegistryGate::new(None);
    let (_lines, progress) = collecting();
    let regions = vec![
        ("eastus2".to_string(), east.base.clone()),
        ("centralus".to_string(), central.base.clone()),
    ];
    let start = Instant::now();
    let err = gate
        .wait(
            &regions,
            "hello",
            "2.0.0",
            Duration::from_secs(2),
            Duration::from_millis(250),
            &*progress,
        )
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "bounded by the timeout"
    );
    assert_eq!(err.region, "centralus");
    assert_eq!(err.gate, Gate::Manifest);
    assert!(err.observed.contains("404"), "{err}");
    assert!(
        err.to_string().contains("expected manifest hello:2.0.0"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_replica_is_reported_as_such() {
    let gate = RegistryGate::new(None);
    let base = format!("http://127.0.0.1:{}", free_port());
    let err = gate.check(&base, "hello", "1.0.0").await.unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err}");
}

/// ACR's token flow, as documented (Azure/acr docs/AAD-OAuth.md): 401 with a Bearer
/// challenge; `POST /oauth2/exchange` (Entra token -> refresh token); `POST /oauth2/token`
/// (refresh token + scope -> access token); the manifest with that access token.
mod acr_token_exchange {
    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{any, post};

    const ENTRA: &str = "entra-token-for-test";

    async fn start(realm_override: Option<String>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let realm = realm_override.unwrap_or_else(|| format!("{base}/oauth2/token"));
        let app = Router::new()
            .route("/v2/hello/manifests/{reference}", any(manifest))
            .route("/oauth2/exchange", post(exchange))
            .route("/oauth2/token", post(token))
            .with_state(realm);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    fn form(body: &str) -> std::collections::HashMap<String, String> {
        body.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%3A", ":")))
            .collect()
    }

    async fn manifest(State(realm): State<String>, headers: HeaderMap) -> impl IntoResponse {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer acr-access") {
            return (
                StatusCode::OK,
                [("docker-content-digest", "sha256:abc".to_string())],
            )
                .into_response();
        }
        let challenge =
            format!(r#"Bearer realm="{realm}",service="127.0.0.1",scope="repository:hello:pull""#);
        (StatusCode::UNAUTHORIZED, [("www-authenticate", challenge)]).into_response()
    }

    async fn exchange(body: String) -> impl IntoResponse {
        let f = form(&body);
        if f.get("grant_type").map(String::as_str) == Some("access_token")
            && f.get("access_token").map(String::as_str) == Some(ENTRA)
            && f.get("service").map(String::as_str) == Some("127.0.0.1")
        {
            (StatusCode::OK, r#"{"refresh_token":"acr-refresh"}"#).into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                format!("bad grant, you sent {body}"),
            )
                .into_response()
        }
    }

    async fn token(body: String) -> impl IntoResponse {
        let f = form(&body);
        if f.get("grant_type").map(String::as_str) == Some("refresh_token")
            && f.get("refresh_token").map(String::as_str) == Some("acr-refresh")
            && f.get("scope").map(String::as_str) == Some("repository:hello:pull")
        {
            (StatusCode::OK, r#"{"access_token":"acr-access"}"#).into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "bad refresh").into_response()
        }
    }

    #[tokio::test]
    async fn an_entra_token_is_exchanged_for_a_registry_token() {
        let base = start(None).await;
        let gate = RegistryGate::new(Some(ENTRA.into()));
        assert_eq!(
            gate.check(&base, "hello", "1.0.0").await.unwrap(),
            Presence::Present {
                digest: Some("sha256:abc".into())
            }
        );
    }

    #[tokio::test]
    async fn a_wrong_or_missing_token_is_a_clear_error_that_never_echoes_it() {
        let base = start(None).await;
        let err = RegistryGate::new(None)
            .check(&base, "hello", "1.0.0")
            .await
            .unwrap_err();
        assert!(matches!(err, RegistryError::NeedsToken { .. }), "{err}");
        let secret = "wrong-secret-token";
        let err = RegistryGate::new(Some(secret.into()))
            .check(&base, "hello", "1.0.0")
            .await
            .unwrap_err();
        assert!(matches!(err, RegistryError::Exchange { .. }), "{err}");
        assert!(err.to_string().contains("HTTP 401"), "{err}");
        assert!(!err.to_string().contains(secret), "token echoed: {err}");
    }

    #[tokio::test]
    async fn a_realm_on_another_origin_never_receives_the_token() {
        let base = start(Some("http://127.0.0.2:9/oauth2/token".into())).await;
        let err = RegistryGate::new(Some(ENTRA.into()))
            .check(&base, "hello", "1.0.0")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not the registry's own origin"),
            "{err}"
        );
    }
}
