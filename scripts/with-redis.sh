#!/usr/bin/env bash
# Runs a command with REDIS_URL pointing at a throwaway Redis server on 127.0.0.1 (for the task queue's
# integration test). Installs Debian's redis-server first when it is missing (as root). The server and its
# data are removed when the command ends, whatever its outcome.
set -euo pipefail

"$(dirname "$0")/debian-package.sh" redis-server command -v redis-server

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save "" --appendonly no \
  --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

echo "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$PORT"
REDIS_URL="redis://127.0.0.1:$PORT/0" "$@"
