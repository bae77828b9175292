//! `gen diff` over the 60-region fixture, against building the same directories with
//! `kubectl kustomize` one after another.
//!
//! Run: `cargo bench -p generator --bench diff` (needs git and kubectl). Optional:
//! `GEN_BENCH_RUNS=N` (default 5). Prints the median of each measurement.
//!
//! Setup (not timed): a temporary repository with the real base/ and the 60-region catalogue,
//! rendered and committed; then the image tag is bumped and the tree re-rendered, so every region
//! differs between HEAD and the working tree (the worst case: nothing can be skipped).
//!
//! Measured:
//! - `gen diff` as the command does it: extract HEAD's tree to a temp dir, build all 60 regions
//!   on both sides like Flux (clusters/<r>, then the Flux Kustomization's path) in parallel
//!   with the in-process Kustomize subset, compare objects, print markdown;
//! - the same with every directory built by `kubectl kustomize` (`Engine::Kubectl`, what
//!   `GEN_DIFF_ENGINE=kubectl` does), interleaved with the above;
//! - the same 240 `kubectl kustomize` builds (60 regions × 2 sides × entry point + overlay), one
//!   after another, nothing else: the sequential baseline;
//! - 60 `kubectl kustomize overlays/<r>` one after another (one side only), for scale;
//! - `gen diff` when nothing changed (every region is recognised as unchanged by its inputs and
//!   built once).

use generator::diff::{self, Snapshot};
use generator::kustomize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.test")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.test")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn render(repo: &Path) {
    let code = generator::cli::run(["gen", "--repo", repo.to_str().unwrap(), "render", "--all"]);
    assert_eq!(code, std::process::ExitCode::SUCCESS, "gen render failed");
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn measure(name: &str, runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    summarize(name, &times)
}

fn summarize(name: &str, times: &[Duration]) -> Duration {
    let runs = times.len();
    let m = median(times.to_vec());
    let (min, max) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    println!(
        "{name:<58} median {:>8.3} s   (min {:.3}, max {:.3}, {runs} runs)",
        m.as_secs_f64(),
        min.as_secs_f64(),
        max.as_secs_f64()
    );
    m
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run only
    // when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs: usize = std::env::var("GEN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let temp = tempfile::tempdir().unwrap();
    let repo = temp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    copy_dir(&manifest.join("../base"), &repo.join("base"));
    let catalogue =
        std::fs::read_to_string(manifest.join("tests/fixtures/catalogue-60.yaml")).unwrap();
    std::fs::write(repo.join("catalogue.yaml"), &catalogue).unwrap();
    render(&repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "60 regions"]);

    let (git_repo, workdir) = generator::git::open(&repo).unwrap();
    let unchanged = measure("gen diff, nothing changed (60 regions)", runs, || {
        let old = Snapshot::from_ref(&git_repo, "HEAD").unwrap();
        let new = Snapshot::from_workdir(&workdir, "working tree").unwrap();
        let report = diff::compare(&old, &new);
        assert_eq!(report.changed().count(), 0);
        std::hint::black_box(diff::markdown(&report, diff::COMMENT_LIMIT));
    });

    // Every region changes: bump the tag and re-render.
    std::fs::write(
        repo.join("catalogue.yaml"),
        catalogue.replace("tag: \"1.0.0\"", "tag: \"1.1.0\""),
    )
    .unwrap();
    render(&repo);

    // The baseline: the same builds one after another (old side extracted once, untimed).
    let old_tree = temp.path().join("old");
    git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            old_tree.to_str().unwrap(),
            "HEAD",
        ],
    );
    let regions: Vec<String> = std::fs::read_dir(repo.join("overlays"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(regions.len(), 60);
    let dirs: Vec<PathBuf> = [&old_tree, &repo]
        .iter()
        .flat_map(|root| {
            regions
                .iter()
                .flat_map(move |r| [root.join("clusters").join(r), root.join("overlays").join(r)])
        })
        .collect();
    let gen_diff = || {
        let old = Snapshot::from_ref(&git_repo, "HEAD").unwrap();
        let new = Snapshot::from_workdir(&workdir, "working tree").unwrap();
        let report = diff::compare(&old, &new);
        assert_eq!(report.changed().count(), 60);
        std::hint::black_box(diff::markdown(&report, diff::COMMENT_LIMIT));
    };
    let gen_diff_kubectl = || {
        let old = Snapshot::from_ref(&git_repo, "HEAD").unwrap();
        let new = Snapshot::from_workdir(&workdir, "working tree").unwrap();
        let report = diff::compare_using(&old, &new, true, diff::Engine::Kubectl);
        assert_eq!(report.changed().count(), 60);
        std::hint::black_box(diff::markdown(&report, diff::COMMENT_LIMIT));
    };
    let baseline = || {
        for d in &dirs {
            std::hint::black_box(kustomize::build(d).unwrap());
        }
    };
    // Interleaved (A, B, A, B, …) so load from other processes on a shared machine hits both.
    gen_diff();
    gen_diff_kubectl();
    baseline();
    let (mut a, mut k, mut b) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        gen_diff();
        a.push(t.elapsed());
        let t = Instant::now();
        gen_diff_kubectl();
        k.push(t.elapsed());
        let t = Instant::now();
        baseline();
        b.push(t.elapsed());
    }
    let changed = summarize("gen diff, tag bump in all 60 regions (in-process)", &a);
    let with_kubectl = summarize("gen diff, same, every build by kubectl (parallel)", &k);
    let sequential = summarize(
        "kubectl kustomize × 240, one after another (same builds)",
        &b,
    );
    let overlays: Vec<PathBuf> = regions
        .iter()
        .map(|r| repo.join("overlays").join(r))
        .collect();
    let one_side = measure(
        "kubectl kustomize overlays/<r> × 60, one after another",
        runs,
        || {
            for d in &overlays {
                std::hint::black_box(kustomize::build(d).unwrap());
            }
        },
    );
    println!(
        "\ngen diff in-process / kubectl engine = {:.3}; gen diff / sequential same builds = {:.3}; cores: {}",
        changed.as_secs_f64() / with_kubectl.as_secs_f64(),
        changed.as_secs_f64() / sequential.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let _ = (unchanged, one_side);
}
