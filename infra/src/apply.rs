//! Ordered, idempotent apply. Every step starts as soon as the steps it depends on have
//! succeeded, so regions (and independent steps inside a region, e.g. a replication, a public
//! IP and a cluster) run in parallel. A failed step stops what depends on it, not the rest.

use crate::arm::lro::PutOptions;
use crate::arm::{ArmClient, InfraError, ResourceKind};
use crate::plan::{Action, Plan, PlanItem, RoleStep, classify};
use crate::resources::{self as res, Spec, UpdateMode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where progress lines go (stderr in the binary, a buffer in tests).
pub type Progress = crate::arm::lro::ProgressFn;

pub fn stderr_progress() -> Progress {
    Arc::new(|line: &str| eprintln!("{line}"))
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Unchanged,
    Created,
    Updated,
    Replaced,
    /// `RoleAssignmentExists`: the same principal, role and scope under another name.
    AlreadyAssigned,
    NotManaged,
    /// A role assignment of an identity the cluster no longer has was deleted.
    Removed,
}

#[derive(Debug)]
pub struct StepReport {
    pub key: String,
    pub kind: ResourceKind,
    pub region: Option<String>,
    pub name: String,
    pub result: Result<Outcome, InfraError>,
}

#[derive(Debug, Default)]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
}

impl ApplyReport {
    pub fn failed(&self) -> Vec<&StepReport> {
        self.steps.iter().filter(|s| s.result.is_err()).collect()
    }

    pub fn ok(&self) -> bool {
        self.failed().is_empty()
    }

    pub fn step(&self, key: &str) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.key == key)
    }
}

#[derive(Default)]
struct Shared {
    /// key → Some(body) when done (body may be Null), None when failed or skipped.
    done: HashMap<String, Option<Value>>,
}

/// Applies a plan. Refuses (no write at all) if any item is blocked.
pub async fn apply(
    client: &ArmClient,
    plan: &Plan,
    progress: Progress,
) -> Result<ApplyReport, InfraError> {
    let blocked = plan.blocked();
    if !blocked.is_empty() {
        let names: Vec<String> = blocked
            .iter()
            .map(|i| format!("{} {}", i.kind.label(), i.name))
            .collect();
        return Err(InfraError::Blocked(format!(
            "refusing to apply: immutable properties would change on {}; nothing was written\n  help: run `infra plan` for the values; revert the catalogue or recreate those resources deliberately",
            names.join(", ")
        )));
    }
    let planned: std::collections::HashSet<String> =
        plan.items.iter().map(|i| i.key.clone()).collect();
    let shared = Arc::new(Mutex::new(Shared::default()));
    // Dependency-driven: start every step whose planned dependencies have finished (either
    // way: run_item skips a step whose dependency failed), then wait for the next to end.
    let mut pending: Vec<PlanItem> = plan.items.clone();
    let mut finished: std::collections::HashSet<String> = Default::default();
    let mut steps: Vec<StepReport> = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    let mut task_keys: HashMap<tokio::task::Id, PlanItem> = HashMap::new();
    loop {
        let mut i = 0;
        while i < pending.len() {
            let ready = pending[i]
                .depends_on
                .iter()
                .all(|d| !planned.contains(d) || finished.contains(d));
            if ready {
                let item = pending.remove(i);
                let (client, shared, planned, progress) = (
                    client.clone(),
                    shared.clone(),
                    planned.clone(),
                    progress.clone(),
                );
                let copy = item.clone();
                let handle = running.spawn(async move {
                    run_item(&client, &item, &shared, &planned, &progress).await
                });
                task_keys.insert(handle.id(), copy);
            } else {
                i += 1;
            }
        }
        match running.join_next_with_id().await {
            Some(Ok((_, step))) => {
                finished.insert(step.key.clone());
                steps.push(step);
            }
            Some(Err(e)) => {
                // A panic ends only its own step: the others run on, dependents are skipped,
                // and the summary still comes.
                let Some(item) = task_keys.get(&e.id()).cloned() else {
                    return Err(InfraError::Config(format!(
                        "internal error: an unknown step task stopped: {e}"
                    )));
                };
                let why = if e.is_panic() {
                    let p = e.into_panic();
                    let msg = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".into());
                    format!("internal error: the step panicked: {msg}")
                } else {
                    format!("internal error: the step was cancelled: {e}")
                };
                shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .done
                    .insert(item.key.clone(), None);
                finished.insert(item.key.clone());
                steps.push(StepReport {
                    key: item.key.clone(),
                    kind: item.kind,
                    region: item.region.clone(),
                    name: item.name.clone(),
                    result: Err(InfraError::Config(why)),
                });
            }
            None => break,
        }
    }
    if let Some(stuck) = pending.first() {
        return Err(InfraError::Config(format!(
            "internal error: `{}` waits for a dependency that never finished (cycle?)",
            stuck.key
        )));
    }
    // Report in plan order, whatever order the steps ended in.
    let order: HashMap<&str, usize> = plan
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.key.as_str(), i))
        .collect();
    steps.sort_by_key(|s| order.get(s.key.as_str()).copied().unwrap_or(usize::MAX));
    Ok(ApplyReport { steps })
}

