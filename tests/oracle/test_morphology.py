"""binary_erosion / binary_dilation / binary_opening / binary_closing against scikit-image 0.19.3.

Mode 'ignore' is skimage 0.19.3 itself. Modes 'min' and 'max' (added in later scikit-image) are checked
against scipy.ndimage with the border value those versions pass: erosion treats the outside as True unless
mode='min', dilation treats it as False unless mode='max'. Exact equality everywhere.
"""
import os

import numpy as np
from scipy import ndimage as ndi
from skimage import data, morphology

from oracle_util import Result, run_op, shared, tmp

R = Result()
OPS = ("binary_erosion", "binary_dilation", "binary_opening", "binary_closing")


def footprint_of(spec, ndim):
    if spec is None:
        return ndi.generate_binary_structure(ndim, 1)
    if isinstance(spec, np.ndarray):
        return spec.astype(bool)
    kind, _, size = spec.partition(":")
    dims = [int(v) for v in size.split("x")]
    return {
        "disk": lambda: morphology.disk(dims[0]),
        "square": lambda: morphology.square(dims[0]),
        "rectangle": lambda: morphology.rectangle(dims[0], dims[1]),
        "diamond": lambda: morphology.diamond(dims[0]),
        "ball": lambda: morphology.ball(dims[0]),
        "cube": lambda: morphology.cube(dims[0]),
        "octahedron": lambda: morphology.octahedron(dims[0]),
        "cuboid": lambda: np.ones(dims, dtype=bool),
    }[kind]().astype(bool)


def expected(op, image, fp, mode):
    if mode == "ignore":
        return getattr(morphology, op)(image, fp)
    ero = lambda x: ndi.binary_erosion(x, structure=fp, border_value=mode != "min")  # noqa: E731
    dil = lambda x: ndi.binary_dilation(x, structure=fp, border_value=mode == "max")  # noqa: E731
    return {"binary_erosion": lambda: ero(image), "binary_dilation": lambda: dil(image),
            "binary_opening": lambda: dil(ero(image)), "binary_closing": lambda: ero(dil(image))}[op]()


def check(name, image, spec, ops=OPS, modes=("ignore",)):
    fp = footprint_of(spec, image.ndim)
    params = {}
    if isinstance(spec, np.ndarray):
        path = tmp(f"fp_{abs(hash(spec.tobytes()))}.npy")
        np.save(path, spec.astype(np.uint8))
        params["footprint"] = path
        label = f"user{spec.shape}"
    elif spec is not None:
        params["footprint"] = spec
        label = spec
    else:
        label = "default"
    for op in ops:
        for mode in modes:
            p = dict(params)
            if mode != "ignore":
                p["mode"] = mode
            rc, out = run_op(op, [image], params=p)
            what = f"{op} {name} {image.shape} {image.dtype} footprint={label} mode={mode}"
            if not R.check(rc == 0, what, out if rc else ""):
                continue
            want = expected(op, image, fp, mode)
            ok = out.dtype == np.bool_ and out.shape == want.shape and np.array_equal(out, want)
            R.check(ok, what, f"{int(np.sum(out != want)) if out.shape == want.shape else 'shape'} pixels differ")


rng = np.random.default_rng(2024)

# every 2D footprint kind (even sizes included, whose centre is at size//2) on a thresholded Debian image
coins = data.coins() > 100
for spec in (None, "disk:1", "disk:3", "square:3", "square:4", "rectangle:2x4", "rectangle:3x1", "diamond:2",
             rng.random((4, 4)) < 0.6, rng.random((3, 5)) < 0.5):
    check("coins>100", coins, spec)

# sizes that stress the borders, every mode
for shape, density, specs in (((1, 1), 0.9, ("disk:2",)), ((1, 23), 0.8, (None, "rectangle:2x4")),
                              ((23, 1), 0.5, ("disk:2", "rectangle:2x4")), ((37, 53), 0.3, (None, "disk:2")),
                              ((37, 53), 0.9, ("rectangle:2x4", "diamond:1"))):
    img = rng.random(shape) < density
    for spec in specs:
        check(f"random{density}", img, spec, modes=("ignore", "min", "max"))

# the hot path of the seed pipeline, every mode, on a nuclei-like mask
blur = ndi.gaussian_filter(rng.random((256, 320)), 4)
nuclei = blur > np.quantile(blur, 0.7)
check("nuclei", nuclei, "disk:2", modes=("ignore", "min", "max"))
check("nuclei", nuclei, "disk:7", ops=("binary_erosion", "binary_opening"))

# any dtype: nonzero is True
for dt in (np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64):
    img = (rng.random((29, 31)) * 4 - 1.5).astype(dt)
    img[rng.random(img.shape) < 0.3] = 0
    check(f"{np.dtype(dt).name}", img, "disk:1", ops=("binary_erosion", "binary_dilation"))

# 3D: every 3D footprint kind, and a random even-sized one
vol = rng.random((9, 14, 13)) < 0.75
for spec in (None, "ball:1", "ball:2", "cube:2", "cube:3", "octahedron:1", "cuboid:2x3x4",
             rng.random((2, 3, 4)) < 0.6):
    check("random3d", vol, spec)
check("random3d", vol, "ball:1", modes=("min", "max"))
check("flat3d", rng.random((1, 12, 9)) < 0.7, "cube:3")

# a real nuclei volume, thresholded
p = shared("neubias_nuclei_3d_8bit.tif")
if p:
    import tifffile
    v = tifffile.imread(p)
    v = v[: min(v.shape[0], 16), :96, :96] > 40
    check("neubias3d>40", v, "ball:1", ops=("binary_erosion", "binary_opening"))

R.finish()
