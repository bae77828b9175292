#!/usr/bin/env bash
# The service's throughput with its metrics scraped during the load, side by side with no
# scraping and with the axum ceiling, in interleaved rounds (issue 13: the managed Prometheus
# agent scrapes /metrics every scrapeIntervalSeconds while users hit /default).
#
#   bash service/bench/scrape.sh                       # 3 rounds of wrk -t2 -c64 -d10s, scrape every 2 s
#   ROUNDS=5 SCRAPE_EVERY=1 bash service/bench/scrape.sh
#
# Needs: wrk, curl, cargo. SHARED_DIR (default: ../shared relative to the repo root) must hold
# bench/axum-ceiling. Everything listens on 127.0.0.1 only.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$REPO/../shared}"
BENCH_SRC="$SHARED_DIR/bench"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
SCRAPE_EVERY="${SCRAPE_EVERY:-2}"
SERVICE_PORT="${SERVICE_PORT:-18090}"
CEILING_PORT="${CEILING_PORT:-18092}"
WORK="$REPO/target-bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

die() { echo "bench: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
[ -d "$BENCH_SRC/axum-ceiling" ] || die "no $BENCH_SRC/axum-ceiling (set SHARED_DIR)"
for p in "$SERVICE_PORT" "$CEILING_PORT"; do
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
if ! diff -rq -x target -x Cargo.lock "$BENCH_SRC/axum-ceiling" "$WORK/axum-ceiling" >/dev/null 2>&1; then
  rm -rf "$WORK/axum-ceiling"
  mkdir -p "$WORK/axum-ceiling"
  (cd "$BENCH_SRC/axum-ceiling" && tar --exclude=./target -cf - .) | (cd "$WORK/axum-ceiling" && tar -xf -)
fi
cargo build --release --manifest-path "$WORK/axum-ceiling/Cargo.toml" \
  --target-dir "$WORK/axum-ceiling-target" >&2
CEILING_BIN="$WORK/axum-ceiling-target/release/axum-ceiling"

wait_up() { # url
  for _ in $(seq 1 500); do
    if curl -s -o /dev/null -f "$1"; then return 0; fi
    sleep 0.01
  done
  die "$1 did not come up"
}

"$CEILING_BIN" "127.0.0.1:$CEILING_PORT" >/dev/null 2>&1 &
PIDS+=("$!")
PORT="$SERVICE_PORT" BIND_ADDRESS=127.0.0.1 DRAIN_DELAY_SECONDS=0 REGION=eastus2 "$SERVICE_BIN" >/dev/null 2>&1 &
PIDS+=("$!")
wait_up "http://127.0.0.1:$CEILING_PORT/default"
wait_up "http://127.0.0.1:$SERVICE_PORT/readyz"

# wrk output -> "req_per_s p99_ms"
run_wrk() { # name port duration
  local out
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency "http://127.0.0.1:$2/default")"
  echo "$out" > "$WORK/scrape-wrk-$1.txt"
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

# A scraper like the agent's: GET /metrics every SCRAPE_EVERY seconds; one line per scrape
# ("http_code seconds bytes") into $1, until killed.
scraper() { # log
  : > "$1"
  while :; do
    curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total} %{size_download}\n' \
      "http://127.0.0.1:$SERVICE_PORT/metrics" >> "$1" || echo "000 0 0" >> "$1"
    sleep "$SCRAPE_EVERY"
  done
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A RPS P99
NAMES="ceiling service service+scrape"
for name in $NAMES; do RPS[$name]=""; P99[$name]=""; done
SCRAPE_LOG="$WORK/scrape-log.txt"
: > "$SCRAPE_LOG.all"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE="$(loadavg)"
echo "== warm-up (load average before: $LOAD_BEFORE)" >&2
run_wrk ceiling "$CEILING_PORT" 2s >/dev/null
run_wrk service "$SERVICE_PORT" 2s >/dev/null

for round in $(seq 1 "$ROUNDS"); do
  for name in $NAMES; do
    case "$name" in
      ceiling) read -r rps p99 < <(run_wrk "$name" "$CEILING_PORT" "$DURATION") ;;
      service) read -r rps p99 < <(run_wrk "$name" "$SERVICE_PORT" "$DURATION") ;;
      service+scrape)
        scraper "$SCRAPE_LOG" &
        SCRAPER=$!
        read -r rps p99 < <(run_wrk scrape "$SERVICE_PORT" "$DURATION")
        kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true
        cat "$SCRAPE_LOG" >> "$SCRAPE_LOG.all"
        ;;
    esac
    echo "round $round: $name ${rps} req/s, p99 ${p99} ms" >&2
    RPS[$name]+="$rps "
    P99[$name]+="$p99 "
  done
