//! Full bootstrap of the shipped catalogue against the emulator, idempotency, faults,
//! failure isolation and resume, the cluster update path, and polling restraint.

use crate::support;

use infra::apply::Outcome;
use infra::arm::InfraError;
use infra::arm::api_versions::{ROLE_ACR_PULL, ROLE_NETWORK_CONTRIBUTOR};
use infra::plan::Action;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::emulator::{Emulator, Fault, FaultKind, Kind, SUB};

fn body(r: &support::emulator::Recorded) -> &Value {
    r.body.as_ref().expect("PUT has a JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_bootstrap_of_the_shipped_catalogue_carries_its_values() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (plan, report, lines) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    assert!(plan.blocked().is_empty());
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[eastus2] AKS cluster aks-eastus2: created")),
        "{lines:?}"
    );

    // Every resource ends Succeeded.
    for kind in [
        Kind::ResourceGroup,
        Kind::Registry,
        Kind::Replication,
        Kind::PublicIp,
        Kind::Cluster,
        Kind::Extension,
        Kind::FluxConfig,
    ] {
        let ids = emu.ids(kind);
        assert!(!ids.is_empty(), "{kind:?}");
        for id in ids {
            let v = emu.resource(&id).expect("stored");
            assert_eq!(
                v.pointer("/properties/provisioningState"),
                Some(&json!("Succeeded")),
                "{id}"
            );
        }
    }
    let reqs = emu.requests();
    assert!(
        reqs.iter().all(|r| r.status != 401),
        "every request carried the bearer token"
    );
    assert!(reqs.iter().all(|r| r.query.contains("api-version=")));

    // Registry: Premium, admin disabled, ZR per catalogue, in the home region.
    let reg = support::ends_with(&reqs, "PUT", "/registries/contosoha");
    assert_eq!(reg.len(), 1);
    let b = body(reg[0]);
    assert_eq!(b["sku"]["name"], "Premium");
    assert_eq!(b["location"], c.registry.home);
    assert_eq!(b["properties"]["adminUserEnabled"], false);
    assert_eq!(b["properties"]["zoneRedundancy"], "Enabled");
    // Replications: only for non-home regions, zone redundant.
    let reps = support::puts(&reqs, "/replications/");
    let rep_regions: Vec<&str> = reps
        .iter()
        .map(|r| r.path.rsplit('/').next().unwrap())
        .collect();
    let expect: Vec<&str> = c
        .regions
        .iter()
        .filter(|r| r.name != c.registry.home)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(rep_regions, expect);
    for r in &reps {
        let b = body(r);
        assert_eq!(b["properties"]["zoneRedundancy"], "Enabled");
        assert_eq!(b["properties"]["regionEndpointEnabled"], true);
        assert_eq!(b["location"], r.path.rsplit('/').next().unwrap());
    }
    // Resource groups: one per region (its location) and the global one in the home region.
    let rgs: BTreeMap<String, String> = reqs
        .iter()
        .filter(|r| r.method == "PUT" && r.path.split('/').count() == 5)
        .map(|r| {
            (
                r.path.rsplit('/').next().unwrap().to_string(),
                body(r)["location"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want: BTreeMap<String, String> = c
        .regions
        .iter()
        .map(|r| (r.cluster.resource_group.clone(), r.name.to_string()))
        .collect();
    want.insert(
        c.registry.resource_group.clone(),
        c.registry.home.to_string(),
    );
    assert_eq!(rgs, want);

    for region in &c.regions {
        let zones: Vec<String> = region.zones.iter().map(|z| z.to_string()).collect();
        // Public IP.
        let pip = support::puts(
            &reqs,
            &format!("/publicIPAddresses/{}", region.public_ip.name),
        );
        assert_eq!(pip.len(), 1);
        let b = body(&pip[0]);
        assert_eq!(b["sku"], json!({"name": "Standard", "tier": "Regional"}));
        assert_eq!(b["zones"], json!(zones));
        assert_eq!(b["properties"]["publicIPAllocationMethod"], "Static");
        assert_eq!(
            b["properties"]["dnsSettings"]["domainNameLabel"],
            region.public_ip.dns_label
        );
        // Cluster.
        let cl = support::puts(&reqs, &format!("/managedClusters/{}", region.cluster.name));
        let cl: Vec<_> = cl
            .iter()
            .filter(|r| {
                !r.path
                    .contains("/providers/Microsoft.KubernetesConfiguration/")
            })
            .collect();
        assert_eq!(cl.len(), 1);
        let b = body(cl[0]);
        assert_eq!(b["location"], region.name);
        assert_eq!(b["properties"]["dnsPrefix"], region.cluster.dns_prefix());
        assert_eq!(
            b["properties"]["kubernetesVersion"],
            region.cluster.kubernetes_version
        );
        assert_eq!(b["identity"]["type"], "SystemAssigned");
        assert_eq!(b["sku"], json!({"name": "Base", "tier": "Standard"}));
        assert_eq!(
            b["properties"]["networkProfile"],
            json!({"networkPlugin": "azure", "networkPluginMode": "overlay",
                   "loadBalancerSku": "standard", "outboundType": "loadBalancer"})
        );
        assert_eq!(b["properties"]["oidcIssuerProfile"]["enabled"], true);
        assert_eq!(
            b["properties"]["securityProfile"]["workloadIdentity"]["enabled"],
            true
        );
        let pools = b["properties"]["agentPoolProfiles"].as_array().unwrap();
        assert_eq!(pools.len(), region.cluster.node_pools.len());
        for (p, want) in pools.iter().zip(&region.cluster.node_pools) {
            assert_eq!(p["name"], want.name);
            assert_eq!(p["mode"], format!("{:?}", want.mode));
            assert_eq!(p["type"], "VirtualMachineScaleSets");
            assert_eq!(p["osType"], "Linux");
            assert!(p.get("orchestratorVersion").is_none());
            assert_eq!(p["vmSize"], want.vm_size);
            assert_eq!(p["availabilityZones"], json!(zones));
            assert_eq!(p["count"], want.count);
            if let Some(max) = want.max_count {
                assert_eq!(p["maxCount"], max);
                assert_eq!(p["enableAutoScaling"], true);
            }
        }
        // Role assignments: AcrPull for the kubelet identity on the registry.
        let stored = emu
            .resource(&format!("/subscriptions/{SUB}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}", region.cluster.resource_group, region.cluster.name))
            .unwrap();
        let kubelet = stored
            .pointer("/properties/identityProfile/kubeletidentity/objectId")
            .unwrap()
            .as_str()
            .unwrap();
        let cluster_principal = stored
            .pointer("/identity/principalId")
            .unwrap()
            .as_str()
            .unwrap();
        let registry_id = infra::resources::registry_id(SUB, &c);
        let name = infra::resources::assignment_name(&registry_id, kubelet, ROLE_ACR_PULL);
        let acr = support::puts(
            &reqs,
            &format!("{registry_id}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        );
        assert_eq!(acr.len(), 1, "AcrPull for {}", region.name);
        let b = body(&acr[0]);
        assert_eq!(
            b["properties"]["roleDefinitionId"],
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_ACR_PULL}"
            )
        );
        assert_eq!(b["properties"]["principalId"], kubelet);
        assert_eq!(b["properties"]["principalType"], "ServicePrincipal");
        // Network Contributor for the cluster identity on the public IP's resource group.
        let scope = format!(
            "/subscriptions/{SUB}/resourceGroups/{}",
            region.public_ip_resource_group()
        );
        let name =
            infra::resources::assignment_name(&scope, cluster_principal, ROLE_NETWORK_CONTRIBUTOR);
        let nc = support::puts(
            &reqs,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
        );
        assert_eq!(nc.len(), 1);
        assert!(
            body(&nc[0])["properties"]["roleDefinitionId"]
                .as_str()
                .unwrap()
                .ends_with(ROLE_NETWORK_CONTRIBUTOR)
        );
        // Flux.
        let ext = support::puts(
            &reqs,
            &format!(
                "/managedClusters/{}/providers/Microsoft.KubernetesConfiguration/extensions/flux",
                region.cluster.name
            ),
        );
        assert_eq!(ext.len(), 1);
        assert_eq!(
            body(&ext[0]),
            &json!({"properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": true,
                "releaseTrain": "Stable", "scope": {"cluster": {"releaseNamespace": "flux-system"}}}})
        );
        let fc = support::puts(
            &reqs,
            &format!(
                "/managedClusters/{}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{}",
                region.cluster.name, c.gitops.source_name
            ),
        );
        assert_eq!(fc.len(), 1);
        let b = body(&fc[0]);
        assert_eq!(b["properties"]["namespace"], c.gitops.namespace);
        assert_eq!(b["properties"]["scope"], "cluster");
        assert_eq!(b["properties"]["sourceKind"], "GitRepository");
        assert_eq!(
            b["properties"]["gitRepository"]["timeoutInSeconds"],
            c.gitops.timeout_seconds
        );
        assert_eq!(b["properties"]["gitRepository"]["url"], c.gitops.repo);
        assert_eq!(
            b["properties"]["gitRepository"]["repositoryRef"]["branch"],
            c.gitops.branch
        );
        assert_eq!(
            b["properties"]["gitRepository"]["syncIntervalInSeconds"],
            c.gitops.source_interval_seconds
        );
        let ks = b["properties"]["kustomizations"].as_object().unwrap();
        assert_eq!(ks.len(), 1);
        let k = ks.values().next().unwrap();
        assert_eq!(k["path"], format!("./clusters/{}", region.name));
        assert_eq!(k["prune"], true);
        assert_eq!(
            k["syncIntervalInSeconds"],
            c.gitops.kustomization_interval_seconds
        );
        assert_eq!(k["timeoutInSeconds"], c.gitops.timeout_seconds);
        // Traffic Manager endpoint on the region's public IP, with its priority.
        let ep = support::puts(
            &reqs,
            &format!(
                "/trafficmanagerprofiles/{}/AzureEndpoints/{}",
                c.traffic_manager.profile, region.name
            ),
        );
        assert_eq!(ep.len(), 1);
        let b = body(&ep[0]);
        assert_eq!(b["properties"]["priority"], region.priority);
        assert_eq!(
            b["properties"]["targetResourceId"],
            infra::resources::public_ip_id(SUB, region)
        );
    }
    // Traffic Manager profile: priority routing, monitor = readiness probe, no inline endpoints.
    let tm = support::puts(
        &reqs,
        &format!("/trafficmanagerprofiles/{}", c.traffic_manager.profile),
    );
    let tm: Vec<_> = tm
        .iter()
        .filter(|r| !r.path.contains("Endpoints/"))
        .collect();
    assert_eq!(tm.len(), 1);
    let b = body(tm[0]);
    assert_eq!(b["location"], "global");
    assert_eq!(b["properties"]["trafficRoutingMethod"], "Priority");
    assert!(
        b["properties"].get("endpoints").is_none(),
        "endpoints are managed through their own URLs"
    );
    let m = &b["properties"]["monitorConfig"];
    assert_eq!(m["path"], c.monitor_path());
    assert_eq!(m["path"], c.app.probes.readiness);
    assert_eq!(m["port"], c.traffic_manager.monitor.port);
    assert_eq!(m["protocol"], "HTTP");
    assert_eq!(
        m["intervalInSeconds"],
        c.traffic_manager.monitor.interval_seconds
    );
    assert_eq!(
        m["timeoutInSeconds"],
        c.traffic_manager.monitor.timeout_seconds
    );
    assert_eq!(
        m["toleratedNumberOfFailures"],
        c.traffic_manager.monitor.tolerated_failures
    );
    assert_eq!(
        m["expectedStatusCodeRanges"],
        json!([{"min": 200, "max": 299}])
    );
    assert_eq!(
        b["properties"]["dnsConfig"],
        json!({"relativeName": c.traffic_manager.dns_name, "ttl": c.traffic_manager.ttl})
    );
    assert_eq!(
        plan.worst_case_failover_seconds,
        c.traffic_manager.worst_case_failover_seconds()
    );
    assert!(infra::plan::render_text(&plan).contains(&format!(
        "= {}s",
        c.traffic_manager.worst_case_failover_seconds()
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_run_writes_nothing_and_plans_no_change() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    let changing: Vec<_> = plan
        .items
        .iter()
        .filter(|i| i.action != Action::NoChange)
        .map(|i| (&i.key, &i.action))
        .collect();
    assert!(changing.is_empty(), "{changing:?}");
    assert!(!plan.has_writes());
    assert!(report.ok());
    assert!(
        report
            .steps
            .iter()
            .all(|s| matches!(s.result, Ok(Outcome::Unchanged)))
    );
    assert_eq!(
        emu.writes().len(),
        0,
        "{:?}",
        emu.writes()
            .iter()
            .map(|r| (&r.method, &r.path))
            .collect::<Vec<_>>()
    );
    let text = infra::plan::render_text(&plan);
    assert!(text.contains("Plan: 21 no change"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_still_converge() {
    let emu = Emulator::start().await;
    emu.fault(Fault::new(
        Some("PUT"),
        "/managedclusters/aks-eastus2",
        FaultKind::TooManyRequests { retry_after: 7 },
        2,
    ));
    emu.fault(Fault::new(
        Some("PUT"),
        "/registries/contosoha",
        FaultKind::ServerError,
        2,
    ));
    emu.fault(Fault::new(
        Some("GET"),
        "/operations/",
        FaultKind::ServerError,
        1,
    ));
    emu.fault(Fault::new(
        Some("PUT"),
        "/fluxconfigurations/",
        FaultKind::InProgressConflict {
            retry_after: Some(3),
        },
        2,
    ));
    emu.fault(Fault::new(
        Some("PUT"),
        "/trafficmanagerprofiles/contoso-ha/azureendpoints/centralus",
        FaultKind::TooManyRequests { retry_after: 1 },
        1,
    ));
    emu.with(|s| s.principal_not_found = 3);
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let reqs = emu.requests();
    let statuses = |needle: &str| -> Vec<u16> {
        reqs.iter()
            .filter(|r| r.method == "PUT" && r.path.to_ascii_lowercase().ends_with(needle))
            .map(|r| r.status)
            .collect()
    };
    assert_eq!(
        statuses("/managedclusters/aks-eastus2"),
        vec![429, 429, 201]
    );
    assert_eq!(statuses("/registries/contosoha"), vec![500, 500, 201]);
    assert_eq!(
        statuses("/trafficmanagerprofiles/contoso-ha/azureendpoints/centralus"),
        vec![429, 201]
    );
    // The retry after a 429 waited at least the (scaled) Retry-After.
    let cl: Vec<_> = reqs
        .iter()
        .filter(|r| {
            r.method == "PUT"
                && r.path
                    .to_ascii_lowercase()
                    .ends_with("/managedclusters/aks-eastus2")
        })
        .collect();
    for w in cl.windows(2) {
        let gap = w[1].at - w[0].at;
        assert!(
            gap.as_secs_f64() >= 7.0 * support::SCALE,
            "retried after {gap:?}"
        );
    }
    // PrincipalNotFound three times per principal, then created.
    let roles: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("roleAssignments"))
        .collect();
    assert_eq!(roles.iter().filter(|r| r.status == 400).count(), 3 * 4);
    assert_eq!(roles.iter().filter(|r| r.status == 201).count(), 4);
    // 409 in progress on both flux configurations' first tries, then created.
    let flux: Vec<u16> = reqs
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("fluxConfigurations"))
        .map(|r| r.status)
        .collect();
    assert_eq!(flux.iter().filter(|s| **s == 409).count(), 2);
    assert_eq!(flux.iter().filter(|s| **s == 201).count(), 2);
    // And a second run is clean.
    emu.clear_requests();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert!(emu.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cluster_stops_its_dependents_only_and_a_rerun_resumes() {
    let emu = Emulator::start().await;
    emu.fault(Fault::fail_operation("/managedclusters/aks-centralus", "QuotaExceeded", "Operation could not be completed as it results in exceeding approved standardDDSv5Family Cores quota."));
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, lines) = support::bootstrap(&client, &c).await;
    assert!(!report.ok());
    let err = support::step_error(&report, "centralus/cluster");
    let arm = err.arm().expect("an ARM error");
    assert_eq!(arm.code, "QuotaExceeded");
    assert!(arm.message.contains("quota"));
    assert!(
        arm.correlation_id
            .as_deref()
            .is_some_and(|c| c.starts_with("corr-"))
    );
    let shown = err.to_string();
    assert!(
        shown.contains("QuotaExceeded")
            && shown.contains("correlation id: corr-")
            && shown.contains("Detail"),
        "{shown}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("aks-centralus: FAILED") && l.contains("QuotaExceeded")),
        "{lines:?}"
    );
    for dependent in [
        "centralus/acr-pull",
        "centralus/network-contributor",
        "centralus/flux-extension",
        "centralus/flux-config",
    ] {
        assert!(
            matches!(
                report.step(dependent).unwrap().result,
                Err(InfraError::Skipped(_))
            ),
            "{dependent}"
        );
    }
    // Not depending on the cluster: still done. The other region: all done.
    assert!(report.step("centralus/tm-endpoint").unwrap().result.is_ok());
    assert!(
        report
            .steps
            .iter()
            .filter(|s| s.region.as_deref() == Some("eastus2"))
            .all(|s| s.result.is_ok())
    );
    let reqs = emu.requests();
    assert!(!reqs.iter().any(|r| {
        r.method == "PUT"
            && r.path
                .contains("aks-centralus/providers/Microsoft.KubernetesConfiguration")
    }));
    assert_eq!(
        reqs.iter()
            .filter(|r| r.method == "PUT" && r.path.contains("roleAssignments") && r.status == 201)
            .count(),
        2,
        "only eastus2's two"
    );
    let text = infra::apply::render_report(&report);
    assert!(
        text.contains("1 failed") && text.contains("4 skipped"),
        "{text}"
    );

    // Re-run: the failed cluster is re-applied, its dependents created, nothing else written.
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    match &plan.item("centralus/cluster").unwrap().action {
        Action::Update { changes } => assert_eq!(changes[0].field, "properties.provisioningState"),
        other => panic!("{other:?}"),
    }
    let writes: Vec<String> = emu.writes().iter().map(|r| r.path.clone()).collect();
    assert!(
        writes
            .iter()
            .all(|p| p.contains("centralus") || p.contains("roleAssignments")),
        "{writes:?}"
    );
    assert!(writes.iter().all(|p| !p.contains("eastus2")), "{writes:?}");
    emu.clear_requests();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert!(emu.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_update_merges_with_if_match_and_never_sends_a_version() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-ha-eastus2/providers/Microsoft.ContainerService/managedClusters/aks-eastus2"
    );
    // Someone enabled an addon and the autoscaler bounds drifted.
    emu.edit(&id, |v| {
        v["properties"]["addonProfiles"] =
            json!({"azurepolicy": {"enabled": true, "config": null}});
        let pools = v["properties"]["agentPoolProfiles"].as_array_mut().unwrap();
        let user = pools.iter_mut().find(|p| p["name"] == "user").unwrap();
        user["maxCount"] = json!(6);
        user["count"] = json!(4); // the autoscaler's business: must not be diffed or reset
    });
    let etag = emu.resource(&id).unwrap()["eTag"]
        .as_str()
        .unwrap()
        .to_string();
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    match &plan.item("eastus2/cluster").unwrap().action {
        Action::Update { changes } => {
            assert_eq!(changes.len(), 1, "{changes:?}");
            assert_eq!(
                changes[0].field,
                "properties.agentPoolProfiles[name=user].maxCount"
            );
            assert_eq!(
                (changes[0].actual.clone(), changes[0].desired.clone()),
                (json!(6), json!(9))
            );
        }
        other => panic!("{other:?}"),
    }
    let reqs = emu.requests();
    let puts = support::ends_with(&reqs, "PUT", "/managedclusters/aks-eastus2");
    assert_eq!(puts.len(), 1);
    let put = puts[0];
    assert_eq!(put.header("if-match"), Some(etag.as_str()));
    // GET came right before the PUT (merge from the live body).
    let i = reqs.iter().position(|r| std::ptr::eq(r, put)).unwrap();
    assert!(reqs[..i].iter().rev().any(|r| {
        r.method == "GET"
            && r.path
                .to_ascii_lowercase()
                .ends_with("/managedclusters/aks-eastus2")
    }));
    let b = put.body.as_ref().unwrap();
    assert!(
        b["properties"].get("kubernetesVersion").is_none(),
        "no version on update: {b}"
    );
    let text = b.to_string();
    assert!(!text.contains("orchestratorVersion"), "{text}");
    assert_eq!(
        b["properties"]["addonProfiles"]["azurepolicy"]["enabled"], true,
        "kept what the tool does not own"
    );
    let user = b["properties"]["agentPoolProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "user")
        .unwrap();
    assert_eq!(user["maxCount"], 9);
    assert_eq!(user["count"], 4, "autoscaler count untouched");
    assert!(emu.with(|s| s.upgrades.is_empty()), "no upgrade started");
    // And the addon survived in Azure.
    assert_eq!(
        emu.resource(&id).unwrap()["properties"]["addonProfiles"]["azurepolicy"]["enabled"],
        true
    );
    // Nothing else was written.
    assert_eq!(emu.writes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_never_faster_than_retry_after() {
    let emu = Emulator::start().await;
    emu.with(|s| {
        s.retry_after = Some(20);
        s.default_polls = 4;
    });
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let reqs = emu.requests();
    let min_gap = 20.0 * support::SCALE;
    // Group operation polls by operation URL; each starts at the PUT that returned it.
    let started: BTreeMap<String, std::time::Instant> = reqs
        .iter()
        .filter_map(|r| r.async_op.clone().map(|o| (o, r.at)))
        .collect();
    let mut ops: BTreeMap<String, Vec<&support::emulator::Recorded>> = BTreeMap::new();
    for r in &reqs {
        let p = r.path.to_ascii_lowercase();
        if r.method == "GET" && (p.contains("/operations/") || p.contains("/operationstatuses/")) {
            ops.entry(p).or_default().push(r);
        }
    }
    assert!(ops.len() >= 10, "{} operations", ops.len());
    for (op, polls) in &ops {
        assert_eq!(polls.len(), 5, "{op}: 4 running + 1 terminal");
        let put_at = started[op];
        let mut prev = put_at;
        for p in polls {
            let gap = (p.at - prev).as_secs_f64();
            assert!(
                gap >= min_gap,
                "{op}: polled {gap}s after the previous answer; Retry-After allows {min_gap}s"
            );
            prev = p.at;
        }
        let elapsed = (polls.last().unwrap().at - put_at).as_secs_f64();
        assert!(
            polls.len() as f64 <= elapsed / min_gap + 1.0,
            "{op}: {} polls in {elapsed}s",
            polls.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_run_in_parallel_their_cluster_operations_overlap() {
    let emu = Emulator::start().await;
    emu.in_progress(Kind::Cluster, 5);
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let reqs = emu.requests();
    // Per region: from the cluster PUT to the poll that said Succeeded.
    let span = |region: &catalogue::Region| {
        let id = infra::resources::cluster_id(SUB, region);
        let put = reqs
            .iter()
            .find(|r| r.method == "PUT" && r.path.eq_ignore_ascii_case(&id))
            .unwrap();
        let op = put.async_op.clone().unwrap();
        let last = reqs
            .iter()
            .filter(|r| r.method == "GET" && r.path.to_ascii_lowercase() == op)
            .map(|r| r.at)
            .max()
            .unwrap();
        (put.at, last)
    };
    let (a, b) = (span(&c.regions[0]), span(&c.regions[1]));
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "the two clusters' operations must overlap: {a:?} vs {b:?}"
    );
    // A cluster does not wait for its region's replication or public IP (independent steps).
    let cu = &c.regions[1];
    let rep_done = reqs
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.path
                    .to_ascii_lowercase()
                    .contains("/replications/centralus/operationstatuses/")
        })
        .map(|r| r.at)
        .max()
        .unwrap();
    assert!(
        span(cu).0 < rep_done,
        "centralus cluster started before its replication ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_merge_into_the_live_body_and_keep_unowned_settings() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let acr = infra::resources::registry_id(SUB, &c);
    let pip = infra::resources::public_ip_id(SUB, &c.regions[0]);
    // Others set things the tool does not own; one owned field drifted on each.
    emu.edit(&acr, |v| {
        v["properties"]["networkRuleSet"] = json!({"defaultAction": "Deny", "ipRules": []});
        v["properties"]["adminUserEnabled"] = json!(true);
        v["tags"]["cost-center"] = json!("42");
    });
    emu.edit(&pip, |v| {
        v["properties"]["ddosSettings"] = json!({"protectionMode": "VirtualNetworkInherited"});
        v["properties"]["ipTags"] = json!([{"ipTagType": "RoutingPreference", "tag": "Internet"}]);
        v["tags"]["managed-by"] = json!("someone-else");
        v["tags"]["cost-center"] = json!("42");
    });
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    assert!(matches!(
        plan.item("registry").unwrap().action,
        Action::Update { .. }
    ));
    let reqs = emu.requests();
    let body_of = |suffix: &str| -> Value {
        let puts = support::ends_with(&reqs, "PUT", suffix);
        assert_eq!(puts.len(), 1, "{suffix}");
        puts[0].body.clone().unwrap()
    };
    let name = |id: &str| id.rsplit('/').next().unwrap().to_ascii_lowercase();

    let b = body_of(&format!("/registries/{}", name(&acr)));
    assert_eq!(
        b["properties"]["adminUserEnabled"], false,
        "owned field corrected"
    );
    assert_eq!(
        b["properties"]["networkRuleSet"],
        json!({"defaultAction": "Deny", "ipRules": []}),
        "unowned kept: {b}"
    );
    assert_eq!(b["tags"]["cost-center"], "42");
    assert_eq!(b["tags"]["managed-by"], "infra");

    let b = body_of(&format!("/publicipaddresses/{}", name(&pip)));
    assert_eq!(b["tags"]["managed-by"], "infra", "owned field corrected");
    assert_eq!(b["tags"]["cost-center"], "42");
    assert_eq!(
        b["properties"]["ddosSettings"],
        json!({"protectionMode": "VirtualNetworkInherited"})
    );
    assert_eq!(
        b["properties"]["ipTags"],
        json!([{"ipTagType": "RoutingPreference", "tag": "Internet"}])
    );
    // The unowned settings survived in Azure, and a second run writes nothing.
    assert_eq!(
        emu.resource(&acr).unwrap()["properties"]["networkRuleSet"]["defaultAction"],
        "Deny"
    );
    emu.clear_requests();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());
}
