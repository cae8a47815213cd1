"""Oracle: twinpix regionprops_table (CPU) against scikit-image's measure.regionprops_table.

Every property of the descriptor's list (read from core/ops/regionprops_table.c, aliases included) on 2D
label images (real images thresholded and labelled, the shared blobs labels, synthetic blobs, 1x1,
single pixels, regions on every border, sparse labels, holes) and the 3D-defined ones on 3D label images,
with intensity images of dtypes uint8, uint16, int16, float32 and float64.

What is compared:
- column names and their order, row count, column dtype (int64 for scikit-image's int properties);
- integer columns identical;
- float columns bit-identical where both sides compute the same float expression from exact sums
  (EXACT below); the others within 1e-12 relative, with the absolute floors stated in FLOORS for values
  that are differences of nearly equal numbers. The worst relative error per property is printed.
- intensity_std is not in scikit-image 0.19.3: its oracle is what scikit-image >= 0.23 does,
  np.std(region.image_intensity[region.image]).
- errors where scikit-image raises: 2D-only properties on 3D, intensity properties without an intensity
  image, feret_diameter_max of a flat 3D region.
"""
import math
import os
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util as ou  # noqa: E402

import numpy as np  # noqa: E402
from scipy import ndimage as ndi  # noqa: E402
from skimage import io as skio  # noqa: E402
from skimage import filters, measure  # noqa: E402

warnings.simplefilter("ignore")

R = ou.Result()
REL = 1e-12

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "..", "core", "ops", "regionprops_table.c")) as f:
    _src = f.read()
_m = re.search(r"#define PROPS(.*?)\n\s*static", _src, re.S)
ALL = "".join(re.findall(r'"([^"]*)"', _m.group(1))).split("|")
INTENSITY = {"intensity_max", "intensity_mean", "intensity_min", "intensity_std", "centroid_weighted",
             "mean_intensity", "max_intensity", "min_intensity", "weighted_centroid"}
ONLY_2D = {"eccentricity", "orientation", "perimeter", "moments_hu"}
CANON = {"mean_intensity": "intensity_mean", "max_intensity": "intensity_max", "min_intensity": "intensity_min",
         "convex_area": "area_convex", "filled_area": "area_filled", "bbox_area": "area_bbox",
         "equivalent_diameter": "equivalent_diameter_area", "weighted_centroid": "centroid_weighted",
         "major_axis_length": "axis_major_length", "minor_axis_length": "axis_minor_length"}
# bit-identical by construction (same expression on exact sums); centroid_weighted only for integer images
EXACT = {"centroid", "centroid_local", "equivalent_diameter_area", "extent", "solidity", "feret_diameter_max",
         "intensity_max", "intensity_min", "intensity_mean", "intensity_std"}
FLOORS = {
    "moments_hu": "|d| <= 1e-12 * hu0**p_k, p = (1, 2, 3, 3, 6, 4, 6): the natural scale of each invariant",
    "eccentricity": "compared as e**2 = 1 - l2/l1, |d| <= 1e-12 * e**2 + 1e-14",
    "axis_minor_length": "compared squared, |d| <= 1e-12 * m**2 + 1e-13 * major**2 (eigenvalue error ~ eps * l1)",
    "orientation": "modulo pi, |d| <= 1e-12 + 1e-14 * l1 / (l1 - l2); skipped when l1 - l2 <= 1e-9 l1",
}
HU_POW = (1, 2, 3, 3, 6, 4, 6)
exact_counts = {}
skipped = {}


def props_for(ndim, intensity):
    return [p for p in ALL if (intensity or p not in INTENSITY) and (ndim == 2 or p not in ONLY_2D)]


def sk_table(lab, inten, props):
    """scikit-image's table, with intensity_std as scikit-image >= 0.23 computes it."""
    sk_props = [p for p in props if p != "intensity_std"]
    t = measure.regionprops_table(lab, inten, properties=sk_props)
    if "intensity_std" not in props:
        return t
    regs = measure.regionprops(lab, inten)
    std = np.array([np.std(r.image_intensity[r.image]) for r in regs], dtype=np.float64)
    out = {}
    for p in props:  # keep the requested order
        if p == "intensity_std":
            out[p] = std
        else:
            for k in [k for k in t if k == p or k.startswith(p + "-")]:
                out[k] = t[k]
    return out


