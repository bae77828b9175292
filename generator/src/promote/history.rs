//! What the catalogue's first-parent history says: the image each region ran before the
//! candidate, and whether the candidate was rolled back.

use git2::{Oid, Repository};
use std::collections::BTreeMap;
use std::path::Path;

/// How far back the history is read: far beyond any rollout, short enough to stay fast.
const MAX_COMMITS: usize = 2_000;

fn first_parent(repo: &Repository, head: Oid) -> impl Iterator<Item = git2::Commit<'_>> {
    let mut walk = repo.revwalk().ok();
    if let Some(w) = walk.as_mut() {
        let _ = w.push(head);
        let _ = w.simplify_first_parent();
    }
    walk.into_iter()
        .flatten()
        .take(MAX_COMMITS)
        .filter_map(|id| id.ok().and_then(|id| repo.find_commit(id).ok()))
}

/// The commit that rolled `candidate` back, if any.
pub fn rolled_back(repo: &Repository, head: Oid, candidate: &str) -> Option<Oid> {
    let trailer = format!("\nPromote-Rollback: {candidate}\n");
    first_parent(repo, head)
        .find(|c| c.message().is_ok_and(|m| m.contains(&trailer)))
        .map(|c| c.id())
}

/// Per region of `regions`: the most recent image other than `candidate` it ran, read from
/// the catalogue (`rel`) of each earlier commit. A region absent from a commit did not exist
/// then: the search for it stops there.
pub fn previous_images(
    repo: &Repository,
    head: Oid,
    rel: &str,
    candidate: &str,
    regions: &[String],
) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut open: Vec<&String> = regions.iter().collect();
    for commit in first_parent(repo, head) {
        if open.is_empty() {
            break;
        }
        let Some(text) = commit
            .tree()
            .ok()
            .and_then(|t| t.get_path(Path::new(rel)).ok())
            .and_then(|e| repo.find_blob(e.id()).ok())
            .and_then(|b| String::from_utf8(b.content().to_vec()).ok())
        else {
            continue;
        };
        // Old catalogues may break today's rules: only their shape matters here.
        let Ok((spec, _)) = catalogue::parse_spec(Path::new(rel), &text) else {
            continue;
        };
        open.retain(|name| match spec.region(name) {
            None => false,
            Some(r) => {
                let v = r.version(&spec.app);
                if v != candidate && !v.is_empty() {
                    found.insert((*name).clone(), v.to_string());
                    false
                } else {
                    true
                }
            }
        });
    }
    found
}
