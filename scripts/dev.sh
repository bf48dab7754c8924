#!/usr/bin/env bash
# Runs Gatehouse for development against its own PostgreSQL, kept in
# ./var/postgres across runs. Arguments go to `gatehouse dev`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1; then
  export PATH="$PATH:/usr/local/go/bin"
fi

bash scripts/ensure-postgres.sh

exec go run ./cmd/gatehouse dev "$@"
