//! The three ways ARM reports a long-running PUT (Azure-AsyncOperation, Location, the
//! resource's own provisioningState), odd non-terminal statuses, failed status reads,
//! the final read-back, and per-type deadlines.

use crate::support;

use infra::arm::{InfraError, ResourceKind};
use infra::plan::Action;
use serde_json::json;
use support::emulator::{Emulator, Fault, Kind, LroStyle, Recorded, SUB};

fn min_gap(retry_after: u64) -> f64 {
    retry_after as f64 * support::SCALE
}

/// GETs of `path` (exact, case-insensitive) after the PUT to it, and that PUT.
fn reads_after_put<'a>(reqs: &'a [Recorded], path: &str) -> (&'a Recorded, Vec<&'a Recorded>) {
    let p = path.to_ascii_lowercase();
    let put = reqs
        .iter()
        .position(|r| r.method == "PUT" && r.path.to_ascii_lowercase() == p)
        .expect("a PUT");
    let gets = reqs[put + 1..]
        .iter()
        // The registry's preview-version reads belong to its regional-endpoints step.
        .filter(|r| {
            r.method == "GET"
                && r.path.to_ascii_lowercase() == p
                && !r.query.contains(support::emulator::REGISTRY_PREVIEW)
        })
        .collect();
    (&reqs[put], gets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_and_provisioning_state_lros_complete_and_unknown_statuses_mean_running() {
    let emu = Emulator::start().await;
    emu.with(|s| {
        s.retry_after = Some(20);
        s.lro_style.insert(Kind::Cluster, LroStyle::Location);
        s.lro_style
            .insert(Kind::Registry, LroStyle::ProvisioningState);
        s.polls.insert(
            Kind::Registry,
            vec!["Accepted".into(), "Provisioning".into(), "Running".into()],
        );
        // Azure-AsyncOperation with statuses no list of "running" words would contain.
        s.polls.insert(
            Kind::Replication,
            vec!["Queued".into(), "Preparing".into(), "Whatever".into()],
        );
    });
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, lines) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let reqs = emu.requests();

    // Location: 202 on the PUT, 202 on each running poll, 200 at the end, Retry-After kept.
    for region in &c.regions {
        let cl = infra::resources::cluster_id(SUB, region);
        let put = reqs
            .iter()
            .find(|r| r.method == "PUT" && r.path.eq_ignore_ascii_case(&cl))
            .unwrap();
        assert_eq!(put.status, 202);
        let op = put.async_op.clone().expect("a Location URL");
        assert!(op.contains("/operationresults/"), "{op}");
        let polls: Vec<&Recorded> = reqs
            .iter()
            .filter(|r| r.method == "GET" && r.path.to_ascii_lowercase() == op)
            .collect();
        let codes: Vec<u16> = polls.iter().map(|r| r.status).collect();
        assert_eq!(codes, vec![202, 202, 200], "{}", region.name);
        let mut prev = put.at;
        for p in &polls {
            assert!(
                (p.at - prev).as_secs_f64() >= min_gap(20),
                "Location poll too early"
            );
            prev = p.at;
        }
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&region.cluster.name) && l.contains(": Accepted (")),
            "progress while polling: {lines:?}"
        );
    }

    // provisioningState only: the registry is read until it says Succeeded.
    let reg = infra::resources::registry_id(SUB, &c);
    let (put, gets) = reads_after_put(&reqs, &reg);
    assert_eq!(put.status, 201);
    assert!(put.async_op.is_none());
    assert_eq!(gets.len(), 4, "3 running states + Succeeded");
    let mut prev = put.at;
    for g in &gets {
        assert!(
            (g.at - prev).as_secs_f64() >= min_gap(20),
            "resource poll too early"
        );
        prev = g.at;
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("contosoha: Provisioning (")),
        "{lines:?}"
    );
    // Unknown statuses were waited through, one poll each, then Succeeded.
    let rep = reqs
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.path
                    .to_ascii_lowercase()
                    .contains("/replications/centralus/operationstatuses/")
        })
        .count();
    assert_eq!(rep, 4);
    for kind in [Kind::Cluster, Kind::Registry, Kind::Replication] {
        for id in emu.ids(kind) {
            assert_eq!(
                emu.resource(&id).unwrap()["properties"]["provisioningState"],
                "Succeeded",
                "{id}"
            );
        }
    }
    emu.clear_requests();
    let (plan, _, _) = support::bootstrap(&client, &c).await;
    assert!(plan.items.iter().all(|i| i.action == Action::NoChange));
    assert!(emu.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_location_operation_surfaces_the_arm_error_and_stops_dependents() {
    let emu = Emulator::start().await;
    emu.with(|s| {
        s.lro_style.insert(Kind::Cluster, LroStyle::Location);
    });
    emu.fault(Fault::fail_operation(
        "/managedclusters/aks-centralus",
        "InsufficientSubnetSize",
        "subnet too small",
    ));
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    let e = support::step_error(&report, "centralus/cluster");
    let arm = e.arm().expect("ARM error");
    assert_eq!(arm.code, "InsufficientSubnetSize");
    assert!(arm.correlation_id.is_some());
    assert!(matches!(
        report.step("centralus/flux-extension").unwrap().result,
        Err(InfraError::Skipped(_))
    ));
    assert!(report.step("eastus2/flux-config").unwrap().result.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_status_reads_are_read_again_not_taken_as_a_failed_operation() {
    let emu = Emulator::start().await;
    // 404 and 403 on the status URL, fewer than the tolerated number in a row.
    emu.fault(Fault::raw_get(
        "/locations/eastus2/operations/",
        404,
        json!({"error": {"code": "NotFound", "message": "not replicated yet"}}).to_string(),
        3,
    ));
    emu.fault(Fault::raw_get(
        "/replications/centralus/operationstatuses/",
        403,
        "",
        2,
    ));
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let reqs = emu.requests();
    assert_eq!(
        reqs.iter()
            .filter(|r| r.status == 404 && r.path.contains("/operations/"))
            .count(),
        3
    );
    assert_eq!(reqs.iter().filter(|r| r.status == 403).count(), 2);

    // But not for ever: a status URL that keeps failing is reported, with the last error.
    let emu = Emulator::start().await;
    emu.fault(Fault::raw_get(
        "/locations/centralus/operations/",
        404,
        json!({"error": {"code": "OperationNotFound", "message": "gone"}}).to_string(),
        1000,
    ));
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    let e = support::step_error(&report, "centralus/cluster").to_string();
    assert!(
        e.contains("reading the operation status failed 6 times")
            && e.contains("OperationNotFound"),
        "{e}"
    );
    assert!(report.step("eastus2/cluster").unwrap().result.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_resource_type_has_its_own_deadline() {
    let emu = Emulator::start().await;
    // Public IPs never finish; their deadline (10 min, scaled: 0.6 s) ends the wait.
    emu.in_progress(Kind::PublicIp, 10_000);
    let c = support::catalogue();
    let client = support::client(&emu);
    let started = std::time::Instant::now();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    let elapsed = started.elapsed().as_secs_f64();
    let deadline = ResourceKind::PublicIp.deadline().as_secs_f64() * support::SCALE;
    for region in ["eastus2", "centralus"] {
        let e = support::step_error(&report, &format!("{region}/public-ip"));
        assert!(matches!(e, InfraError::Deadline { .. }), "{e}");
        let s = e.to_string();
        // Names the resource, what it waited for and for how long.
        assert!(
            s.contains(&format!("public IP pip-hello-{region}"))
                && s.contains("gave up after 0.")
                && s.contains("InProgress")
                && s.contains("deadline 600s"),
            "{s}"
        );
        let InfraError::Deadline { waited, .. } = e else {
            unreachable!()
        };
        assert!(*waited >= deadline * 0.9, "{waited}");
        // The endpoint needs the IP; the cluster does not, and it finished.
        assert!(matches!(
            report
                .step(&format!("{region}/tm-endpoint"))
                .unwrap()
                .result,
            Err(InfraError::Skipped(_))
        ));
        assert!(
            report
                .step(&format!("{region}/cluster"))
                .unwrap()
                .result
                .is_ok()
        );
    }
    assert!(
        elapsed >= deadline * 0.9,
        "gave up after {elapsed}s, before the deadline"
    );
    assert!(elapsed < 10.0, "{elapsed}s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_back_after_success_must_say_succeeded() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-x");
    support::put_resource_group(&client, &rg).await;
    let pip = format!("{rg}/providers/Microsoft.Network/publicIPAddresses/pip");
    let body = json!({"location": "eastus2", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}});
    // The next read of the pip (after its PUT) says `state`.
    let read_once_as = |state: &str| {
        Fault::raw_get(
            "/publicipaddresses/pip",
            200,
            json!({"id": pip, "properties": {"provisioningState": state}}).to_string(),
            1,
        )
    };
    let put_pip = || {
        support::put(
            &client,
            &pip,
            "2024-05-01",
            &body,
            ResourceKind::PublicIp,
            "pip",
        )
    };
    // The operation says Succeeded but the resource still reads Updating once: wait for it.
    emu.fault(read_once_as("Updating"));
    let r = put_pip().await.unwrap();
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let reqs = emu.requests();
    let (_, gets) = reads_after_put(&reqs, &pip);
    assert_eq!(gets.len(), 2, "read back, then read again until Succeeded");
    // The resource reads Failed after a Succeeded operation: an error, not success.
    emu.fault(read_once_as("Failed"));
    let e = put_pip().await.unwrap_err();
    assert!(
        matches!(e, InfraError::OperationFailed { .. })
            && e.to_string().contains("the resource says Failed"),
        "{e}"
    );
}
