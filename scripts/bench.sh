#!/usr/bin/env bash
# make bench: build release, start one broker on a temporary data directory, run Sluice's own
# benchmarks, the shared librdkafka suite (when ../shared/tools/bench exists) and the idle-RSS check,
# print a table, stop the broker. Client and broker share the machine, so every figure is
# "client plus broker on this machine". docs/BENCHMARKS.md explains the figures.
#
# Environment (defaults in brackets):
#   SCRATCH [.build]        SwiftPM scratch path for the release build
#   PORT [19092]            broker port; the shared suite only allows 19092-19099
#   N_1K [1000000]          records for the 1 KiB produce runs (1 GB each)
#   N_100 [5000000]         records for the 100 B produce run
#   N_SR [500000]           records for each schema-validation produce run (~1 KiB Avro, 20 fields)
#   REGISTRY_PORT [18081]   the schema registry's HTTP port
#   REPEAT [1]              repetitions of Sluice's own runs (the table shows the median)
#   SUITE [1]               0 skips the librdkafka suite
#   BENCH_SUITE [../shared/tools/bench]  the librdkafka suite's directory; absent: skipped with a
#                           line (a failure with SLUICE_REQUIRE_SHARED=1)
#   SUITE_REPEAT [1]        REPEAT passed to run-suite.sh
#   KBENCH_LIB [pypi]       librdkafka used by the suite (see ../shared/tools/bench/README.md)
#   SKIP_BUILD [0]          1 uses the existing binary
# Also runs scripts/alloc-count.sh (heap allocations per produce/fetch request).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCRATCH="${SCRATCH:-.build}"
PORT="${PORT:-19092}"
N_1K="${N_1K:-1000000}"
N_100="${N_100:-5000000}"
N_SR="${N_SR:-500000}"
REGISTRY_PORT="${REGISTRY_PORT:-18081}"
REPEAT="${REPEAT:-1}"
SUITE="${SUITE:-1}"
SUITE_REPEAT="${SUITE_REPEAT:-1}"
export KBENCH_LIB="${KBENCH_LIB:-pypi}"
BOOT="127.0.0.1:$PORT"
SHARED="${BENCH_SUITE:-$ROOT/../shared/tools/bench}"
. "$ROOT/scripts/shared-input.sh"
if [ "$SUITE" = 1 ]; then
    optional_input "bench: librdkafka suite" "$SHARED/run-suite.sh" \
        "set BENCH_SUITE=<the kbench suite's directory> to run it" || SUITE=0
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "== building release ($SCRATCH)" >&2
    swift build -c release --scratch-path "$SCRATCH" >&2
