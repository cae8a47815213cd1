#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan, CPU-only) and run each for a bounded time
# (FUZZ_SECONDS, default 60) over a seed corpus the project writes itself. A crash fails the script and
# leaves the crashing input in build-fuzz/crashes/ (keep it under tests/fuzz/regressions/ once fixed:
# those files are replayed on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
B=build-fuzz
CC=clang CXX=clang++ cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWINPIX_CUDA=OFF -DTWINPIX_FUZZ=ON \
  -DTWINPIX_BUILD_BENCH=OFF -DTWINPIX_BUILD_TESTS=OFF >/dev/null
cmake --build $B -j"$(nproc)" --target fuzz_tiff fuzz_png fuzz_dispatch make_corpus >/dev/null
rm -rf $B/corpus && mkdir -p $B/corpus/tiff $B/corpus/png $B/corpus/dispatch $B/crashes
$B/make_corpus $B/corpus/tiff
mv $B/corpus/tiff/*.png $B/corpus/png/
head -c 256 /dev/zero > $B/corpus/dispatch/zeros
printf '\x05\x01\x01\x02\x08\x08\x00' > $B/corpus/dispatch/gaussian_2d
total=0
for t in tiff png dispatch; do
  regress=tests/fuzz/regressions/$t
  extra=(); [ -d "$regress" ] && extra=("$regress")
  log=$B/fuzz_$t.log
  if ! $B/fuzz_$t -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       -artifact_prefix=$B/crashes/$t- $B/corpus/$t "${extra[@]}" > "$log" 2>&1; then
    tail -30 "$log"; echo "fuzz: $t FAILED (crash input in $B/crashes)"; exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  total=$((total + runs))
  echo "fuzz: $t ran clean: $runs executions in ${SECS}s"
done
echo "fuzz: $total executions in all, no crash"
