//! One broken catalogue per invariant: the error names the rule id and the line of the field.

use catalogue::{CatalogueError, RULES, parse};
use std::path::Path;

fn shipped() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../catalogue.yaml")).unwrap()
}

/// A mutation of the shipped catalogue, the rule it must break, and a text that appears on
/// the line the finding must point at (its first occurrence after `after`).
struct Case {
    rule: &'static str,
    edits: &'static [(&'static str, &'static str)],
    line_text: &'static str,
    after: &'static str,
}

const CASES: &[Case] = &[
    Case {
        rule: "region-known",
        edits: &[("- name: centralus", "- name: centralsu")],
        line_text: "centralsu",
        after: "",
    },
    Case {
        rule: "region-unique",
        edits: &[("- name: centralus", "- name: eastus2")],
        line_text: "- name: eastus2",
        after: "priority: 1",
    },
    Case {
        rule: "priority-range",
        edits: &[("priority: 2", "priority: 1001")],
        line_text: "priority: 1001",
        after: "",
    },
    Case {
        rule: "priority-unique",
        edits: &[("priority: 2", "priority: 1")],
        line_text: "priority: 1",
        after: "centralus",
    },
    Case {
        rule: "priority-primary",
        edits: &[("priority: 1\n", "priority: 3\n")],
        line_text: "regions:",
        after: "",
    },
    Case {
        rule: "zones-redundant",
        edits: &[(
            "zones: [1, 2, 3]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
            "zones: [2]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        line_text: "zones: [2]",
        after: "",
    },
    Case {
        rule: "replicas-zone-multiple",
        edits: &[(
            "replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-eastus2",
            "replicas: { min: 4, max: 12 }\n    cluster:\n      name: aks-eastus2",
        )],
        line_text: "min: 4",
        after: "",
    },
    Case {
        rule: "replicas-bounds",
        edits: &[(
            "replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
            "replicas: { min: 6, max: 3 }\n    cluster:\n      name: aks-centralus",
        )],
        line_text: "replicas: { min: 6",
        after: "",
    },
    Case {
        rule: "pdb-allows-disruption",
        edits: &[(
            "  servicePort: 80\n",
            "  servicePort: 80\n  disruption: { minAvailable: 3 }\n",
        )],
        line_text: "replicas: { min: 3",
        after: "",
    },
    Case {
        rule: "failover-capacity",
        edits: &[(
            "replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-eastus2",
            "replicas: { min: 30, max: 60 }\n    cluster:\n      name: aks-eastus2",
        )],
        line_text: "min: 30",
        after: "",
    },
    Case {
        rule: "image-immutable",
        edits: &[("tag: \"1.0.0\"", "tag: latest")],
        line_text: "tag: latest",
        after: "",
    },
    Case {
        rule: "registry-premium",
        edits: &[("sku: Premium", "sku: Standard")],
        line_text: "sku: Standard",
        after: "",
    },
    Case {
        rule: "tm-probe-readiness",
        edits: &[(
            "    port: 80\n    intervalSeconds",
            "    port: 80\n    path: /\n    intervalSeconds",
        )],
        line_text: "path: /",
        after: "monitor:",
    },
    Case {
        rule: "tm-monitor-settings",
        edits: &[("intervalSeconds: 10", "intervalSeconds: 15")],
        line_text: "intervalSeconds: 15",
        after: "",
    },
    Case {
        rule: "failover-rto",
        edits: &[("rtoSeconds: 90", "rtoSeconds: 60")],
        line_text: "rtoSeconds: 60",
        after: "",
    },
    Case {
        rule: "probe-paths",
        edits: &[("liveness: /healthz", "liveness: /readyz")],
        line_text: "liveness: /readyz",
        after: "",
    },
    Case {
        rule: "shutdown-budget",
        edits: &[(
            "  servicePort: 80\n",
            "  servicePort: 80\n  shutdown: { drainSeconds: 25 }\n",
        )],
        line_text: "shutdown:",
        after: "",
    },
    Case {
        rule: "name-format",
        edits: &[("name: contosoha", "name: contoso-ha")],
        line_text: "name: contoso-ha",
        after: "registry:",
    },
    Case {
        rule: "node-pools",
        edits: &[(
            "{ name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }\n        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
            "{ name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }\n        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 12, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        line_text: "count: 12",
        after: "",
    },
    Case {
        rule: "rotation-some-enabled",
        edits: &[
            (
                "    priority: 1\n",
                "    priority: 1\n    inRotation: false\n",
            ),
            (
                "    priority: 2\n",
                "    priority: 2\n    inRotation: false\n",
            ),
        ],
        line_text: "inRotation: false",
        after: "",
    },
    Case {
        rule: "gitops-source",
        edits: &[(
            "repo: https://github.com/contoso/ha-gitops",
            "repo: https://user:secret@github.com/contoso/ha-gitops",
        )],
        line_text: "repo: https://user",
        after: "",
    },
];

fn apply(case: &Case) -> String {
    let mut yaml = shipped();
    for (from, to) in case.edits {
        assert!(
            yaml.contains(from),
            "{}: edit target `{from}` not in catalogue.yaml",
            case.rule
        );
        yaml = yaml.replacen(from, to, 1);
    }
    yaml
}

fn expected_line(yaml: &str, case: &Case) -> usize {
    let start = yaml.find(case.after).unwrap();
    let offset = start + yaml[start..].find(case.line_text).unwrap();
    yaml[..offset].lines().count() + usize::from(yaml[..offset].ends_with('\n') || offset == 0)
}

#[test]
fn every_invariant_has_a_failing_catalogue_with_its_rule_and_line() {
    for case in CASES {
        let yaml = apply(case);
        let err = parse(Path::new("catalogue.yaml"), &yaml).expect_err(case.rule);
        let CatalogueError::Invalid { findings } = &err else {
            panic!("{}: expected rule findings, got {err}", case.rule)
        };
        let found = findings
            .iter()
            .find(|f| f.finding.rule == case.rule)
            .unwrap_or_else(|| panic!("{}: not reported; got:\n{err}", case.rule));
        let line = expected_line(&yaml, case);
        let pos = found.position.expect("located");
        assert_eq!(pos.line, line, "{}: wrong line in\n{found}", case.rule);
        assert!(pos.column >= 1);
        let text = found.to_string();
        assert!(
            text.starts_with(&format!(
                "catalogue.yaml:{line}:{}: error[{}]",
                pos.column, case.rule
            )),
            "{text}"
        );
        assert!(text.contains("help: "), "{text}");
    }
}

#[test]
fn every_documented_rule_has_a_case() {
    for (id, _, _) in RULES {
        assert!(
            CASES.iter().any(|c| c.rule == *id),
            "rule {id} has no failing-catalogue case"
        );
    }
}

#[test]
fn rules_are_documented_in_the_catalogue_reference() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/catalogue.md"))
        .unwrap();
    for (id, _, _) in RULES {
        assert!(
            doc.contains(&format!("`{id}`")),
            "docs/catalogue.md does not describe rule {id}"
        );
    }
}

#[test]
fn single_zone_is_allowed_when_declared_non_zonal() {
    let yaml = shipped()
        .replacen("zones: [1, 2, 3]", "nonZonal: true", 1)
        .replacen(
            "replicas: { min: 3, max: 12 }",
            "replicas: { min: 2, max: 12 }",
            1,
        );
    parse(Path::new("catalogue.yaml"), &yaml).unwrap();
}

#[test]
fn a_digest_pins_the_image() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let yaml = shipped().replace("tag: \"1.0.0\"", &format!("digest: {digest}"));
    let c = parse(Path::new("catalogue.yaml"), &yaml).unwrap();
    assert_eq!(
        c.app.image_ref(&c.registry),
        format!("contosoha.azurecr.io/hello@{digest}")
    );
    let bad = shipped().replace("tag: \"1.0.0\"", "digest: sha256:abc");
    let err = parse(Path::new("catalogue.yaml"), &bad).unwrap_err();
    assert_eq!(err.rules(), vec!["image-immutable"]);
}

#[test]
fn several_problems_are_all_reported_in_file_order() {
    let yaml = shipped()
        .replace("tag: \"1.0.0\"", "tag: latest")
        .replace("priority: 2", "priority: 1");
    let err = parse(Path::new("catalogue.yaml"), &yaml).unwrap_err();
    assert_eq!(err.rules(), vec!["image-immutable", "priority-unique"]);
}
