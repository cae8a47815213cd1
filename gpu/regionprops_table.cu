/* regionprops_table on the device, bit for bit the CPU reference's table (cpu_ref/regionprops_table.c).
 *
 * The request is checked and the columns are laid out by the CPU's own property list (rp_prop_lookup), so
 * names, order, dtypes, aliases and error messages are the CPU's. Every measurement runs on the device
 * (gpu/regionprops_*.cu): runs and regions, exact integer sums, moments, 2D and 3D convex hulls, masks and
 * intensity sums; the columns come back in one copy.
 *
 * The one step left to the host is the libm call of three columns: equivalent_diameter_area (pow),
 * orientation (atan2) and moments_hu (pow), from per-region values computed on the device. The device's
 * pow and atan2 are not glibc's (each may differ in the last bit), and these columns are defined by the
 * CPU's libm: the host applies the same expression to the same inputs, a few flops per region. */
#include "gpu/cuda_ops.h"
#include "gpu/regionprops_cuda.cuh"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace {

struct ColSpec {
    rp_prop prop;
    int k;
    bool is_int;
    char name[64];
};

int ncols_of(const rp_prop_info *pi, int ndim)
{
    switch (pi->ncols) {
    case RP_COLS_NDIM: return ndim;
    case RP_COLS_2NDIM: return 2 * ndim;
    case RP_COLS_SEVEN: return 7;
    default: return 1;
    }
}

/* The CPU's make_columns: the first property that cannot be computed fails the call, in request order. */
tp_status plan_columns(tp_context *ctx, char **names, int nnames, int ndim, bool have_intensity,
                       std::vector<ColSpec> &cols, unsigned *needs)
{
    *needs = 0;
    for (int i = 0; i < nnames; i++) {
        const rp_prop_info *pi = rp_prop_lookup(names[i]);
        if (!pi)
            return tp_error(ctx, TP_ERR_ARG, "regionprops_table: properties: unknown property '%s'", names[i]);
        if (pi->only_2d && ndim != 2)
            return tp_error(ctx, TP_ERR_ARG,
                            "regionprops_table: properties: '%s' is defined for 2D images only, got a %dD "
                            "label_image (scikit-image raises NotImplementedError)",
                            names[i], ndim);
        if (pi->intensity && !have_intensity)
            return tp_error(ctx, TP_ERR_ARG,
                            "regionprops_table: properties: '%s' needs an intensity_image, got none", names[i]);
        *needs |= pi->needs;
    }
    for (int i = 0; i < nnames; i++) {
        bool repeated = false; /* one dict key in scikit-image: one set of columns */
        for (int j = 0; j < i; j++)
            repeated |= strcmp(names[i], names[j]) == 0;
        if (repeated)
            continue;
        const rp_prop_info *pi = rp_prop_lookup(names[i]);
        for (int k = 0; k < ncols_of(pi, ndim); k++) {
            ColSpec cs;
            cs.prop = pi->prop;
            cs.k = k;
            cs.is_int = pi->is_int;
            if (pi->ncols == RP_COLS_ONE)
                snprintf(cs.name, sizeof cs.name, "%s", names[i]);
            else
                snprintf(cs.name, sizeof cs.name, "%s-%d", names[i], k);
            cols.push_back(cs);
        }
    }
    return TP_OK;
}

/* The device slot holding a column, or -1 for the columns the host finishes. */
int slot_of(const ColSpec &c)
{
    switch (c.prop) {
    case RP_LABEL: return S_LABEL;
    case RP_AREA: return S_AREA;
    case RP_AREA_BBOX: return S_AREA_BBOX;
    case RP_AREA_CONVEX: return S_AREA_CONVEX;
    case RP_AREA_FILLED: return S_AREA_FILLED;
    case RP_BBOX: return S_BBOX + c.k;
    case RP_CENTROID: return S_CENTROID + c.k;
    case RP_CENTROID_LOCAL: return S_CENTROID_LOCAL + c.k;
    case RP_CENTROID_WEIGHTED: return S_CENTROID_WEIGHTED + c.k;
    case RP_ECCENTRICITY: return S_ECCENTRICITY;
    case RP_EULER_NUMBER: return S_EULER;
    case RP_EXTENT: return S_EXTENT;
    case RP_FERET_DIAMETER_MAX: return S_FERET;
    case RP_INTENSITY_MAX: return S_IMAX;
    case RP_INTENSITY_MEAN: return S_IMEAN;
    case RP_INTENSITY_MIN: return S_IMIN;
    case RP_INTENSITY_STD: return S_ISTD;
    case RP_AXIS_MAJOR_LENGTH: return S_AXIS_MAJOR;
    case RP_AXIS_MINOR_LENGTH: return S_AXIS_MINOR;
    case RP_PERIMETER: return S_PERIMETER;
    case RP_SOLIDITY: return S_SOLIDITY;
    default: return -1; /* equivalent_diameter_area, orientation, moments_hu */
    }
}

