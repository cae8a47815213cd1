"""threshold_otsu on integer images whose value range is far wider than the image: twinpix switches to the
distinct values (O(pixels) memory), which must give exactly the threshold of the dense one-bin-per-integer
histogram that scikit-image 0.26 uses (checked here with the 0.26 transcription), and must answer for ranges
no dense histogram could hold."""
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
R.finish()
