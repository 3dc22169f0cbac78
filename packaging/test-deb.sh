#!/usr/bin/env bash
# Builds the Debian package from a built build folder and checks it (the ctest "packaging: deb ..." runs this).
#
#   bash packaging/test-deb.sh BUILD_DIR [OUT_DIR]      # OUT_DIR defaults to BUILD_DIR/deb
set -euo pipefail
if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
  echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
deb=$(bash "$here/build-deb.sh" "$1" "${2:-$1/deb}" | tail -n1)
bash "$here/check-deb.sh" "$deb"
