/* regionprops_table: properties read from the region's own mask in its bounding box, padded by one pixel
 * of background on every spatial side: euler_number, perimeter (2D) and area_filled. Other labels inside
 * the box are background, as in scikit-image's region.image.
 *
 * Mask bytes: bit 0 the region, bit 1 its border (perimeter), bit 2 background reached from outside
 * (area_filled). */
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { FG = 1, BORDER = 2, OUTSIDE = 4 };

typedef struct pmask {
    uint8_t *m;
    int64_t pd, ph, pw; /* padded extents; pd = 1 in 2D (no padding along z) */
    int64_t pz;         /* 1 in 3D, 0 in 2D: the z offset of the region inside the padding */
} pmask;

static bool render(const rp_geom *g, const rp_region *r, const rp_run *runs, rp_work *w, pmask *pm)
{
    int64_t d = r->hi[0] - r->lo[0] + 1, h = r->hi[1] - r->lo[1] + 1, wd = r->hi[2] - r->lo[2] + 1;
    pm->pz = g->ndim == 3 ? 1 : 0;
    pm->pd = g->ndim == 3 ? d + 2 : 1;
    pm->ph = h + 2;
    pm->pw = wd + 2;
    int64_t n;
    if (!tp_mul_i64(pm->pd, pm->ph, &n) || !tp_mul_i64(n, pm->pw, &n) || !rp_buf_reserve(&w->mask, (size_t)n))
        return false;
    pm->m = w->mask.p;
    memset(pm->m, 0, (size_t)n);
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        int64_t z = q->line / g->H - r->lo[0] + pm->pz, y = q->line % g->H - r->lo[1] + 1;
        memset(pm->m + (z * pm->ph + y) * pm->pw + (q->x0 - r->lo[2] + 1), FG, (size_t)q->len);
    }
    return true;
}

/* Ohser et al.'s coefficients as scikit-image lists them (8-connectivity in 2D, 26 in 3D). */
static const int EULER_2D_8[16] = {0, 0, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0, 0, 0, -1, 0};
static const int EULER_3D_26[256] = {
    0,  1,  1,  0,  1,  0,  -2, -1, 1,  -2, 0,  -1, 0,  -1, -1, 0,  1,  0,  -2, -1, -2, -1, -1, -2, -6, -3,
    -3, -2, -3, -2, 0,  -1, 1,  -2, 0,  -1, -6, -3, -3, -2, -2, -1, -1, -2, -3, 0,  -2, -1, 0,  -1, -1, 0,
    -3, -2, 0,  -1, -3, 0,  -2, -1, 0,  1,  1,  0,  1,  -2, -6, -3, 0,  -1, -3, -2, -2, -1, -3, 0,  -1, -2,
    -2, -1, 0,  -1, -3, -2, -1, 0,  0,  -1, -3, 0,  0,  1,  -2, -1, 1,  0,  -2, -1, -3, 0,  -3, 0,  0,  1,
    -1, 4,  0,  3,  0,  3,  1,  2,  -1, -2, -2, -1, -2, -1, 1,  0,  0,  3,  1,  2,  1,  2,  2,  1,  1,  -6,
    -2, -3, -2, -3, -1, 0,  0,  -3, -1, -2, -1, -2, -2, -1, -2, -3, -1, 0,  -1, 0,  4,  3,  -3, 0,  0,  1,
    0,  1,  3,  2,  0,  -3, -1, -2, -3, 0,  0,  1,  -1, 0,  0,  -1, -2, 1,  -1, 0,  -1, -2, -2, -1, 0,  1,
    3,  2,  -2, 1,  -1, 0,  1,  2,  2,  1,  0,  -3, -3, 0,  -1, -2, 0,  1,  -1, 0,  -2, 1,  0,  -1, -1, 0,
    -1, -2, 0,  1,  -2, -1, 3,  2,  -2, 1,  1,  2,  -1, 0,  2,  1,  -1, 0,  -2, 1,  -2, 1,  1,  2,  -2, 3,
    -1, 2,  -1, 2,  0,  1,  0,  -1, -1, 0,  -1, 0,  2,  1,  -1, 2,  0,  1,  0,  1,  1,  0};

/* scikit-image convolves the padded mask with [[0,0,0],[0,1,4],[0,2,8]] (and its 3D extension): the
 * kernel is flipped, so the window code of the 2x2(x2) block ending at (z, y, x) is
 * 1 p(z,y,x) + 2 p(z,y-1,x) + 4 p(z,y,x-1) + 8 p(z,y-1,x-1) + 16 p(z-1,y,x) + 32 p(z-1,y-1,x)
 * + 64 p(z-1,y,x-1) + 128 p(z-1,y-1,x-1). Every block that touches the region is counted once. */
static int64_t euler_number(const pmask *pm, int ndim)
{
    const uint8_t *m = pm->m;
    int64_t sy = pm->pw, sz = pm->ph * pm->pw, total = 0;
    if (ndim == 2) {
        for (int64_t y = 1; y < pm->ph; y++)
            for (int64_t x = 1; x < pm->pw; x++) {
                const uint8_t *p = m + y * sy + x;
                int code = (p[0] & FG) | (p[-sy] & FG) << 1 | (p[-1] & FG) << 2 | (p[-sy - 1] & FG) << 3;
                total += EULER_2D_8[code];
            }
        return total;
    }
    for (int64_t z = 1; z < pm->pd; z++)
        for (int64_t y = 1; y < pm->ph; y++)
            for (int64_t x = 1; x < pm->pw; x++) {
                const uint8_t *p = m + z * sz + y * sy + x, *q = p - sz;
                int code = (p[0] & FG) | (p[-sy] & FG) << 1 | (p[-1] & FG) << 2 | (p[-sy - 1] & FG) << 3 |
                           (q[0] & FG) << 4 | (q[-sy] & FG) << 5 | (q[-1] & FG) << 6 | (q[-sy - 1] & FG) << 7;
                total += EULER_3D_26[code];
            }
    /* int(0.125 * coefs @ h) */
    return (int64_t)(0.125 * (double)total);
}

