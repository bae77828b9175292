//! The one bridge from today's catalogue findings (`catalogue::Located`, `catalogue::RULES`)
//! to the shared policy types. When the catalogue crate reports `policy::Finding` itself,
//! delete this module and use its findings and registry directly.

/// A catalogue finding as a policy finding.
pub fn finding(l: catalogue::Located) -> policy::Finding {
    policy::Finding {
        rule: l.finding.rule,
        severity: policy::Severity::Error,
        subject: l.finding.path,
        message: l.finding.message,
        help: l.finding.help,
        location: Some(policy::Location {
            file: l.file.display().to_string(),
            line: l.position.map_or(1, |p| p.line),
            column: l.position.map_or(1, |p| p.column),
        }),
        waived: None,
    }
}

/// The catalogue invariants as policy rules (for `gen explain` and SARIF).
pub fn catalogue_rules() -> Vec<policy::Rule> {
    catalogue::RULES
        .iter()
        .map(|(id, summary, why)| policy::Rule {
            id,
            family: "catalogue",
            severity: policy::Severity::Error,
            summary,
            why,
            fix: "change catalogue.yaml at the place the finding names (docs/catalogue.md describes every field)",
        })
        .collect()
}
