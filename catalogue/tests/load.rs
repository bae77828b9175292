//! Loading: located, single messages for every kind of bad input, and the line between an
//! input error (exit 2) and findings (exit 1).

mod common;

use catalogue::{CatalogueError, EXIT_FINDINGS, EXIT_INPUT, load, parse, parse_bytes};
use common::{FIXTURE, edited, line_of, path};

fn schema(yaml: &str) -> (String, CatalogueError) {
    let e = parse(path(), yaml)
        .map(|_| ())
        .expect_err("must be refused");
    assert!(e.is_input_error(), "expected an input error, got {e}");
    assert_eq!(e.exit_code(), EXIT_INPUT);
    (e.to_string(), e)
}

fn place(e: &CatalogueError) -> (usize, usize) {
    let p = e.position().expect("located");
    (p.line, p.column)
}

/// The location is printed once, at the start, as `file:line:column:`.
fn assert_one_location(text: &str, line: usize) {
    assert!(
        text.starts_with(&format!("catalogue.yaml:{line}:")),
        "{text}"
    );
    assert!(
        !text.contains(" at line "),
        "location printed twice: {text}"
    );
    assert_eq!(text.matches("catalogue.yaml:").count(), 1, "{text}");
}

#[test]
fn the_fixture_parses_and_values_come_from_it() {
    let c = parse(path(), FIXTURE).unwrap();
    let tag = FIXTURE
        .lines()
        .find_map(|l| l.trim().strip_prefix("tag: "))
        .unwrap()
        .trim_matches('"');
    assert_eq!(c.app.tag.as_deref(), Some(tag));
    assert_eq!(
        c.app.image_ref(&c.registry),
        format!("{}.azurecr.io/{}:{tag}", c.registry.name, c.app.image)
    );
    let primary = c.regions.iter().find(|r| r.priority == 1).unwrap();
    assert!(FIXTURE.contains(&format!("- name: {}\n    priority: 1", primary.name)));
    let m = &c.traffic_manager.monitor;
    assert_eq!(
        c.traffic_manager.worst_case_failover_seconds(),
        u64::from(m.tolerated_failures + 1) * u64::from(m.interval_seconds)
            + u64::from(m.timeout_seconds)
            + u64::from(c.traffic_manager.ttl)
    );
}

#[test]
fn a_release_pinning_a_digest_still_parses() {
    // What the release workflow does to the live catalogue: tag out, digest in.
    let digest = format!("sha256:{}", "5e".repeat(32));
    let tag_line = FIXTURE
        .lines()
        .find(|l| l.trim().starts_with("tag: "))
        .unwrap();
    let yaml = FIXTURE.replace(tag_line, &format!("  digest: {digest}"));
    let c = parse(path(), &yaml).unwrap();
    assert_eq!(c.app.version(), digest);
    assert!(
        c.app
            .image_ref(&c.registry)
            .ends_with(&format!("@{digest}"))
    );
}

#[test]
fn load_reads_a_file_and_a_missing_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalogue.yaml");
    std::fs::write(&file, FIXTURE).unwrap();
    let loaded = load(&file).unwrap();
    assert_eq!(loaded.source, FIXTURE);
    assert_eq!(loaded.catalogue.regions.len(), 2);
    let e = load(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(e.is_input_error() && e.position().is_none());
    assert_eq!(e.rules(), vec!["read"]);
    assert!(e.to_string().contains("--catalogue"), "{e}");
}

#[test]
fn an_unknown_field_is_located_once_with_did_you_mean() {
    let yaml = edited(&[("priority: 2", "prority: 2")]);
    let (text, e) = schema(&yaml);
    let line = line_of(&yaml, "prority", "");
    assert_one_location(&text, line);
    assert_eq!(place(&e), (line, 5));
    assert!(
        text.contains("unknown field `prority` in `regions[1]`"),
        "{text}"
    );
    assert!(text.contains("did you mean `priority`?"), "{text}");
    assert!(!text.contains("indentation"), "{text}");
    let CatalogueError::Schema { field, .. } = &e else {
        panic!()
    };
    assert_eq!(field, "regions[1].prority");
}

#[test]
fn an_unknown_field_without_a_near_name_lists_the_fields() {
    let yaml = edited(&[("  servicePort: 80\n", "  servicePort: 80\n  colour: blue\n")]);
    let (text, _) = schema(&yaml);
    assert_one_location(&text, line_of(&yaml, "colour", ""));
    assert!(!text.contains("did you mean"), "{text}");
    assert!(text.contains("servicePort"), "{text}");
}

