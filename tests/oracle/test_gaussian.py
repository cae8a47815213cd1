"""gaussian: twinpix's CPU reference against skimage.filters.gaussian, bit for bit.

The claim is bit-identical output (dtype, shape and every bit) for every case below: the kernel weights
reproduce numpy's exp and pairwise sum, the taps are added in scipy's order in double without FMA, and
float32 images are rounded to float32 between axes as scipy does. Worst ULP per case family is printed
(0 expected everywhere).

Note: scikit-image 0.19.3 treats a 3-D image whose last axis has length 3 as RGB when channel_axis is None;
twinpix (like newer scikit-image) does not guess, so such shapes are only tested with channel_axis given.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from oracle_util import (Result, SKIMAGE_DATA, max_ulp, np, run_op, shared,  # noqa: E402
                         synth_gray)

from skimage.filters import gaussian  # noqa: E402

warnings.filterwarnings("ignore")
res = Result()


def to_text(v):
    if isinstance(v, (tuple, list)):
        return ",".join(repr(float(x)) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def compare(family, name, image, channel_axis=None, threads=None, **kw):
    """Run both and require identical dtype, shape and bits."""
    params = {k: to_text(v) for k, v in kw.items()}
    inp = image
    if channel_axis is not None:
        params["channel_axis"] = str(channel_axis)
        inp = (image, channel_axis % image.ndim)
    extra = ("--threads", str(threads)) if threads else ()
    rc, got = run_op("gaussian", [inp], params=params, extra=extra)
    if not res.check(rc == 0, f"{family}/{name}", got if rc else ""):
        return
    want = gaussian(image, channel_axis=channel_axis, **kw)
    ok = got.dtype == want.dtype and got.shape == want.shape
    if not res.check(ok, f"{family}/{name}", f"dtype/shape {got.dtype}{got.shape} vs {want.dtype}{want.shape}"):
        return
    ulp = max_ulp(got, want)
    res.note_worst(f"ulp {family}", ulp)
    res.check(ulp == 0 and np.array_equal(got.view(np.uint8), want.view(np.uint8)), f"{family}/{name}",
              f"max ULP {ulp}")


def image_of(shape, dtype, seed):
    if dtype == bool:
        return np.random.default_rng(seed).random(shape) > 0.6
    return synth_gray(shape, dtype, seed)


DTYPES = [bool, np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64]
SHAPES = [(1, 1), (1, 17), (31, 29), (64, 64), (9, 13, 11)]
MODES = ["nearest", "reflect", "mirror", "constant", "wrap"]
SIGMAS = [0.5, 1, 2.5, 5]

# every accepted dtype on every shape (2-D and 3-D)
for i, dt in enumerate(DTYPES):
    for j, shape in enumerate(SHAPES):
        compare("dtypes", f"{np.dtype(dt).name}{shape}", image_of(shape, dt, 10 * i + j), sigma=2.5)

# every mode with every sigma on a prime-sized float64 image with negative values, cval != 0
neg = np.random.default_rng(1).normal(-0.3, 2.0, (31, 29))
for mode in MODES:
    for s in SIGMAS:
        compare("modes", f"{mode} sigma={s}", neg, sigma=s, mode=mode, cval=0.3)
# kernels far longer than the image: the extension repeats (1x1, 1x17, 3x3 with sigma 5)
for mode in MODES:
    for shape in [(1, 1), (1, 17), (3, 3), (2, 5)]:
        compare("tiny", f"{mode}{shape}", image_of(shape, np.float32, 7), sigma=5, mode=mode, cval=-1.5)
    compare("3d", f"{mode}", image_of((9, 13, 11), np.float32, 8), sigma=1, mode=mode, cval=2.0)

# per-axis sigma, an axis skipped (sigma 0 and sigma <= 1e-15), truncate, preserve_range
u8 = image_of((40, 50), np.uint8, 3)
i16 = image_of((9, 13, 11), np.int16, 4)
compare("params", "sigma=(1,3) truncate=3", u8, sigma=(1, 3), truncate=3.0)
compare("params", "sigma=(0,4)", u8, sigma=(0, 4))
compare("params", "sigma=(4,1e-16)", u8, sigma=(4, 1e-16))
compare("params", "sigma=0", u8, sigma=0)
compare("params", "sigma=0.1 (radius 0)", u8, sigma=0.1)
compare("params", "truncate=1.2", u8, sigma=2, truncate=1.2)
compare("params", "preserve_range u8", u8, sigma=2, preserve_range=True)
compare("params", "preserve_range i16 3d", i16, sigma=(1, 2, 0.5), preserve_range=True, mode="mirror")
compare("params", "i16 3d sigma=(2,0,1)", i16, sigma=(2, 0, 1), mode="wrap")
compare("params", "sigma=300 (kernel > 2048 taps)", image_of((6, 7), np.float64, 5), sigma=300, mode="reflect")

# channels: last axis and first axis, scalar and per-axis sigma
rgb = (np.random.default_rng(9).random((40, 50, 3)) * 255).astype(np.uint8)
compare("channels", "rgb last", rgb, channel_axis=-1, sigma=2)
compare("channels", "rgb last per-axis", rgb, channel_axis=2, sigma=(1, 3), mode="reflect")
compare("channels", "channels first f32", np.moveaxis(rgb, 2, 0).astype(np.float32) / 255, channel_axis=0,
        sigma=1.5, mode="constant", cval=0.5)

# real images: scikit-image's own data and ../shared/datasets
try:
    from skimage import io
    camera = io.imread(os.path.join(SKIMAGE_DATA, "camera.png"))
    coins = io.imread(os.path.join(SKIMAGE_DATA, "coins.png"))
    for s in SIGMAS:
        compare("skimage-data", f"camera sigma={s}", camera, sigma=s)
    compare("skimage-data", "coins float32 reflect", coins.astype(np.float32) / 255, sigma=3, mode="reflect")
except (OSError, ImportError) as e:
    print(f"  note: scikit-image data not readable ({e})")
try:
    import tifffile
except ImportError:
    tifffile = None
for name, kw in [("blobs_imagej_8bit.tif", dict(sigma=2)),
                 ("dsb2018_nuclei_stardist_img2d_16bit.tif", dict(sigma=5)),
                 ("neubias_nuclei_3d_8bit.tif", dict(sigma=(0.5, 2, 2)))]:
    path = shared(name)
    if path and tifffile:
        compare("datasets", name, tifffile.imread(path), **kw)
    else:
        print(f"  note: {name} not available")

# the same bits on 2 threads as on 1
big = synth_gray((300, 517), np.uint8, 12)
compare("threads", "uint8 sigma=5 on 2 threads", big, threads=2, sigma=5)
compare("threads", "float32 3d on 2 threads", image_of((20, 33, 47), np.float32, 13), threads=2, sigma=(1, 2.5, 4),
        mode="mirror")

res.finish()