/* The slots to bring back, by value (no upload before the copy). */
struct SlotList {
    int slot[S_COUNT];
    int n;
};

__global__ void k_compact(const uint64_t *vals, int64_t nreg, SlotList slots, uint64_t *out)
{
    RP_LOOP(i, nreg * slots.n)
    {
        const int64_t j = i / nreg, r = i - j * nreg;
        out[i] = vals[(int64_t)slots.slot[j] * nreg + r];
    }
}

/* ---- the host's finishing of the libm columns, the CPU's expressions ---- */
double as_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

double orientation_of(const double *mu)
{
    double mu0 = mu[0], mu20 = mu[1], mu02 = mu[2], mu11 = mu[3];
    double s = mu20 + mu02;
    double a = (s - mu20) / mu0, c = (s - mu02) / mu0, b = -mu11 / mu0;
    if (a - c == 0)
        return b < 0 ? -M_PI / 4.0 : M_PI / 4.0;
    return 0.5 * atan2(-2 * b, c - a);
}

void hu_of(const double *mu, double hu[7])
{
    double mu0 = mu[0], mu20 = mu[1], mu02 = mu[2], mu11 = mu[3];
    double p2 = pow(mu0, 2.0), p3 = pow(mu0, 2.5);
    double nu20 = mu20 / p2, nu02 = mu02 / p2, nu11 = mu11 / p2;
    double nu30 = mu[4] / p3, nu03 = mu[5] / p3;
    double nu21 = mu[6] / p3, nu12 = mu[7] / p3;
    double t0 = nu30 + nu12, t1 = nu21 + nu03;
    double q0 = t0 * t0, q1 = t1 * t1;
    double n4 = 4 * nu11, sm = nu20 + nu02, d = nu20 - nu02;
    hu[0] = sm;
    hu[1] = d * d + n4 * nu11;
    hu[3] = q0 + q1;
    hu[5] = d * (q0 - q1) + n4 * t0 * t1;
    t0 *= q0 - 3 * q1;
    t1 *= 3 * q0 - q1;
    q0 = nu30 - 3 * nu12;
    q1 = 3 * nu21 - nu03;
    hu[2] = q0 * q0 + q1 * q1;
    hu[4] = q0 * t0 + q1 * t1;
    hu[6] = q1 * t0 - q0 * t1;
}

/* The lowest region a phase failed on, in the CPU's words. */
tp_status region_failure(rp_call &C)
{
    std::vector<int> fail((size_t)C.R.nreg);
    tp_status st = rp_fetch(C, fail.data(), C.R.fail, fail.size());
    if (st)
        return st;
    for (int64_t r = 0; r < C.R.nreg; r++) {
        if (!fail[(size_t)r])
            continue;
        long long label = 0;
        if ((st = rp_fetch(C, &label, (const long long *)C.R.reg_label + r, 1)))
            return st;
        switch (fail[(size_t)r]) {
        case RP_FAIL_FLAT_FERET:
            return tp_error(C.ctx, TP_ERR_ARG,
                            "regionprops_table: feret_diameter_max: label %lld is flat (its voxels lie in one "
                            "plane), so its 3D convex image is empty and scikit-image's marching_cubes raises",
                            label);
        case RP_FAIL_TOO_LARGE:
            return tp_error(C.ctx, TP_ERR_UNSUPPORTED,
                            "regionprops_table: 3D convex hull of label %lld: bounding box extents must be < "
                            "262144",
                            label);
        case RP_FAIL_CAPACITY:
            return tp_error(C.ctx, TP_ERR_DEVICE_NOMEM,
                            "regionprops_table: 3D convex hull of label %lld: its faces outgrew the largest "
                            "scratch the device path allows",
                            label);
        default:
            return tp_error(C.ctx, TP_ERR_INTERNAL,
                            "regionprops_table: 3D convex hull of label %lld: inconsistent hull", label);
        }
    }
    return TP_OK;
}

