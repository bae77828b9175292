//! `gen promote status|next|rollback`: moves the release candidate (`app.tag`/`app.digest`,
//! set by `gen set-image`) through the regions wave by wave, each step gated on evidence from
//! the `promote` crate's gates, with the rollout's whole state in Git:
//!
//! - what each region runs is its `regions[].image` in the committed catalogue (absent: the
//!   candidate), so `status` and the next wave are read from the catalogue alone;
//! - `next` builds the wave's commit from HEAD (the catalogue lines of the wave's regions and
//!   the files the new catalogue renders) only after the manifest gate passed, moves the branch
//!   to it and pushes; a refused push moves the branch back, so nothing is left half-done, and
//!   the working tree is updated only after the push succeeded;
//! - `rollback` finds, per promoted region, the image it ran before the candidate by walking
//!   the catalogue's first-parent history, and re-pins all of them in one commit marked
//!   `Promote-Rollback: <candidate>`; `next` refuses a candidate rolled back that way.

mod edit;
mod history;

use crate::git;
use crate::hydrate::Base;
use crate::options::Context;
use crate::pipeline::{INPUT, OK, PROBLEMS, Stop, render_validated};
use crate::tree::{GENERATED_DIRS, RegionSelection, RenderedTree};
use catalogue::{Catalogue, CatalogueSpec};
use git2::{Oid, Repository};
use promote::GateFailure;
use promote::endpoints::{self, CloudSuffixes, Overrides, RegionEndpoints};
use promote::region::RegionGate;
use promote::registry::RegistryGate;
use promote::waves::{self, Wave};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variable holding an Entra access token for the ACR token exchange.
pub const ENTRA_TOKEN_ENV: &str = "AZURE_ACCESS_TOKEN";

