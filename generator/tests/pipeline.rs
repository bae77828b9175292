//! The pipeline's shape and contracts: one-way modules, safe write scopes, `gen explain`,
//! waivers and the exit-code scheme, through the real binary where it is user-facing.

use crate::helpers;

use generator::tree::{RegionSelection, RenderedTree};
use helpers::{gen_in, stderr, stdout, temp_repo};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of a source file: `src/rules/x.rs` → `rules`, `src/cli.rs` → `cli`.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn module_graph_has_no_cycle_and_only_cli_knows_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap();
            let from = module_of(rel);
            if from == "lib" || from == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            if from != "cli" {
                assert!(
                    !text.contains("clap::") && !text.contains("use clap"),
                    "{} uses clap: only cli may",
                    rel.display()
                );
            }
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let to: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !to.is_empty() && to != from {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    assert!(edges.contains_key("pipeline"), "{edges:?}");
    for (m, deps) in &edges {
        assert!(!deps.contains("cli") || m == "main", "{m} imports cli");
    }
    // Depth-first search for a cycle.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("module cycle: {} -> {m}", path[at..].join(" -> "));
        }
        if done.contains(m) {
            return;
        }
        path.push(m.to_string());
        for d in edges.get(m).into_iter().flatten() {
            visit(d, edges, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn write_tree_refuses_a_scope_entry_that_is_not_one_safe_component() {
    let outer = tempfile::tempdir().unwrap();
    let repo = outer.path().join("a/b");
    std::fs::create_dir_all(&repo).unwrap();
    let victim = outer.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("keep.txt"), "precious").unwrap();
    let mut tree = RenderedTree::default();
    tree.files.insert(
        "overlays/eastus2/kustomization.yaml".into(),
        "resources: []\n".into(),
    );
    for bad in ["../../victim", "..", "a/b", ".git", ""] {
        let scope = RegionSelection::Only(vec!["eastus2".into(), bad.into()]);
        let err = generator::write::write_tree(&repo, &tree, &scope).unwrap_err();
        assert!(
            err.to_string().contains("nothing was written"),
            "{bad}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(victim.join("keep.txt")).unwrap(),
            "precious"
        );
        assert!(
            !repo.join("overlays").exists(),
            "{bad}: something was written"
        );
    }
    // A tree path that climbs out is refused the same way.
    let mut evil = RenderedTree::default();
    evil.files
        .insert("overlays/../../victim/x.yaml".into(), String::new());
    assert!(generator::write::write_tree(&repo, &evil, &RegionSelection::All).is_err());
    assert!(!victim.join("x.yaml").exists());
    // The safe scope writes.
    let ok = RegionSelection::Only(vec!["eastus2".into()]);
    generator::write::write_tree(&repo, &tree, &ok).unwrap();
    assert!(repo.join("overlays/eastus2/kustomization.yaml").exists());
}

#[test]
fn explain_prints_why_and_fix_for_both_registries_and_unknown_ids_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen_in(dir.path(), &["explain"]);
    assert_eq!(out.status.code(), Some(0));
    let list = stdout(&out);
    for id in [
        "priority-unique",
        "zones-redundant",
        "pss-capabilities",
        "k8s-schema",
        "tree-stale",
    ] {
        assert!(list.contains(id), "{id} not listed:\n{list}");
    }
    let out = gen_in(dir.path(), &["explain", "pss-capabilities"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("why:") && text.contains("fix:") && text.contains("NET_BIND_SERVICE"),
        "{text}"
    );
    assert!(text.contains("gen.ha-gitops/waive"), "{text}");
    let out = gen_in(dir.path(), &["explain", "priority-unique"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Traffic Manager"), "{}", stdout(&out));
    let out = gen_in(dir.path(), &["explain", "pss-capability"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean pss-capabilities"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exit_codes_are_documented_and_a_bad_flag_is_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen_in(dir.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Exit codes"), "{}", stdout(&out));
    let out = gen_in(dir.path(), &["render", "--help"]);
    assert!(
        stdout(&out).contains("2  usage or input error"),
        "{}",
        stdout(&out)
    );
    let out = gen_in(dir.path(), &["render", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    // No catalogue at all: input error.
    let out = gen_in(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Drift found by --check: 1.
    let repo = temp_repo(&helpers::default_catalogue_text());
    assert!(gen_in(repo.path(), &["render"]).status.success());
    let k = repo.path().join("overlays/eastus2/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap();
    std::fs::write(&k, format!("{text}# edit\n")).unwrap();
    assert_eq!(
        gen_in(repo.path(), &["render", "--check"]).status.code(),
        Some(1)
    );
}

fn edit_base(repo: &Path, from: &str, to: &str) {
    let p = repo.join("base/deployment.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn pod_security_breaks_in_the_base_are_refused_and_a_reasoned_waiver_lets_one_through() {
    let good = helpers::default_catalogue_text();
    for (from, to, rule) in [
        (
            "              drop:\n                - ALL\n",
            "              drop:\n                - ALL\n              add:\n                - NET_ADMIN\n",
            "pss-capabilities",
        ),
        (
            "      serviceAccountName: hello\n",
            "      serviceAccountName: hello\n      hostPID: true\n",
            "pss-host-namespaces",
        ),
        (
            "      containers:\n",
            "      volumes:\n        - name: host\n          hostPath:\n            path: /\n      containers:\n",
            "pss-host-path",
        ),
    ] {
        let repo = temp_repo(&good);
        edit_base(repo.path(), from, to);
        let out = gen_in(repo.path(), &["render"]);
        assert_eq!(out.status.code(), Some(1), "{rule}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("base/deployment.yaml:"),
            "{}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(&format!("error[{rule}]")),
            "{}",
            stderr(&out)
        );
        assert!(
            !repo.path().join("overlays").exists(),
            "{rule}: something was written"
        );
    }
    // Waived with a reason: rendered, and the waiver is listed.
    let repo = temp_repo(&good);
    edit_base(
        repo.path(),
        "readOnlyRootFilesystem: true",
        "readOnlyRootFilesystem: false",
    );
    edit_base(
        repo.path(),
        "metadata:\n  name: hello\n",
        "metadata:\n  name: hello\n  annotations:\n    gen.ha-gitops/waive: \"workload-security-context: writes a cache to /tmp\"\n",
    );
    let out = gen_in(repo.path(), &["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waived[workload-security-context]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("waiver: writes a cache to /tmp"),
        "{}",
        stderr(&out)
    );
    let out = gen_in(repo.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 waived"), "{}", stdout(&out));
    // Without a reason: an error of its own, and the finding is not waived.
    let p = repo.path().join("base/deployment.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace(": writes a cache to /tmp\"", "\"")).unwrap();
    let out = gen_in(repo.path(), &["render"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error[waiver-valid]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("error[workload-security-context]"),
        "{}",
        stderr(&out)
    );
}
