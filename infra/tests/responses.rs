//! Malformed ARM responses, error rendering, and replay of the recorded status sequences.

use crate::support;

use infra::arm::{ArmError, InfraError, ResourceKind};
use serde_json::{Value, json};
use support::emulator::{Emulator, Fault, Kind, SUB};

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/recorded.json")).expect("fixture JSON")
}

fn rg_path(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_and_missing_fields_are_clear_errors() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    emu.fault(Fault::raw_get(
        "/resourcegroups/rg-bad",
        200,
        "<html>gateway</html>",
        1,
    ));
    let err = client
        .get(&rg_path("rg-bad"), "2025-04-01", "reading rg-bad")
        .await
        .unwrap_err();
    let s = err.to_string();
    assert!(
        matches!(err, InfraError::Malformed { .. })
            && s.contains("not JSON")
            && s.contains("<html>gateway</html>")
            && s.contains("correlation id: corr-"),
        "{s}"
    );

    // An operation status without `status`.
    support::put_resource_group(&client, &rg_path("rg")).await;
    emu.fault(Fault::raw_get(
        "/operationstatuses/",
        200,
        "{\"percentComplete\": 50}",
        1,
    ));
    let reg = format!(
        "{}/providers/Microsoft.ContainerRegistry/registries/contosoha",
        rg_path("rg")
    );
    let err = support::put(
        &client,
        &reg,
        "2025-11-01",
        &json!({"location": "eastus2", "sku": {"name": "Premium"}}),
        ResourceKind::Registry,
        "registry",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no `status` field"), "{err}");

    // An error status with an empty body.
    emu.fault(Fault::raw_get("/resourcegroups/rg-empty", 403, "", 1));
    let err = client
        .get(&rg_path("rg-empty"), "2025-04-01", "reading rg-empty")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("HttpStatus403")
            && err.to_string().contains("empty response body"),
        "{err}"
    );

    // A cluster that comes back without its kubelet identity: the role step says what is missing.
    let emu2 = Emulator::start().await;
    let client2 = support::client(&emu2);
    let c = support::catalogue();
    let plan = infra::plan::plan(&client2, &c).await.unwrap();
    let cluster = "/managedclusters/aks-eastus2";
    // The final GET after the create (the plan's GET is done).
    emu2.fault(Fault::raw_get(cluster, 200, json!({"id": "x", "properties": {"provisioningState": "Succeeded"}, "identity": {"type": "SystemAssigned"}}).to_string(), 1));
    let (p, _) = support::progress();
    let report = infra::apply::apply(&client2, &plan, p).await.unwrap();
    let e = support::step_error(&report, "eastus2/acr-pull").to_string();
    assert!(
        e.contains("identityProfile.kubeletidentity.objectId"),
        "{e}"
    );
    assert!(report.step("centralus/acr-pull").unwrap().result.is_ok());
}

#[test]
fn arm_errors_render_code_message_target_details_and_correlation() {
    let body = r#"{"error":{"code":"PropertyChangeNotAllowed","message":"Changing property 'dnsPrefix' is not allowed.","target":"properties.dnsPrefix","details":[{"code":"Inner","message":"outer detail","details":[{"code":"Deeper","message":"nested"}]}]}}"#;
    let e = ArmError::from_body(400, body, Some("corr-1".into()), Some("req-1".into()));
    let s = e.to_string();
    assert!(s.starts_with("400 PropertyChangeNotAllowed: Changing property 'dnsPrefix' is not allowed. (target: properties.dnsPrefix)"), "{s}");
    assert!(
        s.contains("- Inner: outer detail")
            && s.contains("    - Deeper: nested")
            && s.contains("correlation id: corr-1"),
        "{s}"
    );
    // Recorded bodies parse.
    let f = fixtures();
    let nf = f["aks_create"]["get_before_create"]["body"].to_string();
    assert_eq!(
        ArmError::from_body(404, &nf, None, None).code,
        "ResourceNotFound"
    );
    let nf = f["flux_configuration"]["not_found_body"].to_string();
    assert!(
        ArmError::from_body(404, &nf, None, None)
            .message
            .contains("fluxConfiguration was not found")
    );
}

fn statuses(v: &Value) -> Vec<String> {
    let all: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.last().map(String::as_str), Some("Succeeded"));
    all[..all.len() - 1].to_vec()
}

