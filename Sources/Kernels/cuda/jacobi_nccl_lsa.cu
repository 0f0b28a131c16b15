// Jacobi with NCCL's device API (LSA): the nccl_lsa variant. Compiled with
// RuntimeCompiler.ncclDeviceRequest (which supplies "gc_nccl_device.h"); includes, from memory,
// "gc_nccl_lsa.cuh", jacobi.cuh (jacobi_rows, block_norm_add, NoRowHook, JBX) and
// jacobi_fused.cuh (BlockPlace, place, the device-side norm).
//
// One symmetric window per rank (ncclMemAlloc, registered with ncclCommWindowRegister, the same
// size on every rank; Swift: LSAWindowLayout) holds both grid buffers, the norm area
// (jacobi_fused.cuh) at norm_offset and the halo flags at flag_offset: u32 flag[2][nbx], zeroed
// once; flag[0][bx] is stored by the top neighbour's block bx that holds its last row,
// flag[1][bx] by the bottom neighbour's block bx that holds its first row. Ranks are world ranks
// and the LSA team must be the whole communicator.
//
// Launch contract
//   gc_jacobi_lsa(a_new, a, norm, iy_start, iy_end, nx, nbx, publish, win, a_new_offset, rank,
//                 nranks, top, top_iy, bottom, flag_offset, epoch, norm_offset, send, assemble, out)
//     1-D grid of nbx * nby stencil blocks of JBX threads plus one service block (the first,
//     jacobi_fused.cuh); plain launch (no block waits
//     for another block of the same kernel). a_new = local window + a_new_offset, a = the other
//     grid buffer, norm = local window + norm_offset. `epoch` = 1, 2, 3, ... per iteration over
//     the life of the window (warm-up included), the same on every rank.
//     1. Blocks holding row iy_start wait until all nbx flag[0] words reach epoch - 1, blocks
//        holding row iy_end - 1 all nbx flag[1] words (the neighbour's previous iteration: its
//        boundary rows have landed in our halos, and it has finished reading its halo rows of
//        a_new, which we now overwrite). All segments, not just the block's own: rows share
//        cache lines (odd nx, segment edges), and a line loaded early by another block of this
//        SM must not hold a stale part of a halo. Relaxed spin, then an acquire fence; then
//        __syncthreads before any thread reads.
//     2. jacobi_rows; a boundary block's threads store each value of row iy_start straight into
//        row top_iy of rank top's a_new and each value of row iy_end - 1 into row 0 of rank
//        bottom's a_new (plain 4-byte stores through the peer pointer, coalesced per warp).
//     3. Boundary blocks: __syncthreads, then thread 0 release-stores (system scope) `epoch` into
//        flag[1][bx] of rank top (first row) / flag[0][bx] of rank bottom (last row).
//     4. The device-side norm of jacobi_fused.cuh with `publish` / `send` / `assemble` tags
//        (0 = none): slots are read locally and written into every rank's window by 64-bit
//        stores; out is the device address of page-locked host memory (GC_NORM_DEPTH words).
//   gc_jacobi_lsa_finish(comm, win, norm, norm_offset, send, assemble, out)
//     One block (any size); comm.lsaBarrierCount >= 1. The block does the service block's work
//     (assemble, then send; either tag may be 0),
//     then an LSA barrier over the team (acq_rel, barrier 0): when it ends on a rank, every
//     rank's kernels before it have ended and their stores are visible. After the last iteration
//     of a run, and as the barrier the host's quiesce needs (e.g. around re-initialising a grid
//     a neighbour stores into).
#include "gc_nccl_device.h"
#include "gc_nccl_lsa.cuh"
#include "gc_common.cuh"
#include "jacobi.cuh"
#include "jacobi_fused.cuh"

struct LSAHaloHook {
    float* top_row;     // rank top's a_new row top_iy
    float* bottom_row;  // rank bottom's a_new row 0
    int iy_start, iy_end;
    // Called only for rows of this block: iy_start only in a first-row block, iy_end-1 only in a last-row block.
    __device__ __forceinline__ void operator()(int iy, int ix, float v) const {
        if (iy == iy_start) top_row[ix] = v;
        if (iy == iy_end - 1) bottom_row[ix] = v;
    }
};

__device__ __forceinline__ void gc_lsa_wait_flags(unsigned* flags, int nbx, unsigned want) {
    for (int b = threadIdx.x; b < nbx; b += blockDim.x) {
        cuda::atomic_ref<unsigned, cuda::thread_scope_system> f(flags[b]);
        while ((int)(f.load(cuda::memory_order_relaxed) - want) < 0) {}
    }
    cuda::atomic_thread_fence(cuda::memory_order_acquire, cuda::thread_scope_system);
}

