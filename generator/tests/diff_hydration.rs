//! `gen diff` builds in-process (the Kustomize subset `gen validate` uses) and the result equals
//! the real `kubectl kustomize` object for object: the default fixture, the 60-region fixture,
//! the argocd engine, and hand-edited bases inside the subset. A base outside the subset is
//! built with kubectl, and the command says so in one notice line per cause.

use crate::helpers;

use crate::git_support;

use generator::diff::{Engine, Manifests, build_directory, build_region_with};
use generator::hydrate::Base;
use generator::pipeline::render_validated;
use generator::tree::RegionSelection;
use std::path::Path;

/// A directory with base/ (the real one) and the tree `catalogue` renders from it.
fn rendered_repo(catalogue_text: &str) -> (tempfile::TempDir, Vec<String>) {
    let c = catalogue::parse(Path::new("catalogue.yaml"), catalogue_text).unwrap();
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    let tree = render_validated(&c, &base, &RegionSelection::All).unwrap();
    let repo = helpers::temp_repo(catalogue_text);
    generator::write::write_tree(repo.path(), &tree, &RegionSelection::All).unwrap();
    let regions = c.regions.iter().map(|r| r.name.to_string()).collect();
    (repo, regions)
}

/// Builds every region both ways (in parallel over regions) and asserts equal objects; returns
/// the in-process builds' fallbacks.
fn assert_same_as_kubectl(root: &Path, regions: &[String]) -> Vec<generator::diff::Fallback> {
    use std::sync::Mutex;
    let fallbacks = Mutex::new(Vec::new());
    let next = Mutex::new(regions.iter());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(r) = next.lock().unwrap().next() else {
                        break;
                    };
                    let mine = build_region_with(root, r, Engine::Auto);
                    let theirs = build_region_with(root, r, Engine::Kubectl);
                    assert!(theirs.fallbacks.is_empty());
                    let theirs: Manifests = theirs
                        .manifests
                        .unwrap_or_else(|e| panic!("kubectl build of {r}: {e}"));
                    let ours: Manifests = mine
                        .manifests
                        .unwrap_or_else(|e| panic!("in-process build of {r}: {e}"));
                    assert!(!theirs.is_empty());
                    let keys = |m: &Manifests| m.keys().cloned().collect::<Vec<_>>();
                    assert_eq!(keys(&ours), keys(&theirs), "{r}: object ids differ");
                    for (k, v) in &theirs {
                        assert_eq!(&ours[k], v, "{r}: {k} differs from kubectl kustomize");
                    }
                    fallbacks.lock().unwrap().extend(mine.fallbacks);
                }
            });
        }
    });
    fallbacks.into_inner().unwrap()
}

#[test]
fn in_process_build_equals_kubectl_for_the_default_fixture() {
    let (repo, regions) = rendered_repo(&helpers::default_catalogue_text());
    let fallbacks = assert_same_as_kubectl(repo.path(), &regions);
    assert!(fallbacks.is_empty(), "{fallbacks:?}");
    // The Flux entry point and the overlay are both in the build.
    let built = build_region_with(repo.path(), &regions[0], Engine::Auto)
        .manifests
        .unwrap();
    let kinds: Vec<&str> = built.keys().map(|k| k.kind.as_str()).collect();
    assert!(kinds.contains(&"Kustomization"), "{kinds:?}");
    assert!(kinds.contains(&"Deployment"), "{kinds:?}");
}

#[test]
fn in_process_build_equals_kubectl_for_the_60_region_fixture() {
    let (repo, regions) = rendered_repo(&helpers::catalogue_60_text());
    assert_eq!(regions.len(), 60);
    let fallbacks = assert_same_as_kubectl(repo.path(), &regions);
    assert!(fallbacks.is_empty(), "{fallbacks:?}");
}

