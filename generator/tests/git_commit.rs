//! `gen commit` against temporary repositories seeded with the real base/ and catalogue.yaml:
//! what it stages, its message, and every refusal (exit 2, HEAD unchanged).

use crate::git_support;

use git_support::{
    Sandbox, assert_exit, edit_catalogue, fixture_tag, seed_from_workspace, with_region_copy,
    with_tag, without_region,
};
use std::path::PathBuf;

/// A repository with base/ + catalogue.yaml committed, rendered, and the render committed by gen.
fn rendered_repo(sb: &Sandbox) -> PathBuf {
    let repo = sb.init_repo("work");
    seed_from_workspace(&repo);
    sb.commit_all(&repo, "seed: base and catalogue");
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    assert_exit(&sb.gen_cmd(&repo, &["commit"]), 0);
    repo
}

fn last_message(sb: &Sandbox, repo: &std::path::Path) -> String {
    sb.git(repo, &["log", "-1", "--format=%B"])
}

fn changed_files(sb: &Sandbox, repo: &std::path::Path) -> Vec<String> {
    sb.git(
        repo,
        &["show", "--no-renames", "--name-status", "--format=", "HEAD"],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

#[test]
fn first_commit_adds_every_region_and_only_generated_paths() {
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    seed_from_workspace(&repo);
    sb.commit_all(&repo, "seed");
    std::fs::write(repo.join("notes.txt"), "not staged, not gen's\n").unwrap();
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    let (stdout, _) = assert_exit(&sb.gen_cmd(&repo, &["commit"]), 0);
    assert!(stdout.contains("gen: render 2 regions"), "{stdout}");

    assert_eq!(
        last_message(&sb, &repo),
        "gen: render 2 regions\n\ncentralus: added\neastus2: added"
    );
    let files = changed_files(&sb, &repo);
    assert!(!files.is_empty());
    assert!(
        files.iter().all(|l| {
            let p = l.split('\t').nth(1).unwrap();
            p.starts_with("overlays/") || p.starts_with("clusters/") || p.starts_with("alerts/")
        }),
        "{files:?}"
    );
    // Author and committer come from the environment (GIT_AUTHOR_*, GIT_COMMITTER_*).
    assert_eq!(
        sb.git(&repo, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "Test Author <author@example.test>|Test Committer <committer@example.test>"
    );
    // The untracked file is still untracked; the generated files are clean.
    assert_eq!(sb.git(&repo, &["status", "--porcelain"]), "?? notes.txt");
}

#[test]
fn nothing_changed_makes_no_commit() {
    let sb = Sandbox::new();
    let repo = rendered_repo(&sb);
    let head = sb.head(&repo);
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    let (stdout, _) = assert_exit(&sb.gen_cmd(&repo, &["commit"]), 0);
    assert!(stdout.contains("nothing to commit"), "{stdout}");
    assert_eq!(sb.head(&repo), head);
}

#[test]
fn message_says_what_changed_per_region_with_the_catalogue() {
    let sb = Sandbox::new();
    let repo = rendered_repo(&sb);
    edit_catalogue(&repo, |s| {
        let s = with_tag(&s, "1.1.0");
        let s = s.replacen(
            "replicas: { min: 3, max: 12 }",
            "replicas: { min: 6, max: 12 }",
            1,
        );
        let s = without_region(&s, "centralus");
        with_region_copy(&s, "eastus2", "westus3", 2)
    });
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    assert_exit(&sb.gen_cmd(&repo, &["commit", "--include-catalogue"]), 0);
    let msg = last_message(&sb, &repo);
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(lines[0], "gen: render 3 regions", "{msg}");
    assert_eq!(lines[1], "");
    assert_eq!(lines[2], "centralus: removed", "{msg}");
    assert!(
        lines[3].starts_with(&format!(
            "eastus2: image hello {} → 1.1.0, replicas 3 → 6",
            fixture_tag()
        )),
        "{msg}"
    );
    assert_eq!(lines[4], "westus3: added", "{msg}");
    assert_eq!(lines[5], "catalogue.yaml: updated", "{msg}");
    // `replicas 3 → 6` is the HPA's minReplicas: the committed overlay moves the HPA's bounds
    // and sets no replicas on the Deployment (the HPA owns the count).
    let hpa = sb.git(
        &repo,
        &[
            "show",
            "HEAD:overlays/eastus2/patch-horizontalpodautoscaler.yaml",
        ],
    );
    assert!(hpa.contains("\n  minReplicas: 6\n"), "{hpa}");
    assert!(hpa.contains("\n  maxReplicas: 12\n"), "{hpa}");
    let kustomization = sb.git(&repo, &["show", "HEAD:overlays/eastus2/kustomization.yaml"]);
    assert!(!kustomization.contains("replicas:"), "{kustomization}");
    let deployment = sb.git(&repo, &["show", "HEAD:base/deployment.yaml"]);
    assert!(!deployment.contains("\n  replicas:"), "{deployment}");
    let files = changed_files(&sb, &repo);
    assert!(
        files.contains(&"M\toverlays/eastus2/patch-horizontalpodautoscaler.yaml".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"M\tcatalogue.yaml".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"D\toverlays/centralus/kustomization.yaml".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"A\tclusters/westus3/kustomization.yaml".to_string()),
        "{files:?}"
    );
    assert_eq!(sb.git(&repo, &["status", "--porcelain"]), "");
}

#[test]
fn a_catalogue_change_without_include_catalogue_is_refused() {
    let sb = Sandbox::new();
    let repo = rendered_repo(&sb);
    let head = sb.head(&repo);
    edit_catalogue(&repo, |s| with_tag(&s, "1.2.0"));
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    let (_, stderr) = assert_exit(&sb.gen_cmd(&repo, &["commit"]), 2);
    assert!(
        stderr.contains("catalogue.yaml has uncommitted changes"),
        "{stderr}"
    );
    assert!(stderr.contains("--include-catalogue"), "{stderr}");
    assert_eq!(sb.head(&repo), head);
}

#[test]
fn a_broken_catalogue_is_refused_and_nothing_is_committed() {
    let sb = Sandbox::new();
    let repo = rendered_repo(&sb);
    let head = sb.head(&repo);
    edit_catalogue(&repo, |s| s.replace("priority: 2", "priority: 1"));
    // An invariant break is a check that found a problem: exit 1, nothing committed.
    let (_, stderr) = assert_exit(&sb.gen_cmd(&repo, &["commit", "--include-catalogue"]), 1);
    assert!(stderr.contains("refusing to commit"), "{stderr}");
    assert!(stderr.contains("error[priority-unique]"), "{stderr}");
    assert!(stderr.contains("catalogue.yaml:"), "{stderr}");
    assert_eq!(sb.head(&repo), head);
    assert_eq!(sb.git(&repo, &["diff", "--cached", "--name-only"]), "");
}

#[test]
fn hand_edited_generated_files_are_refused() {
    let sb = Sandbox::new();
    let repo = rendered_repo(&sb);
    let head = sb.head(&repo);
    let p = repo.join("overlays/eastus2/kustomization.yaml");
    let s = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, format!("{s}# hand edit\n")).unwrap();
    // Drift is a check that found a problem: exit 1.
    let (_, stderr) = assert_exit(&sb.gen_cmd(&repo, &["commit"]), 1);
    assert!(
        stderr.contains("not what the catalogue renders"),
        "{stderr}"
    );
    assert!(
        stderr.contains("overlays/eastus2/kustomization.yaml"),
        "{stderr}"
    );
    assert_eq!(sb.head(&repo), head);
}

#[test]
fn unrelated_staged_changes_are_refused_and_listed() {
    let sb = Sandbox::new();
    let repo = rendered_repo(&sb);
    let head = sb.head(&repo);
    std::fs::write(repo.join("README.md"), "staged by someone\n").unwrap();
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    std::fs::write(repo.join("docs/extra.md"), "x\n").unwrap();
    sb.git(&repo, &["add", "README.md", "docs/extra.md"]);
    edit_catalogue(&repo, |s| with_tag(&s, "1.3.0"));
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    let (_, stderr) = assert_exit(&sb.gen_cmd(&repo, &["commit", "--include-catalogue"]), 2);
    assert!(
        stderr.contains("changes outside the generated paths are staged"),
        "{stderr}"
    );
    assert!(stderr.contains("  README.md\n"), "{stderr}");
    assert!(stderr.contains("  docs/extra.md"), "{stderr}");
    assert_eq!(sb.head(&repo), head);
    // A staged catalogue is also unrelated without --include-catalogue.
    sb.git(
        &repo,
        &["restore", "--staged", "README.md", "docs/extra.md"],
    );
    sb.git(&repo, &["add", "catalogue.yaml"]);
    let (_, stderr) = assert_exit(&sb.gen_cmd(&repo, &["commit"]), 2);
    assert!(stderr.contains("  catalogue.yaml\n"), "{stderr}");
    assert_eq!(sb.head(&repo), head);
}

#[test]
fn identity_falls_back_to_git_config_and_is_required() {
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    seed_from_workspace(&repo);
    sb.commit_all(&repo, "seed");
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    let head = sb.head(&repo);
    let strip = |cmd: &mut std::process::Command| {
        for v in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        ] {
            cmd.env_remove(v);
        }
    };
    let mut cmd = sb.gen_command(&repo, &["commit"]);
    strip(&mut cmd);
    let (_, stderr) = assert_exit(&cmd.output().unwrap(), 2);
    assert!(stderr.contains("no author identity"), "{stderr}");
    assert_eq!(sb.head(&repo), head);

    sb.git(&repo, &["config", "user.name", "Config User"]);
    sb.git(&repo, &["config", "user.email", "config@example.test"]);
    let mut cmd = sb.gen_command(&repo, &["commit"]);
    strip(&mut cmd);
    assert_exit(&cmd.output().unwrap(), 0);
    assert_eq!(
        sb.git(&repo, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "Config User <config@example.test>|Config User <config@example.test>"
    );
}
