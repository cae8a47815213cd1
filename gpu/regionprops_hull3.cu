/* placeholder, replaced below */
#include "gpu/regionprops_cuda.cuh"
tp_status rp_cuda_hull3(rp_call &C)
{
    return tp_error(C.ctx, TP_ERR_UNSUPPORTED, "regionprops_table: 3D convex hull: not yet on the device");
}
