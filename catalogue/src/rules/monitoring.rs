//! Family `catalogue/monitoring`: the objectives the alert rules are derived from, who the
//! action group notifies, and the Azure names and scrape settings `gen` and `infra` use.

use crate::model::{CatalogueSpec, Monitoring};
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};

const FAMILY: &str = "catalogue/monitoring";

/// The fast-burn alert fires above 14.4 × the error budget; that must be a reachable ratio.
const FAST_BURN_RATE: f64 = 14.4;
/// The service's largest finite latency bucket (`service/src/metrics.rs` `BUCKETS`, 1 s):
/// `histogram_quantile` returns at most this bound, so a p99 objective at or above it never
/// fires.
const LARGEST_FINITE_BUCKET_MILLISECONDS: u32 = 1_000;
/// Azure's limits per action group (subscription and service limits, "Action groups").
const MAX_EMAIL_RECEIVERS: usize = 1_000;
const MAX_WEBHOOK_RECEIVERS: usize = 10;
/// The shortest window the rules take a `rate()` over, in seconds (5m).
const SHORTEST_WINDOW_SECONDS: u32 = 300;

fn section(c: &CatalogueSpec) -> Option<&Monitoring> {
    c.monitoring.as_ref()
}

/// Traffic Manager's detection time: `(toleratedFailures + 1) × interval + timeout`.
fn detection_seconds(c: &CatalogueSpec) -> u64 {
    let m = &c.traffic_manager.monitor;
    (u64::from(m.tolerated_failures) + 1) * u64::from(m.interval_seconds)
        + u64::from(m.timeout_seconds)
}

pub(super) const MONITORING_AVAILABILITY: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-availability",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the availability objective is a percentage strictly between 93.06 and 100",
        why: "100 % leaves no error budget (every error pages), and below 93.06 % the fast-burn threshold 14.4 x budget exceeds 1, so no error rate can ever reach it",
        fix: "use an objective such as 99.9 (a 0.1 % error budget)",
    },
    check: monitoring_availability,
};

fn monitoring_availability(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    let a = m.objectives.availability_percent;
    let at = "monitoring.objectives.availabilityPercent";
    if !(a.is_finite() && a > 0.0 && a < 100.0) {
        sink.report(
            at,
            format!("availability objective {a} % is not strictly between 0 and 100"),
            "use e.g. 99.9: 100 leaves no error budget at all",
        );
        return;
    }
    let fastest = FAST_BURN_RATE * (100.0 - a) / 100.0;
    if fastest > 1.0 {
        sink.report(
            at,
            format!(
                "with {a} % the fast-burn alert needs an error ratio of {fastest:.3}, above 1: it can never fire"
            ),
            "use an objective of at least 93.06 %, e.g. 99 or 99.9",
        );
    }
}

pub(super) const MONITORING_LATENCY: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-latency",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the p99 latency objective is between 1 ms and 999 ms",
        why: "a 0 ms bound fires forever, and the service's latency histogram ends at 1 s: its p99 never reads above 1 s, so a bound of 1 s or more never fires",
        fix: "use the p99 your users accept, e.g. `latencyP99Milliseconds: 300`",
    },
    check: monitoring_latency,
};

fn monitoring_latency(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    let l = m.objectives.latency_p99_milliseconds;
    if l == 0 || l >= LARGEST_FINITE_BUCKET_MILLISECONDS {
        sink.report(
            "monitoring.objectives.latencyP99Milliseconds",
            format!(
                "latency bound {l} ms is not between 1 and {} ms: `histogram_quantile` over the service's buckets (the last finite one is 1 s) never reads more than 1 s",
                LARGEST_FINITE_BUCKET_MILLISECONDS - 1
            ),
            "use e.g. 300",
        );
    }
}

pub(super) const MONITORING_RECEIVERS: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-receivers",
        family: FAMILY,
        severity: Severity::Error,
        summary: "someone is notified when alerts or the failover alert are on, no receiver is listed twice, at most 1000 e-mails and 10 webhooks",
        why: "an alert that notifies nobody is the same as no alert: the failover goes unnoticed",
        fix: "add `receivers.emails: [oncall@example.com]` or a webhook, or set `alerts: false` and `failoverAlert: false`",
    },
    check: monitoring_receivers,
};

