"""img_as_float: twinpix's CPU reference against skimage.util.img_as_float, bit for bit.

Every accepted dtype, including each type's extreme values (INT_MIN maps to -1.0, not below), 2-D and 3-D,
and an image with a channel axis. float32 stays float32; every other dtype becomes float64.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from oracle_util import Result, max_ulp, np, run_op  # noqa: E402

from skimage.util import img_as_float  # noqa: E402

res = Result()


def compare(name, image, channel_axis=None):
    inp = (image, channel_axis) if channel_axis is not None else image
    rc, got = run_op("img_as_float", [inp])
    if not res.check(rc == 0, name, got if rc else ""):
        return
    want = img_as_float(image)
    ok = got.dtype == want.dtype and got.shape == want.shape
    if not res.check(ok, name, f"dtype/shape {got.dtype}{got.shape} vs {want.dtype}{want.shape}"):
        return
    ulp = max_ulp(got, want)
    res.note_worst(f"ulp {np.dtype(image.dtype).name}", ulp)
    res.check(np.array_equal(got.view(np.uint8), want.view(np.uint8)), name, f"max ULP {ulp}")


rng = np.random.default_rng(0)
for dt in [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64]:
    info = np.iinfo(dt)
    for shape in [(1, 1), (31, 29), (9, 13, 11)]:
        img = rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
        img.flat[0] = info.min
        img.flat[-1] = info.max
        if img.size > 2:
            img.flat[1] = 0
            img.flat[2] = -1 if info.min < 0 else 1
        compare(f"{np.dtype(dt).name}{shape}", img)
compare("bool", rng.random((31, 29)) > 0.5)
compare("bool 3d", rng.random((5, 6, 7)) > 0.5)
compare("float32 passes through", rng.normal(0, 1e3, (31, 29)).astype(np.float32))
compare("float64 passes through", rng.normal(0, 1e-3, (9, 13, 11)))
compare("float32 outside [-1, 1] kept", np.array([[-5.0, 0.5, 2.0]], np.float32))
compare("uint16 rgb (channel axis)", rng.integers(0, 65535, (20, 30, 3), dtype=np.uint16), channel_axis=2)

res.finish()
