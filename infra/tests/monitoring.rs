//! The Azure side of monitoring against the ARM emulator: the workspace, managed Prometheus
//! on each cluster, the rule groups, the action group and the Traffic Manager failover alert
//! are created from `catalogue.monitoring`, idempotently, with spec-conforming bodies; a
//! rotation change rewrites only the alert; a catalogue without the section creates none.

use crate::support;

use infra::arm::schema::{Request, schema};
use infra::plan::Action;
use infra::resources::monitoring as mon;
use serde_json::{Value, json};
use support::emulator::{Emulator, Kind, Recorded, SUB};

const SECTION: &str = "
monitoring:
  resourceGroup: rg-ha-monitoring
  workspace: amw-contoso-ha
  objectives:
    availabilityPercent: 99.9
    latencyP99Milliseconds: 300
  receivers:
    emails: [oncall@example.com, platform@example.com]
    webhooks: [https://hooks.example.com/alerts]
";

/// The shipped catalogue plus a monitoring section, after `edit` (from, to) on the whole text.
fn catalogue_with(extra: &str, edits: &[(&str, &str)]) -> catalogue::Catalogue {
    let mut text = format!("{}{SECTION}{extra}", support::catalogue_text());
    for (from, to) in edits {
        assert!(text.contains(from), "catalogue no longer contains `{from}`");
        text = text.replacen(from, to, 1);
    }
    catalogue::parse(&support::catalogue_path(), &text)
        .unwrap_or_else(|e| panic!("catalogue with monitoring invalid: {e}"))
}

fn monitored() -> catalogue::Catalogue {
    catalogue_with("", &[])
}

fn is_monitoring_path(p: &str) -> bool {
    let p = p.to_ascii_lowercase();
    [
        "/microsoft.monitor/",
        "/microsoft.insights/",
        "/microsoft.alertsmanagement/",
    ]
    .iter()
    .any(|n| p.contains(n))
}

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
        assert!(r.status < 300, "{} {} -> {}", r.method, r.path, r.status);
    }
}