/// The waves of a catalogue: `rollout.waves` when given, else one per priority.
pub fn waves_of(c: &CatalogueSpec) -> Vec<Wave> {
    match &c.rollout.waves {
        Some(ws) => ws
            .iter()
            .enumerate()
            .map(|(i, w)| Wave {
                number: i + 1,
                regions: w.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        None => waves::by_priority(c.regions.iter().map(|r| (r.name.as_str(), r.priority))),
    }
}

/// One region's place in the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRow {
    pub name: String,
    pub priority: u32,
    pub wave: usize,
    /// The tag or digest it runs.
    pub image: String,
    /// Whether `regions[].image` pins it (else it follows the candidate).
    pub pinned: bool,
    pub runs_candidate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub candidate: String,
    pub candidate_ref: String,
    pub waves: Vec<Wave>,
    /// In wave order.
    pub rows: Vec<RegionRow>,
    /// The number of the first wave with a region not running the candidate.
    pub next: Option<usize>,
}

pub fn status(c: &CatalogueSpec) -> Status {
    let candidate = c.app.version().to_string();
    let waves = waves_of(c);
    let running: BTreeMap<String, String> = c
        .regions
        .iter()
        .map(|r| (r.name.to_string(), r.version(&c.app).to_string()))
        .collect();
    let next = waves::next(&waves, &running, &candidate).map(|w| w.number);
    let mut rows = Vec::with_capacity(c.regions.len());
    for w in &waves {
        for name in &w.regions {
            let Some(r) = c.region(name) else { continue };
            let image = r.version(&c.app).to_string();
            rows.push(RegionRow {
                name: name.clone(),
                priority: r.priority,
                wave: w.number,
                runs_candidate: image == candidate,
                pinned: r.image.is_some(),
                image,
            });
        }
    }
    Status {
        candidate_ref: c.app.image_ref(&c.registry),
        candidate,
        waves,
        rows,
        next,
    }
}

impl Status {
    pub fn text(&self) -> String {
        let w = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let iw = self
            .rows
            .iter()
            .map(|r| r.image.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut out = format!("candidate: {}\n", self.candidate_ref);
        out.push_str(&format!(
            "{:<4}  {:<w$}  {:>8}  {:<iw$}  candidate\n",
            "wave", "region", "priority", "image"
        ));
        for r in &self.rows {
            let image = if r.pinned {
                r.image.clone()
            } else {
                format!("{} (follows)", r.image)
            };
            out.push_str(&format!(
                "{:<4}  {:<w$}  {:>8}  {:<iw$}  {}\n",
                r.wave,
                r.name,
                r.priority,
                image,
                if r.runs_candidate { "yes" } else { "no" }
            ));
        }
        match self.next {
            Some(n) => {
                let regions = &self.waves[n - 1].regions;
                out.push_str(&format!(
                    "next: wave {n} of {} ({})\n",
                    self.waves.len(),
                    regions.join(", ")
                ));
            }
            None => out.push_str("next: none: every region runs the candidate\n"),
        }
        out
    }

    pub fn json(&self) -> String {
        let v = serde_json::json!({
            "candidate": self.candidate,
            "candidateRef": self.candidate_ref,
            "waves": self.waves.iter().map(|w| serde_json::json!({"number": w.number, "regions": w.regions})).collect::<Vec<_>>(),
            "regions": self.rows.iter().map(|r| serde_json::json!({
                "name": r.name,
                "priority": r.priority,
                "wave": r.wave,
                "image": r.image,
                "pinned": r.pinned,
                "runsCandidate": r.runs_candidate,
            })).collect::<Vec<_>>(),
            "next": self.next,
        });
        format!("{v}\n")
    }
}

/// Where the gates look, beyond what the catalogue derives.
#[derive(Debug, Clone, Default)]
pub struct EndpointOptions {
    /// `regions: { <region>: { registry: <url>, public: <url> } }`.
    pub file: Option<PathBuf>,
    /// `--endpoint REGION=URL`: the region's public base URL.
    pub public: Vec<(String, String)>,
    /// `--registry-endpoint REGION=URL`: the region's registry replica base URL.
    pub registry: Vec<(String, String)>,
    /// The registry has no regional endpoints: ask the global one (a weaker check).
    pub global_registry: bool,
}

/// Every region's endpoints: derived, then the file, then the flags.
pub fn resolve_endpoints(
    c: &CatalogueSpec,
    o: &EndpointOptions,
) -> Result<BTreeMap<String, RegionEndpoints>, Stop> {
    let names: Vec<&str> = c.regions.iter().map(|r| r.name.as_str()).collect();
    let overrides = match &o.file {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| Stop {
                code: INPUT,
                message: format!(
                    "gen promote: {}: cannot read the endpoints file: {e}\n  help: pass --endpoints <file> with `regions: {{ <region>: {{ registry: <url>, public: <url> }} }}`",
                    f.display()
                ),
            })?;
            endpoints::parse_overrides(&f.display().to_string(), &text, &names).map_err(|e| {
                Stop {
                    code: INPUT,
                    message: format!("gen promote: {e}"),
                }
            })?
        }
        None => Overrides::default(),
    };
    let suffixes = CloudSuffixes::default();
    let mut out = BTreeMap::new();
    for r in &c.regions {
        let mut e = overrides.apply(
            &r.name,
            endpoints::derived(&c.registry.name, &r.name, &r.public_ip.dns_label, &suffixes),
        );
        if o.global_registry
            && overrides
                .regions
                .get(r.name.as_str())
                .and_then(|x| x.registry.as_ref())
                .is_none()
        {
            e.registry = endpoints::global_registry(&c.registry.name, &suffixes);
        }
        out.insert(r.name.to_string(), e);
    }
    for (flag, list) in [
        ("--endpoint", &o.public),
        ("--registry-endpoint", &o.registry),
    ] {
        for (region, url) in list {
            let Some(e) = out.get_mut(region) else {
                return Err(Stop {
                    code: INPUT,
                    message: format!(
                        "gen promote: {flag} {region}={url}: `{region}` is not a catalogue region\n  help: use one of: {}",
                        names.join(", ")
                    ),
                });
            };
            if !endpoints::acceptable_url(url) {
                return Err(Stop {
                    code: INPUT,
                    message: format!(
                        "gen promote: {flag} {region}={url}: not an https URL (http only on 127.0.0.0/8 or localhost), or it carries credentials\n  help: write {region}=https://<host>[:port]"
                    ),
                });
            }
            if flag == "--endpoint" {
                e.public = url.clone();
            } else {
                e.registry = url.clone();
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct NextOptions {
    pub remote: String,
    pub wait: bool,
    pub endpoints: EndpointOptions,
    /// Between two looks of a gate (and between bake samples).
    pub poll: Duration,
}

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    pub remote: String,
}

fn stop(code: u8, message: impl Into<String>) -> Stop {
    Stop {
        code,
        message: message.into(),
    }
}

fn git_stop(e: impl std::fmt::Display) -> Stop {
    stop(INPUT, format!("gen promote: {e}"))
}

fn progress(line: &str) {
    println!("gen promote: {line}");
}

/// The repository and the committed catalogue `next` and `rollback` start from.
struct Start {
    repo: Repository,
    branch: String,
    /// Repository-relative path of the catalogue.
    rel: String,
    head: Oid,
    source: String,
    catalogue: Catalogue,
    workdir: PathBuf,
}

fn start(repo_dir: &Path, catalogue_path: &Path, remote: &str) -> Result<Start, Stop> {
    let (repo, workdir) = git::open(repo_dir).map_err(git_stop)?;
    let branch = git::current_branch(&repo).map_err(git_stop)?;
    repo.find_remote(remote)
        .map_err(|_| git_stop(git::Error::NoRemote(remote.to_string())))?;
    let rel = crate::commit::catalogue_rel(&workdir, catalogue_path).ok_or_else(|| {
        stop(
            INPUT,
            format!(
                "gen promote: the catalogue {} is outside the repository's work tree\n  help: run from the repository (gen promote commits the catalogue)",
                catalogue_path.display()
            ),
        )
    })?;
    let head_commit = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| git_stop(format!("no commit on HEAD: {}", e.message())))?;
    let head = head_commit.id();
    let source = blob_text(&repo, &head_commit, &rel);
    drop(head_commit);
    let source = source.ok_or_else(|| {
        stop(
            INPUT,
            format!(
                "gen promote: {rel} is not committed on HEAD\n  help: commit the catalogue first"
            ),
        )
    })?;
    // The state is what Git holds: the working copy must be the committed catalogue.
    let on_disk = std::fs::read_to_string(catalogue_path).unwrap_or_default();
    if on_disk != source {
        return Err(stop(
            INPUT,
            format!(
                "gen promote: {rel} has uncommitted changes; gen promote works from the committed catalogue\n  help: commit them (`gen commit --include-catalogue`) or restore the file (`git restore {rel}`), then rerun"
            ),
        ));
    }
    // A promotion commit that never reached the remote (a run killed between its commit and
    // its push) must not be pushed later under another wave's gates.
    let tracking = format!("refs/remotes/{remote}/{branch}");
    if let Ok(t) = repo.refname_to_id(&tracking)
        && t != head
        && let Ok((ahead, _)) = repo.graph_ahead_behind(head, t)
        && ahead > 0
    {
        return Err(stop(
            INPUT,
            format!(
                "gen promote: {branch} has {ahead} commit(s) that {remote}/{branch} does not (HEAD {}); an earlier run may have stopped before its push\n  help: push them after checking them (`git log {remote}/{branch}..HEAD`), or drop them with `git reset --keep {remote}/{branch}`, then rerun",
                &head.to_string()[..12]
            ),
        ));
    }
    let catalogue = catalogue::parse(catalogue_path, &source).map_err(|e| {
        stop(
            if e.is_input_error() { INPUT } else { PROBLEMS },
            e.to_string(),
        )
    })?;
    Ok(Start {
        repo,
        branch,
        rel,
        head,
        source,
        catalogue,
        workdir,
    })
}

fn blob_text(repo: &Repository, commit: &git2::Commit<'_>, rel: &str) -> Option<String> {
    let entry = commit.tree().ok()?.get_path(Path::new(rel)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// Parses and renders the edited catalogue; refuses (exit 1) what would not validate.
fn render_new(s: &Start, path: &Path, text: &str) -> Result<RenderedTree, Stop> {
    let c = catalogue::parse(path, text).map_err(|e| {
        stop(
            PROBLEMS,
            format!(
                "gen promote: the edited catalogue does not validate; nothing was committed:\n{e}"
            ),
        )
    })?;
    let base = Base::load(&s.workdir.join("base")).map_err(|e| stop(INPUT, e.to_string()))?;
    render_validated(&c, &base, &RegionSelection::All).map_err(|findings| {
        stop(
            PROBLEMS,
            format!(
                "gen promote: the render of the edited catalogue has problems; nothing was committed:\n{}",
                findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
            ),
        )
    })
}

/// Commits HEAD's tree with the new catalogue and its render, moves the branch, pushes; a
/// failed push moves the branch back. The working tree is updated only after the push.
fn commit_and_push(
    s: &Start,
    remote: &str,
    text: &str,
    tree: &RenderedTree,
    message: &str,
) -> Result<Oid, Stop> {
    let repo = &s.repo;
    let g = |e: git2::Error| git_stop(e.message());
    let head = repo.find_commit(s.head).map_err(g)?;
    let head_tree = head.tree().map_err(g)?;
    let mut update = git2::build::TreeUpdateBuilder::new();
    let blob = repo.blob(text.as_bytes()).map_err(g)?;
    update.upsert(&s.rel, blob, git2::FileMode::Blob);
    for (path, content) in &tree.files {
        let p = path.to_string_lossy().replace('\\', "/");
        // Hash in memory; write only what changed (writing, even an existing object, costs
        // file operations: 420 of them made a wave's commit take most of its second).
        let hash = Oid::hash_object(git2::ObjectType::Blob, content.as_bytes()).map_err(g)?;
        if head_tree.get_path(Path::new(&p)).ok().map(|e| e.id()) != Some(hash) {
            let id = repo.blob(content.as_bytes()).map_err(g)?;
            update.upsert(&p, id, git2::FileMode::Blob);
        }
    }
    let new_tree_id = update.create_updated(repo, &head_tree).map_err(g)?;
    let new_tree = repo.find_tree(new_tree_id).map_err(g)?;
    let (author, committer) = git::signatures(repo).map_err(git_stop)?;
    let id = repo
        .commit(
            Some("HEAD"),
            &author,
            &committer,
            message,
            &new_tree,
            &[&head],
        )
        .map_err(g)?;
    if let Err(e) = git::push(repo, remote, &s.branch) {
        // Nothing half-done: the branch goes back to where it was; the working tree was never
        // touched.
        let undo = repo
            .find_reference(&format!("refs/heads/{}", s.branch))
            .and_then(|mut r| {
                r.set_target(s.head, "gen promote: push refused, commit undone")
                    .map(|_| ())
            });
        let undone = match undo {
            Ok(()) => format!(
                "the local commit {} was undone; {} is back at {}",
                &id.to_string()[..12],
                s.branch,
                &s.head.to_string()[..12]
            ),
            Err(u) => format!(
                "undoing the local commit failed ({}): run `git reset --keep {}`",
                u.message(),
                s.head
            ),
        };
        let rejected =
            matches!(e, git::Error::Rejected { .. }) || e.to_string().contains("non-fast-forward");
        return Err(if rejected {
            stop(
                PROBLEMS,
                format!(
                    "gen promote: {remote}/{} moved on (another promotion or commit pushed first): the push was refused as non-fast-forward; {undone}\n  {e}\n  help: `git pull --ff-only {remote} {}`, then rerun gen promote: it continues from what Git holds",
                    s.branch, s.branch
                ),
            )
        } else {
            stop(INPUT, format!("gen promote: {e}\n  {undone}"))
        });
    }
    let mut co = git2::build::CheckoutBuilder::new();
    co.force().path(&s.rel);
    for d in GENERATED_DIRS {
        co.path(*d);
    }
    repo.checkout_head(Some(&mut co)).map_err(g)?;
    Ok(id)
}

/// Runs `f` for every region at once, each on its own thread and runtime; the first failure
/// in region order wins.
fn each_region<F>(regions: &[String], f: F) -> Result<(), GateFailure>
where
    F: Fn(&str) -> Result<(), GateFailure> + Sync,
{
    let results: Vec<Result<(), GateFailure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = regions
            .iter()
            .map(|r| {
                let f = &f;
                scope.spawn(move || f(r))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a gate thread panicked"))
            .collect()
    });
    results.into_iter().collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Gates 2 and 3 for `regions`: serving K times in a row, then (when `bake`) the bake.
fn verify_regions(
    c: &CatalogueSpec,
    regions: &[String],
    ends: &BTreeMap<String, RegionEndpoints>,
    candidate_ref: &str,
    poll: Duration,
    bake: bool,
) -> Result<(), GateFailure> {
    let r = &c.rollout;
    let readiness = c.app.probes.readiness.as_str();
    each_region(regions, |region| {
        let gate = RegionGate::new();
        let base = &ends[region].public;
        let rt = runtime();
        rt.block_on(gate.wait_serving(
            region,
            base,
            readiness,
            candidate_ref,
            r.consecutive_responses,
            Duration::from_secs(u64::from(r.serve_timeout_seconds)),
            poll,
            &progress,
        ))?;
        if bake && r.bake_seconds > 0 {
            rt.block_on(gate.bake(
                region,
                base,
                readiness,
                candidate_ref,
                Duration::from_secs(u64::from(r.bake_seconds)),
                poll,
                r.max_error_percent / 100.0,
                &progress,
            ))?;
        }
        Ok(())
    })
}

fn gate_stop(f: &GateFailure, later: &[Wave]) -> Stop {
    let untouched = if later.is_empty() {
        String::new()
    } else {
        format!(
            "; waves {} are untouched",
            later
                .iter()
                .map(|w| w.number.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    stop(
        PROBLEMS,
        format!(
            "gen promote: the rollout stopped: {f}{untouched}\n  help: fix the region and rerun `gen promote next --wait` (it continues from Git), or `gen promote rollback`"
        ),
    )
}

/// `gen promote next`.
pub fn next(repo_dir: &Path, catalogue_path: &Path, o: &NextOptions) -> Result<u8, Stop> {
    let s = start(repo_dir, catalogue_path, &o.remote)?;
    let c = &s.catalogue;
    let st = status(c);
    let Some(n) = st.next else {
        println!(
            "gen promote: every region runs the candidate {}; nothing to promote",
            st.candidate
        );
        return Ok(OK);
    };
    if let Some(commit) = history::rolled_back(&s.repo, s.head, &st.candidate) {
        return Err(stop(
            PROBLEMS,
            format!(
                "gen promote: the candidate {} was rolled back by {}; it is not promoted again\n  help: set a new candidate with `gen set-image`",
                st.candidate,
                &commit.to_string()[..12]
            ),
        ));
    }
    let ends = resolve_endpoints(c, &o.endpoints)?;
    let wave = st.waves[n - 1].clone();
    let later = &st.waves[n..];
    let total = st.waves.len();
    progress(&format!(
        "wave {n} of {total}: {} to {}",
        wave.regions.join(", "),
        st.candidate
    ));
    // Resuming: the waves before this one must still serve the candidate (a run killed while
    // it waited leaves its wave pushed but unverified).
    if o.wait {
        let earlier: Vec<String> = st.waves[..n - 1]
            .iter()
            .flat_map(|w| w.regions.iter().cloned())
            .collect();
        if !earlier.is_empty() {
            progress(&format!(
                "checking that the earlier waves serve the candidate: {}",
                earlier.join(", ")
            ));
            verify_regions(c, &earlier, &ends, &st.candidate_ref, o.poll, false)
                .map_err(|f| gate_stop(&f, &st.waves[n - 1..]))?;
        }
    }
    // Gate 1, before anything is committed.
    if o.endpoints.global_registry {
        progress(&format!(
            "the registry has no regional endpoints: checking the global endpoint {} (weaker: it answers from the nearest replica, not each region's)",
            endpoints::global_registry(&c.registry.name, &CloudSuffixes::default())
        ));
    }
    let gate = RegistryGate::new(
        std::env::var(ENTRA_TOKEN_ENV)
            .ok()
            .filter(|t| !t.is_empty()),
    );
    let targets: Vec<(String, String)> = wave
        .regions
        .iter()
        .map(|r| (r.clone(), ends[r].registry.clone()))
        .collect();
    runtime()
        .block_on(gate.wait(
            &targets,
            &c.app.image,
            &st.candidate,
            Duration::from_secs(u64::from(c.rollout.manifest_timeout_seconds)),
            o.poll,
            &progress,
        ))
        .map_err(|f| {
            let mut s = gate_stop(&f, &st.waves[n - 1..]);
            s.message.push_str("\n  nothing was committed");
            s
        })?;
    // The wave's commit.
    let mut text = s.source.clone();
    let mut lines = Vec::new();
    for name in &wave.regions {
        let (i, r) = c
            .regions
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == *name)
            .expect("waves name catalogue regions");
        let now = r.version(&c.app).to_string();
        if now == st.candidate {
            continue;
        }
        text = edit::set_region_image(&text, i, &st.candidate)
            .map_err(|e| stop(INPUT, format!("{}: {e}", s.rel)))?;
        lines.push(format!("{name}: {now} -> {}", st.candidate));
    }
    let tree = render_new(&s, catalogue_path, &text)?;
    let message = format!(
        "promote: wave {n} of {total} to {} ({})\n\n{}\n\nPromote-Candidate: {}\nPromote-Wave: {n}\n",
        st.candidate,
        wave.regions.join(", "),
        lines.join("\n"),
        st.candidate
    );
    let id = commit_and_push(&s, &o.remote, &text, &tree, &message)?;
    progress(&format!(
        "committed {} and pushed {} to {}: wave {n} of {total} ({})",
        &id.to_string()[..12],
        s.branch,
        o.remote,
        wave.regions.join(", ")
    ));
    if !o.wait {
        println!(
            "gen promote: not waiting (no --wait): `gen promote next --wait` verifies this wave before the next one"
        );
        return Ok(OK);
    }
    verify_regions(c, &wave.regions, &ends, &st.candidate_ref, o.poll, true)
        .map_err(|f| gate_stop(&f, later))?;
    progress(&format!(
        "wave {n} of {total} serves {} and baked{}",
        st.candidate,
        if later.is_empty() {
            "; the rollout is complete"
        } else {
            ""
        }
    ));
    Ok(OK)
}

/// `gen promote rollback`.
pub fn rollback(repo_dir: &Path, catalogue_path: &Path, o: &RollbackOptions) -> Result<u8, Stop> {
    let s = start(repo_dir, catalogue_path, &o.remote)?;
    let c = &s.catalogue;
    let candidate = c.app.version().to_string();
    let promoted: Vec<String> = c
        .regions
        .iter()
        .filter(|r| r.version(&c.app) == candidate)
        .map(|r| r.name.to_string())
        .collect();
    if promoted.is_empty() {
        println!("gen promote: no region runs the candidate {candidate}; nothing to roll back");
        return Ok(OK);
    }
    let previous = history::previous_images(&s.repo, s.head, &s.rel, &candidate, &promoted);
    let mut text = s.source.clone();
    let mut lines = Vec::new();
    let mut kept = Vec::new();
    for name in &promoted {
        let Some(prev) = previous.get(name) else {
            kept.push(name.clone());
            continue;
        };
        let i = c
            .regions
            .iter()
            .position(|r| r.name == *name)
            .expect("a catalogue region");
        text = edit::set_region_image(&text, i, prev)
            .map_err(|e| stop(INPUT, format!("{}: {e}", s.rel)))?;
        lines.push(format!("{name}: {candidate} -> {prev}"));
    }
    if lines.is_empty() {
        return Err(stop(
            PROBLEMS,
            format!(
                "gen promote: no earlier image of {} in the catalogue's history; nothing to roll back to\n  help: pin an image by hand (`regions[].image`) and commit it",
                promoted.join(", ")
            ),
        ));
    }
    let tree = render_new(&s, catalogue_path, &text)?;
    let rolled: Vec<&str> = lines
        .iter()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    let message = format!(
        "promote: rollback of {candidate} in {}\n\n{}\n\nPromote-Rollback: {candidate}\n",
        rolled.join(", "),
        lines.join("\n")
    );
    let id = commit_and_push(&s, &o.remote, &text, &tree, &message)?;
    for l in &lines {
        progress(&format!("rolled back {l}"));
    }
    if !kept.is_empty() {
        progress(&format!(
            "no earlier image in the history (left on {candidate}): {}",
            kept.join(", ")
        ));
    }
    progress(&format!(
        "committed {} and pushed {} to {}",
        &id.to_string()[..12],
        s.branch,
        o.remote
    ));
    Ok(OK)
}

/// A `gen promote` subcommand, as plain options.
#[derive(Debug, Clone)]
pub enum Command {
    Status { json: bool },
    Next(NextOptions),
    Rollback(RollbackOptions),
}

/// Runs `gen promote …`; the exit code.
pub fn command(ctx: &Context, c: Command) -> u8 {
    let r = match c {
        Command::Status { json } => status_command(ctx, json),
        Command::Next(o) => next(&ctx.repo, &ctx.catalogue, &o),
        Command::Rollback(o) => rollback(&ctx.repo, &ctx.catalogue, &o),
    };
    match r {
        Ok(code) => code,
        Err(s) => {
            eprintln!("{}", s.message);
            s.code
        }
    }
}

fn status_command(ctx: &Context, json: bool) -> Result<u8, Stop> {
    let loaded = catalogue::load(&ctx.catalogue).map_err(|e| {
        stop(
            if e.is_input_error() { INPUT } else { PROBLEMS },
            e.to_string(),
        )
    })?;
    let st = status(&loaded.catalogue);
    let text = if json { st.json() } else { st.text() };
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Catalogue {
        let text = include_str!("../../tests/fixtures/catalogue-default.yaml").replacen(
            "  - name: centralus\n",
            "  - name: centralus\n    image: \"0.9.0\"\n",
            1,
        );
        catalogue::parse(Path::new("catalogue.yaml"), &text).unwrap()
    }

    #[test]
    fn status_lists_waves_primary_last_and_who_runs_the_candidate() {
        let c = fixture();
        let st = status(&c);
        let rows: Vec<(&str, usize, &str, bool, bool)> = st
            .rows
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.wave,
                    r.image.as_str(),
                    r.pinned,
                    r.runs_candidate,
                )
            })
            .collect();
        let tag = c.app.version();
        assert_eq!(
            rows,
            [
                ("centralus", 1, "0.9.0", true, false),
                ("eastus2", 2, tag, false, true)
            ]
        );
        assert_eq!(st.next, Some(1));
        let text = st.text();
        assert!(text.contains("next: wave 1 of 2 (centralus)"), "{text}");
        assert!(text.contains(&format!("{tag} (follows)")), "{text}");
        let v: serde_json::Value = serde_json::from_str(&st.json()).unwrap();
        assert_eq!(v["regions"][0]["runsCandidate"], false);
        assert_eq!(v["next"], 1);
    }

    #[test]
    fn explicit_waves_replace_the_priority_order() {
        let fixture = include_str!("../../tests/fixtures/catalogue-default.yaml");
        let at = fixture.find("  - name: centralus").unwrap();
        let third = fixture[at..]
            .replace("centralus", "westus3")
            .replace("priority: 2", "priority: 3");
        let text = format!("{}\n{third}", fixture.trim_end()).replacen(
            "\nregions:\n",
            "\nrollout:\n  waves: [[centralus], [westus3], [eastus2]]\nregions:\n",
            1,
        );
        let c = catalogue::parse(Path::new("catalogue.yaml"), &text).unwrap();
        let order: Vec<Vec<String>> = waves_of(&c).into_iter().map(|w| w.regions).collect();
        assert_eq!(order, [["centralus"], ["westus3"], ["eastus2"]]);
        // Without `waves`: by priority, highest number first.
        let by_priority = text.replace(
            "rollout:\n  waves: [[centralus], [westus3], [eastus2]]\n",
            "",
        );
        let c = catalogue::parse(Path::new("catalogue.yaml"), &by_priority).unwrap();
        let order: Vec<Vec<String>> = waves_of(&c).into_iter().map(|w| w.regions).collect();
        assert_eq!(order, [["westus3"], ["centralus"], ["eastus2"]]);
    }

    #[test]
    fn endpoints_derive_then_the_file_then_the_flags_win_and_global_is_a_fallback() {
        let c = fixture();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ep.yaml");
        std::fs::write(
            &file,
            "regions:\n  eastus2:\n    registry: https://r.example.test\n",
        )
        .unwrap();
        let mut o = EndpointOptions {
            file: Some(file),
            global_registry: true,
            ..EndpointOptions::default()
        };
        let e = resolve_endpoints(&c, &o).unwrap();
        assert_eq!(e["eastus2"].registry, "https://r.example.test");
        assert_eq!(e["centralus"].registry, "https://contosoha.azurecr.io");
        assert_eq!(
            e["centralus"].public,
            format!(
                "http://{}.centralus.cloudapp.azure.com",
                c.region("centralus").unwrap().public_ip.dns_label
            )
        );
        o.public = vec![("centralus".into(), "http://127.0.0.1:9".into())];
        o.registry = vec![("eastus2".into(), "http://[::1]:5000".into())];
        let e = resolve_endpoints(&c, &o).unwrap();
        assert_eq!(e["centralus"].public, "http://127.0.0.1:9");
        assert_eq!(e["eastus2"].registry, "http://[::1]:5000");
        o.public = vec![("centralus".into(), "http://example.test".into())];
        let err = resolve_endpoints(&c, &o).unwrap_err();
        assert_eq!(err.code, INPUT);
        assert!(err.message.contains("not an https URL"), "{}", err.message);
    }
}