__device__ __forceinline__ void gc_lsa_set_flag(unsigned* flag, unsigned epoch) {
    cuda::atomic_ref<unsigned, cuda::thread_scope_system> f(*flag);
    f.store(epoch, cuda::memory_order_release);
}

// Rank p's word in our slot for `tag`, once it carries `tag` (or a later one: a broken protocol).
__device__ __forceinline__ u64 gc_lsa_norm_wait(unsigned char* norm, int nranks, unsigned tag, int p) {
    cuda::atomic_ref<u64, cuda::thread_scope_system> w(*gc_norm_slot(norm, nranks, tag, p));
    u64 v;
    while ((int)((unsigned)((v = w.load(cuda::memory_order_relaxed)) >> 32) - tag) < 0) {}
    return v;
}

// The service block (jacobi_fused.cuh; every thread calls it): assemble, then send by 64-bit
// stores into every rank's window.
__device__ __forceinline__ void gc_lsa_norm(ncclWindow_t win, unsigned char* norm, u64 norm_offset, int rank, int nranks,
                                            unsigned publish, unsigned send, unsigned assemble, u64* out) {
    gc_norm_service(
        norm, nranks, publish, send, assemble, out, [&](int p) { return gc_lsa_norm_wait(norm, nranks, assemble, p); },
        [&](u64 word) {
            const size_t slot = norm_offset + GC_NORM_SLOTS + 8ull * ((size_t)(send % GC_NORM_DEPTH) * nranks + rank);
            for (int p = 0; p < nranks; p++) {
                cuda::atomic_ref<u64, cuda::thread_scope_system> w(*gc_lsa_peer<u64>(win, slot, p));
                w.store(word, cuda::memory_order_relaxed);
            }
        });
}

extern "C" __global__ void __launch_bounds__(JBX) gc_jacobi_lsa(float* a_new, const float* a, unsigned char* norm, int iy_start,
                                                                int iy_end, int nx, int nbx, unsigned publish, ncclWindow_t win,
                                                                u64 a_new_offset, int rank, int nranks, int top, int top_iy,
                                                                int bottom, u64 flag_offset, unsigned epoch, u64 norm_offset,
                                                                unsigned send, unsigned assemble, u64* out) {
    if (gc_norm_service_block()) {
        gc_lsa_norm(win, norm, norm_offset, rank, nranks, publish, send, assemble, out);
        return;
    }
    const BlockPlace p = place(iy_start, iy_end, nx, nbx, true);
    const int ix = p.ix;
    float s;
    if (p.first || p.last) {
        unsigned* flags = gc_lsa_local<unsigned>(win, flag_offset);
        if (p.first) gc_lsa_wait_flags(flags, nbx, epoch - 1);
        if (p.last) gc_lsa_wait_flags(flags + nbx, nbx, epoch - 1);
        __syncthreads();  // every thread's halo reads (and peer stores) come after the waits
        const size_t row = (size_t)nx * sizeof(float);
        const LSAHaloHook hook = {gc_lsa_peer<float>(win, a_new_offset + (size_t)top_iy * row, top),
                                  gc_lsa_peer<float>(win, a_new_offset, bottom), iy_start, iy_end};
        s = jacobi_rows(a_new, a, p.row0, p.rend, nx, ix, hook);
        __syncthreads();  // the block's peer stores precede thread 0's release (cumulative)
        if (threadIdx.x == 0) {
            const int bx = p.bx;
            if (p.first) gc_lsa_set_flag(gc_lsa_peer<unsigned>(win, flag_offset + 4ull * (nbx + bx), top), epoch);
            if (p.last) gc_lsa_set_flag(gc_lsa_peer<unsigned>(win, flag_offset + 4ull * bx, bottom), epoch);
        }
    } else {
        s = jacobi_rows(a_new, a, p.row0, p.rend, nx, ix, NoRowHook());
    }
    gc_norm_add(s, norm, nranks, publish);
}

extern "C" __global__ void gc_jacobi_lsa_finish(ncclDevComm comm, ncclWindow_t win, unsigned char* norm, u64 norm_offset,
                                                unsigned send, unsigned assemble, u64* out) {
    gc_lsa_norm(win, norm, norm_offset, comm.rank, comm.nRanks, 0, send, assemble, out);
    ncclLsaBarrierSession<ncclCoopCta> bar(ncclCoopCta(), comm, ncclTeamLsa(comm), comm.lsaBarrier, 0);
    bar.sync(ncclCoopCta(), cuda::memory_order_acq_rel);
}
