//! Family `waivers`: a waiver is an annotation on the object a finding names,
//! `gen.ha-gitops/waive: "<rule-id>: <reason>"` (one waiver per line). It turns that rule's
//! findings on that object into listed waivers, never a silent skip; a waiver without a
//! reason, or naming a rule that does not exist, is itself an error.

use super::{Build, WAIVE_ANNOTATION, subject};
use policy::{Check, Policy, Rule, Severity, Sink};
use serde_json::Value;

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

/// The rule that checks waivers; it cannot be waived itself.
pub const WAIVER_RULE: &str = "waiver-valid";

static CHECKS: [Check<Build>; 1] = [Check {
    rule: Rule {
        id: WAIVER_RULE,
        family: "waivers",
        severity: Severity::Error,
        summary: "every `gen.ha-gitops/waive` line is `<rule-id>: <reason>`, names a rendered rule, and gives a reason",
        why: "a waiver is a reviewed exception; one without a reason, or for a misspelt rule, hides a problem nobody decided to accept",
        fix: "write `gen.ha-gitops/waive: \"<rule-id>: <why this object may break the rule>\"` (`gen explain` lists the rule ids)",
    },
    check: waivers_valid,
}];

/// The waivers of one object: `(rule id, reason)`, or the malformed line.
pub fn parse(annotations: Option<&Value>) -> Vec<Result<(String, String), String>> {
    let Some(text) = annotations
        .and_then(|a| a.get(WAIVE_ANNOTATION))
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(':') {
            Some((id, reason)) if !id.trim().is_empty() && !reason.trim().is_empty() => {
                Ok((id.trim().to_string(), reason.trim().to_string()))
            }
            _ => Err(line.to_string()),
        })
        .collect()
}

fn waivers_valid(b: &Build, sink: &mut Sink<'_>) {
    let known: Vec<&str> = super::all_rules().iter().map(|r| r.id).collect();
    for o in &b.objects {
        let field = format!("metadata.annotations[{WAIVE_ANNOTATION}]");
        for w in parse(o.value.pointer("/metadata/annotations")) {
            match w {
                Err(line) => sink.report(
                    subject(&o.id(), &field),
                    format!("`{line}` is not `<rule-id>: <reason>`: a waiver needs a reason"),
                    "say why this object may break the rule, after the rule id and a colon",
                ),
                Ok((id, _)) if id == WAIVER_RULE => sink.report(
                    subject(&o.id(), &field),
                    format!("`{WAIVER_RULE}` cannot be waived"),
                    "fix the waiver instead",
                ),
                Ok((id, _)) if !known.contains(&id.as_str()) => sink.report(
                    subject(&o.id(), &field),
                    format!("waives `{id}`, which is not a rendered rule"),
                    "use an id that `gen explain` lists",
                ),
                Ok(_) => {}
            }
        }
    }
}
