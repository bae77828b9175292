//! Family `catalogue/names`: names that ARM and the API server must accept. Kubernetes
//! names (`app.name`, namespaces) and region ids are typed and checked while parsing.

use super::{is_azure_name, is_dns_label};
use crate::model::CatalogueSpec;
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};

pub(super) const NAME_FORMAT: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "name-format",
        family: "catalogue/names",
        severity: Severity::Error,
        summary: "names fit Azure and Kubernetes naming rules",
        why: "ARM and the API server reject them otherwise",
        fix: "follow the grammar the finding names (docs/catalogue.md lists each)",
    },
    check: name_format,
};

const RG_HELP: &str = "use letters, digits, `-_.()`, at most 90, not ending in `.`";

fn name_format(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    // Objects get suffixes (`-primary`, `-pdb`): 53 leaves room under the 63 limit.
    if c.app.name.len() > 53 {
        sink.report(
            "app.name",
            format!("`{}` is longer than 53 characters", shown(&c.app.name)),
            "use at most 53 characters: object names add suffixes",
        );
    }
    let r = &c.registry;
    if !(5..=50).contains(&r.name.len()) || !r.name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        sink.report(
            "registry.name",
            format!("`{}` is not a valid ACR name", shown(&r.name)),
            "use 5-50 letters and digits (no `-`)",
        );
    }
    let mut groups = vec![
        (
            "registry.resourceGroup".to_string(),
            r.resource_group.as_str(),
        ),
        (
            "trafficManager.resourceGroup".to_string(),
            c.traffic_manager.resource_group.as_str(),
        ),
    ];
    let tm = &c.traffic_manager;
    if !is_dns_label(&tm.dns_name, 63) {
        sink.report(
            "trafficManager.dnsName",
            format!("`{}` is not a DNS label", shown(&tm.dns_name)),
            "use lowercase letters, digits and `-`",
        );
    }
    if !is_azure_name(&tm.profile, 63) {
        sink.report(
            "trafficManager.profile",
            format!("`{}` is not a profile name", shown(&tm.profile)),
            "use letters, digits, `-_.`, at most 63",
        );
    }
    for (i, region) in c.regions.iter().enumerate() {
        let at = |field: &str| format!("regions[{i}].{field}");
        let cl = &region.cluster;
        let cluster_name_ok = !cl.name.is_empty()
            && cl.name.len() <= 63
            && cl
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && cl.name.as_bytes()[0].is_ascii_alphanumeric();
        if !cluster_name_ok {
            sink.report(
                at("cluster.name"),
                format!("`{}` is not an AKS cluster name", shown(&cl.name)),
                "use 1-63 letters, digits, `-`, `_`, starting with a letter or digit",
            );
        }
        groups.push((at("cluster.resourceGroup"), cl.resource_group.as_str()));
        if let Some(rg) = &region.public_ip.resource_group {
            groups.push((at("publicIp.resourceGroup"), rg.as_str()));
        }
        let prefix = cl.dns_prefix();
        if prefix.is_empty()
            || prefix.len() > 54
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            sink.report(
                at("cluster.dnsPrefix"),
                format!("`{}` is not a DNS prefix", shown(prefix)),
                "use 1-54 letters, digits and `-`",
            );
        }
        for (j, p) in cl.node_pools.iter().enumerate() {
            let name_ok = (1..=12).contains(&p.name.len())
                && p.name.as_bytes()[0].is_ascii_lowercase()
                && p.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !name_ok {
                sink.report(
                    at(&format!("cluster.nodePools[{j}].name")),
                    format!("`{}` is not a node pool name", shown(&p.name)),
                    "use 1-12 lowercase letters and digits, starting with a letter",
                );
            }
        }
        if !is_azure_name(&region.public_ip.name, 80) {
            sink.report(
                at("publicIp.name"),
                format!(
                    "`{}` is not a public IP name",
                    shown(&region.public_ip.name)
                ),
                "use letters, digits, `-_.`, at most 80",
            );
        }
        let label = &region.public_ip.dns_label;
        if !is_dns_label(label, 63) || !label.as_bytes()[0].is_ascii_lowercase() {
            sink.report(
                at("publicIp.dnsLabel"),
                format!("`{}` is not a DNS label", shown(label)),
                "use lowercase letters, digits and `-`, starting with a letter",
            );
        }
    }
    for (field, rg) in groups {
        if !is_azure_name(rg, 90) {
            sink.report(
                field,
                format!("`{}` is not a resource group name", shown(rg)),
                RG_HELP,
            );
        }
    }
}
