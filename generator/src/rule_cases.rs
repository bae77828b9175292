//! One table-driven case per rendered rule: a minimal failing input (one edit of the shipped
//! base, of a rendered file, or of the built objects), the rule id and the file the finding
//! must point at; the fixed twin is the same input without the edit, which passes. A test
//! fails when a registered rule has no case here or no entry in the crate README. (A top-level test module: it drives
//! `validate`, which depends on `rules`, so it cannot live inside `rules`.)

use crate::hydrate::Base;
use crate::hydrate::effective::Object;
use crate::rules::{Build, all_rules};
use crate::tree::{RegionSelection, RenderedTree};
use crate::validate::{Sources, check_build};
use catalogue::GitOpsEngine;
use policy::Finding;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const REGION: &str = "eastus2";

enum Edit {
    /// `(file, from, to)` in the base: the first `from` becomes `to`.
    Base(&'static str, &'static str, &'static str),
    /// `(file, from, to)` in a rendered file: a hand edit.
    Tree(&'static str, &'static str, &'static str),
    /// An edit of the built objects (what no single file edit produces alone).
    Objects(fn(&mut Vec<Object>)),
    /// `(file, from, to)` in the tree rendered with `gitops.engine: argocd`.
    ArgoTree(&'static str, &'static str, &'static str),
    /// `(from, to)` in the catalogue, checked against the tree the unedited one renders.
    Catalogue(&'static str, &'static str),
}

struct Case {
    rule: &'static str,
    edit: Edit,
    /// A part of the finding's subject (`Kind/name: field`).
    subject: &'static str,
    /// The file the finding must point at.
    file: &'static str,
}

const DEP: &str = "base/deployment.yaml";
const PATCH: &str = "overlays/eastus2/patch-deployment.yaml";
const PODMON: &str = "overlays/eastus2/podmonitor.yaml";
const FLUX_KS: &str = "clusters/eastus2/hello.yaml";
const ARGO_APP: &str = "argocd/eastus2/application.yaml";

fn deployment(objects: &mut [Object]) -> &mut Value {
    &mut objects
        .iter_mut()
        .find(|o| o.kind() == "Deployment")
        .unwrap()
        .value
}

fn pdb_spec(objects: &mut [Object]) -> &mut Value {
    &mut objects
        .iter_mut()
        .find(|o| o.kind() == "PodDisruptionBudget")
        .unwrap()
        .value["spec"]
}

/// The Deployment without its spread on hostnames, and with `anti` as its pod anti-affinity.
fn hostname_anti_affinity(objects: &mut [Object], anti: Value) {
    let pod = &mut deployment(objects)["spec"]["template"]["spec"];
    pod["topologySpreadConstraints"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["topologyKey"] != "kubernetes.io/hostname");
    pod["affinity"]["podAntiAffinity"] = anti;
}

fn set_disruption(objects: &mut [Object], key: &str, value: Value) {
    let spec = pdb_spec(objects);
    spec.as_object_mut().unwrap().remove("maxUnavailable");
    spec[key] = value;
}

fn anti_term() -> Value {
    json!({"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "hello"}},
           "topologyKey": "kubernetes.io/hostname"})
}

fn hpa_spec(objects: &mut [Object]) -> &mut Value {
    &mut objects
        .iter_mut()
        .find(|o| o.kind() == "HorizontalPodAutoscaler")
        .unwrap()
        .value["spec"]
}

fn service_account(objects: &mut [Object]) -> &mut Value {
    &mut objects
        .iter_mut()
        .find(|o| o.kind() == "ServiceAccount")
        .unwrap()
        .value
}

fn without_pod_automount(objects: &mut [Object]) {
    deployment(objects)["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("automountServiceAccountToken");
}

/// `monitoring-network-reach`: `from` → `to` in base/networkpolicy.yaml drops the scrape.
const fn reach(from: &'static str, to: &'static str) -> Case {
    Case {
        rule: "monitoring-network-reach",
        edit: Edit::Base("base/networkpolicy.yaml", from, to),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].port",
        file: PODMON,
    }
}

/// `gitops-entry-point`: a hand edit of the region's Flux Kustomization.
const fn flux(from: &'static str, to: &'static str, subject: &'static str) -> Case {
    Case {
        rule: "gitops-entry-point",
        edit: Edit::Tree(FLUX_KS, from, to),
        subject,
        file: FLUX_KS,
    }
}

/// `gitops-entry-point`: a hand edit of the region's Argo CD Application.
const fn argo(from: &'static str, to: &'static str, subject: &'static str) -> Case {
    Case {
        rule: "gitops-entry-point",
        edit: Edit::ArgoTree(ARGO_APP, from, to),
        subject,
        file: ARGO_APP,
    }
}

/// `waiver-valid`: the Deployment annotated with the waiver text `$text`.
macro_rules! waiver {
    ($text:literal) => {
        Case {
            rule: "waiver-valid",
            edit: Edit::Base(
                DEP,
                "metadata:\n  name: hello\n",
                concat!(
                    "metadata:\n  name: hello\n  annotations:\n    gen.ha-gitops/waive: \"",
                    $text,
                    "\"\n"
                ),
            ),
            subject: "gen.ha-gitops/waive",
            file: DEP,
        }
    };
}

const CASES: &[Case] = &[
    Case {
        rule: "kustomize-build",
        edit: Edit::Tree(
            "overlays/eastus2/kustomization.yaml",
            "patches:\n",
            "patches:\n  - path: missing.yaml\n",
        ),
        subject: "",
        file: "overlays/eastus2",
    },
    Case {
        rule: "k8s-schema",
        edit: Edit::Base(
            DEP,
            "          readinessProbe:\n            httpGet:\n              path: /set-by-overlay/readiness\n              port: http\n            periodSeconds: 5\n            failureThreshold: 2\n            timeoutSeconds: 1\n",
            "",
        ),
        subject: "readinessProbe.httpGet.port",
        file: PATCH,
    },
    Case {
        rule: "overlay-placeholder",
        edit: Edit::Base(
            DEP,
            "            - name: LOG_LEVEL\n",
            "            - name: EXTRA\n              value: set-by-overlay\n            - name: LOG_LEVEL\n",
        ),
        subject: "Deployment/hello: spec.template.spec.containers[0].env",
        file: DEP,
    },
    Case {
        rule: "workload-deployment",
        edit: Edit::Objects(|o| o.retain(|o| o.kind() != "Deployment")),
        subject: "",
        file: "overlays/eastus2/kustomization.yaml",
    },
    Case {
        rule: "workload-probes",
        edit: Edit::Tree(
            PATCH,
            "          livenessProbe:\n            httpGet:\n              path: /healthz\n",
            "          livenessProbe:\n            httpGet:\n              path: /readyz\n",
        ),
        subject: "containers[0].livenessProbe.httpGet.path",
        file: PATCH,
    },
    Case {
        rule: "workload-zone-spread",
        edit: Edit::Base(
            DEP,
            "topologyKey: topology.kubernetes.io/zone\n          maxSkew: 1",
            "topologyKey: topology.kubernetes.io/zone\n          maxSkew: 2",
        ),
        subject: "spec.template.spec.topologySpreadConstraints",
        file: DEP,
    },
    Case {
        rule: "workload-host-spread",
        edit: Edit::Base(
            DEP,
            "topologyKey: kubernetes.io/hostname",
            "topologyKey: example.com/rack",
        ),
        subject: "spec.template.spec.topologySpreadConstraints",
        file: DEP,
    },
    Case {
        rule: "workload-pdb",
        edit: Edit::Base(
            "base/poddisruptionbudget.yaml",
            "      app.kubernetes.io/name: hello\n",
            "      app.kubernetes.io/name: other\n",
        ),
        subject: "Deployment/hello",
        file: DEP,
    },
    // A disruption allowed at the HPA's minimum (3): each form of the budget on its own.
    Case {
        rule: "workload-pdb",
        edit: Edit::Objects(|o| set_disruption(o, "minAvailable", json!(3))),
        subject: "PodDisruptionBudget/hello: spec",
        file: "overlays/eastus2/patch-poddisruptionbudget.yaml",
    },
    Case {
        rule: "workload-pdb",
        edit: Edit::Objects(|o| set_disruption(o, "minAvailable", json!("100%"))),
        subject: "PodDisruptionBudget/hello: spec",
        file: "overlays/eastus2/patch-poddisruptionbudget.yaml",
    },
    Case {
        rule: "workload-pdb",
        edit: Edit::Objects(|o| set_disruption(o, "maxUnavailable", json!("0%"))),
        subject: "PodDisruptionBudget/hello: spec",
        file: "overlays/eastus2/patch-poddisruptionbudget.yaml",
    },
    Case {
        rule: "workload-pdb",
        edit: Edit::Objects(|o| set_disruption(o, "maxUnavailable", json!("0"))),
        subject: "PodDisruptionBudget/hello: spec",
        file: "overlays/eastus2/patch-poddisruptionbudget.yaml",
    },
    Case {
        rule: "workload-pdb",
        edit: Edit::Objects(|o| set_disruption(o, "maxUnavailable", json!(0))),
        subject: "PodDisruptionBudget/hello: spec",
        file: "overlays/eastus2/patch-poddisruptionbudget.yaml",
    },
    // Three zones: a minimum of 2 leaves one empty; a maximum below the minimum.
    Case {
        rule: "workload-hpa",
        edit: Edit::Objects(|o| hpa_spec(o)["minReplicas"] = json!(2)),
        subject: "HorizontalPodAutoscaler/hello: spec.minReplicas",
        file: "catalogue.yaml",
    },
    Case {
        rule: "workload-hpa",
        edit: Edit::Objects(|o| hpa_spec(o)["maxReplicas"] = json!(2)),
        subject: "HorizontalPodAutoscaler/hello: spec.maxReplicas",
        file: "catalogue.yaml",
    },
    Case {
        rule: "workload-hpa",
        edit: Edit::Objects(|o| {
            let h = o
                .iter_mut()
                .find(|o| o.kind() == "HorizontalPodAutoscaler")
                .unwrap();
            h.value["spec"]["scaleTargetRef"]["name"] = json!("other");
        }),
        subject: "Deployment/hello",
        file: DEP,
    },
    Case {
        rule: "workload-replicas-owned-by-hpa",
        edit: Edit::Base(
            DEP,
            "  revisionHistoryLimit: 5\n",
            "  replicas: 3\n  revisionHistoryLimit: 5\n",
        ),
        subject: "Deployment/hello: spec.replicas",
        file: DEP,
    },
    Case {
        rule: "workload-resources",
        edit: Edit::Objects(|o| {
            let c = &mut deployment(o)["spec"]["template"]["spec"]["containers"][0];
            c["resources"].as_object_mut().unwrap().remove("limits");
        }),
        subject: "resources.limits.memory",
        file: "catalogue.yaml",
    },
    Case {
        rule: "workload-service-account-token",
        edit: Edit::Base(
            DEP,
            "      automountServiceAccountToken: false\n",
            "      automountServiceAccountToken: true\n",
        ),
        subject: "automountServiceAccountToken",
        file: DEP,
    },
    Case {
        rule: "workload-image-registry",
        edit: Edit::Base(
            DEP,
            "      serviceAccountName: hello\n",
            "      serviceAccountName: hello\n      imagePullSecrets:\n        - name: regcred\n",
        ),
        subject: "imagePullSecrets",
        file: DEP,
    },
    Case {
        rule: "workload-graceful-shutdown",
        edit: Edit::Tree(
            PATCH,
            "terminationGracePeriodSeconds: 30",
            "terminationGracePeriodSeconds: 15",
        ),
        subject: "terminationGracePeriodSeconds",
        file: PATCH,
    },
    // The grace period must exceed drain + shutdown (10 + 10); both are numbers on the app.
    Case {
        rule: "workload-graceful-shutdown",
        edit: Edit::Tree(
            PATCH,
            "terminationGracePeriodSeconds: 30",
            "terminationGracePeriodSeconds: 20",
        ),
        subject: "terminationGracePeriodSeconds",
        file: PATCH,
    },
    Case {
        rule: "workload-graceful-shutdown",
        edit: Edit::Tree(
            PATCH,
            "            - name: DRAIN_DELAY_SECONDS\n              value: \"10\"\n",
            "            - name: DRAIN_DELAY_SECONDS\n              value: \"ten\"\n",
        ),
        subject: "env",
        file: PATCH,
    },
    // The token: the pod's own setting wins, else its ServiceAccount's, else Kubernetes' (on).
    Case {
        rule: "workload-service-account-token",
        edit: Edit::Objects(|o| {
            without_pod_automount(o);
            service_account(o)["automountServiceAccountToken"] = json!(true);
        }),
        subject: "automountServiceAccountToken",
        file: DEP,
    },
    Case {
        rule: "workload-security-context",
        edit: Edit::Base(
            DEP,
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
        ),
        subject: "readOnlyRootFilesystem",
        file: DEP,
    },
    Case {
        rule: "pss-host-namespaces",
        edit: Edit::Base(
            DEP,
            "      serviceAccountName: hello\n",
            "      serviceAccountName: hello\n      hostNetwork: true\n",
        ),
        subject: "spec.template.spec.hostNetwork",
        file: DEP,
    },
    Case {
        rule: "pss-privileged",
        edit: Edit::Base(DEP, "privileged: false", "privileged: true"),
        subject: "securityContext.privileged",
        file: DEP,
    },
    Case {
        rule: "pss-capabilities",
        edit: Edit::Base(
            DEP,
            "              drop:\n                - ALL\n",
            "              drop:\n                - ALL\n              add:\n                - NET_ADMIN\n",
        ),
        subject: "capabilities.add",
        file: DEP,
    },
    Case {
        rule: "pss-host-path",
        edit: Edit::Base(
            DEP,
            "      containers:\n",
            "      volumes:\n        - name: host\n          hostPath:\n            path: /etc\n      containers:\n",
        ),
        subject: "volumes[0].hostPath",
        file: DEP,
    },
    Case {
        rule: "pss-host-ports",
        edit: Edit::Tree(
            PATCH,
            "              containerPort: 8080\n",
            "              containerPort: 8080\n              hostPort: 8080\n",
        ),
        subject: "ports[0].hostPort",
        file: PATCH,
    },
    Case {
        rule: "pss-volume-types",
        edit: Edit::Base(
            DEP,
            "      containers:\n",
            "      volumes:\n        - name: share\n          nfs:\n            server: nfs.example\n            path: /\n      containers:\n",
        ),
        subject: "volumes[0].nfs",
        file: DEP,
    },
    Case {
        rule: "pss-privilege-escalation",
        edit: Edit::Base(
            DEP,
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
        ),
        subject: "allowPrivilegeEscalation",
        file: DEP,
    },
    Case {
        rule: "pss-seccomp",
        edit: Edit::Objects(|o| {
            let pod = &mut deployment(o)["spec"]["template"]["spec"];
            pod["securityContext"]["seccompProfile"]["type"] = json!("Unconfined");
            pod["containers"][0]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("seccompProfile");
        }),
        subject: "seccompProfile",
        file: DEP,
    },
    Case {
        rule: "pss-run-as-non-root",
        edit: Edit::Objects(|o| {
            let pod = &mut deployment(o)["spec"]["template"]["spec"];
            pod["securityContext"]["runAsNonRoot"] = json!(false);
            pod["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
        }),
        subject: "runAsNonRoot",
        file: DEP,
    },
    Case {
        rule: "pss-proc-mount",
        edit: Edit::Base(
            DEP,
            "            privileged: false\n",
            "            privileged: false\n            procMount: Unmasked\n",
        ),
        subject: "procMount",
        file: DEP,
    },
    Case {
        rule: "pss-sysctls",
        edit: Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        sysctls:\n          - name: kernel.msgmax\n            value: \"65536\"\n",
        ),
        subject: "sysctls[0]",
        file: DEP,
    },
    Case {
        rule: "pss-selinux-apparmor",
        edit: Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        seLinuxOptions:\n          type: spc_t\n",
        ),
        subject: "seLinuxOptions",
        file: DEP,
    },
    Case {
        rule: "pss-selinux-apparmor",
        edit: Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        seLinuxOptions:\n          user: system_u\n",
        ),
        subject: "seLinuxOptions",
        file: DEP,
    },
    Case {
        rule: "pss-selinux-apparmor",
        edit: Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        seLinuxOptions:\n          role: sysadm_r\n",
        ),
        subject: "seLinuxOptions",
        file: DEP,
    },
    Case {
        rule: "pss-selinux-apparmor",
        edit: Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        appArmorProfile:\n          type: Unconfined\n",
        ),
        subject: "appArmorProfile.type",
        file: DEP,
    },
    Case {
        rule: "pss-host-process",
        edit: Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        windowsOptions:\n          hostProcess: true\n",
        ),
        subject: "windowsOptions.hostProcess",
        file: DEP,
    },
    Case {
        rule: "workload-network-policy",
        edit: Edit::Base(
            "base/networkpolicy.yaml",
            "        - port: 53\n          protocol: TCP\n",
            "        - port: 443\n          protocol: TCP\n",
        ),
        subject: "NetworkPolicy/hello: spec.egress[0]",
        file: "base/networkpolicy.yaml",
    },
    // Default deny must deny both directions, for every pod, with no rules.
    Case {
        rule: "workload-network-policy",
        edit: Edit::Base(
            "base/networkpolicy.yaml",
            "  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n",
            "  podSelector: {}\n  policyTypes:\n    - Ingress\n",
        ),
        subject: "",
        file: "overlays/eastus2/kustomization.yaml",
    },
    Case {
        rule: "workload-network-policy",
        edit: Edit::Base(
            "base/networkpolicy.yaml",
            "  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n",
            "  podSelector: {}\n  policyTypes:\n    - Egress\n",
        ),
        subject: "",
        file: "overlays/eastus2/kustomization.yaml",
    },
    Case {
        rule: "workload-network-policy",
        edit: Edit::Base(
            "base/networkpolicy.yaml",
            "  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n",
            "  podSelector: {}\n  policyTypes:\n    - Egress\n    - Ingress\n  ingress:\n    - {}\n",
        ),
        subject: "",
        file: "overlays/eastus2/kustomization.yaml",
    },
    Case {
        rule: "workload-network-policy",
        edit: Edit::Base(
            "base/networkpolicy.yaml",
            "  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n",
            "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: hello\n  policyTypes:\n    - Ingress\n    - Egress\n",
        ),
        subject: "",
        file: "overlays/eastus2/kustomization.yaml",
    },
    Case {
        rule: "workload-network-policy",
        edit: Edit::Base(
            "base/networkpolicy.yaml",
            "        - port: http\n",
            "        - port: 8443\n",
        ),
        subject: "NetworkPolicy/hello: spec.ingress[0].ports",
        file: "base/networkpolicy.yaml",
    },
    Case {
        rule: "service-static-ip",
        edit: Edit::Tree(
            "overlays/eastus2/patch-service.yaml",
            "azure-pip-name: pip-hello-eastus2",
            "azure-pip-name: pip-hello-westus",
        ),
        subject: "azure-pip-name",
        file: "overlays/eastus2/patch-service.yaml",
    },
    Case {
        rule: "region-values",
        edit: Edit::Tree(
            "overlays/eastus2/patch-horizontalpodautoscaler.yaml",
            "  maxReplicas: 12\n",
            "  maxReplicas: 13\n",
        ),
        subject: "HorizontalPodAutoscaler/hello: spec.maxReplicas",
        file: "overlays/eastus2/patch-horizontalpodautoscaler.yaml",
    },
    // The image the pod reports (`GET /default`, read by `gen promote`'s serving gate) must be
    // the one the region runs.
    Case {
        rule: "region-values",
        edit: Edit::Tree(
            PATCH,
            "value: \"contosoha.azurecr.io/hello:",
            "value: \"contosoha.azurecr.io/hello:9.9.9-",
        ),
        subject: "env[IMAGE]",
        file: PATCH,
    },
    // Each condition of the entry point alone (an `a || b` check needs one case per side).
    // The LoadBalancer's port, the zones, and the replica count of a Deployment no HPA scales.
    Case {
        rule: "region-values",
        edit: Edit::Tree(
            "overlays/eastus2/patch-service.yaml",
            "      port: 80\n",
            "      port: 81\n",
        ),
        subject: "Service/hello: spec.ports[0].port",
        file: "overlays/eastus2/patch-service.yaml",
    },
    Case {
        rule: "region-values",
        edit: Edit::Tree(PATCH, "                      - eastus2-3\n", ""),
        subject: "Deployment/hello: spec.template.spec.affinity.nodeAffinity",
        file: PATCH,
    },
    Case {
        rule: "region-values",
        edit: Edit::Base(
            "base/horizontalpodautoscaler.yaml",
            "    kind: Deployment\n    name: hello\n",
            "    kind: Deployment\n    name: another\n",
        ),
        subject: "Deployment/hello: spec.replicas",
        file: PATCH,
    },
    Case {
        rule: "region-values",
        edit: Edit::Objects(|objects| objects.retain(|o| o.kind() != "HorizontalPodAutoscaler")),
        subject: "Deployment/hello: spec.replicas",
        file: PATCH,
    },
    flux(
        "prune: true",
        "prune: false",
        "Kustomization/hello: spec.prune",
    ),
    flux(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\n",
        "Kustomization/hello: apiVersion",
    ),
    flux(
        "path: ./overlays/eastus2\n",
        "path: ./overlays/westus3\n",
        "Kustomization/hello: spec.path",
    ),
    flux(
        "    kind: GitRepository\n",
        "    kind: OCIRepository\n",
        "Kustomization/hello: spec.sourceRef",
    ),
    flux(
        "    name: cluster-config\n",
        "    name: another-source\n",
        "Kustomization/hello: spec.sourceRef",
    ),
    flux(
        "  namespace: flux-system\n",
        "  namespace: another-namespace\n",
        "Kustomization/hello: spec.sourceRef",
    ),
    flux(
        "  wait: true\n",
        "  wait: false\n",
        "Kustomization/hello: spec.wait",
    ),
    flux(
        "wait: true\n",
        "wait: false\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: StatefulSet\n      name: hello\n      namespace: hello\n",
        "Kustomization/hello: spec.wait",
    ),
    flux(
        "wait: true\n",
        "wait: false\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: Deployment\n      name: another\n      namespace: hello\n",
        "Kustomization/hello: spec.wait",
    ),
    flux(
        "wait: true\n",
        "wait: false\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: Deployment\n      name: hello\n      namespace: another\n",
        "Kustomization/hello: spec.wait",
    ),
    flux(
        "wait: true\n",
        "wait: true\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: Deployment\n      name: hello\n      namespace: hello\n",
        "Kustomization/hello: spec.healthChecks",
    ),
    Case {
        rule: "gitops-entry-point",
        edit: Edit::Tree(
            "clusters/eastus2/kustomization.yaml",
            "  - hello.yaml\n",
            "  - hello.yaml\n  - missing.yaml\n",
        ),
        subject: "resources",
        file: "clusters/eastus2/kustomization.yaml",
    },
    argo(
        "apiVersion: argoproj.io/v1alpha1\n",
        "apiVersion: argoproj.io/v1beta1\n",
        "Application/hello-eastus2: apiVersion",
    ),
    argo(
        "path: overlays/eastus2\n",
        "path: overlays/westus3\n",
        "spec.source",
    ),
    argo(
        "repoURL: \"https://github.com/contoso/ha-gitops\"\n",
        "repoURL: \"https://github.com/contoso/another\"\n",
        "spec.source",
    ),
    argo(
        "targetRevision: main\n",
        "targetRevision: another\n",
        "spec.source",
    ),
    Case {
        rule: "k8s-schema",
        edit: Edit::Tree(
            PODMON,
            "  podMetricsEndpoints:\n",
            "  podMetricEndpoints: []\n  podMetricsEndpoints:\n",
        ),
        subject: "PodMonitor/hello: spec.podMetricEndpoints",
        file: PODMON,
    },
    Case {
        rule: "k8s-schema",
        edit: Edit::Tree(PODMON, "    - port: http\n", "    - scheme: http\n"),
        subject: "PodMonitor/hello",
        file: PODMON,
    },
    Case {
        rule: "k8s-schema",
        edit: Edit::Tree(
            PODMON,
            "apiVersion: azmonitoring.coreos.com/v1",
            "apiVersion: monitoring.coreos.com/v1",
        ),
        subject: "PodMonitor/hello: apiVersion",
        file: "overlays/eastus2",
    },
    Case {
        rule: "monitoring-pod-monitor",
        edit: Edit::Tree(
            PODMON,
            "      app.kubernetes.io/instance: hello\n",
            "      app.kubernetes.io/instance: hello-canary\n",
        ),
        subject: "PodMonitor/hello: spec.selector",
        file: PODMON,
    },
    Case {
        rule: "monitoring-pod-monitor",
        edit: Edit::Tree(
            "overlays/eastus2/kustomization.yaml",
            "  - podmonitor.yaml\n",
            "",
        ),
        subject: "",
        file: "overlays/eastus2",
    },
    Case {
        rule: "monitoring-pod-monitor",
        edit: Edit::Tree(
            PODMON,
            "  selector:\n",
            "  namespaceSelector:\n    matchNames: [default]\n  selector:\n",
        ),
        subject: "PodMonitor/hello: spec.namespaceSelector",
        file: PODMON,
    },
    Case {
        rule: "monitoring-scrape-target",
        edit: Edit::Tree(PODMON, "      path: /metrics\n", "      path: /stats\n"),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].path",
        file: PODMON,
    },
    Case {
        rule: "monitoring-scrape-target",
        edit: Edit::Tree(PODMON, "    - port: http\n", "    - port: metrics\n"),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].port",
        file: PODMON,
    },
    Case {
        rule: "monitoring-scrape-target",
        edit: Edit::Tree(PODMON, "      interval: \"30s\"\n", "      interval: 5m\n"),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].interval",
        file: PODMON,
    },
    Case {
        rule: "monitoring-region-label",
        edit: Edit::Tree(
            PODMON,
            "          replacement: eastus2\n",
            "          replacement: centralus\n",
        ),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].relabelings[0]",
        file: PODMON,
    },
    Case {
        rule: "monitoring-region-label",
        edit: Edit::Tree(
            PODMON,
            "          replacement: eastus2\n",
            "          replacement: eastus2\n      metricRelabelings:\n        - action: labeldrop\n          regex: region\n",
        ),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].metricRelabelings",
        file: PODMON,
    },
    reach(
        "    - ports:\n        - port: http\n",
        "    - from:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n      ports:\n        - port: http\n",
    ),
    reach(
        "    - ports:\n        - port: http\n",
        "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n          podSelector:\n            matchLabels:\n              k8s-app: kube-dns\n      ports:\n        - port: http\n",
    ),
    // The agent's namespace and pods, each condition on its own.
    reach(
        "    - ports:\n        - port: http\n",
        "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-public\n          podSelector:\n            matchLabels:\n              rsName: ama-metrics\n      ports:\n        - port: http\n",
    ),
    reach(
        "    - ports:\n        - port: http\n",
        "    - from:\n        - namespaceSelector:\n            matchExpressions:\n              - {key: team, operator: Exists}\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n          podSelector:\n            matchLabels:\n              rsName: ama-metrics\n      ports:\n        - port: http\n",
    ),
    reach(
        "    - ports:\n        - port: http\n",
        "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n          podSelector:\n            matchLabels:\n              rsName: ama-logs\n      ports:\n        - port: http\n",
    ),
    Case {
        rule: "monitoring-pod-monitor",
        edit: Edit::Tree(
            PODMON,
            "  selector:\n",
            "  namespaceSelector:\n    any: false\n  selector:\n",
        ),
        subject: "PodMonitor/hello: spec.namespaceSelector",
        file: PODMON,
    },
    Case {
        rule: "monitoring-scrape-target",
        edit: Edit::Tree(
            PODMON,
            "      path: /metrics\n",
            "      path: /metrics\n      scheme: https\n",
        ),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].scheme",
        file: PODMON,
    },
    Case {
        rule: "monitoring-region-label",
        edit: Edit::Tree(
            PODMON,
            "          replacement: eastus2\n",
            "          replacement: eastus2\n      metricRelabelings:\n        - action: replace\n          targetLabel: region\n          replacement: eastus2\n",
        ),
        subject: "PodMonitor/hello: spec.podMetricsEndpoints[0].metricRelabelings",
        file: PODMON,
    },
    // The scraped port: by name, number or range, over TCP.
    reach(
        "        - port: http\n          protocol: TCP\n",
        "        - port: http\n          protocol: UDP\n",
    ),
    reach(
        "        - port: http\n          protocol: TCP\n",
        "        - port: 8081\n          protocol: TCP\n",
    ),
    reach(
        "        - port: http\n          protocol: TCP\n",
        "        - port: 8000\n          endPort: 8079\n          protocol: TCP\n",
    ),
    // Which policies count: one that selects other pods does not admit the agent, nor one
    // whose selector has expressions (it cannot be shown to select the pods).
    reach(
        "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: hello\n",
        "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: another\n",
    ),
    reach(
        "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: hello\n",
        "  podSelector:\n    matchExpressions:\n      - {key: team, operator: Exists}\n    matchLabels:\n      app.kubernetes.io/name: hello\n",
    ),
    Case {
        rule: "monitoring-pod-monitor",
        edit: Edit::Catalogue(
            "  workspace: amw-contoso-ha\n",
            "  workspace: amw-contoso-ha\n  scrape: false\n  alerts: false\n",
        ),
        subject: "PodMonitor/hello",
        file: PODMON,
    },
    waiver!("pss-seccomp"),
    // A reason after the colon, a known rule, and never the waiver rule itself.
    waiver!("pss-seccomp:"),
    waiver!("pss-seccomp:   "),
    waiver!(": the image needs it"),
    waiver!("no-such-rule: the image needs it"),
    Case {
        rule: "waiver-valid",
        edit: Edit::Base(
            DEP,
            "metadata:\n  name: hello\n",
            "metadata:\n  name: hello\n  annotations:\n    gen.ha-gitops/waive: \"waiver-valid: it is in the way\"\n",
        ),
        subject: "gen.ha-gitops/waive",
        file: DEP,
    },
];

