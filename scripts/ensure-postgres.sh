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

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" ensure-postgres \
  "PostgreSQL server binaries (pg_ctl) are missing: neither on PATH nor under /usr/lib/postgresql/*/bin." postgresql

if ! have_pg_ctl; then
  echo "ensure-postgres: installed the postgresql package, yet pg_ctl is still missing" >&2
  exit 1
fi