tp_status fill_table(rp_call &C, const std::vector<ColSpec> &cols, tp_table *t)
{
    const int64_t m = C.R.nreg;
    tp_status st = TP_OK;
    for (size_t i = 0; i < cols.size() && !st; i++)
        st = tp_table_add_column(C.ctx, t, cols[i].name, cols[i].is_int ? TP_INT64 : TP_FLOAT64);
    if (st || m == 0)
        return st;
    /* the slots to fetch: the columns' own, and the host's inputs */
    std::vector<int> slots;
    auto want = [&](int s) {
        for (int x : slots)
            if (x == s)
                return;
        slots.push_back(s);
    };
    for (const ColSpec &c : cols) {
        const int s = slot_of(c);
        if (s >= 0)
            want(s);
        else if (c.prop == RP_EQUIVALENT_DIAMETER)
            want(S_AREA);
        else
            for (int k = 0; k < 8; k++)
                want(S_MU + k);
    }
    SlotList sl;
    sl.n = (int)slots.size(); /* distinct slots: at most S_COUNT */
    for (int j = 0; j < sl.n; j++)
        sl.slot[j] = slots[(size_t)j];
    uint64_t *dout;
    if ((st = C.mem.get(&dout, m * (int64_t)slots.size())))
        return st;
    k_compact<<<rp_grid(m * (int64_t)slots.size(), 256), 256, 0, C.s>>>(C.R.vals, m, sl, dout);
    TP_CUDA_LAUNCHED(C.ctx);
    uint64_t *host = (uint64_t *)tp_host_alloc(C.ctx, m * (int64_t)slots.size(), sizeof(uint64_t));
    if (!host)
        return TP_ERR_NOMEM;
    st = rp_fetch(C, host, dout, (size_t)m * slots.size());
    auto row_of = [&](int s) {
        for (size_t j = 0; j < slots.size(); j++)
            if (slots[j] == s)
                return host + j * (size_t)m;
        return (uint64_t *)nullptr;
    };
    const int nd = C.R.ndim;
    for (size_t i = 0; i < cols.size() && !st; i++) {
        const ColSpec &c = cols[i];
        void *dst = t->cols[i].data;
        const int s = slot_of(c);
        if (s >= 0) {
            memcpy(dst, row_of(s), sizeof(uint64_t) * (size_t)m);
            continue;
        }
        double *out = (double *)dst;
        if (c.prop == RP_EQUIVALENT_DIAMETER) {
            const uint64_t *area = row_of(S_AREA);
            for (int64_t r = 0; r < m; r++)
                out[r] = pow((double)(2 * nd * (int64_t)area[r]) / M_PI, 1.0 / nd);
            continue;
        }
        for (int64_t r = 0; r < m; r++) {
            double mu[8];
            for (int k = 0; k < 8; k++)
                mu[k] = as_f64(row_of(S_MU + k)[r]);
            if (c.prop == RP_ORIENTATION) {
                out[r] = orientation_of(mu);
            } else {
                double hu[7];
                hu_of(mu, hu);
                out[r] = hu[c.k];
            }
        }
    }
    free(host);
    return st;
}

} // namespace

extern "C" tp_status tp_cuda_regionprops_table(tp_context *ctx, const tp_call *c)
{
    const tp_image *lab = c->in[0], *inten = c->in[1];
    const int ndim = tp_image_spatial_ndim(lab);
    char **names = NULL;
    const int nnames = tp_arg_strlist(c, "properties", &names);
    std::vector<ColSpec> cols;
    unsigned needs = 0;
    tp_status st = plan_columns(ctx, names, nnames, ndim, inten != NULL, cols, &needs);
    if (st)
        return st;
    rp_call C;
    C.ctx = ctx;
    C.s = tp_cuda_stream(ctx);
    C.mem.ctx = ctx;
    C.needs = needs;
    C.lab = lab;
    C.inten = inten;
    memset(&C.R, 0, sizeof C.R);
    C.R.ndim = ndim;
    C.R.D = ndim == 3 ? lab->shape[0] : 1;
    C.R.H = lab->shape[ndim - 2];
    C.R.W = lab->shape[ndim - 1];
    /* one block for the run bitmaps and counts (about 0.75 bytes a pixel) and, typically, the rest: each
     * further cudaMalloc costs about as much as a phase */
    const int64_t npx = tp_image_count(lab);
    if ((st = C.mem.reserve((size_t)(npx / 32 + 1) * 24 + ((size_t)48 << 20))))
        return st;
    if ((st = rp_cuda_collect(C)) || (st = rp_cuda_moments(C)) || (st = rp_cuda_hull(C)) ||
        (st = rp_cuda_mask(C)) || (st = rp_cuda_intensity(C)))
        return st;
    if (ndim == 3 && (needs & (RP_NEED_HULL | RP_NEED_FERET)) && C.R.nreg > 0 && (st = region_failure(C)))
        return st;
    tp_table t = tp_table_empty();
    t.nrows = C.R.nreg;
    st = fill_table(C, cols, &t);
    if (st) {
        tp_table_free(&t);
        return st;
    }
    c->out->table = t;
    return TP_OK;
}
