//! `gen diff` over hand-written fixture trees (no `gen render` needed): regions added, removed
//! and changed; the markdown summary table; the checkout is never touched; bad refs.

use crate::git_support;

use git_support::{FixtureRegion, Sandbox, assert_exit, write_fixture_tree};

fn region<'a>(name: &'a str, tag: &'a str, replicas: u32) -> FixtureRegion<'a> {
    FixtureRegion {
        name,
        tag,
        replicas,
        readiness: "/readyz",
    }
}

/// A repository whose HEAD has eastus2 + centralus at 2.4.0, and whose work tree bumps
/// eastus2 to 1.1.0 with 6 replicas (the HPA's minReplicas; the Deployment sets none), removes
/// centralus and adds westus3.
fn changed_repo(sb: &Sandbox) -> std::path::PathBuf {
    let repo = sb.init_repo("work");
    write_fixture_tree(
        &repo,
        &[
            region("eastus2", "2.4.0", 3),
            region("centralus", "2.4.0", 3),
        ],
    );
    std::fs::write(repo.join("README.md"), "fixture\n").unwrap();
    sb.commit_all(&repo, "initial");
    write_fixture_tree(
        &repo,
        &[
            FixtureRegion {
                readiness: "/ready",
                ..region("eastus2", "1.1.0", 6)
            },
            region("westus3", "1.1.0", 3),
        ],
    );
    repo
}

#[test]
fn markdown_summary_rows_for_a_known_change() {
    let sb = Sandbox::new();
    let repo = changed_repo(&sb);
    let status_before = sb.git(&repo, &["status", "--porcelain"]);
    let head_before = sb.head(&repo);

    let out = sb.gen_cmd(&repo, &["diff", "--base", "HEAD", "--format", "markdown"]);
    let (md, _) = assert_exit(&out, 0);

    assert!(md.starts_with("<!-- gen-diff -->\n"), "{md}");
    assert!(
        md.contains("3 of 3 regions changed (1 added, 1 removed)"),
        "{md}"
    );
    let row = |name: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{md}"))
            .to_string()
    };
    assert_eq!(
        row("eastus2"),
        "| `eastus2` | `hello:2.4.0` → **`hello:1.1.0`** | `3 (HPA 3–12)` → **`6 (HPA 6–12)`** | `/readyz` → **`/ready`** | 2 changed |"
    );
    assert_eq!(
        row("westus3"),
        "| `westus3` (added) | `hello:1.1.0` | `3 (HPA 3–12)` | `/readyz` | 4 added |"
    );
    assert_eq!(
        row("centralus"),
        "| `centralus` (removed) | ~~`hello:2.4.0`~~ | ~~`3 (HPA 3–12)`~~ | ~~`/readyz`~~ | 4 removed |"
    );
    // Detail: field paths with old → new, and a unified diff in a collapsible section.
    assert!(md.contains("<details><summary><b>eastus2</b>: image hello 2.4.0 → 1.1.0, replicas 3 → 6, autoscaling 3–12 → 6–12, readiness /readyz → /ready</summary>"), "{md}");
    // The replicas change is the HPA's minReplicas; the Deployment has no spec.replicas.
    assert!(md.contains("- `spec.minReplicas`: `3` → `6`"), "{md}");
    assert!(!md.contains("spec.replicas"), "{md}");
    assert!(md.contains("- `spec.template.spec.containers[name=hello].image`: `contosoha.azurecr.io/hello:2.4.0` → `contosoha.azurecr.io/hello:1.1.0`"), "{md}");
    assert!(
        md.contains("```diff\n--- a/Deployment/hello/hello\n+++ b/Deployment/hello/hello\n"),
        "{md}"
    );
    assert!(
        md.contains("```diff\n--- a/HorizontalPodAutoscaler/hello/hello\n+++ b/HorizontalPodAutoscaler/hello/hello\n"),
        "{md}"
    );
    assert!(
        md.contains("-  minReplicas: 3\n+  minReplicas: 6\n"),
        "{md}"
    );
    assert!(!md.contains("  replicas: "), "{md}");

    // The checkout was not touched.
    assert_eq!(sb.git(&repo, &["status", "--porcelain"]), status_before);
    assert_eq!(sb.head(&repo), head_before);
}

#[test]
fn text_report_has_no_colour_when_not_a_terminal() {
    let sb = Sandbox::new();
    let repo = changed_repo(&sb);
    let mut cmd = sb.gen_command(&repo, &["diff"]);
    cmd.env_remove("NO_COLOR");
    let out = cmd.output().unwrap();
    let (text, _) = assert_exit(&out, 0);
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escapes in piped output:\n{text}"
    );
    assert!(text.contains("eastus2  changed  image hello 2.4.0 → 1.1.0, replicas 3 → 6, autoscaling 3–12 → 6–12, readiness /readyz → /ready"), "{text}");
    assert!(text.contains("westus3  added  (4 objects)"), "{text}");
    assert!(text.contains("centralus  removed  (4 objects)"), "{text}");
    assert!(text.contains("spec.minReplicas: 3 → 6"), "{text}");
    assert!(!text.contains("spec.replicas"), "{text}");
}

#[test]
fn no_differences_is_success_and_says_so() {
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    write_fixture_tree(&repo, &[region("eastus2", "2.4.0", 3)]);
    sb.commit_all(&repo, "initial");
    let out = sb.gen_cmd(&repo, &["diff", "--format", "markdown"]);
    let (md, _) = assert_exit(&out, 0);
    assert!(md.contains("0 of 1 region changed"), "{md}");
    assert!(
        md.contains("| `eastus2` | `hello:2.4.0` | `3 (HPA 3–12)` | `/readyz` | — |"),
        "{md}"
    );
    assert!(md.contains("No region's built manifests change."), "{md}");
}

#[test]
fn a_bad_ref_is_a_clear_error() {
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    write_fixture_tree(&repo, &[region("eastus2", "2.4.0", 3)]);
    sb.commit_all(&repo, "initial");
    let out = sb.gen_cmd(&repo, &["diff", "--base", "origin/nope"]);
    let (stdout, stderr) = assert_exit(&out, 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("cannot resolve `origin/nope` to a commit"),
        "{stderr}"
    );
    assert!(stderr.contains("help:"), "{stderr}");
}

#[test]
fn a_region_that_does_not_build_is_reported_and_exits_2() {
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    write_fixture_tree(&repo, &[region("eastus2", "2.4.0", 3)]);
    sb.commit_all(&repo, "initial");
    std::fs::write(
        repo.join("overlays/eastus2/kustomization.yaml"),
        "resources: [../../nope]\n",
    )
    .unwrap();
    let out = sb.gen_cmd(&repo, &["diff", "--format", "markdown"]);
    let (md, stderr) = assert_exit(&out, 2);
    assert!(md.contains("| `eastus2` ⚠️ build failed |"), "{md}");
    assert!(
        md.contains("kustomize build of overlays/eastus2/ failed"),
        "{md}"
    );
    assert!(stderr.contains("did not build"), "{stderr}");
}

#[test]
fn a_flux_path_outside_the_tree_is_an_error() {
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    write_fixture_tree(&repo, &[region("eastus2", "2.4.0", 3)]);
    sb.commit_all(&repo, "initial");
    let p = repo.join("clusters/eastus2/hello.yaml");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("./overlays/eastus2", "./overlays/missing");
    std::fs::write(&p, s).unwrap();
    let out = sb.gen_cmd(&repo, &["diff"]);
    let (text, _) = assert_exit(&out, 2);
    assert!(
        text.contains("points at ./overlays/missing, which holds no kustomization"),
        "{text}"
    );
}
