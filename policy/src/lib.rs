//! The policy engine: one registry of rules and one `Finding` type, shared by the catalogue
//! invariants (crate `catalogue`) and the rendered-object rules (crate `generator`).
//!
//! No clap, no filesystem: a rule is data (`Rule`) plus a check function over some input
//! `I`; `Policy::run` applies every check and returns findings. Locating a finding in a file
//! (`Location`) is the caller's business, because only the caller knows the sources.

use serde::Serialize;
use std::fmt;

/// How bad a broken rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// What a rule is, why it exists and how to fix a finding: what `gen explain <id>` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id, kebab-case: used in messages, docs, waivers and SARIF.
    pub id: &'static str,
    /// The file (family) the rule lives in, e.g. `catalogue/regions`, `workload/security`.
    pub family: &'static str,
    pub severity: Severity,
    /// One line: what the rule checks.
    pub summary: &'static str,
    /// Why it exists: the failure a user gets without it.
    pub why: &'static str,
    /// The generic fix; a finding's own `help` may be more specific.
    pub fix: &'static str,
}

/// A place in a file; lines and columns count from 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A broken rule: which rule, what is wrong, where (`subject` is a field path such as
/// `regions[1].priority` or an object such as `Deployment/hello`), and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub subject: String,
    pub message: String,
    pub help: String,
    /// Why the rule exists (the rule's `why`), so a finding explains itself without
    /// `gen explain`; empty for findings that come from no registered rule.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub why: &'static str,
    /// The file and line that introduced the value, when the caller could place it.
    pub location: Option<Location>,
    /// Set when an annotation waived this finding: the reason given there.
    pub waived: Option<String>,
}

impl Finding {
    pub fn is_blocking(&self) -> bool {
        self.waived.is_none() && self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        let kind = if self.waived.is_some() {
            "waived".to_string()
        } else {
            self.severity.to_string()
        };
        write!(
            f,
            "{kind}[{}]: {} (at `{}`)",
            self.rule, self.message, self.subject
        )?;
        if !self.why.is_empty() {
            write!(f, "\n  why: {}", self.why)?;
        }
        write!(f, "\n  help: {}", self.help)?;
        if let Some(reason) = &self.waived {
            write!(f, "\n  waiver: {reason}")?;
        }
        Ok(())
    }
}

/// Collects findings for one rule at a time; a check only says what and where.
#[derive(Debug)]
pub struct Sink<'r> {
    rule: &'r Rule,
    out: &'r mut Vec<Finding>,
}

impl Sink<'_> {
    pub fn rule(&self) -> &Rule {
        self.rule
    }

    pub fn report(
        &mut self,
        subject: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.out.push(Finding {
            rule: self.rule.id,
            severity: self.rule.severity,
            subject: subject.into(),
            message: message.into(),
            help: help.into(),
            why: self.rule.why,
            location: None,
            waived: None,
        });
    }
}

/// A rule and its check over input `I`.
pub struct Check<I: ?Sized> {
    pub rule: Rule,
    pub check: fn(&I, &mut Sink<'_>),
}

impl<I: ?Sized> fmt::Debug for Check<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("rule", &self.rule.id)
            .finish()
    }
}

/// An ordered registry of checks over one kind of input.
#[derive(Debug)]
pub struct Policy<I: ?Sized + 'static> {
    checks: &'static [Check<I>],
}