fn monitoring_receivers(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    let r = &m.receivers;
    if (m.alerts || m.failover_alert) && r.emails.is_empty() && r.webhooks.is_empty() {
        sink.report(
            "monitoring.receivers",
            "alerts are on but no e-mail address or webhook receives them",
            "add `receivers: { emails: [oncall@example.com] }` or a webhook URL",
        );
    }
    for (kind, list, limit) in [
        ("emails", &r.emails, MAX_EMAIL_RECEIVERS),
        ("webhooks", &r.webhooks, MAX_WEBHOOK_RECEIVERS),
    ] {
        if list.len() > limit {
            sink.report(
                format!("monitoring.receivers.{kind}[{limit}]"),
                format!(
                    "{} {kind} listed; an Azure action group holds at most {limit}",
                    list.len()
                ),
                "notify a distribution list or one incident-management webhook instead of each person",
            );
        }
        // Lower-cased as Unicode, not ASCII: `Ünï@bücher.de` and `ünï@bücher.de` are one inbox.
        let folded: Vec<String> = list.iter().map(|v| v.to_lowercase()).collect();
        for (i, v) in list.iter().enumerate() {
            if folded[..i].contains(&folded[i]) {
                sink.report(
                    format!("monitoring.receivers.{kind}[{i}]"),
                    format!("`{}` is listed twice", shown(v)),
                    "list each receiver once (Azure names receivers uniquely)",
                );
            }
        }
    }
}

pub(super) const MONITORING_EMAIL: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-email",
        family: FAMILY,
        severity: Severity::Error,
        summary: "each receiver e-mail is one address: local@domain.tld, no spaces, at most 254 characters",
        why: "Azure accepts a malformed address and then never delivers the alert",
        fix: "write a single address such as `oncall@example.com` (no display name, no list)",
    },
    check: monitoring_email,
};

/// Why `s` is not a deliverable single address, or `None` when it is one.
pub(crate) fn email_problem(s: &str) -> Option<&'static str> {
    if s.len() > 254 {
        return Some("is longer than 254 characters");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("has spaces or control characters");
    }
    if s.contains([',', ';', '<', '>', '"', '(', ')', '[', ']', '\\']) {
        return Some("is not one plain address (a list, a display name or a quoted part)");
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Some("has no `@`");
    };
    if domain.contains('@') {
        return Some("has more than one `@`");
    }
    if local.is_empty() || local.len() > 64 {
        return Some("has an empty (or over 64 characters) part before the `@`");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("has a misplaced dot before the `@`");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Some("has a domain without a dot");
    }
    if !labels.iter().all(|l| host_label_ok(l)) {
        return Some("has a domain that is not a host name");
    }
    None
}

fn monitoring_email(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    for (i, e) in m.receivers.emails.iter().enumerate() {
        if let Some(problem) = email_problem(e) {
            sink.report(
                format!("monitoring.receivers.emails[{i}]"),
                format!("e-mail `{}` {problem}", shown(e)),
                "write one address such as `oncall@example.com`",
            );
        }
    }
}

pub(super) const MONITORING_WEBHOOK: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-webhook",
        family: FAMILY,
        severity: Severity::Error,
        summary: "each receiver webhook is an https:// URL with a host and no credentials, at most 2048 characters",
        why: "alert payloads must not travel in clear text, and a password in the URL lands in the repository and in every plan",
        fix: "use e.g. `https://hooks.example.com/alerts`; keep secrets out of the catalogue",
    },
    check: monitoring_webhook,
};

/// Why `url` is not a credential-free https URL, or `None` when it is one.
pub(crate) fn webhook_problem(url: &str) -> Option<&'static str> {
    if url.len() > 2048 {
        return Some("is longer than 2048 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("has spaces or control characters");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("is not an https:// URL");
    };
    if !scheme.eq_ignore_ascii_case("https") {
        return Some("does not use https:// (alert payloads must be encrypted in transit)");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Some("carries credentials before the host");
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => authority.split_at(i + 1),
            None => return Some("has an unclosed `[` in the host"),
        }
    } else {
        authority.split_at(authority.find(':').unwrap_or(authority.len()))
    };
    if !port.is_empty() {
        let digits = port.strip_prefix(':').unwrap_or("");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some("has a port that is not a number");
        }
        if !digits.parse::<u16>().is_ok_and(|p| p > 0) {
            return Some("has a port outside 1-65535");
        }
    }
    if host.is_empty() || host == "[]" {
        return Some("has no host");
    }
    if !host.starts_with('[') && !host.split('.').all(host_label_ok) {
        return Some("has a host that is not a host name (empty label, leading or trailing `-`)");
    }
    None
}

/// One dot-separated label of a host name (non-ASCII allowed: IDN names are written as-is).
fn host_label_ok(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && !l.starts_with('-')
        && !l.ends_with('-')
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
}

fn monitoring_webhook(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    for (i, w) in m.receivers.webhooks.iter().enumerate() {
        if let Some(problem) = webhook_problem(w) {
            sink.report(
                format!("monitoring.receivers.webhooks[{i}]"),
                format!("webhook `{}` {problem}", shown(w)),
                "use e.g. `https://hooks.example.com/alerts`",
            );
        }
    }
}

