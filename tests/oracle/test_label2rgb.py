"""label2rgb against scikit-image 0.19.3's skimage.color.label2rgb (kind='overlay'): bit-identical float64.

Colours are given as numbers, or by names whose values twinpix's parameter parser and skimage's colour
table agree on (red, blue, yellow, cyan, magenta, black, white, lime).
"""
import warnings

import numpy as np
from skimage import color, data, measure

from oracle_util import Result, run_op, max_ulp

R = Result()
warnings.simplefilter("ignore")  # skimage warns on negative intensities; the result is still defined


def parse_colors(text):
    return [tuple(float(v) for v in c.split(",")) if "," in c else c for c in text.split(";")]


def check(name, label, image=None, rgb_axis=None, **kw):
    params = {k: v for k, v in kw.items()}
    sk = dict(kw)
    if "colors" in sk:
        sk["colors"] = parse_colors(sk["colors"])
    if "bg_color" in sk:
        sk["bg_color"] = None if sk["bg_color"] == "none" else parse_colors(sk["bg_color"])[0]
    inputs = [label]
    if image is not None:
        inputs.append((image, rgb_axis) if rgb_axis is not None else image)
    what = (f"label2rgb {name} label {label.shape} {label.dtype}"
            f"{'' if image is None else f' image {image.shape} {image.dtype}'} {params}")
    rc, out = run_op("label2rgb", inputs, params=params)
    if not R.check(rc == 0, what, out if rc else ""):
        return
    im = image
    if image is not None and rgb_axis is not None and rgb_axis != image.ndim - 1:
        im = np.moveaxis(image, rgb_axis, -1)
    want = color.label2rgb(label, im, **sk)
    ok = out.dtype == want.dtype and out.shape == want.shape and np.array_equal(out, want)
    if out.shape == want.shape and out.dtype == want.dtype:
        R.note_worst("ulp", max_ulp(out, want))
    R.check(ok, what, f"dtype {out.dtype}/{want.dtype} shape {out.shape}/{want.shape}" if not ok else "")


rng = np.random.default_rng(11)
coins = data.coins()
lab_coins = measure.label(coins > 100)  # int64, ~ a hundred labels: the colours cycle
small = rng.integers(0, 14, (23, 31)).astype(np.int32)

# no image: colours only (alpha forced to 1)
check("coins", lab_coins)
check("small", small, bg_label=3)
check("small", small, bg_label=-1)                 # absent: every value takes a rank
check("small", small, bg_color="none")
check("small", small, bg_color="0.2,0.4,0.6", bg_label=5)
check("small", small, colors="1,0,0;0,1,0;0,0,1;0.3,0.3,0.3")
check("small", small, colors="red;blue;yellow;cyan;magenta;lime")
# names whose skimage values are 3-decimal constants (green 0.502, not 128/255)
check("small", small, colors="green;indigo;darkorange;pink;yellowgreen;gray;orange;purple", bg_color="green")
check("bool", rng.random((19, 21)) < 0.5)
check("int8", rng.integers(-5, 6, (17, 13)).astype(np.int8), bg_label=-5)
check("sparse-uint16", (rng.integers(0, 6, (20, 20)) * 9000).astype(np.uint16))
check("sparse-int64", rng.choice(np.array([-2**62, -7, 0, 3, 10**15, 2**62]), (25, 17)))
check("3d", rng.integers(0, 5, (4, 9, 8)).astype(np.uint8))

# over a grey image: img_as_float of every dtype, alpha, image_alpha, bg_color None
check("coins uint8", lab_coins, coins)
check("coins uint8", lab_coins, coins, alpha=0.7, image_alpha=0.5)
check("coins uint8", lab_coins, coins, bg_color="none", alpha=0.45)
check("coins uint8", lab_coins, coins, alpha=0, bg_label=1)
g = rng.random((23, 31))
for dt, img in (("uint16", (g * 65535).astype(np.uint16)), ("int16", (g * 2000 - 300).astype(np.int16)),
                ("int32", (g * 1e6).astype(np.int32)), ("float32", g.astype(np.float32)), ("float64", g),
                ("bool", g > 0.5)):
    check(dt, small, img)
    check(dt, small, img, alpha=0.6, image_alpha=0.3, bg_color="none")
check("3d grey", rng.integers(0, 4, (3, 10, 9)), rng.random((3, 10, 9)).astype(np.float32), alpha=0.5)

# over an RGB image (channel axis last, or first): rgb2hsv, saturation, hsv2rgb
astro = data.astronaut()[100:164, 150:230]
lab_a = rng.integers(0, 7, astro.shape[:2])
for sat in (0, 0.5, 1):
    check("astronaut", lab_a, astro, rgb_axis=2, saturation=sat)
check("astronaut", lab_a, astro, rgb_axis=2, saturation=0.3, alpha=0.8, image_alpha=0.6, bg_color="none")
rgb32 = rng.random((23, 31, 3)).astype(np.float32)
rgb32[0, :3] = [0.5, 0.5, 0.5]  # grey pixels: delta == 0
rgb32[1, :3] = [1.0, 0.0, 0.0]
check("rgb float32", small, rgb32, rgb_axis=2, saturation=0.25)
check("rgb float64", small, rgb32.astype(np.float64), rgb_axis=2, saturation=0.75, alpha=0.1)
check("rgb planar", small, np.ascontiguousarray(np.moveaxis(rgb32, 2, 0)), rgb_axis=0, saturation=0.5)

R.finish()
