#!/usr/bin/env bash
# Benchmarks of `gen promote` (issue 11) on the 60-region fixture, whole process, side by side:
#   1. `gen promote status` (text and json);
#   2. one wave of `gen promote next` without --wait: load, git checks, the manifest gate
#      against a local docker-registry that already has the manifest (one HEAD), the edit, a
#      validated render of all 60 regions, the commit, a push to a local bare repository, the
#      checkout; `--prepare` puts both repositories back before every run;
#   3. the push alone (`git push` of one such commit to the same bare repository), to read the
#      wave's overhead apart from pushing.
# Needs: a release build of gen, hyperfine, docker-registry, git. Loopback only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
G="${G:-$root/target/release/gen}"
[[ -x "$G" ]] || { echo "bench-promote: build gen first: cargo build --release -p generator" >&2; exit 2; }
runs="${RUNS:-30}"
T="$(mktemp -d)"
cleanup() {
    if [[ -n "${reg_pid:-}" ]]; then kill "$reg_pid" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.test
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.test
export GIT_CONFIG_NOSYSTEM=1 HOME="$T"

# The fixture with every region pinned at 1.0.0 and the candidate 1.1.0.
git init -q --bare -b main "$T/bare.git"
git init -q -b main "$T/work"
cp -r "$root/base" "$T/work/"
sed -e 's/^  - name: \(.*\)$/  - name: \1\n    image: "1.0.0"/' -e 's/^  tag: "1.0.0"/  tag: "1.1.0"/' \
    "$root/generator/tests/fixtures/catalogue-60.yaml" > "$T/work/catalogue.yaml"
(cd "$T/work" && "$G" render --all >/dev/null && git add -A && git commit -qm seed \
    && git remote add origin "$T/bare.git" && git push -q origin main)
base="$(git -C "$T/work" rev-parse HEAD)"
first="$(cd "$T/work" && "$G" promote status --format json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["waves"][0]["regions"][0])')"

# A registry replica that already holds the candidate's manifest.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$T/registry" "$port" > "$T/registry.yml"
docker-registry serve "$T/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
r="http://127.0.0.1:$port"
config='{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
cdig="sha256:$(printf '%s' "$config" | sha256sum | cut -c1-64)"
loc="$(curl -sfi -X POST "$r/v2/hello/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')"
case "$loc" in http*) ;; *) loc="$r$loc" ;; esac
sep='?'; [[ "$loc" == *\?* ]] && sep='&'
curl -sf -X PUT -H 'content-type: application/octet-stream' --data-binary "$config" "$loc${sep}digest=$cdig" >/dev/null
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$cdig\",\"size\":${#config}},\"layers\":[]}"
curl -sf -X PUT -H 'content-type: application/vnd.oci.image.manifest.v1+json' --data-binary "$manifest" "$r/v2/hello/manifests/1.1.0" >/dev/null

cat > "$T/reset.sh" <<RESET
#!/usr/bin/env bash
set -e
git -C "$T/bare.git" update-ref refs/heads/main $base
git -C "$T/work" reset -q --hard $base
git -C "$T/work" update-ref refs/remotes/origin/main $base
RESET
chmod +x "$T/reset.sh"
# The push alone: a one-file commit on top of base, pushed to the same bare repository.
cat > "$T/push.sh" <<PUSH
#!/usr/bin/env bash
set -e
cd "$T/work"
git commit -q --allow-empty -m "bench push"
git push -q origin main
PUSH
chmod +x "$T/push.sh"

cd "$T/work"
hyperfine -N --warmup 3 -r "$runs" --export-json "$T/status.json" \
    "$G promote status" "$G promote status --format json"
hyperfine --warmup 2 -r "$runs" --prepare "$T/reset.sh" --export-json "$T/next.json" \
    "$G promote next --registry-endpoint=$first=$r --poll-ms=100" \
    "$T/push.sh"
python3 - "$T/status.json" "$T/next.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        print(f"median {r['median'] * 1000:8.1f} ms  min {r['min'] * 1000:8.1f} ms  {r['command']}")
PY