pub(super) const MONITORING_NAMES: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-names",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the workspace is 4-44 letters, digits and hyphens, starting and ending alphanumeric; the resource group is an ARM resource group name",
        why: "ARM rejects other names, after the plan has been reviewed",
        fix: "use e.g. `workspace: amw-contoso-ha` and `resourceGroup: rg-ha-monitoring`",
    },
    check: monitoring_names,
};

fn monitoring_names(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    let w = &m.workspace;
    let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    let workspace_ok = (4..=44).contains(&w.len())
        && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && alnum(w.as_bytes().first())
        && alnum(w.as_bytes().last());
    if !workspace_ok {
        sink.report(
            "monitoring.workspace",
            format!(
                "workspace name `{}` is not 4-44 letters, digits and hyphens starting and ending with a letter or digit",
                shown(w)
            ),
            "use e.g. `amw-contoso-ha`",
        );
    }
    if !super::is_azure_name(&m.resource_group, 90) {
        sink.report(
            "monitoring.resourceGroup",
            format!(
                "resource group `{}` is not 1-90 letters, digits and `-_.()` (not ending in `.`)",
                shown(&m.resource_group)
            ),
            "use e.g. `rg-ha-monitoring`",
        );
    }
}

pub(super) const MONITORING_SCRAPE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "monitoring-scrape",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the scrape interval is 10 s or more and at most min(150 s, Traffic Manager's detection time); alerts need scraping on",
        why: "the 5-minute rates need two samples per window, a readiness sample older than the detection time hides a failover, and rules over series nobody scrapes report every region down",
        fix: "use `scrapeIntervalSeconds: 30` (or the detection time if it is shorter), and keep `scrape: true` while `alerts: true`",
    },
    check: monitoring_scrape,
};

fn monitoring_scrape(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let Some(m) = section(c) else { return };
    let detect = detection_seconds(c);
    let max = u64::from(SHORTEST_WINDOW_SECONDS / 2).min(detect);
    let s = m.scrape_interval_seconds;
    if !(10..=max).contains(&u64::from(s)) {
        sink.report(
            "monitoring.scrapeIntervalSeconds",
            format!(
                "scrape interval {s} s is outside 10..={max} s (half the 5m rate window, and Traffic Manager's detection time {detect} s)"
            ),
            format!("use a value in 10..={max}, e.g. {}", 30.min(max)),
        );
    }
    if m.alerts && !m.scrape {
        sink.report(
            "monitoring.scrape",
            "alerts are on but nothing scrapes the service: every rule would read no data",
            "set `scrape: true`, or `alerts: false`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_everyday_grammar() {
        for ok in [
            "oncall@example.com",
            "a.b+ops@sub.example.co.uk",
            "x@a-b.io",
        ] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        for bad in [
            "oncall",
            "@example.com",
            "a@@example.com",
            "a@b@example.com",
            "a@localhost",
            "a b@example.com",
            "a@example..com",
            "a@-example.com",
            ".a@example.com",
            "a..b@example.com",
            "Ops <a@example.com>",
            "a@example.com,b@example.com",
            "a@example.com.",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(email_problem(&long).is_some());
        let longest_local = format!("{}@example.com", "a".repeat(64));
        assert_eq!(email_problem(&longest_local), None);
    }

    #[test]
    fn webhooks_are_https_without_credentials() {
        // An empty port is named as such, not as a number out of range.
        assert_eq!(
            webhook_problem("https://hooks.example.com:/a"),
            Some("has a port that is not a number")
        );
        for ok in [
            "https://hooks.example.com/alerts",
            "HTTPS://hooks.example.com",
            "https://hooks.example.com:8443/a?x=1",
            "https://[::1]:8443/a",
            "https://hooks.example.com:65535/a",
            "https://10.0.0.1:443/a",
        ] {
            assert_eq!(webhook_problem(ok), None, "{ok}");
        }
        for bad in [
            "http://hooks.example.com/alerts",
            "ftp://hooks.example.com",
            "hooks.example.com/alerts",
            "https://user:pw@hooks.example.com/",
            "https://token@hooks.example.com/",
            "https:///alerts",
            "https://hooks.example.com:x/",
            "https://hooks.example.com/a b",
            "https://[::1/a",
            "https://[]:80/a",
            "https://hooks.example.com:99999/a",
            "https://hooks.example.com:0/a",
            "https://-hooks-.example.com/a",
            "https://hooks..example.com/a",
            "https://hooks.example.com./a",
        ] {
            assert!(webhook_problem(bad).is_some(), "{bad}");
        }
    }
}
