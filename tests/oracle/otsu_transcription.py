"""skimage.filters.threshold_otsu transcribed in numpy, in two flavours, for machines without scikit-image 0.26.

    otsu(image, nbins, flavour="0.26")   scikit-image 0.26 on numpy 2 (the project's spec)
    otsu(image, nbins, flavour="0.19")   scikit-image 0.19.3 on numpy 1.x (what Debian installs)

Both flavours share scikit-image's code, which is the same in 0.19.3 and 0.26 (threshold_otsu,
exposure.histogram, _bincount_histogram) except for two lines, and differ in numpy's np.histogram edges:

  * _validate_image_histogram returns counts.astype(float) in 0.19.3 and counts.astype('float32') in 0.26,
    so 0.26's weights are float32 cumsums, its class sums and means are float32 for float32 images
    (float32 * float32 centres), and its weight1 * weight2 is a float32 product.
  * np.linspace(min, max, nbins + 1, dtype=float32), inside np.histogram, is evaluated in float64 and
    rounded on numpy 1.x (value-based casting makes the scalar bounds float64), in float32 on numpy 2
    (NEP 50). numpy 2 also refuses edges that do not strictly increase ("Too many bins for data range"),
    and guesses a sample's bin as (x - min) / (max - min) * nbins instead of (x - min) * (nbins / (max -
    min)); the guess is corrected against the edges either way, so only the edges change the counts.

Every step is written with explicit dtypes so the result does not depend on the installed numpy's
promotion rules: array-with-array operations promote the same way on numpy 1.x and 2.x, and scalars are
given the image dtype before they meet an array.
"""
import numpy as np


class TooManyBins(ValueError):
    """numpy 2's np.histogram refusal: the range cannot hold nbins finite-sized bins."""


def _linspace(first, last, num, dt, numpy2):
    """np.linspace(first, last, num, endpoint=True, dtype=dt) for scalar bounds of dtype dt."""
    div = num - 1
    ct = dt.type if numpy2 else np.float64  # the dtype linspace computes in
    start, stop = ct(first), ct(last)
    delta = ct(stop - start)
    step = ct(delta / ct(div))
    y = np.arange(0, num, dtype=ct)
    if step == 0:  # gh-5437: a denormal step divides first
        y = (y / ct(div)) * delta
    else:
        y = y * step
    y = y + start
    y[-1] = stop
    return y.astype(dt)


def histogram(image, nbins, flavour):
    """skimage.exposure.histogram(image.reshape(-1), nbins, source_range='image'): (counts, centres)."""
    a = image.reshape(-1)
    if np.issubdtype(a.dtype, np.integer):
        lo, hi = int(a.min()), int(a.max())
        centres = np.arange(lo, hi + 1)  # int64, as _bincount_histogram_centers makes it
        counts = np.bincount((a.astype(np.int64) - lo), minlength=hi - lo + 1)
        return counts, centres
    numpy2 = flavour == "0.26"
    dt = a.dtype
    first, last = a.min(), a.max()
    if not (np.isfinite(first) and np.isfinite(last)):
        raise ValueError(f"autodetected range of [{first}, {last}] is not finite")
    edges = _linspace(first, last, nbins + 1, dt, numpy2)
    if numpy2 and np.any(edges[:-1] >= edges[1:]):
        raise TooManyBins(f"Too many bins for data range. Cannot create {nbins} finite-sized bins.")
    if numpy2:
        f = ((a - first) / dt.type(last - first)) * dt.type(nbins)
    else:
        f = (a - first) * dt.type(nbins / dt.type(last - first))
    idx = f.astype(np.intp)
    idx[idx == nbins] -= 1
    idx[a < edges[idx]] -= 1
    idx[(a >= edges[idx + 1]) & (idx != nbins - 1)] += 1
    counts = np.bincount(idx, minlength=nbins)
    centres = (edges[:-1] + edges[1:]) / dt.type(2.0)
    return counts, centres


def choose(counts, centres, flavour):
    """threshold_otsu's choice from (counts, centres) after _validate_image_histogram's cast."""
    counts = counts.astype(np.float32 if flavour == "0.26" else np.float64)
    weight1 = np.cumsum(counts)
    weight2 = np.cumsum(counts[::-1])[::-1]
    mean1 = np.cumsum(counts * centres) / weight1
    mean2 = (np.cumsum((counts * centres)[::-1]) / weight2[::-1])[::-1]
    variance12 = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    return centres[np.argmax(variance12)]


def otsu(image, nbins=256, flavour="0.26"):
    first_pixel = image.reshape(-1)[0]
    if np.all(image == first_pixel):
        return first_pixel
    counts, centres = histogram(image, nbins, flavour)
    return choose(counts, centres, flavour)
