#!/usr/bin/env bash
# Build here and pack what the lent GPU machine needs into .carry/ (ignored by git; carried with `device`):
# the twinpix CLI, the test binaries, and every shared library they link except glibc's own (the device
# runs Ubuntu 24.04 with a newer glibc; Debian's libtiff/libcjson/libbenchmark are not installed there).
# PACK=1: strip and compress into .carry/bundle.tgz (see the end). GPU_TESTS="gpu_test_a gpu_test_b": pack only
# those test binaries (the whole set is ~35 MB packed; with the tracked tree, ~30 MB of it reports, a full
# bundle passes the 64 MiB carry limit).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-device}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DTWINPIX_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
rm -rf .carry && mkdir -p .carry/bin .carry/lib .carry/tests
cp "$BUILD_DIR/twinpix" .carry/bin/
for t in "$BUILD_DIR"/test_* "$BUILD_DIR"/gpu_test_*; do
  [ -x "$t" ] && [ -f "$t" ] && cp "$t" .carry/tests/
done
skip='^(linux-vdso|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|ld-linux|libgcc_s|libstdc\+\+)'
for b in .carry/bin/* .carry/tests/*; do
  ldd "$b" | awk '/=> \//{print $1" "$3}' | while read -r name path; do
    [[ $name =~ $skip ]] && continue
    cp -n "$path" .carry/lib/ 2>/dev/null || true
  done
done
du -sh .carry
# The carry limit is 64 MiB: keep only the GPU tests (the CPU tests run here), strip, add the shared real
# images (never committed; the device has no ../shared), and send one archive (device_run.sh unpacks it).
if [ -n "${PACK:-}" ]; then
  rm -f .carry/tests/test_*
  if [ -n "${GPU_TESTS:-}" ]; then
    for t in .carry/tests/gpu_test_*; do
      [[ " $GPU_TESTS " == *" $(basename "$t") "* ]] || rm -f "$t"
    done
  fi
  strip .carry/bin/* .carry/tests/* 2>/dev/null || true
  mkdir -p .carry/datasets
  cp "${TWINPIX_SHARED_DATASETS:-../shared/datasets}"/*.tif .carry/datasets/ 2>/dev/null || true
  tar -C .carry -czf "${TMPDIR:-/tmp}/tp_bundle.$$.tgz" bin lib tests datasets
  rm -rf .carry && mkdir -p .carry && mv "${TMPDIR:-/tmp}/tp_bundle.$$.tgz" .carry/bundle.tgz
  du -sh .carry/bundle.tgz
fi
