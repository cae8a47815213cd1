"""threshold_otsu: twinpix's CPU reference against scikit-image 0.26's threshold_otsu; thresholds must be identical.

The oracle is skimage.filters.threshold_otsu itself where the installed scikit-image is >= 0.20 and numpy
>= 2 (0.26's arithmetic on numpy 2, the project's spec). Elsewhere (Debian: 0.19.3 on numpy 1.24) it is
otsu_transcription.py's "0.26" flavour, a transcription of 0.26's code on numpy 2's np.histogram; the
installed 0.19.3 then vouches for the transcription's shared code: its "0.19" flavour (the same code but
for the two lines that differ) must give 0.19.3's answer on every image below. The first line of output
says which oracle ran. tests/oracle/otsu_026_check.py compares twinpix and the transcription with the
real 0.26 (run by hand where it is installed).

Integer images use one bin per integer (nbins ignored); float images np.histogram with nbins bins (edges
in the image dtype, float32 arithmetic on numpy 2); the choice uses float32 counts and weights, class
sums and means in numpy's promoted dtype (float32 for float32 images), and a float32 weight product. The
result is printed by `twinpix op` with %.17g, so equality below is equality of the float64 values.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from oracle_util import Result, SKIMAGE_DATA, np, run_op, shared, synth_gray  # noqa: E402

import skimage  # noqa: E402
from skimage.filters import threshold_otsu as installed_otsu  # noqa: E402

import otsu_transcription as transcription  # noqa: E402

warnings.filterwarnings("ignore")
res = Result()


def _version(text):
    return tuple(int(p) for p in text.split(".")[:2] if p.isdigit())


SKIMAGE_V, NUMPY_V = _version(skimage.__version__), _version(np.__version__)
if SKIMAGE_V >= (0, 20) and NUMPY_V >= (2, 0):
    ORACLE = f"scikit-image {skimage.__version__} on numpy {np.__version__} (skimage.filters.threshold_otsu)"

    def oracle(image, nbins):
        return installed_otsu(image, nbins=nbins)
else:
    ORACLE = (f"transcription of scikit-image 0.26 on numpy 2 (otsu_transcription.py), since scikit-image "
              f"{skimage.__version__} on numpy {np.__version__} is installed")

    def oracle(image, nbins):
        return transcription.otsu(image, nbins, "0.26")
# the installed 0.19.x vouches for the transcription (its 0.19 flavour) wherever it runs
VOUCH = SKIMAGE_V < (0, 20) and NUMPY_V < (2, 0)
print(f"  oracle: {ORACLE}")
if VOUCH:
    print(f"  transcription checked against the installed scikit-image {skimage.__version__} (0.19 flavour)")
n_differ = [0, 0]  # images checked, images where 0.19.3 and 0.26 disagree


def answer_019(image, nbins):
    """scikit-image 0.19.3's answer: the installed one where that is 0.19.x, else its transcription."""
    if VOUCH:
        return float(installed_otsu(image, nbins=nbins))
    return float(transcription.otsu(image, nbins, "0.19"))


def compare(family, name, image, nbins=None, threads=None, expect=None, differs=False):
    """twinpix == 0.26; with differs=True the image must also be one where 0.19.3 answers otherwise."""
    params = {"nbins": str(nbins)} if nbins is not None else {}
    extra = ("--threads", str(threads)) if threads else ()
    nb = nbins if nbins is not None else 256
    rc, got = run_op("threshold_otsu", [image], out_ext=None, params=params, extra=extra)
    try:
        want = float(oracle(image, nb))
    except ValueError as e:  # numpy 2: "Too many bins for data range"
        want = e
    old = answer_019(image, nb)
    if VOUCH:
        res.check(float(transcription.otsu(image, nb, "0.19")) == old, f"{family}/{name} transcription",
                  "0.19 flavour differs from the installed scikit-image")
    n_differ[0] += 1
    n_differ[1] += not (isinstance(want, float) and want == old)
    if differs:
        res.check(not (isinstance(want, float) and want == old), f"{family}/{name}",
                  f"expected 0.19.3 ({old!r}) and 0.26 ({want!r}) to disagree here")
    if isinstance(want, Exception):
        res.check(rc != 0 and "nbins" in str(got), f"{family}/{name}",
                  f"scikit-image 0.26 raises ({want}); twinpix gave {got!r}")
        return
    if not res.check(rc == 0, f"{family}/{name}", got if rc else ""):
        return
    res.note_worst(f"|difference| {family}", abs(got - want) if np.isfinite(want) else 0)
    res.check(got == want, f"{family}/{name}", f"twinpix {got!r} vs scikit-image 0.26 {want!r} (0.19.3: {old!r})")
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

# where scikit-image 0.19.3 (float64 counts, numpy 1 edges) and 0.26 disagree, and twinpix follows 0.26
tie = [53408, 30510, 63926, 26406, 12375, 8526, 12375, 26405, 63926, 30510, 53408]
compare("0.26", "uint8 near tie: float32 weight1 * weight2 (0.19.3: 5)",
        np.repeat(np.arange(11, dtype=np.uint8), tie).reshape(1, -1), expect=4.0, differs=True)
compare("0.26", "uint8 17398560 px > 2^24: float32 weights inexact (0.19.3: 2)",
        np.repeat(np.arange(5, dtype=np.uint8), [3906906, 3794013, 1996724, 3794011, 3906906]).reshape(1, -1),
        expect=1.0, differs=True)
r19 = np.random.default_rng(19)
cls = r19.random((48, 50)) < 0.4
compare("0.26", "float32 same counts, float32 class means (0.19.3: one bin up)",
        np.where(cls, r19.normal(3.0, 0.5, cls.shape), r19.normal(1.0, 0.3, cls.shape)).astype(np.float32),
        nbins=256, differs=True)
compare("0.26", "float32 evenly spread [0.1, 0.7]: numpy 2 float32 edges",
        np.linspace(0.1, 0.7, 5000, dtype=np.float32).reshape(50, 100), differs=True)
one = np.float32(1)
compare("0.26", "float32 range of one ulp: numpy 2 refuses 256 bins",
        np.array([[one, np.nextafter(one, np.float32(2))]] * 3, np.float32), differs=True)
print(f"  0.19.3 and 0.26 disagree on {n_differ[1]} of {n_differ[0]} images")

res.finish()
