//! Shared by the catalogue's integration tests: the frozen fixture and edits of it.
#![allow(dead_code)]

use std::path::Path;

pub const FIXTURE: &str = include_str!("../fixtures/catalogue.yaml");
pub const FILE: &str = "catalogue.yaml";

/// A valid `monitoring` section, inserted before `regions:` (the fixture has none).
pub const MON: &str = "
monitoring:
  resourceGroup: rg-ha-monitoring
  workspace: amw-contoso-ha
  objectives:
    availabilityPercent: 99.9
    latencyP99Milliseconds: 300
  receivers:
    emails:
      - oncall@example.com
      - ops@example.com
    webhooks:
      - https://hooks.example.com/alerts

regions:
";

pub fn path() -> &'static Path {
    Path::new(FILE)
}

/// The fixture with each `(from, to)` replaced once, in order; every `from` must exist.
pub fn edited(edits: &[(&str, &str)]) -> String {
    let mut yaml = FIXTURE.to_string();
    for (from, to) in edits {
        assert!(
            yaml.contains(from),
            "edit target `{from}` not in the fixture"
        );
        yaml = yaml.replacen(from, to, 1);
    }
    yaml
}

/// 1-based line of the first `text` at or after the first `after` in `yaml`.
pub fn line_of(yaml: &str, text: &str, after: &str) -> usize {
    let start = yaml
        .find(after)
        .unwrap_or_else(|| panic!("`{after}` not found"));
    let offset = start
        + yaml[start..]
            .find(text)
            .unwrap_or_else(|| panic!("`{text}` not found after `{after}`"));
    yaml[..offset].matches('\n').count() + 1
}