async fn run_item(
    client: &ArmClient,
    item: &PlanItem,
    shared: &Arc<Mutex<Shared>>,
    planned: &std::collections::HashSet<String>,
    progress: &Progress,
) -> StepReport {
    let scope = item.region.clone().unwrap_or_else(|| "global".into());
    let label = format!("[{scope}] {} {}", item.kind.label(), item.name);
    let mut report = StepReport {
        key: item.key.clone(),
        kind: item.kind,
        region: item.region.clone(),
        name: item.name.clone(),
        result: Ok(Outcome::Unchanged),
    };
    // Dependencies: every planned dependency must have succeeded.
    let failed_dep = {
        let s = shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        item.depends_on
            .iter()
            .find(|d| planned.contains(*d) && !matches!(s.done.get(*d), Some(Some(_))))
            .cloned()
    };
    if let Some(dep) = failed_dep {
        progress(&format!(
            "{label}: skipped, because `{dep}` did not succeed"
        ));
        report.result = Err(InfraError::Skipped(format!("`{dep}` did not succeed")));
        shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .done
            .insert(item.key.clone(), None);
        return report;
    }
    let started = Instant::now();
    // The whole step (retries, polls, read-backs) is bounded; on expiry the error names the
    // resource, what it was waiting for (the last progress line) and for how long.
    let last_line = Arc::new(Mutex::new(String::from("the first answer from ARM")));
    let step_progress: Progress = {
        let (last, outer) = (last_line.clone(), progress.clone());
        Arc::new(move |line: &str| {
            if let Ok(mut l) = last.lock() {
                *l = line.to_string();
            }
            outer(line);
        })
    };
    let limit = client.options.deadline_of(item.kind);
    // Retries of this step's requests report through the step too.
    let step_client = client.clone().with_progress(step_progress.clone());
    // 25 % grace: the operation poller has the same deadline and knows the last status; this
    // outer bound catches what the poller does not see (retries, read-backs).
    let scaled = client.options.scaled(limit);
    let result = match tokio::time::timeout(
        scaled.saturating_add(scaled / 4),
        run_action(&step_client, item, shared, &step_progress, &label),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(InfraError::Deadline {
            context: label.clone(),
            seconds: limit.as_secs(),
            waited: started.elapsed().as_secs_f64(),
            last: format!(
                "the step to finish (last progress: {})",
                last_line.lock().map(|l| l.clone()).unwrap_or_default()
            ),
        }),
    };
    let body = match &result {
        Ok((_, body)) => Some(body.clone()),
        Err(_) => None,
    };
    match &result {
        Ok((Outcome::Unchanged, _)) => {}
        Ok((Outcome::NotManaged, _)) => {}
        Ok((o, _)) => progress(&format!(
            "{label}: {} in {:.1}s",
            outcome_word(o),
            started.elapsed().as_secs_f64()
        )),
        Err(e) => progress(&format!(
            "{label}: FAILED after {:.1}s\n    {}",
            started.elapsed().as_secs_f64(),
            e.to_string().replace('\n', "\n    ")
        )),
    }
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .done
        .insert(item.key.clone(), body);
    report.result = result.map(|(o, _)| o);
    report
}

fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Unchanged => "no change",
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Replaced => "replaced",
        Outcome::AlreadyAssigned => "already assigned under another name",
        Outcome::NotManaged => "not managed",
        Outcome::Removed => "removed",
    }
}

async fn run_action(
    client: &ArmClient,
    item: &PlanItem,
    shared: &Arc<Mutex<Shared>>,
    progress: &Progress,
    label: &str,
) -> Result<(Outcome, Value), InfraError> {
    match &item.action {
        Action::Skipped { .. } => Ok((Outcome::NotManaged, Value::Null)),
        Action::Remove { .. } => {
            let path = item.id.as_deref().ok_or_else(|| {
                InfraError::Config(format!("{label}: internal error: nothing to remove"))
            })?;
            progress(&format!("{label}: removing…"));
            client
                .delete(
                    path,
                    crate::arm::api_versions::ROLE_ASSIGNMENTS,
                    &format!("removing {label}"),
                )
                .await?;
            Ok((Outcome::Removed, Value::Null))
        }
        Action::NoChange => Ok((
            Outcome::Unchanged,
            item.actual.clone().unwrap_or(Value::Null),
        )),
        Action::Blocked { .. } => Err(InfraError::Blocked(format!("{label}: blocked"))),
        Action::Deferred { .. } => {
            let role = item.role.as_ref().ok_or_else(|| {
                InfraError::Config(format!(
                    "{label}: internal error: deferred item without a role"
                ))
            })?;
            apply_deferred_role(client, role, shared, progress, label).await
        }
        Action::Create | Action::Update { .. } | Action::Replace { .. } => {
            let spec = item
                .spec
                .as_ref()
                .ok_or_else(|| InfraError::Config(format!("{label}: internal error: no spec")))?;
            let verb = match item.action {
                Action::Create => "creating",
                Action::Replace { .. } => "replacing",
                _ => "updating",
            };
            progress(&format!("{label}: {verb}…"));
            if matches!(item.action, Action::Replace { .. }) {
                client
                    .delete(&spec.path, spec.api_version, &format!("deleting {label}"))
                    .await?;
            }
            let opts = PutOptions::new(spec.kind).with_progress(progress.clone());
            let body = if spec.kind == ResourceKind::RoleAssignment {
                put_role(client, spec, label).await?
            } else if spec.update == UpdateMode::PatchOnly {
                let body = match (&item.actual, &item.action) {
                    (Some(actual), Action::Update { changes }) => {
                        res::patch_body(spec, actual, changes)
                    }
                    _ => spec.body.clone(),
                };
                client
                    .patch_and_wait(&spec.path, spec.api_version, &body, &opts, label)
                    .await?
                    .body
                    .into()
            } else if let (Some(actual), Action::Update { changes }) = (&item.actual, &item.action)
            {
                match spec.update {
                    UpdateMode::MergePut => update_merged(client, spec, opts, label).await?,
                    UpdateMode::Patch | UpdateMode::PatchOnly => {
                        let body = res::patch_body(spec, actual, changes);
                        client
                            .patch_and_wait(&spec.path, spec.api_version, &body, &opts, label)
                            .await?
                            .body
                            .into()
                    }
                }
            } else {
                client
                    .put_and_wait(&spec.path, spec.api_version, &spec.body, &opts, label)
                    .await?
                    .body
                    .into()
            };
            let outcome = match &body {
                RoleBody::Exists => return Ok((Outcome::AlreadyAssigned, Value::Null)),
                RoleBody::Body(_) => match item.action {
                    Action::Create => Outcome::Created,
                    Action::Replace { .. } => Outcome::Replaced,
                    _ => Outcome::Updated,
                },
            };
            Ok((outcome, body.into_value()))
        }
    }
}

enum RoleBody {
    Body(Value),
    Exists,
}

impl RoleBody {
    fn into_value(self) -> Value {
        match self {
            Self::Body(v) => v,
            Self::Exists => Value::Null,
        }
    }
}

impl From<Value> for RoleBody {
    fn from(v: Value) -> Self {
        Self::Body(v)
    }
}

