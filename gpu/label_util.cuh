/* Device helpers of label and regionprops_table: union-find whose root is the smallest index of its set (so a
 * component's root is its first pixel in raster order), one-allocation scratch, and the rank of a set bit. */
#ifndef TP_LABEL_UTIL_CUH
#define TP_LABEL_UTIL_CUH
#include "gpu/cuda_util.h"

#include <stdint.h>

namespace tplabel {

/* Loads that bypass L1: other SMs link roots while a find walks, and a stale L1 line would only slow it. */
__device__ __forceinline__ int ld_cg(const int *p) { return __ldcg(p); }
__device__ __forceinline__ long long ld_cg(const long long *p) { return __ldcg(p); }

__device__ __forceinline__ int atomic_min(int *p, int v) { return atomicMin(p, v); }
__device__ __forceinline__ long long atomic_min(long long *p, long long v) { return atomicMin(p, v); }

/* Root of a, splitting the path on the way. Every parent written is an ancestor, and ancestors only get
 * smaller, so a plain store racing with another thread's link never loses a union: the linking thread carries
 * on with the value its atomicMin returned. */
template <typename P> __device__ P find_split(P *par, P a)
{
    P p = ld_cg(par + a);
    while (p != a) {
        P g = ld_cg(par + p);
        if (g != p)
            par[a] = g;
        a = p;
        p = g;
    }
    return a;
}

/* As find_split, but every store is an atomicMin: the final value of a parent is then the set's minimum once
 * the find of any of its members completes, whatever the interleaving. */
template <typename P> __device__ P find_split_min(P *par, P a)
{
    P p = ld_cg(par + a);
    while (p != a) {
        P g = ld_cg(par + p);
        if (g < p)
            atomic_min(par + a, g);
        a = p;
        p = g;
    }
    return a;
}

/* Join the sets of a and b, linking the larger root under the smaller one. */
template <typename P> __device__ void unite(P *par, P a, P b)
{
    for (;;) {
        a = find_split(par, a);
        b = find_split(par, b);
        if (a == b)
            return;
        if (a > b) {
            P t = a;
            a = b;
            b = t;
        }
        P old = atomic_min(par + b, a);
        if (old == b)
            return;
        b = old; /* b was linked meanwhile: join a with what b joined */
    }
}

/* The same on a block's shared-memory forest (local indices). Threads of the block unite concurrently, so
 * every access in those phases is an atomic: a load is atomicOr(p, 0), a path split is an atomicMin (parents
 * only ever decrease, so a split never raises one that another thread lowered meanwhile). Plain accesses
 * would be just as correct by the argument above (every value written is an ancestor), but they are data
 * races in the memory model and compute-sanitizer's racecheck rightly reports them; shared-memory atomics
 * cost a few cycles on sm_90 and this phase touches only run starts with an edge. */
__device__ __forceinline__ int sload(int *lp, int a) { return atomicOr(lp + a, 0); }

__device__ __forceinline__ int sfind(int *lp, int a)
{
    int p = sload(lp, a);
    while (p != a) {
        const int g = sload(lp, p);
        if (g != p)
            atomicMin(lp + a, g);
        a = p;
        p = g;
    }
    return a;
}

/* Without path splitting: for the phase where each run start stores its own root (by atomicMin), which a
 * concurrent split could otherwise race with. */
__device__ __forceinline__ int sfind_ro(int *lp, int a)
{
    int p = sload(lp, a);
    while (p != a) {
        a = p;
        p = sload(lp, a);
    }
    return a;
}

__device__ __forceinline__ void sunite(int *lp, int a, int b)
{
    for (;;) {
        a = sfind(lp, a);
        b = sfind(lp, b);
        if (a == b)
            return;
        if (a > b) {
            int t = a;
            a = b;
            b = t;
        }
        int old = atomicMin(lp + b, a);
        if (old == b)
            return;
        b = old;
    }
}

/* Number of set bits of bits[] before bit i, given prefix[w] = set bits in words before w. */
template <typename R>
__device__ __forceinline__ R bit_rank(const uint32_t *bits, const R *prefix, int64_t i)
{
    int64_t w = i >> 5;
    uint32_t below = (1u << (i & 31)) - 1u;
    return prefix[w] + (R)__popc(bits[w] & below);
}

} // namespace tplabel

#endif
