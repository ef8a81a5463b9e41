#!/usr/bin/env bash
# Fails when the committed generated codecs differ from what KafkaCodegen makes of the specs.
set -euo pipefail
cd "$(dirname "$0")/.."
specs="${KAFKA_SPECS:-../shared/reference/kafka-protocol/messages}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swift build --product KafkaCodegen >/dev/null
.build/debug/KafkaCodegen "$specs" "$out" >/dev/null
if ! diff -ru Sources/KafkaProtocol/Generated "$out" >/dev/null; then
  diff -ru Sources/KafkaProtocol/Generated "$out" | head -40
  echo "codegen-check: Sources/KafkaProtocol/Generated is stale; run 'make codegen' and commit." >&2
  exit 1
fi
echo "codegen-check: generated codecs are current"