fi
BIN="$ROOT/$SCRATCH/release/sluice"
[ -x "$BIN" ] || { echo "bench.sh: no binary at $BIN" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")"
RESULTS="$WORK/results.txt"
: >"$RESULTS"
BROKER_PID=""
stop_broker() {
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID"
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    BROKER_PID=""
}
cleanup() {
    stop_broker
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_broker() {
    "$BIN" serve --override "listeners=PLAINTEXT://127.0.0.1:$PORT" --override "log.dirs=$WORK/data" \
        --override "schema.registry.listeners=http://127.0.0.1:$REGISTRY_PORT" \
        >"$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 1 100); do
        grep -q "serving" "$WORK/broker.log" 2>/dev/null && return 0
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench.sh: the broker did not start:" >&2
    cat "$WORK/broker.log" >&2
    exit 1
}

sluice() { "$BIN" "$@" --bootstrap-server "$BOOT"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "-"}'; }
median_of() { grep "^$1 " "$RESULTS" | while read -r l; do field "$2" "$l"; done | median; }  # NAME FIELD
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$BROKER_PID/status"; }

# record NAME RESULT-line: keeps the line for the table
record() { echo "$1 $2" >>"$RESULTS"; echo "  $1: $2" >&2; }

start_broker
echo "== broker pid $BROKER_PID on $BOOT, data in $WORK/data" >&2

# ---- Sluice's own client (KafkaClient): produce and consume
for rep in $(seq 1 "$REPEAT"); do
    t="bench-r$rep"
    record p1k_acks1 "$(sluice bench produce --topic "$t-a1" --partitions 3 --num-records "$N_1K" --record-size 1024 --acks 1 2>/dev/null | grep '^RESULT')"
    record consume "$(sluice bench consume --topic "$t-a1" --num-records "$N_1K" 2>/dev/null | grep '^RESULT')"
    sluice topics delete --topic "$t-a1" >/dev/null
    record p1k_acksall "$(sluice bench produce --topic "$t-aall" --partitions 3 --num-records "$N_1K" --record-size 1024 --acks all 2>/dev/null | grep '^RESULT')"
    sluice topics delete --topic "$t-aall" >/dev/null
    record p100_acks1 "$(sluice bench produce --topic "$t-s100" --partitions 3 --num-records "$N_100" --record-size 100 --acks 1 2>/dev/null | grep '^RESULT')"
    sluice topics delete --topic "$t-s100" >/dev/null
done

# ---- broker-side schema validation: the same ~1 KiB Avro record (20 string fields) produced
# with value validation off, in id mode and in payload mode (Avro binary decoded per record)
python3 - "$WORK" <<'PY'
import json, struct, sys
work = sys.argv[1]
fields = [{"name": f"f{i:02d}", "type": "string"} for i in range(20)]
json.dump({"type": "record", "name": "BenchRecord", "namespace": "bench", "fields": fields}, open(f"{work}/bench.avsc", "w"))
def zz(n):
    z, out = (n << 1) ^ (n >> 63), bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80); z >>= 7
    return bytes(out + bytes([z]))
body = b"".join(zz(48) + (f"value of field {i:02d} ".encode() * 3)[:48] for i in range(20))
open(f"{work}/bench.avro", "wb").write(body)
PY
REG="http://127.0.0.1:$REGISTRY_PORT"
for t in sr-off sr-id sr-payload; do
    "$BIN" schemas register --registry "$REG" --subject "$t-value" --schema-file "$WORK/bench.avsc" >"$WORK/sr-id.json"
done
SR_ID=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$WORK/sr-id.json")
python3 -c "import struct,sys; sys.stdout.buffer.write(b'\0' + struct.pack('>I', $SR_ID) + open('$WORK/bench.avro','rb').read())" >"$WORK/bench.value"
# Fresh topics for every run (deleting one drops its dirty pages), so no run pays for the
# previous run's writeback.
for rep in $(seq 1 "$REPEAT"); do
    for t in sr-off sr-id sr-payload; do
        case "$t" in
            sr-off) cfg=() ;;
            sr-id) cfg=(--config value.schema.validation=true) ;;
            sr-payload) cfg=(--config value.schema.validation=true --config value.schema.validation.level=payload) ;;
        esac
        sluice topics create --topic "$t" --partitions 3 "${cfg[@]}" >/dev/null
        record "${t//-/_}" "$(sluice bench produce --topic "$t" --num-records "$N_SR" --value-file "$WORK/bench.value" --acks 1 2>/dev/null | grep '^RESULT')"
        sluice topics delete --topic "$t" >/dev/null
        sleep 1
    done
done

# CPU only, no broker: prepare (what every produce pays) vs the id-mode and payload-mode checks
VALIDATION_CPU="$("$BIN" bench validation --schema-file "$WORK/bench.avsc" --value-file "$WORK/bench.avro" | grep '^RESULT' || true)"
echo "  validation_cpu: $VALIDATION_CPU" >&2

# ---- the shared librdkafka suite (kbench), if the shared tools are there
SUITE_OUT=""
if [ "$SUITE" = 1 ] && [ -x "$SHARED/run-suite.sh" ]; then
    echo "== librdkafka suite ($SHARED, KBENCH_LIB=$KBENCH_LIB)" >&2
    if bash "$SHARED/build.sh" >&2; then
        SUITE_OUT="$(BROKER_PID="$BROKER_PID" REPEAT="$SUITE_REPEAT" bash "$SHARED/run-suite.sh" "$BOOT" sluice || true)"
    else
        echo "bench.sh: building kbench failed; skipping the suite" >&2
    fi
fi

# ---- end-to-end throughput of a three-member consumer group (librdkafka's kbench in group mode)
KBENCH=""
for candidate in "$SHARED/.build/kbench" "${BENCH_STATE:-$HOME/.cache/sluice-bench}/.build/kbench"; do
    [ -x "$candidate" ] && { KBENCH="$candidate"; break; }
