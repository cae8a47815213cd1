"""NaN, +Inf and -Inf in float inputs: twinpix's CPU reference against scikit-image 0.19.3 (docs/nonfinite.md).

Every op with an input that can be float32 or float64 is run on small images with NaN, +Inf and -Inf at
corners, edges and inside, next to each other (so that inf - inf makes a NaN) and far apart, in 2D and 3D:

  extract_channel, img_as_float   pure copies: every bit kept, NaN payloads (signalling ones too) included
  gaussian                        NaN positions identical, every other value bit-identical
  threshold                       the mask identical (image > t is False for a NaN pixel or t = NaN)
  binary_* (float images)         the mask identical (NaN and +-Inf are nonzero: foreground)
  label2rgb (float underlay)      NaN positions identical, every other value bit-identical
  regionprops_table (intensity)   NaN cells identical; other cells as test_regionprops.py holds them

"NaN positions identical" is the project's rule for NaN bits: which NaN (sign, payload) an arithmetic op
writes is not specified (numpy on x86 and CUDA make different ones), where NaNs are is.

scikit-image 0.26 reads the same for all of this (its rgb2hsv, _label2rgb_overlay, regionprops'
image_intensity / moments_weighted and gaussian's code paths are unchanged); the one thing that can differ
between installations is centroid_weighted when an infinity sits at local coordinate 0 of a region's
bounding box and everything else is finite: numpy's dot then decides 0 * inf, NaN with every BLAS we know.
intensity_std is not in 0.19.3: its oracle is np.std of the region's values, as scikit-image >= 0.23 does.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util as ou  # noqa: E402
from oracle_util import Result, np, run_op  # noqa: E402

from scipy import ndimage as ndi  # noqa: E402
from skimage import color, measure, morphology, util  # noqa: E402
from skimage.filters import gaussian  # noqa: E402

warnings.simplefilter("ignore")  # RuntimeWarnings of numpy on NaN, skimage's negative-intensity warning
R = Result()
NAN, INF = np.nan, np.inf

# NaNs with payloads (bits), to show which ops keep them
F64_QNAN_PAYLOAD = np.array([0x7FF8000000000123], np.uint64).view(np.float64)[0]
F64_NEG_QNAN = np.array([0xFFF8000000000456], np.uint64).view(np.float64)[0]
F64_SNAN = np.array([0x7FF0000000000001], np.uint64).view(np.float64)[0]
F32_QNAN_PAYLOAD = np.array([0x7FC00123], np.uint32).view(np.float32)[0]
F32_NEG_QNAN = np.array([0xFFC00456], np.uint32).view(np.float32)[0]
F32_SNAN = np.array([0x7F800001], np.uint32).view(np.float32)[0]


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]) if a.dtype.kind == "f" else a


def same_bits(got, want):
    return got.dtype == want.dtype and got.shape == want.shape and np.array_equal(bits(got), bits(want))


def same_nan_rule(got, want):
    """NaN where the oracle has NaN; every other element bit-identical (sign of zero and of inf included)."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return False, f"dtype/shape {got.dtype}{got.shape} vs {want.dtype}{want.shape}"
    gn, wn = np.isnan(got), np.isnan(want)
    if not np.array_equal(gn, wn):
        idx = np.argwhere(gn != wn)[:3].tolist()
        return False, f"NaN positions differ ({int((gn != wn).sum())}), e.g. at {idx}"
    gb, wb = bits(got), bits(want)
    bad = (gb != wb) & ~wn
    if bad.any():
        idx = np.argwhere(bad)[:3].tolist()
        return False, f"{int(bad.sum())} non-NaN values differ, e.g. at {idx}: {got[bad][:3]} vs {want[bad][:3]}"
    return True, ""


def poisoned(shape, dtype, seed, where):
    """A smooth image in [0, 1) with non-finite values placed as `where` lists: (index, value)."""
    img = ou.synth_gray(shape, np.float64, seed).astype(dtype)
    for idx, v in where:
        img[idx] = v
    return img


