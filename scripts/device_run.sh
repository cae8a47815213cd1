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
  # each tool over each GPU test binary, test by test (TP_TEST_ONLY) so that a slow one is named and the
  # others still finish; TP_TEST_SMALL shrinks the largest inputs (the sanitizer runs kernels 10-100x slower)
  for tool in ${SAN_TOOLS:-memcheck racecheck initcheck synccheck}; do
    for t in ${SAN_TESTS:-.carry/tests/gpu_test_*}; do
      for name in $(TP_TEST_LIST=1 "$t"); do
        # SAN_NAMES="a b": only these tests
        [ -n "${SAN_NAMES:-}" ] && [[ " $SAN_NAMES " != *" $name "* ]] && continue
        echo "== $tool $t $name" >> "$OUT/sanitizer.txt"
        s0=$(date +%s)
        TP_TEST_SMALL=1 TP_TEST_ONLY=$name timeout "${SAN_TIMEOUT:-240}" compute-sanitizer --tool "$tool" \
          --error-exitcode 9 "$t" 2>&1 | grep -v "Host Frame" >> "$OUT/sanitizer.txt"
        echo "exit ${PIPESTATUS[0]} ($(( $(date +%s) - s0 )) s)" >> "$OUT/sanitizer.txt"
      done
    done
  done
  awk '/^== /{h=$2" "$3" "$4; sum=""} /SUMMARY/{sum=$0} /^exit/{print h": "$0" "sum}' "$OUT/sanitizer.txt" \
    | sed 's/========= //' | tee "$OUT/sanitizer_summary.txt"
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
if has profile; then
  # per-kernel device time and DRAM bytes of the seed pipeline (ncu, clocks left alone), for the perf log
  PROFILE_SIZE=${PROFILE_SIZE:-8192}
  ncu --clock-control none --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum --csv \
    $TP run --synthetic "$PROFILE_SIZE" --backend cuda --repeat 1 --out /tmp/prof_run > "$OUT/profile_$PROFILE_SIZE.csv" 2> "$OUT/profile_$PROFILE_SIZE.err"
  echo "profile exit $?"
  python3 - "$OUT/profile_$PROFILE_SIZE.csv" <<'PY' | tee "$OUT/profile_$PROFILE_SIZE.txt"
import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
h = rows[0]; k = h.index("Kernel Name"); m = h.index("Metric Name"); v = h.index("Metric Value"); i = h.index("ID")
per = collections.OrderedDict()
for r in rows[1:]:
    d = per.setdefault(r[i], {"name": r[k][:90]})
    d[r[m]] = float(r[v].replace(",", ""))
print("%-90s %10s %10s %10s" % ("kernel", "us", "MB read", "MB write"))
for d in per.values():
    print("%-90s %10.1f %10.1f %10.1f" % (d["name"], d.get("gpu__time_duration.sum", 0) / 1e3,
          d.get("dram__bytes_read.sum", 0) / 1e6, d.get("dram__bytes_write.sum", 0) / 1e6))
PY
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
if has large; then
  # A 3D volume over 2^31 voxels (default 1300^3 uint8, 2.2e9 voxels) through the whole seed pipeline on both
  # backends in one process (cpu first, then a cuda warm-up on a slab and the cuda run): per-stage digests
  # for parity (no copies kept), per-stage and per-backend peak device bytes, peak host RSS, held bytes and
  # wall times in $OUT/large/run.json; stage images over 2 GiB are not written (--write-stages auto).
  # Expected at 1300^3: device peak ~34 B/voxel (~75 GB, at label2rgb), cpu-side host peak ~35 B/voxel
  # (~77 GB); estimated 1-4 min in all. LARGE_SPLIT=1 runs cuda and cpu as two processes instead (the cpu
  # run compares its digests with the cuda run.json through --parity-with). /usr/bin/time's "Maximum resident
  # set size" counts only from twinpix's last per-stage VmHWM reset: take the peaks from run.json (backends.*).
  # Minutes and most of the GPU's memory: under "all" only with LARGE_IN_ALL=1; name it to run it.
  large_shape=${LARGE_SHAPE:-1300x1300x1300}
  large_tv=""; [ -x /usr/bin/time ] && large_tv="/usr/bin/time -v"
  : > "$OUT/large.txt"
  if [[ " $what " != *" large "* && -z "${LARGE_IN_ALL:-}" ]]; then
    echo "large exit skipped: not named (device_run.sh large, or LARGE_IN_ALL=1)" >> "$OUT/large.txt"
  elif [ -n "${LARGE_SPLIT:-}" ]; then
    TWINPIX_DEBUG=1 $large_tv timeout "${LARGE_TIMEOUT:-270}" $TP run --synthetic "$large_shape" --backend cuda \
      --repeat 1 --out "$OUT/large_cuda" >> "$OUT/large.txt" 2>&1
    echo "large cuda exit $?" >> "$OUT/large.txt"
    TWINPIX_DEBUG=1 $large_tv timeout "${LARGE_TIMEOUT:-270}" $TP run --synthetic "$large_shape" --backend cpu \
      --repeat 1 --parity-with "$OUT/large_cuda/run.json" --out "$OUT/large" >> "$OUT/large.txt" 2>&1
    echo "large cpu exit $?" >> "$OUT/large.txt"
  else
    TWINPIX_DEBUG=1 $large_tv timeout "${LARGE_TIMEOUT:-540}" $TP run --synthetic "$large_shape" --backend both \
      --repeat 1 ${LARGE_ARGS:-} --out "$OUT/large" >> "$OUT/large.txt" 2>&1
    echo "large exit $?" >> "$OUT/large.txt"
  fi
  grep -E "^(stage |blurred|threshold|binary|eroded|labels|overlay|table|total|parity|cpu:|cuda:|peak |large )|twinpix run:|Maximum resident|Elapsed|Exit status" "$OUT/large.txt"
fi
# one archive back (the device tool returns at most 8 files)
if [ -n "${PACK:-}" ]; then
  tar -C "$OUT" -czf /tmp/results.tgz --exclude='*.tif' --exclude='*.png' . && mv /tmp/results.tgz "$OUT/results.tgz"
  find "$OUT" -mindepth 1 -not -name results.tgz -delete
fi
