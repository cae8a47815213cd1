#!/usr/bin/env bash
# Reliability checks on the CPU side:
#  1. the whole C test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (CPU-only build);
#  2. the concurrency test under ThreadSanitizer (OpenMP teams of one thread: libgomp is not instrumented);
#  3. valgrind memcheck on the CLI over a corpus of bad inputs (each must fail cleanly, leak nothing and
#     leave no output file behind).
set -euo pipefail
cd "$(dirname "$0")/.."
J=$(nproc)
echo "== ASan + UBSan: C tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWINPIX_CUDA=OFF -DTWINPIX_SANITIZE=ON \
  -DTWINPIX_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$J" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ctest -j"$J" --output-on-failure -R '^test_' --timeout 1200)

echo "== ThreadSanitizer: test_concurrency"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWINPIX_CUDA=OFF -DTWINPIX_TSAN=ON \
  -DTWINPIX_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j"$J" --target test_concurrency >/dev/null
OMP_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 TP_TSAN=1 build-tsan/test_concurrency

echo "== valgrind: the CLI on bad inputs"
[ -x build/twinpix ] || { echo "build/twinpix missing: run scripts/build.sh first"; exit 1; }
TP=build/twinpix
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
/usr/bin/python3 - "$d" <<'PY'
import numpy as np, sys, os
d = sys.argv[1]
np.save(os.path.join(d, "good.npy"), (np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64))
PY
$TP op img_as_float "$d/good.npy" "$d/good.tif" >/dev/null
$TP op threshold --threshold 100 "$d/good.npy" "$d/mask.png" >/dev/null 2>&1 || true
sz=$(stat -c %s "$d/good.tif")
head -c 8 "$d/good.tif" > "$d/trunc_header.tif"
head -c $((sz / 2)) "$d/good.tif" > "$d/trunc_half.tif"
printf 'II*\0\x08\0\0\0\x01\0\x00\x01\x04\0\x01\0\0\0\xff\xff\xff\x7f\0\0\0\0' > "$d/huge_dims.tif"
printf 'MM\0*garbage-garbage-garbage' > "$d/bad_ifd.tif"
printf 'not an image at all' > "$d/wrong_magic.tif"
: > "$d/empty.png"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\0\0\0\0\x01\x08\0\0\0\0\0\0\0\0' > "$d/zero_width.png"
[ -f "$d/mask.png" ] && head -c 40 "$d/mask.png" > "$d/trunc.png"
fails=0; n=0
for f in "$d"/trunc_* "$d"/huge_dims.tif "$d"/bad_ifd.tif "$d"/wrong_magic.tif "$d"/empty.png "$d"/zero_width.png; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  out="$d/out_$(basename "$f").tif"
  set +e
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    $TP op gaussian --sigma 2 "$f" "$out" > "$d/vg.log" 2>&1
  rc=$?
  set -e
  if [ $rc -eq 99 ] || [ $rc -eq 0 ] || [ -e "$out" ] || ls "$d"/out_*.tmp.* >/dev/null 2>&1; then
    echo "  FAIL $(basename "$f"): exit $rc"; cat "$d/vg.log"; fails=$((fails + 1))
  else
    echo "  ok   $(basename "$f"): exit $rc, $(grep -m1 twinpix "$d/vg.log" | cut -c1-110)"
  fi
done
# an unwritable output: clear error, no partial or temporary file
set +e
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 $TP op img_as_float "$d/good.npy" /proc/twinpix/no.tif > "$d/vg.log" 2>&1
rc=$?
set -e
n=$((n + 1))
if [ $rc -eq 99 ] || [ $rc -eq 0 ]; then echo "  FAIL unwritable output: exit $rc"; cat "$d/vg.log"; fails=$((fails + 1));
else echo "  ok   unwritable output: exit $rc"; fi
echo "valgrind: $((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