done
GROUP_LINE=""
if [ -n "$KBENCH" ]; then
    N_GROUP="${N_GROUP:-1200000}"
    sluice bench produce --topic group6 --partitions 6 --num-records "$N_GROUP" --record-size 1024 --acks 1 >/dev/null 2>&1
    echo "== three-member group consuming $N_GROUP x 1 KiB from 6 partitions" >&2
    start_ns=$(date +%s%N)
    pids=()
    for m in 1 2 3; do
        "$KBENCH" consume -b "$BOOT" -t group6 -n $((N_GROUP / 3)) --group bench-group --max-secs 120 \
            --idle-secs 15 >"$WORK/group-$m.txt" 2>"$WORK/group-$m.err" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    secs=$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
    got=$(cat "$WORK"/group-*.txt | sed -n 's/.* msgs=\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
    GROUP_LINE=$(awk -v n="$got" -v s="$secs" 'BEGIN {printf "three-member group (kbench --group, 6 partitions, 1 KiB): %d records in %.2f s = %.0f records/s, %.1f MB/s (join included)", n, s, n / s, n * 1024 / 1e6 / s}')
    echo "  $GROUP_LINE" >&2
    sluice topics delete --topic group6 >/dev/null || true
else
    echo "== kbench not built; skipping the consumer-group benchmark" >&2
fi

# ---- idle RSS with 100 partitions, on the same broker that just moved gigabytes
sluice topics create --topic rss100 --partitions 100 >/dev/null
sluice bench produce --topic rss100 --num-records 200000 --record-size 1024 --acks 1 >/dev/null 2>&1
sluice bench consume --topic rss100 --num-records 200000 >/dev/null 2>&1
sleep 5
RSS_IDLE=$(rss_kib)
HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$BROKER_PID/status")
stop_broker

# ---- security: the same load over PLAINTEXT and SASL_SSL (SCRAM-SHA-256) on one broker, and
# the cost of a new connection (TLS handshake + SCRAM exchange)
SEC_LINES=""
if [ -n "$KBENCH" ]; then
    SEC_PORT=$((PORT + 4))
    "$BIN" certs init --dir "$WORK/certs" >/dev/null
    cat "$WORK/certs/broker-key.pem" "$WORK/certs/broker.pem" >"$WORK/certs/keystore.pem"
    "$BIN" users add --user bench --password bench-secret --data-dir "$WORK/secdata" >/dev/null
    "$BIN" serve --override "listeners=PLAINTEXT://127.0.0.1:$PORT,SASL_SSL://127.0.0.1:$SEC_PORT" \
        --override "log.dirs=$WORK/secdata" --override "ssl.keystore.location=$WORK/certs/keystore.pem" \
        >"$WORK/secbroker.log" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 1 100); do grep -q serving "$WORK/secbroker.log" 2>/dev/null && break; sleep 0.1; done
    N_SEC="${N_SEC:-500000}"
    SASL_X=(-X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-256 -X sasl.username=bench
            -X sasl.password=bench-secret -X "ssl.ca.location=$WORK/certs/ca.pem")
    # Interleaved rounds (the machine's state drifts); each run also records the CPU seconds the
    # broker and the client (kbench + librdkafka) spent, so the output shows which side pays for TLS.
    broker_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$BROKER_PID/stat"; }
    sec_run() {  # sec_run NAME KBENCH-ARGS...
        local name=$1 before after out
        shift
        before=$(broker_cpu)
        out=$( { TIMEFORMAT='CLIENT_CPU %U %S'; time "$KBENCH" "$@" 2>/dev/null; } 2>&1 )
        after=$(broker_cpu)
        record "$name" "$(grep '^RESULT' <<<"$out" | head -1) broker_cpu_s=$(awk -v a="$before" -v b="$after" 'BEGIN {print b - a}') client_cpu_s=$(awk '/^CLIENT_CPU/ {print $2 + $3}' <<<"$out")"
    }
    # Uncompressed (the clients' default) and lz4 (common in production): librdkafka writes one
    # TLS record per buffer slice, so uncompressed records cost it a record each; a compressed
    # batch is one slice (docs/BENCHMARKS.md).
    for round in $(seq 1 "${SEC_REPEAT:-3}"); do
        for codec in none lz4; do
            for listener in plaintext sasl_ssl; do
                if [ "$listener" = plaintext ]; then b="127.0.0.1:$PORT"; x=(); else b="127.0.0.1:$SEC_PORT"; x=("${SASL_X[@]}"); fi
                sec_run "sec_produce_${codec}_$listener" produce -b "$b" "${x[@]}" -t "sec-$codec-$listener-$round" --create 3 \
                    -n "$N_SEC" -s 1024 --acks 1 --compression "$codec" --max-secs 60
                sec_run "sec_consume_${codec}_$listener" consume -b "$b" "${x[@]}" -t "sec-$codec-$listener-$round" -n "$N_SEC" --max-secs 60
            done
        done
    done
    CONN=$("$ROOT/.venv/bin/python" "$ROOT/scripts/connbench.py" "127.0.0.1:$SEC_PORT" "$WORK/certs/ca.pem" bench bench-secret 5 2 2>&1 | grep '^RESULT' || true)
    stop_broker
    sec_line() {  # sec_line produce|consume none|lz4: medians, ratio, CPU ns per byte on each side
        local pt ss k="$1_$2"
        pt=$(median_of "sec_${k}_plaintext" MB_per_s); ss=$(median_of "sec_${k}_sasl_ssl" MB_per_s)
        awk -v what="$1 ($2)" -v pt="$pt" -v ss="$ss" -v n="$N_SEC" \
            -v pb="$(median_of "sec_${k}_plaintext" broker_cpu_s)" -v sb="$(median_of "sec_${k}_sasl_ssl" broker_cpu_s)" \
            -v pc="$(median_of "sec_${k}_plaintext" client_cpu_s)" -v sc="$(median_of "sec_${k}_sasl_ssl" client_cpu_s)" 'BEGIN {
            b = n * 1024
            printf "%-17s PLAINTEXT %.0f MB/s, SASL_SSL %.0f MB/s (%.0f%%); CPU ns/byte broker %.2f -> %.2f, client (librdkafka) %.2f -> %.2f",
                what ":", pt, ss, (pt > 0 ? 100 * ss / pt : 0), 1e9 * pb / b, 1e9 * sb / b, 1e9 * pc / b, 1e9 * sc / b }'
    }
    SEC_LINES="kbench 1 KiB acks=1, 3 partitions, SCRAM-SHA-256 over TLS 1.3, median of ${SEC_REPEAT:-3} interleaved rounds; target SASL_SSL >= 80% of PLAINTEXT
  $(sec_line produce none)
  $(sec_line consume none)
  $(sec_line produce lz4)
  $(sec_line consume lz4)"
    SEC_LINES="$SEC_LINES
