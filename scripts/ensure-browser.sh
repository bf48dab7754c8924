#!/usr/bin/env bash
# Installs what the browser journeys (e2e/browser) run on, from Debian
# packages, unless it is already there: Chromium, and Node.js with npm when
# node is missing. Quiet when there is nothing to do. The journeys use this
# Chromium through playwright-core, never a browser Playwright downloads.
set -euo pipefail

need=()
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  need+=(chromium)
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  need+=(nodejs npm)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: missing ${need[*]}; install them with your system's package manager." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-browser: missing ${need[*]}. As root, run: apt-get update && apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "ensure-browser: installing: apt-get install -y ${need[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
