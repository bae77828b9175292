//! Snapshots of the rendered tree: the shipped catalogue in full, the 60-region fixture as a
//! listing plus its first and last region. `CI=true` (or `INSTA_UPDATE=no`) fails on any
//! difference; locally `cargo insta review` accepts a deliberate change.

use crate::helpers;

use generator::hydrate::Base;
use generator::pipeline::render_validated;
use generator::tree::RegionSelection;
use generator::tree::RenderedTree;
use std::path::Path;

fn render(text: &str) -> RenderedTree {
    let c = catalogue::parse(Path::new("catalogue.yaml"), text).unwrap();
    let base = Base::load(&helpers::repo_root().join("base")).unwrap();
    render_validated(&c, &base, &RegionSelection::All).unwrap()
}

fn dump<'a>(files: impl Iterator<Item = (&'a std::path::PathBuf, &'a String)>) -> String {
    files
        .map(|(p, c)| format!("=== {} ===\n{c}", p.display()))
        .collect()
}

#[test]
fn default_catalogue_tree() {
    let tree = render(&helpers::default_catalogue_text());
    insta::assert_snapshot!("default_tree", dump(tree.files.iter()));
}

#[test]
fn catalogue_60_tree() {
    let text = helpers::catalogue_60_text();
    let tree = render(&text);
    let regions: std::collections::BTreeSet<String> = tree
        .files
        .keys()
        .filter_map(|p| p.iter().nth(1).map(|s| s.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(regions.len(), 60);
    assert_eq!(tree.files.len(), 60 * 7);
    let listing: String = tree
        .files
        .iter()
        .map(|(p, c)| format!("{} {}\n", p.display(), c.len()))
        .collect();
    insta::assert_snapshot!("catalogue_60_listing", listing);
    let first = regions.iter().next().unwrap().clone();
    let last = regions.iter().last().unwrap().clone();
    let pick = dump(tree.files.iter().filter(|(p, _)| {
        let r = p.iter().nth(1).unwrap().to_string_lossy();
        r == first || r == last
    }));
    insta::assert_snapshot!("catalogue_60_first_last", pick);
    // Rendering twice gives the same bytes.
    assert_eq!(render(&text), tree);
}
