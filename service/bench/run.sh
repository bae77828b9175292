#!/usr/bin/env bash
# Side-by-side HTTP benchmark of the service against the axum ceiling and the Flask baseline.
#
#   bash service/bench/run.sh            # 3 rounds of wrk -t2 -c64 -d10s --latency
#   ROUNDS=5 DURATION=20s bash service/bench/run.sh
#
# Needs: wrk (apt-get install -y wrk), curl, python3 with venv, cargo. Installs nothing
# system-wide; the Flask baseline goes into the repo's ignored .venv-flask/.
# SHARED_DIR (default: ../shared relative to the repo root) must hold bench/axum-ceiling and
# bench/flask-baseline.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$REPO/../shared}"
BENCH_SRC="$SHARED_DIR/bench"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
READY_RUNS="${READY_RUNS:-10}"
SERVICE_PORT="${SERVICE_PORT:-18080}"
FLASK_PORT="${FLASK_PORT:-18081}"
CEILING_PORT="${CEILING_PORT:-18082}"
WORK="$REPO/target-bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

die() { echo "bench: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
command -v python3 >/dev/null || die "python3 not found"
[ -d "$BENCH_SRC/axum-ceiling" ] || die "no $BENCH_SRC/axum-ceiling (set SHARED_DIR)"
[ -d "$BENCH_SRC/flask-baseline" ] || die "no $BENCH_SRC/flask-baseline (set SHARED_DIR)"
for p in "$SERVICE_PORT" "$FLASK_PORT" "$CEILING_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$p/"; then die "port $p is already in use"; fi
done
mkdir -p "$WORK"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== build (release)" >&2
cargo build --release --locked -p service --manifest-path "$REPO/Cargo.toml" >&2
SERVICE_BIN="$CARGO_TARGET_DIR/release/service"
# Build the ceiling from a copy so nothing is written into the shared directory.
if ! diff -rq -x target -x Cargo.lock "$BENCH_SRC/axum-ceiling" "$WORK/axum-ceiling" >/dev/null 2>&1; then
  rm -rf "$WORK/axum-ceiling"
  mkdir -p "$WORK/axum-ceiling"
  (cd "$BENCH_SRC/axum-ceiling" && tar --exclude=./target -cf - .) | (cd "$WORK/axum-ceiling" && tar -xf -)
fi
cargo build --release --manifest-path "$WORK/axum-ceiling/Cargo.toml" \
  --target-dir "$WORK/axum-ceiling-target" >&2
CEILING_BIN="$WORK/axum-ceiling-target/release/axum-ceiling"

echo "== flask venv" >&2
VENV="$REPO/.venv-flask"
if [ ! -x "$VENV/bin/gunicorn" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet flask gunicorn >&2
fi

wait_up() { # url
  for _ in $(seq 1 500); do
    if curl -s -o /dev/null -f "$1"; then return 0; fi
    sleep 0.01
  done
  die "$1 did not come up"
}

"$CEILING_BIN" "127.0.0.1:$CEILING_PORT" >/dev/null 2>&1 &
CEILING_PID=$!; PIDS+=("$CEILING_PID")
PORT="$SERVICE_PORT" BIND_ADDRESS=127.0.0.1 DRAIN_DELAY_SECONDS=0 "$SERVICE_BIN" >/dev/null 2>&1 &
SERVICE_PID=$!; PIDS+=("$SERVICE_PID")
"$VENV/bin/gunicorn" -w 2 -b "127.0.0.1:$FLASK_PORT" --chdir "$BENCH_SRC/flask-baseline" \
  app:app >/dev/null 2>&1 &
FLASK_PID=$!; PIDS+=("$FLASK_PID")
wait_up "http://127.0.0.1:$CEILING_PORT/default"
wait_up "http://127.0.0.1:$SERVICE_PORT/readyz"
wait_up "http://127.0.0.1:$FLASK_PORT/default"

# wrk output -> "req_per_s p99_ms"
run_wrk() { # name port duration
  local out
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency "http://127.0.0.1:$2/default")"
  echo "$out" > "$WORK/wrk-$1.txt"
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then
    echo "bench: $1 had errors:" >&2; echo "$out" >&2
  fi
  echo "$out" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%s %s\n", rps, p99 }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A RPS P99
for name in ceiling service flask; do RPS[$name]=""; P99[$name]=""; done
port_of() { case "$1" in ceiling) echo "$CEILING_PORT" ;; service) echo "$SERVICE_PORT" ;; flask) echo "$FLASK_PORT" ;; esac; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE="$(loadavg)"
echo "== warm-up (load average before: $LOAD_BEFORE)" >&2
for name in ceiling service flask; do run_wrk "$name" "$(port_of "$name")" 2s >/dev/null; done

