//! `infra plan --offline [--base REF]`: the Azure-side change a catalogue edit implies,
//! without ARM, by diffing the desired state of two catalogue versions (the one at a git
//! revision and the working file). Same specs, same field rules and the same classification
//! as the online plan; the "actual" side is the old catalogue's desired state.

use crate::arm::{InfraError, ResourceKind};
use crate::plan::{self, Action, Desired};
use crate::resources::{self as res, Spec};
use catalogue::Catalogue;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Stands in for the subscription id in resource ids (none is needed offline).
pub const SUBSCRIPTION: &str = "{subscription}";

/// The catalogue file as it was at `rev` in its git repository, loaded and validated.
pub fn catalogue_at(file: &Path, rev: &str) -> Result<Catalogue, InfraError> {
    if rev.starts_with('-') || rev.trim().is_empty() {
        return Err(InfraError::Config(format!(
            "--base `{rev}` is not a git revision\n  help: give a branch, tag or commit, e.g. --base origin/main"
        )));
    }
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        InfraError::Config(format!("--catalogue `{}` has no file name", file.display()))
    })?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", &format!("{rev}:./{name}")])
        .output()
        .map_err(|e| {
            InfraError::Config(format!(
                "cannot run git to read the catalogue at `{rev}`: {e}\n  help: install git, or run without --offline"
            ))
        })?;
    if !out.status.success() {
        return Err(InfraError::Config(format!(
            "cannot read `{name}` at git revision `{rev}`: {}\n  help: give a revision where the file exists, e.g. --base origin/main (fetch it first)",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let label = Path::new(rev).join(name);
    catalogue::parse(&label, &text).map_err(|e| {
        InfraError::Config(format!(
            "the catalogue at `{rev}` is not valid, so there is nothing to compare with\n{e}"
        ))
    })
}

/// One resource whose desired state differs between the two versions.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineItem {
    pub key: String,
    pub kind: ResourceKind,
    pub region: Option<String>,
    pub name: String,
    #[serde(flatten)]
    pub action: Action,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflinePlan {
    pub base: String,
    /// Only what changes (creates, updates, replaces, blocked, removals), in apply order.
    pub items: Vec<OfflineItem>,
    /// Resources the base catalogue had and the new one has not: infra never deletes them.
    pub removed: Vec<OfflineItem>,
}

impl OfflinePlan {
    pub fn blocked(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i.action, Action::Blocked { .. }))
    }
}

/// What ARM would hold if the old catalogue had been applied: its owned fields.
fn as_applied(spec: &Spec) -> Value {
    let mut v = Value::Object(Default::default());
    for f in &spec.fields {
        res::set(&mut v, &f.path, f.desired.clone());
    }
    v
}

struct Entry {
    key: String,
    kind: ResourceKind,
    region: Option<String>,
    name: String,
    spec: Option<Spec>,
}

fn entries(c: &Catalogue) -> BTreeMap<String, (usize, Entry)> {
    plan::desired(SUBSCRIPTION, c)
        .into_iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let e = match d {
                Desired::Known(s) => Entry {
                    key: s.key.clone(),
                    kind: s.kind,
                    region: s.region.clone(),
                    name: s.name.clone(),
                    spec: Some(s),
                },
                Desired::Role(r) => Entry {
                    key: r.key.clone(),
                    kind: ResourceKind::RoleAssignment,
                    region: Some(r.region.clone()),
                    name: r.label().to_string(),
                    spec: None,
                },
                Desired::Skipped { .. } => return None,
            };
            Some((e.key.clone(), (i, e)))
        })
        .collect()
}

