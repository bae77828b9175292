//! A diff a reviewer can trust: an engine switch lists the objects added (Applications) and
//! removed (Flux Kustomizations) per region; the markdown starts with the catalogue change and
//! a per-region HA table before/after; a one-region add stays short (no whole objects).

use crate::git_support;

use git_support::{
    Sandbox, assert_exit, edit_catalogue, fixture_tag, seed_from_workspace, with_region_copy,
    with_tag,
};
use std::path::{Path, PathBuf};

/// A repository with the default fixture rendered and committed.
fn committed(sb: &Sandbox) -> PathBuf {
    let repo = sb.init_repo("work");
    seed_from_workspace(&repo);
    assert_exit(&sb.gen_cmd(&repo, &["render", "--all"]), 0);
    sb.commit_all(&repo, "rendered");
    repo
}

fn spec(repo: &Path) -> catalogue::CatalogueSpec {
    let text = std::fs::read_to_string(repo.join("catalogue.yaml")).unwrap();
    catalogue::parse_spec(Path::new("catalogue.yaml"), &text)
        .unwrap()
        .0
}

fn diff(sb: &Sandbox, repo: &Path, format: &str) -> String {
    assert_exit(&sb.gen_cmd(repo, &["render", "--all"]), 0);
    assert_exit(
        &sb.gen_cmd(repo, &["diff", "--base", "HEAD", "--format", format]),
        0,
    )
    .0
}

#[test]
fn an_engine_switch_lists_the_applications_added_and_the_kustomizations_removed() {
    let sb = Sandbox::new();
    let repo = committed(&sb);
    let regions: Vec<String> = spec(&repo)
        .regions
        .iter()
        .map(|r| r.name.as_str().to_string())
        .collect();
    edit_catalogue(&repo, |s| s.replace("engine: flux", "engine: argocd"));
    let md = diff(&sb, &repo, "markdown");
    assert!(
        md.contains("- `gitops.engine`: `flux` → `argocd`"),
        "the catalogue change comes first:\n{md}"
    );
    for r in &regions {
        let section_start = md
            .find(&format!("<details><summary><b>{r}</b>"))
            .unwrap_or_else(|| panic!("no section for {r}:\n{md}"));
        let section = &md[section_start..];
        let section = &section[..section
            .find("\n</details>\n\n<details><summary><b>")
            .unwrap_or(section.len())];
        assert!(
            section.contains(&format!(
                "**Application argocd/hello-{r} (argoproj.io/v1alpha1)** added"
            )),
            "{r}: the new Application is listed as added:\n{section}"
        );
        assert!(
            section.contains(
                "**Kustomization flux-system/hello (kustomize.toolkit.fluxcd.io/v1)** removed"
            ),
            "{r}: the Flux Kustomization is listed as removed:\n{section}"
        );
    }
    let text = diff(&sb, &repo, "text");
    assert_eq!(
        text.matches("+ Application argocd/hello-").count(),
        regions.len(),
        "{text}"
    );
    assert_eq!(
        text.matches("- Kustomization flux-system/hello").count(),
        regions.len(),
        "{text}"
    );
}