def layouts(shape, dtype):
    """Named placements of NaN / +Inf / -Inf for a 2D or 3D shape."""
    nd = len(shape)
    last = tuple(s - 1 for s in shape)
    mid = tuple(s // 2 for s in shape)
    first = (0,) * nd
    edge = (0,) * (nd - 1) + (shape[-1] // 3,)
    side = tuple(s // 3 for s in shape[:-1]) + (shape[-1] - 1,)
    near = mid[:-1] + (mid[-1] + 2,)
    qnan = F32_QNAN_PAYLOAD if dtype == np.float32 else F64_QNAN_PAYLOAD
    nnan = F32_NEG_QNAN if dtype == np.float32 else F64_NEG_QNAN
    return {
        "nan corners": [(first, NAN), (last, NAN)],
        "nan payloads": [(first, qnan), (mid, nnan)],
        "+inf edge": [(edge, INF)],
        "-inf side": [(side, -INF)],
        "+inf and -inf near": [(mid, INF), (near, -INF)],
        "all kinds": [(first, INF), (edge, NAN), (side, -INF), (mid, NAN), (last, -INF)],
        "nan line": [(mid[:-1] + (slice(None),), NAN)],
    }


# ------------------------------------------------------------------ extract_channel and img_as_float
def copy_ops():
    for dt, (q, n, s) in ((np.float32, (F32_QNAN_PAYLOAD, F32_NEG_QNAN, F32_SNAN)),
                          (np.float64, (F64_QNAN_PAYLOAD, F64_NEG_QNAN, F64_SNAN))):
        name = np.dtype(dt).name
        img = poisoned((7, 9, 3), dt, 3, [((0, 0, 0), q), ((0, 0, 1), n), ((6, 8, 2), s), ((3, 4, 1), INF),
                                          ((3, 5, 0), -INF), ((2, 2, 2), NAN)])
        for c in range(3):
            rc, got = run_op("extract_channel", [(img, 2)], params={"channel": c})
            if R.check(rc == 0, f"extract_channel {name} last c={c}", got if rc else ""):
                R.check(same_bits(got, img[..., c]), f"extract_channel {name} last c={c}: every bit")
        planar = np.ascontiguousarray(np.moveaxis(img, 2, 0))
        rc, got = run_op("extract_channel", [(planar, 0)], params={"channel": 1})
        if R.check(rc == 0, f"extract_channel {name} first", got if rc else ""):
            R.check(same_bits(got, planar[1]), f"extract_channel {name} first: every bit")
        for shape in ((7, 9), (3, 5, 4)):
            im = poisoned(shape, dt, 4, [((0,) * len(shape), q), ((1,) * len(shape), n), ((2,) * len(shape), s),
                                         ((-1,) * len(shape), INF), ((0,) * (len(shape) - 1) + (-1,), -INF)])
            rc, got = run_op("img_as_float", [im])
            want = util.img_as_float(im)
            if R.check(rc == 0, f"img_as_float {name}{shape}", got if rc else ""):
                R.check(same_bits(got, want), f"img_as_float {name}{shape}: every bit (numpy returns the array)",
                        f"{bits(got).ravel()[:3]} vs {bits(want).ravel()[:3]}")


# ------------------------------------------------------------------ gaussian
def gaussian_case(name, img, **kw):
    params = {k: (",".join(repr(float(x)) for x in v) if isinstance(v, tuple) else str(v).lower()
                  if isinstance(v, bool) else repr(float(v)) if isinstance(v, float) else str(v))
              for k, v in kw.items()}
    rc, got = run_op("gaussian", [img], params=params)
    what = f"gaussian {name} {img.dtype}{img.shape} {params}"
    if not R.check(rc == 0, what, got if rc else ""):
        return
    want = gaussian(img, **kw)
    ok, why = same_nan_rule(got, want)
    R.check(ok, what, why)


def gaussian_cases():
    for dt in (np.float32, np.float64):
        for shape in ((13, 17), (5, 7, 6)):
            for lname, where in layouts(shape, dt).items():
                img = poisoned(shape, dt, 5, where)
                gaussian_case(lname, img, sigma=1.0)
                gaussian_case(lname, img, sigma=0.7, mode="reflect")
                if len(shape) == 2:
                    gaussian_case(lname, img, sigma=1.5, mode="mirror")
                    gaussian_case(lname, img, sigma=1.0, mode="wrap")
                    gaussian_case(lname, img, sigma=0.8, mode="constant", cval=0.25)
                    gaussian_case(lname, img, sigma=(0.5, 2.0), truncate=2.0, preserve_range=True)
        # weights that underflow to 0: an infinity 20 pixels away still makes NaN (inf * 0)
        wide = poisoned((5, 47), dt, 6, [((2, 2), INF), ((4, 40), NAN)])
        gaussian_case("underflowing weights", wide, sigma=0.5, truncate=40.0)
        # sigma 0: no filtering, values (NaNs too) come through
        gaussian_case("sigma 0", poisoned((6, 7), dt, 7, layouts((6, 7), dt)["all kinds"]), sigma=0.0)
        gaussian_case("all nan", np.full((4, 5), NAN, dt), sigma=1.0)
        gaussian_case("all +inf", np.full((4, 5), INF, dt), sigma=1.0)
        gaussian_case("1x1 nan", np.full((1, 1), NAN, dt), sigma=2.0)


# ------------------------------------------------------------------ threshold
def threshold_cases():
    for dt in (np.float32, np.float64):
        img = poisoned((9, 11), dt, 8, layouts((9, 11), dt)["all kinds"] + [((4, 4), -0.0), ((4, 5), 0.0)])
        img3 = poisoned((3, 5, 4), dt, 9, layouts((3, 5, 4), dt)["all kinds"])
        for im in (img, img3):
            for t in ("0.5", "0", "-0.0", "nan", "inf", "-inf", "1e308"):
                rc, got = run_op("threshold", [im], params={"threshold": t})
                what = f"threshold {im.dtype}{im.shape} t={t}"
                if R.check(rc == 0, what, got if rc else ""):
                    want = im > float(t)
                    R.check(got.dtype == bool and np.array_equal(got, want), what,
                            f"{int((got != want).sum())} differ")


# ------------------------------------------------------------------ binary morphology on float images
def morph_cases():
    for dt in (np.float32, np.float64):
        rng = np.random.default_rng(12)
        for shape in ((12, 14), (5, 6, 7)):
            img = (rng.random(shape) < 0.5).astype(dt) * 0.75
            flat = img.reshape(-1)
            pos = rng.choice(flat.size, 12, replace=False)
            for k, v in zip(pos, (NAN, INF, -INF, -0.0, NAN, INF, -INF, -0.0, NAN, 1e-300, -5.0, NAN)):
                flat[k] = v
            img[(0,) * len(shape)] = NAN
            img[(-1,) * len(shape)] = -INF
            for spec, fp in ((None, None), ("disk:1" if len(shape) == 2 else "ball:1",
                                            morphology.disk(1) if len(shape) == 2 else morphology.ball(1))):
                for op in ("binary_erosion", "binary_dilation", "binary_opening", "binary_closing"):
                    params = {"footprint": spec} if spec else {}
                    rc, got = run_op(op, [img], params=params)
                    what = f"{op} {np.dtype(dt).name}{shape} footprint={spec}"
                    if not R.check(rc == 0, what, got if rc else ""):
                        continue
                    f = fp if fp is not None else ndi.generate_binary_structure(len(shape), 1)
                    want = getattr(morphology, op)(img, f)
                    R.check(np.array_equal(got, want), what, f"{int((got != want).sum())} differ")
                    # the mask scikit-image works on is numpy's bool(): NaN and +-inf are True, -0.0 False
                    R.check(np.array_equal(want, getattr(morphology, op)(img.astype(bool), f)),
                            f"{what}: skimage reads float as astype(bool)")


# ------------------------------------------------------------------ label2rgb over a float image
def label2rgb_case(name, label, image, rgb_axis=None, **kw):
    params = {k: str(v) for k, v in kw.items()}
    sk = dict(kw)
    if "bg_color" in sk:
        sk["bg_color"] = None if sk["bg_color"] == "none" else tuple(float(x) for x in sk["bg_color"].split(","))
    inputs = [label, (image, rgb_axis) if rgb_axis is not None else image]
    what = f"label2rgb {name} image {image.dtype}{image.shape} {params}"
    rc, got = run_op("label2rgb", inputs, params=params)
    if not R.check(rc == 0, what, got if rc else ""):
        return
    im = np.moveaxis(image, rgb_axis, -1) if rgb_axis not in (None, image.ndim - 1) else image
    want = color.label2rgb(label, im, **sk)
    ok, why = same_nan_rule(got, want)
    R.check(ok, what, why)


def label2rgb_cases():
    rng = np.random.default_rng(13)
    lab = rng.integers(0, 4, (9, 11)).astype(np.int32)
    lab3 = rng.integers(0, 3, (3, 5, 4)).astype(np.uint8)
    for dt in (np.float32, np.float64):
        for lname, where in layouts((9, 11), dt).items():
            img = poisoned((9, 11), dt, 14, where)
            label2rgb_case(f"grey {lname}", lab, img)
            label2rgb_case(f"grey {lname}", lab, img, alpha=1, bg_color="none")
            label2rgb_case(f"grey {lname}", lab, img, alpha=0, image_alpha=0)
            label2rgb_case(f"grey {lname}", lab, img, alpha=0.5, image_alpha=0.5, bg_color="0.2,0.4,0.6")
        img3 = poisoned((3, 5, 4), dt, 15, layouts((3, 5, 4), dt)["all kinds"])
        label2rgb_case("grey 3d", lab3, img3, alpha=0.4)
        # RGB: every way a pixel's channels can be non-finite, through rgb2hsv / hsv2rgb
        rgb = rng.random((9, 11, 3)).astype(dt)
        combos = [(NAN, None, None), (None, NAN, None), (None, None, NAN), (NAN, NAN, NAN), (INF, None, None),
                  (None, INF, None), (None, None, INF), (INF, INF, None), (INF, INF, INF), (-INF, None, None),
                  (None, -INF, None), (INF, -INF, None), (-INF, -INF, -INF), (NAN, INF, None), (NAN, None, -INF),
                  (INF, 0.0, 0.0), (0.0, 0.0, -INF), (0.5, 0.5, INF), (-INF, 0.0, 0.0)]
        for k, combo in enumerate(combos):
            y, x = divmod(k * 5 + 1, 11)
            for c, v in enumerate(combo):
                if v is not None:
                    rgb[y, x, c] = v
        rgb[0, 0] = [NAN, 0.2, 0.3]
        rgb[8, 10] = [0.1, INF, 0.3]
        for sat in (0, 0.5, 1):
            label2rgb_case(f"rgb saturation={sat}", lab, rgb, rgb_axis=2, saturation=sat)
        label2rgb_case("rgb", lab, rgb, rgb_axis=2, saturation=0.3, alpha=1, image_alpha=0.6, bg_color="none")
        label2rgb_case("rgb", lab, rgb, rgb_axis=2, saturation=1, alpha=0, image_alpha=0)
        label2rgb_case("rgb planar", lab, np.ascontiguousarray(np.moveaxis(rgb, 2, 0)), rgb_axis=0, saturation=0.5)


# ------------------------------------------------------------------ regionprops_table intensities
PROPS = ["label", "intensity_min", "intensity_max", "intensity_mean", "intensity_std", "centroid_weighted"]
ALIASES = ["label", "min_intensity", "max_intensity", "mean_intensity", "weighted_centroid"]


def sk_table(lab, inten, props):
    t = measure.regionprops_table(lab, inten, properties=[p for p in props if p != "intensity_std"])
    out = {}
    for p in props:
        if p == "intensity_std":
            out[p] = np.array([np.std(r.image_intensity[r.image]) for r in measure.regionprops(lab, inten)],
                              dtype=np.float64)
        else:
            for k in [k for k in t if k == p or k.startswith(p + "-")]:
                out[k] = t[k]
    return out


def regionprops_case(name, lab, inten, props=PROPS):
    what = f"regionprops_table {name} {inten.dtype}{inten.shape}"
    rc, got = run_op("regionprops_table", [lab, inten], out_ext="json", params={"properties": ",".join(props)})
    if not R.check(rc == 0, what, got if rc else ""):
        return
    want = sk_table(lab, inten, props)
    if not R.check(list(got) == list(want), f"{what}: columns", f"{list(got)} vs {list(want)}"):
        return
    for key, w in want.items():
        g = np.array([NAN if v is None else v for v in got[key]], dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        gn, wn = np.isnan(g), np.isnan(w)
        if not R.check(np.array_equal(gn, wn), f"{what}: {key} NaN cells",
                       f"ours {g.tolist()} vs skimage {w.tolist()}"):
            continue
        if key.startswith("centroid_weighted") or key.startswith("weighted_centroid"):
            fin = ~wn
            ok = np.all(np.abs(g[fin] - w[fin]) <= 1e-12 * np.maximum(np.abs(w[fin]), 1.0))
        else:  # min / max / mean / std: the same floats (infinities with their sign)
            ok = np.array_equal(g[~wn], w[~wn])
        R.check(bool(ok), f"{what}: {key}", f"ours {g.tolist()} vs skimage {w.tolist()}")


def regionprops_cases():
    lab = np.zeros((10, 12), np.int32)
    lab[1:8, 1:9] = 1        # a big square ...
    lab[3:5, 3:6] = 2        # ... with a region inside its bounding box
    lab[2, 2] = 0            # a background hole inside region 1's box
    lab[0, 10:12] = 3        # a region on the top edge
    lab[9, 0] = 4            # a one-pixel region in the corner
    lab[6:10, 10:12] = 5     # bottom-right corner
    lab[8, 1:4] = 6
    for dt in (np.float32, np.float64):
        base = ou.synth_gray((10, 12), np.float64, 16).astype(dt) + dt(0.25)
        cases = {
            "finite": [],
            "nan inside region 1": [((5, 7), NAN)],
            "nan in region 2 (inside 1's box)": [((3, 4), NAN)],
            "nan in the background hole of 1's box": [((2, 2), NAN)],
            "nan outside every box": [((9, 8), NAN)],
            "+inf at region 1's box origin": [((1, 1), INF)],
            "+inf inside region 1": [((4, 7), INF)],
            "-inf in region 5": [((9, 11), -INF)],
            "+inf and -inf in region 1": [((6, 6), INF), ((7, 8), -INF)],
            "+inf in the corner region": [((9, 0), INF)],
            "nan in the edge region": [((0, 11), NAN)],
            "everything": [((5, 7), NAN), ((9, 11), -INF), ((0, 10), INF), ((8, 2), NAN), ((9, 0), -INF)],
        }
        for cname, where in cases.items():
            img = base.copy()
            for idx, v in where:
                img[idx] = v
            regionprops_case(cname, lab, img)
        img = base.copy()
        img[3, 4] = NAN
        img[9, 11] = INF
        regionprops_case("aliases", lab, img, ALIASES)
        # 3D
        lab3 = np.zeros((4, 6, 5), np.int32)
        lab3[0:3, 1:5, 0:4] = 1
        lab3[1, 2:4, 1:3] = 2
        lab3[3, 5, 4] = 3
        base3 = ou.synth_gray((4, 6, 5), np.float64, 17).astype(dt)
        for cname, where in {"3d finite": [], "3d nan in 2": [((1, 2, 1), NAN)],
                             "3d +inf in 1": [((2, 4, 3), INF)], "3d -inf at 3": [((3, 5, 4), -INF)],
                             "3d nan outside": [((3, 0, 0), NAN)]}.items():
            img = base3.copy()
            for idx, v in where:
                img[idx] = v
            regionprops_case(cname, lab3, img)


copy_ops()
gaussian_cases()
threshold_cases()
morph_cases()
label2rgb_cases()
regionprops_cases()
R.finish()
