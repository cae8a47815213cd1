#!/usr/bin/env bash
# Runs on the lent GPU machine (after scripts/device_bundle.sh here): device facts, the GPU tests, the
# full parity harness, compute-sanitizer over the GPU tests, the seed pipeline, and the benchmarks. Writes
# logs and JSON under $OUT. Usage: bash scripts/device_run.sh [tests|compare|sanitize|run|bench|all]...
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/tp_out}
mkdir -p "$OUT"
# the bundle travels compressed (the carry limit is 64 MiB)
[ -f .carry/bundle.tgz ] && [ ! -x .carry/bin/twinpix ] && tar -C .carry -xzf .carry/bundle.tgz
export LD_LIBRARY_PATH=$PWD/.carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export TWINPIX_SHARED_DATASETS=${TWINPIX_SHARED_DATASETS:-$PWD/.carry/datasets}
TP=$PWD/.carry/bin/twinpix
what=${*:-all}
has() { [[ " $what " == *" $1 "* || " $what " == *" all "* ]]; }
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv; $TP info; } 2>&1 | tee "$OUT/info.txt"
if has tests; then
  : > "$OUT/gpu_tests.txt"
  for t in .carry/tests/gpu_test_*; do
    echo "== $t" | tee -a "$OUT/gpu_tests.txt"
    "$t" 2>&1 | tee -a "$OUT/gpu_tests.txt"; echo "exit $?" | tee -a "$OUT/gpu_tests.txt"
  done
fi
if has sanitize; then
  : > "$OUT/sanitizer.txt"
  for tool in ${SAN_TOOLS:-memcheck racecheck initcheck synccheck}; do
    for t in .carry/tests/gpu_test_*; do
      echo "== $tool $t" >> "$OUT/sanitizer.txt"
      TP_TEST_SMALL=1 timeout "${SAN_TIMEOUT:-240}" compute-sanitizer --tool "$tool" --error-exitcode 9 "$t" \
        >> "$OUT/sanitizer.txt" 2>&1
      echo "exit $?" >> "$OUT/sanitizer.txt"
    done
  done
  grep -E "^== |^exit|ERROR SUMMARY" "$OUT/sanitizer.txt"
fi
if has otsu; then
  TWINPIX=$TP python3 tests/oracle/otsu_026_check.py 2>&1 | tee "$OUT/otsu_026.txt" | tail -5
fi
if has compare; then
  $TP compare --require-gpu --out "$OUT/compare" > "$OUT/compare_stdout.txt" 2>&1; echo "compare exit $?"
  tail -40 "$OUT/compare_stdout.txt"
fi
if has run; then
  $TP run --out "$OUT/run" 2>&1 | tee "$OUT/run.txt"
  TWINPIX_DEBUG=1 $TP run --out "$OUT/run" --backend cuda --repeat 1 2>&1 | grep -i "twinpix:" | head -20
fi
if has bench; then
  $TP bench ${BENCH_ARGS:-} --out "$OUT/bench" 2> "$OUT/bench_progress.txt" | tail -40; echo "bench exit $?"
fi
if has calibrate; then
  $TP calibrate --out "$OUT/calibration.json" 2>&1 | tail -14
fi
if has auto; then
  # the backend choice on a mix of sizes: auto (from this machine's calibration) against always-CPU and
  # always-GPU, whole seed pipeline from a host image; TWINPIX_DEBUG shows every decision
  cal="$OUT/calibration.json"; [ -f "$cal" ] || cal=""
  : > "$OUT/auto.txt"
  for n in 256 640 2048 8192; do
    for b in cpu cuda auto; do
      TWINPIX_CALIBRATION=$cal TWINPIX_DEBUG=1 $TP run --synthetic $n --backend $b --repeat 3 --out "/tmp/auto_${b}_$n" \
        > "/tmp/auto_${b}_$n.log" 2>&1
      tot=$(python3 -c "import json;d=json.load(open('/tmp/auto_${b}_$n/run.json'))['total'];print(d.get('cpu_ms', d.get('cuda_ms_host_in_host_out')))")
      echo "size $n backend $b total_ms $tot" | tee -a "$OUT/auto.txt"
    done
    grep -E "auto chose|pipeline seed" "/tmp/auto_auto_$n.log" | head -2 | tee -a "$OUT/auto.txt"
  done
  TWINPIX_CALIBRATION=$cal TWINPIX_DEBUG=1 TWINPIX_BACKEND=auto $TP op gaussian --sigma 5 .carry/datasets/blobs_imagej_8bit.tif /tmp/g.tif 2>&1 | tee -a "$OUT/auto.txt"
fi
# one archive back (the device tool returns at most 8 files)
if [ -n "${PACK:-}" ]; then
  tar -C "$OUT" -czf /tmp/results.tgz --exclude='*.tif' --exclude='*.png' . && mv /tmp/results.tgz "$OUT/results.tgz"
  find "$OUT" -mindepth 1 -not -name results.tgz -delete
fi