/// Inputs next to a failing case that the rule must accept: the other side of a condition
/// (a check that reports too much is as broken as one that reports too little).
const ACCEPTED: &[(&str, Edit)] = &[
    // Without `wait`, a health check of the Deployment is what Flux needs.
    (
        "gitops-entry-point",
        Edit::Tree(
            FLUX_KS,
            "  wait: true\n",
            "  wait: false\n  healthChecks:\n    - apiVersion: apps/v1\n      kind: Deployment\n      name: hello\n      namespace: hello\n",
        ),
    ),
    // The agent admitted by namespace and pod labels, not only by an allow-all rule.
    (
        "monitoring-network-reach",
        Edit::Base(
            "base/networkpolicy.yaml",
            "    - ports:\n        - port: http\n",
            "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n          podSelector:\n            matchLabels:\n              rsName: ama-metrics\n      ports:\n        - port: http\n",
        ),
    ),
    // A PodMonitor in another namespace that selects every namespace, or names the pods' one.
    (
        "monitoring-pod-monitor",
        Edit::Tree(
            PODMON,
            "  selector:\n",
            "  namespaceSelector:\n    any: true\n  selector:\n",
        ),
    ),
    (
        "monitoring-pod-monitor",
        Edit::Tree(
            PODMON,
            "  selector:\n",
            "  namespaceSelector:\n    matchNames: [default, hello]\n  selector:\n",
        ),
    ),
    (
        "monitoring-scrape-target",
        Edit::Tree(
            PODMON,
            "      path: /metrics\n",
            "      path: /metrics\n      scheme: http\n",
        ),
    ),
    (
        "monitoring-network-reach",
        Edit::Base(
            "base/networkpolicy.yaml",
            "        - port: http\n          protocol: TCP\n",
            "        - port: 8080\n",
        ),
    ),
    (
        "monitoring-network-reach",
        Edit::Base(
            "base/networkpolicy.yaml",
            "        - port: http\n          protocol: TCP\n",
            "        - port: 8000\n          endPort: 8080\n          protocol: TCP\n",
        ),
    ),
    // An Ingress-only policy admits; `from: []` is from everywhere; no policy restricts nothing.
    (
        "monitoring-network-reach",
        Edit::Base(
            "base/networkpolicy.yaml",
            "    - Egress\n  ingress:\n",
            "  ingress:\n",
        ),
    ),
    (
        "monitoring-network-reach",
        Edit::Base(
            "base/networkpolicy.yaml",
            "    - ports:\n        - port: http\n",
            "    - from: []\n      ports:\n        - port: http\n",
        ),
    ),
    (
        "monitoring-network-reach",
        Edit::Objects(|objects| objects.retain(|o| o.kind() != "NetworkPolicy")),
    ),
    // Allowed volume types pass; a hostPath is reported once, by pss-host-path.
    (
        "pss-volume-types",
        Edit::Base(
            DEP,
            "      containers:\n",
            "      volumes:\n        - name: cache\n          emptyDir: {}\n        - name: settings\n          configMap:\n            name: hello\n      containers:\n",
        ),
    ),
    (
        "pss-volume-types",
        Edit::Base(
            DEP,
            "      containers:\n",
            "      volumes:\n        - name: host\n          hostPath:\n            path: /var/log\n      containers:\n",
        ),
    ),
    // The restricted profile allows the container SELinux types and any AppArmor but Unconfined.
    (
        "pss-selinux-apparmor",
        Edit::Base(
            DEP,
            "        fsGroup: 65532\n",
            "        fsGroup: 65532\n        seLinuxOptions:\n          type: container_t\n          level: \"s0:c123,c456\"\n        appArmorProfile:\n          type: RuntimeDefault\n",
        ),
    ),
    // Other node-affinity expressions are not zones; without an HPA, replicas = min passes.
    (
        "region-values",
        Edit::Tree(
            PATCH,
            "              - matchExpressions:\n",
            "              - matchExpressions:\n                  - key: kubernetes.io/os\n                    operator: In\n                    values: [linux]\n",
        ),
    ),
    (
        "region-values",
        Edit::Objects(|objects| {
            objects.retain(|o| o.kind() != "HorizontalPodAutoscaler");
            deployment(objects)["spec"]["replicas"] = json!(3);
        }),
    ),
    // Budgets that allow one disruption at 3 replicas.
    (
        "workload-pdb",
        Edit::Objects(|o| set_disruption(o, "minAvailable", json!(2))),
    ),
    (
        "workload-pdb",
        Edit::Objects(|o| set_disruption(o, "minAvailable", json!("50%"))),
    ),
    (
        "workload-pdb",
        Edit::Objects(|o| set_disruption(o, "maxUnavailable", json!("25%"))),
    ),
    // Anti-affinity on hostnames, required or preferred, instead of the spread.
    (
        "workload-host-spread",
        Edit::Objects(|o| {
            hostname_anti_affinity(
                o,
                json!({"requiredDuringSchedulingIgnoredDuringExecution": [anti_term()]}),
            )
        }),
    ),
    (
        "workload-host-spread",
        Edit::Objects(|o| {
            hostname_anti_affinity(
                o,
                json!({"preferredDuringSchedulingIgnoredDuringExecution":
                    [{"weight": 100, "podAffinityTerm": anti_term()}]}),
            )
        }),
    ),
    // Above the zone count, and max equal to min.
    (
        "workload-hpa",
        Edit::Objects(|o| {
            let spec = hpa_spec(o);
            spec["minReplicas"] = json!(4);
            spec["maxReplicas"] = json!(4);
        }),
    ),
    // The ServiceAccount the pod names turns the token off (another one's setting is not it).
    (
        "workload-service-account-token",
        Edit::Objects(|o| {
            without_pod_automount(o);
            let mut other = o
                .iter()
                .find(|o| o.kind() == "ServiceAccount")
                .unwrap()
                .clone();
            other.value["metadata"]["name"] = json!("another");
            other.value["automountServiceAccountToken"] = json!(true);
            o.push(other);
        }),
    ),
    // A sidecar needs no drain settings: only the app container drains.
    (
        "workload-graceful-shutdown",
        Edit::Objects(|o| {
            let containers = deployment(o)["spec"]["template"]["spec"]["containers"]
                .as_array_mut()
                .unwrap();
            let mut sidecar = containers[0].clone();
            sidecar["name"] = json!("sidecar");
            sidecar.as_object_mut().unwrap().remove("env");
            containers.push(sidecar);
        }),
    ),
];

