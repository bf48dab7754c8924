#!/usr/bin/env bash
# Installs the PostgreSQL server binaries (pg_ctl, initdb, postgres) that
# pgcluster runs, from Debian packages, unless they are already there.
# Quiet when there is nothing to do.
set -euo pipefail

have_pg_ctl() {
  command -v pg_ctl >/dev/null 2>&1 ||
    compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

if have_pg_ctl; then
  exit 0
fi

need="PostgreSQL server binaries (pg_ctl) are missing: neither on PATH nor under /usr/lib/postgresql/*/bin."
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: $need Install PostgreSQL with your system's package manager." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-postgres: $need As root, run: apt-get update && apt-get install -y postgresql" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "ensure-postgres: installing PostgreSQL: apt-get install -y postgresql" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null

if ! have_pg_ctl; then
  echo "ensure-postgres: installed the postgresql package, yet pg_ctl is still missing" >&2
  exit 1
fi
