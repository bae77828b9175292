//! Family `network`: what may reach the pods and how the region is reached (the static
//! public IP that Traffic Manager's endpoint points at).

use super::{Build, id, subject};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use policy::{Check, Policy, Rule, Severity, Sink};

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

static CHECKS: [Check<Build>; 2] = [
    Check {
        rule: Rule {
            id: "workload-network-policy",
            family: "network",
            severity: Severity::Error,
            summary: "a default-deny NetworkPolicy (ingress and egress); the app's ingress only on its port; egress only DNS",
            why: "limits the blast radius: a compromised pod can reach nothing, and nothing but the Service port reaches it",
            fix: "keep base/networkpolicy.yaml: deny all, allow ingress on port `http`, egress on port 53",
        },
        check: network_policy,
    },
    Check {
        rule: Rule {
            id: "service-static-ip",
            family: "network",
            severity: Severity::Error,
            summary: "a LoadBalancer Service pins the region's public IP name, resource group and DNS label",
            why: "the Traffic Manager endpoint must not change when the Service is recreated",
            fix: "run `gen render` (the overlay sets the annotations from regions[].publicIp)",
        },
        check: static_ip,
    },
];

fn network_policy(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() {
        return;
    }
    let deny = b.typed.netpols.iter().any(|(_, n)| {
        n.spec.as_ref().is_some_and(|s| {
            let all = s.pod_selector.as_ref().is_none_or(|p| {
                p.match_labels.as_ref().is_none_or(|m| m.is_empty())
                    && p.match_expressions.as_ref().is_none_or(|m| m.is_empty())
            });
            let types = s.policy_types.clone().unwrap_or_default();
            all && types.iter().any(|t| t == "Ingress")
                && types.iter().any(|t| t == "Egress")
                && s.ingress.as_ref().is_none_or(|i| i.is_empty())
                && s.egress.as_ref().is_none_or(|e| e.is_empty())
        })
    });
    if !deny {
        sink.report(
            "",
            "no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)",
            "add it to base/networkpolicy.yaml",
        );
    }
    let port = i64::from(b.catalogue.app.port);
    for (_, n) in &b.typed.netpols {
        let nid = id("NetworkPolicy", n.metadata.name.as_ref());
        let Some(s) = n.spec.as_ref() else { continue };
        for (i, r) in s.ingress.iter().flatten().enumerate() {
            let ok = r.ports.as_ref().is_some_and(|ps| {
                !ps.is_empty()
                    && ps.iter().all(|p| match &p.port {
                        Some(IntOrString::String(n)) => n == "http",
                        Some(IntOrString::Int(n)) => i64::from(*n) == port,
                        None => false,
                    })
            });
            if !ok {
                sink.report(
                    subject(&nid, &format!("spec.ingress[{i}].ports")),
                    "ingress is allowed on other ports than the service's",
                    "allow only port `http` (the container port)",
                );
            }
        }
        for (i, r) in s.egress.iter().flatten().enumerate() {
            let dns_only = r.ports.as_ref().is_some_and(|ps| {
                !ps.is_empty() && ps.iter().all(|p| p.port == Some(IntOrString::Int(53)))
            });
            if !dns_only {
                sink.report(
                    subject(&nid, &format!("spec.egress[{i}]")),
                    "egress beyond DNS is allowed; the service calls nothing",
                    "allow only port 53 to kube-dns",
                );
            }
        }
    }
}

fn static_ip(b: &Build, sink: &mut Sink<'_>) {
    if !b.is_typed() {
        return;
    }
    let r = &b.region;
    let pip = [
        (
            "service.beta.kubernetes.io/azure-pip-name",
            r.public_ip.name.as_str(),
        ),
        (
            "service.beta.kubernetes.io/azure-load-balancer-resource-group",
            r.public_ip_resource_group(),
        ),
        (
            "service.beta.kubernetes.io/azure-dns-label-name",
            r.public_ip.dns_label.as_str(),
        ),
    ];
    let lbs: Vec<_> = b
        .typed
        .services
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer"))
        .collect();
    if lbs.is_empty() {
        sink.report(
            "",
            "no Service of type LoadBalancer",
            "the base must expose the service through a LoadBalancer Service",
        );
    }
    for s in lbs {
        let sid = id("Service", s.metadata.name.as_ref());
        let ann = s.metadata.annotations.clone().unwrap_or_default();
        for (k, want) in pip {
            if ann.get(k).map(String::as_str) != Some(want) {
                sink.report(
                    subject(&sid, &format!("metadata.annotations[{k}]")),
                    format!("is {:?}, the catalogue says `{want}`", ann.get(k)),
                    "run `gen render` (the overlay sets it from regions[].publicIp)",
                );
            }
        }
    }
}
