// NVSHMEM Jacobi kernels. Includes jacobi.cuh (jacobi_rows, block_norm_add, NoRowHook, JBX) and
// jacobi_fused.cuh (BlockPlace, place, the device-side norm), from memory. Compiled by NVRTC with
// -rdc -dlto -default-device and linked with libnvshmem_device.a by nvJitLink.
//
// Launch contract (all: 1-D grid of nbx * nby blocks of JBX threads, as gc_jacobi; a_new and a
// symmetric (nvshmem_malloc) and swapped in step on every PE; plain cuLaunchKernel)
//   gc_jacobi_shmem_p(a_new, a, norm, iy_start, iy_end, nx, nbx, calc_norm, top_pe, top_iy,
//                     bottom_pe)
//     gc_jacobi, and every element of row iy_start is also stored into row top_iy of top_pe's
//     a_new, every element of row iy_end-1 into row 0 of bottom_pe's a_new, one
//     nvshmem_float_p each. The host orders iterations with nvshmemx_barrier_all_on_stream.
//   gc_jacobi_shmem_block(same arguments)
//     gc_jacobi, then each block holding row iy_start (iy_end-1) sends its column segment (BlockPlace) of
//     that row with one nvshmemx_float_put_nbi_block. Host orders with barrier_all_on_stream.
//   gc_jacobi_shmem_opt(a_new, a, norm, iy_start, iy_end, nx, nbx, publish, top_pe, top_iy,
//                       bottom_pe, u64* sig, u64 wait, unsigned send, unsigned assemble, u64* out)
//     Grid: nbx * nby stencil blocks plus one service block (the first; jacobi_fused.cuh).
//     sig is symmetric: sig[0] counts segments received from the top neighbour, sig[1] from the
//     bottom one. Blocks holding row iy_start first wait until sig[0] >= wait, blocks holding
//     iy_end-1 until sig[1] >= wait (wait = nbx * iterations done before this one: the
//     neighbour's previous iteration has landed in our halo, and it has finished reading the
//     halo we are about to overwrite). Then gc_jacobi, then each boundary block sends its
//     segment (nvshmemx_float_put_nbi_block, nvshmem_fence by every thread, barrier, then one
//     thread's nvshmemx_signal_op adds 1 to sig[1] on top_pe, to sig[0] on bottom_pe).
//     No global barrier: each PE waits only for its two neighbours.
//     The norm is jacobi_fused.cuh's device-side protocol: norm is this PE's symmetric norm area
//     (16 + 8 * GC_NORM_DEPTH * npes bytes), publish / send / assemble the tags (0 = none), out the
//     device address of page-locked host memory (GC_NORM_DEPTH words). Slots are written with nvshmemx_signal_op(SET) to every
//     PE and waited for with nvshmem_signal_wait_until(GE, tag << 32).
//   gc_jacobi_shmem_norm_finish(norm, send, assemble, out)
//     One block (any size): the service block's work (assemble, then send) after the last iteration of a run. The host follows it with nvshmemx_barrier_all_on_stream.

#include "nvshmem_prelude.cuh"
#include "gc_common.cuh"
#include "jacobi.cuh"
#include "jacobi_fused.cuh"

// The bottom neighbour's halo row is its row 0.
struct ShmemPHook {
    float* a_new;
    int iy_start, iy_end, nx, top_pe, top_iy, bottom_pe;
    __device__ __forceinline__ void operator()(int iy, int ix, float v) const {
        if (iy == iy_start) nvshmem_float_p(a_new + (size_t)top_iy * nx + ix, v, top_pe);
        if (iy == iy_end - 1) nvshmem_float_p(a_new + ix, v, bottom_pe);
    }
};

extern "C" __global__ void __launch_bounds__(JBX) gc_jacobi_shmem_p(float* a_new, const float* a, float* norm, int iy_start,
                                                                    int iy_end, int nx, int nbx, int calc_norm, int top_pe,
                                                                    int top_iy, int bottom_pe) {
    const int bx = blockIdx.x % nbx, by = blockIdx.x / nbx;
    const int ix = jacobi_col(bx, nx);
    const ShmemPHook hook = {a_new, iy_start, iy_end, nx, top_pe, top_iy, bottom_pe};
    int row0, rend;
    jacobi_block_rows(by, gridDim.x / nbx, iy_start, iy_end, &row0, &rend);
    const float s = jacobi_rows(a_new, a, row0, rend, nx, ix, hook);
    if (calc_norm) block_norm_add(s, norm);
}

