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

for t in "${targets[@]}"; do
  read -r name pkg <<<"$t"
  echo "fuzz: $name ($pkg) for $duration"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" "$pkg"
done
