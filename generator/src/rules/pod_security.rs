//! Family `pod-security`: the Pod Security Standards, "restricted" profile (which includes
//! "baseline"), checked in full on every pod template and every container (init and
//! ephemeral too): what the admission controller of a restricted namespace would refuse.
//! Source: the Kubernetes "Pod Security Standards" page (v1.33).

use super::{Build, id, subject};
use k8s_openapi::api::core::v1::{ContainerPort, PodSpec, SecurityContext};
use policy::{Check, Policy, Rule, Severity, Sink};

pub static POLICY: Policy<Build> = Policy::new(&CHECKS);

const fn rule(
    id: &'static str,
    summary: &'static str,
    why: &'static str,
    fix: &'static str,
) -> Rule {
    Rule {
        id,
        family: "pod-security",
        severity: Severity::Error,
        summary,
        why,
        fix,
    }
}

const WHY: &str = "Pod Security \"restricted\" is the AKS and Kubernetes hardening baseline; a namespace that enforces it refuses the pod, and without enforcement the pod can escape to the node";

static CHECKS: [Check<Build>; 13] = [
    Check {
        rule: rule(
            "pss-host-namespaces",
            "hostNetwork, hostPID and hostIPC are unset or false",
            WHY,
            "remove hostNetwork/hostPID/hostIPC from the pod spec",
        ),
        check: host_namespaces,
    },
    Check {
        rule: rule(
            "pss-privileged",
            "no container is privileged",
            WHY,
            "remove `privileged: true` (or set it false)",
        ),
        check: privileged,
    },
    Check {
        rule: rule(
            "pss-capabilities",
            "every container drops ALL capabilities and adds none but NET_BIND_SERVICE",
            WHY,
            "set `capabilities: {drop: [ALL]}`; add at most NET_BIND_SERVICE",
        ),
        check: capabilities,
    },
    Check {
        rule: rule(
            "pss-host-path",
            "no hostPath volume",
            WHY,
            "use an emptyDir, configMap, secret, projected or persistentVolumeClaim volume",
        ),
        check: host_path,
    },
    Check {
        rule: rule(
            "pss-host-ports",
            "no container port sets hostPort",
            WHY,
            "remove hostPort: the Service exposes the port",
        ),
        check: host_ports,
    },
    Check {
        rule: rule(
            "pss-volume-types",
            "volumes are only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret",
            WHY,
            "replace the volume with one of the allowed types",
        ),
        check: volume_types,
    },
    Check {
        rule: rule(
            "pss-privilege-escalation",
            "every container sets allowPrivilegeEscalation: false",
            WHY,
            "set `allowPrivilegeEscalation: false` in each container's securityContext",
        ),
        check: privilege_escalation,
    },
    Check {
        rule: rule(
            "pss-seccomp",
            "the seccomp profile is RuntimeDefault or Localhost (pod level, or on every container), never Unconfined",
            WHY,
            "set `seccompProfile: {type: RuntimeDefault}` in the pod's securityContext",
        ),
        check: seccomp,
    },
    Check {
        rule: rule(
            "pss-run-as-non-root",
            "runAsNonRoot: true (pod level or every container) and no runAsUser 0",
            WHY,
            "set `runAsNonRoot: true` and a non-zero runAsUser",
        ),
        check: run_as_non_root,
    },
    Check {
        rule: rule(
            "pss-proc-mount",
            "procMount is unset or Default",
            WHY,
            "remove procMount",
        ),
        check: proc_mount,
    },
    Check {
        rule: rule(
            "pss-sysctls",
            "pod sysctls are only the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes)",
            WHY,
            "remove the sysctl",
        ),
        check: sysctls,
    },
    Check {
        rule: rule(
            "pss-selinux-apparmor",
            "no custom SELinux user/role, SELinux type only container_t/container_init_t/container_kvm_t/container_engine_t, AppArmor not Unconfined",
            WHY,
            "remove seLinuxOptions and appArmorProfile, or use the allowed values",
        ),
        check: selinux_apparmor,
    },
    Check {
        rule: rule(
            "pss-host-process",
            "no Windows HostProcess container",
            WHY,
            "remove windowsOptions.hostProcess",
        ),
        check: host_process,
    },
];

const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// One container of any list: its field path, name, securityContext and ports.
struct Ctr<'p> {
    field: String,
    name: &'p str,
    sc: Option<&'p SecurityContext>,
    ports: Option<&'p Vec<ContainerPort>>,
}

struct Pod<'b> {
    id: String,
    /// Index of the Deployment in `Build::objects`.
    index: usize,
    spec: &'b PodSpec,
}

fn pods(b: &Build) -> Vec<Pod<'_>> {
    if !b.is_typed() {
        return Vec::new();
    }
    b.typed
        .deployments
        .iter()
        .filter_map(|(index, d)| {
            Some(Pod {
                id: id("Deployment", d.metadata.name.as_ref()),
                index: *index,
                spec: d.spec.as_ref()?.template.spec.as_ref()?,
            })
        })
        .collect()
}

const POD: &str = "spec.template.spec";

