//! Atomic writing: directory-level staging, rollback on every failure path, symlinks refused,
//! and the rendered documents that validation must refuse (Flux health, PDB fields).

use crate::helpers;

use generator::hydrate::Base;
use generator::pipeline::render_validated;
use generator::tree::RegionSelection;
use generator::validate::{Sources, validate_tree};
use helpers::{gen_env, gen_in, snapshot, stderr, stdout, temp_repo};
use std::path::Path;

fn no_staging_left(repo: &Path) {
    let left: Vec<_> = std::fs::read_dir(repo)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".gen-tmp"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

#[test]
fn a_failure_at_any_move_of_a_fresh_render_leaves_nothing() {
    let repo = temp_repo(&helpers::default_catalogue_text());
    let before = snapshot(repo.path());
    // 2 regions × (overlays, clusters, alerts) = 6 directory moves; fail after each of them.
    for n in 1..=6 {
        let out = gen_env(
            repo.path(),
            &["render"],
            &[("GEN_TEST_FAIL_AFTER_MOVES", &n.to_string())],
        );
        assert_eq!(out.status.code(), Some(2), "n={n}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("injected failure"),
            "{}",
            stderr(&out)
        );
        assert_eq!(snapshot(repo.path()), before, "n={n}: the tree changed");
        no_staging_left(repo.path());
    }
    // With no failure injected the same render succeeds and writes the 18 files.
    let out = gen_in(repo.path(), &["render"]);
    assert!(stdout(&out).contains("18 written"), "{}", stdout(&out));
    no_staging_left(repo.path());
}

#[test]
fn a_failure_while_removing_and_updating_regions_is_rolled_back() {
    let text = helpers::catalogue_60_text();
    let repo = temp_repo(&text);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    // Drop the last region (its two directories go aside whole) and bump the tag (every
    // remaining overlay's kustomization.yaml and patch-deployment.yaml, which passes the
    // image to the pod, are replaced file by file).
    let last = text.rfind("  - name: ").unwrap();
    let cut = text[..last].to_string();
    let bumped = helpers::with_tag(&cut, "1.0.9");
    assert_ne!(bumped, cut, "the fixture must pin a tag other than 1.0.9");
    std::fs::write(repo.path().join("catalogue.yaml"), &bumped).unwrap();
    let before = snapshot(repo.path());
    for n in [1, 2, 3, 4, 50, 100] {
        let out = gen_env(
            repo.path(),
            &["render", "--all"],
            &[("GEN_TEST_FAIL_AFTER_MOVES", &n.to_string())],
        );
        assert_eq!(out.status.code(), Some(2), "n={n}: {}", stderr(&out));
        assert_eq!(snapshot(repo.path()), before, "n={n}: the tree changed");
        no_staging_left(repo.path());
    }
    let out = gen_in(repo.path(), &["render", "--all"]);
    assert!(
        stdout(&out).contains("118 written, 7 removed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        gen_in(repo.path(), &["render", "--check"]).status.code(),
        Some(0)
    );
    no_staging_left(repo.path());
}

/// Like `helpers::snapshot`, but records symlinks (by target) instead of following them.
fn snap_links(root: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    fn walk(root: &Path, rel: &Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(root.join(rel)).unwrap() {
            let e = e.unwrap();
            let rel = rel.join(e.file_name());
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                let target = std::fs::read_link(root.join(&rel)).unwrap();
                out.push((rel, target.to_string_lossy().as_bytes().to_vec()));
            } else if ft.is_dir() {
                out.push((rel.join(""), Vec::new()));
                walk(root, &rel, out);
            } else {
                out.push((rel.clone(), std::fs::read(root.join(&rel)).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, Path::new(""), &mut out);
    out.sort();
    out
}

#[cfg(unix)]
#[test]
fn symlinks_where_gen_owns_a_directory_are_refused() {
    let repo = temp_repo(&helpers::default_catalogue_text());
    assert!(gen_in(repo.path(), &["render"]).status.success());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious.yaml"), "keep: me\n").unwrap();
    // A region directory that is a symlink to a directory outside the tree: following it
    // would remove precious.yaml (not rendered) and write region files out there.
    let region = repo.path().join("overlays/eastus2");
    std::fs::remove_dir_all(&region).unwrap();
    std::os::unix::fs::symlink(outside.path(), &region).unwrap();
    let before = snap_links(repo.path());
    for args in [
        &["render", "--all"][..],
        &["render", "--region", "eastus2"][..],
        &["render", "--check"][..],
    ] {
        let out = gen_in(repo.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("overlays/eastus2") && stderr(&out).contains("symlink"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(snap_links(repo.path()), before);
        let outside_files: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
        assert_eq!(outside_files.len(), 1, "{args:?} wrote outside the tree");
        assert_eq!(
            std::fs::read_to_string(outside.path().join("precious.yaml")).unwrap(),
            "keep: me\n"
        );
    }
    // A symlinked top-level directory is refused the same way.
    std::fs::remove_file(&region).unwrap();
    std::fs::remove_dir_all(repo.path().join("clusters")).unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("clusters")).unwrap();
    let out = gen_in(repo.path(), &["render"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("clusters"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
}

fn default_render(base: &Base) -> (catalogue::Catalogue, generator::tree::RenderedTree) {
    let c = catalogue::parse(
        Path::new("catalogue.yaml"),
        &helpers::default_catalogue_text(),
    )
    .unwrap();
    let tree = render_validated(&c, base, &RegionSelection::All).unwrap();
    (c, tree)
}

#[test]
fn flux_entry_point_must_health_check_the_deployment() {
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    let (c, tree) = default_render(&base);
    let names: Vec<&str> = c.regions.iter().map(|r| r.name.as_str()).collect();
    assert!(validate_tree(&c, &base, &tree, &names, Sources::default()).is_empty());
    let key = Path::new("clusters/eastus2/hello.yaml");
    let rendered = &tree.files[key];
    assert!(rendered.contains("wait: true") && !rendered.contains("\n  healthChecks:"));
    let edit = |text: String| {
        let mut t = tree.clone();
        t.files.insert(key.to_path_buf(), text);
        validate_tree(&c, &base, &t, &names, Sources::default())
    };
    // wait off and no health check: refused.
    let f = edit(rendered.replace("\n  wait: true\n", "\n  wait: false\n"));
    assert!(
        f.iter()
            .any(|f| f.rule == "gitops-entry-point" && f.subject.ends_with("spec.wait")),
        "{f:#?}"
    );
    // wait off with the Deployment health-checked: accepted.
    let checked = rendered.replace(
        "\n  wait: true\n",
        "\n  wait: false\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: Deployment\n      name: hello\n      namespace: hello\n",
    );
    assert!(edit(checked.clone()).is_empty(), "{:#?}", edit(checked));
    // wait on plus healthChecks: the list would be silently ignored, so it is refused.
    let both = rendered.replace(
        "\n  wait: true\n",
        "\n  wait: true\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: Deployment\n      name: hello\n      namespace: hello\n",
    );
    let f = edit(both);
    assert!(
        f.iter()
            .any(|f| f.rule == "gitops-entry-point" && f.subject.ends_with("spec.healthChecks")),
        "{f:#?}"
    );
}

#[test]
fn pdb_patch_deletes_only_what_the_base_sets() {
    // The shipped base sets maxUnavailable, as the catalogue does: no `null` anywhere.
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    let (c, tree) = default_render(&base);
    for (p, text) in &tree.files {
        assert!(
            !text.contains(": null"),
            "{} has a null: {text}",
            p.display()
        );
    }
    // A base whose PDB sets minAvailable instead: the overlay must delete it, or the built
    // PDB would set both (rejected by the API server).
    let mut files = base.files.clone();
    let pdb = files.get_mut("base/poddisruptionbudget.yaml").unwrap();
    *pdb = pdb.replace("  maxUnavailable: 1\n", "  minAvailable: 2\n");
    let min_base = Base::from_files(files.clone()).unwrap();
    let (_, tree) = default_render(&min_base);
    let patch = &tree.files[Path::new("overlays/eastus2/patch-poddisruptionbudget.yaml")];
    assert!(
        patch.contains("maxUnavailable: 1") && patch.contains("minAvailable: null"),
        "{patch}"
    );
    // Validation catches a PDB that ends up with both.
    let names: Vec<&str> = c.regions.iter().map(|r| r.name.as_str()).collect();
    let mut broken = tree.clone();
    broken.files.insert(
        "overlays/eastus2/patch-poddisruptionbudget.yaml".into(),
        patch.replace("  minAvailable: null\n", ""),
    );
    let f = validate_tree(&c, &min_base, &broken, &names, Sources::default());
    assert!(
        f.iter()
            .any(|f| f.rule == "workload-pdb" && f.message.contains("both")),
        "{f:#?}"
    );
    // And kubectl kustomize agrees: the built PDB has maxUnavailable only.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("base")).unwrap();
    for (name, text) in &files {
        std::fs::write(repo.path().join(name), text).unwrap();
    }
    generator::write::write_tree(repo.path(), &tree, &RegionSelection::All).unwrap();
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(repo.path().join("overlays/eastus2"))
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = String::from_utf8(out.stdout).unwrap();
    let pdb = &built[built.find("kind: PodDisruptionBudget").unwrap()..];
    let pdb = &pdb[..pdb.find("\n---").unwrap_or(pdb.len())];
    assert!(
        pdb.contains("maxUnavailable: 1") && !pdb.contains("minAvailable"),
        "{pdb}"
    );
}
