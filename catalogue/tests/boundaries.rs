//! The exact edges of the numeric and length limits of the rules (rollout, monitoring, names,
//! image): the last accepted value and the first refused one. The rule table proves each rule fires;
//! these prove where (cargo-mutants found `>` vs `>=` survivors without them).

mod common;

use catalogue::parse;
use common::{FIXTURE, MON, edited, path};

/// The rule ids the catalogue reports (empty when it is valid).
fn rules_of(yaml: &str) -> Vec<String> {
    match parse(path(), yaml) {
        Ok(_) => Vec::new(),
        Err(e) => {
            assert!(!e.is_input_error(), "not a rule finding: {e}");
            e.rules().into_iter().map(str::to_string).collect()
        }
    }
}

fn with_monitoring(edits: &[(&str, &str)]) -> String {
    let mut all = vec![("\nregions:\n", MON)];
    all.extend_from_slice(edits);
    edited(&all)
}

fn with_rollout(lines: &str) -> String {
    edited(&[("\nregions:\n", &format!("\nrollout:\n{lines}regions:\n"))])
}

#[test]
fn an_email_of_254_characters_passes_and_255_fails() {
    let domain =
        |last: usize| format!("{}.{}.{}", "b".repeat(63), "c".repeat(63), "d".repeat(last));
    let at_limit = format!("{}@{}", "a".repeat(64), domain(61));
    let over = format!("{}@{}", "a".repeat(64), domain(62));
    assert_eq!((at_limit.len(), over.len()), (254, 255));
    let yaml = |addr: &str| with_monitoring(&[("- oncall@example.com", &format!("- {addr}"))]);
    assert_eq!(rules_of(&yaml(&at_limit)), Vec::<String>::new());
    assert_eq!(rules_of(&yaml(&over)), ["monitoring-email"]);
}

#[test]
fn an_internationalised_domain_is_an_address() {
    let yaml = with_monitoring(&[("- oncall@example.com", "- oncall@bücher.de")]);
    assert_eq!(rules_of(&yaml), Vec::<String>::new());
}

#[test]
fn a_webhook_of_2048_characters_passes_and_2049_fails() {
    let prefix = "https://hooks.example.com/";
    let at_limit = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
    let over = format!("{at_limit}a");
    let yaml =
        |url: &str| with_monitoring(&[("- https://hooks.example.com/alerts", &format!("- {url}"))]);
    assert_eq!(rules_of(&yaml(&at_limit)), Vec::<String>::new());
    assert_eq!(rules_of(&yaml(&over)), ["monitoring-webhook"]);
}

#[test]
fn the_scrape_interval_is_capped_at_half_the_shortest_window_when_detection_is_slower() {
    // Detection (4 + 1) × 30 + 10 = 160 s, longer than half the 5-minute window: 150 s caps it.
    let slow_probe = [
        ("rtoSeconds: 90", "rtoSeconds: 300"),
        ("intervalSeconds: 10", "intervalSeconds: 30"),
        ("timeoutSeconds: 5", "timeoutSeconds: 10"),
        ("toleratedFailures: 2", "toleratedFailures: 4"),
    ];
    let yaml = |interval: u32| {
        let mut e = slow_probe.to_vec();
        let to = format!("  workspace: amw-contoso-ha\n  scrapeIntervalSeconds: {interval}\n");
        e.push(("  workspace: amw-contoso-ha\n", &to));
        with_monitoring(&e)
    };
    assert_eq!(rules_of(&yaml(150)), Vec::<String>::new());
    assert_eq!(rules_of(&yaml(151)), ["monitoring-scrape"]);
}

#[test]
fn bake_and_consecutive_responses_accept_their_maximum_and_refuse_one_more() {
    assert_eq!(
        rules_of(&with_rollout("  bakeSeconds: 86400\n")),
        Vec::<String>::new()
    );
    assert_eq!(
        rules_of(&with_rollout("  bakeSeconds: 86401\n")),
        ["rollout-bounds"]
    );
    assert_eq!(
        rules_of(&with_rollout("  consecutiveResponses: 1000\n")),
        Vec::<String>::new()
    );
    assert_eq!(
        rules_of(&with_rollout("  consecutiveResponses: 1001\n")),
        ["rollout-bounds"]
    );
}

#[test]
fn one_region_in_one_wave_is_not_an_all_at_once_release() {
    let cut = FIXTURE.find("  - name: centralus").unwrap();
    let single = FIXTURE[..cut].replace(
        "\nregions:\n",
        "\nrollout:\n  waves: [[eastus2]]\nregions:\n",
    );
    assert_eq!(rules_of(&single), Vec::<String>::new());
}

#[test]
fn an_image_name_of_255_characters_with_the_registry_host_passes_and_256_fails() {
    // `contosoha.azurecr.io/` is 21 characters.
    let host = "contosoha.azurecr.io/".len();
    let image = |len: usize| {
        let first = (len - host) / 2;
        format!(
            "{}/{}",
            "a".repeat(first),
            "b".repeat(len - host - first - 1)
        )
    };
    assert_eq!(
        (host + image(255).len(), host + image(256).len()),
        (255, 256)
    );
    let yaml = |name: &str| edited(&[("  image: hello\n", &format!("  image: {name}\n"))]);
    assert_eq!(rules_of(&yaml(&image(255))), Vec::<String>::new());
    assert_eq!(rules_of(&yaml(&image(256))), ["image-repository"]);
}

#[test]
fn a_dns_prefix_of_54_characters_passes_and_55_fails() {
    let yaml = |prefix: &str| {
        edited(&[(
            "      kubernetesVersion: \"1.33\"\n",
            &format!("      kubernetesVersion: \"1.33\"\n      dnsPrefix: {prefix}\n"),
        )])
    };
    assert_eq!(rules_of(&yaml(&"a".repeat(54))), Vec::<String>::new());
    assert_eq!(rules_of(&yaml(&"a".repeat(55))), ["name-format"]);
}

#[test]
fn a_cluster_name_may_hold_underscores_and_hyphens() {
    let yaml = edited(&[
        ("      name: aks-eastus2\n", "      name: aks_east-us2\n"),
        (
            "      kubernetesVersion: \"1.33\"\n",
            "      kubernetesVersion: \"1.33\"\n      dnsPrefix: aks-east-us2\n",
        ),
    ]);
    assert_eq!(rules_of(&yaml), Vec::<String>::new());
}

#[test]
fn a_refused_probe_path_says_which_of_the_service_s_rules_it_breaks() {
    let message = |probe: &str| {
        let yaml = edited(&[(
            "    readiness: /readyz\n",
            &format!("    readiness: \"{probe}\"\n"),
        )]);
        let e = parse(path(), &yaml).expect_err(probe);
        assert_eq!(e.rules(), ["probe-path-syntax"], "{e}");
        let text = e.to_string();
        assert_eq!(
            text.matches("\n  why: ").count(),
            1,
            "one why per finding: {text}"
        );
        text
    };
    assert!(message("readyz").contains("does not start with `/`"));
    let long = format!("/{}", "a".repeat(253));
    assert!(message(&long).contains("is 254 characters, above 253"));
    assert!(message("/a//b").contains("contains `//`"));
    // At the length limit, the reason is the other one.
    let at_limit = format!("//{}", "a".repeat(251));
    assert!(message(&at_limit).contains("contains `//`"));
    assert!(message("/a!").contains("has a character other than"));
}