new connections over SASL_SSL (full TLS handshake + SCRAM-SHA-256, Python client, 2 threads): $(field logins_per_s "$CONN") per second"
    echo "  $SEC_LINES" >&2
fi

# ---- heap allocations per request (needs a C compiler for the LD_PRELOAD counter)
ALLOCS=""
if command -v cc >/dev/null; then
    ALLOCS="$(SKIP_BUILD=1 SCRATCH="$SCRATCH" PORT="$PORT" bash "$ROOT/scripts/alloc-count.sh" 2>/dev/null || true)"
fi

# ---- table
echo
echo "Sluice bench  $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores  commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')  runs=$REPEAT"
printf '%-26s %14s %10s %10s %10s\n' "test (sluice bench)" records/s MB/s p99_ms target
row() { # name target
    local rps mbs p99
    rps=$(median_of "$1" records_per_s)
    mbs=$(median_of "$1" MB_per_s)
    p99=$(median_of "$1" latency_p99_ms)
    printf '%-26s %14s %10s %10s %10s\n' "$1" "$rps" "$mbs" "${p99:--}" "$2"
}
row p1k_acks1 ">=400 MB/s"
row p1k_acksall ">=350 MB/s"
row p100_acks1 ">=2M rec/s"
row consume ">=600 MB/s"
row sr_off "(validation off)"
row sr_id "within 5% of off"
row sr_payload "(reported)"
[ -n "$VALIDATION_CPU" ] && echo "schema validation CPU per 256-record batch (bench validation): ${VALIDATION_CPU#RESULT mode=validation }"
printf 'broker RSS idle, 100 partitions, after all runs: %d MiB (target <= 64 MiB); peak (VmHWM) %d MiB\n' \
    $((RSS_IDLE / 1024)) $((HWM / 1024))
[ -n "$ALLOCS" ] && echo "$ALLOCS"
[ -n "$GROUP_LINE" ] && echo "$GROUP_LINE"
[ -n "$SEC_LINES" ] && echo "$SEC_LINES"
if [ -n "$SUITE_OUT" ]; then
    echo
    echo "librdkafka suite (kbench); targets: p1k_acks1 >=400 MB/s, p1k_acksall >=350, p100_acks1 >=2M msgs/s,"
    echo "consume >=600 MB/s, lat_default p99 <=5 ms"
    echo "$SUITE_OUT"
fi
