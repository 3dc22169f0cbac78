#!/usr/bin/env bash
# Builds Convscope with AddressSanitizer + UndefinedBehaviorSanitizer in build-sanitize/ (CMake preset "sanitize")
# and runs the unit, integration and GUI tests under them. Any finding aborts its test, so a clean run is all
# tests passing. Suppressions (packaging/sanitizers/*.supp) cover findings inside LibTorch/Qt/OpenCV/FAISS only.
#
# Usage: bash packaging/run-sanitizers.sh [ctest arguments, e.g. -R unit:]
# Cost on 2 cores: about 45 min to build from scratch, about 7 min for the tests (they run 2-4x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/setup-debian.sh

# The same options ctest's preset sets, also for the build: test discovery runs the test programs after linking.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$PWD/packaging/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/packaging/sanitizers/ubsan.supp"
export QT_QPA_PLATFORM=offscreen

start=$(date +%s)
cmake --preset sanitize
cmake --build --preset sanitize -j "$(nproc)"
built=$(date +%s)
status=0
ctest --preset sanitize -j "$(nproc)" "$@" || status=$?
done_at=$(date +%s)
echo "sanitizers: build $(( (built - start) / 60 )) min, tests $(( (done_at - built) / 60 )) min, ctest status $status"
exit $status