/// A build that failed or an object that does not parse stops the typed rules: their
/// findings would be about a half-built region, and bury the one that matters.
#[test]
fn a_broken_build_or_schema_reports_only_that() {
    for rule in ["kustomize-build", "k8s-schema"] {
        let case = CASES.iter().find(|c| c.rule == rule).unwrap();
        let rules: std::collections::BTreeSet<&str> =
            findings(Some(&case.edit)).iter().map(|f| f.rule).collect();
        assert_eq!(rules, [rule].into(), "{rule}");
    }
}

#[test]
fn every_accepted_variant_passes_its_rule() {
    let mut failures = Vec::new();
    for (rule, edit) in ACCEPTED {
        let found = findings(Some(edit));
        failures.extend(
            found
                .iter()
                .filter(|f| f.rule == *rule)
                .map(|f| format!("{rule}: must accept its variant, reported {f}")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The shipped base and the default catalogue rendered once per GitOps engine.
struct Fixture {
    base: BTreeMap<String, String>,
    flux: Rendered,
    argocd: Rendered,
}

struct Rendered {
    catalogue: catalogue::Catalogue,
    text: String,
    tree: RenderedTree,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("tests/fixtures/catalogue-default.yaml");
        let base = Base::load(&root.join("../base")).unwrap();
        let render = |text: String| {
            let catalogue = catalogue::parse(&path, &text).unwrap();
            let tree =
                crate::render::render_tree(&catalogue, &base.names, &RegionSelection::All).unwrap();
            Rendered {
                catalogue,
                text,
                tree,
            }
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let argocd = text.replacen("engine: flux", "engine: argocd", 1);
        assert_ne!(text, argocd, "the fixture names its engine");
        Fixture {
            flux: render(text),
            argocd: render(argocd),
            base: base.files,
        }
    })
}

fn replace_once(text: &mut String, from: &str, to: &str, what: &str) {
    assert!(text.contains(from), "{what} has no {from:?}");
    *text = text.replacen(from, to, 1);
}

/// Every finding for `eastus2` with `edit` applied (none: the fixed twin, rendered with Flux).
fn findings(edit: Option<&Edit>) -> Vec<Finding> {
    let engine = match edit {
        Some(Edit::ArgoTree(..)) => GitOpsEngine::Argocd,
        _ => GitOpsEngine::Flux,
    };
    findings_with(engine, edit)
}

fn findings_with(engine: GitOpsEngine, edit: Option<&Edit>) -> Vec<Finding> {
    let fx = fixture();
    let rendered = match engine {
        GitOpsEngine::Flux => &fx.flux,
        GitOpsEngine::Argocd => &fx.argocd,
    };
    let mut base_files = fx.base.clone();
    let mut tree = rendered.tree.clone();
    match edit {
        Some(Edit::Base(file, from, to)) => {
            replace_once(base_files.get_mut(*file).unwrap(), from, to, file)
        }
        Some(Edit::Tree(file, from, to) | Edit::ArgoTree(file, from, to)) => replace_once(
            tree.files.get_mut(&PathBuf::from(file)).unwrap(),
            from,
            to,
            file,
        ),
        _ => {}
    }
    let base = Base::from_files(base_files).unwrap();
    let mut built = base.hydrate(&tree, REGION);
    if let (Some(Edit::Objects(f)), Ok(objects)) = (edit, built.as_mut()) {
        f(objects);
    }
    let (catalogue, text) = match edit {
        Some(Edit::Catalogue(from, to)) => {
            let mut text = rendered.text.clone();
            replace_once(&mut text, from, to, "the catalogue");
            let edited = catalogue::parse(Path::new("catalogue.yaml"), &text).unwrap();
            (edited, text)
        }
        _ => (rendered.catalogue.clone(), rendered.text.clone()),
    };
    let index = catalogue
        .regions
        .iter()
        .position(|r| r.name == REGION)
        .unwrap();
    let region = catalogue.regions[index].clone();
    let build = Build::new(Arc::new(catalogue), region, &tree, built);
    check_build(
        &build,
        &base,
        index,
        Sources {
            catalogue_file: "catalogue.yaml",
            catalogue_text: &text,
            fresh: Some(&rendered.tree),
        },
    )
}

#[test]
fn every_rule_fails_on_its_minimal_input_at_the_right_place_and_its_twin_passes() {
    for engine in [GitOpsEngine::Flux, GitOpsEngine::Argocd] {
        let twin = findings_with(engine, None);
        assert!(
            twin.is_empty(),
            "the fixed twin ({engine:?}) must pass: {twin:#?}"
        );
    }
    let mut failures = Vec::new();
    for case in CASES {
        let found = findings(Some(&case.edit));
        let hit = found.iter().find(|f| {
            f.rule == case.rule
                && f.subject.contains(case.subject)
                && f.location
                    .as_ref()
                    .is_some_and(|l| l.file.starts_with(case.file))
                && f.is_blocking()
        });
        if hit.is_none() {
            failures.push(format!(
                "{}: expected a finding at `{}` on `{}`, got:\n{}",
                case.rule,
                case.file,
                case.subject,
                found
                    .iter()
                    .map(|f| format!("  {f}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_waiver_with_a_reason_lists_the_finding_as_waived_and_unblocks_it() {
    let edit = Edit::Base(
        DEP,
        "metadata:\n  name: hello\n",
        "metadata:\n  name: hello\n  annotations:\n    gen.ha-gitops/waive: \"workload-security-context: the image writes its cache to /\"\n",
    );
    let with_waiver = {
        // The waived finding needs the broken value too.
        let fx = fixture();
        let mut files = fx.base.clone();
        let dep = files.get_mut(DEP).unwrap();
        replace_once(
            dep,
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
            DEP,
        );
        let Edit::Base(_, from, to) = edit else {
            unreachable!()
        };
        replace_once(dep, from, to, DEP);
        let base = Base::from_files(files).unwrap();
        let built = base.hydrate(&fx.flux.tree, REGION);
        let region = fx.flux.catalogue.region(REGION).unwrap().clone();
        let build = Build::new(
            Arc::new(fx.flux.catalogue.clone()),
            region,
            &fx.flux.tree,
            built,
        );
        check_build(&build, &base, 0, Sources::default())
    };
    let f = with_waiver
        .iter()
        .find(|f| f.rule == "workload-security-context")
        .expect("the finding is still listed");
    assert_eq!(f.waived.as_deref(), Some("the image writes its cache to /"));
    assert!(!f.is_blocking());
    assert!(f.to_string().contains("waived[workload-security-context]"));
    assert!(
        with_waiver.iter().all(|f| !f.is_blocking()),
        "{with_waiver:#?}"
    );
}

#[test]
fn tree_stale_fails_on_a_directory_the_catalogue_lacks_and_passes_without_it() {
    let fx = fixture();
    let mut tree = fx.flux.tree.clone();
    assert!(crate::validate::tree_findings(&fx.flux.catalogue, &tree).is_empty());
    tree.files
        .insert("overlays/ghost/kustomization.yaml".into(), String::new());
    let f = crate::validate::tree_findings(&fx.flux.catalogue, &tree);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule, "tree-stale");
    assert_eq!(f[0].location.as_ref().unwrap().file, "overlays/ghost");
}

#[test]
fn every_registered_rule_has_a_case_and_a_readme_entry_and_ids_are_unique() {
    let readme = include_str!("../README.md");
    let mut missing = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in all_rules() {
        assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
        let cased = r.id == "tree-stale" || CASES.iter().any(|c| c.rule == r.id);
        if !cased {
            missing.push(format!("{}: no case in src/rule_cases.rs", r.id));
        }
        if !readme.contains(&format!("`{}`", r.id)) {
            missing.push(format!("{}: no entry in generator/README.md", r.id));
        }
        assert!(!r.why.is_empty() && !r.fix.is_empty(), "{}", r.id);
    }
    for c in CASES {
        assert!(
            all_rules().iter().any(|r| r.id == c.rule),
            "case for unknown rule {}",
            c.rule
        );
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
