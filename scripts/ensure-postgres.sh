#!/usr/bin/env bash
# Installs the PostgreSQL server binaries (pg_ctl, initdb, postgres) that
# pgcluster runs, and PgBouncer, which the tests put in front of them, from
# Debian packages, unless they are already there. Quiet when there is nothing
# to do.
set -euo pipefail

have_pg_ctl() {
  command -v pg_ctl >/dev/null 2>&1 ||
    compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

# Debian puts pgbouncer in /usr/sbin, which an unprivileged PATH may lack.
have_pgbouncer() {
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
}

missing=()
have_pg_ctl || missing+=(postgresql)
have_pgbouncer || missing+=(pgbouncer)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" ensure-postgres \
  "Missing: PostgreSQL server binaries (pg_ctl) or PgBouncer." "${missing[@]}"

if ! have_pg_ctl; then
  echo "ensure-postgres: installed the postgresql package, yet pg_ctl is still missing" >&2
  exit 1
fi
if ! have_pgbouncer; then
  echo "ensure-postgres: installed the pgbouncer package, yet pgbouncer is still missing" >&2
  exit 1
fi
