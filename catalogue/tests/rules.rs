//! Every catalogue rule, proven by failing cases: a minimal edit of the frozen fixture that
//! breaks it (expected rule id and line), and its fixed twin, an edit as close as possible
//! that passes every rule. A registered rule without a case, or missing from
//! docs/catalogue.md, fails the suite.

mod common;

use catalogue::{CatalogueError, POLICY, parse};
use common::{MON, edited, line_of, path};

struct Case {
    rule: &'static str,
    /// Edits of the fixture that break `rule`.
    bad: &'static [(&'static str, &'static str)],
    /// The finding points at the line holding this text (first one after `after`).
    line: &'static str,
    after: &'static str,
    /// The fixed twin: edits that stay valid.
    good: &'static [(&'static str, &'static str)],
}

const fn case(
    rule: &'static str,
    bad: &'static [(&'static str, &'static str)],
    line: &'static str,
    after: &'static str,
    good: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        rule,
        bad,
        line,
        after,
        good,
    }
}

const C2: &str = "- name: centralus";
const ZONES_CENTRAL: &str =
    "zones: [1, 2, 3]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus";
const MAX_12_EAST: &str = "replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-eastus2";
const MAX_12_CENTRAL: &str =
    "replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus";
const POOLS_CENTRAL: &str = "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus";
const SYSTEM_POOL: &str = "{ name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }";
const SHUTDOWN: &str =
    "    drainSeconds: 10\n    inFlightTimeoutSeconds: 10\n    terminationGracePeriodSeconds: 30";
const SERVICE_PORT: &str = "  servicePort: 80\n";
const REPO: &str = "repo: https://github.com/contoso/ha-gitops";
const REGIONS: &str = "\nregions:\n";
/// Where the cases insert a `monitoring` section (the fixture has none).
const MON_AT: &str = "\nregions:\n";
const TEN_WEBHOOKS: &str = "      - https://h0.example.com\n      - https://h1.example.com\n      - https://h2.example.com\n      - https://h3.example.com\n      - https://h4.example.com\n      - https://h5.example.com\n      - https://h6.example.com\n      - https://h7.example.com\n      - https://h8.example.com\n      - https://h9.example.com\n";
const ELEVEN_WEBHOOKS: &str = "      - https://h0.example.com\n      - https://h1.example.com\n      - https://h2.example.com\n      - https://h3.example.com\n      - https://h4.example.com\n      - https://h5.example.com\n      - https://h6.example.com\n      - https://h7.example.com\n      - https://h8.example.com\n      - https://h9.example.com\n      - https://h10.example.com\n";
const RECEIVERS: &str = "  receivers:
    emails:
      - oncall@example.com
      - ops@example.com
    webhooks:
      - https://hooks.example.com/alerts
";
const WORKSPACE: &str = "  workspace: amw-contoso-ha\n";

