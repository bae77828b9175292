//! Updates never take traffic down and never drop what the tool does not own: a Traffic
//! Manager profile update keeps its endpoints, foreign tags / settings / headers survive an
//! update of every kind, no read-only property is sent (the emulator checks every body against
//! the vendored spec schemas), and `inRotation: false` disables exactly one endpoint.

use crate::support;

use infra::arm::ResourceKind;
use infra::arm::schema::{Request, Violation, schema};
use infra::plan::Action;
use serde_json::{Value, json};
use support::emulator::{Emulator, Kind, SUB};

fn all_resources_of(emu: &Emulator, kind: Kind) -> Vec<Value> {
    emu.ids(kind)
        .iter()
        .map(|id| emu.resource(id).unwrap())
        .collect()
}

/// Every write the emulator recorded conforms to the spec of its kind (the emulator already
/// refused any that did not: this re-checks what it accepted).
fn assert_every_write_conforms(emu: &Emulator) {
    for r in emu.writes() {
        let Some(kind) = Kind::of_path(&r.path) else {
            continue;
        };
        let req = if r.method == "PATCH" {
            Request::Patch
        } else {
            Request::Put
        };
        let body = r.body.clone().unwrap_or(Value::Null);
        let v = schema(support::emulator::schema_kind(kind, &r.query)).validate(req, &body);
        assert!(v.is_empty(), "{} {}: {v:?}\n{body}", r.method, r.path);
        assert!(
            r.status < 300,
            "{} {} answered {}",
            r.method,
            r.path,
            r.status
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ttl_only_change_keeps_both_endpoints_and_the_next_plan_is_empty() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &support::catalogue()).await;
    assert!(report.ok());
    assert_eq!(emu.ids(Kind::TmEndpoint).len(), 2);
    let c = support::catalogue_edited("  ttl: 30\n", "  ttl: 10\n");
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let Action::Update { changes } = &plan.item("traffic-manager").unwrap().action else {
        panic!("the TTL change is an update");
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "properties.dnsConfig.ttl");
    let profile = infra::resources::tm_profile_id(SUB, &c);
    assert_eq!(
        emu.resource(&profile).unwrap()["properties"]["dnsConfig"]["ttl"],
        10
    );
    assert_eq!(
        emu.ids(Kind::TmEndpoint).len(),
        2,
        "both endpoints still exist"
    );
    assert!(emu.with(|s| s.deleted_by_profile_put.is_empty()));
    assert_every_write_conforms(&emu);
    let again = infra::plan::plan(&client, &c).await.unwrap();
    assert!(!again.has_writes(), "{}", infra::plan::render_text(&again));
}

/// The emulator models the trap the profile update must avoid, so the test above would fail
/// if the tool went back to a profile PUT without `endpoints`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_emulator_a_profile_put_without_endpoints_deletes_them() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let spec = infra::resources::tm_profile_spec(SUB, &c);
    support::put(
        &client,
        &spec.path,
        spec.api_version,
        &spec.body,
        ResourceKind::TrafficManagerProfile,
        "profile PUT",
    )
    .await
    .unwrap();
    assert!(emu.ids(Kind::TmEndpoint).is_empty());
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    assert!(matches!(
        plan.item("eastus2/tm-endpoint").unwrap().action,
        Action::Create
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_settings_survive_an_update_of_every_kind_and_no_read_only_property_is_sent() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert_every_write_conforms(&emu);
    let r0 = &c.regions[0];
    let rg = infra::resources::rg_path(SUB, &r0.cluster.resource_group);
    let acr = infra::resources::registry_id(SUB, &c);
    let repl = format!("{acr}/replications/{}", c.regions[1].name);
    let pip = infra::resources::public_ip_id(SUB, r0);
    let aks = infra::resources::cluster_id(SUB, r0);
    let ext = infra::resources::flux_extension_spec(SUB, r0).path;
    let flux = infra::resources::flux_configuration_spec(SUB, &c, r0).path;
    let tm = infra::resources::tm_profile_id(SUB, &c);
    let ep = infra::resources::tm_endpoint_spec(SUB, &c, r0).path;
    // Someone else adds settings the tool does not own; one owned field drifts on each.
    emu.edit(&rg, |v| {
        v["tags"]["costCenter"] = json!("42");
        v["tags"]["managed-by"] = json!("someone");
    });
    emu.edit(&acr, |v| {
        v["properties"]["networkRuleSet"] = json!({"defaultAction": "Deny", "ipRules": []});
        v["properties"]["adminUserEnabled"] = json!(true);
    });
    emu.edit(&repl, |v| {
        v["tags"]["costCenter"] = json!("42");
        v["properties"]["regionEndpointEnabled"] = json!(false);
    });
    emu.edit(&pip, |v| {
        v["properties"]["ipTags"] = json!([{"ipTagType": "RoutingPreference", "tag": "Internet"}]);
        v["tags"]["managed-by"] = json!("someone");
    });
    emu.edit(&aks, |v| {
        v["properties"]["addonProfiles"] = json!({"azurepolicy": {"enabled": true}});
        v["properties"]["oidcIssuerProfile"]["enabled"] = json!(false);
    });
    emu.edit(&ext, |v| {
        v["properties"]["configurationSettings"] = json!({"helm-controller.enabled": "true"});
        v["properties"]["configurationProtectedSettings"] = json!({"token": "c2VjcmV0"});
        v["properties"]["releaseTrain"] = json!("Preview");
    });
    emu.edit(&flux, |v| {
        v["properties"]["gitRepository"]["httpsUser"] = json!("bot");
        v["properties"]["configurationProtectedSettings"] = json!({"httpsKey": "c2VjcmV0"});
        v["properties"]["kustomizations"]["cluster"]["prune"] = json!(false);
    });
    emu.edit(&tm, |v| {
        v["properties"]["monitorConfig"]["customHeaders"] =
            json!([{"name": "Host", "value": "hello.example.com"}]);
        v["properties"]["trafficViewEnrollmentStatus"] = json!("Enabled");
        v["tags"]["costCenter"] = json!("42");
        v["tags"]["managed-by"] = json!("someone");
    });
    emu.edit(&ep, |v| {
        v["properties"]["customHeaders"] =
            json!([{"name": "Host", "value": "eastus2.example.com"}]);
        v["properties"]["priority"] = json!(7);
    });
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let rg_key = infra::resources::rg_key(&r0.cluster.resource_group);
    for key in [
        rg_key.as_str(),
        "registry",
        "centralus/replication",
        "eastus2/public-ip",
        "eastus2/cluster",
        "eastus2/flux-extension",
        "eastus2/flux-config",
        "traffic-manager",
        "eastus2/tm-endpoint",
    ] {
        let item = plan
            .item(key)
            .unwrap_or_else(|| panic!("{key} in the plan"));
        assert!(
            matches!(item.action, Action::Update { .. }),
            "{key}: {:?}",
            item.action
        );
    }
    assert_every_write_conforms(&emu);
    // No write carries a read-only property (by name, whatever its depth).
    let ro = [
        "loginServer",
        "creationDate",
        "dataEndpointHostNames",
        "privateEndpointConnections",
        "resourceGuid",
        "principalId",
        "tenantId",
        "eTag",
        "issuerURL",
        "effectiveOutboundIPs",
        "currentOrchestratorVersion",
        "currentKubernetesVersion",
        "provisioningState",
        "status",
        "statuses",
        "complianceState",
        "currentVersion",
        "id",
    ];
    for w in emu.writes() {
        let text = w.body.as_ref().map(Value::to_string).unwrap_or_default();
        for k in ro {
            assert!(
                !text.contains(&format!("\"{k}\":")),
                "{} {} sends read-only `{k}`: {text}",
                w.method,
                w.path
            );
        }
        let top = w.body.clone().unwrap_or_default();
        assert!(top.get("name").is_none(), "{} {}: {text}", w.method, w.path);
        assert!(top.get("type").is_none(), "{} {}: {text}", w.method, w.path);
        assert!(top.pointer("/properties/fqdn").is_none(), "{text}");
    }
    // Owned fields corrected, foreign ones survived in Azure.
    let get = |id: &str| emu.resource(id).unwrap();
    assert_eq!(
        get(&rg)["tags"],
        json!({"costCenter": "42", "managed-by": "infra"})
    );
    let a = get(&acr);
    assert_eq!(a["properties"]["adminUserEnabled"], false);
    assert_eq!(a["properties"]["networkRuleSet"]["defaultAction"], "Deny");
    let r = get(&repl);
    assert_eq!(r["properties"]["regionEndpointEnabled"], true);
    assert_eq!(r["tags"]["costCenter"], "42");
    let p = get(&pip);
    assert_eq!(p["tags"]["managed-by"], "infra");
    assert_eq!(p["properties"]["ipTags"][0]["tag"], "Internet");
    let k = get(&aks);
    assert_eq!(k["properties"]["oidcIssuerProfile"]["enabled"], true);
    assert_eq!(
        k["properties"]["addonProfiles"]["azurepolicy"]["enabled"],
        true
    );
    let e = get(&ext);
    assert_eq!(e["properties"]["releaseTrain"], "Stable");
    assert_eq!(
        e["properties"]["configurationSettings"]["helm-controller.enabled"],
        "true"
    );
    assert_eq!(
        e["properties"]["configurationProtectedSettings"]["token"],
        "c2VjcmV0"
    );
    let f = get(&flux);
    assert_eq!(f["properties"]["kustomizations"]["cluster"]["prune"], true);
    assert_eq!(f["properties"]["gitRepository"]["httpsUser"], "bot");
    assert_eq!(
        f["properties"]["configurationProtectedSettings"]["httpsKey"],
        "c2VjcmV0"
    );
    let t = get(&tm);
    assert_eq!(t["properties"]["trafficViewEnrollmentStatus"], "Enabled");
    assert_eq!(
        t["properties"]["monitorConfig"]["customHeaders"][0]["value"],
        "hello.example.com"
    );
    assert_eq!(
        t["tags"],
        json!({"costCenter": "42", "managed-by": "infra"})
    );
    let x = get(&ep);
    assert_eq!(x["properties"]["priority"], r0.priority);
    assert_eq!(
        x["properties"]["customHeaders"][0]["value"],
        "eastus2.example.com"
    );
    assert_eq!(emu.ids(Kind::TmEndpoint).len(), 2);
    // PATCH bodies carry only what changed.
    let patches = emu.with(|s| s.patches.clone());
    let patch_of = |id: &str| {
        patches
            .iter()
            .find(|(k, _)| *k == id.to_ascii_lowercase())
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("a PATCH of {id}"))
    };
    assert_eq!(
        patch_of(&ext),
        json!({"properties": {"releaseTrain": "Stable"}})
    );
    assert_eq!(
        patch_of(&flux),
        json!({"properties": {"kustomizations": {"cluster": {"prune": true}}}})
    );
    assert_eq!(
        patch_of(&tm),
        json!({"tags": {"costCenter": "42", "managed-by": "infra"}})
    );
    assert_eq!(
        patch_of(&ep),
        json!({"properties": {"priority": r0.priority}})
    );
    emu.clear_requests();
    let again = infra::plan::plan(&client, &c).await.unwrap();
    assert!(!again.has_writes(), "{}", infra::plan::render_text(&again));
}

/// The emulator's schema checks, one minimal failing body per kind of violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_rejects_bodies_that_break_the_spec_with_a_400_like_arm() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-schema");
    support::put_resource_group(&client, &rg).await;
    let acr = format!("{rg}/providers/Microsoft.ContainerRegistry/registries/schemaacr");
    let cases: [(Value, &str, &str); 4] = [
        (
            json!({"location": "eastus2", "sku": {"name": "Premium"}, "properties": {"zoneRedundnacy": "Enabled"}}),
            "properties.zoneRedundnacy",
            "unknown property",
        ),
        (
            json!({"location": "eastus2", "sku": {"name": "Premium"}, "properties": {"adminUserEnabled": "false"}}),
            "properties.adminUserEnabled",
            "wrong type, expected a boolean",
        ),
        (
            json!({"location": "eastus2", "sku": {"name": "Premuim"}}),
            "sku.name",
            "is not one of Classic, Basic, Standard, Premium",
        ),
        (
            json!({"location": "eastus2", "sku": {"name": "Premium"}, "properties": {"loginServer": "schemaacr.azurecr.io"}}),
            "properties.loginServer",
            "read-only property",
        ),
    ];
    for (body, target, what) in cases {
        let e = support::put(
            &client,
            &acr,
            "2025-11-01",
            &body,
            ResourceKind::Registry,
            "registry",
        )
        .await
        .expect_err("refused");
        let infra::arm::InfraError::Arm { error, .. } = &e else {
            panic!("{e}");
        };
        assert_eq!(error.status, 400, "{e}");
        assert_eq!(error.code, "InvalidRequestContent", "{e}");
        assert_eq!(error.target.as_deref(), Some(target), "{e}");
        assert!(error.message.contains(what), "{e}");
    }
    assert!(emu.resource(&acr).is_none(), "nothing stored");
    // A valid body passes.
    support::put(
        &client,
        &acr,
        "2025-11-01",
        &json!({"location": "eastus2", "sku": {"name": "Premium"}, "properties": {"adminUserEnabled": false}}),
        ResourceKind::Registry,
        "registry",
    )
    .await
    .expect("a valid body is accepted");
    // PATCH: a property only PUT knows, and a profile PATCH carrying endpoints.
    let c = support::catalogue();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let ext = infra::resources::flux_extension_spec(SUB, &c.regions[0]).path;
    let e = client
        .patch_and_wait(
            &ext,
            "2024-11-01",
            &json!({"properties": {"extensionType": "microsoft.flux"}}),
            &infra::arm::PutOptions::new(ResourceKind::FluxExtension),
            "extension",
        )
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("properties.extensionType"), "{e}");
    let tm = infra::resources::tm_profile_id(SUB, &c);
    let e = client
        .patch_and_wait(
            &tm,
            "2022-04-01",
            &json!({"properties": {"endpoints": []}}),
            &infra::arm::PutOptions::new(ResourceKind::TrafficManagerProfile),
            "profile",
        )
        .await
        .expect_err("refused");
    assert!(
        e.to_string()
            .contains("cannot be specified when updating a profile using PATCH"),
        "{e}"
    );
    assert_eq!(emu.ids(Kind::TmEndpoint).len(), 2);
    // And the validator itself: one violation of each kind, found together.
    let v = schema(ResourceKind::TrafficManagerEndpoint).validate(
        Request::Patch,
        &json!({"properties": {"endpointStatus": "Paused", "priority": "1", "bogus": 1}}),
    );
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(matches!(
        &v[0],
        Violation::Unknown { .. } | Violation::BadEnum { .. } | Violation::WrongType { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_a_region_out_of_rotation_disables_only_its_endpoint() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let c = support::catalogue();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let out = support::catalogue_edited(
        "  - name: centralus\n    priority: 2\n",
        "  - name: centralus\n    priority: 2\n    inRotation: false\n",
    );
    let central = infra::resources::tm_endpoint_spec(SUB, &out, &out.regions[1]).path;
    let east = infra::resources::tm_endpoint_spec(SUB, &out, &out.regions[0]).path;
    let plan = infra::plan::plan(&client, &out).await.unwrap();
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("properties.endpointStatus: \"Enabled\" -> \"Disabled\""),
        "{text}"
    );
    let writes: Vec<&str> = plan
        .items
        .iter()
        .filter(|i| i.action.writes())
        .map(|i| i.key.as_str())
        .collect();
    assert_eq!(writes, ["centralus/tm-endpoint"], "{text}");
    emu.clear_requests();
    let report = infra::apply::apply(&client, &plan, support::progress().0)
        .await
        .unwrap();
    assert!(report.ok());
    let w = emu.writes();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].method, "PATCH");
    assert_eq!(
        w[0].body,
        Some(json!({"properties": {"endpointStatus": "Disabled"}}))
    );
    assert_eq!(
        emu.resource(&central).unwrap()["properties"]["endpointStatus"],
        "Disabled"
    );
    assert_eq!(
        emu.resource(&east).unwrap()["properties"]["endpointStatus"],
        "Enabled"
    );
    let again = infra::plan::plan(&client, &out).await.unwrap();
    assert!(!again.has_writes(), "{}", infra::plan::render_text(&again));
    // Back in rotation.
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert_eq!(
        emu.resource(&central).unwrap()["properties"]["endpointStatus"],
        "Enabled"
    );
    assert!(
        all_resources_of(&emu, Kind::TmEndpoint)
            .iter()
            .all(|e| e["properties"]["endpointStatus"] == "Enabled")
    );
}