#[test]
fn in_process_build_equals_kubectl_for_the_argocd_engine() {
    let text = helpers::default_catalogue_text().replace("engine: flux", "engine: argocd");
    assert!(text.contains("engine: argocd"));
    let (repo, regions) = rendered_repo(&text);
    let fallbacks = assert_same_as_kubectl(repo.path(), &regions);
    assert!(fallbacks.is_empty(), "{fallbacks:?}");
    let built = build_region_with(repo.path(), &regions[0], Engine::Auto)
        .manifests
        .unwrap();
    assert!(
        built.keys().any(|k| k.kind == "Application"),
        "the Argo CD entry point is part of the build"
    );
    assert!(built.keys().any(|k| k.kind == "Deployment"));
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn edit(root: &Path, rel: &str, f: impl FnOnce(String) -> String) {
    let p = root.join(rel);
    let s = std::fs::read_to_string(&p).unwrap();
    let new = f(s.clone());
    assert_ne!(new, s, "the edit of {rel} changed nothing");
    std::fs::write(p, new).unwrap();
}

const EXTRA_PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  annotations:
    team: payments
spec:
  revisionHistoryLimit: 4
  template:
    metadata:
      annotations:
        prometheus.io/scrape: \"true\"
    spec:
      volumes:
        - name: cache
          emptyDir: {}
      containers:
        - name: app
          args: [\"--verbose\"]
          env:
            - name: FEATURE_X
              value: \"on\"
            - name: LOG_LEVEL
              value: debug
          volumeMounts:
            - name: cache
              mountPath: /var/cache
";

/// One hand edit of base/ that stays inside the subset.
type BaseEdit = fn(&Path);

fn corpus() -> Vec<(&'static str, BaseEdit)> {
    vec![
        ("an extra label set", |root| {
            edit(root, "base/kustomization.yaml", |s| {
                s.replacen(
                    "labels:\n",
                    "labels:\n  - pairs:\n      cost-center: \"4711\"\n      tier: backend\n",
                    1,
                )
            })
        }),
        (
            "a strategic-merge patch (annotations, env, a volume and its mount, args)",
            |root| {
                write(root, "base/patch-extra.yaml", EXTRA_PATCH);
                edit(root, "base/kustomization.yaml", |s| {
                    s + "patches:\n  - path: patch-extra.yaml\n"
                });
            },
        ),
        (
            "an images override in the base (a Job, its init container)",
            |root| {
                write(
                    root,
                    "base/job.yaml",
                    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      initContainers:\n        - name: wait\n          image: busybox:1.35\n      containers:\n        - name: migrate\n          image: registry.example/tools/migrate:0.1\n",
                );
                edit(root, "base/kustomization.yaml", |s| {
                    s.replacen("resources:\n", "resources:\n  - job.yaml\n", 1)
                        + "images:\n  - name: busybox\n    newTag: \"1.36\"\n  - name: registry.example/tools/migrate\n    newName: tools.example/migrate\n    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
                })
            },
        ),
        ("a namespace override in the base", |root| {
            edit(root, "base/kustomization.yaml", |s| {
                s + "namespace: other\n"
            })
        }),
        ("an extra resource and a nested kustomization", |root| {
            write(
                root,
                "base/configmap.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello-settings\ndata:\n  MODE: \"fast\"\n  RETRIES: \"3\"\n",
            );
            write(
                root,
                "base/extra/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - role.yaml\nlabels:\n  - pairs:\n      extra: \"yes\"\n",
            );
            write(
                root,
                "base/extra/role.yaml",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get, list]\n",
            );
            edit(root, "base/kustomization.yaml", |s| {
                s.replacen(
                    "resources:\n",
                    "resources:\n  - configmap.yaml\n  - extra\n",
                    1,
                )
            })
        }),
        ("replicas in the base", |root| {
            edit(root, "base/kustomization.yaml", |s| {
                s + "replicas:\n  - name: hello\n    count: 5\n"
            })
        }),
    ]
}

#[test]
fn in_process_build_equals_kubectl_for_hand_edited_bases_inside_the_subset() {
    for (what, apply) in corpus() {
        let (repo, regions) = rendered_repo(&helpers::default_catalogue_text());
        let base = |engine| {
            let b = build_directory(repo.path(), "base", engine);
            assert!(b.fallbacks.is_empty(), "{what}: {:?}", b.fallbacks);
            b.manifests.unwrap_or_else(|e| panic!("{what}: {e}"))
        };
        let before = base(Engine::Auto);
        apply(repo.path());
        let fallbacks = assert_same_as_kubectl(repo.path(), &regions);
        assert!(fallbacks.is_empty(), "{what}: {fallbacks:?}");
        // The base alone too (an overlay can hide a base edit, e.g. its namespace).
        let after = base(Engine::Auto);
        assert_eq!(
            after,
            base(Engine::Kubectl),
            "{what}: base/ differs from kubectl"
        );
        assert_ne!(before, after, "{what}: the edit must change the build");
    }
}

/// Edits outside the subset: (what, edit, the file and the feature the fallback names).
fn outside() -> Vec<(&'static str, BaseEdit, &'static str, &'static str)> {
    vec![
        (
            "configMapGenerator",
            |root| {
                edit(root, "base/kustomization.yaml", |s| {
                    s + "configMapGenerator:\n  - name: hello-config\n    literals:\n      - MODE=fast\n"
                })
            },
            "base/kustomization.yaml",
            "`configMapGenerator`",
        ),
        (
            "commonAnnotations",
            |root| {
                edit(root, "base/kustomization.yaml", |s| {
                    s + "commonAnnotations:\n  owner: team-a\n"
                })
            },
            "base/kustomization.yaml",
            "`commonAnnotations`",
        ),
        (
            "a JSON 6902 patch",
            |root| {
                edit(root, "base/kustomization.yaml", |s| {
                    s + "patches:\n  - target:\n      kind: Deployment\n      name: hello\n    patch: |-\n      - op: add\n        path: /spec/revisionHistoryLimit\n        value: 3\n"
                })
            },
            "base/kustomization.yaml",
            "`target`",
        ),
        (
            "a `$patch: delete` directive",
            |root| {
                write(
                    root,
                    "base/patch-delete.yaml",
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: hello\n$patch: delete\n",
                );
                edit(root, "base/kustomization.yaml", |s| {
                    s + "patches:\n  - path: patch-delete.yaml\n"
                })
            },
            "base/patch-delete.yaml",
            "`$patch`",
        ),
    ]
}

#[test]
fn a_base_outside_the_subset_is_built_with_kubectl_and_says_why() {
    for (what, apply, file, feature) in outside() {
        let (repo, regions) = rendered_repo(&helpers::default_catalogue_text());
        apply(repo.path());
        let fallbacks = assert_same_as_kubectl(repo.path(), &regions);
        assert_eq!(fallbacks.len(), regions.len(), "{what}: {fallbacks:?}");
        for f in &fallbacks {
            assert!(f.built.starts_with("overlays/"), "{what}: {f:?}");
            assert_eq!(f.file, file, "{what}: {f:?}");
            assert!(f.feature.contains(feature), "{what}: {f:?}");
        }
    }
}

/// Through the command: a PR that adds a configMapGenerator to base/ gets a diff (built by
/// kubectl) and one notice line on stderr naming the file and the feature.
#[test]
fn gen_diff_prints_one_notice_for_a_base_outside_the_subset() {
    use git_support::{Sandbox, assert_exit, seed_from_workspace};
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    seed_from_workspace(&repo);
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    sb.commit_all(&repo, "rendered");

    let (_, quiet) = assert_exit(&sb.gen_cmd(&repo, &["diff", "--base", "HEAD"]), 0);
    assert!(!quiet.contains("notice"), "inside the subset: {quiet}");

    edit(&repo, "base/kustomization.yaml", |s| {
        s + "configMapGenerator:\n  - name: hello-config\n    literals:\n      - MODE=fast\n"
    });
    let (stdout, stderr) = assert_exit(&sb.gen_cmd(&repo, &["diff", "--base", "HEAD"]), 0);
    let notices: Vec<&str> = stderr.lines().filter(|l| l.contains("notice")).collect();
    assert_eq!(notices.len(), 1, "{stderr}");
    assert!(
        notices[0].contains("base/kustomization.yaml uses `configMapGenerator`")
            && notices[0].contains("kubectl kustomize")
            && notices[0].contains("overlays/"),
        "{stderr}"
    );
    // kubectl built it: the generated ConfigMap (with its hash suffix) is in the diff.
    assert!(stdout.contains("ConfigMap hello/hello-config-"), "{stdout}");

    // Committed: now the git side (held in memory) needs kubectl too, and is written out for it.
    // (`gen render` refuses such a base, so the tag is changed in one overlay by hand.)
    sb.commit_all(&repo, "configMapGenerator");
    let tag = git_support::fixture_tag();
    let overlay = std::fs::read_dir(repo.join("overlays"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .into_owned();
    edit(
        &repo,
        &format!("overlays/{overlay}/kustomization.yaml"),
        |s| s.replace(&format!("newTag: \"{tag}\""), "newTag: \"7.7.7\""),
    );
    let (stdout, stderr) = assert_exit(&sb.gen_cmd(&repo, &["diff", "--base", "HEAD"]), 0);
    assert_eq!(
        stderr.lines().filter(|l| l.contains("notice")).count(),
        1,
        "{stderr}"
    );
    assert!(stdout.contains("7.7.7"), "{stdout}");
    assert!(
        !stdout.contains("ConfigMap hello/hello-config-"),
        "unchanged now: {stdout}"
    );
}

/// `GEN_DIFF_ENGINE=kubectl` builds everything with kubectl and prints the same report;
/// an unknown engine is a usage error (exit 2) that lists the valid ones.
#[test]
fn the_kubectl_engine_gives_the_same_report_and_a_bad_engine_exits_2() {
    use git_support::{Sandbox, assert_exit, seed_from_workspace, with_tag};
    let sb = Sandbox::new();
    let repo = sb.init_repo("work");
    seed_from_workspace(&repo);
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    sb.commit_all(&repo, "rendered");
    let cat = std::fs::read_to_string(repo.join("catalogue.yaml")).unwrap();
    std::fs::write(repo.join("catalogue.yaml"), with_tag(&cat, "9.9.9")).unwrap();
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    let run = |engine: &str| {
        let mut cmd = sb.gen_command(&repo, &["diff", "--base", "HEAD", "--format", "markdown"]);
        cmd.env("GEN_DIFF_ENGINE", engine);
        cmd.output().unwrap()
    };
    let (auto, _) = assert_exit(&run("auto"), 0);
    let (kubectl, _) = assert_exit(&run("kubectl"), 0);
    assert!(auto.contains("9.9.9"), "{auto}");
    assert_eq!(auto, kubectl);
    let (_, err) = assert_exit(&run("helm"), 2);
    assert!(
        err.contains("GEN_DIFF_ENGINE=`helm` is not an engine"),
        "{err}"
    );
    assert!(err.contains("`auto`") && err.contains("`kubectl`"), "{err}");
}

/// A file resource outside the kustomization's directory is refused by kustomize's load
/// restrictor; the in-process build must not accept it silently: the region is reported as
/// not building, with kustomize's message.
#[test]
fn a_file_outside_the_kustomization_directory_fails_as_kustomize_fails() {
    let (repo, regions) = rendered_repo(&helpers::default_catalogue_text());
    write(
        repo.path(),
        "shared/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n",
    );
    edit(repo.path(), "base/kustomization.yaml", |s| {
        s.replacen(
            "resources:\n",
            "resources:\n  - ../shared/settings.yaml\n",
            1,
        )
    });
    let built = build_region_with(repo.path(), &regions[0], Engine::Auto);
    let err = built.manifests.unwrap_err();
    assert!(err.contains("kustomize build of"), "{err}");
    assert!(built.fallbacks.is_empty(), "{:?}", built.fallbacks);
    assert!(
        build_region_with(repo.path(), &regions[0], Engine::Kubectl)
            .manifests
            .is_err()
    );
}