// A boundary block's column segment (BlockPlace) of its boundary rows, one block put each: row
// iy_start into row top_iy of top_pe's a_new, row iy_end - 1 into row 0 of bottom_pe's.
__device__ __forceinline__ void gc_shmem_put_boundary(float* a_new, const BlockPlace& p, int iy_start, int iy_end, int nx,
                                                      int top_pe, int top_iy, int bottom_pe) {
    if (p.first) nvshmemx_float_put_nbi_block(a_new + (size_t)top_iy * nx + p.x0, a_new + (size_t)iy_start * nx + p.x0, p.n, top_pe);
    if (p.last) nvshmemx_float_put_nbi_block(a_new + p.x0, a_new + (size_t)(iy_end - 1) * nx + p.x0, p.n, bottom_pe);
}

extern "C" __global__ void __launch_bounds__(JBX) gc_jacobi_shmem_block(float* a_new, const float* a, float* norm, int iy_start,
                                                                        int iy_end, int nx, int nbx, int calc_norm, int top_pe,
                                                                        int top_iy, int bottom_pe) {
    const BlockPlace p = place(iy_start, iy_end, nx, nbx);
    const float s = jacobi_rows(a_new, a, p.row0, p.rend, nx, p.ix, NoRowHook());
    __syncthreads();  // the block's stores to a_new are done before it sends them
    gc_shmem_put_boundary(a_new, p, iy_start, iy_end, nx, top_pe, top_iy, bottom_pe);
    if (calc_norm) block_norm_add(s, norm);
}

// The service block (jacobi_fused.cuh; every thread calls it): assemble, then send through signal ops.
__device__ __forceinline__ void gc_shmem_norm(unsigned char* norm, unsigned publish, unsigned send, unsigned assemble, u64* out) {
    const int npes = nvshmem_n_pes(), me = nvshmem_my_pe();
    gc_norm_service(
        norm, npes, publish, send, assemble, out,
        [&](int p) {
            return (u64)nvshmem_signal_wait_until((uint64_t*)gc_norm_slot(norm, npes, assemble, p), NVSHMEM_CMP_GE, (u64)assemble << 32);
        },
        [&](u64 word) {
            uint64_t* slot = (uint64_t*)gc_norm_slot(norm, npes, send, me);
            for (int p = 0; p < npes; p++) nvshmemx_signal_op(slot, word, NVSHMEM_SIGNAL_SET, p);
        });
}

extern "C" __global__ void __launch_bounds__(JBX) gc_jacobi_shmem_opt(float* a_new, const float* a, unsigned char* norm, int iy_start,
                                                                      int iy_end, int nx, int nbx, unsigned publish, int top_pe,
                                                                      int top_iy, int bottom_pe,
                                                                      unsigned long long* sig, unsigned long long wait,
                                                                      unsigned send, unsigned assemble, u64* out) {
    if (gc_norm_service_block()) {
        gc_shmem_norm(norm, publish, send, assemble, out);
        return;
    }
    const BlockPlace p = place(iy_start, iy_end, nx, nbx, true);
    if (threadIdx.x == 0 && (p.first || p.last)) {
        if (p.first) nvshmem_signal_wait_until((uint64_t*)sig, NVSHMEM_CMP_GE, wait);
        if (p.last) nvshmem_signal_wait_until((uint64_t*)sig + 1, NVSHMEM_CMP_GE, wait);
        __threadfence();
    }
    __syncthreads();  // the halo rows have landed before any thread of the block reads them
    const float s = jacobi_rows(a_new, a, p.row0, p.rend, nx, p.ix, NoRowHook());
    __syncthreads();  // the block's stores to a_new (and its reads of the halo) are done before it sends
    // Data, then the signal. nvshmemx_float_put_signal_nbi_block needs a block-scope transfer that
    // libnvshmem_device.a 3.4.5 lacks (undefined nvshmemi_transfer_put_signal<block> at link).
    gc_shmem_put_boundary(a_new, p, iy_start, iy_end, nx, top_pe, top_iy, bottom_pe);
    if (p.first || p.last) {
        nvshmem_fence();  // every thread: its part of the block put is ordered before the signal
        __syncthreads();
        if (threadIdx.x == 0) {
            if (p.first) nvshmemx_signal_op((uint64_t*)sig + 1, 1, NVSHMEM_SIGNAL_ADD, top_pe);
            if (p.last) nvshmemx_signal_op((uint64_t*)sig, 1, NVSHMEM_SIGNAL_ADD, bottom_pe);
        }
    }
    gc_norm_add(s, norm, nvshmem_n_pes(), publish);
}

extern "C" __global__ void gc_jacobi_shmem_norm_finish(unsigned char* norm, unsigned send, unsigned assemble, u64* out) {
    if (blockIdx.x == 0) gc_shmem_norm(norm, 0, send, assemble, out);
}
