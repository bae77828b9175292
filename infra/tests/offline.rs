//! `infra plan --offline [--base REF]`: the Azure change a catalogue edit implies, from two
//! catalogue versions in a real git repository, through the real binary. No ARM at all.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

const WESTUS3: &str = "
  - name: westus3
    priority: 3
    zones: [1, 2, 3]
    replicas: { min: 3, max: 12 }
    cluster:
      name: aks-westus3
      resourceGroup: rg-ha-westus3
      kubernetesVersion: \"1.33\"
      nodePools:
        - { name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }
        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 9 }
    publicIp:
      name: pip-hello-westus3
      dnsLabel: contoso-ha-westus3
";

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {o:?}");
}

/// A repository whose HEAD has the shipped catalogue; the working file is then `edit`ed.
fn repo_with(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join("catalogue.yaml"), support::catalogue_text()).unwrap();
    git(dir.path(), &["add", "catalogue.yaml"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    let edited = edit(support::catalogue_text());
    std::fs::write(dir.path().join("catalogue.yaml"), edited).unwrap();
    dir
}

fn offline(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["plan", "--offline"])
        .args(extra)
        .arg("--catalogue")
        .arg(dir.join("catalogue.yaml"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Would fail if anything were sent: nothing listens there and no credential is set.
        .env("AZURE_RESOURCE_MANAGER_ENDPOINT", "http://127.0.0.1:9")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn adding_a_region_lists_exactly_the_resources_it_needs() {
    let dir = repo_with(|t| t + WESTUS3);
    let o = offline(dir.path(), &["--base", "HEAD", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let items: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_string(),
                i["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("rg/rg-ha-westus3", "create"),
        ("westus3/replication", "create"),
        ("westus3/public-ip", "create"),
        ("westus3/cluster", "create"),
        ("westus3/acr-pull", "deferred"),
        ("westus3/network-contributor", "deferred"),
        ("westus3/flux-extension", "create"),
        ("westus3/flux-config", "create"),
        ("westus3/tm-endpoint", "create"),
    ]
    .iter()
    .map(|(k, a)| (k.to_string(), a.to_string()))
    .collect();
    assert_eq!(items, want);
    assert!(v["removed"].as_array().unwrap().is_empty());
    // Markdown (the default) for the PR comment.
    let o = offline(dir.path(), &[]);
    assert!(o.status.success());
    let md = stdout(&o);
    assert!(md.starts_with("<!-- infra-plan-offline -->"), "{md}");
    assert!(
        md.contains("| create | AKS cluster `aks-westus3` | westus3 |"),
        "{md}"
    );
    assert!(
        md.contains("**Plan:** 7 create, 2 create (after its cluster)\n"),
        "{md}"
    );
}

#[test]
fn a_ttl_change_is_one_profile_update_and_an_unchanged_catalogue_is_no_change() {
    let dir = repo_with(|t| t.replacen("  ttl: 30\n", "  ttl: 10\n", 1));
    let o = offline(dir.path(), &["--base", "main"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = stdout(&o);
    assert!(
        md.contains("| update | Traffic Manager profile `contoso-ha` | global | `properties.dnsConfig.ttl`: 30 → 10 |"),
        "{md}"
    );
    assert!(md.contains("**Plan:** 1 update\n"), "{md}");
    let same = repo_with(|t| t);
    let o = offline(same.path(), &[]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("No Azure-side change."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn immutable_changes_are_shown_blocked_and_exit_1_and_removals_are_listed() {
    let dir = repo_with(|t| {
        let t = t.replacen(
            "    zones: [1, 2, 3]\n    replicas: { min: 3, max: 12 }\n",
            "    zones: [1, 2]\n    replicas: { min: 4, max: 12 }\n",
            1,
        );
        let cut = t.find("  - name: centralus").unwrap();
        t[..cut].to_string()
    });
    let o = offline(dir.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let md = stdout(&o);
    assert!(
        md.contains("| **BLOCKED** | public IP `pip-hello-eastus2`"),
        "{md}"
    );
    assert!(md.contains("`zones` is immutable"), "{md}");
    assert!(md.contains("No longer in the catalogue"), "{md}");
    assert!(
        md.contains("AKS cluster `aks-centralus` (centralus)"),
        "{md}"
    );
}

#[test]
fn a_bad_base_is_a_usage_error() {
    let dir = repo_with(|t| t);
    for base in ["no-such-ref", "--upload-pack=evil"] {
        let o = offline(dir.path(), &[&format!("--base={base}")]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{base}: {err}");
        assert!(err.contains(base) && err.contains("help:"), "{err}");
    }
    // --base without --offline is refused by the parser.
    let o = Command::new(env!("CARGO_BIN_EXE_infra"))
        .args(["plan", "--base", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
