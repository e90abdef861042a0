#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a throwaway PostgreSQL server on 127.0.0.1, as in
# production: DATABASE_URL logs in as `privacy`, which owns the database and migrates it, and
# DATABASE_RUNTIME_ROLE names `privacy_runtime`, the login the product runs as (it owns no table;
# both are trusted on 127.0.0.1, no password). Installs Debian's PostgreSQL first when it is missing
# (as root). The server and its data are removed when the command ends, whatever its outcome.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

"$(dirname "$0")/debian-package.sh" postgresql sh -c 'ls -d /usr/lib/postgresql/*/bin'
PG_BIN=$(find_bin)

# initdb refuses to run as root: run the server as the `postgres` user the package creates.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

DIR=$(mktemp -d)
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null

psql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
# Neither is a superuser. The owner creates the test databases and, to drop one, ends the runtime
# login's sessions on it (pg_signal_backend).
psql -c "CREATE ROLE privacy LOGIN CREATEDB" -c "GRANT pg_signal_backend TO privacy" \
  -c "CREATE ROLE privacy_runtime LOGIN" -c "CREATE DATABASE privacy OWNER privacy"

echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
DATABASE_URL="postgres://privacy@127.0.0.1:$PORT/privacy" DATABASE_RUNTIME_ROLE=privacy_runtime "$@"
