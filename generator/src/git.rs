//! The git plumbing `gen diff` and `gen commit` share (libgit2 through `git2`): opening the
//! repository, extracting a tree into a directory, signatures from the environment, and a push
//! that reports what the remote said.

use git2::{
    Cred, CredentialType, ObjectType, PushOptions, RemoteCallbacks, Repository, Signature, Tree,
    TreeWalkMode, TreeWalkResult,
};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{}: not inside a git repository: {source}\n  help: run gen from the repository's work tree, or pass --repo <dir>",
        path.display()
    )]
    Open {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("{}: the repository has no work tree (bare?)", path.display())]
    Bare { path: PathBuf },
    #[error(
        "cannot resolve `{reference}` to a commit: {message}\n  help: pass a branch, tag or commit that exists locally (in CI, fetch it first: `git fetch origin <branch>`)"
    )]
    BadRef { reference: String, message: String },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no author identity: set user.name and user.email in git config, or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL (and GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL)"
    )]
    NoIdentity,
    #[error(
        "HEAD is not on a branch (detached or unborn): cannot push\n  help: check out the branch to push, e.g. `git switch main`"
    )]
    Detached,
    #[error("no remote named `{0}`\n  help: `git remote -v` lists them; pass --remote <name>")]
    NoRemote(String),
    #[error("push to `{remote}` failed: {message}{}", remote_messages(messages))]
    Push {
        remote: String,
        message: String,
        messages: Vec<String>,
    },
    #[error(
        "the remote `{remote}` rejected {reference}: {reason}{}\n  help: {}",
        remote_messages(messages),
        reject_help(reason)
    )]
    Rejected {
        remote: String,
        reference: String,
        reason: String,
        messages: Vec<String>,
    },
    #[error(
        "push to `{remote}` ({url}) got no answer for {seconds} s and was abandoned\n  help: check that the remote host is reachable and serves git; raise {PUSH_TIMEOUT_ENV} if the connection is just slow (the commit is made locally; push it later with `git push`)"
    )]
    PushTimeout {
        remote: String,
        url: String,
        seconds: u64,
    },
}

/// Environment variable: how many seconds a push may go without any progress from the remote
/// (default 60). A remote that accepts the connection and never answers would otherwise
/// hang `gen commit --push` (and a CI job) forever.
pub const PUSH_TIMEOUT_ENV: &str = "GEN_GIT_PUSH_TIMEOUT_SECONDS";

fn push_timeout() -> std::time::Duration {
    std::env::var(PUSH_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs,
        )
}

fn remote_messages(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        let lines: Vec<String> = messages
            .iter()
            .map(|m| format!("\n  remote: {m}"))
            .collect();
        lines.concat()
    }
}

fn reject_help(reason: &str) -> &'static str {
    if reason.contains("fast-forward") || reason.contains("fetch first") {
        "the remote branch moved on: fetch, rebase onto it, re-render and commit again"
    } else {
        "the remote (a hook or branch protection) refused the update; see its message above"
    }
}

/// Opens the repository containing `path` and returns it with its work tree root.
pub fn open(path: &Path) -> Result<(Repository, PathBuf), Error> {
    let repo = Repository::discover(path).map_err(|source| Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Bare {
            path: path.to_path_buf(),
        })?
        .to_path_buf();
    Ok((repo, workdir))
}

/// The tree of the commit `reference` names (`HEAD`, `origin/main`, a SHA…).
pub fn resolve_tree<'r>(repo: &'r Repository, reference: &str) -> Result<Tree<'r>, Error> {
    let bad = |e: git2::Error| Error::BadRef {
        reference: reference.to_string(),
        message: e.message().to_string(),
    };
    let object = repo.revparse_single(reference).map_err(bad)?;
    let commit = object.peel_to_commit().map_err(bad)?;
    Ok(commit.tree()?)
}

