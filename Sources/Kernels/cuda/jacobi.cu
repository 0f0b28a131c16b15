// 2-D Jacobi (Laplace, 5-point) kernels, float. Compiled by NVRTC; includes jacobi.cuh (the device
// functions, which jacobi_nvshmem.cu and jacobi_nccl_lsa.cu include too), from memory.
//
// Grid layout (as NVIDIA/multi-gpu-programming-models' NCCL samples): a rank's buffer holds
// rows 0 .. chunk+1 of nx floats; row 0 and row chunk+1 are halos, rows 1 .. chunk are its
// share of the global interior rows 1 .. ny-2. Columns 0 and nx-1 are fixed (Dirichlet,
// sin(2*pi*y/(ny-1))); top and bottom are periodic (halo neighbours wrap around).
//
// Launch contract
//   gc_jacobi_init(float* a, float* a_new, int offset, int nx, int rows, int ny)
//     for local rows 0 .. rows-1 (global row offset + iy) sets columns 0 and nx-1 of both
//     buffers to sin(2*pi*(offset+iy)/(ny-1)). Grid-stride over rows; any grid and block.
//   gc_jacobi(float* a_new, const float* a, float* norm, int iy_start, int iy_end, int nx,
//             int nbx, int calc_norm)
//     a_new[iy][ix] = 0.25f * (((a[iy][ix+1] + a[iy][ix-1]) + a[iy+1][ix]) + a[iy-1][ix]) for
//     iy in [iy_start, iy_end), ix in [1, nx-2]. 1-D grid of nbx * nby blocks, block size
//     JBX (gc_constants.cuh: StencilKernels.blockX, 128); the nby = gridDim.x / nbx block rows share [iy_start, iy_end) evenly, block b
//     taking block row b / nbx (jacobi_block_rows). When nx % 4 == 0 each thread updates 4 adjacent columns with
//     16-byte loads and stores (block b covers columns 4 * (b % nbx) * JBX ..., nbx =
//     ceil(nx / (4 * JBX))); otherwise one column (block b covers columns 1 + (b % nbx) * JBX ...,
//     nbx = ceil((nx-2)/JBX), JUNROLL rows' loads in flight at once). Each thread walks down the
//     block's rows keeping the rows above and at iy in registers (one new load of a per element
//     from DRAM). With calc_norm != 0 adds sum((a_new - a)^2) over the block's elements to
//     *norm: warp shuffles, one atomicAdd per block. Every variant uses this same expression, so
//     results are bit-identical across variants.
//   gc_jacobi_count_wrong(const float* x, const float* ref, u64 n, float tol, u64* wrong)
//     adds to *wrong the number of j < n with !(|x[j] - ref[j]| <= tol) (NaN counts as wrong).
//     Grid-stride; block size GC_COUNT_WRONG_THREADS (gc_constants.cuh: StencilKernels.countWrongThreads, 256).

#include "jacobi.cuh"

extern "C" __global__ void gc_jacobi_init(float* a, float* a_new, int offset, int nx, int rows, int ny) {
    const float pi = 3.14159265358979323846f;
    for (int iy = blockIdx.x * blockDim.x + threadIdx.x; iy < rows; iy += blockDim.x * gridDim.x) {
        const float y0 = (float)sin(2.0 * (double)pi * (double)(offset + iy) / (double)(ny - 1));
        a[(size_t)iy * nx] = y0;
        a[(size_t)iy * nx + nx - 1] = y0;
        a_new[(size_t)iy * nx] = y0;
        a_new[(size_t)iy * nx + nx - 1] = y0;
    }
}

extern "C" __global__ void __launch_bounds__(JBX) gc_jacobi(float* a_new, const float* a, float* norm, int iy_start, int iy_end,
                                                            int nx, int nbx, int calc_norm) {
    const int bx = blockIdx.x % nbx, by = blockIdx.x / nbx;
    int row0, rend;
    jacobi_block_rows(by, gridDim.x / nbx, iy_start, iy_end, &row0, &rend);
    const float s = jacobi_rows(a_new, a, row0, rend, nx, jacobi_col(bx, nx), NoRowHook());
    if (calc_norm) block_norm_add(s, norm);
}

extern "C" __global__ void __launch_bounds__(GC_COUNT_WRONG_THREADS) gc_jacobi_count_wrong(const float* x, const float* ref, u64 n, float tol, u64* wrong) {
    u64 bad = 0;
    for (u64 j = (u64)blockIdx.x * blockDim.x + threadIdx.x; j < n; j += (u64)blockDim.x * gridDim.x) {
        if (!(fabsf(x[j] - ref[j]) <= tol)) bad++;
    }
    for (int o = 16; o > 0; o >>= 1) bad += __shfl_down_sync(0xffffffffu, bad, o);
    __shared__ u64 sums[GC_COUNT_WRONG_THREADS / 32];
    if ((threadIdx.x & 31) == 0) sums[threadIdx.x >> 5] = bad;
    __syncthreads();
    if (threadIdx.x == 0) {
        u64 t = 0;
        for (int w = 0; w < GC_COUNT_WRONG_THREADS / 32; w++) t += sums[w];
        if (t) atomicAdd(wrong, t);
    }
}
