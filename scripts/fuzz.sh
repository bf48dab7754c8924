#!/usr/bin/env bash
# Runs every fuzz target for a while each: scripts/fuzz.sh [DURATION], e.g.
# 3s in the test suite, 5m by hand (make fuzz). A failing input is saved under
# the package's testdata/fuzz/ and then replays in every plain go test run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
duration="${1:-60s}"

targets=(
  "FuzzParsePhone ./mfa/"
  "FuzzVerifyWebhookSignature ./mfa/sms/"
  "FuzzSafeReturnTo ./server/"
  "FuzzJSONBodyAsForm ./server/"
  "FuzzParse ./settings/"
  "FuzzCallbackRules ./clients/"
)

# Go 1.26's fuzzing engine can stop a short run with "context deadline
# exceeded" while coordinating its workers, without any failing input
# (golang/go#75804). Such a run is tried again once; a run that saved a
# failing input under testdata/fuzz fails at once.
# Under the test command each target counts as one test (TESTREPORT adds it
# to the run's tally).
count() {
  if [ -n "${TESTREPORT:-}" ]; then
    "$TESTREPORT" -add "$TESTREPORT_TALLY" "$@"
  fi
}

corpus_size() { { find "$1/testdata/fuzz/$2" -type f 2>/dev/null || true; } | wc -l; }

for t in "${targets[@]}"; do
  read -r name pkg <<<"$t"
  echo "fuzz: $name ($pkg) for $duration"
  for attempt in 1 2; do
    before=$(corpus_size "$pkg" "$name")
    if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" "$pkg"; then
      count 1 0 0
      break
    fi
    if [ "$(corpus_size "$pkg" "$name")" != "$before" ] || [ "$attempt" = 2 ]; then
      echo "fuzz: $name failed; the failing input is under $pkg/testdata/fuzz/$name" >&2
      count 0 1 0
      exit 1
    fi
    echo "fuzz: $name stopped without a failing input; running it again" >&2
  done
done