done
LOAD_AFTER="$(loadavg)"

med() { echo "$1" | tr ' ' '\n' | grep . | median; }
C_RPS=$(med "${RPS[ceiling]}"); S_RPS=$(med "${RPS[service]}"); K_RPS=$(med "${RPS[service+scrape]}")
C_P99=$(med "${P99[ceiling]}"); S_P99=$(med "${P99[service]}"); K_P99=$(med "${P99[service+scrape]}")
SCRAPES=$(wc -l < "$SCRAPE_LOG.all")
SCRAPES_OK=$(awk '$1 == 200' "$SCRAPE_LOG.all" | wc -l)
SCRAPE_MS=$(awk '$1 == 200 { print $2 * 1000 }' "$SCRAPE_LOG.all" | median)
SCRAPE_MAX_MS=$(awk '$1 == 200 { v = $2 * 1000; if (v > m) m = v } END { print m + 0 }' "$SCRAPE_LOG.all")
SCRAPE_BYTES=$(awk '$1 == 200 { print $3 }' "$SCRAPE_LOG.all" | median)
if [ "$SCRAPES" -eq 0 ] || [ "$SCRAPES_OK" -ne "$SCRAPES" ]; then
  die "only $SCRAPES_OK of $SCRAPES scrapes answered 200"
fi

{
  echo "Machine: $(nproc) cores, $(uname -sr)"
  echo "Load average (1/5/15 min) before the rounds: $LOAD_BEFORE; after: $LOAD_AFTER"
  echo "Load: wrk -t$THREADS -c$CONNS -d$DURATION --latency, GET /default on loopback, $ROUNDS interleaved rounds, medians;"
  echo "service+scrape: GET /metrics every ${SCRAPE_EVERY} s during the wrk run"
  echo
  echo "| server | req/s (median) | p99 ms (median) | per-round req/s |"
  echo "|---|---:|---:|---|"
  echo "| axum ceiling | $C_RPS | $C_P99 | ${RPS[ceiling]}|"
  echo "| service, no scraping | $S_RPS | $S_P99 | ${RPS[service]}|"
  echo "| service, scraped every ${SCRAPE_EVERY} s | $K_RPS | $K_P99 | ${RPS[service+scrape]}|"
  echo
  awk -v s="$S_RPS" -v k="$K_RPS" -v c="$C_RPS" 'BEGIN {
    printf "| metric | value | goal | met |\n|---|---:|---:|---|\n"
    r = k / c; printf "| scraped service / ceiling throughput | %.1f %% | >= 85 %% | %s |\n", r * 100, (r >= 0.85 ? "yes" : "no")
    r = s / c; printf "| unscraped service / ceiling throughput | %.1f %% | >= 85 %% | %s |\n", r * 100, (r >= 0.85 ? "yes" : "no")
    r = k / s; printf "| scraped / unscraped throughput | %.1f %% | | |\n", r * 100
  }'
  echo
  echo "Scrapes during the load: $SCRAPES, all answered 200; /metrics answer median $SCRAPE_MS ms (max $SCRAPE_MAX_MS ms), $SCRAPE_BYTES bytes"
} | tee "$WORK/scrape-results.md"
