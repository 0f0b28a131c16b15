// jacobi.cuh: the Jacobi stencil's device functions, shared by jacobi.cu, jacobi_nvshmem.cu and
// jacobi_nccl_lsa.cu (each includes it; given to NVRTC from memory). Grid layout and the stencil
// expression: jacobi.cu's launch contract.
//
//   jacobi_rows(a_new, a, row0, rend, nx, ix, hook)   this thread's columns of rows [row0, rend);
//                                                     returns its squared residue
//   jacobi_col(bx, nx), jacobi_vec(nx)                 the thread's first column, columns per thread
//   jacobi_block_rows(by, nby, iy_start, iy_end, ...)  block row by's rows
//   warp_sum, block_sum, block_norm_add                 residue reductions
//   NoRowHook                                          the hook that does nothing
//
// JBX (threads per block) and JUNROLL (rows per unrolled step of the one-column path) come from
// gc_constants.cuh, generated from Swift (KernelConstants: StencilKernels.blockX); `gpucomm
// _stencil-tune` generates it with other values. Rows per block follow from the grid the host
// launches (jacobi_block_rows).
#pragma once
#include "gc_common.cuh"
#include "gc_constants.cuh"

struct NoRowHook {
    __device__ __forceinline__ void operator()(int, int, float) const {}
};

// One column per thread (any nx): updates column ix for rows [row0, rend).
// JUNROLL rows at a time: their loads (the row below, left and right neighbours) are all issued
// before any is used, so each thread keeps JUNROLL DRAM loads in flight instead of one. The
// arithmetic per element and the order of the residue sum are those of the one-row loop.
template <class Hook>
__device__ __forceinline__ float jacobi_rows1(float* __restrict__ a_new, const float* __restrict__ a, int row0, int rend,
                                             int nx, int ix, const Hook& hook) {
    float sum = 0.0f;
    if (ix >= nx - 1 || row0 >= rend) return sum;
    float up = a[(size_t)(row0 - 1) * nx + ix];
    float cur = a[(size_t)row0 * nx + ix];
    int iy = row0;
    for (; iy + JUNROLL <= rend; iy += JUNROLL) {
        float down[JUNROLL], left[JUNROLL], right[JUNROLL];
#pragma unroll
        for (int k = 0; k < JUNROLL; ++k) {
            const size_t i = (size_t)(iy + k) * nx + ix;
            down[k] = a[i + nx];
            left[k] = a[i - 1];
            right[k] = a[i + 1];
        }
#pragma unroll
        for (int k = 0; k < JUNROLL; ++k) {
            const size_t i = (size_t)(iy + k) * nx + ix;
            const float v = 0.25f * (((right[k] + left[k]) + down[k]) + up);
            a_new[i] = v;
            hook(iy + k, ix, v);
            const float r = v - cur;
            sum += r * r;
            up = cur;
            cur = down[k];
        }
    }
    for (; iy < rend; ++iy) {
        const size_t i = (size_t)iy * nx + ix;
        const float down = a[i + nx];
        const float v = 0.25f * (((a[i + 1] + a[i - 1]) + down) + up);
        a_new[i] = v;
        hook(iy, ix, v);
        const float r = v - cur;
        sum += r * r;
        up = cur;
        cur = down;
    }
    return sum;
}