#[test]
fn a_misspelt_value_gets_did_you_mean() {
    let yaml = edited(&[("sku: Premium", "sku: Premum")]);
    let (text, _) = schema(&yaml);
    assert_one_location(&text, line_of(&yaml, "Premum", ""));
    assert!(text.contains("`registry.sku`"), "{text}");
    assert!(text.contains("did you mean `Premium`?"), "{text}");
}

#[test]
fn a_type_error_names_the_path_and_type_and_never_the_yaml_hint() {
    let yaml = edited(&[("priority: 2", "priority: three")]);
    let (text, e) = schema(&yaml);
    let line = line_of(&yaml, "priority: three", "");
    assert_one_location(&text, line);
    assert_eq!(place(&e), (line, 15));
    assert!(
        text.contains(
            "`regions[1].priority`: expected an integer from 0 to 4294967295, found `three`"
        ),
        "{text}"
    );
    assert!(
        !text.contains("indentation") && !text.contains("brackets"),
        "{text}"
    );
}

#[test]
fn quoted_numbers_and_booleans_are_type_errors() {
    for (from, to, field) in [
        ("priority: 2", "priority: \"2\"", "regions[1].priority"),
        ("ttl: 30", "ttl: '30'", "trafficManager.ttl"),
        (
            "zoneRedundancy: true",
            "zoneRedundancy: \"true\"",
            "registry.zoneRedundancy",
        ),
        (
            "zones: [1, 2, 3]",
            "zones: [1, \"2\", 3]",
            "regions[0].zones[1]",
        ),
    ] {
        let yaml = edited(&[(from, to)]);
        let (text, e) = schema(&yaml);
        assert_one_location(&text, line_of(&yaml, to, ""));
        assert!(text.contains(&format!("`{field}`: expected")), "{text}");
        assert!(text.contains("remove the quotes"), "{text}");
        let CatalogueError::Schema { field: f, .. } = &e else {
            panic!()
        };
        assert_eq!(f, field);
    }
    // Quoted strings stay fine.
    parse(path(), &edited(&[("branch: main", "branch: \"main\"")])).unwrap();
}

#[test]
fn yaml_1_1_booleans_are_refused() {
    let yaml = edited(&[("zoneRedundancy: true", "zoneRedundancy: yes")]);
    let (text, _) = schema(&yaml);
    assert_one_location(&text, line_of(&yaml, "zoneRedundancy", ""));
    assert!(
        text.contains("`registry.zoneRedundancy`: expected `true` or `false`"),
        "{text}"
    );
}

#[test]
fn a_missing_field_names_its_parent_element() {
    let yaml = edited(&[(
        "    publicIp:\n      name: pip-hello-centralus\n      dnsLabel: contoso-ha-centralus",
        "",
    )]);
    let (text, e) = schema(&yaml);
    let line = line_of(&yaml, "- name: centralus", "");
    assert_one_location(&text, line);
    assert_eq!(place(&e).0, line);
    assert!(
        text.contains("`regions[1]` is missing the required field `publicIp`"),
        "{text}"
    );
}

#[test]
fn a_number_out_of_range_is_a_located_type_error() {
    let yaml = edited(&[("max: 12 }", "max: 4294967296 }")]);
    let (text, _) = schema(&yaml);
    assert_one_location(&text, line_of(&yaml, "4294967296", ""));
    assert!(text.contains("`regions[0].replicas.max`"), "{text}");
}

#[test]
fn an_unclosed_bracket_is_located_where_it_opens() {
    for (from, to, open) in [
        (
            "zones: [1, 2, 3]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
            "zones: [1, 2, 3\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
            "zones: [1, 2, 3\n",
        ),
        (
            "replicas: { min: 3, max: 12 }",
            "replicas: { min: 3, max: 12 ",
            "replicas: {",
        ),
    ] {
        let yaml = edited(&[(from, to)]);
        let e = parse(path(), &yaml).unwrap_err();
        assert!(e.is_input_error());
        assert_eq!(e.rules(), vec!["syntax"], "{e}");
        let text = e.to_string();
        let line = line_of(&yaml, open, "");
        assert!(
            text.starts_with(&format!("catalogue.yaml:{line}:")),
            "{text}"
        );
        assert!(text.contains("is never closed"), "{text}");
    }
}

