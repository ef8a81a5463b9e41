#!/usr/bin/env bash
# make run's first-time set-up, idempotent: development certificates in certs/, the demo users in
# ./data (password = "<user>-secret"), and client property files for the CLI and kcat in certs/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${1:-.build/release/sluice}"
if [ ! -f certs/ca.pem ] || [ ! -f certs/broker-keystore.pem ]; then
    "$BIN" certs init --dir certs --client alice --client bob --force
fi
mkdir -p data
existing="$("$BIN" users list --data-dir data 2>/dev/null || true)"
for user in admin team-a-app team-a-admin team-b-app team-b-admin; do
    if ! grep -q "^$user[[:space:]]" <<<"$existing"; then
        "$BIN" users add --user "$user" --password "$user-secret" --data-dir data >/dev/null
    fi
    cat >"certs/$user.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.username=$user
sasl.password=$user-secret
ssl.ca.location=certs/ca.pem
PROPS
done
