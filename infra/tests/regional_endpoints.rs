//! ACR regional endpoints (issue 11): a preview-only property, so it is read and PATCHed
//! alone with the preview api-version; every other registry request stays on the stable one,
//! whose bodies never carry it (the emulator refuses it there, like the stable spec).

use crate::support;

use infra::arm::api_versions::{CONTAINER_REGISTRY, CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW};
use infra::plan::Action;
use serde_json::json;
use support::emulator::{Emulator, Recorded, SUB};

const KEY: &str = "registry/regional-endpoints";

fn registry_requests(emu: &Emulator, reg: &str) -> Vec<Recorded> {
    let reg = reg.to_ascii_lowercase();
    emu.requests()
        .into_iter()
        .filter(|r| r.path.to_ascii_lowercase() == reg)
        .collect()
}

fn version(r: &Recorded) -> &str {
    r.query
        .split('&')
        .find_map(|kv| kv.strip_prefix("api-version="))
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_by_one_preview_patch_idempotent_and_stable_bodies_never_carry_it() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let reg = infra::resources::registry_id(SUB, &c);
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));

    // The plan says what it does and with which version.
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("[global] registry regional endpoints contosoha: create"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "regionalEndpoints is a preview property: this one PATCH uses api-version {CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW}"
        )),
        "{text}"
    );

    let reqs = registry_requests(&emu, &reg);
    let writes: Vec<&Recorded> = reqs.iter().filter(|r| r.is_write()).collect();
    let (preview, stable): (Vec<&Recorded>, Vec<&Recorded>) = writes
        .iter()
        .partition(|r| version(r) == CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW);
    assert_eq!(preview.len(), 1, "{writes:?}");
    assert_eq!(preview[0].method, "PATCH");
    assert_eq!(
        preview[0].body.as_ref().unwrap(),
        &json!({"properties": {"regionalEndpoints": "Enabled"}}),
        "the preview request carries that property alone"
    );
    assert!(!stable.is_empty());
    for w in &stable {
        assert_eq!(version(w), CONTAINER_REGISTRY);
        let body = w.body.as_ref().unwrap().to_string();
        assert!(!body.contains("regionalEndpoint"), "{body}");
    }
    // The PATCH came after the registry existed.
    let create = reqs.iter().position(|r| r.method == "PUT").unwrap();
    let patch = reqs.iter().position(|r| r.method == "PATCH").unwrap();
    assert!(create < patch);

    // What the preview GET shows: enabled, one host per replica.
    let got = client
        .get(&reg, CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW, "read")
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(got["properties"]["regionalEndpoints"], "Enabled");
    assert_eq!(
        got["properties"]["regionalEndpointHostNames"],
        json!([
            "contosoha.centralus.geo.azurecr.io",
            "contosoha.eastus2.geo.azurecr.io"
        ])
    );

    // Second run: no change, nothing written.
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert_eq!(plan.item(KEY).unwrap().action, Action::NoChange);
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_update_keeps_regional_endpoints_and_drift_is_patched_back() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let reg = infra::resources::registry_id(SUB, &c);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());

    // Someone turns the admin user on: the registry is updated by a stable merged PUT, which
    // must neither carry nor drop regionalEndpoints.
    emu.edit(&reg, |v| v["properties"]["adminUserEnabled"] = json!(true));
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    assert!(matches!(
        plan.item("registry").unwrap().action,
        Action::Update { .. }
    ));
    assert_eq!(plan.item(KEY).unwrap().action, Action::NoChange);
    let writes: Vec<Recorded> = registry_requests(&emu, &reg)
        .into_iter()
        .filter(Recorded::is_write)
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PUT");
    assert_eq!(version(&writes[0]), CONTAINER_REGISTRY);
    assert!(
        !writes[0]
            .body
            .as_ref()
            .unwrap()
            .to_string()
            .contains("regionalEndpoint")
    );
    assert_eq!(
        emu.resource(&reg).unwrap()["properties"]["regionalEndpoints"],
        "Enabled"
    );

    // Drift: disabled outside the tool. Plan shows it; bootstrap PATCHes it back alone.
    emu.edit(&reg, |v| {
        v["properties"]["regionalEndpoints"] = json!("Disabled")
    });
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("properties.regionalEndpoints: \"Disabled\" -> \"Enabled\""),
        "{text}"
    );
    let writes = emu.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PATCH");
    assert_eq!(
        version(&writes[0]),
        CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW
    );
    assert_eq!(
        writes[0].body.as_ref().unwrap(),
        &json!({"properties": {"regionalEndpoints": "Enabled"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_refuses_the_property_on_the_stable_version_and_unknowns_on_the_preview() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let reg = infra::resources::registry_id(SUB, &c);
    let opts = infra::arm::PutOptions::new(infra::arm::ResourceKind::Registry);
    let cases = [
        (
            CONTAINER_REGISTRY,
            json!({"properties": {"regionalEndpoints": "Enabled"}}),
            "PATCH is not in this spec",
        ),
        (
            CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW,
            json!({"properties": {"regionalEndpointEnabled": true}}),
            "properties.regionalEndpointEnabled",
        ),
        (
            CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW,
            json!({"properties": {"regionalEndpoints": "On"}}),
            "properties.regionalEndpoints",
        ),
        (
            CONTAINER_REGISTRY_REGIONAL_ENDPOINTS_PREVIEW,
            json!({"properties": {"regionalEndpointHostNames": ["x"]}}),
            "properties.regionalEndpointHostNames",
        ),
    ];
    for (v, body, target) in cases {
        let e = client
            .patch_and_wait(&reg, v, &body, &opts, "bad patch")
            .await
            .expect_err(&format!("{v} {body} must be refused"));
        let text = e.to_string();
        assert!(
            text.contains("InvalidRequestContent") && text.contains(target),
            "{text}"
        );
    }
    // A stable PUT that carries it is refused as an unknown property.
    let mut body = emu.resource(&reg).unwrap();
    infra::arm::schema::schema(infra::arm::ResourceKind::Registry).strip_read_only(&mut body);
    body["properties"]["regionalEndpoints"] = json!("Enabled");
    let e = support::put(
        &client,
        &reg,
        CONTAINER_REGISTRY,
        &body,
        infra::arm::ResourceKind::Registry,
        "stable put",
    )
    .await
    .expect_err("the stable spec has no regionalEndpoints");
    assert!(
        e.to_string().contains("properties.regionalEndpoints"),
        "{e}"
    );
}
