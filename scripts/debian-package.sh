#!/usr/bin/env bash
# Usage: scripts/debian-package.sh PACKAGE TEST-COMMAND…
# Installs the Debian package PACKAGE (as root) unless TEST-COMMAND… already succeeds: the one way the
# project's scripts get what they need from Debian (PostgreSQL, Redis, Chromium, the PDF libraries).
set -euo pipefail
package=$1
shift
if "$@" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$package is not installed; run: sudo apt-get install -y $package" >&2
  exit 1
fi
echo "Installing $package (Debian package)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