def eig_info(lab):
    """Per region: (l1, l2) of scikit-image's inertia tensor (2D) or eigenvalues (3D), and hu0."""
    info = []
    for r in measure.regionprops(lab):
        ev = r.inertia_tensor_eigvals
        hu0 = float(r.moments_normalized[2, 0] + r.moments_normalized[0, 2]) if lab.ndim == 2 else 0.0
        info.append((ev, hu0, r.inertia_tensor))
    return info


def as_float(v):
    return np.array([np.nan if x is None else x for x in v], dtype=np.float64)


def compare(name, lab, inten, props, ours, int_intensity):
    exp = sk_table(lab, inten, props)
    if not R.check(list(ours.keys()) == list(exp.keys()), f"{name}: columns",
                   f"{list(ours.keys())} vs {list(exp.keys())}"):
        return
    info = None
    for key, e in exp.items():
        base = key.rsplit("-", 1)[0] if re.search(r"-\d+$", key) else key
        canon = CANON.get(base, base)
        got = ours[key]
        if not R.check(len(got) == len(e), f"{name}: {key} rows", f"{len(got)} vs {len(e)}"):
            continue
        if e.dtype.kind in "iu":
            ok = all(isinstance(x, int) for x in got) and np.array_equal(np.array(got, dtype=np.int64), e)
            R.check(ok, f"{name}: {key}", f"ints differ: {got[:8]} vs {list(e[:8])}")
            continue
        g = as_float(got)
        e = e.astype(np.float64)
        same = (g == e) | (np.isnan(g) & np.isnan(e))
        exact_counts.setdefault(canon, [0, 0])
        exact_counts[canon][0] += int(same.sum())
        exact_counts[canon][1] += len(g)
        if canon in EXACT or (canon == "centroid_weighted" and int_intensity):
            R.check(bool(same.all()), f"{name}: {key} bit-identical",
                    f"{int((~same).sum())} differ, e.g. {g[~same][:3]} vs {e[~same][:3]}")
            continue
        if info is None:
            info = eig_info(lab)
        bad = []
        for i in np.nonzero(~same)[0]:
            a, b = g[i], e[i]
            ev, hu0, T = info[i]
            rel = abs(a - b) / max(abs(b), np.finfo(float).tiny)
            if canon == "moments_hu":
                k = int(key.rsplit("-", 1)[1])
                ok = abs(a - b) <= REL * abs(b) + 1e-12 * hu0 ** HU_POW[k]
                R.note_worst("moments_hu |d| / hu0**p", abs(a - b) / hu0 ** HU_POW[k])
            elif canon == "eccentricity":
                ok = abs(a * a - b * b) <= REL * b * b + 1e-14
                R.note_worst("eccentricity |d(e**2)|", abs(a * a - b * b))
            elif canon == "axis_minor_length":
                major2 = (16 * ev[0]) if lab.ndim == 2 else 10 * (ev[0] + ev[1] - ev[2])
                ok = abs(a * a - b * b) <= REL * b * b + 1e-13 * major2
                R.note_worst("axis_minor_length |d(m**2)| / major**2", abs(a * a - b * b) / major2)
            elif canon == "orientation":
                l1, l2 = ev[0], ev[-1]
                if l1 - l2 <= 1e-9 * l1:
                    skipped["orientation, l1 - l2 <= 1e-9 l1"] = skipped.get("orientation, l1 - l2 <= 1e-9 l1", 0) + 1
                    continue
                if abs(T[0, 0] - T[1, 1]) <= 1e-12 * abs(T[0, 0] + T[1, 1]):
                    # scikit-image returns +-pi/4 by the sign of b when a == c exactly, the opposite of its
                    # atan2 formula's limit: both sides follow that code, on tensors a rounding apart
                    key_ = "orientation at scikit-image's a == c discontinuity"
                    skipped[key_] = skipped.get(key_, 0) + 1
                    continue
                d = abs((a - b + math.pi / 2) % math.pi - math.pi / 2)
                ok = d <= REL + 1e-14 * l1 / (l1 - l2)
                rel = d  # radians, modulo pi
            else:
                ok = rel <= REL
            R.note_worst(f"rel {canon}" if canon != "orientation" else "orientation |d| (rad, mod pi)", rel)
            if not ok:
                bad.append((i, a, b))
        R.check(not bad, f"{name}: {key}", f"{len(bad)} beyond bound, e.g. {bad[:3]}")


