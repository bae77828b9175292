//! `gen commit --push` against a `git daemon` on 127.0.0.1: a remote that declines the update
//! (pre-receive hook) and a remote that moved on (non-fast-forward) are errors that say why.

use crate::git_support;

use git_support::{GitDaemon, Sandbox, assert_exit, edit_catalogue, seed_from_workspace};
use std::path::PathBuf;

/// A served bare repository `x.git` and a work repository whose `main` is pushed to it.
fn setup(sb: &Sandbox) -> (GitDaemon, PathBuf, PathBuf) {
    let bare = sb.init_bare("x");
    let daemon = GitDaemon::start(sb, &sb.path().join("served"));
    let work = sb.init_repo("work");
    seed_from_workspace(&work);
    sb.commit_all(&work, "seed");
    sb.git(&work, &["remote", "add", "origin", &daemon.url("x")]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    (daemon, bare, work)
}

#[test]
fn a_push_the_remote_declines_is_an_error_naming_the_ref_and_reason() {
    let sb = Sandbox::new();
    let (_daemon, bare, work) = setup(&sb);
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let remote_before = sb.rev(&bare, "refs/heads/main");

    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let (stdout, stderr) = assert_exit(&sb.gen_cmd(&work, &["commit", "--push"]), 2);
    assert!(
        stdout.contains("gen: render 2 regions"),
        "the commit is made first:\n{stdout}"
    );
    assert!(
        stderr.contains("the remote `origin` rejected refs/heads/main: pre-receive hook declined"),
        "{stderr}"
    );
    assert!(
        stderr.contains("remote: main is protected: open a pull request"),
        "{stderr}"
    );
    assert!(stderr.contains("help:"), "{stderr}");
    assert_eq!(
        sb.rev(&bare, "refs/heads/main"),
        remote_before,
        "the remote ref must not move"
    );
}

#[test]
fn a_non_fast_forward_push_is_an_error_that_says_so() {
    let sb = Sandbox::new();
    let (daemon, bare, work) = setup(&sb);
    // Someone else pushes first.
    let other = sb.path().join("other");
    sb.git(
        sb.path(),
        &["clone", "-q", &daemon.url("x"), other.to_str().unwrap()],
    );
    std::fs::write(other.join("README.md"), "someone else\n").unwrap();
    sb.commit_all(&other, "someone else's change");
    sb.git(&other, &["push", "-q", "origin", "main"]);
    let remote_before = sb.rev(&bare, "refs/heads/main");

    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let (_, stderr) = assert_exit(&sb.gen_cmd(&work, &["commit", "--push"]), 2);
    assert!(stderr.contains("push to `origin` failed"), "{stderr}");
    assert!(stderr.contains("non-fast-forward"), "{stderr}");
    assert!(stderr.contains("fetch, rebase"), "{stderr}");
    assert_eq!(sb.rev(&bare, "refs/heads/main"), remote_before);
}

#[test]
fn pushing_to_an_unknown_remote_is_a_clear_error() {
    let sb = Sandbox::new();
    let (_daemon, _bare, work) = setup(&sb);
    edit_catalogue(&work, |s| s);
    assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
    let head = sb.head(&work);
    let (_, stderr) = assert_exit(
        &sb.gen_cmd(&work, &["commit", "--push", "--remote", "upstream"]),
        2,
    );
    assert!(stderr.contains("no remote named `upstream`"), "{stderr}");
    assert_eq!(
        sb.head(&work),
        head,
        "nothing is committed when the push cannot happen"
    );
}

/// A remote that accepts the TCP connection and never says a word: the push must give up
/// after `GEN_GIT_PUSH_TIMEOUT_SECONDS`, with an error naming the remote and the variable,
/// exit 2, and the local commit kept. Tried for git:// and http:// (both plain TCP).
#[test]
fn a_push_to_a_silent_remote_times_out_with_a_clear_error() {
    use std::net::TcpListener;
    use std::time::{Duration, Instant};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept every connection and hold it open, silent, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
    });
    for (scheme, name) in [("git", "silent-git"), ("http", "silent-http")] {
        let sb = Sandbox::new();
        let work = sb.init_repo("work");
        seed_from_workspace(&work);
        sb.commit_all(&work, "seed");
        sb.git(
            &work,
            &[
                "remote",
                "add",
                name,
                &format!("{scheme}://127.0.0.1:{port}/x.git"),
            ],
        );
        assert_exit(&sb.gen_cmd(&work, &["render", "--all"]), 0);
        let head_before = sb.head(&work);
        let start = Instant::now();
        let mut cmd = sb.gen_command(&work, &["commit", "--push", "--remote", name]);
        cmd.env("GEN_GIT_PUSH_TIMEOUT_SECONDS", "2");
        let out = cmd.output().unwrap();
        let took = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{scheme}: {stderr}");
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(30),
            "{scheme}: gave up after {took:?}"
        );
        assert!(
            stderr.contains(&format!("push to `{name}`")) && stderr.contains("no answer for 2 s"),
            "{scheme}: {stderr}"
        );
        assert!(
            stderr.contains("GEN_GIT_PUSH_TIMEOUT_SECONDS"),
            "{scheme}: {stderr}"
        );
        assert_ne!(sb.head(&work), head_before, "the local commit is kept");
    }
}
