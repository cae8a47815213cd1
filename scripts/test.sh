#!/usr/bin/env bash
# The whole test suite: set up, build, run every test (CPU tests, scikit-image oracle tests, CLI tests;
# GPU tests report themselves skipped without a device).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" --timeout 1500