fn writes_to(emu: &Emulator, path: &str) -> Vec<Recorded> {
    let p = path.to_ascii_lowercase();
    emu.writes()
        .into_iter()
        .filter(|r| r.path.to_ascii_lowercase() == p)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_creates_every_monitoring_resource_and_a_second_run_writes_nothing() {
    let emu = Emulator::start().await;
    let c = monitored();
    let m = c.monitoring.clone().expect("section");
    let client = support::client(&emu);
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    assert_every_write_conforms(&emu);

    // Plan text lists every monitoring piece.
    let text = infra::plan::render_text(&plan);
    for want in [
        "[global] resource group rg-ha-monitoring: create",
        "[global] Azure Monitor workspace amw-contoso-ha: create",
        "[global] action group hello-alerts: create",
        "[global] metric alert contoso-ha-failover: create",
        "[eastus2] data collection endpoint MSProm-eastus2-aks-eastus2: create",
        "[centralus] data collection rule MSProm-eastus2-aks-centralus: create",
        "[centralus] data collection rule association aks-centralus/MSProm-centralus-aks-centralus: create",
        "[eastus2] Prometheus rule group eastus2-sli: create",
        "[centralus] Prometheus rule group centralus-alerts: create",
    ] {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }

    // The workspace, in the registry's home region.
    let ws_id = mon::workspace_id(SUB, &m);
    let ws = emu.resource(&ws_id).expect("workspace");
    assert_eq!(ws["location"], "eastus2");

    // The action group: global, short name within 12, both receiver kinds, common schema.
    let ag_id = mon::action_group_id(SUB, &c, &m);
    let ag = emu.resource(&ag_id).expect("action group");
    let p = &ag["properties"];
    assert!(
        ag["location"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("global")
    );
    let short = p["groupShortName"].as_str().unwrap();
    assert!(!short.is_empty() && short.len() <= 12, "{short}");
    let emails: Vec<&str> = p["emailReceivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["useCommonAlertSchema"], true);
            r["emailAddress"].as_str().unwrap()
        })
        .collect();
    assert_eq!(emails, ["oncall@example.com", "platform@example.com"]);
    assert_eq!(
        p["webhookReceivers"][0]["serviceUri"],
        "https://hooks.example.com/alerts"
    );
    assert_eq!(p["webhookReceivers"][0]["useCommonAlertSchema"], true);

    // The failover alert: on the profile's endpoint-health metric, every endpoint, to the group.
    let alert_path = plan
        .item(mon::FAILOVER_ALERT_KEY)
        .unwrap()
        .id
        .clone()
        .unwrap();
    let alert = emu.resource(&alert_path).expect("metric alert");
    assert_eq!(alert["location"], "global");
    let ap = &alert["properties"];
    assert_eq!(
        ap["scopes"],
        json!([infra::resources::tm_profile_id(SUB, &c)])
    );
    let crit = &ap["criteria"]["allOf"][0];
    assert_eq!(crit["metricName"], mon::TM_ENDPOINT_METRIC);
    assert_eq!(crit["operator"], "LessThan");
    assert_eq!(crit["threshold"], 1);
    assert_eq!(
        crit["dimensions"],
        json!([{"name": "EndpointName", "operator": "Include", "values": ["*"]}])
    );
    assert_eq!(ap["actions"], json!([{ "actionGroupId": ag_id }]));

    for r in &c.regions {
        // Managed Prometheus: the add-on flag on the cluster, its rule and association.
        let cluster = emu
            .resource(&infra::resources::cluster_id(SUB, r))
            .expect("cluster");
        assert_eq!(
            cluster["properties"]["azureMonitorProfile"]["metrics"]["enabled"],
            true
        );
        let dcr_item = plan.item(&format!("{}/dcr", r.name)).unwrap();
        let dcr = emu.resource(dcr_item.id.as_ref().unwrap()).expect("dcr");
        assert_eq!(dcr["location"], "eastus2", "DCR in the workspace's region");
        assert_eq!(
            dcr["properties"]["destinations"]["monitoringAccounts"][0]["accountResourceId"],
            json!(ws_id)
        );
        assert_eq!(
            dcr["properties"]["dataFlows"][0]["streams"],
            json!([mon::PROMETHEUS_STREAM])
        );
        let dcra_item = plan.item(&format!("{}/dcra", r.name)).unwrap();
        let dcra_path = dcra_item.id.clone().unwrap();
        assert!(
            dcra_path
                .to_ascii_lowercase()
                .starts_with(&infra::resources::cluster_id(SUB, r).to_ascii_lowercase()),
            "the association is on the cluster: {dcra_path}"
        );
        let dcra = emu.resource(&dcra_path).expect("dcra");
        assert_eq!(
            dcra["properties"]["dataCollectionRuleId"],
            json!(dcr_item.id.clone().unwrap())
        );
        // Two rule groups, cluster-centric, alerts routed to the action group.
        for suffix in ["sli", "alerts"] {
            let item = plan
                .item(&format!("{}/rule-group/{}-{suffix}", r.name, r.name))
                .expect("rule group planned");
            let g = emu.resource(item.id.as_ref().unwrap()).expect("rule group");
            let gp = &g["properties"];
            assert_eq!(gp["clusterName"], json!(r.cluster.name));
            assert_eq!(
                gp["scopes"],
                json!([ws_id, infra::resources::cluster_id(SUB, r)])
            );
            let rules = gp["rules"].as_array().unwrap();
            assert!(!rules.is_empty());
            for rule in rules {
                if rule.get("alert").is_some() {
                    assert_eq!(rule["actions"], json!([{ "actionGroupId": ag_id }]));
                    assert_eq!(rule["labels"]["region"], json!(r.name.to_string()));
                }
            }
            if suffix == "alerts" {
                assert!(rules.iter().all(|r| r.get("alert").is_some()));
            }
        }
    }

    // Dependency order: the association after its rule and its cluster, the rule after its
    // endpoint and the workspace, rule groups after the action group and the cluster, the
    // alert after the Traffic Manager profile.
    let reqs = emu.requests();
    let first_write = |needle: &str| {
        let n = needle.to_ascii_lowercase();
        reqs.iter()
            .position(|r| r.is_write() && r.path.to_ascii_lowercase().ends_with(&n))
            .unwrap_or_else(|| panic!("no write to {needle}"))
    };
    for r in &c.regions {
        let dcra = first_write(&format!(
            "datacollectionruleassociations/msprom-{}-{}",
            r.name, r.cluster.name
        ));
        let dcr = first_write(&format!(
            "datacollectionrules/msprom-eastus2-{}",
            r.cluster.name
        ));
        let dce = first_write(&format!(
            "datacollectionendpoints/msprom-eastus2-{}",
            r.cluster.name
        ));
        let cluster = first_write(&format!("managedclusters/{}", r.cluster.name));
        assert!(dce < dcr && dcr < dcra && cluster < dcra);
        assert!(first_write("accounts/amw-contoso-ha") < dcr);
        let alerts = first_write(&format!("prometheusrulegroups/{}-alerts", r.name));
        assert!(first_write("actiongroups/hello-alerts") < alerts && cluster < alerts);
    }
    assert!(
        first_write("trafficmanagerprofiles/contoso-ha")
            < first_write("metricalerts/contoso-ha-failover")
    );

    // Second run: nothing to do, nothing written.
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    let changing: Vec<_> = plan
        .items
        .iter()
        .filter(|i| i.action != Action::NoChange)
        .map(|i| (&i.key, &i.action))
        .collect();
    assert!(changing.is_empty(), "{changing:?}");
    assert!(report.ok());
    assert_eq!(emu.writes().len(), 0, "{:?}", emu.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_without_monitoring_creates_no_monitoring_resource() {
    let emu = Emulator::start().await;
    let c = support::catalogue();
    assert!(
        c.monitoring.is_none(),
        "the shipped catalogue has no monitoring section"
    );
    let client = support::client(&emu);
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let touched: Vec<String> = emu
        .requests()
        .into_iter()
        .filter(|r| is_monitoring_path(&r.path))
        .map(|r| r.path)
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    assert!(plan.items.iter().all(|i| !matches!(
        i.kind,
        infra::arm::ResourceKind::MonitorWorkspace
            | infra::arm::ResourceKind::MetricAlert
            | infra::arm::ResourceKind::ActionGroup
            | infra::arm::ResourceKind::PrometheusRuleGroup
            | infra::arm::ResourceKind::DataCollectionRule
    )));
    for r in &c.regions {
        let cluster = emu.resource(&infra::resources::cluster_id(SUB, r)).unwrap();
        assert!(
            cluster["properties"].get("azureMonitorProfile").is_none(),
            "{}",
            cluster["properties"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_change_patches_only_the_failover_alert_and_the_endpoint() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let c = monitored();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let alert_path = infra::plan::plan(&client, &c)
        .await
        .unwrap()
        .item(mon::FAILOVER_ALERT_KEY)
        .unwrap()
        .id
        .clone()
        .unwrap();

    // centralus out of rotation.
    let out = catalogue_with(
        "",
        &[(
            "  - name: centralus\n    priority: 2\n",
            "  - name: centralus\n    priority: 2\n    inRotation: false\n",
        )],
    );
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &out).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let changed: Vec<&str> = plan
        .items
        .iter()
        .filter(|i| i.action != Action::NoChange)
        .map(|i| i.key.as_str())
        .collect();
    assert_eq!(changed, [mon::FAILOVER_ALERT_KEY, "centralus/tm-endpoint"]);
    let writes = emu.writes();
    assert!(writes.iter().all(|w| w.method == "PATCH"), "{writes:?}");
    assert_eq!(writes.len(), 2, "{writes:?}");
    let patch = &writes_to(&emu, &alert_path)[0];
    assert_eq!(
        patch.body.as_ref().unwrap(),
        &json!({"properties": {"criteria": {
            "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            "allOf": [{
                "name": "EndpointDegraded",
                "criterionType": "StaticThresholdCriterion",
                "metricNamespace": "Microsoft.Network/trafficManagerProfiles",
                "metricName": mon::TM_ENDPOINT_METRIC,
                "dimensions": [{"name": "EndpointName", "operator": "Exclude", "values": ["centralus"]}],
                "operator": "LessThan",
                "threshold": 1,
                "timeAggregation": "Maximum",
            }],
        }}}),
        "only the criteria, with the out-of-rotation endpoint excluded"
    );
    assert_every_write_conforms(&emu);
    // The rest of the alert is what it was.
    let alert = emu.resource(&alert_path).unwrap();
    assert_eq!(alert["properties"]["severity"], 1);
    assert_eq!(alert["properties"]["actions"].as_array().unwrap().len(), 1);

    // Idempotent, and back in rotation the filter is every endpoint again.
    emu.clear_requests();
    let again = infra::plan::plan(&client, &out).await.unwrap();
    assert!(!again.has_writes());
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let patch = &writes_to(&emu, &alert_path)[0];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.body.as_ref().unwrap()["properties"]["criteria"]["allOf"][0]["dimensions"],
        json!([{"name": "EndpointName", "operator": "Include", "values": ["*"]}])
    );
    assert!(emu.requests().iter().all(|r| r.method != "DELETE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabling_managed_prometheus_keeps_every_other_cluster_property() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &support::catalogue()).await;
    assert!(report.ok());
    let region = &support::catalogue().regions[0].clone();
    let id = infra::resources::cluster_id(SUB, region);
    // Someone else's settings, and a kube-state-metrics allow-list set by hand.
    emu.edit(&id, |v| {
        v["properties"]["addonProfiles"] =
            json!({"azureKeyvaultSecretsProvider": {"enabled": true, "config": {"enableSecretRotation": "true"}}});
        v["properties"]["autoUpgradeProfile"] = json!({"upgradeChannel": "patch"});
        v["properties"]["azureMonitorProfile"] = json!({"metrics": {"enabled": false,
            "kubeStateMetrics": {"metricLabelsAllowlist": "pods=[app]", "metricAnnotationsAllowList": ""}}});
        v["tags"]["cost-center"] = json!("42");
    });
    emu.clear_requests();
    let c = monitored();
    let (plan, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok(), "{}", infra::apply::render_report(&report));
    let item = plan.item(&format!("{}/cluster", region.name)).unwrap();
    let Action::Update { changes } = &item.action else {
        panic!("cluster should be updated: {:?}", item.action)
    };
    assert_eq!(
        changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        ["properties.azureMonitorProfile.metrics.enabled"]
    );
    let put = writes_to(&emu, &id);
    assert_eq!(put.len(), 1, "{put:?}");
    assert_eq!(
        put[0].method, "PUT",
        "a merged PUT (the cluster has no fitting PATCH)"
    );
    assert!(put[0].header("if-match").is_some(), "sent with the ETag");
    let b = put[0].body.as_ref().unwrap();
    let p = &b["properties"];
    assert_eq!(p["azureMonitorProfile"]["metrics"]["enabled"], true);
    assert_eq!(
        p["azureMonitorProfile"]["metrics"]["kubeStateMetrics"]["metricLabelsAllowlist"],
        "pods=[app]"
    );
    assert_eq!(
        p["addonProfiles"]["azureKeyvaultSecretsProvider"]["config"]["enableSecretRotation"],
        "true"
    );
    assert_eq!(p["autoUpgradeProfile"]["upgradeChannel"], "patch");
    assert_eq!(b["tags"]["cost-center"], "42");
    assert!(p.get("kubernetesVersion").is_none(), "never an upgrade");
    assert!(
        p["agentPoolProfiles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|pool| pool.get("orchestratorVersion").is_none())
    );
    assert_every_write_conforms(&emu);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_parts_are_listed_as_not_managed_and_never_deleted() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let (_, report, _) = support::bootstrap(&client, &monitored()).await;
    assert!(report.ok());
    let off = catalogue_with("  failoverAlert: false\n  alerts: false\n", &[]);
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &off).await;
    assert!(report.ok());
    let alert = plan.item(mon::FAILOVER_ALERT_KEY).unwrap();
    let Action::Skipped { reason } = &alert.action else {
        panic!("{:?}", alert.action)
    };
    assert!(reason.contains("failoverAlert is false") && reason.contains("left as it is"));
    assert!(matches!(
        plan.item("eastus2/rule-groups").unwrap().action,
        Action::Skipped { .. }
    ));
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("[global] metric alert contoso-ha-failover: skip"),
        "{text}"
    );
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());

    // Offline, the same edit lists them as left behind (infra never deletes).
    let offline = infra::offline::plan(&monitored(), &off, "HEAD");
    let removed: Vec<&str> = offline.removed.iter().map(|i| i.key.as_str()).collect();
    assert!(removed.contains(&mon::FAILOVER_ALERT_KEY), "{removed:?}");
    assert!(
        removed.contains(&"eastus2/rule-group/eastus2-alerts"),
        "{removed:?}"
    );
    let md = infra::offline::render_markdown(&offline);
    assert!(md.contains("metric alert `contoso-ha-failover`"), "{md}");
}

#[test]
fn offline_plan_of_a_removed_section_only_lists_what_is_left_behind() {
    // Removing the whole section changes nothing else: the summary is the left-behind count
    // alone, not an empty list followed by a stray comma.
    let offline = infra::offline::plan(&monitored(), &support::catalogue(), "HEAD");
    assert!(offline.items.is_empty(), "{:?}", offline.items);
    let md = infra::offline::render_markdown(&offline);
    let summary = md
        .lines()
        .find(|l| l.starts_with("**Plan:**"))
        .unwrap_or_else(|| panic!("{md}"));
    let left = offline.removed.len();
    assert!(left > 0);
    assert_eq!(summary, format!("**Plan:** {left} left behind"));
}

#[test]
fn offline_plan_lists_every_monitoring_resource_a_new_section_creates() {
    let offline = infra::offline::plan(&support::catalogue(), &monitored(), "HEAD");
    let created: Vec<&str> = offline
        .items
        .iter()
        .filter(|i| i.action == Action::Create)
        .map(|i| i.key.as_str())
        .collect();
    for want in [
        mon::WORKSPACE_KEY,
        mon::ACTION_GROUP_KEY,
        mon::FAILOVER_ALERT_KEY,
        "eastus2/dce",
        "eastus2/dcr",
        "centralus/dcra",
        "centralus/rule-group/centralus-sli",
    ] {
        assert!(created.contains(&want), "{want} not in {created:?}");
    }
    let cluster = offline
        .items
        .iter()
        .find(|i| i.key == "eastus2/cluster")
        .expect("the cluster changes");
    let Action::Update { changes } = &cluster.action else {
        panic!("{:?}", cluster.action)
    };
    assert_eq!(
        changes[0].field,
        "properties.azureMonitorProfile.metrics.enabled"
    );
    let md = infra::offline::render_markdown(&offline);
    for want in [
        "| create | Azure Monitor workspace `amw-contoso-ha` | global |",
        "| create | metric alert `contoso-ha-failover` | global |",
        "| create | Prometheus rule group `eastus2-alerts` | eastus2 |",
        "| update | AKS cluster `aks-centralus` | centralus | `properties.azureMonitorProfile.metrics.enabled`: false → true |",
    ] {
        assert!(md.contains(want), "missing `{want}` in\n{md}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_in_another_region_is_blocked_and_nothing_is_written() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let c = monitored();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let ws = mon::workspace_id(SUB, c.monitoring.as_ref().unwrap());
    emu.edit(&ws, |v| v["location"] = json!("westeurope"));
    // And a change that would otherwise be written.
    let out = catalogue_with(
        "",
        &[(
            "  - name: centralus\n    priority: 2\n",
            "  - name: centralus\n    priority: 2\n    inRotation: false\n",
        )],
    );
    emu.clear_requests();
    let plan = infra::plan::plan(&client, &out).await.unwrap();
    let text = infra::plan::render_text(&plan);
    assert!(
        text.contains("[global] Azure Monitor workspace amw-contoso-ha: BLOCKED")
            && text.contains(
                "location is immutable: Azure has \"westeurope\", catalogue wants \"eastus2\""
            ),
        "{text}"
    );
    let (p, _) = support::progress();
    let e = infra::apply::apply(&client, &plan, p)
        .await
        .expect_err("a blocked plan is refused");
    assert!(
        e.to_string()
            .contains("Azure Monitor workspace amw-contoso-ha"),
        "{e}"
    );
    assert!(emu.writes().is_empty(), "{:?}", emu.writes());
}

#[test]
fn derived_names_fit_azure_limits() {
    let c = monitored();
    assert_eq!(mon::action_group_short_name(&c), "hello");
    let long = catalogue_with(
        "",
        &[("  name: hello\n", "  name: hello-world-service-long\n")],
    );
    let short = mon::action_group_short_name(&long);
    assert_eq!(short, "hello-world-");
    assert_eq!(short.len(), mon::SHORT_NAME_MAX);
}

/// One minimal failing body per new schema: an unknown property is refused with a 400 that
/// names it, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_refuses_monitoring_bodies_that_break_their_spec() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-m");
    support::put_resource_group(&client, &rg).await;
    let cluster_rg = format!("/subscriptions/{SUB}/resourceGroups/rg-c");
    support::put_resource_group(&client, &cluster_rg).await;
    let cluster = format!("{cluster_rg}/providers/Microsoft.ContainerService/managedClusters/aks");
    emu.with(|s| s.default_polls = 0);
    support::put(
        &client,
        &cluster,
        "2025-10-01",
        &json!({"location": "eastus2", "identity": {"type": "SystemAssigned"}, "properties": {"dnsPrefix": "aks"}}),
        infra::arm::ResourceKind::ManagedCluster,
        "cluster",
    )
    .await
    .expect("cluster");
    use infra::arm::ResourceKind as R;
    let cases: Vec<(R, String, &str, Value, &str)> = vec![
        (
            R::MonitorWorkspace,
            format!("{rg}/providers/Microsoft.Monitor/accounts/amw"),
            "2023-04-03",
            json!({"location": "eastus2", "properties": {"retentionDays": 30}}),
            "properties.retentionDays",
        ),
        (
            R::MonitorWorkspace,
            format!("{rg}/providers/Microsoft.Monitor/accounts/amw"),
            "2023-04-03",
            json!({"location": "eastus2", "properties": {"accountId": "x"}}),
            "properties.accountId",
        ),
        (
            R::DataCollectionEndpoint,
            format!("{rg}/providers/Microsoft.Insights/dataCollectionEndpoints/dce"),
            "2022-06-01",
            json!({"location": "eastus2", "kind": "Linux", "properties": {"endpoint": "x"}}),
            "properties.endpoint",
        ),
        (
            R::DataCollectionRule,
            format!("{rg}/providers/Microsoft.Insights/dataCollectionRules/dcr"),
            "2022-06-01",
            json!({"location": "eastus2", "properties": {"dataSources": {"prometheusForwarder": [{"name": "p", "streams": ["Microsoft-PrometheusMetrics"], "scrapeInterval": "30s"}]}}}),
            "properties.dataSources.prometheusForwarder[0].scrapeInterval",
        ),
        (
            R::DataCollectionRule,
            format!("{rg}/providers/Microsoft.Insights/dataCollectionRules/dcr"),
            "2022-06-01",
            json!({"location": "eastus2", "properties": {"dataSources": {"prometheusForwarder": [{"name": "p", "streams": ["Microsoft-Prometheus"]}]}}}),
            "properties.dataSources.prometheusForwarder[0].streams[0]",
        ),
        (
            R::DataCollectionRuleAssociation,
            format!("{cluster}/providers/Microsoft.Insights/dataCollectionRuleAssociations/a"),
            "2022-06-01",
            json!({"properties": {"dataCollectionRuleId": "/x", "ruleId": "/x"}}),
            "properties.ruleId",
        ),
        (
            R::PrometheusRuleGroup,
            format!("{rg}/providers/Microsoft.AlertsManagement/prometheusRuleGroups/g"),
            "2023-03-01",
            json!({"location": "eastus2", "properties": {"scopes": ["/w"], "rules": [{"expression": "up", "alert": "A", "summary": "s"}]}}),
            "properties.rules[0].summary",
        ),
        (
            R::ActionGroup,
            format!("{rg}/providers/Microsoft.Insights/actionGroups/ag"),
            "2023-01-01",
            json!({"location": "global", "properties": {"groupShortName": "ag", "enabled": true, "emailReceivers": [{"name": "e", "emailAddress": "a@example.com", "useCommonAlertSchema": true, "status": "Enabled"}]}}),
            "properties.emailReceivers[0].status",
        ),
        (
            R::ActionGroup,
            format!("{rg}/providers/Microsoft.Insights/actionGroups/ag"),
            "2023-01-01",
            json!({"location": "global", "properties": {"groupShortName": "ag", "enabled": "yes"}}),
            "properties.enabled",
        ),
        (
            R::MetricAlert,
            format!("{rg}/providers/Microsoft.Insights/metricAlerts/ma"),
            "2018-03-01",
            json!({"location": "global", "properties": {"severity": 1, "enabled": true, "scopes": ["/p"], "evaluationFrequency": "PT1M", "windowSize": "PT1M",
                "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [{"name": "x", "criterionType": "StaticThresholdCriterion", "metricName": "m", "timeAggregation": "Max", "operator": "LessThan", "threshold": 1}]}}}),
            "properties.criteria.allOf[0].timeAggregation",
        ),
    ];
    for (kind, path, version, body, target) in cases {
        let e = support::put(&client, &path, version, &body, kind, "bad body")
            .await
            .expect_err(&format!("{kind:?} {body} must be refused"));
        let text = e.to_string();
        assert!(text.contains("InvalidRequestContent"), "{text}");
        assert!(
            text.contains(target),
            "{kind:?}: `{target}` not named in {text}"
        );
        assert!(emu.resource(&path).is_none(), "nothing stored for {path}");
    }
    // The cluster's add-on flag is checked too (it was `any` before managed Prometheus).
    let e = support::put(
        &client,
        &cluster,
        "2025-10-01",
        &json!({"location": "eastus2", "identity": {"type": "SystemAssigned"},
            "properties": {"dnsPrefix": "aks", "azureMonitorProfile": {"metrics": {"enable": true}}}}),
        R::ManagedCluster,
        "typo",
    )
    .await
    .expect_err("a misspelt add-on flag is refused");
    assert!(
        e.to_string()
            .contains("properties.azureMonitorProfile.metrics.enable"),
        "{e}"
    );
    assert!(
        emu.resource(&cluster).unwrap()["properties"]
            .get("azureMonitorProfile")
            .is_none(),
        "nothing stored"
    );
    // The same minimal bodies without the offending property are accepted.
    support::put(
        &client,
        &format!("{rg}/providers/Microsoft.Monitor/accounts/amw"),
        "2023-04-03",
        &json!({"location": "eastus2"}),
        R::MonitorWorkspace,
        "good body",
    )
    .await
    .expect("a conforming workspace body is accepted");
    // A metric alert PATCH may carry criteria; a rule group PATCH may not carry rules.
    let rg_path = format!("{rg}/providers/Microsoft.AlertsManagement/prometheusRuleGroups/g");
    support::put(
        &client,
        &rg_path,
        "2023-03-01",
        &json!({"location": "eastus2", "properties": {"scopes": ["/w"], "rules": [{"expression": "up", "record": "r"}]}}),
        R::PrometheusRuleGroup,
        "good rule group",
    )
    .await
    .expect("conforming rule group");
    let opts = infra::arm::PutOptions::new(R::PrometheusRuleGroup);
    let e = client
        .patch_and_wait(
            &rg_path,
            "2023-03-01",
            &json!({"properties": {"rules": []}}),
            &opts,
            "patch rules",
        )
        .await
        .expect_err("rules are not in the PATCH spec");
    assert!(e.to_string().contains("properties.rules"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_change_is_shown_without_its_query_but_written_in_full() {
    let emu = Emulator::start().await;
    let client = support::client(&emu);
    let c = monitored();
    let (_, report, _) = support::bootstrap(&client, &c).await;
    assert!(report.ok());
    let secret = "https://hooks.example.com/alerts?token=s3cr3t-value";
    let changed = catalogue_with("", &[("https://hooks.example.com/alerts", secret)]);
    emu.clear_requests();
    let (plan, report, _) = support::bootstrap(&client, &changed).await;
    assert!(report.ok());
    let text = infra::plan::render_text(&plan);
    let json = serde_json::to_string(&plan).unwrap();
    let md = infra::offline::render_markdown(&infra::offline::plan(&c, &changed, "HEAD"));
    for out in [&text, &json, &md] {
        assert!(!out.contains("s3cr3t"), "{out}");
    }
    assert!(
        text.contains("https://hooks.example.com/alerts?…"),
        "{text}"
    );
    let ag = emu
        .resource(&mon::action_group_id(
            SUB,
            &c,
            c.monitoring.as_ref().unwrap(),
        ))
        .unwrap();
    assert_eq!(
        ag["properties"]["webhookReceivers"][0]["serviceUri"],
        secret
    );
    assert_eq!(
        emu.writes().len(),
        1,
        "only the action group: {:?}",
        emu.writes()
    );
}