#[test]
fn other_syntax_errors_get_the_yaml_hint() {
    let yaml = edited(&[("  branch: main\n", "  branch: main\n   bad: [indent\n")]);
    let e = parse(path(), &yaml).unwrap_err();
    assert_eq!(e.rules(), vec!["syntax"]);
    let yaml = edited(&[("  branch: main\n", "  branch: \"main\n")]);
    let e = parse(path(), &yaml).unwrap_err();
    assert_eq!(e.rules(), vec!["syntax"], "{e}");
    assert!(e.to_string().contains("help: fix the YAML"), "{e}");
}

#[test]
fn a_bad_region_name_is_a_located_schema_error() {
    for bad in ["../../victim", "East US 2"] {
        let yaml = edited(&[("- name: centralus", &format!("- name: \"{bad}\""))]);
        let (text, _) = schema(&yaml);
        assert_one_location(&text, line_of(&yaml, bad, ""));
        assert!(text.contains("`regions[1].name`"), "{text}");
        assert!(text.contains("is not an Azure region id"), "{text}");
    }
    let yaml = edited(&[("- name: centralus", "- name: \"East US 2\"")]);
    assert!(schema(&yaml).0.contains("did you mean `eastus2`"));
}

#[test]
fn a_bad_kubernetes_name_is_a_located_schema_error() {
    let yaml = edited(&[("  name: hello\n", "  name: Hello_World\n")]);
    let (text, _) = schema(&yaml);
    assert_one_location(&text, line_of(&yaml, "Hello_World", ""));
    assert!(
        text.contains("`app.name`: `Hello_World` is not a Kubernetes name"),
        "{text}"
    );
    let yaml = edited(&[(
        "  branch: main\n",
        "  branch: main\n  namespace: flux_system\n",
    )]);
    assert!(schema(&yaml).0.contains("`gitops.namespace`"));
}

#[test]
fn invalid_utf8_is_located_at_the_first_bad_byte() {
    let yaml = edited(&[("dnsName: contoso-ha", "dnsName: contoso-hä")]);
    let mut bytes = yaml.into_bytes();
    let at = bytes.windows(2).position(|w| w == "ä".as_bytes()).unwrap();
    bytes[at] = 0xff;
    let e = parse_bytes(path(), &bytes).unwrap_err();
    assert!(e.is_input_error());
    assert_eq!(e.rules(), vec!["encoding"]);
    let line = line_of(FIXTURE, "dnsName:", "");
    let col = "  dnsName: contoso-h".len() + 1;
    assert_eq!(place(&e), (line, col));
    assert!(
        e.to_string()
            .starts_with(&format!("catalogue.yaml:{line}:{col}: error[encoding]")),
        "{e}"
    );
}

#[test]
fn a_huge_value_is_never_echoed_whole() {
    // The 20 MB once; 1 MB for the other places (the suite stays fast in debug).
    let huge = "x".repeat(20 * 1024 * 1024);
    let big = "x".repeat(1024 * 1024);
    for (from, to) in [
        ("dnsName: contoso-ha", format!("dnsName: {huge}")),
        ("priority: 2", format!("priority: {big}")),
        ("- name: centralus", format!("- name: {big}")),
        (
            "  servicePort: 80\n",
            format!("  servicePort: 80\n  {big}: 1\n"),
        ),
        ("branch: main", format!("branch: {big}")),
    ] {
        let yaml = edited(&[(from, &to)]);
        let e = parse(path(), &yaml).map(|_| ()).expect_err(from);
        let text = e.to_string();
        assert!(
            text.len() < 2000,
            "{} bytes of message for {from}",
            text.len()
        );
        assert!(e.position().is_some());
    }
}

#[test]
fn an_empty_catalogue_is_an_input_error() {
    for text in ["", "# only a comment\n", "---\n"] {
        let e = parse(path(), text).unwrap_err();
        assert!(e.is_input_error());
        assert_eq!(place(&e), (1, 1));
    }
}

#[test]
fn findings_and_input_errors_have_different_exit_codes() {
    let findings = parse(path(), &edited(&[("priority: 2", "priority: 1")])).unwrap_err();
    assert!(!findings.is_input_error());
    assert_eq!(findings.exit_code(), EXIT_FINDINGS);
    assert_eq!(findings.findings().len(), 1);
    let input = parse(path(), &edited(&[("priority: 2", "priority: x")])).unwrap_err();
    assert_eq!(input.exit_code(), EXIT_INPUT);
    assert!(input.findings().is_empty());
    assert_eq!((EXIT_FINDINGS, EXIT_INPUT), (1, 2));
}
