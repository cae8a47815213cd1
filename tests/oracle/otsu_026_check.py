"""threshold_otsu against the real scikit-image >= 0.20 (the project's spec is 0.26 on numpy 2).

Run by hand with a Python that has scikit-image >= 0.20 (not part of ctest: Debian's 0.19.3 cannot answer):
    TWINPIX=build/twinpix python3 tests/oracle/otsu_026_check.py
Every case compares `twinpix op threshold_otsu --backend cpu` (and --backend cuda when a device answers)
with skimage.filters.threshold_otsu, exactly, and also checks that tests/oracle/otsu_transcription.py (the
oracle the ctest uses where scikit-image is older) gives the same value, so the local test is shown to
stand for the real 0.26. Ends with "N passed, N failed" (exit 1 on a failure).
"""
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import skimage
from skimage.filters import threshold_otsu

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otsu_transcription import TooManyBins, otsu as transcribed  # noqa: E402

warnings.filterwarnings("ignore")
TWINPIX = os.environ.get("TWINPIX", "twinpix")
tmpdir = tempfile.TemporaryDirectory(prefix="tp_otsu026_")
passed = failed = 0
print(f"scikit-image {skimage.__version__}, numpy {np.__version__}, twinpix {TWINPIX}")
if tuple(int(x) for x in skimage.__version__.split(".")[:2]) < (0, 20):
    print("this check needs scikit-image >= 0.20 (0.19.3 casts the counts to float64)")
    sys.exit(77)


def check(ok, name, detail):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"  FAIL {name}: {detail}")


def twinpix(path, nbins, backend):
    r = subprocess.run([TWINPIX, "op", "threshold_otsu", "--backend", backend, "--nbins", str(nbins), path],
                       capture_output=True, text=True)
    return (float(r.stdout), "") if r.returncode == 0 else (None, r.stderr.strip())


def cuda_available():
    p = os.path.join(tmpdir.name, "probe.npy")
    np.save(p, np.arange(12, dtype=np.uint8).reshape(3, 4))
    got, err = twinpix(p, 256, "cuda")
    if got is None:
        print(f"  note: CUDA backend not checked ({err.splitlines()[-1] if err else 'no output'})")
    return got is not None


BACKENDS = ["cpu"] + (["cuda"] if cuda_available() else [])


def case(name, image, nbins=256):
    path = os.path.join(tmpdir.name, "in.npy")
    np.save(path, np.ascontiguousarray(image))
    t0 = time.time()
    try:
        want = float(threshold_otsu(image, nbins=nbins))
    except ValueError as e:  # numpy 2 refuses ranges too narrow for nbins edges
        want = e
    try:
        tr = float(transcribed(image, nbins, "0.26"))
    except TooManyBins as e:
        tr = e
    if isinstance(want, Exception):
        check(isinstance(tr, Exception), f"{name} transcription", f"scikit-image raised ({want}), transcription {tr!r}")
    else:
        check(tr == want, f"{name} transcription", f"{tr!r} vs scikit-image {want!r}")
    for b in BACKENDS:
        got, err = twinpix(path, nbins, b)
        if isinstance(want, Exception):  # both backends refuse (TP_ERR_ARG) where scikit-image raises
            check(got is None, f"{name} {b}", f"scikit-image raised ({want}); twinpix gave {got!r} {err}")
        else:
            check(got == want, f"{name} {b}", f"twinpix {got!r} vs scikit-image {want!r} {err}")
    dt = time.time() - t0
    print(f"  {name}: {want if isinstance(want, Exception) else repr(want)} ({dt:.1f} s)")


rng = np.random.default_rng(2026)


def bimodal(shape, dtype, lo, hi, frac=0.3, seed=0):
    r = np.random.default_rng(seed)
    cls = r.random(shape) < frac
    spread = (hi - lo) / 8
    x = np.where(cls, r.normal(hi - 2 * spread, spread, shape), r.normal(lo + 2 * spread, spread, shape))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        x = np.clip(np.rint(x), info.min, info.max)
    return x.astype(dtype)


# dtypes x sizes x nbins (nbins only matters for floats)
for i, (dt, lo, hi) in enumerate([(np.uint8, 0, 255), (np.uint16, 0, 4095), (np.int16, -3000, 9000),
                                  (np.float32, -1.0, 3.0), (np.float64, 1e-3, 7.0)]):
    for j, shape in enumerate([(31, 29), (512, 512), (9, 31, 37)]):
        nb_list = (64, 256, 1000) if np.issubdtype(dt, np.floating) else (256,)
        for nb in nb_list:
            case(f"{np.dtype(dt).name}{shape} nbins={nb}", bimodal(shape, dt, lo, hi, seed=10 * i + j), nb)
# large: float32 5000x5000 (float32 class sums and means), uint16 5000x5000 (> 2^24 samples: inexact float32
# weights; the CUDA backend's serial path)
big = bimodal((5000, 5000), np.float32, 0.0, 1.0, seed=99)
for nb in (256, 1000):
    case(f"float32 5000x5000 nbins={nb}", big, nb)
case("float64 5000x5000 nbins=64", big.astype(np.float64), 64)
del big
case("uint16 5000x5000", bimodal((5000, 5000), np.uint16, 0, 4095, seed=98))
case("uint16 5000x5000 full range", np.random.default_rng(97).integers(0, 65536, (5000, 5000)).astype(np.uint16))
case("uint8 one bin past 2^24 (float32 count rounds)",
     np.repeat(np.array([0, 1, 200], np.uint8), [2 ** 24 + 3, 1000, 5000]).reshape(1, -1))
# where scikit-image 0.19.3 and 0.26 disagree (see tests/oracle/test_threshold_otsu.py)
case("uint8 near tie, 381775 px",
     np.repeat(np.arange(11, dtype=np.uint8),
               [53408, 30510, 63926, 26406, 12375, 8526, 12375, 26405, 63926, 30510, 53408]).reshape(1, -1))
case("uint8 near tie, 17398560 px (> 2^24)",
     np.repeat(np.arange(5, dtype=np.uint8), [3906906, 3794013, 1996724, 3794011, 3906906]).reshape(1, -1))
case("float32 evenly spread [0.1, 0.7]", np.linspace(0.1, 0.7, 5000, dtype=np.float32).reshape(50, 100))
one_ulp = np.nextafter(np.float32(1), np.float32(2))
case("float32 two neighbouring values (too many bins)", np.array([[np.float32(1), one_ulp]] * 4, np.float32))
case("float32 normal, small spread", rng.normal(-2.0, 1e-3, (40, 50)).astype(np.float32), 1000)
case("float64 negative", rng.normal(-40.0, 3.0, (40, 50)))
case("int16 constant", np.full((5, 6), -7, np.int16))
try:
    from skimage import data
    case("camera", data.camera())
    case("coins float32 nbins=64", data.coins().astype(np.float32) / 255, 64)
except Exception as e:  # data files may be absent
    print(f"  note: skimage.data not available ({e})")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
