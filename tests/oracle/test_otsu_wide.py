"""threshold_otsu on integer images whose value range is far wider than the image: twinpix switches to the
distinct values (O(pixels) memory), which must give exactly the threshold of the dense one-bin-per-integer
histogram that scikit-image 0.26 uses (checked here with the 0.26 transcription), and must answer for ranges
no dense histogram could hold (checked against the 0.26 choice over the distinct values, which equals the
dense one wherever both can be computed, as the first part shows).

Then float images holding NaN or +/-inf: scikit-image returns image[0] when every pixel equals it (an
infinity throughout), and otherwise np.histogram raises ValueError on a non-finite min or max; twinpix must
fail (exit 5, "threshold_otsu: image: expected finite values, got ...") exactly where scikit-image raises
(the 0.26 transcription and Debian's real 0.19.3 agree on this) and answer the same value elsewhere."""
import warnings

import numpy as np

import oracle_util as U
import otsu_transcription as T

R = U.Result()
rng = np.random.default_rng(5)
for trial in range(12):
    n = int(rng.integers(2, 3000))
    span = int(rng.choice([3_000_000, 8_000_000]))  # dense: millions of bins for a few thousand pixels
    dtype = [np.int32, np.int64, np.uint32][trial % 3]
    img = rng.integers(0, span, size=n).astype(dtype).reshape(1, n)
    if trial % 4 == 0:  # clusters, so the threshold is not at an arbitrary gap
        img[0, : n // 2] //= 1000
    rc, got = U.run_op("threshold_otsu", [img], out_ext=None)
    want = float(T.otsu(img, flavour="0.26"))
    R.check(rc == 0 and got == want, f"{dtype.__name__} n={n} span={span}", f"twinpix {got} vs 0.26 {want}")
# a range no dense histogram could hold: +-2^40 over ten pixels
img = np.array([[-(2**40), -5, 0, 3, 7, 2**40, 12, 9, 4, 1]], dtype=np.int64)
rc, got = U.run_op("threshold_otsu", [img], out_ext=None)
R.check(rc == 0 and got in set(img.ravel().astype(float)), "int64 +-2^40", f"rc {rc}, {got}")


def otsu_distinct(img):
    """0.26's choice over the distinct values only (int64 centres, as np.arange gives the dense ones)."""
    if np.all(img == img.reshape(-1)[0]):
        return float(img.reshape(-1)[0])
    values, counts = np.unique(img.astype(np.int64), return_counts=True)
    return float(T.choose(counts, values, "0.26"))


# the distinct values give the dense histogram's threshold where the dense one is affordable ...
for trial in range(6):
    n = int(rng.integers(2, 2000))
    img = rng.integers(-3_000_000, 3_000_000, size=n).astype(np.int64).reshape(1, n)
    if trial % 2:
        img[0, : n // 3] //= 997
    R.check(otsu_distinct(img) == float(T.otsu(img, flavour="0.26")), f"distinct == dense n={n}", "")
# ... and judge ranges that no dense histogram could hold
P62 = 2**62
wide = [
    ("int64 ten pixels spanning 2^63", np.array([[-P62, P62, 0, 3, -7, P62 // 2, 12, 9, 4, 1]], dtype=np.int64)),
    ("int64 INT64_MIN..INT64_MAX", np.array([[-(2**63), 2**63 - 1, 0, 1, -1, 5, 77, -77]], dtype=np.int64)),
    ("int64 two values", np.array([[-P62, P62] * 5], dtype=np.int64)),
    ("int64 1x1", np.array([[P62]], dtype=np.int64)),
    ("int64 all equal", np.full((5, 7), -(P62 // 4), dtype=np.int64)),
    ("int64 random over 2^40", rng.integers(0, 2**40, size=(40, 100), dtype=np.int64)),
    ("int64 random over 2^62, 3D", rng.integers(-P62, P62, size=(4, 5, 6), dtype=np.int64)),
    ("int64 clusters 0 and 2^50", (np.arange(3000) % 3 == 0).astype(np.int64).reshape(30, 100) * 2**50
     + rng.integers(0, 1000, size=(30, 100))),
    ("int32 spanning int32", np.array([[-(2**31), 2**31 - 1, 5, -5, 1000, -1000, 3, 0]], dtype=np.int32)),
    ("int32 random", rng.integers(-(2**31), 2**31, size=(50, 60), dtype=np.int64).astype(np.int32)),
    ("uint32 spanning uint32", np.array([[0, 2**32 - 1, 5, 1000, 2**31, 3]], dtype=np.uint32)),
    ("uint32 random", rng.integers(0, 2**32, size=(50, 60), dtype=np.uint64).astype(np.uint32)),
]
for name, img in wide:
    want = otsu_distinct(img)
    rc, got = U.run_op("threshold_otsu", [img], out_ext=None)
    R.check(rc == 0 and got == want, name, f"twinpix rc {rc} {got!r} vs 0.26 over distinct values {want!r}")

# NaN and infinities
from skimage.filters import threshold_otsu as skimage_otsu  # noqa: E402 (Debian's 0.19.3)


def nonfinite_cases(dt):
    ramp = (np.arange(35, dtype=np.float64) * 0.25 - 3.0).reshape(5, 7).astype(dt)
    out = []
    for name, (idx, v) in {"NaN first": (0, np.nan), "NaN middle": (17, np.nan), "NaN last": (34, np.nan),
                           "+inf first": (0, np.inf), "+inf middle": (17, np.inf), "-inf last": (34, -np.inf)}.items():
        a = ramp.copy()
        a.flat[idx] = v
        out.append((name, a))
    out.append(("NaN throughout", np.full((5, 7), np.nan, dtype=dt)))
    out.append(("+inf throughout", np.full((5, 7), np.inf, dtype=dt)))
    out.append(("-inf throughout", np.full((3, 4, 5), -np.inf, dtype=dt)))
    a = np.full((5, 7), 4.0, dtype=dt)
    a.flat[9] = np.nan
    out.append(("NaN beside a constant", a))
    a = np.full((5, 7), np.inf, dtype=dt)
    a.flat[0] = -np.inf
    out.append(("-inf and +inf", a))
    a = np.full((5, 7), np.inf, dtype=dt)
    a.flat[-1] = 1.0
    out.append(("+inf but one pixel", a))
    a = ramp.copy()
    a.flat[3], a.flat[20] = np.nan, np.inf
    out.append(("NaN and +inf", a))
    out.append(("1x1 NaN", np.full((1, 1), np.nan, dtype=dt)))
    out.append(("1x1 +inf", np.full((1, 1), np.inf, dtype=dt)))
    a = np.arange(60, dtype=dt).reshape(3, 4, 5)
    a[1, 2, 3] = np.nan
    out.append(("3D one NaN", a))
    return out


def outcome(f, img):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(f(img))
    except ValueError as e:
        return e


for dt in (np.float32, np.float64):
    for name, img in nonfinite_cases(dt):
        label = f"{np.dtype(dt).name} {name}"
        want = outcome(lambda a: T.otsu(a, flavour="0.26"), img)
        real = outcome(skimage_otsu, img)
        same_kind = isinstance(want, Exception) == isinstance(real, Exception)
        R.check(same_kind and (isinstance(want, Exception) or want == real), f"{label}: 0.26 transcription vs "
                f"scikit-image {U.skimage.__version__}", f"{want!r} vs {real!r}")
        for nbins in (256, 7):
            rc, got = U.run_op("threshold_otsu", [img], out_ext=None, params={"nbins": nbins})
            if isinstance(want, Exception):
                R.check(rc == 5 and "threshold_otsu: image: expected finite values, got" in str(got),
                        f"{label} nbins={nbins}", f"scikit-image raises ({want}); twinpix rc {rc}: {got!r}")
            else:
                R.check(rc == 0 and got == want, f"{label} nbins={nbins}", f"twinpix rc {rc} {got!r} vs {want!r}")
R.finish()
