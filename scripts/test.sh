#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). On a fresh machine it first
# installs what it needs (scripts/install-tools.sh); later runs skip that.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv-tools/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "install tools"
bash scripts/install-tools.sh

step "format"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "lint workflows (actionlint, zizmor)"
bash scripts/lint-workflows.sh

step "lint shell scripts (shellcheck)"
shellcheck .ci/run scripts/*.sh service/scripts/*.sh service/bench/*.sh

step "lint Dockerfiles (hadolint)"
hadolint --no-color service/Dockerfile service/Containerfile.local

step "drift gate: the committed tree is what catalogue.yaml renders"
cargo gen render --all --check
cargo gen validate

step "service image: build with podman, run, probe, SIGTERM"
bash service/scripts/image-smoke.sh

step "tests (cargo nextest)"
cargo nextest run --workspace --locked --profile ci
