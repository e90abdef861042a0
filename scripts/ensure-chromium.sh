#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (no browser download): install it when it is missing (as root).
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is not installed; run: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "Installing Chromium (Debian package)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
