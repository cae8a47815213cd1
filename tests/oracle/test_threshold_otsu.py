"""threshold_otsu: twinpix's CPU reference against skimage.filters.threshold_otsu; thresholds must be identical.

Integer images use one bin per integer (nbins ignored); float images np.histogram with nbins bins (edges
in the image dtype); the choice uses float64 cumulative sums as scikit-image 0.19.3 does. The result is
printed by `twinpix op` with %.17g, so equality below is equality of the float64 values.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from oracle_util import Result, SKIMAGE_DATA, np, run_op, shared, synth_gray  # noqa: E402

from skimage.filters import threshold_otsu  # noqa: E402

warnings.filterwarnings("ignore")
res = Result()


def compare(family, name, image, nbins=None, threads=None, expect=None):
    params = {"nbins": str(nbins)} if nbins is not None else {}
    extra = ("--threads", str(threads)) if threads else ()
    rc, got = run_op("threshold_otsu", [image], out_ext=None, params=params, extra=extra)
    if not res.check(rc == 0, f"{family}/{name}", got if rc else ""):
        return
    want = float(threshold_otsu(image, nbins=nbins if nbins is not None else 256))
    res.note_worst(f"|difference| {family}", abs(got - want) if np.isfinite(want) else 0)
    res.check(got == want, f"{family}/{name}", f"twinpix {got!r} vs scikit-image {want!r}")
    if expect is not None:
        res.check(got == expect, f"{family}/{name}", f"expected {expect}, got {got!r}")


INT_DTYPES = [np.uint8, np.uint16, np.int16, np.int32]
FLOAT_DTYPES = [np.float32, np.float64]
SHAPES = [(1, 17), (31, 29), (64, 64), (9, 13, 11)]

for i, dt in enumerate(INT_DTYPES):
    for j, shape in enumerate(SHAPES):
        compare("int", f"{np.dtype(dt).name}{shape}", synth_gray(shape, dt, 10 * i + j))
i8 = np.random.default_rng(3).integers(-128, 128, (31, 29)).astype(np.int8)
compare("int", "int8 full range", i8)
compare("int", "uint8 nbins ignored", synth_gray((31, 29), np.uint8, 5), nbins=7)

for i, dt in enumerate(FLOAT_DTYPES):
    for j, shape in enumerate(SHAPES):
        img = synth_gray(shape, dt, 100 + 10 * i + j)
        for nbins in (256, 64, 1000):
            compare("float", f"{np.dtype(dt).name}{shape} nbins={nbins}", img, nbins=nbins)
# negative and wide-ranged floats
rng = np.random.default_rng(7)
compare("float", "negative float64", rng.normal(-40.0, 3.0, (40, 50)))
compare("float", "negative float32 nbins=1000", rng.normal(-2.0, 1e-3, (40, 50)).astype(np.float32), nbins=1000)
compare("float", "bimodal float32", np.concatenate([rng.normal(0.2, 0.05, 900), rng.normal(0.7, 0.1, 600)])
        .astype(np.float32).reshape(30, 50))
# values exactly on bin edges
edges = np.linspace(-1.0, 3.0, 65).astype(np.float32)
compare("float", "values on edges", np.tile(edges, (8, 3))[:, :190].copy(), nbins=64)

# constant images return the value
compare("constant", "uint8", np.full((5, 6), 42, np.uint8), expect=42.0)
compare("constant", "float32", np.full((4, 4, 3), -2.5, np.float32), expect=-2.5)
compare("constant", "1x1 int16", np.array([[-7]], np.int16), expect=-7.0)

# real images
try:
    from skimage import io
    camera = io.imread(os.path.join(SKIMAGE_DATA, "camera.png"))
    coins = io.imread(os.path.join(SKIMAGE_DATA, "coins.png"))
    compare("skimage-data", "camera", camera)
    compare("skimage-data", "coins", coins)
    compare("skimage-data", "camera float64", camera / 255.0)
    compare("skimage-data", "coins float32 nbins=64", coins.astype(np.float32) / 255, nbins=64)
except (OSError, ImportError) as e:
    print(f"  note: scikit-image data not readable ({e})")
try:
    import tifffile
except ImportError:
    tifffile = None
for name, expect in [("blobs_imagej_8bit.tif", 120.0), ("skimage_human_mitosis_8bit.tif", None),
                     ("dsb2018_nuclei_stardist_img2d_16bit.tif", None), ("neubias_nuclei_3d_8bit.tif", None),
                     ("bbbc022_u2os_3ch_16bit_crop.tif", None)]:
    path = shared(name)
    if path and tifffile:
        img = tifffile.imread(path)
        if name.startswith("bbbc022"):
            img = np.ascontiguousarray(img[0])  # one channel (a CYX hyperstack)
        compare("datasets", name, img, expect=expect)
        compare("datasets", name + " float32", img.astype(np.float32), nbins=1000)
    else:
        print(f"  note: {name} not available")

# large images (sums far from small-integer territory) and more than one thread
# (synth_gray costs O(pixels^2): build these from two noisy classes instead)
cls = rng.random((1024, 1536)) < 0.3
big = np.where(cls, rng.normal(0.7, 0.1, cls.shape), rng.normal(0.25, 0.08, cls.shape)).astype(np.float32)
compare("large", "float32 1024x1536", big)
compare("large", "float32 1024x1536 nbins=1000, 2 threads", big, nbins=1000, threads=2)
compare("large", "uint16 1024x1536, 2 threads", np.clip(big * 4000, 0, 4095).astype(np.uint16), threads=2)
compare("large", "int32 wide range, 2 threads", rng.integers(-400000, 500000, (300, 400)).astype(np.int32), threads=2)

res.finish()