/* scikit-image's perimeter(image, 4): the border is the region minus its erosion by the cross (outside
 * counts as background); each border pixel is coded 1 + 2 (4-neighbours on the border) + 10 (diagonal
 * neighbours on the border) and weighted by code. */
static double perimeter_2d(const pmask *pm)
{
    uint8_t *m = pm->m;
    int64_t sy = pm->pw, n1 = 0, n_sqrt2 = 0, n_half = 0;
    for (int64_t y = 1; y + 1 < pm->ph; y++)
        for (int64_t x = 1; x + 1 < pm->pw; x++) {
            uint8_t *p = m + y * sy + x;
            if ((p[0] & FG) && !((p[-1] & p[1] & p[-sy] & p[sy]) & FG))
                p[0] |= BORDER;
        }
    for (int64_t y = 1; y + 1 < pm->ph; y++)
        for (int64_t x = 1; x + 1 < pm->pw; x++) {
            const uint8_t *p = m + y * sy + x;
            if (!(p[0] & BORDER))
                continue;
            int edge = ((p[-1] & BORDER) + (p[1] & BORDER) + (p[-sy] & BORDER) + (p[sy] & BORDER)) / BORDER;
            int diag = ((p[-sy - 1] & BORDER) + (p[-sy + 1] & BORDER) + (p[sy - 1] & BORDER) +
                        (p[sy + 1] & BORDER)) /
                       BORDER;
            switch (1 + 2 * edge + 10 * diag) {
            case 5: case 7: case 15: case 17: case 25: case 27: n1++; break;
            case 21: case 33: n_sqrt2++; break;
            case 13: case 23: n_half++; break;
            default: break;
            }
        }
    const double s2 = sqrt(2.0);
    return (double)n1 + (double)n_sqrt2 * s2 + (double)n_half * ((1 + s2) / 2);
}

/* ndi.binary_fill_holes(image, ones((3,) * ndim)): background connected (8 / 26) to the outside of the
 * box stays; every other background pixel of the box is a hole. Returns the number of holes, -1 when
 * out of memory. */
static int64_t holes(const pmask *pm, int ndim, rp_work *w)
{
    uint8_t *m = pm->m;
    int64_t sy = pm->pw, sz = pm->ph * pm->pw, n = pm->pd * sz;
    int64_t z0 = pm->pz, z1 = pm->pd - pm->pz; /* the box's planes: [z0, z1) */
    /* the padding is outside already; the box's own background is flooded from it */
    for (int64_t z = 0; z < pm->pd; z++)
        for (int64_t y = 0; y < pm->ph; y++) {
            uint8_t *row = m + z * sz + y * sy;
            if (z < z0 || z >= z1 || y == 0 || y == pm->ph - 1) {
                for (int64_t x = 0; x < pm->pw; x++)
                    row[x] |= OUTSIDE;
            } else {
                row[0] |= OUTSIDE;
                row[pm->pw - 1] |= OUTSIDE;
            }
        }
    int64_t off[26], noff = 0;
    for (int dz = ndim == 3 ? -1 : 0; dz <= (ndim == 3 ? 1 : 0); dz++)
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
                if (dz || dy || dx)
                    off[noff++] = dz * sz + dy * sy + dx;
    if (!rp_buf_reserve(&w->queue, (size_t)n * sizeof(int64_t)))
        return -1;
    int64_t *queue = w->queue.p, head = 0, tail = 0;
    for (int64_t z = z0; z < z1; z++)
        for (int64_t y = 1; y + 1 < pm->ph; y++)
            for (int64_t x = 1; x + 1 < pm->pw; x++) {
                bool edge = y == 1 || y == pm->ph - 2 || x == 1 || x == pm->pw - 2 ||
                            (ndim == 3 && (z == z0 || z == z1 - 1));
                int64_t i = z * sz + y * sy + x;
                if (edge && !(m[i] & (FG | OUTSIDE))) {
                    m[i] |= OUTSIDE;
                    queue[tail++] = i;
                }
            }
    while (head < tail) {
        int64_t i = queue[head++];
        for (int k = 0; k < noff; k++) {
            int64_t j = i + off[k];
            if (!(m[j] & (FG | OUTSIDE))) {
                m[j] |= OUTSIDE;
                queue[tail++] = j;
            }
        }
    }
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        count += !(m[i] & (FG | OUTSIDE));
    return count;
}

tp_status rp_mask_props(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs, rp_work *w,
                        rp_values *v, rp_fail *f)
{
    if (!(needs & (RP_NEED_EULER | RP_NEED_PERIMETER | RP_NEED_FILLED)))
        return TP_OK;
    pmask pm;
    if (!render(g, r, runs, w, &pm))
        goto nomem;
    if (needs & RP_NEED_EULER)
        v->euler = euler_number(&pm, g->ndim);
    if ((needs & RP_NEED_PERIMETER) && g->ndim == 2)
        v->perimeter = perimeter_2d(&pm);
    if (needs & RP_NEED_FILLED) {
        int64_t k = holes(&pm, g->ndim, w);
        if (k < 0)
            goto nomem;
        v->area_filled = r->area + k;
    }
    return TP_OK;
nomem:
    f->code = TP_ERR_NOMEM;
    snprintf(f->msg, sizeof f->msg, "out of host memory (mask of label %lld)", (long long)r->label);
    return f->code;
}
