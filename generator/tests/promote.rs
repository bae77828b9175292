//! `gen promote` end to end with real parts: a `git daemon` on 127.0.0.1 holding the GitOps
//! repository, two Debian `docker-registry` instances standing for two regional replicas, and
//! per region the real service binary, (re)started by a Flux stand-in with the `IMAGE` the
//! region's overlay on the pushed branch passes. Every wave is one pushed commit; gates that
//! fail stop the rollout with later waves untouched; a refused push leaves nothing behind; a
//! killed run resumes; rollback restores the previous images.

use crate::git_support;

use git_support::{GitDaemon, Sandbox, assert_exit, seed_from_workspace};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use test_support::{Registry, free_port, service_binary, start_registry, wait_for_port};

const CANDIDATE: &str = "1.1.0";
const PREVIOUS: &str = "1.0.0";
/// Waves by priority: westus3 (3), then centralus (2), then the primary eastus2 (1).
const REGIONS: [&str; 3] = ["westus3", "centralus", "eastus2"];
const ROLLOUT: &str = "rollout:\n  manifestTimeoutSeconds: 5\n  serveTimeoutSeconds: 5\n  bakeSeconds: 2\n  consecutiveResponses: 2\n  maxErrorPercent: 5\n";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------- registries ----------

/// A real OCI image pushed to the registry at `base`.
fn push_image(base: &str, repo: &str, tag: &str) {
    rt().block_on(test_support::push_image(
        base,
        repo,
        tag,
        format!("layer of {tag}").as_bytes(),
    ));
}

// ---------- regions: the real service, deployed by a Flux stand-in ----------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Deploys whatever the region's overlay on the remote branch says.
    Follow,
    /// Never deploys: keeps serving what it ran.
    Frozen,
    /// Deploys, and answers this share of `GET /default` with 500.
    Errors(f64),
}

struct Region {
    port: u16,
    child: Option<Child>,
    image: String,
    mode: Mode,
}

impl Region {
    fn deploy(&mut self, name: &str, image: &str) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let ratio = match self.mode {
            Mode::Errors(r) => r,
            _ => 0.0,
        };
        let child = Command::new(service_binary())
            .env_clear()
            .env("PORT", self.port.to_string())
            .env("BIND_ADDRESS", "127.0.0.1")
            .env("REGION", name)
            .env("ZONE", "1")
            .env("HOSTNAME", format!("{name}-pod"))
            .env("POD_IP", "127.0.0.1")
            .env("IMAGE", image)
            .env("INJECT_ERROR_RATIO", ratio.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.image = image.to_string();
        wait_for_port(self.port, Duration::from_secs(10), "service");
    }
}

