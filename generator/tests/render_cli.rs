//! `gen render` / `gen validate` through the real binary on temporary repositories:
//! bad catalogues, atomicity, idempotence, scope, `--check`.

use crate::helpers;

use helpers::{contents, gen_env, gen_in, snapshot, stderr, stdout, temp_repo};
use std::path::Path;

/// `catalogue.yaml:<line>:<col>` appears in `s`.
fn has_location(s: &str) -> bool {
    s.match_indices("catalogue.yaml:").any(|(i, m)| {
        let rest = &s[i + m.len()..];
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().unwrap_or("");
        let col: String = parts
            .next()
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) && !col.is_empty()
    })
}

#[test]
/// Unusable input exits 2; a catalogue that parses but breaks an invariant is a check that
/// found problems: 1, from `render` and `validate` alike. Both locate it and write nothing.
fn malformed_catalogues_exit_2_invariant_breaks_exit_1_located_and_change_nothing() {
    let good = helpers::default_catalogue_text();
    let cases: Vec<(&str, String)> = vec![
        (
            "yaml syntax",
            good.replacen("  name: hello\n", "  name: [hello\n", 1),
        ),
        (
            "wrong type",
            good.replacen("priority: 2", "priority: high", 1),
        ),
        (
            "unknown field",
            good.replacen("  image: hello\n", "  image: hello\n  colour: blue\n", 1),
        ),
        (
            "duplicate region",
            good.replacen("- name: centralus", "- name: eastus2", 1),
        ),
        (
            "duplicate priority",
            good.replacen("priority: 2", "priority: 1", 1),
        ),
        ("empty file", String::new()),
    ];
    for (what, text) in cases {
        assert_ne!(text, good, "{what}: the case must change the catalogue");
        let repo = temp_repo(&good);
        let first = gen_in(repo.path(), &["render"]);
        assert!(first.status.success(), "{}", stderr(&first));
        std::fs::write(repo.path().join("catalogue.yaml"), &text).unwrap();
        let before = snapshot(repo.path());
        let want = if what.starts_with("duplicate") { 1 } else { 2 };
        let out = gen_in(repo.path(), &["render", "--all"]);
        assert_eq!(out.status.code(), Some(want), "{what}: {}", stderr(&out));
        assert!(
            has_location(&stderr(&out)),
            "{what}: no catalogue.yaml:line:col in\n{}",
            stderr(&out)
        );
        assert_eq!(snapshot(repo.path()), before, "{what}: the tree changed");
        let v = gen_in(repo.path(), &["validate"]);
        assert_eq!(
            v.status.code(),
            Some(want),
            "{what}: validate: {}{}",
            stdout(&v),
            stderr(&v)
        );
    }
    // Missing file: the message names the path.
    let repo = temp_repo(&good);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    std::fs::remove_file(repo.path().join("catalogue.yaml")).unwrap();
    let before = snapshot(repo.path());
    let out = gen_in(repo.path(), &["render"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("catalogue.yaml"), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    assert_eq!(snapshot(repo.path()), before);
}

#[test]
fn second_render_writes_nothing_and_check_is_clean() {
    let repo = temp_repo(&helpers::default_catalogue_text());
    let first = gen_in(repo.path(), &["render"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("18 written"), "{}", stdout(&first));
    let before = snapshot(repo.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = gen_in(repo.path(), &["render", "--all"]);
    assert!(second.status.success());
    assert!(
        stdout(&second).contains("0 written, 0 removed, 18 unchanged"),
        "{}",
        stdout(&second)
    );
    assert_eq!(snapshot(repo.path()), before, "bytes or mtimes changed");
    let check = gen_in(repo.path(), &["render", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let v = gen_in(repo.path(), &["validate"]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    // No staging directory is left behind.
    assert!(!std::fs::read_dir(repo.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".gen-tmp")
    }));
}

#[test]
fn check_names_hand_edited_missing_and_extra_files() {
    let repo = temp_repo(&helpers::default_catalogue_text());
    assert!(gen_in(repo.path(), &["render"]).status.success());
    let edited = repo.path().join("overlays/eastus2/patch-service.yaml");
    let text = std::fs::read_to_string(&edited)
        .unwrap()
        .replace("pip-hello-eastus2", "pip-by-hand");
    std::fs::write(&edited, text).unwrap();
    std::fs::remove_file(repo.path().join("clusters/centralus/hello.yaml")).unwrap();
    std::fs::write(repo.path().join("overlays/centralus/extra.yaml"), "x: 1\n").unwrap();
    let before = snapshot(repo.path());
    let check = gen_in(repo.path(), &["render", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let err = stderr(&check);
    assert!(
        err.contains("differs: overlays/eastus2/patch-service.yaml"),
        "{err}"
    );
    assert!(
        err.contains("missing: clusters/centralus/hello.yaml"),
        "{err}"
    );
    assert!(
        err.contains("extra:   overlays/centralus/extra.yaml"),
        "{err}"
    );
    assert_eq!(snapshot(repo.path()), before, "--check wrote something");
    // gen validate sees the hand edit too.
    let v = gen_in(repo.path(), &["validate", "--format", "json"]);
    assert_eq!(v.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_str(&stdout(&v)).unwrap();
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "service-static-ip"),
        "{findings}"
    );
    let sarif = gen_in(repo.path(), &["validate", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&sarif)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    assert!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "workload-probes")
    );
    // Render repairs all three, then the check is clean.
    let fix = gen_in(repo.path(), &["render"]);
    assert!(
        stdout(&fix).contains("removed overlays/centralus/extra.yaml"),
        "{}",
        stdout(&fix)
    );
    assert_eq!(
        gen_in(repo.path(), &["render", "--check"]).status.code(),
        Some(0)
    );
}

#[test]
fn region_flag_leaves_other_regions_alone_and_unknown_region_exits_2() {
    let good = helpers::default_catalogue_text();
    let repo = temp_repo(&good);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    std::fs::write(
        repo.path().join("catalogue.yaml"),
        helpers::with_tag(&good, "1.0.1"),
    )
    .unwrap();
    let before = contents(repo.path());
    let out = gen_in(repo.path(), &["render", "--region", "eastus2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = contents(repo.path());
    for (p, bytes) in &before {
        let changed = after.get(p) != Some(bytes);
        // The image pin and the IMAGE env the pod reports (`GET /default`).
        let expect = [
            "overlays/eastus2/kustomization.yaml",
            "overlays/eastus2/patch-deployment.yaml",
        ]
        .contains(&p.to_string_lossy().as_ref());
        assert_eq!(changed, expect, "{}", p.display());
    }
    assert!(
        String::from_utf8_lossy(
            &after[std::path::Path::new("overlays/eastus2/kustomization.yaml")]
        )
        .contains("newTag: \"1.0.1\"")
    );
    let bad = gen_in(repo.path(), &["render", "--region", "mars"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown region `mars`")
            && stderr(&bad).contains("eastus2, centralus"),
        "{}",
        stderr(&bad)
    );
    assert_eq!(contents(repo.path()), after);
}

#[test]
fn all_removes_regions_no_longer_in_the_catalogue_and_nothing_else() {
    let text = helpers::catalogue_60_text();
    let repo = temp_repo(&text);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    std::fs::create_dir_all(repo.path().join("docs")).unwrap();
    std::fs::write(repo.path().join("docs/keep.md"), "keep\n").unwrap();
    let last = text.rfind("  - name: ").unwrap();
    let removed = text[last + 10..].lines().next().unwrap().trim().to_string();
    std::fs::write(repo.path().join("catalogue.yaml"), &text[..last]).unwrap();
    assert!(repo.path().join("overlays").join(&removed).is_dir());
    let out = gen_in(repo.path(), &["render", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 written, 7 removed"),
        "{}",
        stdout(&out)
    );
    for top in ["overlays", "clusters"] {
        assert!(
            !repo.path().join(top).join(&removed).exists(),
            "{top}/{removed} left behind"
        );
    }
    assert_eq!(
        std::fs::read_dir(repo.path().join("overlays"))
            .unwrap()
            .count(),
        59
    );
    assert!(repo.path().join("docs/keep.md").exists());
    assert!(repo.path().join("base/deployment.yaml").exists());
}

#[test]
fn a_failure_leaves_the_tree_unchanged() {
    let good = helpers::default_catalogue_text();
    let repo = temp_repo(&good);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    // 1. A base that fails typed validation: nothing is written, exit 1, the finding is located.
    let dep = repo.path().join("base/deployment.yaml");
    let original = std::fs::read_to_string(&dep).unwrap();
    let err = render_refused_after_base_edit(
        repo.path(),
        &good,
        "      enableServiceLinks: false\n",
        "      enableServiceLinks: false\n      bogus: true\n",
    );
    assert!(err.contains("base/deployment.yaml:"), "{err}");
    assert!(err.contains("k8s-schema") && err.contains("bogus"), "{err}");
    // 2. An I/O failure after some files were moved into place: rolled back.
    std::fs::write(&dep, &original).unwrap();
    let before = snapshot(repo.path());
    for n in ["1", "2", "3"] {
        let out = gen_env(
            repo.path(),
            &["render"],
            &[("GEN_TEST_FAIL_AFTER_MOVES", n)],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(snapshot(repo.path()), before, "after failing at move {n}");
    }
    // 3. A base rule violation (liveness = readiness is caught in the catalogue; here the
    //    security context) is refused too.
    std::fs::write(
        &dep,
        original.replace(
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
        ),
    )
    .unwrap();
    let before = snapshot(repo.path());
    let out = gen_in(repo.path(), &["render"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("workload-security-context"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(repo.path()), before);
}

#[test]
fn replicas_on_a_deployment_an_hpa_scales_is_refused_and_nothing_is_written() {
    let good = helpers::default_catalogue_text();
    let repo = temp_repo(&good);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    let dep = repo.path().join("base/deployment.yaml");
    let original = std::fs::read_to_string(&dep).unwrap();
    assert!(!original.contains("\n  replicas:"), "{original}");
    // 1. `replicas:` injected into the base copy: render refuses, writes nothing.
    let err = render_refused_after_base_edit(
        repo.path(),
        &good,
        "\n  revisionHistoryLimit:",
        "\n  replicas: 3\n  revisionHistoryLimit:",
    );
    assert!(err.contains("workload-replicas-owned-by-hpa"), "{err}");
    assert!(err.contains("base/deployment.yaml"), "{err}");
    assert!(err.contains("spec.replicas"), "{err}");
    // `gen validate` reports it on the committed tree too.
    let out = gen_in(repo.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let all = stdout(&out);
    assert!(
        all.contains("base/deployment.yaml:")
            && all.contains("error[workload-replicas-owned-by-hpa]")
            && all.contains("(at `Deployment/hello: spec.replicas`)"),
        "{all}"
    );

    // 2. A hand-edited overlay with a kustomize `replicas:` block: `gen validate` reports it.
    std::fs::write(&dep, &original).unwrap();
    std::fs::write(repo.path().join("catalogue.yaml"), &good).unwrap();
    let out = gen_in(repo.path(), &["validate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let k = repo.path().join("overlays/eastus2/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap();
    std::fs::write(
        &k,
        text.replace(
            "patches:\n",
            "replicas:\n  - name: hello\n    count: 3\npatches:\n",
        ),
    )
    .unwrap();
    let out = gen_in(repo.path(), &["validate"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let all = stdout(&out);
    assert!(
        all.contains("overlays/eastus2/kustomization.yaml:")
            && all.contains("error[workload-replicas-owned-by-hpa]"),
        "{all}"
    );
    assert!(all.contains("(regions: eastus2)"), "{all}");
}

/// Edits `base/deployment.yaml` (`from` → `to`) and bumps the tag in the catalogue, then
/// checks that `gen render` refuses with exit 1 and writes nothing. Returns its stderr.
fn render_refused_after_base_edit(repo: &Path, catalogue: &str, from: &str, to: &str) -> String {
    let dep = repo.join("base/deployment.yaml");
    let original = std::fs::read_to_string(&dep).unwrap();
    assert!(
        original.contains(from),
        "base/deployment.yaml has no `{from}`"
    );
    std::fs::write(&dep, original.replace(from, to)).unwrap();
    std::fs::write(
        repo.join("catalogue.yaml"),
        helpers::with_tag(catalogue, "1.0.2"),
    )
    .unwrap();
    let before = snapshot(repo);
    let out = gen_in(repo, &["render"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(snapshot(repo), before, "a refused render changed the tree");
    stderr(&out)
}

/// The drift gate, and the only test that reads the live `catalogue.yaml` (every other test
/// reads the frozen fixtures, so a release that pins a digest there breaks none of them): the
/// committed tree is exactly what the live catalogue renders, and it validates.
#[test]
fn drift_gate_committed_tree_is_what_the_live_catalogue_renders() {
    let root = helpers::repo_root();
    let out = gen_in(&root, &["render", "--all", "--check"]);
    assert!(
        out.status.success(),
        "the committed tree differs from what catalogue.yaml renders:\n{}",
        stderr(&out)
    );
    let out = gen_in(&root, &["validate"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("0 finding(s)"), "{}", stdout(&out));
}