#[test]
fn the_markdown_starts_with_the_catalogue_change_and_the_ha_table() {
    let sb = Sandbox::new();
    let repo = committed(&sb);
    let before = spec(&repo);
    let first = before.regions[0].clone();
    let old_tag = fixture_tag();
    // A tag bump, and the first region's replicas floor raised.
    edit_catalogue(&repo, |s| {
        let s = with_tag(&s, "1.2.3");
        let at = s
            .find(&format!("  - name: {}\n", first.name.as_str()))
            .unwrap();
        let min = format!("min: {}", first.replicas.min);
        let rel = s[at..].find(&min).unwrap();
        let new_min = first.replicas.min + first.zones.len() as u32;
        format!(
            "{}min: {new_min}{}",
            &s[..at + rel],
            &s[at + rel + min.len()..]
        )
    });
    let after = spec(&repo);
    let new_min = after.regions[0].replicas.min;
    assert_ne!(new_min, first.replicas.min);
    let md = diff(&sb, &repo, "markdown");

    // Order: catalogue change, HA table, then the built objects.
    let cat = md
        .find("**Catalogue `catalogue.yaml`: 2 fields changed**")
        .expect(&md);
    let ha = md
        .find("| Region | Priority | Zones | Replicas (min–max) | Image |")
        .expect(&md);
    let objects = md
        .find("| Region | Image | Replicas | Readiness probe |")
        .expect(&md);
    let details = md.find("<details>").expect(&md);
    assert!(cat < ha && ha < objects && objects < details, "{md}");
    assert!(
        md.contains(&format!("- `app.tag`: `{old_tag}` → `1.2.3`")),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "- `regions[name={}].replicas.min`: `{}` → `{new_min}`",
            first.name.as_str(),
            first.replicas.min
        )),
        "{md}"
    );
    // Every region's row, values from the parsed catalogues.
    for (o, n) in before.regions.iter().zip(&after.regions) {
        let zones = n
            .zones
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let replicas = if o.replicas.min == n.replicas.min {
            format!("`{}–{}`", n.replicas.min, n.replicas.max)
        } else {
            format!(
                "`{}–{}` → **`{}–{}`**",
                o.replicas.min, o.replicas.max, n.replicas.min, n.replicas.max
            )
        };
        let row = format!(
            "| `{}` | `{}` | `{zones}` | {replicas} | `{img}:{old_tag}` → **`{img}:1.2.3`** | `yes` |",
            n.name.as_str(),
            n.priority,
            img = after.app.image
        );
        assert!(md.contains(&row), "missing row {row}:\n{md}");
    }
    // The terminal report says the same.
    let text = diff(&sb, &repo, "text");
    assert!(
        text.contains("Catalogue catalogue.yaml: 2 fields changed"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}: replicas {}–{} → {new_min}–{}",
            first.name.as_str(),
            first.replicas.min,
            first.replicas.max,
            first.replicas.max
        )),
        "{text}"
    );
}

#[test]
fn a_one_region_add_is_a_short_summary_without_whole_objects() {
    let sb = Sandbox::new();
    let repo = committed(&sb);
    let from = spec(&repo).regions[1].name.as_str().to_string();
    edit_catalogue(&repo, |s| with_region_copy(&s, &from, "westus3", 3));
    let after = spec(&repo);
    let added = after
        .regions
        .iter()
        .find(|r| r.name.as_str() == "westus3")
        .unwrap();
    let md = diff(&sb, &repo, "markdown");
    assert!(md.len() < 3000, "{} bytes:\n{md}", md.len());
    assert!(!md.contains("```"), "no whole objects:\n{md}");
    assert!(md.contains("- `regions[name=westus3]`: added\n"), "{md}");
    assert!(
        md.contains(&format!(
            "| `westus3` (added) | `3` | `{}` | `{}–{}` | `{}:{}` | `yes` |",
            added
                .zones
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            added.replicas.min,
            added.replicas.max,
            after.app.image,
            after.app.version()
        )),
        "{md}"
    );
    assert!(md.contains("1 of 3 regions changed (1 added)"), "{md}");
    assert!(
        md.contains("**Deployment hello/hello (apps/v1)** added"),
        "{md}"
    );
}

#[test]
fn a_region_pinned_image_is_its_image_in_the_ha_table() {
    let sb = Sandbox::new();
    let repo = committed(&sb);
    let before = spec(&repo);
    let r = before.regions[0].name.as_str().to_string();
    let digest = format!("sha256:{}", "ab".repeat(32));
    edit_catalogue(&repo, |s| {
        let at = s.find(&format!("  - name: {r}\n")).unwrap() + format!("  - name: {r}\n").len();
        format!("{}    image: \"{digest}\"\n{}", &s[..at], &s[at..])
    });
    assert_eq!(
        spec(&repo).regions[0].image.as_deref(),
        Some(digest.as_str())
    );
    let md = diff(&sb, &repo, "markdown");
    let img = &before.app.image;
    assert!(
        md.contains(&format!(
            "`{img}:{}` → **`{img}@{digest}`**",
            before.app.version()
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!("- `regions[name={r}].image`: added `{digest}`")),
        "{md}"
    );
}