const CASES: &[Case] = &[
    // catalogue/regions
    case(
        "region-known",
        &[(C2, "- name: centralsu")],
        "centralsu",
        "",
        &[(C2, "- name: westus3")],
    ),
    case(
        "region-known",
        &[("home: eastus2", "home: eastsu2")],
        "home: eastsu2",
        "",
        &[("home: eastus2", "home: centralus")],
    ),
    case(
        "region-unique",
        &[(C2, "- name: eastus2")],
        "- name: eastus2",
        "priority: 1",
        &[(C2, "- name: westus3")],
    ),
    case(
        "priority-range",
        &[("priority: 2", "priority: 1001")],
        "priority: 1001",
        "",
        &[("priority: 2", "priority: 1000")],
    ),
    case(
        "priority-range",
        &[("priority: 2", "priority: 0")],
        "priority: 0",
        "",
        &[("priority: 2", "priority: 3")],
    ),
    case(
        "priority-unique",
        &[("priority: 2", "priority: 1")],
        "priority: 1",
        "centralus",
        &[("priority: 2", "priority: 3")],
    ),
    case(
        "priority-primary",
        &[("priority: 1\n", "priority: 3\n")],
        "regions:",
        "",
        &[
            ("priority: 1\n", "priority: 3\n"),
            ("priority: 2\n", "priority: 1\n"),
        ],
    ),
    case(
        "rotation-some-enabled",
        &[
            (
                "    priority: 1\n",
                "    priority: 1\n    inRotation: false\n",
            ),
            (
                "    priority: 2\n",
                "    priority: 2\n    inRotation: false\n",
            ),
        ],
        "inRotation: false",
        "",
        &[
            (
                "    priority: 1\n",
                "    priority: 1\n    inRotation: false\n",
            ),
            (
                "    priority: 2\n",
                "    priority: 2\n    inRotation: true\n",
            ),
        ],
    ),
    case(
        "zones-redundant",
        &[(
            ZONES_CENTRAL,
            "zones: [2]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        "zones: [2]",
        "centralus",
        &[(
            ZONES_CENTRAL,
            "zones: [1, 3]\n    replicas: { min: 4, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
    ),
    case(
        "zones-redundant",
        &[(
            ZONES_CENTRAL,
            "zones: [1, 1, 2]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        "zones: [1, 1, 2]",
        "centralus",
        &[(
            ZONES_CENTRAL,
            "zones: [3, 2, 1]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
    ),
    case(
        "zones-redundant",
        &[(
            ZONES_CENTRAL,
            "zones: [1, 2, 4]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        "zones: [1, 2, 4]",
        "centralus",
        &[],
    ),
    case(
        "zones-redundant",
        &[(
            ZONES_CENTRAL,
            "zones: [0, 1, 2]\n    replicas: { min: 3, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        "zones: [0, 1, 2]",
        "centralus",
        &[],
    ),
    case(
        "zones-redundant",
        &[(
            ZONES_CENTRAL,
            "nonZonal: true\n    zones: [1, 2]\n    replicas: { min: 2, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        "nonZonal: true",
        "centralus",
        &[(
            ZONES_CENTRAL,
            "nonZonal: true\n    replicas: { min: 1, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
    ),
    case(
        "zones-redundant",
        &[(
            ZONES_CENTRAL,
            "zones: []\n    replicas: { min: 1, max: 12 }\n    cluster:\n      name: aks-centralus",
        )],
        "zones: []",
        "centralus",
        &[],
    ),
    // catalogue/capacity
    case(
        "replicas-zone-multiple",
        &[(
            MAX_12_EAST,
            "replicas: { min: 4, max: 12 }\n    cluster:\n      name: aks-eastus2",
        )],
        "min: 4",
        "",
        &[(
            MAX_12_EAST,
            "replicas: { min: 6, max: 12 }\n    cluster:\n      name: aks-eastus2",
        )],
    ),
    case(
        "replicas-zone-multiple",
        &[(
            MAX_12_EAST,
            "replicas: { min: 2, max: 12 }\n    cluster:\n      name: aks-eastus2",
        )],
        "min: 2",
        "",
        &[(
            MAX_12_EAST,
            "replicas: { min: 9, max: 12 }\n    cluster:\n      name: aks-eastus2",
        )],
    ),
    case(
        "replicas-bounds",
        &[(
            MAX_12_CENTRAL,
            "replicas: { min: 6, max: 3 }\n    cluster:\n      name: aks-centralus",
        )],
        "replicas: { min: 6",
        "",
        &[(
            MAX_12_CENTRAL,
            "replicas: { min: 6, max: 6 }\n    cluster:\n      name: aks-centralus",
        )],
    ),
    case(
        "replicas-bounds",
        &[(
            MAX_12_CENTRAL,
            "replicas: { min: 0, max: 3 }\n    cluster:\n      name: aks-centralus",
        )],
        "replicas: { min: 0",
        "",
        &[(
            MAX_12_CENTRAL,
            "replicas: { min: 3, max: 3 }\n    cluster:\n      name: aks-centralus",
        )],
    ),
    case(
        "replicas-bounds",
        &[(
            MAX_12_CENTRAL,
            "replicas: { min: 3, max: 4294967295 }\n    cluster:\n      name: aks-centralus",
        )],
        "max: 4294967295",
        "",
        &[(
            MAX_12_CENTRAL,
            "replicas: { min: 3, max: 2147483647 }\n    cluster:\n      name: aks-centralus",
        )],
    ),
    case(
        "replicas-bounds",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  targetCpuUtilization: 0\n",
        )],
        "targetCpuUtilization",
        "",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  targetCpuUtilization: 100\n",
        )],
    ),
    case(
        "replicas-bounds",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  targetCpuUtilization: 101\n",
        )],
        "targetCpuUtilization",
        "",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  targetCpuUtilization: 1\n",
        )],
    ),
    case(
        "pdb-allows-disruption",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { minAvailable: 3 }\n",
        )],
        "replicas: { min: 3",
        "",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { minAvailable: 2 }\n",
        )],
    ),
    case(
        "pdb-allows-disruption",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { maxUnavailable: 0 }\n",
        )],
        "disruption",
        "",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { maxUnavailable: 1 }\n",
        )],
    ),
    case(
        "pdb-allows-disruption",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { maxUnavailable: 1, minAvailable: 1 }\n",
        )],
        "disruption",
        "",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { minAvailable: 1 }\n",
        )],
    ),
    case(
        "pdb-allows-disruption",
        &[(SERVICE_PORT, "  servicePort: 80\n  disruption: {}\n")],
        "disruption",
        "",
        &[(
            SERVICE_PORT,
            "  servicePort: 80\n  disruption: { maxUnavailable: 2 }\n",
        )],
    ),
    case(
        "failover-capacity",
        &[(
            MAX_12_EAST,
            "replicas: { min: 30, max: 60 }\n    cluster:\n      name: aks-eastus2",
        )],
        "min: 30",
        "",
        &[(
            MAX_12_EAST,
            "replicas: { min: 12, max: 60 }\n    cluster:\n      name: aks-eastus2",
        )],
    ),
    case(
        "failover-capacity",
        &[
            (
                MAX_12_EAST,
                "replicas: { min: 27, max: 60 }\n    cluster:\n      name: aks-eastus2",
            ),
            (
                "  rtoSeconds: 90\n",
                "  rtoSeconds: 90\n  takeoverRatio: 0.45\n",
            ),
        ],
        "min: 27",
        "",
        &[
            (
                MAX_12_EAST,
                "replicas: { min: 24, max: 60 }\n    cluster:\n      name: aks-eastus2",
            ),
            (
                "  rtoSeconds: 90\n",
                "  rtoSeconds: 90\n  takeoverRatio: 0.5\n",
            ),
        ],
    ),
    case(
        "failover-capacity",
        &[(
            "  rtoSeconds: 90\n",
            "  rtoSeconds: 90\n  takeoverRatio: 0\n",
        )],
        "takeoverRatio",
        "",
        &[(
            "  rtoSeconds: 90\n",
            "  rtoSeconds: 90\n  takeoverRatio: 1.0\n",
        )],
    ),
    case(
        "failover-capacity",
        &[(
            "  rtoSeconds: 90\n",
            "  rtoSeconds: 90\n  takeoverRatio: 1.01\n",
        )],
        "takeoverRatio",
        "",
        &[(
            "  rtoSeconds: 90\n",
            "  rtoSeconds: 90\n  takeoverRatio: 0.01\n",
        )],
    ),
    // catalogue/image
    case(
        "image-immutable",
        &[("tag: \"3.1.4\"", "tag: latest")],
        "tag: latest",
        "",
        &[("tag: \"3.1.4\"", "tag: \"3.1.5\"")],
    ),
    case(
        "image-immutable",
        &[("tag: \"3.1.4\"", "tag: stable")],
        "tag: stable",
        "",
        &[("tag: \"3.1.4\"", "tag: sha-1a2b3c4")],
    ),
    case(
        "image-immutable",
        &[("tag: \"3.1.4\"", "tag: banana")],
        "tag: banana",
        "",
        &[("tag: \"3.1.4\"", "tag: v1")],
    ),
    case(
        "image-immutable",
        &[("tag: \"3.1.4\"", "tag: \"-1.0\"")],
        "tag: \"-1.0\"",
        "",
        &[("tag: \"3.1.4\"", "tag: \"_1.0\"")],
    ),
    case(
        "image-immutable",
        &[("tag: \"3.1.4\"", "digest: sha256:abc")],
        "digest:",
        "",
        &[(
            "tag: \"3.1.4\"",
            "digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        )],
    ),
    case(
        "image-immutable",
        &[(
            "tag: \"3.1.4\"",
            "tag: \"3.1.4\"\n  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        )],
        "digest:",
        "",
        &[],
    ),
    case(
        "image-immutable",
        &[("  tag: \"3.1.4\"\n", "")],
        "app:",
        "",
        &[],
    ),
    case(
        "image-repository",
        &[("image: hello", "image: \"../hello\"")],
        "image: \"../hello\"",
        "",
        &[("image: hello", "image: team/hello")],
    ),
    case(
        "image-repository",
        &[("image: hello", "image: Hello")],
        "image: Hello",
        "",
        &[("image: hello", "image: hello.world_x")],
    ),
    case(
        "registry-premium",
        &[("sku: Premium", "sku: Standard")],
        "sku: Standard",
        "",
        &[("sku: Premium", "sku: Premium")],
    ),
    case(
        "registry-premium",
        &[
            ("sku: Premium", "sku: Basic"),
            ("zoneRedundancy: true", "zoneRedundancy: false"),
        ],
        "sku: Basic",
        "",
        &[("zoneRedundancy: true", "zoneRedundancy: false")],
    ),
    // catalogue/traffic-manager
    case(
        "tm-probe-readiness",
        &[(
            "    port: 80\n    intervalSeconds",
            "    port: 80\n    path: /\n    intervalSeconds",
        )],
        "path: /",
        "monitor:",
        &[(
            "    port: 80\n    intervalSeconds",
            "    port: 80\n    path: /readyz\n    intervalSeconds",
        )],
    ),
    case(
        "tm-probe-readiness",
        &[("protocol: HTTP", "protocol: HTTPS")],
        "protocol: HTTPS",
        "",
        &[],
    ),
    case(
        "tm-probe-readiness",
        &[(
            "    port: 80\n    intervalSeconds",
            "    port: 81\n    intervalSeconds",
        )],
        "port: 81",
        "",
        &[
            (
                "    port: 80\n    intervalSeconds",
                "    port: 81\n    intervalSeconds",
            ),
            (SERVICE_PORT, "  servicePort: 81\n"),
        ],
    ),
    case(
        "tm-monitor-settings",
        &[("intervalSeconds: 10", "intervalSeconds: 15")],
        "intervalSeconds: 15",
        "",
        &[
            ("intervalSeconds: 10", "intervalSeconds: 30"),
            ("rtoSeconds: 90", "rtoSeconds: 125"),
        ],
    ),
    case(
        "tm-monitor-settings",
        &[("timeoutSeconds: 5", "timeoutSeconds: 10")],
        "timeoutSeconds: 10",
        "",
        &[("timeoutSeconds: 5", "timeoutSeconds: 9")],
    ),
    case(
        "tm-monitor-settings",
        &[("timeoutSeconds: 5", "timeoutSeconds: 4")],
        "timeoutSeconds: 4",
        "",
        &[],
    ),
    case(
        "tm-monitor-settings",
        &[
            ("intervalSeconds: 10", "intervalSeconds: 30"),
            ("timeoutSeconds: 5", "timeoutSeconds: 11"),
            ("rtoSeconds: 90", "rtoSeconds: 900"),
        ],
        "timeoutSeconds: 11",
        "",
        &[
            ("intervalSeconds: 10", "intervalSeconds: 30"),
            ("timeoutSeconds: 5", "timeoutSeconds: 10"),
            ("rtoSeconds: 90", "rtoSeconds: 130"),
        ],
    ),
    case(
        "tm-monitor-settings",
        &[("toleratedFailures: 2", "toleratedFailures: 10")],
        "toleratedFailures: 10",
        "",
        &[
            ("toleratedFailures: 2", "toleratedFailures: 9"),
            ("rtoSeconds: 90", "rtoSeconds: 135"),
        ],
    ),
    case(
        "tm-monitor-settings",
        &[
            ("ttl: 30", "ttl: 2147483648"),
            ("rtoSeconds: 90", "rtoSeconds: 4294967295"),
        ],
        "ttl:",
        "",
        &[
            ("ttl: 30", "ttl: 2147483647"),
            ("rtoSeconds: 90", "rtoSeconds: 4294967295"),
        ],
    ),
    case(
        "failover-rto",
        &[("rtoSeconds: 90", "rtoSeconds: 64")],
        "rtoSeconds: 64",
        "",
        &[("rtoSeconds: 90", "rtoSeconds: 65")],
    ),
    // catalogue/workload
    case(
        "probe-paths",
        &[("liveness: /healthz", "liveness: /readyz")],
        "liveness: /readyz",
        "",
        &[("liveness: /healthz", "liveness: /livez")],
    ),
    case(
        "probe-paths",
        &[("startup: /startupz", "startup: /healthz")],
        "startup: /healthz",
        "",
        &[("startup: /startupz", "startup: /started")],
    ),
    case(
        "probe-paths",
        &[("startup: /startupz", "startup: /readyz")],
        "startup: /readyz",
        "",
        &[],
    ),
    case(
        "probe-paths",
        &[("readiness: /readyz", "readiness: /default")],
        "readiness: /default",
        "",
        &[("readiness: /readyz", "readiness: /defaults")],
    ),
    case(
        "probe-paths",
        &[("liveness: /healthz", "liveness: /metrics")],
        "liveness: /metrics",
        "",
        &[],
    ),
    case(
        "probe-path-syntax",
        &[("readiness: /readyz", "readiness: /ready!")],
        "readiness:",
        "",
        &[("readiness: /readyz", "readiness: /ready.z_~-1/x")],
    ),
    case(
        "probe-path-syntax",
        &[("readiness: /readyz", "readiness: \"/ready?x=1\"")],
        "readiness:",
        "",
        &[],
    ),
    case(
        "probe-path-syntax",
        &[("liveness: /healthz", "liveness: //healthz")],
        "liveness:",
        "",
        &[],
    ),
    case(
        "probe-path-syntax",
        &[("liveness: /healthz", "liveness: /health%20z")],
        "liveness:",
        "",
        &[],
    ),
    case(
        "probe-path-syntax",
        &[("startup: /startupz", "startup: startupz")],
        "startup:",
        "",
        &[],
    ),
    case(
        "probe-path-syntax",
        &[(
            "    port: 80\n    intervalSeconds",
            "    port: 80\n    path: /a b\n    intervalSeconds",
        )],
        "path: /a b",
        "",
        &[],
    ),
    case(
        "shutdown-budget",
        &[(
            SHUTDOWN,
            "    drainSeconds: 20\n    inFlightTimeoutSeconds: 10\n    terminationGracePeriodSeconds: 30",
        )],
        "terminationGracePeriodSeconds",
        "",
        &[(
            SHUTDOWN,
            "    drainSeconds: 19\n    inFlightTimeoutSeconds: 10\n    terminationGracePeriodSeconds: 30",
        )],
    ),
    case(
        "shutdown-budget",
        &[(
            SHUTDOWN,
            "    drainSeconds: 3601\n    inFlightTimeoutSeconds: 0\n    terminationGracePeriodSeconds: 9000",
        )],
        "drainSeconds",
        "",
        &[(
            SHUTDOWN,
            "    drainSeconds: 3600\n    inFlightTimeoutSeconds: 3600\n    terminationGracePeriodSeconds: 9000",
        )],
    ),
    case(
        "shutdown-budget",
        &[(
            SHUTDOWN,
            "    drainSeconds: 0\n    inFlightTimeoutSeconds: 3601\n    terminationGracePeriodSeconds: 9000",
        )],
        "inFlightTimeoutSeconds",
        "",
        &[],
    ),
    case(
        "resource-quantity",
        &[("cpuRequest: 100m", "cpuRequest: banana")],
        "cpuRequest",
        "",
        &[("cpuRequest: 100m", "cpuRequest: \"0.5\"")],
    ),
    case(
        "resource-quantity",
        &[("memoryLimit: 64Mi", "memoryLimit: \"-1\"")],
        "memoryLimit",
        "",
        &[("memoryLimit: 64Mi", "memoryLimit: 1Gi")],
    ),
    case(
        "resource-quantity",
        &[("memoryRequest: 32Mi", "memoryRequest: 1.5.5")],
        "memoryRequest",
        "",
        &[("memoryRequest: 32Mi", "memoryRequest: 1e6")],
    ),
    case(
        "resource-quantity",
        &[("memoryRequest: 32Mi", "memoryRequest: 65Mi")],
        "memoryRequest",
        "",
        &[("memoryRequest: 32Mi", "memoryRequest: 64Mi")],
    ),
    case(
        "port-range",
        &[("port: 8080", "port: 0")],
        "port: 0",
        "",
        &[("port: 8080", "port: 1")],
    ),
    case(
        "port-range",
        &[
            (SERVICE_PORT, "  servicePort: 0\n"),
            (
                "    port: 80\n    intervalSeconds",
                "    port: 0\n    intervalSeconds",
            ),
        ],
        "servicePort: 0",
        "",
        &[
            (SERVICE_PORT, "  servicePort: 65535\n"),
            (
                "    port: 80\n    intervalSeconds",
                "    port: 65535\n    intervalSeconds",
            ),
        ],
    ),
    // catalogue/names
    case(
        "name-format",
        &[("name: contosoha", "name: contoso-ha")],
        "name: contoso-ha",
        "registry:",
        &[("name: contosoha", "name: contosoha2")],
    ),
    case(
        "name-format",
        &[("name: contosoha", "name: acr1")],
        "name: acr1",
        "registry:",
        &[("name: contosoha", "name: acr12")],
    ),
    case(
        "name-format",
        &[(
            "  name: hello\n",
            "  name: hello-hello-hello-hello-hello-hello-hello-hello-hello1\n",
        )],
        "name: hello-",
        "",
        &[(
            "  name: hello\n",
            "  name: hello-hello-hello-hello-hello-hello-hello-hello-hello\n",
        )],
    ),
    case(
        "name-format",
        &[("resourceGroup: rg-ha-global", "resourceGroup: rg-ha.")],
        "resourceGroup: rg-ha.",
        "",
        &[(
            "resourceGroup: rg-ha-global",
            "resourceGroup: rg-(ha)_global.x",
        )],
    ),
    case(
        "name-format",
        &[("  profile: contoso-ha", "  profile: contoso ha")],
        "profile:",
        "",
        &[],
    ),
    case(
        "name-format",
        &[("  dnsName: contoso-ha", "  dnsName: Contoso")],
        "dnsName:",
        "",
        &[],
    ),
    case(
        "name-format",
        &[(
            "resourceGroup: rg-ha-global\n  dnsName",
            "resourceGroup: \"rg ha\"\n  dnsName",
        )],
        "resourceGroup: \"rg ha\"",
        "",
        &[],
    ),
    case(
        "name-format",
        &[("name: aks-centralus", "name: -aks-centralus")],
        "name: -aks",
        "",
        &[("name: aks-centralus", "name: 0aks-centralus")],
    ),
    case(
        "name-format",
        &[(
            "resourceGroup: rg-ha-centralus",
            "resourceGroup: rg-ha-centralus.",
        )],
        "resourceGroup: rg-ha-centralus.",
        "",
        &[],
    ),
    case(
        "name-format",
        &[(
            "      kubernetesVersion: \"1.33\"\n      nodePools:\n        - { name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }\n        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
            "      kubernetesVersion: \"1.33\"\n      dnsPrefix: aks_central\n      nodePools:\n        - { name: system, mode: System, vmSize: Standard_D4ds_v5, count: 3 }\n        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "dnsPrefix",
        "",
        &[],
    ),
    case(
        "name-format",
        &[(
            SYSTEM_POOL,
            "{ name: System1, mode: System, vmSize: Standard_D4ds_v5, count: 3 }",
        )],
        "System1",
        "",
        &[(
            SYSTEM_POOL,
            "{ name: sys1, mode: System, vmSize: Standard_D4ds_v5, count: 3 }",
        )],
    ),
    case(
        "name-format",
        &[(
            SYSTEM_POOL,
            "{ name: systemsystem1, mode: System, vmSize: Standard_D4ds_v5, count: 3 }",
        )],
        "systemsystem1",
        "",
        &[(
            SYSTEM_POOL,
            "{ name: systemsystem, mode: System, vmSize: Standard_D4ds_v5, count: 3 }",
        )],
    ),
    case(
        "name-format",
        &[("name: pip-hello-centralus", "name: pip-hello-centralus.")],
        "pip-hello-centralus.",
        "",
        &[],
    ),
    case(
        "name-format",
        &[("dnsLabel: contoso-ha-centralus", "dnsLabel: 1contoso")],
        "dnsLabel: 1contoso",
        "",
        &[],
    ),
    case(
        "name-format",
        &[(
            "      dnsLabel: contoso-ha-centralus",
            "      dnsLabel: contoso-ha-centralus\n      resourceGroup: \"rg ip\"",
        )],
        "resourceGroup: \"rg ip\"",
        "",
        &[(
            "      dnsLabel: contoso-ha-centralus",
            "      dnsLabel: contoso-ha-centralus\n      resourceGroup: rg-ip",
        )],
    ),
    // catalogue/cluster
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 12, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "count: 12",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 9, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 2, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "count: 2",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 3 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3, maxCount: 1001 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "count: 3, minCount: 3, maxCount: 1001",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 1000, minCount: 3, maxCount: 1000 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "- { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, minCount: 3 }",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, maxCount: 3 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "- { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 3, maxCount: 3 }",
        "",
        &[],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 0 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "count: 0",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 1 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 1001 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "count: 1001",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 1000 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            POOLS_CENTRAL,
            "        - { name: system, mode: User, vmSize: Standard_D4ds_v5, count: 3 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
        "- { name: system, mode: User",
        "",
        &[(
            POOLS_CENTRAL,
            "        - { name: system2, mode: User, vmSize: Standard_D4ds_v5, count: 3 }\n    publicIp:\n      name: pip-hello-centralus",
        )],
    ),
    case(
        "node-pools",
        &[(
            SYSTEM_POOL,
            "{ name: system, mode: User, vmSize: Standard_D4ds_v5, count: 3 }",
        )],
        "nodePools:",
        "",
        &[(
            SYSTEM_POOL,
            "{ name: system, mode: System, vmSize: Standard_D4ds_v5, count: 1 }",
        )],
    ),
    case(
        "kubernetes-version",
        &[("kubernetesVersion: \"1.33\"", "kubernetesVersion: \"0.0\"")],
        "kubernetesVersion: \"0.0\"",
        "",
        &[(
            "kubernetesVersion: \"1.33\"",
            "kubernetesVersion: \"1.34.1\"",
        )],
    ),
    case(
        "kubernetes-version",
        &[(
            "kubernetesVersion: \"1.33\"",
            "kubernetesVersion: \"1.33.1.1\"",
        )],
        "kubernetesVersion",
        "",
        &[],
    ),
    case(
        "vm-size",
        &[(
            SYSTEM_POOL,
            "{ name: system, mode: System, vmSize: \"\", count: 3 }",
        )],
        "vmSize: \"\"",
        "",
        &[(
            SYSTEM_POOL,
            "{ name: system, mode: System, vmSize: Standard_D8ds_v5, count: 3 }",
        )],
    ),
    // catalogue/gitops
    case(
        "gitops-source",
        &[(
            REPO,
            "repo: https://user:secret@github.com/contoso/ha-gitops",
        )],
        "repo:",
        "",
        &[(REPO, "repo: ssh://git@github.com/contoso/ha-gitops")],
    ),
    case(
        "gitops-source",
        &[(
            REPO,
            "repo: https://github.com/contoso/ha-gitops?access_token=abc",
        )],
        "repo:",
        "",
        &[(REPO, "repo: git@github.com:contoso/ha-gitops.git")],
    ),
    case(
        "gitops-source",
        &[(REPO, "repo: ssh://git:x@github.com/contoso/ha-gitops")],
        "repo:",
        "",
        &[],
    ),
    case(
        "gitops-source",
        &[(REPO, "repo: http://github.com/contoso/ha-gitops")],
        "repo:",
        "",
        &[],
    ),
    case(
        "gitops-source",
        &[(
            "  branch: main\n",
            "  branch: main\n  sourceIntervalSeconds: 0\n",
        )],
        "sourceIntervalSeconds",
        "",
        &[(
            "  branch: main\n",
            "  branch: main\n  sourceIntervalSeconds: 1\n",
        )],
    ),
    case(
        "gitops-source",
        &[(
            "  branch: main\n",
            "  branch: main\n  kustomizationIntervalSeconds: 0\n",
        )],
        "kustomizationIntervalSeconds",
        "",
        &[],
    ),
    case(
        "gitops-source",
        &[("  branch: main\n", "  branch: main\n  timeoutSeconds: 0\n")],
        "timeoutSeconds: 0",
        "",
        &[],
    ),
    case(
        "git-ref-format",
        &[("branch: main", "branch: ../../etc")],
        "branch:",
        "",
        &[("branch: main", "branch: release/v2")],
    ),
    case(
        "git-ref-format",
        &[("branch: main", "branch: main..dev")],
        "branch:",
        "",
        &[],
    ),
    case(
        "git-ref-format",
        &[("branch: main", "branch: -main")],
        "branch:",
        "",
        &[],
    ),
    case(
        "git-ref-format",
        &[("branch: main", "branch: main.lock")],
        "branch:",
        "",
        &[],
    ),
    // catalogue/rollout
    case(
        "rollout-waves-known",
        &[(
            REGIONS,
            "\nrollout:\n  waves: [[centralus, westus3], [eastus2]]\nregions:\n",
        )],
        "waves:",
        "rollout:",
        &[(
            REGIONS,
            "\nrollout:\n  waves: [[centralus], [eastus2]]\nregions:\n",
        )],
    ),
    case(
        "rollout-waves-partition",
        &[(REGIONS, "\nrollout:\n  waves: [[centralus]]\nregions:\n")],
        "waves:",
        "rollout:",
        &[(
            REGIONS,
            "\nrollout:\n  waves: [[centralus], [eastus2]]\nregions:\n",
        )],
    ),
    case(
        "rollout-waves-partition",
        &[(
            REGIONS,
            "\nrollout:\n  waves:\n    - [centralus]\n    - [centralus, eastus2]\nregions:\n",
        )],
        "- [centralus, eastus2]",
        "rollout:",
        &[],
    ),
    case(
        "rollout-waves-partition",
        &[(
            REGIONS,
            "\nrollout:\n  waves:\n    - [centralus]\n    - []\n    - [eastus2]\nregions:\n",
        )],
        "- []",
        "rollout:",
        &[],
    ),
    case(
        "rollout-primary-last",
        &[(
            REGIONS,
            "\nrollout:\n  waves: [[eastus2], [centralus]]\nregions:\n",
        )],
        "waves:",
        "rollout:",
        &[(
            REGIONS,
            "\nrollout:\n  waves: [[centralus], [eastus2]]\nregions:\n",
        )],
    ),
    case(
        "rollout-staged",
        &[(
            REGIONS,
            "\nrollout:\n  waves:\n    - [centralus, eastus2]\nregions:\n",
        )],
        "- [centralus, eastus2]",
        "rollout:",
        &[(
            REGIONS,
            "\nrollout:\n  waves:\n    - [centralus]\n    - [eastus2]\nregions:\n",
        )],
    ),
    case(
        "region-image-format",
        &[(C2, "- name: centralus\n    image: latest")],
        "image: latest",
        "",
        &[(C2, "- name: centralus\n    image: \"0.9.0\"")],
    ),
    case(
        "region-image-format",
        &[(C2, "- name: centralus\n    image: \"sha256:abc\"")],
        "image:",
        C2,
        &[(
            C2,
            "- name: centralus\n    image: \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
        )],
    ),
    case(
        "region-image-format",
        &[(C2, "- name: centralus\n    image: \"1.0/x\"")],
        "image:",
        C2,
        &[],
    ),
    case(
        "rollout-bounds",
        &[(REGIONS, "\nrollout:\n  consecutiveResponses: 0\nregions:\n")],
        "consecutiveResponses",
        "",
        &[(REGIONS, "\nrollout:\n  consecutiveResponses: 1\nregions:\n")],
    ),
    case(
        "rollout-bounds",
        &[(REGIONS, "\nrollout:\n  maxErrorPercent: 100\nregions:\n")],
        "maxErrorPercent",
        "",
        &[(REGIONS, "\nrollout:\n  maxErrorPercent: 99.9\nregions:\n")],
    ),
    case(
        "rollout-bounds",
        &[(REGIONS, "\nrollout:\n  maxErrorPercent: -1\nregions:\n")],
        "maxErrorPercent",
        "",
        &[(REGIONS, "\nrollout:\n  maxErrorPercent: 0\nregions:\n")],
    ),
    case(
        "rollout-bounds",
        &[(REGIONS, "\nrollout:\n  serveTimeoutSeconds: 0\nregions:\n")],
        "serveTimeoutSeconds",
        "",
        &[(
            REGIONS,
            "\nrollout:\n  serveTimeoutSeconds: 86400\n  bakeSeconds: 0\nregions:\n",
        )],
    ),
    case(
        "rollout-bounds",
        &[(
            REGIONS,
            "\nrollout:\n  manifestTimeoutSeconds: 86401\nregions:\n",
        )],
        "manifestTimeoutSeconds",
        "",
        &[],
    ),
    case(
        "rollout-bounds",
        &[(REGIONS, "\nrollout:\n  bakeSeconds: 999999\nregions:\n")],
        "bakeSeconds",
        "",
        &[],
    ),
    // catalogue/monitoring
    case(
        "monitoring-availability",
        &[
            (MON_AT, MON),
            ("availabilityPercent: 99.9", "availabilityPercent: 100"),
        ],
        "availabilityPercent",
        "",
        &[
            (MON_AT, MON),
            ("availabilityPercent: 99.9", "availabilityPercent: 99.99"),
        ],
    ),
    case(
        "monitoring-availability",
        &[
            (MON_AT, MON),
            ("availabilityPercent: 99.9", "availabilityPercent: 0"),
        ],
        "availabilityPercent",
        "",
        &[],
    ),
    case(
        "monitoring-availability",
        &[
            (MON_AT, MON),
            ("availabilityPercent: 99.9", "availabilityPercent: 93"),
        ],
        "availabilityPercent",
        "",
        &[
            (MON_AT, MON),
            ("availabilityPercent: 99.9", "availabilityPercent: 93.1"),
        ],
    ),
    case(
        "monitoring-latency",
        &[
            (MON_AT, MON),
            ("latencyP99Milliseconds: 300", "latencyP99Milliseconds: 0"),
        ],
        "latencyP99Milliseconds",
        "",
        &[
            (MON_AT, MON),
            ("latencyP99Milliseconds: 300", "latencyP99Milliseconds: 1"),
        ],
    ),
    case(
        "monitoring-latency",
        &[
            (MON_AT, MON),
            (
                "latencyP99Milliseconds: 300",
                "latencyP99Milliseconds: 60000",
            ),
        ],
        "latencyP99Milliseconds",
        "",
        &[
            (MON_AT, MON),
            ("latencyP99Milliseconds: 300", "latencyP99Milliseconds: 999"),
        ],
    ),
    // The histogram's last finite bucket is 1 s: a p99 of 1 s or more can never be read.
    case(
        "monitoring-latency",
        &[
            (MON_AT, MON),
            (
                "latencyP99Milliseconds: 300",
                "latencyP99Milliseconds: 1000",
            ),
        ],
        "latencyP99Milliseconds",
        "",
        &[],
    ),
    case(
        "monitoring-receivers",
        &[(MON_AT, MON), (RECEIVERS, "")],
        "monitoring:",
        "",
        &[
            (MON_AT, MON),
            (RECEIVERS, "  alerts: false\n  failoverAlert: false\n"),
        ],
    ),
    case(
        "monitoring-receivers",
        &[
            (MON_AT, MON),
            (RECEIVERS, "  alerts: false\n  receivers: {}\n"),
        ],
        "receivers: {}",
        "",
        &[
            (MON_AT, MON),
            (
                RECEIVERS,
                "  alerts: false\n  receivers: { webhooks: [\"https://h.example.com\"] }\n",
            ),
        ],
    ),
    case(
        "monitoring-receivers",
        &[(MON_AT, MON), ("- ops@example.com", "- OnCall@example.com")],
        "OnCall@example.com",
        "",
        &[(MON_AT, MON), ("- ops@example.com", "- oncall@example.org")],
    ),
    case(
        "monitoring-receivers",
        &[
            (MON_AT, MON),
            (
                "- ops@example.com",
                "- \u{dc}ps@b\u{fc}cher.de\n      - \u{fc}ps@b\u{fc}cher.de",
            ),
        ],
        "\u{fc}ps@b\u{fc}cher.de",
        "",
        &[
            (MON_AT, MON),
            ("- ops@example.com", "- \u{fc}ps@b\u{fc}cher.de"),
        ],
    ),
    // Eleven webhooks: an action group holds ten.
    case(
        "monitoring-receivers",
        &[
            (MON_AT, MON),
            (
                "      - https://hooks.example.com/alerts\n",
                ELEVEN_WEBHOOKS,
            ),
        ],
        "https://h10.example.com",
        "",
        &[
            (MON_AT, MON),
            ("      - https://hooks.example.com/alerts\n", TEN_WEBHOOKS),
        ],
    ),
    case(
        "monitoring-email",
        &[(MON_AT, MON), ("- ops@example.com", "- ops.example.com")],
        "ops.example.com",
        "",
        &[
            (MON_AT, MON),
            ("- ops@example.com", "- ops+ha@eu.example.com"),
        ],
    ),
    case(
        "monitoring-email",
        &[(MON_AT, MON), ("- ops@example.com", "- ops@example")],
        "ops@example",
        "",
        &[],
    ),
    case(
        "monitoring-email",
        &[
            (MON_AT, MON),
            ("- ops@example.com", "- ops@ops@example.com"),
        ],
        "ops@ops@example.com",
        "",
        &[],
    ),
    case(
        "monitoring-email",
        &[
            (MON_AT, MON),
            ("- ops@example.com", "- \"ops team@example.com\""),
        ],
        "ops team@example.com",
        "",
        &[],
    ),
    case(
        "monitoring-email",
        &[(MON_AT, MON), ("- ops@example.com", "- \"@example.com\"")],
        "\"@example.com",
        "",
        &[],
    ),
    case(
        "monitoring-webhook",
        &[(MON_AT, MON), ("- https://hooks", "- http://hooks")],
        "http://hooks",
        "",
        &[(MON_AT, MON), ("- https://hooks", "- https://alerts.hooks")],
    ),
    // A port Azure cannot call, and a host name that cannot resolve.
    case(
        "monitoring-webhook",
        &[
            (MON_AT, MON),
            (
                "- https://hooks.example.com/",
                "- https://hooks.example.com:99999/",
            ),
        ],
        "hooks.example.com:99999",
        "",
        &[
            (MON_AT, MON),
            (
                "- https://hooks.example.com/",
                "- https://hooks.example.com:8443/",
            ),
        ],
    ),
    case(
        "monitoring-webhook",
        &[(MON_AT, MON), ("- https://hooks.", "- https://-hooks-.")],
        "-hooks-.example",
        "",
        &[],
    ),
    case(
        "monitoring-webhook",
        &[(MON_AT, MON), ("- https://hooks", "- ftp://hooks")],
        "ftp://hooks",
        "",
        &[],
    ),
    case(
        "monitoring-webhook",
        &[
            (MON_AT, MON),
            ("- https://hooks", "- https://bot:s3cret@hooks"),
        ],
        "bot:s3cret@hooks",
        "",
        &[
            (MON_AT, MON),
            ("- https://hooks", "- https://hooks.example.com:8443/bot"),
        ],
    ),
    case(
        "monitoring-names",
        &[(MON_AT, MON), (WORKSPACE, "  workspace: amw_contoso\n")],
        "workspace: amw_contoso",
        "",
        &[(MON_AT, MON), (WORKSPACE, "  workspace: amw1\n")],
    ),
    case(
        "monitoring-names",
        &[(MON_AT, MON), (WORKSPACE, "  workspace: amw-\n")],
        "workspace: amw-",
        "",
        &[],
    ),
    case(
        "monitoring-names",
        &[(MON_AT, MON), (WORKSPACE, "  workspace: amw\n")],
        "workspace: amw",
        "",
        &[],
    ),
    case(
        "monitoring-names",
        &[
            (MON_AT, MON),
            ("resourceGroup: rg-ha-monitoring", "resourceGroup: rg-ha."),
        ],
        "resourceGroup: rg-ha.",
        "",
        &[
            (MON_AT, MON),
            (
                "resourceGroup: rg-ha-monitoring",
                "resourceGroup: rg_ha(mon).1",
            ),
        ],
    ),
    case(
        "monitoring-scrape",
        &[
            (MON_AT, MON),
            (
                WORKSPACE,
                "  workspace: amw-contoso-ha\n  scrapeIntervalSeconds: 36\n",
            ),
        ],
        "scrapeIntervalSeconds",
        "",
        &[
            (MON_AT, MON),
            (
                WORKSPACE,
                "  workspace: amw-contoso-ha\n  scrapeIntervalSeconds: 35\n",
            ),
        ],
    ),
    case(
        "monitoring-scrape",
        &[
            (MON_AT, MON),
            (
                WORKSPACE,
                "  workspace: amw-contoso-ha\n  scrapeIntervalSeconds: 9\n",
            ),
        ],
        "scrapeIntervalSeconds",
        "",
        &[
            (MON_AT, MON),
            (
                WORKSPACE,
                "  workspace: amw-contoso-ha\n  scrapeIntervalSeconds: 10\n",
            ),
        ],
    ),
    case(
        "monitoring-scrape",
        &[
            (MON_AT, MON),
            (WORKSPACE, "  workspace: amw-contoso-ha\n  scrape: false\n"),
        ],
        "scrape: false",
        "",
        &[
            (MON_AT, MON),
            (
                WORKSPACE,
                "  workspace: amw-contoso-ha\n  scrape: false\n  alerts: false\n",
            ),
        ],
    ),
];

fn expect_finding(rule: &str, yaml: &str, line: usize, what: &str) {
    let err = parse(path(), yaml).map(|_| ()).expect_err(what);
    let CatalogueError::Invalid { findings } = &err else {
        panic!("{what}: expected findings, got an input error: {err}")
    };
    assert!(!err.is_input_error() && err.exit_code() == 1);
    let Some(found) = findings.iter().find(|f| f.rule == rule) else {
        panic!("{what}: {rule} not reported; got:\n{err}")
    };
    let at = found.location.as_ref().expect("every finding is located");
    assert_eq!(at.file, common::FILE);
    assert_eq!(at.line, line, "{what}: wrong line in\n{found}");
    let text = err.to_string();
    let head = format!("{}:{}:{}: error[{rule}]", at.file, at.line, at.column);
    assert!(text.contains(&head), "{what}: {text}");
    let why = POLICY.rule(rule).unwrap().why;
    assert!(
        text.contains(&format!("why: {why}")),
        "{what}: no why in {text}"
    );
    assert!(!found.help.is_empty());
}

fn expect_valid(yaml: &str, what: &str) {
    if let Err(e) = parse(path(), yaml).map(|_| ()) {
        panic!("{what}: the fixed twin must pass, got:\n{e}");
    }
}

#[test]
fn the_fixture_itself_is_valid() {
    expect_valid(common::FIXTURE, "fixture");
}

#[test]
fn every_case_fails_with_its_rule_and_line_and_its_twin_passes() {
    for (n, c) in CASES.iter().enumerate() {
        let what = format!("case {n} ({}, at {:?})", c.rule, c.line);
        let yaml = edited(c.bad);
        expect_finding(c.rule, &yaml, line_of(&yaml, c.line, c.after), &what);
        if !c.good.is_empty() {
            expect_valid(&edited(c.good), &format!("{what} twin"));
        }
    }
}

#[test]
fn no_regions_at_all_is_reported_at_regions() {
    let cut = common::FIXTURE.find("regions:").unwrap();
    let yaml = format!("{}regions: []\n", &common::FIXTURE[..cut]);
    let line = line_of(&yaml, "regions:", "");
    expect_finding("priority-primary", &yaml, line, "no regions");
    let err = parse(path(), &yaml).unwrap_err();
    assert_eq!(err.rules(), vec!["priority-primary"], "{err}");
}

#[test]
fn a_single_region_needs_no_failover_capacity_and_no_replication() {
    let cut = common::FIXTURE.find("  - name: centralus").unwrap();
    let yaml = common::FIXTURE[..cut].replace("sku: Premium", "sku: Basic");
    let err = parse(path(), &yaml).unwrap_err();
    // zone redundancy alone still needs Premium
    assert_eq!(err.rules(), vec!["registry-premium"], "{err}");
    assert!(err.to_string().contains("zone redundancy"), "{err}");
    let yaml = yaml.replace("zoneRedundancy: true", "zoneRedundancy: false");
    expect_valid(&yaml, "single Basic region");
    let big = common::FIXTURE[..cut].replace(
        "replicas: { min: 3, max: 12 }",
        "replicas: { min: 300, max: 600 }",
    );
    expect_valid(&big, "single region, no failover target");
}

#[test]
fn every_registered_rule_has_a_case() {
    for r in POLICY.rules() {
        assert!(
            CASES.iter().any(|c| c.rule == r.id),
            "rule {} has no failing case in tests/rules.rs",
            r.id
        );
    }
    for c in CASES {
        assert!(
            POLICY.rule(c.rule).is_some(),
            "case for unknown rule {}",
            c.rule
        );
    }
}

#[test]
fn every_registered_rule_is_documented_with_its_why_and_fix() {
    let doc = include_str!("../../docs/catalogue.md");
    for r in POLICY.rules() {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", r.id)))
            .unwrap_or_else(|| panic!("docs/catalogue.md has no row for rule {}", r.id));
        assert!(
            row.contains(r.why),
            "docs row of {} lacks its why: {}",
            r.id,
            r.why
        );
        assert!(
            row.contains(r.fix),
            "docs row of {} lacks its fix: {}",
            r.id,
            r.fix
        );
    }
}

#[test]
fn several_problems_are_all_reported_in_file_order() {
    let yaml = edited(&[
        ("priority: 2", "priority: 1"),
        ("tag: \"3.1.4\"", "tag: latest"),
    ]);
    let err = parse(path(), &yaml).unwrap_err();
    assert_eq!(err.rules(), vec!["image-immutable", "priority-unique"]);
    let lines: Vec<usize> = err
        .findings()
        .iter()
        .map(|f| f.location.as_ref().unwrap().line)
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn findings_serialize_as_json_and_sarif_with_locations() {
    let yaml = edited(&[("priority: 2", "priority: 1")]);
    let err = parse(path(), &yaml).unwrap_err();
    let json = policy::to_json(err.findings());
    assert!(json.contains("\"rule\": \"priority-unique\""), "{json}");
    assert!(
        json.contains("\"subject\": \"regions[1].priority\""),
        "{json}"
    );
    let sarif = policy::to_sarif("gen", POLICY.rules(), err.findings());
    let line = line_of(&yaml, "priority: 1", "centralus");
    assert!(sarif.contains(&format!("\"startLine\": {line}")), "{sarif}");
}

#[test]
fn a_pool_count_outside_its_bounds_names_the_count_not_the_pool() {
    let yaml = edited(&[(
        POOLS_CENTRAL,
        "        - { name: user, mode: User, vmSize: Standard_D4ds_v5, count: 12, minCount: 3, maxCount: 9 }\n    publicIp:\n      name: pip-hello-centralus",
    )]);
    let err = parse(path(), &yaml).map(|_| ()).unwrap_err();
    let f = err
        .findings()
        .iter()
        .find(|f| f.rule == "node-pools")
        .unwrap();
    assert_eq!(f.subject, "regions[1].cluster.nodePools[1].count");
    assert!(
        f.message.contains("outside minCount 3 .. maxCount 9"),
        "{f}"
    );
}
