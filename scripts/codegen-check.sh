#!/usr/bin/env bash
# Fails when the committed generated codecs differ from what KafkaCodegen makes of the specs.
set -euo pipefail
cd "$(dirname "$0")/.."
specs="${KAFKA_SPECS:-../shared/reference/kafka-protocol/messages}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# SCRATCH_PATH lets parallel worktrees keep their own build directories.
scratch="${SCRATCH_PATH:-.build}"
swift build --scratch-path "$scratch" --product KafkaCodegen >/dev/null
# Also writes the __consumer_offsets record codecs into "$out/Internal" (diffed below with the rest).
"$scratch"/debug/KafkaCodegen "$specs" "$out" >/dev/null
if ! diff -ru Sources/KafkaProtocol/Generated "$out" >/dev/null; then
  diff -ru Sources/KafkaProtocol/Generated "$out" | head -40
  echo "codegen-check: Sources/KafkaProtocol/Generated is stale; run 'make codegen' and commit." >&2
  exit 1
fi
echo "codegen-check: generated codecs are current"