/// Writes every blob of `tree` under the top-level directories `tops` into `dest`, returning
/// the repository-relative paths written with their blob ids (a cheap content fingerprint).
/// Symbolic links are written as regular files holding their target; submodules are skipped.
pub fn extract_tree(
    repo: &Repository,
    tree: &Tree<'_>,
    tops: &[&str],
    dest: &Path,
) -> Result<BTreeMap<String, String>, Error> {
    let mut written = BTreeMap::new();
    for (rel, (id, content)) in read_tree(repo, tree, tops)? {
        let path = dest.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, &content).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        written.insert(rel, id);
    }
    Ok(written)
}

/// The blobs under `tops` of `tree`: repository-relative path → (blob id, content), in memory.
pub fn read_tree(
    repo: &Repository,
    tree: &Tree<'_>,
    tops: &[&str],
) -> Result<BTreeMap<String, (String, Vec<u8>)>, Error> {
    let mut entries: Vec<(String, git2::Oid)> = Vec::new();
    for top in tops {
        let Some(entry) = tree.get_name(top) else {
            continue;
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id())?;
                sub.walk(TreeWalkMode::PreOrder, |root, e| {
                    if e.kind() == Some(ObjectType::Blob) {
                        let name = e.name().unwrap_or_default();
                        entries.push((format!("{top}/{root}{name}"), e.id()));
                    }
                    TreeWalkResult::Ok
                })?;
            }
            Some(ObjectType::Blob) => entries.push(((*top).to_string(), entry.id())),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for (rel, id) in entries {
        let blob = repo.find_blob(id)?;
        out.insert(rel, (id.to_string(), blob.content().to_vec()));
    }
    Ok(out)
}

/// Author and committer: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL` and
/// `GIT_COMMITTER_NAME`/`GIT_COMMITTER_EMAIL` when set (as git does; libgit2's
/// `Repository::signature` reads only the config), else `user.name`/`user.email`.
pub fn signatures(repo: &Repository) -> Result<(Signature<'static>, Signature<'static>), Error> {
    let config = repo.config()?;
    let from_config = |key: &str| config.get_string(key).ok().filter(|v| !v.is_empty());
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let pick = |name_var: &str, email_var: &str| -> Result<Signature<'static>, Error> {
        let name = env(name_var).or_else(|| from_config("user.name"));
        let email = env(email_var).or_else(|| from_config("user.email"));
        match (name, email) {
            (Some(n), Some(e)) => Ok(Signature::now(&n, &e)?),
            _ => Err(Error::NoIdentity),
        }
    };
    let author = pick("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL")?;
    let committer = pick("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
        .or_else(|_| Ok::<_, Error>(author.to_owned()))?;
    Ok((author, committer))
}

/// The branch HEAD is on, e.g. `main`.
pub fn current_branch(repo: &Repository) -> Result<String, Error> {
    let head = repo.head().map_err(|_| Error::Detached)?;
    if !head.is_branch() {
        return Err(Error::Detached);
    }
    head.shorthand()
        .map(str::to_string)
        .map_err(|_| Error::Detached)
}

/// Environment variable holding the token for https pushes (GitHub Actions' `GITHUB_TOKEN`).
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";

/// Pushes `refs/heads/<branch>` to the same name on `remote_name`.
///
/// Credentials: https uses `GITHUB_TOKEN` as the password of `x-access-token`; ssh asks the
/// agent; `file://` and `git://` need none. A reference the remote refuses (non-fast-forward,
/// a hook or protection declining) is reported by libgit2 only through the
/// `push_update_reference` callback; it becomes [`Error::Rejected`] naming the ref and reason.
///
/// The push runs on its own thread (on its own handle of the repository) under a watchdog: when
/// the remote sends nothing for [`PUSH_TIMEOUT_ENV`] seconds (no credential request, no
/// progress, no answer) it is abandoned with [`Error::PushTimeout`]. libgit2 offers no way to
/// cancel a blocked socket read from outside, so the thread is left behind; the process exits
/// right after.
pub fn push(repo: &Repository, remote_name: &str, branch: &str) -> Result<(), Error> {
    push_within(repo, remote_name, branch, push_timeout())
}

