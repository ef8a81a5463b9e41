#!/usr/bin/env bash
# Heap allocations per request on the produce and fetch paths, by difference: the broker runs under
# an LD_PRELOAD counter (scripts/alloc-count.c) through workloads with the same number of requests
# but 10 or 500 records per request. Equal counts mean no per-record allocation. See
# docs/BENCHMARKS.md.
#   SCRATCH [.build]  PORT [19092]  REQUESTS [2000]  SKIP_BUILD [0]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCRATCH="${SCRATCH:-.build}"
PORT="${PORT:-19092}"
REQUESTS="${REQUESTS:-2000}"
BOOT="127.0.0.1:$PORT"
if [ "${SKIP_BUILD:-0}" != 1 ]; then swift build -c release --scratch-path "$SCRATCH" >&2; fi
BIN="$ROOT/$SCRATCH/release/sluice"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-alloc.XXXXXX")"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
cc -O2 -shared -fPIC -o "$WORK/alloccount.so" "$ROOT/scripts/alloc-count.c"

# run NAME RECORDS_PER_REQUEST CONSUME(0|1): one broker life; prints the allocation count
run() {
    local name=$1 per=$2 consume=$3 size=100
    rm -rf "$WORK/data"
    ALLOC_COUNT_FILE="$WORK/$name.count" LD_PRELOAD="$WORK/alloccount.so" "$BIN" serve \
        --override "listeners=PLAINTEXT://127.0.0.1:$PORT" --override "log.dirs=$WORK/data" >"$WORK/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do grep -q serving "$WORK/$name.log" && break; sleep 0.1; done
    "$BIN" topics create --topic a --partitions 1 --bootstrap-server "$BOOT" >/dev/null
    if [ "$per" -gt 0 ]; then
        # bench produce puts batch-size / (size + 10) records in each request
        "$BIN" bench produce --topic a --num-records $((per * REQUESTS)) --record-size $size \
            --batch-size $((per * (size + 10))) --in-flight 4 --bootstrap-server "$BOOT" 2>/dev/null | grep -o "records=[0-9]*" >&2
    fi
    if [ "$consume" = 1 ]; then
        # one batch (one produce request's records) per fetch
        "$BIN" bench consume --topic a --num-records $((per * REQUESTS)) --fetch-size $((per * (size + 10) + 200)) \
            --bootstrap-server "$BOOT" 2>/dev/null | grep -o "records=[0-9]*" >&2
    fi
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    sed -n 's/allocations=//p' "$WORK/$name.count"
}

base=$(run base 0 0)
p10=$(run p10 10 0)
p500=$(run p500 500 0)
f10=$(run f10 10 1)
f500=$(run f500 500 1)
awk -v n="$REQUESTS" -v b="$base" -v p10="$p10" -v p500="$p500" -v f10="$f10" -v f500="$f500" 'BEGIN {
    printf "allocations (whole broker life, %d requests each)\n", n
    printf "  idle broker + topic creation:      %d\n", b
    printf "  produce, %3d records/request:     %d  -> %.1f allocations/request\n", 10, p10, (p10 - b) / n
    printf "  produce, %3d records/request:     %d  -> %.1f allocations/request\n", 500, p500, (p500 - b) / n
    printf "  fetch,   %3d records/fetch:       %d  -> %.1f allocations/fetch\n", 10, f10, (f10 - p10) / n
    printf "  fetch,   %3d records/fetch:       %d  -> %.1f allocations/fetch\n", 500, f500, (f500 - p500) / n
    printf "  per extra record: produce %.4f, fetch %.4f\n", (p500 - p10) / (490 * n), ((f500 - p500) - (f10 - p10)) / (490 * n)
}'