fn all_containers(p: &PodSpec) -> Vec<Ctr<'_>> {
    let mut out = Vec::new();
    for (i, c) in p.containers.iter().enumerate() {
        out.push(Ctr {
            field: format!("{POD}.containers[{i}]"),
            name: &c.name,
            sc: c.security_context.as_ref(),
            ports: c.ports.as_ref(),
        });
    }
    for (i, c) in p.init_containers.iter().flatten().enumerate() {
        out.push(Ctr {
            field: format!("{POD}.initContainers[{i}]"),
            name: &c.name,
            sc: c.security_context.as_ref(),
            ports: c.ports.as_ref(),
        });
    }
    for (i, c) in p.ephemeral_containers.iter().flatten().enumerate() {
        out.push(Ctr {
            field: format!("{POD}.ephemeralContainers[{i}]"),
            name: &c.name,
            sc: c.security_context.as_ref(),
            ports: c.ports.as_ref(),
        });
    }
    out
}

fn host_namespaces(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for (name, set) in [
            ("hostNetwork", p.spec.host_network),
            ("hostPID", p.spec.host_pid),
            ("hostIPC", p.spec.host_ipc),
        ] {
            if set == Some(true) {
                sink.report(
                    subject(&p.id, &format!("{POD}.{name}")),
                    format!("{name}: true shares the node's namespace"),
                    format!("remove {name}"),
                );
            }
        }
    }
}

fn privileged(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for c in all_containers(p.spec) {
            if c.sc.and_then(|s| s.privileged) == Some(true) {
                sink.report(
                    subject(&p.id, &format!("{}.securityContext.privileged", c.field)),
                    format!("container `{}` is privileged", c.name),
                    "remove `privileged: true`",
                );
            }
        }
    }
}

fn capabilities(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for c in all_containers(p.spec) {
            let caps = c.sc.and_then(|s| s.capabilities.as_ref());
            if !caps
                .and_then(|c| c.drop.as_ref())
                .is_some_and(|d| d.iter().any(|x| x == "ALL"))
            {
                sink.report(
                    subject(
                        &p.id,
                        &format!("{}.securityContext.capabilities.drop", c.field),
                    ),
                    format!("container `{}` does not drop ALL capabilities", c.name),
                    "set `capabilities: {drop: [ALL]}`",
                );
            }
            for added in caps.and_then(|c| c.add.as_ref()).into_iter().flatten() {
                if added != "NET_BIND_SERVICE" {
                    sink.report(
                        subject(
                            &p.id,
                            &format!("{}.securityContext.capabilities.add", c.field),
                        ),
                        format!("container `{}` adds capability {added}", c.name),
                        "remove it: only NET_BIND_SERVICE may be added",
                    );
                }
            }
        }
    }
}

fn host_path(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for (i, v) in p.spec.volumes.iter().flatten().enumerate() {
            if v.host_path.is_some() {
                sink.report(
                    subject(&p.id, &format!("{POD}.volumes[{i}].hostPath")),
                    format!("volume `{}` mounts a path of the node", v.name),
                    "use an emptyDir (scratch) or a configMap/secret instead",
                );
            }
        }
    }
}

fn host_ports(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for c in all_containers(p.spec) {
            for (i, port) in c.ports.into_iter().flatten().enumerate() {
                if port.host_port.is_some_and(|h| h != 0) {
                    sink.report(
                        subject(&p.id, &format!("{}.ports[{i}].hostPort", c.field)),
                        format!("container `{}` binds a port of the node", c.name),
                        "remove hostPort",
                    );
                }
            }
        }
    }
}

fn volume_types(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        // The typed Volume has one Option per source; the raw object names the one set.
        let volumes = b
            .object(p.index)
            .value
            .pointer("/spec/template/spec/volumes")
            .and_then(|v| v.as_array());
        for (i, v) in volumes.into_iter().flatten().enumerate() {
            for key in v.as_object().into_iter().flat_map(|m| m.keys()) {
                if key != "name" && key != "hostPath" && !ALLOWED_VOLUMES.contains(&key.as_str()) {
                    sink.report(
                        subject(&p.id, &format!("{POD}.volumes[{i}].{key}")),
                        format!("volume type `{key}` is not allowed by the restricted profile"),
                        "use configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret",
                    );
                }
            }
        }
    }
}

fn privilege_escalation(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for c in all_containers(p.spec) {
            if c.sc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
                sink.report(
                    subject(
                        &p.id,
                        &format!("{}.securityContext.allowPrivilegeEscalation", c.field),
                    ),
                    format!("container `{}` may escalate privileges", c.name),
                    "set `allowPrivilegeEscalation: false`",
                );
            }
        }
    }
}

fn allowed_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

