use catalogue::{CatalogueError, load, parse};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn shipped() -> String {
    std::fs::read_to_string(root().join("catalogue.yaml")).unwrap()
}

fn errors_for(yaml: &str) -> CatalogueError {
    parse(Path::new("catalogue.yaml"), yaml).expect_err("catalogue should be rejected")
}

#[test]
fn shipped_catalogue_is_valid() {
    let loaded = load(&root().join("catalogue.yaml")).unwrap();
    let c = &loaded.catalogue;
    assert_eq!(c.regions.len(), 2);
    assert_eq!(
        c.regions.iter().find(|r| r.priority == 1).unwrap().name,
        "eastus2"
    );
    assert_eq!(
        c.app.image_ref(&c.registry),
        "contosoha.azurecr.io/hello:1.0.0"
    );
    assert_eq!(c.traffic_manager.worst_case_failover_seconds(), 65);
}

#[test]
fn unknown_field_is_located() {
    let yaml = shipped().replace("  servicePort: 80\n", "  servicePort: 80\n  colour: blue\n");
    let e = errors_for(&yaml);
    let text = e.to_string();
    assert!(text.starts_with("catalogue.yaml:10:"), "{text}");
    assert!(text.contains("colour"), "{text}");
}

#[test]
fn duplicate_priority_is_located_at_second_region() {
    let yaml = shipped().replace("priority: 2", "priority: 1");
    let e = errors_for(&yaml);
    assert_eq!(e.rules(), vec!["priority-unique"]);
    let CatalogueError::Invalid { findings } = &e else {
        panic!()
    };
    let line = shipped()
        .lines()
        .position(|l| l.contains("priority: 2"))
        .unwrap()
        + 1;
    assert_eq!(findings[0].position.unwrap().line, line);
}
