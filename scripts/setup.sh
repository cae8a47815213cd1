#!/usr/bin/env bash
# Install what twinpix needs from Debian's packages (quick when everything is there). Run as root.
set -euo pipefail
PKGS=(build-essential cmake pkg-config git libtiff-dev libpng-dev libcjson-dev libbenchmark-dev
      python3 python3-numpy python3-scipy python3-skimage python3-tifffile valgrind
      clang libclang-rt-14-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present"
fi
if [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: CUDA toolkit found at /usr/local/cuda ($(/usr/local/cuda/bin/nvcc --version | tail -1))"
else
  echo "setup: no CUDA toolkit at /usr/local/cuda: the build will be CPU-only"
fi
