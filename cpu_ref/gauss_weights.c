/* scipy's Gaussian kernel, bit for bit (see cpu_ref/gauss_weights.h for the numpy details it follows). */
#include "cpu_ref/gauss_weights.h"

#include <math.h>
#include <string.h>

static double from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* 2^(j/16), j = 0..15: the table of SVML's float64 exp (data of __svml_dexp_data_internal_avx512). */
static const uint64_t exp_table[16] = {
    0x3ff0000000000000, 0x3ff0b5586cf9890f, 0x3ff172b83c7d517b, 0x3ff2387a6e756238,
    0x3ff306fe0a31b715, 0x3ff3dea64c123422, 0x3ff4bfdad5362a27, 0x3ff5ab07dd485429,
    0x3ff6a09e667f3bcd, 0x3ff7a11473eb0187, 0x3ff8ace5422aa0db, 0x3ff9c49182a3f090,
    0x3ffae89f995ad3ad, 0x3ffc199bdd85529c, 0x3ffd5818dcfba487, 0x3ffea4afa2a490da,
};

/*
 * SVML's main path: N = x * log2(e) rounded toward zero to 1/16 (the vector code adds 1.5 * 2^48 + 1023 in
 * round-to-zero mode); r = x - N * ln2 in two fused steps; exp(r) - 1 by a degree-6 polynomial evaluated
 * with fused multiply-adds in SVML's order; the result Th * p + Th scaled by 2^floor(N).
 * The round-toward-zero step is done exactly without changing the rounding mode: the product's exact
 * value is p + e (e from a fused multiply-add), and floor(16 (p + e)) differs from floor(16 p) only when
 * 16 p is an integer and e < 0. fma() here is the C99 correctly rounded function, deliberately: SVML fuses
 * these operations, and only this host-side weight computation uses it.
 */
double tp_np_exp(double x)
{
    if (!(fabs(x) < 0x1.61da04cbafe44p+9)) /* 707.70...: SVML's rare path (and NaN, inf) */
        return exp(x);
    const double log2e = from_bits(0x3ff71547652b82fe);
    double p = x * log2e, e = fma(x, log2e, -p);
    double n16 = floor(16.0 * p);
    if (n16 == 16.0 * p && e < 0.0)
        n16 -= 1.0;
    double n = n16 / 16.0;
    int j = (int)((int64_t)n16 & 15);
    double r = fma(-n, from_bits(0x3fe62e42fefa39ef), x);
    r = fma(-n, from_bits(0x3c7abc9e3b39803f), r);
    double r2 = r * r;
    double p56 = fma(r, from_bits(0x3f572eb5ef0d213d), from_bits(0x3f81106603d97c00));
    double p34 = fma(r, from_bits(0x3fa555564bb4f5f0), from_bits(0x3fc5555554b508a2));
    double r3 = r2 * r;
    double p12 = fma(from_bits(0x3fe0000000002622), r2, r);
    double p36 = fma(r2, p56, p34);
    double p16 = fma(r3, p36, p12);
    double th = from_bits(exp_table[j]);
    return ldexp(fma(th, p16, th), (int)floor(n));
}

/* numpy's pairwise_sum for one block (numpy/core/src/umath/loops_utils.h.src). */
static double pairwise(const double *a, int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (int64_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int k = 0; k < 8; k++)
            r[k] = a[k];
        int64_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++)
                r[k] += a[i + k];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

/* The reduction hands the inner loop at most one buffer (8192 elements) at a time and adds the partial
 * sums in order. */
double tp_np_sum(const double *a, int64_t n)
{
    enum { BUFSIZE = 8192 };
    double res = 0.0;
    for (int64_t i = 0; i < n; i += BUFSIZE) {
        double part = pairwise(a + i, n - i < BUFSIZE ? n - i : BUFSIZE);
        res = i == 0 ? part : res + part;
    }
    return res;
}

int64_t tp_gauss_radius(double sigma, double truncate)
{
    double r = truncate * sigma + 0.5;
    if (!(r >= 0.0) || !(r < (double)(TP_GAUSS_MAX_RADIUS + 1)))
        return -1;
    return (int64_t)r; /* Python's int() truncates toward zero */
}

int tp_gauss_weights(double sigma, double truncate, double *w, int64_t *radius)
{
    int64_t r = tp_gauss_radius(sigma, truncate);
    if (r < 0 || !(sigma > 0.0) || !isfinite(sigma))
        return -1;
    const double c = -0.5 / (sigma * sigma);
    for (int64_t k = -r; k <= r; k++)
        w[k + r] = tp_np_exp(c * (double)(k * k));
    const double sum = tp_np_sum(w, 2 * r + 1);
    for (int64_t k = 0; k <= 2 * r; k++)
        w[k] = w[k] / sum;
    *radius = r;
    return 0;
}

int tp_border_from_name(const char *name)
{
    static const char *const names[] = {"nearest", "reflect", "mirror", "constant", "wrap"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
