//! Every rendered overlay and cluster entry point of the shipped catalogue builds with the
//! real `kubectl kustomize`; the built objects carry the catalogue's values; gen's in-process
//! build (used by validation) equals kustomize's output.

use crate::helpers;

use generator::hydrate::crds::{ArgoApplication, FluxKustomization};
use generator::hydrate::{Base, effective};
use generator::pipeline::render_validated;
use generator::rules::strict_crd;
use generator::tree::RegionSelection;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl must be installed (kubectl 1.32 with kustomize 5.5)");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap()
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

fn key(v: &Value) -> (String, String) {
    (
        v["kind"].as_str().unwrap_or_default().to_string(),
        v["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn every_region_builds_with_kubectl_and_carries_the_catalogue_values() {
    let root = helpers::repo_root();
    let loaded = catalogue::load(&helpers::fixture("catalogue-default.yaml")).unwrap();
    let c = &loaded.catalogue;
    let base = Base::load(&root.join("base")).unwrap();
    let tree = render_validated(c, &base, &RegionSelection::All).unwrap();
    let repo = helpers::temp_repo(&helpers::default_catalogue_text());
    generator::write::write_tree(repo.path(), &tree, &RegionSelection::All).unwrap();
    assert!(c.regions.len() >= 2);

    std::thread::scope(|s| {
        let handles: Vec<_> = c
            .regions
            .iter()
            .map(|region| {
                let (repo, tree, base) = (repo.path(), &tree, &base);
                s.spawn(move || {
                    let r = &region.name;
                    let built = kustomize(&repo.join("overlays").join(r));
                    // The in-process build that validation uses equals kustomize's.
                    let mine = effective::build(&base.files_with(tree), &format!("overlays/{r}")).unwrap();
                    let mut a: Vec<Value> = built.clone();
                    let mut b: Vec<Value> = mine.into_iter().map(|o| o.value).collect();
                    a.sort_by_key(key);
                    b.sort_by_key(key);
                    assert_eq!(a, b, "in-process build differs from kubectl kustomize for {r}");

                    // The catalogue's values.
                    let d = find(&built, "Deployment");
                    // The HPA owns the count: no spec.replicas for Flux to reset it to.
                    assert!(d["spec"].get("replicas").is_none(), "{r}: the Deployment sets spec.replicas");
                    assert_eq!(d["metadata"]["namespace"], c.app.namespace());
                    let pod = &d["spec"]["template"]["spec"];
                    let ctr = &pod["containers"][0];
                    assert_eq!(ctr["image"], c.app.image_ref(&c.registry));
                    let tag = c.app.tag.as_deref().unwrap();
                    assert_eq!(ctr["image"], format!("{}/{}:{tag}", c.registry.login_server(), c.app.image));
                    let zones: Vec<String> = region.zones.iter().map(|z| format!("{r}-{z}")).collect();
                    assert_eq!(
                        pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
                        serde_json::json!(zones)
                    );
                    assert_eq!(ctr["readinessProbe"]["httpGet"]["path"], c.app.probes.readiness);
                    assert_eq!(ctr["livenessProbe"]["httpGet"]["path"], c.app.probes.liveness);
                    assert_eq!(ctr["startupProbe"]["httpGet"]["path"], c.app.probes.startup);
                    assert_eq!(ctr["readinessProbe"]["httpGet"]["port"], "http");
                    let env = |n: &str| {
                        ctr["env"].as_array().unwrap().iter().find(|e| e["name"] == n).map(|e| e["value"].clone())
                    };
                    assert_eq!(env("REGION"), Some(Value::from(r.as_str())));
                    assert_eq!(env("READINESS_PATH"), Some(Value::from(c.app.probes.readiness.as_str())));
                    assert_eq!(env("DRAIN_DELAY_SECONDS"), Some(Value::from("10")));
                    assert_eq!(ctr["ports"].as_array().unwrap().len(), 1);
                    let svc = find(&built, "Service");
                    let ann = &svc["metadata"]["annotations"];
                    assert_eq!(ann["service.beta.kubernetes.io/azure-pip-name"], region.public_ip.name);
                    assert_eq!(ann["service.beta.kubernetes.io/azure-load-balancer-resource-group"], region.public_ip_resource_group());
                    assert_eq!(ann["service.beta.kubernetes.io/azure-dns-label-name"], region.public_ip.dns_label);
                    let hpa = find(&built, "HorizontalPodAutoscaler");
                    assert_eq!(hpa["spec"]["minReplicas"], region.replicas.min);
                    assert_eq!(hpa["spec"]["maxReplicas"], region.replicas.max);
                    assert_eq!(hpa["spec"]["scaleTargetRef"]["apiVersion"], "apps/v1");
                    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
                    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], d["metadata"]["name"]);
                    assert_eq!(hpa["metadata"]["namespace"], d["metadata"]["namespace"]);
                    let ns = find(&built, "Namespace");
                    assert_eq!(ns["metadata"]["name"], c.app.namespace());
                    // The agent's PodMonitor: in the pods' namespace, selecting them, with the
                    // region relabeling the alert rules select on.
                    let pm = find(&built, "PodMonitor");
                    assert_eq!(pm["apiVersion"], "azmonitoring.coreos.com/v1");
                    assert_eq!(pm["metadata"]["namespace"], d["metadata"]["namespace"]);
                    assert_eq!(pm["spec"]["selector"]["matchLabels"], d["spec"]["selector"]["matchLabels"]);
                    let ep = &pm["spec"]["podMetricsEndpoints"][0];
                    assert_eq!(ep["port"], ctr["ports"][0]["name"]);
                    assert_eq!(ep["path"], "/metrics");
                    assert_eq!(ep["relabelings"][0]["targetLabel"], "region");
                    assert_eq!(ep["relabelings"][0]["replacement"], r.as_str());
                    let all = serde_json::to_string(&built).unwrap();
                    assert!(!all.contains("set-by-overlay"), "a placeholder survived in {r}");

                    // Flux path following: clusters/<r> → Kustomization → ./overlays/<r>.
                    let entry = kustomize(&repo.join("clusters").join(r));
                    assert_eq!(entry.len(), 1);
                    let fk: FluxKustomization = strict_crd(&entry[0]).unwrap();
                    assert_eq!(fk.spec.path, format!("./overlays/{r}"));
                    assert_eq!(fk.spec.source_ref.name, c.gitops.source_name);
                    assert_eq!(fk.metadata.namespace, c.gitops.namespace);
                    assert!(fk.spec.prune && fk.spec.wait);
                    let followed = kustomize(&repo.join(fk.spec.path.trim_start_matches("./")));
                    assert_eq!(followed, built);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn argocd_engine_renders_applications_and_no_clusters() {
    let text = helpers::default_catalogue_text().replace("engine: flux", "engine: argocd");
    let c = catalogue::parse(Path::new("catalogue.yaml"), &text).unwrap();
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    let tree = render_validated(&c, &base, &RegionSelection::All).unwrap();
    assert!(!tree.files.keys().any(|p| p.starts_with("clusters")));
    for r in &c.regions {
        let p = format!("argocd/{}/application.yaml", r.name);
        let text = &tree.files[Path::new(&p)];
        let v: Value = serde_saphyr::from_str(text).unwrap();
        let app: ArgoApplication = strict_crd(&v).unwrap();
        assert_eq!(app.spec.source.path, format!("overlays/{}", r.name));
        assert_eq!(app.spec.source.repo_url, c.gitops.repo);
        assert_eq!(app.spec.source.target_revision, c.gitops.branch);
        assert_eq!(
            app.spec.destination.server.as_deref(),
            Some("https://kubernetes.default.svc")
        );
        let sync = app.spec.sync_policy.unwrap();
        let auto = sync.automated.unwrap();
        assert!(auto.prune && auto.self_heal);
        assert_eq!(sync.sync_options, vec!["CreateNamespace=false".to_string()]);
    }
    // And the overlays are the same as with Flux.
    let flux = catalogue::parse(
        Path::new("catalogue.yaml"),
        &helpers::default_catalogue_text(),
    )
    .unwrap();
    let flux_tree = render_validated(&flux, &base, &RegionSelection::All).unwrap();
    let overlays = |t: &generator::tree::RenderedTree| {
        t.files
            .iter()
            .filter(|(p, _)| p.starts_with("overlays"))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(overlays(&tree), overlays(&flux_tree));
}

#[test]
fn yaml_scalars_are_unambiguous() {
    use generator::render::yaml_scalar;
    for s in [
        "1.33",
        "no",
        "on",
        "Yes",
        "off",
        "null",
        "~",
        "2024-01-01",
        "0x1F",
        "1e3",
        "",
        "a: b",
        "#x",
        "-x",
        "8080",
    ] {
        let q = yaml_scalar(s);
        assert!(q.starts_with('"'), "{s:?} must be quoted, got {q}");
        let back: String = serde_saphyr::from_str(&format!("v: {q}"))
            .map(|m: std::collections::BTreeMap<String, String>| m["v"].clone())
            .unwrap();
        assert_eq!(back, s);
    }
    for s in [
        "hello",
        "/readyz",
        "./overlays/eastus2",
        "contosoha.azurecr.io/hello",
        "eastus2-1",
    ] {
        assert_eq!(yaml_scalar(s), s);
    }
}

/// Each region runs its own `regions[].image` (a tag, or a digest), else the candidate; the
/// real kustomize build pins it on the container and passes the same reference as `IMAGE`.
#[test]
fn each_region_runs_its_own_image_and_passes_it_as_image_env() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let text = helpers::default_catalogue_text()
        .replacen(
            "  - name: centralus\n",
            &format!("  - name: centralus\n    image: \"{digest}\"\n"),
            1,
        )
        .replacen(
            "  - name: eastus2\n",
            "  - name: eastus2\n    image: \"0.9.1\"\n",
            1,
        );
    let c = catalogue::parse(Path::new("catalogue.yaml"), &text).unwrap();
    assert_eq!(
        c.region("centralus").unwrap().image.as_deref(),
        Some(digest.as_str())
    );
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    let tree = render_validated(&c, &base, &RegionSelection::All).unwrap();
    let repo = helpers::temp_repo(&text);
    generator::write::write_tree(repo.path(), &tree, &RegionSelection::All).unwrap();
    let server = c.registry.login_server();
    for (region, want) in [
        ("centralus", format!("{server}/{}@{digest}", c.app.image)),
        ("eastus2", format!("{server}/{}:0.9.1", c.app.image)),
    ] {
        let built = kustomize(&repo.path().join("overlays").join(region));
        let ctr = &find(&built, "Deployment")["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(ctr["image"], want, "{region}");
        let image_env = ctr["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "IMAGE")
            .map(|e| e["value"].clone());
        assert_eq!(image_env, Some(Value::from(want.as_str())), "{region}");
    }
    // Other regions (none here) and the candidate itself are untouched by a region's pin.
    assert_ne!(c.app.version(), "0.9.1");
}
