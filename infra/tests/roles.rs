//! Role assignments follow the identity: when a cluster's kubelet (or cluster) identity
//! changes, the AcrPull (and Network Contributor) assignments made for the old principal are
//! removed after the new ones exist, the plan says so, and nothing else is touched.

use crate::support;

use infra::plan::Action;
use serde_json::json;
use support::emulator::{Emulator, Kind, SUB};

fn principals(emu: &Emulator) -> Vec<String> {
    let mut p: Vec<String> = emu
        .ids(Kind::RoleAssignment)
        .iter()
        .map(|id| {
            emu.resource(id).unwrap()["properties"]["principalId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    p.sort();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_identity_removes_the_stale_assignments_and_the_plan_says_so() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert_eq!(
        emu.ids(Kind::RoleAssignment).len(),
        4,
        "2 regions x 2 roles"
    );
    let aks = infra::resources::cluster_id(SUB, &c.regions[0]);
    let old = emu.resource(&aks).unwrap();
    let old_kubelet = old["properties"]["identityProfile"]["kubeletidentity"]["objectId"]
        .as_str()
        .unwrap()
        .to_string();
    let old_cluster = old["identity"]["principalId"].as_str().unwrap().to_string();
    // Someone else's assignment on the registry (same role, not made by infra) stays.
    let acr = infra::resources::registry_id(SUB, &c);
    let foreign = format!(
        "{acr}/providers/Microsoft.Authorization/roleAssignments/11111111-2222-3333-4444-555555555555"
    );
    support::put(
        &client,
        &foreign,
        "2022-04-01",
        &json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"),
            "principalId": "99999999-0000-0000-0000-000000000001",
            "principalType": "ServicePrincipal"
        }}),
        infra::arm::ResourceKind::RoleAssignment,
        "foreign grant",
    )
    .await
    .unwrap();
    // The cluster is recreated outside the tool: new kubelet and cluster identities.
    let (new_kubelet, new_cluster) = (
        "aaaaaaaa-0000-0000-0000-00000000000a",
        "bbbbbbbb-0000-0000-0000-00000000000b",
    );
    emu.edit(&aks, |v| {
        v["properties"]["identityProfile"]["kubeletidentity"]["objectId"] = json!(new_kubelet);
        v["identity"]["principalId"] = json!(new_cluster);
    });
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let text = infra::plan::render_text(&plan);
    let removes: Vec<&infra::plan::PlanItem> = plan
        .items
        .iter()
        .filter(|i| matches!(i.action, Action::Remove { .. }))
        .collect();
    assert_eq!(removes.len(), 2, "{text}");
    assert!(
        text.contains(&format!("granted to a previous identity {old_kubelet}"))
            && text.contains(&format!("the cluster now runs as {new_kubelet}"))
            && text.contains(&format!("granted to a previous identity {old_cluster}")),
        "{text}"
    );
    assert!(matches!(
        plan.item("eastus2/acr-pull").unwrap().action,
        Action::Create
    ));
    assert!(matches!(
        plan.item("centralus/acr-pull").unwrap().action,
        Action::NoChange
    ));
    emu.clear_requests();
    let (p, lines) = support::progress();
    let report = infra::apply::apply(&client, &plan, p).await.unwrap();
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let reqs = emu.requests();
    let put_at = reqs
        .iter()
        .position(|r| {
            r.method == "PUT" && r.body.as_ref().unwrap().to_string().contains(new_kubelet)
        })
        .expect("new AcrPull");
    // The stale AcrPull is removed after the new AcrPull exists (the stale Network
    // Contributor follows its own new grant, in any order relative to this one).
    let delete_at = reqs
        .iter()
        .position(|r| {
            r.method == "DELETE"
                && r.path
                    .to_ascii_lowercase()
                    .starts_with(&acr.to_ascii_lowercase())
        })
        .expect("a removal");
    assert!(put_at < delete_at, "the new grant comes first");
    let after = principals(&emu);
    assert!(
        !after.contains(&old_kubelet) && !after.contains(&old_cluster),
        "{after:?}"
    );
    assert!(after.contains(&new_kubelet.to_string()) && after.contains(&new_cluster.to_string()));
    assert!(
        emu.resource(&foreign).is_some(),
        "a foreign grant is never touched"
    );
    assert_eq!(emu.ids(Kind::RoleAssignment).len(), 5, "{after:?}");
    let lines = lines.lock().unwrap().clone();
    assert!(lines.iter().any(|l| l.contains("removed")), "{lines:?}");
    let again = infra::plan::plan(&client, &c).await.unwrap();
    assert!(!again.has_writes(), "{}", infra::plan::render_text(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_recreated_by_bootstrap_grants_its_new_identity_and_drops_the_old_one() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let aks = infra::resources::cluster_id(SUB, &c.regions[1]);
    let old =
        emu.resource(&aks).unwrap()["properties"]["identityProfile"]["kubeletidentity"]["objectId"]
            .as_str()
            .unwrap()
            .to_string();
    // Deleted outside the tool; the next bootstrap creates it (with new identities).
    emu.with(|s| {
        s.requests.clear();
    });
    client
        .delete(&aks, "2025-10-01", "delete the cluster")
        .await
        .unwrap();
    let plan = infra::plan::plan(&client, &c).await.unwrap();
    let text = infra::plan::render_text(&plan);
    assert!(matches!(
        plan.item("centralus/acr-pull").unwrap().action,
        Action::Deferred { .. }
    ));
    assert!(
        text.contains(&format!("granted to a previous identity {old}"))
            && text.contains("the cluster is created again with a new identity"),
        "{text}"
    );
    let report = infra::apply::apply(&client, &plan, support::progress().0)
        .await
        .unwrap();
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let new =
        emu.resource(&aks).unwrap()["properties"]["identityProfile"]["kubeletidentity"]["objectId"]
            .as_str()
            .unwrap()
            .to_string();
    assert_ne!(new, old);
    let after = principals(&emu);
    assert!(after.contains(&new) && !after.contains(&old), "{after:?}");
    assert_eq!(emu.ids(Kind::RoleAssignment).len(), 4);
}
