//! The catalogue's `monitoring` section as the inputs of the rules: one conversion, shared by
//! `gen` (rule files for review) and `infra` (the rule groups it creates).

use crate::Objectives;
use catalogue::CatalogueSpec;

/// Process restarts within 15 minutes that count as crash-looping.
pub const RESTARTS_PER_15M: u32 = 3;

/// The objectives of the catalogue's `monitoring` section; `None` when the section is absent.
/// Detection time is Traffic Manager's: `(toleratedFailures + 1) × interval + timeout`.
pub fn objectives(c: &CatalogueSpec) -> Option<Objectives> {
    let m = c.monitoring.as_ref()?;
    let probe = &c.traffic_manager.monitor;
    Some(Objectives {
        availability_percent: m.objectives.availability_percent,
        latency_p99_seconds: f64::from(m.objectives.latency_p99_milliseconds) / 1000.0,
        detection_seconds: (u64::from(probe.tolerated_failures) + 1)
            * u64::from(probe.interval_seconds)
            + u64::from(probe.timeout_seconds),
        restarts_per_15m: RESTARTS_PER_15M,
    })
}

/// Where each alert's runbook link points: `docs/alerts.md` on the GitOps branch of the
/// repository (an https GitHub-style URL; other hosts get the same path scheme).
pub fn runbook_url(c: &CatalogueSpec) -> String {
    let repo = c.gitops.repo.trim_end_matches('/').trim_end_matches(".git");
    let web = match repo.strip_prefix("ssh://git@") {
        Some(rest) => format!("https://{}", rest.replacen(':', "/", 1)),
        None => match repo.strip_prefix("git@") {
            Some(rest) => format!("https://{}", rest.replacen(':', "/", 1)),
            None => repo.to_string(),
        },
    };
    format!("{web}/blob/{}/docs/alerts.md", c.gitops.branch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const FIXTURE: &str = include_str!("../../catalogue/tests/fixtures/catalogue.yaml");

    fn spec(extra: &str) -> CatalogueSpec {
        let source = format!("{FIXTURE}\n{extra}");
        catalogue::parse_spec(Path::new("catalogue.yaml"), &source)
            .expect("fixture parses")
            .0
    }

    #[test]
    fn no_section_no_objectives() {
        assert_eq!(objectives(&spec("")), None);
    }

    #[test]
    fn objectives_come_from_the_section_and_the_probe_settings() {
        let c = spec(
            "monitoring:\n  resourceGroup: rg\n  workspace: amw\n  objectives:\n    availabilityPercent: 99.5\n    latencyP99Milliseconds: 250\n",
        );
        let o = objectives(&c).unwrap();
        assert_eq!(o.availability_percent, 99.5);
        assert_eq!(o.latency_p99_seconds, 0.25);
        let m = &c.traffic_manager.monitor;
        let expected = (u64::from(m.tolerated_failures) + 1) * u64::from(m.interval_seconds)
            + u64::from(m.timeout_seconds);
        assert_eq!(o.detection_seconds, expected);
        assert_ne!(
            o.detection_seconds,
            c.traffic_manager.worst_case_failover_seconds()
        );
        o.check().unwrap();
    }

    #[test]
    fn runbook_links_point_at_the_branch() {
        let c = spec("");
        let url = runbook_url(&c);
        assert!(url.starts_with("https://"), "{url}");
        assert!(
            url.ends_with(&format!("/blob/{}/docs/alerts.md", c.gitops.branch)),
            "{url}"
        );
        assert!(!url.contains(".git/"), "{url}");
    }
}
