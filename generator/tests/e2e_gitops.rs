//! End to end, the way the release workflow and Flux use the repository: a `git daemon` on
//! 127.0.0.1 stands in for GitHub, the real `gen` binary renders and commits and pushes, and a
//! fresh clone is built exactly as Flux would (clusters/<region>/ → the Flux Kustomizations in
//! it → their spec.path, with `kubectl kustomize`). Needs git (with `git daemon`) and kubectl.

use crate::git_support;

use git_support::{
    GitDaemon, Sandbox, assert_exit, edit_catalogue, seed_from_workspace, without_region,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("run kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&String::from_utf8(out.stdout).unwrap()).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Builds `clusters/<region>` like Flux: the entry point, then every Flux Kustomization's path.
/// Returns the objects the cluster ends up with.
fn build_like_flux(clone: &Path, region: &str, source_name: &str) -> Vec<Value> {
    let entry = kustomize(&clone.join("clusters").join(region));
    let flux: Vec<&Value> = entry
        .iter()
        .filter(|o| {
            o["kind"] == "Kustomization"
                && o["apiVersion"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("kustomize.toolkit.fluxcd.io/"))
        })
        .collect();
    assert!(
        !flux.is_empty(),
        "clusters/{region}/ holds no Flux Kustomization"
    );
    let mut objects = entry.clone();
    for k in flux {
        assert_eq!(k["spec"]["sourceRef"]["kind"], "GitRepository", "{k}");
        assert_eq!(k["spec"]["sourceRef"]["name"], source_name, "{k}");
        let path = k["spec"]["path"].as_str().expect("spec.path");
        let rel = path.trim_start_matches("./");
        assert!(
            !rel.contains(".."),
            "spec.path {path} leaves the repository"
        );
        objects.extend(kustomize(&clone.join(rel)));
    }
    objects
}

#[test]
fn render_commit_push_then_flux_builds_what_the_catalogue_says() {
    let sb = Sandbox::new();
    let bare = sb.init_bare("x");
    let daemon = GitDaemon::start(&sb, &sb.path().join("served"));

    // A work repository from the real base/ and catalogue, pushed to the daemon.
    let work = sb.init_repo("work");
    seed_from_workspace(&work);
    sb.commit_all(&work, "seed: base and catalogue");
    sb.git(&work, &["remote", "add", "origin", &daemon.url("x")]);
    sb.git(&work, &["push", "-q", "origin", "main"]);

    // First release: render, commit, push.
    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let (stdout, _) = assert_exit(&sb.gen_cmd(&work, &["commit", "--push"]), 0);
    assert!(stdout.contains("pushed main to origin"), "{stdout}");
    let pushed = sb
        .rev(&bare, "refs/heads/main")
        .expect("main on the remote");
    assert_eq!(pushed, sb.head(&work));

    // A fresh clone of the pushed commit, built as Flux builds it.
    let clone = sb.path().join("clone");
    sb.git(
        sb.path(),
        &["clone", "-q", &daemon.url("x"), clone.to_str().unwrap()],
    );
    assert_eq!(sb.head(&clone), pushed);
    let loaded = catalogue::load(&clone.join("catalogue.yaml")).unwrap();
    let cat = &loaded.catalogue;
    let expected_image = format!(
        "{}.azurecr.io/{}:{}",
        cat.registry.name,
        cat.app.image,
        git_support::fixture_tag()
    );
    assert_eq!(expected_image, cat.app.image_ref(&cat.registry));
    for region in &cat.regions {
        let objects = build_like_flux(&clone, &region.name, &cat.gitops.source_name);
        let deployments: Vec<&Value> = objects
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .collect();
        assert_eq!(deployments.len(), 1, "{}: one Deployment", region.name);
        let d = deployments[0];
        let image = &d["spec"]["template"]["spec"]["containers"][0]["image"];
        assert_eq!(
            image,
            &Value::from(expected_image.clone()),
            "{}",
            region.name
        );
        // The HPA owns the count (min = the catalogue's min); the Deployment sets none.
        assert!(
            d["spec"].get("replicas").is_none(),
            "{}: the Deployment sets spec.replicas",
            region.name
        );
        let hpa = hpa_of(&objects, d, &region.name);
        assert_eq!(
            hpa["spec"]["minReplicas"].as_u64(),
            Some(u64::from(region.replicas.min)),
            "{}: minReplicas = min",
            region.name
        );
        assert_eq!(
            hpa["spec"]["maxReplicas"].as_u64(),
            Some(u64::from(region.replicas.max)),
            "{}: maxReplicas = max",
            region.name
        );
    }

    // Second run: nothing changes, no commit, nothing pushed.
    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let (stdout, _) = assert_exit(&sb.gen_cmd(&work, &["commit", "--push"]), 0);
    assert!(stdout.contains("nothing to commit"), "{stdout}");
    assert!(!stdout.contains("pushed"), "{stdout}");
    assert_eq!(sb.head(&work), pushed);
    assert_eq!(sb.rev(&bare, "refs/heads/main"), Some(pushed.clone()));

    // A known change, as a pull request would carry it: gen diff against the pushed branch.
    edit_catalogue(&work, |s| {
        let s = git_support::with_tag(&s, "1.1.0");
        let s = s.replacen(
            "replicas: { min: 3, max: 12 }",
            "replicas: { min: 6, max: 12 }",
            1,
        );
        without_region(&s, "centralus")
    });
    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let out = sb.gen_cmd(
        &work,
        &["diff", "--base", "origin/main", "--format", "markdown"],
    );
    let (md, _) = assert_exit(&out, 0);
    // Rows of the built-objects table (the HA table of the catalogue comes before it).
    let objects_table = &md[md.find("| Region | Image | Replicas |").expect(&md)..];
    let row = |name: &str| {
        objects_table
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{md}"))
            .to_string()
    };
    let east = row("eastus2");
    let old = git_support::fixture_tag();
    assert!(
        east.starts_with(&format!("| `eastus2` | `hello:{old}` → **`hello:1.1.0`** | `3 (HPA 3–12)` → **`6 (HPA 6–12)`** | `/readyz` |")),
        "{east}"
    );
    assert!(
        row("centralus").starts_with(&format!("| `centralus` (removed) | ~~`hello:{old}`~~ |")),
        "{md}"
    );

    // Then the release commits it (with the catalogue) and pushes; Flux sees the new tag.
    let (stdout, _) = assert_exit(
        &sb.gen_cmd(&work, &["commit", "--include-catalogue", "--push"]),
        0,
    );
    assert!(stdout.contains("gen: render 2 regions"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "eastus2: image hello {old} → 1.1.0, replicas 3 → 6"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("centralus: removed"), "{stdout}");
    let second = sb.rev(&bare, "refs/heads/main").unwrap();
    assert_ne!(second, pushed);
    sb.git(&clone, &["pull", "-q", "--ff-only"]);
    assert!(!clone.join("clusters/centralus").exists());
    let objects = build_like_flux(&clone, "eastus2", &cat.gitops.source_name);
    let d = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("{}.azurecr.io/{}:1.1.0", cat.registry.name, cat.app.image)
    );
    assert!(d["spec"].get("replicas").is_none(), "{d}");
    let hpa = hpa_of(&objects, d, "eastus2");
    assert_eq!(hpa["spec"]["minReplicas"], 6);
    assert_eq!(hpa["spec"]["maxReplicas"], 12);
}

/// The one HorizontalPodAutoscaler of `objects`, asserting that its scaleTargetRef names the
/// Deployment `d` (same namespace).
#[track_caller]
fn hpa_of<'a>(objects: &'a [Value], d: &Value, region: &str) -> &'a Value {
    let hpas: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
        .collect();
    assert_eq!(hpas.len(), 1, "{region}: one HorizontalPodAutoscaler");
    let hpa = hpas[0];
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["apiVersion"], "apps/v1", "{region}");
    assert_eq!(target["kind"], "Deployment", "{region}");
    assert_eq!(target["name"], d["metadata"]["name"], "{region}");
    assert_eq!(
        hpa["metadata"]["namespace"], d["metadata"]["namespace"],
        "{region}"
    );
    hpa
}

#[test]
fn a_failed_validation_commits_nothing_and_pushes_nothing() {
    let sb = Sandbox::new();
    let bare = sb.init_bare("x");
    let daemon = GitDaemon::start(&sb, &sb.path().join("served"));
    let work = sb.init_repo("work");
    seed_from_workspace(&work);
    sb.commit_all(&work, "seed");
    sb.git(&work, &["remote", "add", "origin", &daemon.url("x")]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let head = sb.head(&work);
    let remote = sb.rev(&bare, "refs/heads/main");

    edit_catalogue(&work, |s| {
        s.replace("readiness: /readyz", "readiness: readyz")
    });
    let (_, stderr) = assert_exit(
        &sb.gen_cmd(&work, &["commit", "--include-catalogue", "--push"]),
        1,
    );
    assert!(stderr.contains("refusing to commit"), "{stderr}");
    assert!(stderr.contains("error[probe-path-syntax]"), "{stderr}");
    assert_eq!(sb.head(&work), head);
    assert_eq!(sb.rev(&bare, "refs/heads/main"), remote);
}
