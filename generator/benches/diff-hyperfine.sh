#!/usr/bin/env bash
# Whole-process benchmarks of `gen diff` and `gen render` on the 60-region fixture, side by side
# in one hyperfine run:
#   - `gen diff` after a tag bump in all 60 regions (every region differs: nothing is skipped),
#     in-process (the default) beside GEN_DIFF_ENGINE=kubectl (every directory through
#     `kubectl kustomize`);
#   - `gen render --all` on the rendered tree (validates everything, writes nothing).
# Needs git, kubectl and hyperfine. RUNS (default 10) sets the diff runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --quiet --release -p generator --bin gen --manifest-path "$root/Cargo.toml"
gen="$root/target/release/gen"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/base" "$work/"
cp "$root/generator/tests/fixtures/catalogue-60.yaml" "$work/catalogue.yaml"
cd "$work"
git init -q -b main
"$gen" render --all >/dev/null
git add -A
git -c user.name=bench -c user.email=bench@example.test commit -qm "60 regions"
grep -q 'tag: "1.0.0"' catalogue.yaml
sed -i 's/tag: "1.0.0"/tag: "1.1.0"/' catalogue.yaml
"$gen" render --all >/dev/null
test "$("$gen" diff --base HEAD | grep -c '  changed  ')" -eq 60
hyperfine -N --warmup 2 --runs "${RUNS:-10}" ${HYPERFINE_EXPORT:+--export-json "$HYPERFINE_EXPORT-diff.json"} \
  -n "gen diff, in-process" "$gen diff --base HEAD --format markdown" \
  -n "gen diff, GEN_DIFF_ENGINE=kubectl" "env GEN_DIFF_ENGINE=kubectl $gen diff --base HEAD --format markdown"
hyperfine -N --warmup 5 --runs 40 ${HYPERFINE_EXPORT:+--export-json "$HYPERFINE_EXPORT-render.json"} \
  -n "gen render --all (60 regions)" "$gen render --all" \
  -n "kubectl kustomize overlays/eastus2 (one region)" "kubectl kustomize overlays/eastus2"