for round in $(seq 1 "$ROUNDS"); do
  for name in ceiling service flask; do
    read -r rps p99 < <(run_wrk "$name" "$(port_of "$name")" "$DURATION")
    echo "round $round: $name ${rps} req/s, p99 ${p99} ms" >&2
    RPS[$name]+="$rps "
    P99[$name]+="$p99 "
  done
done

LOAD_AFTER="$(loadavg)"

hwm_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
SERVICE_HWM=$(hwm_kib "$SERVICE_PID")
CEILING_HWM=$(hwm_kib "$CEILING_PID")

# Scrape once so the run also proves metrics were recorded.
SERVED=$(curl -s "http://127.0.0.1:$SERVICE_PORT/metrics" \
  | awk -F' ' '/^http_requests_total\{route="default",status="200"\}/ { print $2 }')

echo "== exec -> ready" >&2
READY_MS=$(python3 - "$SERVICE_BIN" "$READY_RUNS" <<'PY'
import os, signal, socket, statistics, subprocess, sys, time
binary, runs = sys.argv[1], int(sys.argv[2])
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05) as c:
            c.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return c.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
samples = []
for _ in range(runs):
    port = free_port()
    env = dict(os.environ, PORT=str(port), BIND_ADDRESS="127.0.0.1", DRAIN_DELAY_SECONDS="0")
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not ready(port):
        if time.perf_counter() - t0 > 5:
            p.kill(); sys.exit("service not ready within 5 s")
        time.sleep(0.0005)
    samples.append((time.perf_counter() - t0) * 1000)
    p.send_signal(signal.SIGTERM); p.wait(5)
print(f"{statistics.median(samples):.1f}")
PY
)

IMAGE_SIZE="not built (run service/scripts/image-smoke.sh first)"
if [ -s "$WORK/image-size-bytes" ]; then
  IMAGE_SIZE="$(awk '{ printf "%.2f MB (%d bytes)", $1 / 1e6, $1 }' "$WORK/image-size-bytes")"
fi

S_RPS=$(echo "${RPS[service]}" | tr ' ' '\n' | grep . | median)
C_RPS=$(echo "${RPS[ceiling]}" | tr ' ' '\n' | grep . | median)
F_RPS=$(echo "${RPS[flask]}" | tr ' ' '\n' | grep . | median)
S_P99=$(echo "${P99[service]}" | tr ' ' '\n' | grep . | median)
C_P99=$(echo "${P99[ceiling]}" | tr ' ' '\n' | grep . | median)
F_P99=$(echo "${P99[flask]}" | tr ' ' '\n' | grep . | median)

{
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
  echo "Load average (1/5/15 min) before the rounds: $LOAD_BEFORE; after: $LOAD_AFTER (includes wrk and the servers themselves)"
  echo "Load: wrk -t$THREADS -c$CONNS -d$DURATION --latency, GET /default on loopback, $ROUNDS rounds, medians"
  echo
  echo "| server | req/s (median) | p99 ms (median) | per-round req/s |"
  echo "|---|---:|---:|---|"
  echo "| axum ceiling | $C_RPS | $C_P99 | ${RPS[ceiling]}|"
  echo "| service | $S_RPS | $S_P99 | ${RPS[service]}|"
  echo "| Flask + gunicorn (2 workers) | $F_RPS | $F_P99 | ${RPS[flask]}|"
  echo
  awk -v s="$S_RPS" -v c="$C_RPS" -v f="$F_RPS" -v sp="$S_P99" -v cp="$C_P99" \
      -v hwm="$SERVICE_HWM" -v chwm="$CEILING_HWM" -v ready="$READY_MS" 'BEGIN {
    printf "| metric | value | goal | met |\n|---|---:|---:|---|\n"
    r = s / c;  printf "| service / ceiling throughput | %.1f %% | >= 85 %% | %s |\n", r * 100, (r >= 0.85 ? "yes" : "no")
    r = s / f;  printf "| service / Flask throughput | %.1fx | >= 15x | %s |\n", r, (r >= 15 ? "yes" : "no")
    d = sp - cp; printf "| service p99 - ceiling p99 | %+.2f ms | <= +1 ms | %s |\n", d, (d <= 1 ? "yes" : "no")
    m = hwm / 1024; printf "| service RSS under load (VmHWM) | %.1f MiB (ceiling %.1f MiB) | <= 20 MiB | %s |\n", m, chwm / 1024, (m <= 20 ? "yes" : "no")
    printf "| exec -> ready (median) | %s ms | <= 50 ms | %s |\n", ready, (ready <= 50 ? "yes" : "no")
  }'
  echo "| image size | $IMAGE_SIZE | <= 15 MB | |"
  echo
  echo "Requests counted by the service's own metrics: $SERVED"
} | tee "$WORK/results.md"
