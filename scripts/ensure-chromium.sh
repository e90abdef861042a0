#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (no browser download): install it when it is missing (as root).
exec "$(dirname "$0")/debian-package.sh" chromium command -v chromium
