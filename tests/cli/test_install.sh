#!/usr/bin/env bash
# The install target, the CMake package and the pkg-config file: install into a temporary prefix, then build
# the README's example against it both ways and run it.
set -u
: "${TWINPIX_BUILD_DIR:?}" "${TWINPIX_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
cmake --install "$TWINPIX_BUILD_DIR" --prefix "$tmp/prefix" >/dev/null || { echo "FAIL: cmake --install"; exit 1; }
for f in include/twinpix/twinpix.h lib/libtwinpix.a lib/pkgconfig/twinpix.pc lib/cmake/twinpix/twinpixConfig.cmake bin/twinpix; do
  [ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f not installed"; fail=1; }
done
img=/usr/lib/python3/dist-packages/skimage/data/coins.png
# pkg-config
if PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig cc -std=c11 -o "$tmp/ex_pc" "$TWINPIX_SOURCE_DIR/examples/seed_pipeline.c" \
     $(PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig pkg-config --cflags --libs --static twinpix) 2>"$tmp/pc.err"; then
  "$tmp/ex_pc" "$img" cpu | grep -q "regions (backend cpu)" && echo "ok   pkg-config build runs" || { echo "FAIL: pkg-config build"; fail=1; }
else
  echo "FAIL: pkg-config build did not compile"; head -20 "$tmp/pc.err"; fail=1
fi
# find_package(twinpix)
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer C CXX)
find_package(twinpix REQUIRED)
add_executable(ex $TWINPIX_SOURCE_DIR/examples/seed_pipeline.c)
target_link_libraries(ex PRIVATE twinpix::twinpix)
set_target_properties(ex PROPERTIES LINKER_LANGUAGE CXX)
CM
if cmake -S "$tmp/consumer" -B "$tmp/consumer/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/cm.log" 2>&1 &&
   cmake --build "$tmp/consumer/b" >>"$tmp/cm.log" 2>&1; then
  "$tmp/consumer/b/ex" "$img" cpu | grep -q "regions (backend cpu)" && echo "ok   find_package build runs" || { echo "FAIL: find_package build"; fail=1; }
else
  echo "FAIL: find_package build"; tail -20 "$tmp/cm.log"; fail=1
fi
[ $fail -eq 0 ] && echo "2 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