fn polls_of(emu: &Emulator, needle: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| {
            r.method == "GET"
                && (r.path.contains("/operations/") || r.path.contains("/operationStatuses/"))
                && r.path.to_ascii_lowercase().contains(needle)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_status_sequences_replay() {
    let f = fixtures();
    let emu = Emulator::start().await;
    emu.with(|s| {
        // The recordings carried no Retry-After: the client's default interval applies.
        s.retry_after = None;
        s.polls.insert(
            Kind::Cluster,
            statuses(&f["aks_create"]["operation_statuses"]),
        );
        s.polls.insert(
            Kind::Registry,
            statuses(&f["acr_zone_redundant"]["registry_operation_statuses"]),
        );
        s.polls.insert(
            Kind::Replication,
            statuses(&f["acr_zone_redundant"]["replication_operation_statuses"]),
        );
        s.polls.insert(
            Kind::FluxConfig,
            statuses(&f["flux_configuration"]["operation_statuses"]),
        );
        s.flux_compliance = f["flux_configuration"]["final_complianceState"]
            .as_str()
            .unwrap()
            .into();
    });
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    // One poll per recorded status, InProgress… then Succeeded.
    assert_eq!(
        polls_of(&emu, "/microsoft.containerservice/locations/eastus2/"),
        f["aks_create"]["operation_statuses"]
            .as_array()
            .unwrap()
            .len()
    );
    // Two for the create PUT, two for the preview-version PATCH of `regionalEndpoints`.
    assert_eq!(
        polls_of(&emu, "/registries/contosoha/operationstatuses/"),
        4
    );
    assert_eq!(
        polls_of(&emu, "/replications/centralus/operationstatuses/"),
        7
    );
    assert_eq!(
        polls_of(
            &emu,
            "aks-eastus2/providers/microsoft.kubernetesconfiguration/fluxconfigurations/"
        ),
        17
    );
    // The signed flux operation URL was used verbatim (query kept).
    let flux_poll = emu
        .requests()
        .into_iter()
        .find(|r| r.path.contains("fluxConfigurations") && r.path.contains("/operations/"))
        .unwrap();
    assert!(
        flux_poll.query.contains("&t=")
            && flux_poll.query.contains("&s=")
            && flux_poll.query.len() > 1000
    );
    // Provisioning success is not GitOps health: status reports Non-Compliant.
    let st = infra::status::status(&client, &c).await.unwrap();
    let flux = st
        .items
        .iter()
        .find(|i| i.key == "centralus/flux-config")
        .unwrap();
    assert_eq!(flux.state, "Succeeded");
    assert_eq!(flux.compliance.as_deref(), Some("Non-Compliant"));
    // Registry: the home replication exists without a PUT from us (ARM made it).
    assert!(
        emu.resource(&format!(
            "{}/replications/eastus2",
            infra::resources::registry_id(SUB, &c)
        ))
        .is_some()
    );
    assert!(
        !emu.writes()
            .iter()
            .any(|r| r.path.ends_with("/replications/eastus2"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_manager_endpoint_update_answers_201_like_the_recording() {
    let f = fixtures();
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let ep = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("AzureEndpoints/eastus2"))
        .unwrap();
    assert_eq!(
        u64::from(ep.status),
        f["traffic_manager"]["endpoint_create_status"]
            .as_u64()
            .unwrap()
    );
    let prof = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("trafficmanagerprofiles/contoso-ha"))
        .unwrap();
    assert_eq!(
        u64::from(prof.status),
        f["traffic_manager"]["profile_create_status"]
            .as_u64()
            .unwrap()
    );
    // Change priorities and TTL: both are updated by PATCH (a profile PUT would replace the
    // endpoint list), each carrying only what changed, and answered 200.
    let text = support::catalogue_text()
        .replace("priority: 1", "priority: X")
        .replace("priority: 2", "priority: 1")
        .replace("priority: X", "priority: 2")
        .replace("  ttl: 30\n", "  ttl: 10\n");
    let c2 = catalogue::parse(&support::catalogue_path(), &text).unwrap();
    emu.clear_requests();
    let (_, report, _) = support::bootstrap(&client, &c2).await;
    assert!(report.ok());
    let reqs = emu.requests();
    assert!(
        !reqs.iter().any(|r| r.method == "PUT"),
        "updates never PUT: {reqs:?}"
    );
    let ep = reqs
        .iter()
        .find(|r| r.method == "PATCH" && r.path.ends_with("AzureEndpoints/eastus2"))
        .unwrap();
    assert_eq!(ep.status, 200);
    assert_eq!(
        ep.body,
        Some(serde_json::json!({"properties": {"priority": 2}}))
    );
    let prof = reqs
        .iter()
        .find(|r| r.method == "PATCH" && r.path.ends_with("trafficmanagerprofiles/contoso-ha"))
        .unwrap();
    assert_eq!(prof.status, 200);
    assert_eq!(
        prof.body,
        Some(serde_json::json!({"properties": {"dnsConfig": {"ttl": 10}}}))
    );
    assert_eq!(
        report
            .step("eastus2/tm-endpoint")
            .unwrap()
            .result
            .as_ref()
            .unwrap(),
        &infra::apply::Outcome::Updated
    );
    assert_eq!(emu.writes().len(), 3, "profile + two endpoints");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_assignment_exists_under_another_name_is_done() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    // Move eastus2's AcrPull to another name (as `az aks update --attach-acr` would have made it).
    let acr = emu
        .ids(Kind::RoleAssignment)
        .into_iter()
        .find(|id| id.contains("/registries/"))
        .unwrap();
    let body = emu.resource(&acr).unwrap();
    let other = format!(
        "{}/ffffffff-0000-0000-0000-000000000001",
        acr.rsplit_once('/').unwrap().0
    );
    let client_put = infra::arm::lro::PutOptions::new(ResourceKind::RoleAssignment);
    // Delete ours, create the foreign one.
    client.delete(&acr, "2022-04-01", "delete").await.unwrap();
    let b = json!({"properties": {"roleDefinitionId": body["properties"]["roleDefinitionId"], "principalId": body["properties"]["principalId"]}});
    client
        .put_and_wait(&other, "2022-04-01", &b, &client_put, "foreign")
        .await
        .unwrap();
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let key = plan
        .items
        .iter()
        .find(|i| {
            i.id.as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(&acr))
        })
        .unwrap()
        .key
        .clone();
    assert_eq!(
        report.step(&key).unwrap().result.as_ref().unwrap(),
        &infra::apply::Outcome::AlreadyAssigned
    );
    assert!(emu.requests().iter().any(|r| r.status == 409));
}