fn push_within(
    repo: &Repository,
    remote_name: &str,
    branch: &str,
    idle_limit: std::time::Duration,
) -> Result<(), Error> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    let url = repo
        .find_remote(remote_name)
        .map_err(|_| Error::NoRemote(remote_name.to_string()))?
        .url()
        .map(redact)
        .unwrap_or_default();
    let git_dir = repo.path().to_path_buf();
    let start = Instant::now();
    // Milliseconds since `start` of the last sign of life from the remote.
    let last_activity = Arc::new(AtomicU64::new(0));
    let activity = Arc::clone(&last_activity);
    let (remote, branch_owned) = (remote_name.to_string(), branch.to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let touch = || activity.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        let result = Repository::open(&git_dir)
            .map_err(Error::from)
            .and_then(|repo| push_now(&repo, &remote, &branch_owned, &touch));
        let _ = tx.send(result);
    });
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => return result,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Push {
                    remote: remote_name.to_string(),
                    message: "the push thread stopped without a result".into(),
                    messages: Vec::new(),
                });
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let idle = start
                    .elapsed()
                    .saturating_sub(Duration::from_millis(last_activity.load(Ordering::Relaxed)));
                if idle >= idle_limit {
                    return Err(Error::PushTimeout {
                        remote: remote_name.to_string(),
                        url,
                        seconds: idle_limit.as_secs().max(1),
                    });
                }
            }
        }
    }
}

fn push_now(
    repo: &Repository,
    remote_name: &str,
    branch: &str,
    touch: &dyn Fn(),
) -> Result<(), Error> {
    let mut remote = repo
        .find_remote(remote_name)
        .map_err(|_| Error::NoRemote(remote_name.to_string()))?;
    let rejected: RefCell<Vec<(String, String)>> = RefCell::new(Vec::new());
    let messages: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let attempts = Cell::new(0u32);

    let remote_url = remote.url().unwrap_or_default().to_string();
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(|url, username, allowed| {
        touch();
        attempts.set(attempts.get() + 1);
        if attempts.get() > 3 {
            return Err(git2::Error::from_str(&format!(
                "authentication failed: the credentials were refused by {}\n  help: check that {TOKEN_ENV} is a token allowed to push to this repository (and not expired)",
                redact(url)
            )));
        }
        credentials(url, &remote_url, username, allowed)
    });
    callbacks.push_update_reference(|reference, status| {
        touch();
        if let Some(reason) = status {
            rejected
                .borrow_mut()
                .push((reference.to_string(), reason.to_string()));
        }
        Ok(())
    });
    callbacks.push_transfer_progress(|_, _, _| touch());
    callbacks.pack_progress(|_, _, _| touch());
    callbacks.sideband_progress(|data| {
        touch();
        let text = String::from_utf8_lossy(data);
        for line in text.split(['\n', '\r']) {
            let line = line.trim();
            if !line.is_empty() {
                messages.borrow_mut().push(line.to_string());
            }
        }
        true
    });
    let mut options = PushOptions::new();
    options.remote_callbacks(callbacks);
    // A redirect to another host must never receive the token.
    options.follow_redirects(git2::RemoteRedirect::None);
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let result = remote.push(&[refspec.as_str()], Some(&mut options));
    drop(options);
    let messages = messages.into_inner();
    if let Err(e) = result {
        return Err(Error::Push {
            remote: remote_name.to_string(),
            message: redact(&push_error_message(&e)),
            messages: messages.iter().map(|m| redact(m)).collect(),
        });
    }
    if let Some((reference, reason)) = rejected.into_inner().into_iter().next() {
        return Err(Error::Rejected {
            remote: remote_name.to_string(),
            reference,
            reason,
            messages,
        });
    }
    Ok(())
}

