#!/usr/bin/env bash
# Servers and system packages the test suite uses: PostgreSQL on loopback (the audit
# database tests run against it as well as SQLite), Chromium (browser tests) and strace
# (the no-network test).
# Safe to run twice. Exports nothing: tests find PostgreSQL via .ci/pg.env.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v strace >/dev/null 2>&1 || need+=(strace)  # second witness of the no-network test
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "services: cannot install ${need[*]} without root; dependent tests will be skipped" >&2
  fi
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$PG_BIN" ] && [ "$(id -u)" = 0 ]; then
  PGDIR=/tmp/screener-pg
  if ! su postgres -c "$PG_BIN/pg_ctl -D $PGDIR/data status" >/dev/null 2>&1; then
    rm -rf "$PGDIR" && mkdir -p "$PGDIR" && chown postgres:postgres "$PGDIR"
    su postgres -c "$PG_BIN/initdb -D $PGDIR/data -U postgres --auth=trust -E UTF8" >/dev/null
    su postgres -c "$PG_BIN/pg_ctl -D $PGDIR/data -o '-p 5433 -k $PGDIR -c listen_addresses=127.0.0.1' -l $PGDIR/log -w start" >/dev/null
  fi
  echo "SCREENER_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5433/postgres" > .ci/pg.env
fi