/// Watches the bare repository's `main` and deploys each region's `IMAGE` as Flux would.
struct Flux {
    regions: Arc<Mutex<BTreeMap<String, Region>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The `IMAGE` env the region's overlay passes on `main` of `bare`.
fn overlay_image(bare: &Path, region: &str) -> Option<String> {
    let repo = git2::Repository::open_bare(bare).ok()?;
    let obj = repo
        .revparse_single(&format!("main:overlays/{region}/patch-deployment.yaml"))
        .ok()?;
    let blob = obj.peel_to_blob().ok()?;
    let text = String::from_utf8_lossy(blob.content()).into_owned();
    let at = text.find("- name: IMAGE\n")?;
    let line = text[at..].lines().nth(1)?;
    Some(
        line.trim()
            .strip_prefix("value:")?
            .trim()
            .trim_matches('"')
            .to_string(),
    )
}

impl Flux {
    fn start(bare: &Path) -> Self {
        let mut map = BTreeMap::new();
        for r in REGIONS {
            let mut region = Region {
                port: free_port(),
                child: None,
                image: String::new(),
                mode: Mode::Follow,
            };
            region.deploy(
                r,
                &overlay_image(bare, r).expect("the overlay passes IMAGE"),
            );
            map.insert(r.to_string(), region);
        }
        let regions = Arc::new(Mutex::new(map));
        let stop = Arc::new(AtomicBool::new(false));
        let (r2, s2, bare) = (regions.clone(), stop.clone(), bare.to_path_buf());
        let thread = std::thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                for name in REGIONS {
                    let Some(want) = overlay_image(&bare, name) else {
                        continue;
                    };
                    let mut map = r2.lock().unwrap();
                    let region = map.get_mut(name).unwrap();
                    if region.mode != Mode::Frozen && region.image != want {
                        region.deploy(name, &want);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            regions,
            stop,
            thread: Some(thread),
        }
    }

    fn set_mode(&self, region: &str, mode: Mode) {
        let mut map = self.regions.lock().unwrap();
        let r = map.get_mut(region).unwrap();
        r.mode = mode;
        if let Mode::Errors(_) = mode {
            let image = r.image.clone();
            r.deploy(region, &image);
        }
    }

    fn url(&self, region: &str) -> String {
        format!(
            "http://127.0.0.1:{}",
            self.regions.lock().unwrap()[region].port
        )
    }

    fn serving(&self, region: &str) -> String {
        self.regions.lock().unwrap()[region].image.clone()
    }
}

impl Drop for Flux {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for r in self.regions.lock().unwrap().values_mut() {
            if let Some(mut c) = r.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

// ---------- the world ----------

struct World {
    sb: Sandbox,
    _daemon: GitDaemon,
    bare: PathBuf,
    work: PathBuf,
    url: String,
    regs: [Registry; 2],
    flux: Flux,
}

fn ref_of(tag: &str) -> String {
    format!("contosoha.azurecr.io/hello:{tag}")
}

impl World {
    /// Three regions pinned at PREVIOUS, the candidate CANDIDATE set with `gen set-image`,
    /// pushed to a git daemon; PREVIOUS is in both registries.
    fn new() -> Self {
        let sb = Sandbox::new();
        let bare = sb.init_bare("gitops");
        let daemon = GitDaemon::start(&sb, &sb.path().join("served"));
        let url = daemon.url("gitops");
        let work = sb.path().join("work");
        sb.git(sb.path(), &["clone", "-q", &url, work.to_str().unwrap()]);
        sb.git(&work, &["checkout", "-q", "-b", "main"]);
        seed_from_workspace(&work);
        git_support::edit_catalogue(&work, |c| {
            let c = git_support::with_region_copy(&c, "centralus", "westus3", 3);
            let mut c = c.replace("\nregions:\n", &format!("\n{ROLLOUT}regions:\n"));
            for r in REGIONS {
                c = c.replacen(
                    &format!("  - name: {r}\n"),
                    &format!("  - name: {r}\n    image: \"{PREVIOUS}\"\n"),
                    1,
                );
            }
            git_support::with_tag(&c, PREVIOUS)
        });
        assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
        sb.commit_all(&work, "seed");
        assert_exit(&sb.gen_cmd(&work, &["set-image", "--tag", CANDIDATE]), 0);
        assert_exit(&sb.gen_cmd(&work, &["render", "--all", "--check"]), 0);
        sb.commit_all(&work, "release candidate");
        sb.git(&work, &["push", "-q", "origin", "main"]);
        let regs = [start_registry(), start_registry()];
        for r in &regs {
            push_image(&r.base, "hello", PREVIOUS);
        }
        let flux = Flux::start(&bare);
        Self {
            sb,
            _daemon: daemon,
            bare,
            work,
            url,
            regs,
            flux,
        }
    }

    /// westus3 and eastus2 use the first registry, centralus the second.
    fn registry_of(&self, region: &str) -> &Registry {
        &self.regs[usize::from(region == "centralus")]
    }

    fn endpoint_flags(&self) -> Vec<String> {
        let mut v = Vec::new();
        for r in REGIONS {
            v.push(format!("--endpoint={r}={}", self.flux.url(r)));
            v.push(format!(
                "--registry-endpoint={r}={}",
                self.registry_of(r).base
            ));
        }
        v
    }