def run_case(name, lab, inten=None, props=None, int_intensity=None):
    props = props or props_for(lab.ndim, inten is not None)
    if int_intensity is None:
        int_intensity = inten is not None and inten.dtype.kind in "uib"
    inputs = [lab] if inten is None else [lab, inten]
    rc, out = ou.run_op("regionprops_table", inputs, out_ext="json", params={"properties": ",".join(props)})
    if not R.check(rc == 0, f"{name}: twinpix ran", str(out)):
        return
    compare(name, lab, inten, props, out, int_intensity)


def expect_error(name, lab, inten, props, words):
    rc, out = ou.run_op("regionprops_table", [lab] if inten is None else [lab, inten], out_ext="json",
                        params={"properties": ",".join(props)})
    R.check(rc != 0 and all(w in str(out) for w in words), f"{name}: error", f"rc={rc} {out}")


# ---------------------------------------------------------------- label images
def blobs2d(shape, seed, sigma=2.0):
    rng = np.random.default_rng(seed)
    img = ndi.gaussian_filter(rng.random(shape), sigma)
    return measure.label(img > np.percentile(img, 60)).astype(np.int32)


def intensity_like(shape, dtype, seed):
    return ou.synth_gray(shape, dtype, seed)


def random_tiles(grid, tile, density, seed):
    """One label per tile, random pixels of it inside the tile; tiles are separated by background."""
    rng = np.random.default_rng(seed)
    shape = tuple(g * (t + 1) for g, t in zip(grid, tile))
    lab = np.zeros(shape, np.int32)
    for k, idx in enumerate(np.ndindex(*grid)):
        sl = tuple(slice(i * (t + 1), i * (t + 1) + t) for i, t in zip(idx, tile))
        lab[sl][rng.random(tile) < density] = k + 1
    return lab


def drop_flat(lab):
    """The label image without its flat regions (voxels in one plane)."""
    lab = lab.copy()
    for r in measure.regionprops(lab):
        if np.linalg.matrix_rank(r.coords - r.coords.mean(axis=0)) < 3:
            lab[lab == r.label] = 0
    return lab


def with_holes(seed):
    lab = np.zeros((60, 70), np.int32)
    yy, xx = np.mgrid[:60, :70]
    ring = ((yy - 20) ** 2 + (xx - 20) ** 2 <= 15 ** 2) & ((yy - 20) ** 2 + (xx - 20) ** 2 >= 6 ** 2)
    lab[ring] = 2
    lab[15:25, 45:65] = 5
    lab[18:22, 50:54] = 0      # one hole
    lab[19, 58] = 0            # another, single pixel
    lab[40:55, 10:30] = 9
    lab[45, 15:25] = 0         # a slit: hole
    lab[48:52, 20] = 9
    lab[40:55, 40:60] = 11
    lab[47, 40:50] = 0         # a notch open to the border: not a hole
    lab[42:46, 52:56] = 3      # another label inside 11's box: background for 11, so a hole of 11
    # a diagonal gap: the inside leaks out through an 8-connected corner (not filled)
    lab[2:10, 50:58] = 13
    lab[4:8, 52:56] = 0
    lab[3, 51] = 0
    lab[2, 50] = 0
    return lab


