#!/usr/bin/env bash
# The PDF downloads (WeasyPrint) need Debian's Pango (with its FreeType backend), HarfBuzz's subsetter and a
# font: install what is missing (as root), as for the test servers and the browser.
set -euo pipefail
here="$(dirname "$0")"
has_library() { /sbin/ldconfig -p | grep -q "$1"; }
export -f has_library
"$here/debian-package.sh" libpango-1.0-0 bash -c 'has_library libpango-1.0.so.0'
"$here/debian-package.sh" libpangoft2-1.0-0 bash -c 'has_library libpangoft2-1.0.so.0'
"$here/debian-package.sh" libharfbuzz-subset0 bash -c 'has_library libharfbuzz-subset.so.0'
"$here/debian-package.sh" fonts-dejavu-core test -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