    fn promote_in(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        let mut all: Vec<String> = vec!["promote".into()];
        all.extend(args.iter().map(|s| s.to_string()));
        if args.first() == Some(&"next") {
            all.extend(self.endpoint_flags());
            all.push("--poll-ms=100".into());
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        self.sb.gen_cmd(dir, &refs)
    }

    fn promote(&self, args: &[&str]) -> std::process::Output {
        self.promote_in(&self.work, args)
    }

    /// Region -> image on the remote's `main`.
    fn remote_images(&self) -> BTreeMap<String, String> {
        let repo = git2::Repository::open_bare(&self.bare).unwrap();
        let blob = repo
            .revparse_single("main:catalogue.yaml")
            .unwrap()
            .peel_to_blob()
            .unwrap();
        let c = catalogue::parse(
            Path::new("catalogue.yaml"),
            std::str::from_utf8(blob.content()).unwrap(),
        )
        .unwrap();
        c.regions
            .iter()
            .map(|r| (r.name.to_string(), r.version(&c.app).to_string()))
            .collect()
    }

    fn remote_subjects(&self) -> Vec<String> {
        self.sb
            .git(&self.bare, &["log", "--format=%s", "main"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn images(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(r, i)| (r.to_string(), i.to_string()))
            .collect()
    }

    fn clean(&self, dir: &Path) {
        assert_eq!(
            self.sb.git(dir, &["status", "--porcelain"]),
            "",
            "the work tree is not clean"
        );
    }
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_release_reaches_the_primary_last_after_every_wave_served_and_baked_then_rolls_back() {
    let w = World::new();
    let status = w.promote(&["status", "--format", "json"]);
    let (stdout, _) = assert_exit(&status, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["candidate"], CANDIDATE);
    assert_eq!(v["next"], 1);
    assert_eq!(v["waves"][2]["regions"], serde_json::json!(["eastus2"]));
    assert!(
        v["regions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["runsCandidate"] == false)
    );

    // The candidate is in the first replica only; the second gets it 1.5 s later.
    push_image(&w.registry_of("westus3").base, "hello", CANDIDATE);
    let (stdout, _) = assert_exit(&w.promote(&["next", "--wait"]), 0);
    assert!(
        stdout.contains("westus3: manifest hello:1.1.0 present"),
        "{stdout}"
    );
    assert!(stdout.contains("(2/2 in a row)"), "{stdout}");
    assert!(stdout.contains("westus3: baked 2s"), "{stdout}");
    assert_eq!(
        w.remote_images(),
        World::images(&[
            ("westus3", CANDIDATE),
            ("centralus", PREVIOUS),
            ("eastus2", PREVIOUS)
        ])
    );
    assert_eq!(w.flux.serving("westus3"), ref_of(CANDIDATE));
    assert_eq!(w.flux.serving("eastus2"), ref_of(PREVIOUS));
    w.clean(&w.work);

    let second = w.registry_of("centralus").base.clone();
    let copier = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        push_image(&second, "hello", CANDIDATE);
    });
    let (stdout, _) = assert_exit(&w.promote(&["next", "--wait"]), 0);
    copier.join().unwrap();
    assert!(
        stdout.contains("checking that the earlier waves serve the candidate: westus3"),
        "{stdout}"
    );
    assert!(
        stdout.contains("centralus: waiting for manifest hello:1.1.0"),
        "{stdout}"
    );
    assert!(stdout.contains("absent (HTTP 404); "), "{stdout}");
    assert!(stdout.contains("s left"), "{stdout}");
    assert_eq!(
        w.remote_images()["eastus2"],
        PREVIOUS,
        "the primary waits for the last wave"
    );

    let (stdout, _) = assert_exit(&w.promote(&["next", "--wait"]), 0);
    assert!(stdout.contains("the rollout is complete"), "{stdout}");
    assert_eq!(
        w.remote_images(),
        World::images(&[
            ("westus3", CANDIDATE),
            ("centralus", CANDIDATE),
            ("eastus2", CANDIDATE)
        ])
    );
    let (stdout, _) = assert_exit(&w.promote(&["next", "--wait"]), 0);
    assert!(stdout.contains("nothing to promote"), "{stdout}");
    // One pushed commit per wave, each naming its regions and images, primary last.
    let subjects = w.remote_subjects();
    assert_eq!(
        subjects[..3],
        [
            "promote: wave 3 of 3 to 1.1.0 (eastus2)",
            "promote: wave 2 of 3 to 1.1.0 (centralus)",
            "promote: wave 1 of 3 to 1.1.0 (westus3)",
        ]
    );
    let body = w.sb.git(&w.bare, &["log", "-1", "--format=%b", "main"]);
    assert!(body.contains("eastus2: 1.0.0 -> 1.1.0"), "{body}");
    let changed =
        w.sb.git(&w.bare, &["diff", "--name-only", "main~1", "main"]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        [
            "catalogue.yaml",
            "overlays/eastus2/kustomization.yaml",
            "overlays/eastus2/patch-deployment.yaml"
        ]
    );
    assert_exit(&w.sb.gen_cmd(&w.work, &["render", "--all", "--check"]), 0);

    // Rollback: every promoted region back to what it ran before, in one commit.
    let (stdout, _) = assert_exit(&w.promote(&["rollback"]), 0);
    assert!(
        stdout.contains("rolled back eastus2: 1.1.0 -> 1.0.0"),
        "{stdout}"
    );
    assert_eq!(
        w.remote_images(),
        World::images(&[
            ("westus3", PREVIOUS),
            ("centralus", PREVIOUS),
            ("eastus2", PREVIOUS)
        ])
    );
    assert_eq!(
        w.remote_subjects()[0],
        "promote: rollback of 1.1.0 in eastus2, centralus, westus3"
    );
    let start = Instant::now();
    while w.flux.serving("eastus2") != ref_of(PREVIOUS) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "eastus2 was not redeployed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    w.clean(&w.work);
    // A rolled-back candidate is not promoted again.
    let again = w.promote(&["next"]);
    let (_, stderr) = assert_exit(&again, 1);
    assert!(stderr.contains("was rolled back by"), "{stderr}");
    let _ = &w.url;
}

#[test]
fn a_manifest_missing_from_a_replica_times_out_and_nothing_is_committed() {
    let w = World::new();
    let before = w.sb.head(&w.work);
    let subjects = w.remote_subjects();
    let o = w.promote(&["next", "--wait"]);
    let (stdout, stderr) = assert_exit(&o, 1);
    assert!(
        stdout.contains("westus3: waiting for manifest hello:1.1.0"),
        "{stdout}"
    );
    assert!(
        stderr.contains("westus3: gate `manifest in the region's registry replica` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("observed absent (HTTP 404)"), "{stderr}");
    assert!(stderr.contains("nothing was committed"), "{stderr}");
    assert_eq!(w.sb.head(&w.work), before);
    assert_eq!(w.remote_subjects(), subjects);
    w.clean(&w.work);
}

#[test]
fn a_region_that_never_serves_the_candidate_halts_the_rollout_and_later_waves_stay() {
    let w = World::new();
    for r in &w.regs {
        push_image(&r.base, "hello", CANDIDATE);
    }
    w.flux.set_mode("westus3", Mode::Frozen);
    let (stdout, stderr) = assert_exit(&w.promote(&["next", "--wait"]), 1);
    assert!(stdout.contains("westus3: waiting for"), "{stdout}");
    assert!(
        stderr.contains("westus3: gate `region serves the candidate` failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "expected {}/default serving {}",
            w.flux.url("westus3"),
            ref_of(CANDIDATE)
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "observed /default serves {}, readiness HTTP 200",
            ref_of(PREVIOUS)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("waves 2, 3 are untouched"), "{stderr}");
    assert_eq!(
        w.remote_images(),
        World::images(&[
            ("westus3", CANDIDATE),
            ("centralus", PREVIOUS),
            ("eastus2", PREVIOUS)
        ])
    );
    // A rerun does not move on while wave 1 does not serve the candidate.
    let subjects = w.remote_subjects();
    let (_, stderr) = assert_exit(&w.promote(&["next", "--wait"]), 1);
    assert!(
        stderr.contains("westus3: gate `region serves the candidate` failed"),
        "{stderr}"
    );
    assert_eq!(w.remote_subjects(), subjects, "nothing new was pushed");
    assert_eq!(w.flux.serving("centralus"), ref_of(PREVIOUS));
}

#[test]
fn errors_during_the_bake_fail_the_wave() {
    let w = World::new();
    for r in &w.regs {
        push_image(&r.base, "hello", CANDIDATE);
    }
    w.flux.set_mode("westus3", Mode::Errors(0.25));
    let (stdout, stderr) = assert_exit(&w.promote(&["next", "--wait"]), 1);
    assert!(stdout.contains("westus3: bake sample"), "{stdout}");
    assert!(stderr.contains("westus3: gate `bake` failed"), "{stderr}");
    assert!(stderr.contains("/default HTTP 500"), "{stderr}");
    assert_eq!(w.remote_images()["centralus"], PREVIOUS);
}

#[test]
fn two_promotions_at_once_cannot_both_push_and_the_loser_is_left_clean() {
    let w = World::new();
    for r in &w.regs {
        push_image(&r.base, "hello", CANDIDATE);
    }
    let other = w.sb.path().join("other");
    w.sb.git(
        w.sb.path(),
        &["clone", "-q", &w.url, other.to_str().unwrap()],
    );
    let base_head = w.sb.head(&w.work);
    let args = |dir: &Path| {
        let mut c = w.sb.gen_command(dir, &["promote", "next"]);
        c.args(w.endpoint_flags()).arg("--poll-ms=100");
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    };
    let a = args(&w.work).spawn().unwrap();
    // Another author: two runs in the same second by the same identity make the very same
    // commit, and the second push is then a no-op that succeeds (idempotent, also fine).
    let b = args(&other)
        .env("GIT_AUTHOR_NAME", "Other Operator")
        .env("GIT_COMMITTER_NAME", "Other Operator")
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}\n{}\n{}",
        out(&a),
        out(&b)
    );
    let (loser, loser_dir) = if a.status.code() == Some(1) {
        (&a, &w.work)
    } else {
        (&b, &other)
    };
    let msg = out(loser);
    assert!(msg.contains("non-fast-forward"), "{msg}");
    assert!(
        msg.contains("the local commit") && msg.contains("was undone"),
        "{msg}"
    );
    assert_eq!(
        w.sb.head(loser_dir),
        base_head,
        "the loser's branch is back"
    );
    w.clean(loser_dir);
    assert_eq!(
        w.remote_subjects()[0],
        "promote: wave 1 of 3 to 1.1.0 (westus3)"
    );
    // After a pull the loser continues from Git: wave 2.
    w.sb.git(loser_dir, &["pull", "-q", "--ff-only", "origin", "main"]);
    let (stdout, _) = assert_exit(&w.promote_in(loser_dir, &["next"]), 0);
    assert!(stdout.contains("wave 2 of 3"), "{stdout}");
    assert_eq!(w.remote_images()["centralus"], CANDIDATE);
}

#[test]
fn a_promotion_killed_while_it_waits_resumes_from_git() {
    let w = World::new();
    for r in &w.regs {
        push_image(&r.base, "hello", CANDIDATE);
    }
    w.flux.set_mode("westus3", Mode::Frozen);
    let mut cmd = w.sb.gen_command(&w.work, &["promote", "next", "--wait"]);
    cmd.args(w.endpoint_flags())
        .arg("--poll-ms=100")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let waiting = line.contains("westus3: waiting for http");
        seen.push(line);
        if waiting {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(seen.iter().any(|l| l.contains("committed")), "{seen:?}");
    assert_eq!(
        w.remote_images()["westus3"],
        CANDIDATE,
        "wave 1 was pushed before the kill"
    );
    w.clean(&w.work);
    // The region catches up; the rerun verifies wave 1 first, then promotes wave 2.
    w.flux.set_mode("westus3", Mode::Follow);
    let (stdout, _) = assert_exit(&w.promote(&["next", "--wait"]), 0);
    assert!(
        stdout.contains("checking that the earlier waves serve the candidate: westus3"),
        "{stdout}"
    );
    assert!(stdout.contains("wave 2 of 3"), "{stdout}");
    assert_eq!(
        w.remote_images(),
        World::images(&[
            ("westus3", CANDIDATE),
            ("centralus", CANDIDATE),
            ("eastus2", PREVIOUS)
        ])
    );
}

#[test]
fn bad_flags_and_files_exit_2_before_anything_happens() {
    let w = World::new();
    let head = w.sb.head(&w.work);
    for (args, says) in [
        (
            vec!["next", "--endpoint=mars=http://127.0.0.1:1"],
            "`mars` is not a catalogue region",
        ),
        (
            vec!["next", "--endpoint=westus3=http://10.0.0.1:80"],
            "not an https URL",
        ),
        (vec!["next", "--endpoint=nonsense"], "is not REGION=URL"),
        (
            vec!["next", "--endpoints=/nonexistent/endpoints.yaml"],
            "cannot read the endpoints file",
        ),
        (
            vec!["next", "--remote=upstream"],
            "no remote named `upstream`",
        ),
    ] {
        let mut c = w.sb.gen_command(&w.work, &["promote"]);
        c.args(&args);
        let o = c.output().unwrap();
        let (_, stderr) = assert_exit(&o, 2);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // An endpoints file with an unknown key.
    let file = w.sb.path().join("endpoints.yaml");
    std::fs::write(
        &file,
        "regions:\n  westus3:\n    pubic: http://127.0.0.1:1\n",
    )
    .unwrap();
    let o = w.sb.gen_cmd(
        &w.work,
        &[
            "promote",
            "next",
            &format!("--endpoints={}", file.display()),
        ],
    );
    let (_, stderr) = assert_exit(&o, 2);
    assert!(stderr.contains("endpoints.yaml"), "{stderr}");
    // Uncommitted catalogue edits: the state is what Git holds.
    git_support::edit_catalogue(&w.work, |c| c.replace("bakeSeconds: 2", "bakeSeconds: 3"));
    let (_, stderr) = assert_exit(&w.promote(&["next"]), 2);
    assert!(stderr.contains("uncommitted changes"), "{stderr}");
    assert_eq!(w.sb.head(&w.work), head);
}