/// Diffs the desired state of `old` (at `base`) and `new`.
pub fn plan(old: &Catalogue, new: &Catalogue, base: &str) -> OfflinePlan {
    let before = entries(old);
    let after = entries(new);
    let mut items: Vec<(usize, OfflineItem)> = vec![];
    for (key, (order, e)) in &after {
        let item = |action: Action, notes: Vec<String>| OfflineItem {
            key: key.clone(),
            kind: e.kind,
            region: e.region.clone(),
            name: e.name.clone(),
            action,
            notes,
        };
        match (before.get(key), &e.spec) {
            (None, Some(_)) => items.push((*order, item(Action::Create, vec![]))),
            (None, None) => items.push((
                *order,
                item(
                    Action::Deferred {
                        reason: "the principal is known once the cluster exists".into(),
                    },
                    vec![],
                ),
            )),
            (Some((_, b)), Some(spec)) => {
                let Some(old_spec) = &b.spec else { continue };
                let (action, _) = plan::classify(spec, Some(&as_applied(old_spec)));
                let mut notes = vec![];
                let version = |s: &Spec| {
                    s.body
                        .pointer("/properties/kubernetesVersion")
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                if spec.kind == ResourceKind::ManagedCluster && version(spec) != version(old_spec) {
                    notes.push(format!(
                        "kubernetesVersion {} -> {}: only sent on create; infra never upgrades a running cluster (use `az aks upgrade`)",
                        version(old_spec),
                        version(spec)
                    ));
                }
                if action != Action::NoChange || !notes.is_empty() {
                    items.push((*order, item(action, notes)));
                }
            }
            (Some(_), None) => {}
        }
    }
    items.sort_by_key(|(o, _)| *o);
    let removed = before
        .iter()
        .filter(|(k, _)| !after.contains_key(*k))
        .map(|(_, (_, e))| OfflineItem {
            key: e.key.clone(),
            kind: e.kind,
            region: e.region.clone(),
            name: e.name.clone(),
            action: Action::NoChange,
            notes: vec![
                "no longer in the catalogue: infra does not delete it; remove it by hand once nothing uses it".into(),
            ],
        })
        .collect();
    OfflinePlan {
        base: base.to_string(),
        items: items.into_iter().map(|(_, i)| i).collect(),
        removed,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(absent)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for a pull-request comment; starts with a hidden marker so CI updates one comment.
pub fn render_markdown(p: &OfflinePlan) -> String {
    let mut s = String::from("<!-- infra-plan-offline -->\n");
    s.push_str(&format!(
        "### Azure changes this catalogue edit implies\n\n`infra plan --offline --base {}`: computed from the two catalogue versions only, without reading Azure (drift made outside the catalogue does not show here; `infra plan` against ARM is the authority).\n\n",
        p.base
    ));
    if p.items.is_empty() && p.removed.is_empty() {
        s.push_str("No Azure-side change.\n");
        return s;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    if !p.items.is_empty() {
        s.push_str("| change | resource | region | detail |\n|---|---|---|---|\n");
    }
    for i in &p.items {
        let (word, detail): (&str, Vec<String>) = match &i.action {
            Action::Create => ("create", vec![]),
            Action::Deferred { reason } => ("create (after its cluster)", vec![reason.clone()]),
            Action::Update { changes } => (
                "update",
                changes
                    .iter()
                    .map(|c| format!("`{}`: {} → {}", c.field, show(&c.actual), show(&c.desired)))
                    .collect(),
            ),
            Action::Replace { changes } => (
                "replace",
                changes
                    .iter()
                    .map(|c| format!("`{}` changes (delete + create)", c.field))
                    .collect(),
            ),
            Action::Blocked { changes } => (
                "**BLOCKED**",
                changes
                    .iter()
                    .map(|c| {
                        format!(
                            "`{}` is immutable: {} → {}",
                            c.field,
                            show(&c.actual),
                            show(&c.desired)
                        )
                    })
                    .collect(),
            ),
            Action::NoChange => ("note", vec![]),
            Action::Skipped { reason } | Action::Remove { reason } => {
                ("skip", vec![reason.clone()])
            }
        };
        *counts.entry(word.trim_matches('*')).or_default() += 1;
        let mut detail = detail;
        detail.extend(i.notes.iter().cloned());
        s.push_str(&format!(
            "| {word} | {} `{}` | {} | {} |\n",
            i.kind.label(),
            cell(&i.name),
            i.region.as_deref().unwrap_or("global"),
            cell(&detail.join("; "))
        ));
    }
    if !p.removed.is_empty() {
        s.push_str("\nNo longer in the catalogue (infra never deletes; remove by hand):\n\n");
        for i in &p.removed {
            s.push_str(&format!(
                "- {} `{}` ({})\n",
                i.kind.label(),
                i.name,
                i.region.as_deref().unwrap_or("global")
            ));
        }
    }
    let mut summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    if !p.removed.is_empty() {
        summary.push(format!("{} left behind", p.removed.len()));
    }
    s.push_str(&format!("\n**Plan:** {}\n", summary.join(", ")));
    if p.blocked() {
        s.push_str("\n**Blocked:** an immutable property changes; `infra bootstrap` would refuse to write anything. Revert those fields, or plan a deliberate recreate.\n");
    }
    s
}