/// GET the live resource, merge the owned fields in, PUT with If-Match on its ETag (if any).
async fn update_merged(
    client: &ArmClient,
    spec: &Spec,
    mut opts: PutOptions,
    label: &str,
) -> Result<RoleBody, InfraError> {
    let context = format!("{label} (reading before update)");
    let Some((live, resp)) = client.get(&spec.path, spec.api_version, &context).await? else {
        // Gone since the plan: create it.
        return Ok(client
            .put_and_wait(&spec.path, spec.api_version, &spec.body, &opts, label)
            .await?
            .body
            .into());
    };
    let etag = resp.header("etag").map(str::to_string).or_else(|| {
        live.get("eTag")
            .or_else(|| live.get("etag"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let body = res::merge_owned(spec, &live);
    opts.if_match = etag;
    Ok(client
        .put_and_wait(&spec.path, spec.api_version, &body, &opts, label)
        .await?
        .body
        .into())
}

/// PUT a role assignment: `PrincipalNotFound` is retried for a while (new identities take time
/// to replicate), `RoleAssignmentExists` means another name already grants it: done.
async fn put_role(client: &ArmClient, spec: &Spec, label: &str) -> Result<RoleBody, InfraError> {
    let mut opts = PutOptions::new(ResourceKind::RoleAssignment);
    opts.retry_principal_not_found = true;
    match client
        .put_and_wait(&spec.path, spec.api_version, &spec.body, &opts, label)
        .await
    {
        Ok(r) => Ok(RoleBody::Body(r.body)),
        Err(InfraError::Arm { error, .. }) if error.is("RoleAssignmentExists") => {
            Ok(RoleBody::Exists)
        }
        Err(e) => Err(e),
    }
}

async fn apply_deferred_role(
    client: &ArmClient,
    role: &RoleStep,
    shared: &Arc<Mutex<Shared>>,
    progress: &Progress,
    label: &str,
) -> Result<(Outcome, Value), InfraError> {
    let cluster = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .done
        .get(&role.cluster_key)
        .cloned()
        .flatten();
    let cluster = match cluster {
        Some(v) if !v.is_null() => v,
        _ => {
            return Err(InfraError::Skipped(format!(
                "cluster `{}` is not available",
                role.cluster_key
            )));
        }
    };
    let Some(principal) = role.principal_of(&cluster) else {
        return Err(InfraError::Malformed {
            context: label.to_string(),
            status: 200,
            what: format!(
                "the cluster has no `{}` to grant the role to",
                role.principal_pointer()
                    .trim_start_matches('/')
                    .replace('/', ".")
            ),
            body: String::new(),
            correlation_id: None,
        });
    };
    let spec = role.spec(client.subscription(), &principal);
    let existing = client
        .get(&spec.path, spec.api_version, &format!("reading {label}"))
        .await?;
    let (action, _) = classify(&spec, existing.as_ref().map(|(v, _)| v));
    match action {
        Action::NoChange => {
            return Ok((
                Outcome::Unchanged,
                existing.map(|(v, _)| v).unwrap_or(Value::Null),
            ));
        }
        Action::Replace { .. } => {
            progress(&format!("{label}: replacing…"));
            client
                .delete(&spec.path, spec.api_version, &format!("deleting {label}"))
                .await?;
        }
        _ => progress(&format!("{label}: creating (principal {principal})…")),
    }
    match put_role(client, &spec, label).await? {
        RoleBody::Exists => Ok((Outcome::AlreadyAssigned, Value::Null)),
        RoleBody::Body(v) => Ok((Outcome::Created, v)),
    }
}

/// Summary lines after apply.
pub fn render_report(report: &ApplyReport) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &report.steps {
        let k = match &s.result {
            Ok(o) => outcome_word(o).to_string(),
            Err(InfraError::Skipped(_)) => "skipped".into(),
            Err(_) => "failed".into(),
        };
        *counts.entry(k).or_default() += 1;
    }
    let mut out = format!(
        "Applied: {}\n",
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for s in report.failed() {
        let scope = s.region.as_deref().unwrap_or("global");
        if let Err(e) = &s.result {
            out.push_str(&format!(
                "  [{scope}] {} {}: {}\n",
                s.kind.label(),
                s.name,
                e.to_string().lines().next().unwrap_or("")
            ));
        }
    }
    if !report.ok() {
        out.push_str(
            "Fix the cause above and run `infra bootstrap` again: it resumes where it stopped.\n",
        );
    }
    out
}
