#!/usr/bin/env bash
# The whole test suite; CI runs it through .ci/run. Extra arguments are passed
# to `go test` as flags, before the package list, e.g.
#   scripts/test.sh -run TestLogin -v
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1; then
  export PATH="$PATH:/usr/local/go/bin"
fi

bash scripts/ensure-postgres.sh
bash scripts/ensure-browser.sh

# Every Go file git would commit, tracked or new, except vendored code. A
# checkout without git (an unpacked archive) falls back to find.
go_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- '*.go' ':(exclude,glob)**/vendor/**'
  else
    find . -name '*.go' -not -path '*/vendor/*' -not -path './var/*' -not -path '*/node_modules/*' -print0
  fi
}

unformatted=$(go_files | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
  echo "test.sh: these files need gofmt -w:" >&2
  echo "$unformatted" >&2
  exit 1
fi

go vet ./...

# The Node packages of the harness that logs in with the real Auth0 SPA SDK,
# of the strict relying-party libraries, of the sample app and API and of the
# browser journeys (cmd/gatehouse/examples_test.go skips, saying so, when node
# or they are missing; plain `go test` skips the Node harnesses and the
# journeys too).
if command -v npm >/dev/null 2>&1; then
  npm_ci() { npm ci --prefix "$1" --no-audit --no-fund --loglevel=error; }
  for dir in e2e/spa-js e2e/strict-rp e2e/management-api examples/react-spa examples/api e2e/browser; do
    npm_ci "$dir" || npm_ci "$dir" # one retry for a registry hiccup
  done
fi

# ensure-browser.sh and npm ci above provide everything the browser journeys
# and the Node harnesses need, so here a missing piece fails cmd/gatehouse's
# TestBrowserJourneys and server's TestAuth0SPASDK*,
# TestStrictRelyingPartyLibraries and TestAuth0ManagementClient instead of
# skipping them.
export GATEHOUSE_E2E=required

# Every test that runs is counted: Go tests and their subtests (the Node
# harness, the sample app and API and the browser journeys run as subtests of
# Go tests) and each fuzz target. The last line says how many passed, failed
# and were skipped, whether or not the run got that far.
tally=$(mktemp)
go build -o "$tally.report" ./cmd/testreport
trap '"$tally.report" -total "$tally"; rm -f "$tally" "$tally.report"' EXIT

go run ./cmd/withpostgres -- go test -json -race -count=1 -timeout 30m "$@" ./... 2>&1 | "$tally.report" -tally "$tally"

# The store's tests once more with pgx in exec mode, the mode a
# transaction-pooling PgBouncer needs (docs/scaling.md): there pgx must know
# every argument's Postgres type without asking Postgres, and a statement it
# cannot encode fails only that way.
if [ $# -eq 0 ]; then
  GATEHOUSE_TEST_EXEC_MODE=1 go run ./cmd/withpostgres -- go test -json -count=1 -timeout 15m ./store/ 2>&1 |
    "$tally.report" -tally "$tally"
fi

# A short run of every fuzz target, unless the caller picked tests to run.
if [ $# -eq 0 ]; then
  TESTREPORT="$tally.report" TESTREPORT_TALLY="$tally" \
    go run ./cmd/withpostgres -- bash scripts/fuzz.sh "${GATEHOUSE_FUZZTIME:-3s}"
fi