def main():
    rng = np.random.default_rng(1234)

    # real images: coins thresholded and labelled, coins as intensity
    coins = skio.imread(os.path.join(ou.SKIMAGE_DATA, "coins.png"))
    lab = measure.label(coins > filters.threshold_otsu(coins)).astype(np.int32)
    run_case("coins uint8", lab, coins)
    run_case("coins float64", lab, coins.astype(np.float64) / 255.0)

    # the shared blobs labels with their intensity image
    lpath, ipath = ou.shared("blobs_ref_labels_otsu_skimage.tif"), ou.shared("blobs_imagej_8bit.tif")
    if lpath and ipath:
        import tifffile
        lab = tifffile.imread(lpath).astype(np.int32)
        img = tifffile.imread(ipath)
        run_case("blobs shared uint8", lab, img)
        run_case("blobs shared float32", lab, img.astype(np.float32) / 7.0)
    else:
        print("  note: ../shared/datasets absent; blobs case skipped")
    mpath, npath = ou.shared("skimage_human_mitosis_8bit.tif"), ou.shared("neubias_nuclei_3d_8bit.tif")
    if mpath and npath:
        import tifffile
        img = tifffile.imread(mpath)
        lab = measure.label(img > filters.threshold_otsu(img)).astype(np.int32)
        run_case("human mitosis uint8", lab, img)
        vol = tifffile.imread(npath)
        lab3 = measure.label(vol > filters.threshold_otsu(vol)).astype(np.int32)
        run_case("nuclei 3D with flat regions", lab3, vol,
                 props=[p for p in props_for(3, True) if p != "feret_diameter_max"])
        run_case("nuclei 3D feret", drop_flat(lab3), None, props=["label", "feret_diameter_max", "area_convex"])

    # synthetic blobs, non-consecutive labels, each intensity dtype
    lab = blobs2d((160, 190), 5)
    sparse = np.where(lab > 0, lab * 7 + 3, 0).astype(np.int64)
    run_case("synthetic uint16", sparse, intensity_like(lab.shape, np.uint16, 6))
    run_case("synthetic float32", lab, intensity_like(lab.shape, np.float32, 7))
    run_case("synthetic int16", lab.astype(np.uint16), intensity_like(lab.shape, np.int16, 8))
    run_case("synthetic float64", lab, intensity_like(lab.shape, np.float64, 9) + 0.01)
    run_case("synthetic int32", lab, intensity_like(lab.shape, np.int32, 10))
    run_case("synthetic bool", lab, intensity_like(lab.shape, np.uint8, 10) > 100)
    # labels up to 2^62: scikit-image allocates per label up to the largest, so its oracle is the table of
    # the same regions numbered 1..N, with the label column mapped back
    huge = np.where(lab > 0, (lab.astype(np.int64) * 1000003) % 97 + (lab.astype(np.int64) << 40), 0)
    props = ["label", "area", "bbox", "centroid", "solidity", "perimeter", "euler_number"]
    rc, out = ou.run_op("regionprops_table", [huge], out_ext="json", params={"properties": ",".join(props)})
    if R.check(rc == 0, "labels up to 2^62: twinpix ran", str(out)):
        uniq = np.unique(huge[huge > 0])
        dense = np.searchsorted(uniq, huge) + 1
        dense[huge == 0] = 0
        R.check(out["label"] == [int(u) for u in uniq], "labels up to 2^62: label column")
        out["label"] = list(range(1, len(uniq) + 1))
        compare("labels up to 2^62", dense.astype(np.int32), None, props, out, False)

    # small and special shapes
    run_case("1x1", np.ones((1, 1), np.int32), np.full((1, 1), 3, np.uint8))
    run_case("1x1 background", np.zeros((1, 1), np.int32), props=["label", "area", "bbox", "moments_hu"])
    single = np.zeros((30, 40), np.int32)
    idx = rng.choice(single.size, 25, replace=False)
    single.flat[idx] = rng.permutation(np.arange(1, 26)) * 3
    run_case("single pixels", single, intensity_like(single.shape, np.uint8, 3))
    border = np.zeros((20, 24), np.int32)
    border[0, :], border[-1, :], border[:, 0], border[:, -1] = 1, 2, 3, 4
    border[5:15, 5:19] = 5
    run_case("borders", border, intensity_like(border.shape, np.float32, 4))
    run_case("whole image", np.ones((17, 23), np.uint8), intensity_like((17, 23), np.uint16, 5))
    tri = np.zeros((5, 6), np.int32)
    tri[1, 1], tri[2:4, 2:5], tri[4, 5] = 3, 7, 1000
    run_case("labels 3 7 1000", tri)
    run_case("holes", with_holes(0), intensity_like((60, 70), np.uint8, 11))
    shapes = np.zeros((40, 40), np.int32)
    shapes[2, 2] = 1                     # single pixel
    shapes[5, 5], shapes[6, 6] = 2, 2    # diagonal pair
    shapes[10:13, 10:13] = 3
    shapes[11, 11] = 0                   # 3x3 square without its centre
    shapes[20:21, 2:30] = 4              # a line
    for k in range(12):                  # a diagonal line
        shapes[25 + k, 10 + k] = 5
    shapes[30:39, 30:39] = 6             # a square: degenerate orientation
    run_case("parity shapes", shapes)
    # a large float32 region: numpy's chunked pairwise sums (more than 8192 values)
    big_region = np.zeros((130, 140), np.int32)
    big_region[2:128, 3:137] = 1
    big_region[60:70, 60:90] = 2
    big_inten = (rng.random(big_region.shape) * 1000).astype(np.float32)
    run_case("large float32 region", big_region, big_inten,
             props=["label", "area", "intensity_mean", "intensity_std", "mean_intensity", "intensity_min"])
    run_case("large float64 region", big_region, big_inten.astype(np.float64) * 1.1,
             props=["label", "intensity_mean", "intensity_std"])

    # random scatter inside tiles: disconnected regions, empty rows and columns, every hull degeneracy
    run_case("random tiles 2D", random_tiles((20, 24), (11, 13), 0.3, 21), props=props_for(2, False))
    t3 = drop_flat(random_tiles((4, 4, 5), (7, 6, 7), 0.15, 22))
    run_case("random tiles 3D", t3, props=["label", "area", "area_convex", "solidity", "feret_diameter_max",
                                           "euler_number", "area_filled", "major_axis_length",
                                           "minor_axis_length"])

    # 3D
    zz, yy, xx = np.mgrid[:24, :26, :28]
    lab3 = np.zeros((24, 26, 28), np.int32)
    lab3[(zz - 11) ** 2 + (yy - 12) ** 2 + (xx - 9) ** 2 <= 7 ** 2] = 1       # ball
    lab3[3:9, 15:23, 17:26] = 4                                           # cuboid
    lab3[5:7, 17:21, 19:23] = 0                                           # with a cavity
    lab3[14:22, 16:24, 18:27] = 9
    lab3[17:19, 18:20, 20:22] = 0                                         # another cavity
    run_case("3D shapes uint8", lab3, intensity_like(lab3.shape, np.uint8, 12))
    r3 = ndi.gaussian_filter(rng.random((28, 30, 32)), 2.0)
    lab3r = measure.label(r3 > np.percentile(r3, 70)).astype(np.int32)
    lab3r = drop_flat(lab3r)  # flat regions: scikit-image's feret raises; tested apart
    run_case("3D blobs float32", lab3r, intensity_like(lab3r.shape, np.float32, 13))
    run_case("3D blobs uint16 sparse", np.where(lab3r > 0, lab3r * 5 + 2, 0).astype(np.int64),
             intensity_like(lab3r.shape, np.uint16, 14))
    flat = np.zeros((6, 7, 8), np.int32)
    flat[2, 1:5, 2:6] = 1   # one plane
    flat[4, 3, 3] = 2       # one voxel
    flat[1:5, 5, 6] = 3     # a line
    run_case("3D flat regions", flat, props=["label", "area", "area_convex", "solidity", "euler_number",
                                             "area_filled", "major_axis_length", "centroid"])

    # errors where scikit-image raises
    for p in sorted(ONLY_2D):
        expect_error(f"3D {p}", lab3, None, ["label", p], [p, "2D"])
    for p in ("mean_intensity", "intensity_std", "weighted_centroid"):
        expect_error(f"no intensity {p}", lab, None, ["label", p], [p, "intensity"])
    expect_error("3D flat feret", flat, None, ["label", "feret_diameter_max"], ["feret_diameter_max", "flat"])

    for k, v in sorted(skipped.items()):
        print(f"  skipped {k}: {v}")
    for canon, (same, total) in sorted(exact_counts.items()):
        print(f"  bit-identical {canon}: {same}/{total}")
    for k, v in FLOORS.items():
        print(f"  floor {k}: {v}")
    R.finish()


main()
