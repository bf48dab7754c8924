#!/usr/bin/env bash
# Runs the sample app (https://localhost:3000) and its API (http://localhost:3001)
# against the Gatehouse that ./scripts/dev.sh runs; start that first, in
# another terminal. Installs their packages on first use. Ctrl+C stops both.
# The app is served over HTTPS with the dev CA's certificate, the same site as
# Gatehouse on https://localhost:8443; without one (dev --http) over plain HTTP.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "sample: npm is missing; install Node.js 18 or later (apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -f examples/react-spa/src/auth_config.json ]; then
  echo "sample: examples/react-spa/src/auth_config.json is missing; ./scripts/dev.sh writes it (or copy auth_config.json.example)" >&2
  exit 1
fi

for dir in examples/react-spa examples/api; do
  if [ ! -d "$dir/node_modules" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

# gatehouse dev's local CA, so the API's Node trusts Gatehouse's certificate.
ca="$PWD/var/tls/ca.pem"
if [ -f "$ca" ]; then
  export NODE_EXTRA_CA_CERTS="$ca"
fi

cert="$PWD/var/tls/localhost-rsa.pem"
key="$PWD/var/tls/localhost-rsa-key.pem"
if [ -f "$cert" ] && [ -f "$key" ]; then
  export SAMPLE_TLS_CERT="$cert" SAMPLE_TLS_KEY="$key"
  export APP_ORIGIN=https://localhost:3000
  echo "sample: open https://localhost:3000 (trust var/tls/ca.pem in the browser once)" >&2
else
  echo "sample: var/tls has no certificate for the app (dev serves plain HTTP, or ran before it issued one), so it serves plain HTTP: open http://localhost:3000" >&2
fi

npm start --prefix examples/api &
api=$!
trap 'kill "$api" 2>/dev/null || true' EXIT
npm start --prefix examples/react-spa
