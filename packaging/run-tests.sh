#!/usr/bin/env bash
# Installs what Convscope needs, builds it and runs the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/setup-debian.sh
cmake --preset release
cmake --build --preset release
ctest --preset release --output-on-failure "$@"
