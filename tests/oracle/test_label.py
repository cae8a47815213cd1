"""label against scikit-image 0.19.3's skimage.measure.label: identical numbering and dtype.

bool images go through scipy.ndimage.label in skimage (int32 output); integer images through skimage's
own union-find (int64 output; touching regions join only when their values are equal).
"""
import numpy as np
from scipy import ndimage as ndi
from skimage import data, measure

from oracle_util import Result, run_op, shared

R = Result()


def check(name, image, connectivity=None, background=None):
    params = {}
    if connectivity is not None:
        params["connectivity"] = connectivity
    if background is not None:
        params["background"] = background
    what = f"label {name} {image.shape} {image.dtype} connectivity={connectivity} background={background}"
    rc, out = run_op("label", [image], params=params)
    if not R.check(rc == 0, what, out if rc else ""):
        return
    want = measure.label(image, background=background, connectivity=connectivity)
    ok = out.dtype == want.dtype and out.shape == want.shape and np.array_equal(out, want)
    detail = (f"dtype {out.dtype} vs {want.dtype}" if out.dtype != want.dtype else
              f"{int(np.sum(out != want))} pixels differ; max {out.max()} vs {want.max()}")
    R.check(ok, what, detail)


rng = np.random.default_rng(7)

# bool masks: sizes, densities, both connectivities, background 1 (labels the False pixels)
for shape, density in (((1, 1), 0.9), ((1, 40), 0.5), ((40, 1), 0.5), ((97, 89), 0.2), ((97, 89), 0.55),
                       ((97, 89), 0.8)):
    m = rng.random(shape) < density
    for conn in (None, 1, 2):
        check(f"random{density}", m, conn)
    check(f"random{density}", m, 1, background=1)

# a thresholded Debian image, and checkerboards (one component in 8-connectivity, one per pixel in 4)
coins = data.coins() > 100
check("coins>100", coins)
check("coins>100", coins, 1)
cb = (np.indices((50, 61)).sum(axis=0) % 2).astype(bool)
check("checkerboard", cb, 1)
check("checkerboard", cb, 2)

# more than 65536 labels, and the trivial images
grid = np.zeros((600, 600), bool)
grid[::2, ::2] = True
check("grid", grid)
check("zeros", np.zeros((13, 17), bool))
check("ones", np.ones((13, 17), bool), 1)
check("ones-int", np.ones((5, 6, 7), np.uint16))

# integer label images: equal-valued touching regions, every integer dtype, background values
for dt in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64):
    blocks = np.kron(rng.integers(0, 4, (9, 11)), np.ones((4, 3), int)).astype(dt)
    check("blocks", blocks)
    check("blocks", blocks, 1, background=2)
    check("blocks", blocks, 2, background=-1)
noisy = rng.integers(0, 3, (61, 47)).astype(np.int32)
check("noisy", noisy, 1)
check("noisy", noisy, 2)

# 3D: 6-, 18- and 26-connectivity, bool and integer, and flat axes (skimage's labeller reorders them)
vol = rng.random((11, 13, 12)) < 0.35
for conn in (None, 1, 2, 3):
    check("vol", vol, conn)
ivol = rng.integers(0, 3, (8, 9, 10)).astype(np.int16)
for conn in (1, 2, 3):
    check("ivol", ivol, conn)
for shape in ((6, 7, 1), (6, 1, 7), (1, 6, 7), (7, 1, 1)):
    v = rng.integers(0, 3, shape)
    check("flat", v, 1)
    check("flat", v)
    check("flat-bool", v > 0, 1)

# the known result: label(blobs > 120) is the reference label image (64 labels)
p, ref = shared("blobs_imagej_8bit.tif"), shared("blobs_ref_labels_otsu_skimage.tif")
if p and ref:
    import tifffile
    blobs = tifffile.imread(p)
    want = tifffile.imread(ref)
    rc, out = run_op("label", [blobs > 120])
    if R.check(rc == 0, "label blobs>120", out if rc else ""):
        R.check(out.max() == 64 and np.array_equal(out, want.astype(out.dtype)), "label blobs>120 == reference",
                f"max {out.max()}, {int(np.sum(out != want))} pixels differ")
    check("blobs>120", blobs > 120)
else:
    print("  note: ../shared/datasets absent; blobs reference skipped")

# an ndimage-independent sanity check on the same data: component count
R.check(ndi.label(coins, structure=np.ones((3, 3)))[1] == measure.label(coins).max(), "oracle self-check")

R.finish()
