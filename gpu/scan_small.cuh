/* Exclusive sums of short integer arrays in one launch (gpu/regionprops_*.cu through rp_scan, gpu/label.cu). */
#ifndef TP_SCAN_SMALL_CUH
#define TP_SCAN_SMALL_CUH
#include <cub/cub.cuh>
#include <stdint.h>

/* Exclusive sums of up to SCAN_SMALL_MAX items in one block, one launch. CUB's device scan takes two (an
 * init and the scan), and at the seed's 640^2 a launch costs about as much as the scan itself:
 * regionprops_table runs half a dozen, label one. Integer sums: any order gives the same values. Two arrays
 * of the same length may go in one launch (b null: one). */
constexpr int64_t SCAN_SMALL_MAX = 1 << 16;
constexpr int SCAN_SMALL_THREADS = 1024, SCAN_SMALL_ITEMS = 4;

template <typename V>
__global__ void __launch_bounds__(SCAN_SMALL_THREADS)
    k_scan_small(const V *__restrict__ a, V *__restrict__ ao, const V *__restrict__ b, V *__restrict__ bo, int64_t n)
{
    typedef cub::BlockScan<V, SCAN_SMALL_THREADS> Scan;
    __shared__ typename Scan::TempStorage tmp;
    for (int which = 0; which < 2; which++) {
        const V *in = which ? b : a;
        V *out = which ? bo : ao;
        if (!in)
            break;
        V carry = 0;
        for (int64_t base = 0; base < n; base += (int64_t)SCAN_SMALL_THREADS * SCAN_SMALL_ITEMS) {
            V v[SCAN_SMALL_ITEMS], total;
            const int64_t at = base + (int64_t)threadIdx.x * SCAN_SMALL_ITEMS;
#pragma unroll
            for (int j = 0; j < SCAN_SMALL_ITEMS; j++)
                v[j] = at + j < n ? in[at + j] : V(0);
            Scan(tmp).ExclusiveSum(v, v, total);
#pragma unroll
            for (int j = 0; j < SCAN_SMALL_ITEMS; j++)
                if (at + j < n)
                    out[at + j] = carry + v[j];
            carry += total; /* the block-wide total: the same in every thread */
            __syncthreads(); /* tmp is reused by the next round */
        }
    }
}

#endif