impl<I: ?Sized + 'static> Policy<I> {
    /// Each registry has a test that `duplicate_ids()` is empty.
    pub const fn new(checks: &'static [Check<I>]) -> Self {
        Self { checks }
    }

    pub fn rules(&self) -> impl Iterator<Item = &'static Rule> + use<I> {
        self.checks.iter().map(|c| &c.rule)
    }

    pub fn rule(&self, id: &str) -> Option<&'static Rule> {
        self.rules().find(|r| r.id == id)
    }

    /// Runs every check; findings come in registry order.
    pub fn run(&self, input: &I) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in self.checks {
            (c.check)(
                input,
                &mut Sink {
                    rule: &c.rule,
                    out: &mut out,
                },
            );
        }
        out
    }

    /// Runs only the check of rule `id` (for table-driven tests of one rule).
    pub fn run_one(&self, id: &str, input: &I) -> Option<Vec<Finding>> {
        let c = self.checks.iter().find(|c| c.rule.id == id)?;
        let mut out = Vec::new();
        (c.check)(
            input,
            &mut Sink {
                rule: &c.rule,
                out: &mut out,
            },
        );
        Some(out)
    }

    /// Ids that occur twice; empty for a well-formed registry (tested by each user).
    pub fn duplicate_ids(&self) -> Vec<&'static str> {
        let mut seen = std::collections::BTreeSet::new();
        self.rules()
            .filter(|r| !seen.insert(r.id))
            .map(|r| r.id)
            .collect()
    }
}

/// Findings as JSON (an array of objects), for `--format json`.
pub fn to_json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".into())
}

/// Findings as SARIF 2.1.0, with the rule descriptions of `rules`.
pub fn to_sarif<'a>(
    tool: &str,
    rules: impl IntoIterator<Item = &'a Rule>,
    findings: &[Finding],
) -> String {
    use serde_json::json;
    let rules: Vec<_> = rules
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.why },
                "help": { "text": r.fix },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": if f.waived.is_some() { "note" } else { sarif_level(f.severity) },
                "message": { "text": format!("{} (at `{}`); help: {}", f.message, f.subject, f.help) },
            });
            if let Some(l) = &f.location {
                result["locations"] = json!([{ "physicalLocation": {
                    "artifactLocation": { "uri": l.file },
                    "region": { "startLine": l.line, "startColumn": l.column },
                }}]);
            }
            if let Some(reason) = &f.waived {
                result["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
            }
            result
        })
        .collect();
    let doc = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{ "tool": { "driver": { "name": tool, "rules": rules } }, "results": results }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rule = Rule {
        id: "demo-even",
        family: "demo",
        severity: Severity::Error,
        summary: "numbers are even",
        why: "odd numbers break the demo",
        fix: "add one",
    };

    fn even(n: &u32, sink: &mut Sink<'_>) {
        if n % 2 == 1 {
            sink.report("n", format!("{n} is odd"), "add one");
        }
    }

    static CHECKS: [Check<u32>; 1] = [Check {
        rule: R,
        check: even,
    }];
    static POLICY: Policy<u32> = Policy::new(&CHECKS);

    #[test]
    fn a_check_reports_with_its_rule_and_passes_its_fixed_twin() {
        let f = POLICY.run(&3);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "demo-even");
        assert!(f[0].is_blocking());
        assert!(POLICY.run(&4).is_empty());
        assert_eq!(POLICY.run_one("demo-even", &5).unwrap().len(), 1);
        assert!(POLICY.run_one("nope", &5).is_none());
        assert!(POLICY.duplicate_ids().is_empty());
    }

    #[test]
    fn a_finding_says_why_its_rule_exists_between_the_problem_and_the_fix() {
        let f = POLICY.run(&3).remove(0);
        assert_eq!(f.why, R.why);
        let text = f.to_string();
        let (why, help) = (
            text.find("\n  why: odd numbers break the demo"),
            text.find("\n  help: add one"),
        );
        assert!(matches!((why, help), (Some(w), Some(h)) if w < h), "{text}");
        assert!(to_json(&[f]).contains("\"why\": \"odd numbers break the demo\""));
    }

    #[test]
    fn a_waived_finding_is_listed_but_not_blocking() {
        let mut f = POLICY.run(&3).remove(0);
        f.waived = Some("demo only".into());
        f.location = Some(Location {
            file: "base/x.yaml".into(),
            line: 3,
            column: 5,
        });
        assert!(!f.is_blocking());
        let text = f.to_string();
        assert!(
            text.starts_with("base/x.yaml:3:5: waived[demo-even]"),
            "{text}"
        );
        assert!(text.contains("waiver: demo only"));
        let sarif = to_sarif("gen", POLICY.rules(), &[f]);
        assert!(sarif.contains("\"suppressions\""));
        assert!(sarif.contains("\"startLine\": 3"));
    }
}
