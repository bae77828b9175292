//! `gen set-image` through the real binary: the catalogue diff is exactly one line (comments,
//! order and layout intact), a tag <-> digest switch rewrites that one line, and every bad
//! value is refused with exit 2 and the file left byte for byte.

use crate::helpers;

use std::path::Path;
use std::process::{Command, Output};

fn gen_set(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gen"))
        .arg("--repo")
        .arg(dir)
        .arg("set-image")
        .args(args)
        .output()
        .unwrap()
}

/// The lines that differ between two texts of the same line count.
fn changed_lines(a: &str, b: &str) -> Vec<(usize, String, String)> {
    assert_eq!(a.lines().count(), b.lines().count(), "line count changed");
    a.lines()
        .zip(b.lines())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
        .collect()
}

fn setup() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    // A frozen copy of the shipped catalogue: comments, flow maps and per-region images
    // included (the live one changes with every release).
    let text = std::fs::read_to_string(
        helpers::repo_root().join("generator/tests/fixtures/catalogue-shipped.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("catalogue.yaml"), &text).unwrap();
    (dir, text)
}

#[test]
fn a_tag_changes_exactly_one_line_and_a_digest_replaces_that_line() {
    let (dir, original) = setup();
    let file = dir.path().join("catalogue.yaml");
    let out = gen_set(dir.path(), &["--tag", "1.4.2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&file).unwrap();
    let diff = changed_lines(&original, &after);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(diff[0].2.trim(), "tag: \"1.4.2\"");
    assert_eq!(diff[0].1.replace("1.0.0", "1.4.2"), diff[0].2);
    // Every comment line survives.
    let comments = |t: &str| {
        t.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
    };
    assert!(comments(&original) > 0);
    assert_eq!(comments(&original), comments(&after));
    let c = catalogue::load(&file).unwrap();
    assert_eq!(c.catalogue.app.tag.as_deref(), Some("1.4.2"));
    // Regions keep their pinned images: nothing else moved.
    assert!(
        c.catalogue
            .regions
            .iter()
            .all(|r| r.image.as_deref() == Some("1.0.0"))
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every region pins its own image"));

    let digest = format!("sha256:{}", "0a".repeat(32));
    let out = gen_set(dir.path(), &["--digest", &digest]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let switched = std::fs::read_to_string(&file).unwrap();
    let diff = changed_lines(&original, &switched);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(diff[0].2.trim(), format!("digest: \"{digest}\""));
    let c = catalogue::load(&file).unwrap();
    assert_eq!(
        (c.catalogue.app.tag.clone(), c.catalogue.app.digest.clone()),
        (None, Some(digest))
    );
    // Back to a tag: the original file, byte for byte.
    let out = gen_set(dir.path(), &["--tag", "1.0.0"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    // The same value again changes nothing.
    let out = gen_set(dir.path(), &["--tag", "1.0.0"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
}

#[test]
fn bad_values_are_refused_with_exit_2_and_nothing_written() {
    let (dir, original) = setup();
    let file = dir.path().join("catalogue.yaml");
    let long = "1".repeat(129);
    for (args, says) in [
        (vec!["--tag", "latest"], "--tag `latest`: moves"),
        (vec!["--tag", "stable"], "--tag `stable`: moves"),
        (vec!["--tag", ""], "--tag ``: the tag is empty"),
        (vec!["--tag", "1.0/evil"], "is not a valid image tag"),
        (vec!["--tag=-1.0"], "is not a valid image tag"),
        (vec!["--tag", &long], "is not a valid image tag"),
        (
            vec!["--digest", "sha256:abc"],
            "--digest `sha256:abc`: is not a sha256 digest",
        ),
        (
            vec!["--digest", &format!("sha256:{}", "AB".repeat(32))],
            "is not a sha256 digest",
        ),
        (
            vec!["--digest", &format!("sha512:{}", "ab".repeat(32))],
            "is not a sha256 digest",
        ),
    ] {
        let out = gen_set(dir.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("help:"), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            original,
            "{args:?}"
        );
    }
    // Usage errors: neither or both flags.
    for args in [vec![], vec!["--tag", "1.0.1", "--digest", "sha256:x"]] {
        let out = gen_set(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // A catalogue whose value sits on its own line cannot take a key switch: located, exit 2.
    let split = original.replace("  tag: \"1.0.0\"", "  tag:\n    \"1.0.0\"");
    std::fs::write(&file, &split).unwrap();
    let out = gen_set(
        dir.path(),
        &["--digest", &format!("sha256:{}", "ab".repeat(32))],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = split.lines().position(|l| l == "    \"1.0.0\"").unwrap() + 1;
    assert!(
        err.contains(&format!("catalogue.yaml:{line}:5: error[set-image]")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), split);
    // A broken catalogue is reported as such (its own exit code), and not rewritten.
    let broken = original.replace("priority: 2", "priority: 1");
    std::fs::write(&file, &broken).unwrap();
    let out = gen_set(dir.path(), &["--tag", "1.0.1"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("priority-unique"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
}