fn push_error_message(e: &git2::Error) -> String {
    let msg = e.message().to_string();
    if e.code() == git2::ErrorCode::NotFastForward
        || msg.contains("non-fastforwardable")
        || msg.contains("not present locally")
    {
        format!(
            "{msg} (non-fast-forward: the remote branch has commits this one does not)\n  help: fetch, rebase onto the remote branch, re-render and commit again"
        )
    } else {
        msg
    }
}

/// `scheme://user:secret@host/...` with the userinfo replaced by `***`, everywhere in `text`:
/// a token in a remote URL must never reach a message.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&tail[at..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `(scheme, host)` of a URL, host lowercased and without userinfo or port.
fn scheme_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
}

/// May the token go to `url`? Only over https (or plain http to loopback, for tests), and
/// only to the host of the remote's own URL.
pub fn token_allowed(url: &str, remote_url: &str) -> bool {
    let (Some((scheme, host)), Some((_, remote_host))) =
        (scheme_host(url), scheme_host(remote_url))
    else {
        return false;
    };
    let transport_ok = scheme == "https" || (scheme == "http" && is_loopback(&host));
    transport_ok && !host.is_empty() && host == remote_host
}

fn credentials(
    url: &str,
    remote_url: &str,
    username: Option<&str>,
    allowed: CredentialType,
) -> Result<Cred, git2::Error> {
    if url.starts_with("https://") || url.starts_with("http://") {
        if !token_allowed(url, remote_url) {
            return Err(git2::Error::from_str(&format!(
                "{} asks for credentials, but {TOKEN_ENV} is sent only over https (or http to loopback) and only to the remote's own host ({})\n  help: use an https remote URL",
                redact(url),
                redact(remote_url)
            )));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
            && let Ok(token) = std::env::var(TOKEN_ENV)
            && !token.is_empty()
        {
            return Cred::userpass_plaintext("x-access-token", &token);
        }
        return Err(git2::Error::from_str(&format!(
            "{} needs credentials: set {TOKEN_ENV} to a token allowed to push",
            redact(url)
        )));
    }
    if allowed.contains(CredentialType::SSH_KEY) {
        return Cred::ssh_key_from_agent(username.unwrap_or("git"));
    }
    if allowed.contains(CredentialType::USERNAME) {
        return Cred::username(username.unwrap_or("git"));
    }
    Err(git2::Error::from_str(&format!(
        "{}: no supported credential type (https token via {TOKEN_ENV}, or ssh agent)",
        redact(url)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_redacted_everywhere() {
        assert_eq!(
            redact(
                "push to https://x-access-token:ghp_SECRET@github.com/o/r.git failed; see http://u:p@h"
            ),
            "push to https://***@github.com/o/r.git failed; see http://***@h"
        );
        assert_eq!(redact("ssh://git@host/repo"), "ssh://***@host/repo");
        assert_eq!(redact("https://github.com/o/r"), "https://github.com/o/r");
        assert!(!redact("remote: https://a:tok@h/x").contains("tok"));
    }

    #[test]
    fn the_token_goes_only_over_https_or_loopback_http_and_only_to_the_remote_host() {
        let remote = "https://github.com/o/r.git";
        assert!(token_allowed(
            "https://github.com/o/r.git/info/refs",
            remote
        ));
        assert!(!token_allowed("https://evil.example/o/r.git", remote));
        assert!(!token_allowed(
            "http://github.com/o/r.git",
            "http://github.com/o/r.git"
        ));
        assert!(token_allowed(
            "http://127.0.0.1:9418/r",
            "http://127.0.0.1:9418/r"
        ));
        assert!(token_allowed("http://[::1]:80/r", "http://[::1]:80/r"));
        assert!(!token_allowed("http://127.0.0.1/r", "http://10.0.0.1/r"));
        assert!(!token_allowed("https://GITHUB.com.evil/r", remote));
    }
}
