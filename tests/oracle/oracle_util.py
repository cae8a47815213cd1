"""Shared helpers for the scikit-image oracle tests (run by ctest with Debian's /usr/bin/python3).

Each oracle test builds inputs, runs `twinpix op NAME --param value in.npy [in2.npy] out.{npy,csv,json}`
(the binary is $TWINPIX), computes scikit-image's answer in-process, compares, and ends with the line
"N passed, N failed" (exit 0 / 1; 77 when scikit-image is missing: skipped, not passed).
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import skimage  # noqa: F401
except ImportError as e:  # pragma: no cover
    print(f"skipped: scikit-image/numpy not importable ({e}); install python3-skimage")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(77)

TWINPIX = os.environ.get("TWINPIX", "twinpix")
SHARED = os.environ.get("TWINPIX_SHARED_DATASETS",
                        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets"))
SKIMAGE_DATA = os.path.join(os.path.dirname(skimage.__file__), "data")
_tmp = tempfile.TemporaryDirectory(prefix="tp_oracle_")


class Result:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.worst = {}  # metric name -> worst value seen

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"  FAIL {name}: {detail}")
        return ok

    def note_worst(self, key, value):
        self.worst[key] = max(self.worst.get(key, 0.0), float(value))

    def finish(self):
        for k, v in sorted(self.worst.items()):
            print(f"  worst {k}: {v:.3g}")
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def tmp(name):
    return os.path.join(_tmp.name, name)


def save(arr, name):
    """Save an array as .npy for twinpix; returns the path."""
    p = tmp(name)
    np.save(p, np.ascontiguousarray(arr))
    return p


def run_op(op, inputs, out_ext="npy", params=None, backend="cpu", extra=()):
    """Run `twinpix op`; inputs are numpy arrays or paths. Returns (returncode, output or stderr).

    Output: numpy array (.npy), dict of columns (.json), or float (scalar results print one number).
    Arrays with a channel axis: pass (array, channel_axis) as the input tuple."""
    args = [TWINPIX, "op", op, "--backend", backend]
    for k, v in (params or {}).items():
        args += [f"--{k}", str(v)]
    args += list(extra)
    for i, a in enumerate(inputs):
        if isinstance(a, tuple):
            arr, cax = a
            args += ["--channel-axis-of-input", f"{i}:{cax}"]
            a = arr
        args.append(a if isinstance(a, str) else save(a, f"in{i}.npy"))
    out = tmp(f"out.{out_ext}") if out_ext else None
    if out:
        args.append(out)
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        return p.returncode, p.stderr.strip()
    if out_ext == "npy":
        return 0, np.load(out)
    if out_ext == "json":
        with open(out) as f:
            return 0, json.load(f)
    if out_ext is None:
        return 0, float(p.stdout.strip().split()[-1])
    return 0, out


def max_ulp(a, b):
    """Largest ULP distance between two float arrays of the same dtype (NaNs must match)."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype == np.float32:
        ia, ib = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
    else:
        ia, ib = a.view(np.int64), b.view(np.int64)
    # map to a monotonic integer line
    ia = np.where(ia < 0, np.iinfo(np.int64).min - ia if a.dtype != np.float32 else -(2**31) - ia, ia)
    ib = np.where(ib < 0, np.iinfo(np.int64).min - ib if b.dtype != np.float32 else -(2**31) - ib, ib)
    return int(np.max(np.abs(ia - ib))) if a.size else 0


def max_rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = np.abs(a - b)
    s = np.maximum(np.abs(b), np.finfo(np.float64).tiny)
    return float(np.max(d / s)) if a.size else 0.0


def shared(name):
    p = os.path.join(SHARED, name)
    return p if os.path.exists(p) else None


def synth_gray(shape, dtype, seed):
    """Nuclei-like test image made here (independent of twinpix's generator)."""
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, dtype=np.float64)
    grids = np.indices(shape)
    n = max(1, int(np.prod(shape) / 400))
    for _ in range(n):
        c = [rng.uniform(0, s) for s in shape]
        r = rng.uniform(2, max(3, min(shape) / 6))
        d2 = sum((g - ci) ** 2 for g, ci in zip(grids, c))
        img += np.exp(-d2 / (2 * r * r))
    img = img / max(img.max(), 1e-9) + rng.normal(0, 0.05, shape)
    img = np.clip(img, 0, 1)
    if dtype == np.uint8:
        return (img * 255).astype(np.uint8)
    if dtype == np.uint16:
        return (img * 4095).astype(np.uint16)
    if dtype == np.int16:
        return (img * 2000 - 500).astype(np.int16)
    if dtype == np.int32:
        return (img * 100000 - 20000).astype(np.int32)
    return img.astype(dtype)