// Four columns per thread (nx % 4 == 0): updates columns ix ... ix + 3 (ix % 4 == 0) with 16-byte
// loads and stores of a whole row segment; the left and right neighbours of the four come from
// two 4-byte loads (cache hits). Columns 0 and nx-1 are stored with their (fixed) value
// unchanged and add nothing to the residue; the hook is not called for them. Measured on H200
// (gpucomm _stencil-tune, 16384²): 88% of the copy ceiling, against 74-78% for jacobi_rows1.
template <class Hook>
__device__ __forceinline__ float jacobi_rows4(float* __restrict__ a_new, const float* __restrict__ a, int row0, int rend,
                                              int nx, int ix, const Hook& hook) {
    float sum = 0.0f;
    if (ix >= nx || row0 >= rend) return sum;
    const size_t w = (size_t)nx / 4;
    const float4* A = reinterpret_cast<const float4*>(a);
    float4* N = reinterpret_cast<float4*>(a_new);
    size_t q = (size_t)row0 * w + ix / 4;
    float4 up = A[q - w], cur = A[q];
    const bool first = ix == 0, last = ix + 4 == nx;
    for (int iy = row0; iy < rend; ++iy, q += w) {
        const float4 dn = A[q + w];
        const float l = first ? 0.0f : a[q * 4 - 1];
        const float r = last ? 0.0f : a[q * 4 + 4];
        float4 v;
        v.x = first ? cur.x : 0.25f * (((cur.y + l) + dn.x) + up.x);
        v.y = 0.25f * (((cur.z + cur.x) + dn.y) + up.y);
        v.z = 0.25f * (((cur.w + cur.y) + dn.z) + up.z);
        v.w = last ? cur.w : 0.25f * (((r + cur.z) + dn.w) + up.w);
        N[q] = v;
        if (!first) hook(iy, ix, v.x);
        hook(iy, ix + 1, v.y);
        hook(iy, ix + 2, v.z);
        if (!last) hook(iy, ix + 3, v.w);
        const float rx = v.x - cur.x, ry = v.y - cur.y, rz = v.z - cur.z, rw = v.w - cur.w;
        sum += rx * rx;
        sum += ry * ry;
        sum += rz * rz;
        sum += rw * rw;
        up = cur;
        cur = dn;
    }
    return sum;
}

// Columns per thread for a row of nx floats: 4 when rows are 16-byte aligned, else 1.
__device__ __forceinline__ int jacobi_vec(int nx) { return (nx & 3) == 0 ? 4 : 1; }

// The first column of this thread's columns in block column bx (the host's blocksX(nx:) gives
// nbx: ceil(nx / (4 * JBX)) with 4 columns per thread, ceil((nx - 2) / JBX) with 1).
__device__ __forceinline__ int jacobi_col(int bx, int nx) {
    return jacobi_vec(nx) == 4 ? 4 * (bx * JBX + threadIdx.x) : bx * JBX + threadIdx.x + 1;
}

// Updates this thread's columns (first column ix, from jacobi_col) for rows [row0, rend);
// returns the local squared residue. `hook(iy, ix, value)` is
// called for every interior element written (NVSHMEM per-element puts, LSA peer stores). The
// same expression, 0.25f * (((right + left) + down) + up), in both paths: results are
// bit-identical whichever path and variant computes them.
template <class Hook>
__device__ __forceinline__ float jacobi_rows(float* __restrict__ a_new, const float* __restrict__ a, int row0, int rend,
                                             int nx, int ix, const Hook& hook) {
    return jacobi_vec(nx) == 4 ? jacobi_rows4(a_new, a, row0, rend, nx, ix, hook) : jacobi_rows1(a_new, a, row0, rend, nx, ix, hook);
}

// The rows [*row0, *rend) of block row `by` of `nby`, which share [iy_start, iy_end) evenly (the
// host sizes the grid: StencilKernels.grid).
__device__ __forceinline__ void jacobi_block_rows(int by, int nby, int iy_start, int iy_end, int* row0, int* rend) {
    const int per = (iy_end - iy_start + nby - 1) / nby;
    *row0 = iy_start + by * per;
    *rend = min(*row0 + per, iy_end);
}

// Warp-wide sum of s, returned to lane 0. Every lane of the warp must call it.
__device__ __forceinline__ float warp_sum(float s) {
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    return s;
}

// Block-wide sum of s, returned to thread 0 (other threads get a partial sum). Every thread of the
// block must call it, at most once per kernel (it uses one shared array).
__device__ __forceinline__ float block_sum(float s) {
    __shared__ float warp_sums[32];
    s = warp_sum(s);
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) warp_sums[w] = s;
    __syncthreads();
    if (w == 0) s = warp_sum(lane < (int)(blockDim.x >> 5) ? warp_sums[lane] : 0.0f);
    return s;
}

// Block-wide sum of s, added to *norm by one atomicAdd. Every thread of the block must call it.
__device__ __forceinline__ void block_norm_add(float s, float* norm) {
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(norm, s);
}
