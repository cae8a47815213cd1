"""I/O through the twinpix command against the readers scikit-image uses.

Reading: every real image here (Debian's skimage data PNGs and TIFFs, ../shared/datasets) goes through
`twinpix op img_as_float FILE out.npy` and must equal img_as_float of what skimage.io.imread (imageio over
Pillow for PNG; tifffile for TIFF, samples axis last) returns: same shape, same values. The one deliberate difference:
16-bit colour PNGs stay 16-bit in twinpix, where Pillow keeps the high byte, so there the high byte is
compared. Writing: op outputs written as .tif/.png/.csv/.json read back with tifffile, scikit-image,
pandas and json equal the same outputs written as .npy/.json.
"""
import glob
import json
import os
import warnings

import numpy as np
import pandas as pd
import skimage.io
import tifffile
from skimage import img_as_float

from oracle_util import SHARED, SKIMAGE_DATA, Result, run_op, synth_gray, tmp

R = Result()
warnings.simplefilter("ignore")  # Pillow's palette-transparency note


def imread_reference(path):
    """tifffile for TIFF, with the samples axis last (twinpix's rule for RGB/multi-sample pages, planar or
    not; ImageJ channels stay where ImageJ stores them); scikit-image's imread for PNG."""
    if path.endswith((".tif", ".tiff")):
        with tifffile.TiffFile(path) as tf:
            a, axes = tf.asarray(), tf.series[0].axes
        if "S" in axes and axes[-1] != "S":
            a = np.moveaxis(a, axes.index("S"), -1)
        return a
    return skimage.io.imread(path)


def check_read(path):
    name = os.path.basename(path)
    try:
        want = imread_reference(path)
    except Exception as e:  # a file the reference cannot read either is not a test of twinpix
        print(f"  note: reference cannot read {name}: {e}")
        return
    rc, got = run_op("img_as_float", [path])
    if not R.check(rc == 0, f"read {name}", got if rc else ""):
        return
    if want.dtype == np.uint8 and got.shape == want.shape and got.dtype == np.float64:
        # 16-bit colour: twinpix keeps 16 bits; compare Pillow's high byte
        as16 = np.round(got * 65535).astype(np.uint16)
        if not np.array_equal(img_as_float(want), got) and np.array_equal(as16 >> 8, want):
            R.check(True, name)
            return
    ok = got.shape == want.shape and np.array_equal(got, img_as_float(want))
    R.check(ok, f"read {name}", f"shape {got.shape} vs {want.shape}, dtype {want.dtype}")


files = sorted(glob.glob(os.path.join(SKIMAGE_DATA, "*.png")) + glob.glob(os.path.join(SKIMAGE_DATA, "*.tif")))
files += sorted(glob.glob(os.path.join(SHARED, "*.tif")))
for f in files:
    check_read(f)
print(f"  {len(files)} real files read")

# writing: label images as TIFF (int32/int64), a mask as TIFF (uint8 0/1) and PNG (0/255), 3D as pages
img = synth_gray((96, 80), np.uint8, 3)
mask = img > 128
for inputs, op, params in (([mask], "label", {}), ([img.astype(np.uint16)], "label", {}),
                           ([np.stack([mask] * 5)], "label", {}), ([mask], "binary_erosion", {})):
    rc, ref = run_op(op, inputs, params=params)
    if not R.check(rc == 0, f"{op} .npy", ref if rc else ""):
        continue
    want = ref.astype(np.uint8) if ref.dtype == bool else ref
    for ext in ("tif", "png"):
        if ext == "png" and ref.dtype != bool:
            continue
        rc, path = run_op(op, inputs, out_ext=ext, params=params)
        if not R.check(rc == 0, f"{op} .{ext}", path if rc else ""):
            continue
        got = tifffile.imread(path) if ext == "tif" else skimage.io.imread(path)
        exp = want * 255 if ext == "png" else want
        R.check(got.shape == exp.shape and got.dtype == exp.dtype and np.array_equal(got, exp),
                f"{op} {ref.shape} {ref.dtype} as .{ext}", f"{got.shape} {got.dtype} vs {exp.shape} {exp.dtype}")

# tables: the CSV (exact with pandas' round_trip parser) and the JSON hold the same numbers
labels = run_op("label", [mask])[1]
props = {"properties": "label,area,centroid,eccentricity,intensity_mean,bbox"}
rc, js = run_op("regionprops_table", [labels, img], out_ext="json", params=props)
rc2, csv = run_op("regionprops_table", [labels, img], out_ext="csv", params=props)
if R.check(rc == 0 and rc2 == 0, "regionprops_table tables", str(js if rc else csv)):
    c = pd.read_csv(csv, float_precision="round_trip")
    R.check(list(c.columns) == list(js.keys()), "CSV and JSON columns", f"{list(c.columns)} vs {list(js)}")
    for k in js:
        a = np.array([np.nan if v is None else v for v in js[k]], dtype=np.float64)
        b = c[k].to_numpy(dtype=np.float64)
        R.check(np.array_equal(a, b, equal_nan=True), f"column {k}", f"{a[:4]} vs {b[:4]}")
    R.check(c["label"].dtype == np.int64 and c["area"].dtype.kind in "if", "pandas dtypes", str(c.dtypes.to_dict()))

R.finish()
