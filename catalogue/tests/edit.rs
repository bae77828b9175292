//! `set_scalar`: exactly one value changes; comments and layout survive.

mod common;

use catalogue::{parse, set_scalar};
use common::{FIXTURE, path};

fn changed_lines(a: &str, b: &str) -> Vec<usize> {
    assert_eq!(a.lines().count(), b.lines().count());
    a.lines()
        .zip(b.lines())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn a_tag_is_rewritten_on_its_own_line_only() {
    let before = parse(path(), FIXTURE).unwrap();
    let out = set_scalar(FIXTURE, "app.tag", "9.9.9").unwrap();
    let line = common::line_of(FIXTURE, "tag:", "");
    assert_eq!(changed_lines(FIXTURE, &out), vec![line]);
    assert_eq!(out.lines().nth(line - 1).unwrap(), "  tag: \"9.9.9\"");
    let after = parse(path(), &out).unwrap();
    assert_eq!(after.app.tag.as_deref(), Some("9.9.9"));
    assert_ne!(before.app.tag, after.app.tag);
    // comments survive
    assert_eq!(FIXTURE.lines().next(), out.lines().next());
}

#[test]
fn a_value_inside_a_flow_mapping_keeps_its_neighbours() {
    let out = set_scalar(
        FIXTURE,
        "regions[1].cluster.nodePools[0].vmSize",
        "Standard_D8ds_v5",
    )
    .unwrap();
    let line = common::line_of(FIXTURE, "{ name: system", "centralus");
    assert_eq!(changed_lines(FIXTURE, &out), vec![line]);
    assert_eq!(
        out.lines().nth(line - 1).unwrap(),
        "        - { name: system, mode: System, vmSize: \"Standard_D8ds_v5\", count: 3 }"
    );
    let c = parse(path(), &out).unwrap();
    assert_eq!(
        c.regions[1].cluster.node_pools[0].vm_size,
        "Standard_D8ds_v5"
    );
    assert_eq!(
        c.regions[0].cluster.node_pools[0].vm_size,
        "Standard_D4ds_v5"
    );
}

#[test]
fn quotes_in_the_value_are_escaped_and_a_quoted_value_is_replaced_whole() {
    let out = set_scalar(FIXTURE, "app.tag", "a\"b").unwrap();
    assert!(out.contains("  tag: \"a\\\"b\"\n"), "{out}");
    let out = set_scalar(FIXTURE, "regions[0].cluster.kubernetesVersion", "1.34").unwrap();
    assert_eq!(changed_lines(FIXTURE, &out).len(), 1);
    assert!(out.contains("kubernetesVersion: \"1.34\"\n"));
}

#[test]
fn missing_paths_mappings_and_bad_values_are_refused() {
    for (p, v) in [
        ("app.digest", "sha256:x"),
        ("app.probes", "x"),
        ("regions[9].name", "x"),
        ("app.tag", "a\nb"),
    ] {
        let e = set_scalar(FIXTURE, p, v).unwrap_err();
        assert_eq!(e.path, p);
        assert!(
            e.to_string().starts_with(&format!("cannot set `{p}`")),
            "{e}"
        );
    }
    assert!(set_scalar("a: [1,\n", "a[0]", "2").is_err());
}
