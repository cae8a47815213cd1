#!/usr/bin/env bash
# The main job: install what is missing, build, run the seed pipeline on the default real image (CPU, and
# the GPU when one is usable: parity per stage and speedups), then the quick parity harness, writing
# everything under reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
TP=./build/twinpix
$TP info
$TP run --out reports/run
status=0
$TP compare --quick --out reports/compare || status=$?
# 77 = the GPU cases were skipped because no GPU is usable here: that is not a failure of the main job
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then exit "$status"; fi
echo "main: reports written under reports/run and reports/compare"
