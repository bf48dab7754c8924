#!/usr/bin/env bash
# Installs what the browser journeys (e2e/browser) run on, from Debian
# packages, unless it is already there: Chromium, and Node.js with npm when
# node is missing. Quiet when there is nothing to do. The journeys use this
# Chromium through playwright-core, never a browser Playwright downloads.
set -euo pipefail

need=()
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  # A font, which Chromium only recommends, so that screenshots show text.
  need+=(chromium fonts-liberation)
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  need+=(nodejs npm)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" ensure-browser \
  "The browser journeys (e2e/browser) drive Debian's Chromium with Node.js; missing: ${need[*]}." "${need[@]}"
