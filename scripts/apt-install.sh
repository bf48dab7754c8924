#!/usr/bin/env bash
# apt-install.sh WHO WHY PACKAGE...: installs Debian packages for the ensure-*
# scripts, as root or through sudo, or says what to run when it cannot. WHO
# names the caller in messages; WHY says what is missing.
set -euo pipefail

who=$1 why=$2
shift 2

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who: $why Install $* with your system's package manager." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "$who: $why As root, run: apt-get update && apt-get install -y $*" >&2
    exit 1
  fi
  sudo=(sudo)
fi

# Only what the packages depend on: recommended extras (documentation, desktop
# integration) are not needed to run tests or a server.
echo "$who: $why Installing: apt-get install -y --no-install-recommends $*" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
