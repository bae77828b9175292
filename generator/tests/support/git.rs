//! Test helpers for the git-facing commands: isolated git invocations, a `git daemon` serving
//! bare repositories on 127.0.0.1 (killed on drop), the real `gen` binary, and small fixture
//! trees. Included with `#[path = "support/git.rs"] mod git_support;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The workspace root (holds the real base/ and catalogue.yaml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Environment every git and gen process in the tests gets: no system or user config, a fixed
/// identity, no token, no colour.
fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.test")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.test")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("NO_COLOR", "1");
}

/// A scratch area with its own HOME, so nothing from the machine's git config leaks in.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gen-git-test-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Runs git in `cwd`; panics with its output when it fails.
    pub fn git(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.git_output(cwd, args);
        assert!(
            out.status.success(),
            "git {args:?} failed in {}:\n{}{}",
            cwd.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn git_output(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(cwd);
        isolate(&mut cmd, &self.home());
        cmd.output().expect("run git")
    }

    /// Runs the real `gen` binary in `cwd`.
    pub fn gen_cmd(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = self.gen_command(cwd, args);
        cmd.output().expect("run gen")
    }

    pub fn gen_command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gen"));
        cmd.args(args).current_dir(cwd);
        isolate(&mut cmd, &self.home());
        cmd
    }

    /// `git init` of a work repository on branch `main`.
    pub fn init_repo(&self, name: &str) -> PathBuf {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q", "-b", "main"]);
        dir
    }

    /// A bare repository under `<sandbox>/served/<name>.git`, for the daemon.
    pub fn init_bare(&self, name: &str) -> PathBuf {
        let served = self.path().join("served");
        std::fs::create_dir_all(&served).unwrap();
        let dir = served.join(format!("{name}.git"));
        self.git(
            &served,
            &["init", "-q", "--bare", "-b", "main", dir.to_str().unwrap()],
        );
        dir
    }

    /// `git add -A && git commit`; returns the new HEAD.
    pub fn commit_all(&self, repo: &Path, message: &str) -> String {
        self.git(repo, &["add", "-A"]);
        self.git(repo, &["commit", "-q", "-m", message]);
        self.head(repo)
    }

    pub fn head(&self, repo: &Path) -> String {
        self.git(repo, &["rev-parse", "HEAD"])
    }

    /// The commit a ref points at in a (bare) repository, or `None`.
    pub fn rev(&self, repo: &Path, reference: &str) -> Option<String> {
        let out = self.git_output(repo, &["rev-parse", "--verify", "-q", reference]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Copies the real base/ and the frozen default catalogue (as catalogue.yaml) into `repo`.
pub fn seed_from_workspace(repo: &Path) {
    let root = workspace_root();
    copy_dir(&root.join("base"), &repo.join("base"));
    std::fs::copy(
        root.join("generator/tests/fixtures/catalogue-default.yaml"),
        repo.join("catalogue.yaml"),
    )
    .unwrap();
}

/// The image tag of the frozen default catalogue, as parsed.
pub fn fixture_tag() -> String {
    let path = workspace_root().join("generator/tests/fixtures/catalogue-default.yaml");
    catalogue::load(&path)
        .unwrap()
        .catalogue
        .app
        .tag
        .clone()
        .expect("the frozen default catalogue pins a tag")
}

/// `text` (a catalogue) with its app's `tag:` (as parsed from `text`) set to `new`.
pub fn with_tag(text: &str, new: &str) -> String {
    let parsed = catalogue::parse(Path::new("catalogue.yaml"), text).unwrap();
    let old = format!(
        "tag: \"{}\"",
        parsed.app.tag.clone().expect("the catalogue pins a tag")
    );
    assert!(text.contains(&old), "no `{old}` in the catalogue text");
    text.replacen(&old, &format!("tag: \"{new}\""), 1)
}

/// Edits catalogue.yaml in place.
pub fn edit_catalogue(repo: &Path, edit: impl FnOnce(String) -> String) {
    let p = repo.join("catalogue.yaml");
    let s = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, edit(s)).unwrap();
}

/// Removes the region `name` (its list item) from catalogue text.
pub fn without_region(catalogue: &str, name: &str) -> String {
    let start = catalogue
        .find(&format!("  - name: {name}\n"))
        .unwrap_or_else(|| panic!("region {name} not in the catalogue"));
    let rest = &catalogue[start + 4..];
    let end = rest
        .find("\n  - name: ")
        .map(|i| start + 4 + i + 1)
        .unwrap_or(catalogue.len());
    format!("{}{}", &catalogue[..start], &catalogue[end..])
}

/// Adds a copy of region `from` named `to` with the given priority.
pub fn with_region_copy(catalogue: &str, from: &str, to: &str, priority: u32) -> String {
    let start = catalogue
        .find(&format!("  - name: {from}\n"))
        .unwrap_or_else(|| panic!("region {from} not in the catalogue"));
    let rest = &catalogue[start + 4..];
    let end = rest
        .find("\n  - name: ")
        .map(|i| start + 4 + i + 1)
        .unwrap_or(catalogue.len());
    let mut block = catalogue[start..end].replace(from, to);
    let prio_start = block.find("priority: ").unwrap();
    let prio_end = prio_start + block[prio_start..].find('\n').unwrap();
    block.replace_range(prio_start..prio_end, &format!("priority: {priority}"));
    if !block.ends_with('\n') {
        block.push('\n');
    }
    let mut out = catalogue.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&block);
    out
}

/// `git daemon` serving `base_path` on 127.0.0.1 with pushes enabled; killed on drop.
pub struct GitDaemon {
    child: Child,
    pub port: u16,
}

impl GitDaemon {
    pub fn start(sandbox: &Sandbox, base_path: &Path) -> Self {
        let port = test_support::free_port();
        let mut cmd = Command::new("git");
        cmd.args([
            "daemon",
            "--reuseaddr",
            &format!("--base-path={}", base_path.display()),
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            base_path.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        isolate(&mut cmd, &sandbox.home());
        let child = cmd.spawn().expect("start git daemon");
        let daemon = Self { child, port };
        test_support::wait_for_port(port, Duration::from_secs(10), "git daemon");
        daemon
    }

    /// `git://127.0.0.1:<port>/<name>.git`
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Output as text, for assertions and failure messages.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts the exit code, showing the output when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit code\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    (stdout, stderr)
}

/// A tiny hand-written GitOps tree for diff tests that do not need `gen render`: a base with a
/// Deployment (no `spec.replicas`), a Service and an HPA scaling the Deployment, and per region
/// an overlay and a Flux entry point.
pub struct FixtureRegion<'a> {
    pub name: &'a str,
    pub tag: &'a str,
    /// The region's minimum: the HPA's `minReplicas` (max stays 12), as `gen render` does it.
    pub replicas: u32,
    pub readiness: &'a str,
}

pub fn write_fixture_tree(repo: &Path, regions: &[FixtureRegion<'_>]) {
    for top in ["overlays", "clusters"] {
        let _ = std::fs::remove_dir_all(repo.join(top));
    }
    let base = repo.join("base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml\n  - hpa.yaml\n",
    )
    .unwrap();
    std::fs::write(
        base.join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\nspec:\n  selector:\n    matchLabels: {app: hello}\n  template:\n    metadata:\n      labels: {app: hello}\n    spec:\n      containers:\n        - name: hello\n          image: hello\n          ports: [{containerPort: 8080}]\n",
    )
    .unwrap();
    std::fs::write(
        base.join("service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: hello\nspec:\n  selector: {app: hello}\n  ports: [{port: 80, targetPort: 8080}]\n",
    )
    .unwrap();
    std::fs::write(
        base.join("hpa.yaml"),
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: hello\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hello}\n  minReplicas: 1\n  maxReplicas: 12\n",
    )
    .unwrap();
    for r in regions {
        let overlay = repo.join("overlays").join(r.name);
        std::fs::create_dir_all(&overlay).unwrap();
        std::fs::write(
            overlay.join("kustomization.yaml"),
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: hello\nresources:\n  - ../../base\nimages:\n  - name: hello\n    newName: contosoha.azurecr.io/hello\n    newTag: \"{tag}\"\npatches:\n  - path: probe.yaml\n  - path: hpa.yaml\n",
                tag = r.tag,
            ),
        )
        .unwrap();
        std::fs::write(
            overlay.join("hpa.yaml"),
            format!(
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: hello\nspec:\n  minReplicas: {}\n",
                r.replicas
            ),
        )
        .unwrap();
        std::fs::write(
            overlay.join("probe.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\nspec:\n  template:\n    spec:\n      containers:\n        - name: hello\n          readinessProbe:\n            httpGet: {{path: {}, port: 8080}}\n",
                r.readiness
            ),
        )
        .unwrap();
        let cluster = repo.join("clusters").join(r.name);
        std::fs::create_dir_all(&cluster).unwrap();
        std::fs::write(
            cluster.join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - hello.yaml\n",
        )
        .unwrap();
        std::fs::write(
            cluster.join("hello.yaml"),
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: hello\n  namespace: flux-system\nspec:\n  interval: 5m\n  path: ./overlays/{}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: cluster-config\n",
                r.name
            ),
        )
        .unwrap();
    }
}
