#!/usr/bin/env bash
# Refreshes the screenshots in docs/img from a run of the browser journeys,
# so the docs show the screens as they are: scripts/screenshots.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-postgres.sh
bash scripts/ensure-browser.sh
for dir in examples/react-spa examples/api e2e/browser; do
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
done

artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
GATEHOUSE_E2E=required GATEHOUSE_E2E_ARTIFACTS="$artifacts" \
  go run ./cmd/withpostgres -- go test -count=1 -run '^TestBrowserJourneys$' ./cmd/gatehouse/

# journey screenshot -> docs/img name
while read -r from to; do
  cp "$artifacts/$from.png" "docs/img/$to.png"
  echo "docs/img/$to.png"
done <<'LIST'
journey4-03-login-page login
journey1-00-signup signup
journey1-00-enroll enroll
journey1-00-recovery recovery-codes
journey3-01-wrong-code challenge
journey4-04-passkey-challenge passkey-challenge
journey4-01-add-passkey passkey-add
journey4-02-security-page passkey-security
journey2-policy-never admin-mfa
journey7-01-recovery-fr recovery-fr
journey7-02-login-ar login-ar
journey8-branding-login branding-login
journey8-branding-console branding-console
LIST
