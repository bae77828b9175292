//! Plans for a changed catalogue against a bootstrapped emulator.

use crate::support;

use infra::arm::InfraError;
use infra::plan::Action;
use serde_json::json;
use support::emulator::Emulator;

async fn bootstrapped() -> (Emulator, infra::arm::ArmClient) {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &support::catalogue()).await;
    assert!(report.ok());
    emu.clear_requests();
    (emu, client)
}

fn only_change(plan: &infra::plan::Plan) -> Vec<(&str, &Action)> {
    plan.items
        .iter()
        .filter(|i| i.action != Action::NoChange)
        .map(|i| (i.key.as_str(), &i.action))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_and_pool_bounds_are_updates_with_the_field() {
    let (emu, client) = bootstrapped().await;
    let c = support::catalogue_edited("  ttl: 30\n", "  ttl: 20\n");
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let changes = only_change(&plan);
    assert_eq!(changes.len(), 1, "{changes:?}");
    match changes[0] {
        ("traffic-manager", Action::Update { changes }) => {
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].field, "properties.dnsConfig.ttl");
            assert_eq!(
                (changes[0].actual.clone(), changes[0].desired.clone()),
                (json!(30), json!(20))
            );
        }
        other => panic!("{other:?}"),
    }
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("properties.dnsConfig.ttl: 30 -> 20"),
        "{text}"
    );
    assert!(text.contains("= 55s"), "new worst case shown: {text}");
    let c = support::catalogue_edited(
        "count: 3, minCount: 3, maxCount: 9",
        "count: 3, minCount: 3, maxCount: 12",
    );
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    match only_change(&plan)[..] {
        [("eastus2/cluster", Action::Update { changes })] => assert_eq!(
            changes[0].field,
            "properties.agentPoolProfiles[name=user].maxCount"
        ),
        ref other => panic!("{other:?}"),
    }
    // Replicas are the HPA's (rendered by gen): nothing in Azure changes.
    let c = support::catalogue_edited(
        "replicas: { min: 3, max: 12 }",
        "replicas: { min: 6, max: 15 }",
    );
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    assert!(only_change(&plan).is_empty());
    assert!(emu.writes().is_empty(), "plan never writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_change_is_blocked_with_both_values_and_nothing_is_written() {
    let (emu, client) = bootstrapped().await;
    let text = support::catalogue_text().replacen(
        "zones: [1, 2, 3]\n    replicas: { min: 3, max: 12 }",
        "zones: [1, 2]\n    replicas: { min: 4, max: 12 }",
        1,
    );
    let c = catalogue::parse(&support::catalogue_path(), &text).expect("valid");
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let blocked: Vec<&str> = plan.blocked().iter().map(|i| i.key.as_str()).collect();
    assert_eq!(blocked, vec!["eastus2/public-ip", "eastus2/cluster"]);
    let out = infra::plan::render_text(&plan);
    assert!(
        out.contains(r#"zones is immutable: Azure has ["1","2","3"], catalogue wants ["1","2"]"#),
        "{out}"
    );
    assert!(out.contains("availabilityZones is immutable"), "{out}");
    let (p, _) = support::progress();
    let err = infra::apply::apply(&client, &plan, p).await.unwrap_err();
    assert!(matches!(err, InfraError::Blocked(_)));
    assert!(err.to_string().contains("nothing was written"));
    assert!(emu.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_immutables_are_blocked() {
    let (emu, client) = bootstrapped().await;
    let c = support::catalogue_edited("  dnsName: contoso-ha\n", "  dnsName: contoso-ha2\n");
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    match &plan.item("traffic-manager").unwrap().action {
        Action::Blocked { changes } => {
            assert_eq!(changes[0].field, "properties.dnsConfig.relativeName")
        }
        other => panic!("{other:?}"),
    }
    let c = support::catalogue_edited("  zoneRedundancy: true\n", "  zoneRedundancy: false\n");
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let blocked: Vec<&str> = plan.blocked().iter().map(|i| i.key.as_str()).collect();
    assert_eq!(blocked, vec!["registry", "centralus/replication"]);
    let c = support::catalogue_edited(
        "      name: aks-eastus2\n",
        "      name: aks-eastus2\n      dnsPrefix: other\n",
    );
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    match &plan.item("eastus2/cluster").unwrap().action {
        Action::Blocked { changes } => {
            assert_eq!(changes[0].field, "properties.dnsPrefix");
            assert_eq!(changes[0].actual, json!("aks-eastus2"));
        }
        other => panic!("{other:?}"),
    }
    assert!(emu.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acr_zone_redundancy_quirk_is_informational() {
    let (emu, client) = bootstrapped().await;
    let id = infra::resources::registry_id(support::emulator::SUB, &support::catalogue());
    emu.edit(&id, |v| {
        v["properties"]["zoneRedundancy"] = json!("Disabled")
    });
    let plan = infra::plan::plan(&client, &support::catalogue())
        .await
        .unwrap();
    let item = plan.item("registry").unwrap();
    assert_eq!(item.action, Action::NoChange);
    assert!(
        item.notes.iter().any(|n| n.contains("informational")),
        "{:?}",
        item.notes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_region_is_created_and_the_rest_untouched() {
    let (emu, client) = bootstrapped().await;
    let extra = r#"
  - name: westus3
    priority: 3
    zones: [1, 2, 3]
    replicas: { min: 3, max: 12 }
    cluster:
      name: aks-westus3
      resourceGroup: rg-ha-westus3
      kubernetesVersion: "1.33"
      nodePools:
        - { name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }
    publicIp:
      name: pip-hello-westus3
      dnsLabel: contoso-ha-westus3
"#;
    let text = support::catalogue_text() + extra;
    let c = catalogue::parse(&support::catalogue_path(), &text).expect("valid");
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    for i in &plan.items {
        if i.region.as_deref() == Some("westus3") {
            assert!(
                matches!(i.action, Action::Create | Action::Deferred { .. }),
                "{} {:?}",
                i.key,
                i.action
            );
        } else {
            assert_eq!(i.action, Action::NoChange, "{}", i.key);
        }
    }
    assert!(plan.item("westus3/replication").is_some());
    let (p, _) = support::progress();
    let report = infra::apply::apply(&client, &plan, p).await.unwrap();
    assert!(report.ok());
    let writes = emu.writes();
    assert!(
        writes
            .iter()
            .all(|r| r.path.contains("westus3") || r.path.contains("roleAssignments")),
        "{:?}",
        writes.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let ep = writes
        .iter()
        .find(|r| r.path.ends_with("AzureEndpoints/westus3"))
        .unwrap();
    assert_eq!(ep.body.as_ref().unwrap()["properties"]["priority"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_skips_flux_and_says_so() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let c = support::catalogue_edited("  engine: flux\n", "  engine: argocd\n");
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("Flux extension") && text.contains("skip") && text.contains("argocd"),
        "{text}"
    );
    let (p, _) = support::progress();
    let report = infra::apply::apply(&client, &plan, p).await.unwrap();
    assert!(report.ok());
    assert!(
        !emu.writes()
            .iter()
            .any(|r| r.path.contains("KubernetesConfiguration"))
    );
}
