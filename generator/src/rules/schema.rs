//! Family `schema`: the overlay builds, every object parses strictly into its typed form
//! (required fields included), and no base placeholder survives.

use super::{Build, subject};
use crate::hydrate::PLACEHOLDER;
use policy::{Check, Policy, Rule, Severity, Sink};
use serde_json::Value;

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

static CHECKS: [Check<Build>; 3] = [
    Check {
        rule: Rule {
            id: "kustomize-build",
            family: "schema",
            severity: Severity::Error,
            summary: "every overlay builds (resources, patches and their targets exist)",
            why: "Flux and Argo CD stop reconciling a region whose overlay does not build",
            fix: "fix the kustomization or the patch it names",
        },
        check: kustomize_build,
    },
    Check {
        rule: Rule {
            id: "k8s-schema",
            family: "schema",
            severity: Severity::Error,
            summary: "every built object parses into its typed form: no unknown field, no wrong type, no missing required field",
            why: "the API server rejects a missing required field (a probe without `port`) and silently drops a misspelt one; the agent then fails or applies something else than reviewed",
            fix: "fix or remove the field (see the Kubernetes API reference for this kind)",
        },
        check: k8s_schema,
    },
    Check {
        rule: Rule {
            id: "overlay-placeholder",
            family: "schema",
            severity: Severity::Error,
            summary: "no `set-by-overlay` placeholder of the base survives in a region",
            why: "a placeholder deploys a broken image, region or public IP",
            fix: "the overlay must patch this field from the catalogue; re-render with `gen render`",
        },
        check: placeholder,
    },
];

fn kustomize_build(b: &Build, sink: &mut Sink<'_>) {
    if let Some(e) = &b.build_error {
        sink.report(
            subject("", &e.file),
            e.message.clone(),
            "fix the kustomization or the patch it names",
        );
    }
}

fn k8s_schema(b: &Build, sink: &mut Sink<'_>) {
    for p in &b.schema {
        sink.report(
            subject(&p.object, &p.field),
            p.message.clone(),
            "fix or remove the field (see the Kubernetes API reference for this kind)",
        );
    }
}

fn placeholder(b: &Build, sink: &mut Sink<'_>) {
    for o in &b.objects {
        let mut found = Vec::new();
        find_placeholders(&o.value, "", &mut found);
        for field in found {
            sink.report(
                subject(&o.id(), &field),
                format!("still holds the base placeholder `{PLACEHOLDER}`"),
                "the overlay must patch this field from the catalogue; re-render with `gen render`",
            );
        }
    }
}

fn find_placeholders(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains(PLACEHOLDER) => out.push(path.to_string()),
        Value::Object(m) => {
            for (k, v) in m {
                find_placeholders(v, &super::join_field(path, k), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                find_placeholders(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
