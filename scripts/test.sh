#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). On a fresh machine it first
# installs what it needs (scripts/install-tools.sh); later runs skip that.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv-tools/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Each step prints its name, then its wall time when the next one starts (and at the end).
step_name="" step_start=0 suite_start=$SECONDS
step_done() {
  if [ -n "$step_name" ]; then
    printf '<== %s: %ds\n' "$step_name" "$((SECONDS - step_start))"
  fi
}
step() {
  step_done
  step_name="$*" step_start=$SECONDS
  printf '\n==> %s\n' "$*"
}
finish() {
  step_done
  printf '\ntest.sh: %ds in all\n' "$((SECONDS - suite_start))"
}
trap finish EXIT

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

step "build: every crate, test and binary of the workspace, once"
# One feature resolution for the whole workspace (dev-dependencies included), which the
# test run below reuses. The steps in between run the binaries it built: `cargo run -p X`
# would resolve features for X alone and rebuild much of the dependency graph.
cargo test --workspace --no-run --locked
gen() { "${CARGO_TARGET_DIR:-target}/debug/gen" "$@"; }

step "drift gate: the committed tree is what catalogue.yaml renders"
gen render --all --check
gen validate

step "service image: the dev build linked statically, in a scratch image with podman: run, probe, SIGTERM"
IMAGE_SMOKE_PROFILE=dev bash service/scripts/image-smoke.sh

step "tests (cargo nextest), on a release rehearsal: gen set-image --digest as the release does"
# The release sets app.digest with `gen set-image --digest` (.github/workflows/release.yml)
# and re-renders; every region pins its own image, so the overlays do not move until
# `gen promote`. The whole suite runs once, against that changed catalogue: the tests read
# frozen fixtures, so they must not care, and the drift gate (the one test that reads the
# live file) must accept the re-rendered tree. Restored after, and checked to be unchanged.
rehearsal="$(mktemp -d)"
cp catalogue.yaml "$rehearsal/catalogue.yaml"
restore_catalogue() {
  cp "$rehearsal/catalogue.yaml" catalogue.yaml
  gen render --all >/dev/null
  rm -rf "$rehearsal"
}
trap restore_catalogue ERR
gen set-image --digest "sha256:$(printf 'release-rehearsal' | sha256sum | cut -c1-64)"
gen render --all >/dev/null
gen render --all --check
# Built above: target/debug/service, which several tests run, and every test binary.
cargo nextest run --workspace --locked --profile ci
trap - ERR
restore_catalogue
git diff --exit-code -- catalogue.yaml overlays clusters alerts
