//! Renders that cannot corrupt the tree: a process killed at a move (or at a random moment)
//! is detected by `render --check` and rolled back by the next command; concurrent renders
//! of different catalogues serialise on the lock, so the final tree is exactly one
//! catalogue's render, never a mix. Bounded: a few dozen processes, no timing assertions.

use crate::helpers;

use generator::hydrate::Base;
use generator::pipeline::render_validated;
use generator::tree::{RegionSelection, RenderedTree};
use helpers::{gen_env, gen_in, stderr, temp_repo};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn expected(catalogue: &str) -> RenderedTree {
    let c = catalogue::parse(Path::new("catalogue.yaml"), catalogue).unwrap();
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    render_validated(&c, &base, &RegionSelection::All).unwrap()
}

fn on_disk(repo: &Path) -> RenderedTree {
    generator::validate::read_tree(repo).unwrap()
}

fn staging_left(repo: &Path) -> Vec<String> {
    std::fs::read_dir(repo)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".gen-tmp-"))
        .collect()
}

/// A (the 60-region fixture) and B (its last region dropped, the tag bumped: directories
/// moved aside whole and files replaced one by one).
fn two_catalogues() -> (String, String) {
    let a = helpers::catalogue_60_text();
    let last = a.rfind("  - name: ").unwrap();
    let b = helpers::with_tag(&a[..last], "9.9.9");
    (a, b)
}

#[test]
fn a_kill_at_a_move_is_reported_by_check_and_rolled_back_by_the_next_command() {
    let (a, b) = two_catalogues();
    let (tree_a, tree_b) = (expected(&a), expected(&b));
    let repo = temp_repo(&a);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    assert_eq!(on_disk(repo.path()), tree_a);
    for n in ["1", "2", "3", "60", "119"] {
        std::fs::write(repo.path().join("catalogue.yaml"), &b).unwrap();
        let out = gen_env(
            repo.path(),
            &["render"],
            &[("GEN_TEST_ABORT_AFTER_MOVES", n)],
        );
        assert!(!out.status.success(), "abort after move {n} did not happen");
        let half = on_disk(repo.path());
        assert!(
            half != tree_a && half != tree_b,
            "move {n}: the tree is not half-written"
        );
        // --check names the interrupted render and repairs nothing.
        let check = gen_in(repo.path(), &["render", "--check"]);
        assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
        assert!(
            stderr(&check).contains("interrupted render"),
            "{}",
            stderr(&check)
        );
        assert_eq!(on_disk(repo.path()), half);
        // The next command (here `validate`, with A back) rolls it back before anything else.
        std::fs::write(repo.path().join("catalogue.yaml"), &a).unwrap();
        let v = gen_in(repo.path(), &["validate"]);
        assert!(stderr(&v).contains("was rolled back"), "{}", stderr(&v));
        assert_eq!(v.status.code(), Some(0), "move {n}: {}", stderr(&v));
        assert_eq!(
            on_disk(repo.path()),
            tree_a,
            "move {n}: not rolled back to A"
        );
        assert!(staging_left(repo.path()).is_empty());
    }
}

#[test]
fn kills_at_random_moments_leave_a_tree_the_next_command_makes_whole() {
    let (a, b) = two_catalogues();
    let (tree_a, tree_b) = (expected(&a), expected(&b));
    let repo = temp_repo(&a);
    assert!(gen_in(repo.path(), &["render"]).status.success());
    // Deterministic "random" delays (an LCG with a fixed seed), bounded: 6 kills.
    let mut seed: u64 = 0x5eed;
    let mut outcomes = (0, 0);
    for i in 0..6 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros(seed >> 33 & 0x7fff); // 0..33 ms
        let to = if i % 2 == 0 { &b } else { &a };
        std::fs::write(repo.path().join("catalogue.yaml"), to).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gen"))
            .current_dir(repo.path())
            .args(["render"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Any next command recovers first; validate reads the tree as left.
        let _ = gen_in(repo.path(), &["validate"]);
        let now = on_disk(repo.path());
        assert!(
            now == tree_a || now == tree_b,
            "kill {i} after {delay:?}: the tree is neither A nor B"
        );
        if now == tree_a {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        assert!(staging_left(repo.path()).is_empty(), "kill {i}");
        // Back to a whole render of `to` for the next round.
        assert!(gen_in(repo.path(), &["render"]).status.success());
        assert_eq!(on_disk(repo.path()), expected(to));
    }
    eprintln!("kills: {} left A, {} left B", outcomes.0, outcomes.1);
}

#[test]
fn twenty_concurrent_renders_of_different_catalogues_leave_exactly_one_render() {
    let base_text = helpers::default_catalogue_text();
    let repo = temp_repo(&base_text);
    let mut variants = Vec::new();
    for i in 0..20 {
        let mut text = helpers::with_tag(&base_text, &format!("2.0.{i}"));
        if i % 3 == 1 {
            text = text.replace("engine: flux", "engine: argocd");
        }
        if i % 4 == 2 {
            let last = text.rfind("  - name: ").unwrap();
            text.truncate(last);
        }
        let path = repo.path().join(format!("catalogue-{i}.yaml"));
        std::fs::write(&path, &text).unwrap();
        variants.push((path, expected(&text)));
    }
    let children: Vec<_> = variants
        .iter()
        .map(|(path, _)| {
            Command::new(env!("CARGO_BIN_EXE_gen"))
                .current_dir(repo.path())
                .args(["--catalogue", path.to_str().unwrap(), "render", "--all"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut waited = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        if err.contains("waiting for it to finish") {
            waited += 1;
        }
    }
    let now = on_disk(repo.path());
    let matches = variants.iter().filter(|(_, t)| *t == now).count();
    assert_eq!(
        matches, 1,
        "the final tree is not exactly one catalogue's render"
    );
    assert!(
        waited > 0,
        "no render waited for the lock: they did not overlap"
    );
    assert!(staging_left(repo.path()).is_empty());
}
