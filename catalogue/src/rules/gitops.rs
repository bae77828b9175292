//! Family `catalogue/gitops`: the repository and branch every cluster pulls.

use crate::model::CatalogueSpec;
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};

const FAMILY: &str = "catalogue/gitops";

pub(super) const GITOPS_SOURCE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "gitops-source",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the GitOps repo is an https or ssh URL with no credentials, query or fragment; intervals are positive",
        why: "Flux cannot pull from anything else, and a credential in the URL lands in every rendered file and log",
        fix: "use e.g. `https://github.com/contoso/ha-gitops` or `ssh://git@github.com/contoso/ha-gitops`; credentials belong in the cluster",
    },
    check: gitops_source,
};

/// Why `url` is not a credential-free repository URL, or `None` when it is one.
pub(super) fn repo_url_problem(url: &str) -> Option<&'static str> {
    if url.len() > 2048 {
        return Some("is longer than 2048 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("has spaces or control characters");
    }
    if url.contains(['?', '#']) {
        return Some("has a query or fragment (a place for tokens such as `?access_token=`)");
    }
    let (authority, path) = if let Some(rest) = url.strip_prefix("https://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return Some("carries credentials before the host");
        }
        (authority, path)
    } else if let Some(rest) = url.strip_prefix("ssh://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some((user, _)) = authority.rsplit_once('@')
            && (user.is_empty() || user.contains(':'))
        {
            return Some("carries a password in the user part");
        }
        (authority.rsplit('@').next().unwrap_or(""), path)
    } else if !url.contains("://")
        && let Some((user_host, path)) = url.split_once(':')
        && let Some((user, host)) = user_host.split_once('@')
    {
        // scp-like `git@github.com:contoso/repo`
        if user.is_empty() {
            return Some("has an empty user part");
        }
        (host, path)
    } else {
        return Some("is not an https://, ssh:// or git@host: URL");
    };
    let host = authority.split(':').next().unwrap_or("");
    if host.is_empty() || path.trim_matches('/').is_empty() {
        return Some("has no host or no repository path");
    }
    None
}

fn gitops_source(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let g = &c.gitops;
    if let Some(problem) = repo_url_problem(&g.repo) {
        // Never echo the URL: it may hold the very credential we refuse.
        sink.report(
            "gitops.repo",
            format!("the repository URL {problem}"),
            "use e.g. `https://github.com/contoso/ha-gitops`; credentials belong in the cluster, never in the catalogue",
        );
    }
    for (field, v) in [
        ("sourceIntervalSeconds", g.source_interval_seconds),
        (
            "kustomizationIntervalSeconds",
            g.kustomization_interval_seconds,
        ),
        ("timeoutSeconds", g.timeout_seconds),
    ] {
        if v == 0 {
            sink.report(
                format!("gitops.{field}"),
                "0 seconds",
                "use a positive number of seconds",
            );
        }
    }
}

pub(super) const GIT_REF_FORMAT: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "git-ref-format",
        family: FAMILY,
        severity: Severity::Error,
        summary: "`gitops.branch` is a branch name git accepts (`git check-ref-format --branch`)",
        why: "Flux and `gen commit` cannot follow or push a branch git refuses; `../../etc` would name a path",
        fix: "use a plain branch name such as `main` or `release/v2`",
    },
    check: git_ref_format,
};

/// Why `branch` is not a valid branch name, or `None` (git-check-ref-format rules).
pub(super) fn branch_problem(branch: &str) -> Option<&'static str> {
    if branch.is_empty() {
        return Some("is empty");
    }
    if branch.starts_with('-') {
        return Some("starts with `-`");
    }
    if branch == "@" || branch == "HEAD" {
        return Some("is a reserved name");
    }
    if branch
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f || b" ~^:?*[\\".contains(&b))
    {
        return Some("has a space, a control character or one of `~^:?*[\\`");
    }
    if branch.contains("..") || branch.contains("@{") {
        return Some("contains `..` or `@{`");
    }
    if branch.ends_with('.') {
        return Some("ends with `.`");
    }
    for component in branch.split('/') {
        if component.is_empty() {
            return Some("has an empty path component (leading, trailing or double `/`)");
        }
        if component.starts_with('.') || component.ends_with(".lock") {
            return Some("has a component starting with `.` or ending with `.lock`");
        }
        // Each component is a file name under .git/refs/heads.
        if component.len() > 255 {
            return Some("has a component longer than 255 bytes");
        }
    }
    None
}

fn git_ref_format(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    if let Some(problem) = branch_problem(&c.gitops.branch) {
        sink.report(
            "gitops.branch",
            format!(
                "`{}` {problem}: git refuses it as a branch",
                shown(&c.gitops.branch)
            ),
            "use the branch the clusters follow, e.g. `main`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_urls_without_credentials() {
        for ok in [
            "https://github.com/contoso/ha-gitops",
            "https://host:8443/a/b.git",
            "ssh://git@github.com/contoso/ha-gitops",
            "ssh://host/repo",
            "git@github.com:contoso/ha-gitops.git",
            &format!("https://github.com/{}", "a".repeat(2048 - 19)),
        ] {
            assert_eq!(repo_url_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "http://github.com/contoso/x",
            "https://user:secret@github.com/contoso/x",
            "https://token@github.com/contoso/x",
            "https://github.com/contoso/x?access_token=abc",
            "https://github.com/contoso/x#frag",
            "ssh://git:x@github.com/contoso/x",
            "ssh://@github.com/contoso/x",
            "https://github.com",
            "https://github.com/",
            "https:///path",
            "ssh://git@/path",
            "@github.com:contoso/x",
            "git@github.com:",
            "file:///tmp/repo",
            "https://github.com/a b",
            &format!("https://github.com/{}", "a".repeat(2030)),
        ] {
            assert!(repo_url_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn branch_names_follow_git_check_ref_format() {
        let longest = "a".repeat(255);
        for ok in ["main", "release/v2", "a.b", "feature-x_1", "v1.0", &longest] {
            assert_eq!(branch_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "-main",
            "@",
            "HEAD",
            "../../etc",
            "main..dev",
            "main.lock",
            "a/.b",
            ".a",
            "a/",
            "/a",
            "a//b",
            "a.",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[b",
            "a\\b",
            "a@{1}",
            "a\u{7f}",
            "a\tb",
            &"a".repeat(256),
            &format!("a/{}", "b".repeat(256)),
        ] {
            assert!(branch_problem(bad).is_some(), "{bad:?}");
        }
    }
}