fn seccomp(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        let pod = p
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref());
        if pod.is_some_and(|s| !allowed_seccomp(&s.type_)) {
            sink.report(
                subject(&p.id, &format!("{POD}.securityContext.seccompProfile.type")),
                format!(
                    "pod seccomp profile `{}`",
                    pod.map_or("", |s| s.type_.as_str())
                ),
                "use RuntimeDefault",
            );
        }
        for c in all_containers(p.spec) {
            let own = c.sc.and_then(|s| s.seccomp_profile.as_ref());
            let ok = match own {
                Some(s) => allowed_seccomp(&s.type_),
                None => pod.is_some_and(|s| allowed_seccomp(&s.type_)),
            };
            if !ok {
                sink.report(
                    subject(
                        &p.id,
                        &format!("{}.securityContext.seccompProfile", c.field),
                    ),
                    format!(
                        "container `{}` runs without a RuntimeDefault or Localhost seccomp profile",
                        c.name
                    ),
                    "set `seccompProfile: {type: RuntimeDefault}` on the pod",
                );
            }
        }
    }
}

fn run_as_non_root(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        let psc = p.spec.security_context.as_ref();
        if psc.and_then(|s| s.run_as_user) == Some(0) {
            sink.report(
                subject(&p.id, &format!("{POD}.securityContext.runAsUser")),
                "the pod runs as user 0 (root)",
                "use a non-zero runAsUser",
            );
        }
        for c in all_containers(p.spec) {
            let non_root =
                c.sc.and_then(|s| s.run_as_non_root)
                    .or(psc.and_then(|s| s.run_as_non_root));
            if non_root != Some(true) {
                sink.report(
                    subject(&p.id, &format!("{}.securityContext.runAsNonRoot", c.field)),
                    format!("container `{}` may run as root", c.name),
                    "set `runAsNonRoot: true` on the pod or the container",
                );
            }
            if c.sc.and_then(|s| s.run_as_user) == Some(0) {
                sink.report(
                    subject(&p.id, &format!("{}.securityContext.runAsUser", c.field)),
                    format!("container `{}` runs as user 0 (root)", c.name),
                    "use a non-zero runAsUser",
                );
            }
        }
    }
}

fn proc_mount(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        for c in all_containers(p.spec) {
            if let Some(m) = c.sc.and_then(|s| s.proc_mount.as_deref())
                && m != "Default"
            {
                sink.report(
                    subject(&p.id, &format!("{}.securityContext.procMount", c.field)),
                    format!("container `{}` sets procMount `{m}`", c.name),
                    "remove procMount",
                );
            }
        }
    }
}

fn sysctls(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        let list = p
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.sysctls.as_ref());
        for (i, s) in list.into_iter().flatten().enumerate() {
            if !SAFE_SYSCTLS.contains(&s.name.as_str()) {
                sink.report(
                    subject(&p.id, &format!("{POD}.securityContext.sysctls[{i}]")),
                    format!("sysctl `{}` is not in the safe set", s.name),
                    "remove it",
                );
            }
        }
    }
}

fn selinux_apparmor(b: &Build, sink: &mut Sink<'_>) {
    const TYPES: &[&str] = &[
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ];
    for p in pods(b) {
        let psc = p.spec.security_context.as_ref();
        let mut options = vec![(
            format!("{POD}.securityContext"),
            psc.and_then(|s| s.se_linux_options.as_ref()),
            psc.and_then(|s| s.app_armor_profile.as_ref()),
        )];
        for c in all_containers(p.spec) {
            options.push((
                format!("{}.securityContext", c.field),
                c.sc.and_then(|s| s.se_linux_options.as_ref()),
                c.sc.and_then(|s| s.app_armor_profile.as_ref()),
            ));
        }
        for (field, se, aa) in options {
            if let Some(se) = se {
                let bad_type = se
                    .type_
                    .as_deref()
                    .is_some_and(|t| !t.is_empty() && !TYPES.contains(&t));
                if bad_type || se.user.is_some() || se.role.is_some() {
                    sink.report(
                        subject(&p.id, &format!("{field}.seLinuxOptions")),
                        "custom SELinux user, role or type",
                        "remove seLinuxOptions",
                    );
                }
            }
            if aa.is_some_and(|a| a.type_ == "Unconfined") {
                sink.report(
                    subject(&p.id, &format!("{field}.appArmorProfile.type")),
                    "AppArmor profile Unconfined",
                    "use RuntimeDefault (or remove appArmorProfile)",
                );
            }
        }
    }
}

fn host_process(b: &Build, sink: &mut Sink<'_>) {
    for p in pods(b) {
        let pod = p
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref())
            .and_then(|w| w.host_process);
        if pod == Some(true) {
            sink.report(
                subject(
                    &p.id,
                    &format!("{POD}.securityContext.windowsOptions.hostProcess"),
                ),
                "the pod is a Windows HostProcess pod",
                "remove hostProcess",
            );
        }
        for c in all_containers(p.spec) {
            if c.sc
                .and_then(|s| s.windows_options.as_ref())
                .and_then(|w| w.host_process)
                == Some(true)
            {
                sink.report(
                    subject(
                        &p.id,
                        &format!("{}.securityContext.windowsOptions.hostProcess", c.field),
                    ),
                    format!("container `{}` is a HostProcess container", c.name),
                    "remove hostProcess",
                );
            }
        }
    }
}
