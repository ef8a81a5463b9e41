#!/usr/bin/env bash
# Fails when the committed generated codecs (and the test support generated beside them) differ
# from what KafkaCodegen makes of the specs. SWIFT_SCRATCH_PATH picks the build directory.
# The specs are Kafka's message JSON files (KAFKA_SPECS, default ../shared/...); the internal
# records (../internal-records/) and KRaft's metadata records (../metadata/, or KAFKA_METADATA_SPECS) are
# generated into Generated/Internal and Generated/Metadata and checked by the same diff. Without
# the specs the check is skipped with one line, or fails when SLUICE_REQUIRE_SHARED=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/shared-input.sh
specs="${KAFKA_SPECS:-../shared/reference/kafka-protocol/messages}"
optional_input codegen-check "$specs" \
    "set KAFKA_SPECS=<Kafka's message specs: clients/src/main/resources/common/message> to run it" || exit 0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# SWIFT_SCRATCH_PATH (or SCRATCH_PATH) lets parallel worktrees keep their own build directories.
scratch="${SWIFT_SCRATCH_PATH:-${SCRATCH_PATH:-.build}}"
swift build --scratch-path "$scratch" --product KafkaCodegen >/dev/null
"$scratch/debug/KafkaCodegen" "$specs" "$out/codecs" "$out/tests" >/dev/null
stale=0
for pair in "Sources/KafkaProtocol/Generated:$out/codecs" "Tests/KafkaProtocolTests/Generated:$out/tests"; do
  committed="${pair%%:*}"
  fresh="${pair#*:}"
  if ! diff -ru "$committed" "$fresh" >/dev/null; then
    diff -ru "$committed" "$fresh" | head -40
    echo "codegen-check: $committed is stale; run 'make codegen' and commit." >&2
    stale=1
  fi
done
[ "$stale" = 0 ] || exit 1
echo "codegen-check: generated codecs and test support are current"
