// All-to-all through NCCL's device API (LSA): every rank stores its blocks straight into the
// peers' receive regions of one symmetric window. Compiled with RuntimeCompiler.ncclDeviceRequest
// (which supplies "gc_nccl_device.h"); "gc_nccl_lsa.cuh", "gc_common.cuh" and "gc_constants.cuh"
// come from memory with the source (KernelSources.ncclLSAAlltoall).
//
// Launch contract (both kernels)
//   gc_lsa_alltoall_basic / gc_lsa_alltoall_opt
//       (ncclDevComm comm, ncclWindow_t win, u64 sendOffset, u64 recvOffset, u64 chunk)
//   grid: `blocks` blocks of GC_A2A_THREADS threads (gc_constants.cuh; Swift:
//   NCCLDeviceAlltoall.threadsPerBlock), blocks <= the devcomm's lsaBarrierCount and small enough
//   to be resident at once (block b's barrier waits for block b of every peer); every rank
//   launches the same grid. The LSA team must be the whole communicator (lsaSize == nRanks).
//   Rank r's send region (win + sendOffset) holds nRanks chunks of `chunk` bytes; chunk p is stored
//   at win + recvOffset + r * chunk on rank p. When the kernel has ended on a rank, everything the
//   peers sent it is in its receive region (barrier after the copies, acquire/release).
//   basic: all blocks copy to one peer at a time (peers in order from rank + 1), 16-byte words when
//          chunk % 16 == 0, else bytes.  (Like nccl-tests' device-API all-to-all "-D 1".)
//   opt:   blocks split across peers (block b serves peer (rank + 1 + b % nRanks) % nRanks), all peers
//          at once, 16-byte words with 4 loads in flight per thread.  (Like "-D 2".)
#include "gc_nccl_device.h"
#include "gc_nccl_lsa.cuh"
#include "gc_common.cuh"
#include "gc_constants.cuh"

#define GC_A2A_UNROLL 4

// Copies this thread's share (thread t of `nthreads`) of `bytes` from src to dst.
__device__ __forceinline__ void gc_copy_share(char* dst, const char* src, u64 bytes, u64 t, u64 nthreads, bool unroll) {
    if ((bytes & 15) == 0) {
        const uint4* s = reinterpret_cast<const uint4*>(src);
        uint4* d = reinterpret_cast<uint4*>(dst);
        const u64 n = bytes / 16;
        if (unroll) gc_copy16_in_flight<GC_A2A_UNROLL, true>(d, s, n, t, nthreads);
        else gc_copy16_in_flight<1, true>(d, s, n, t, nthreads);
    } else {
        for (u64 i = t; i < bytes; i += nthreads) dst[i] = src[i];
    }
}

extern "C" __global__ void __launch_bounds__(GC_A2A_THREADS)
gc_lsa_alltoall_basic(ncclDevComm comm, ncclWindow_t win, u64 sendOffset, u64 recvOffset, u64 chunk) {
    ncclLsaBarrierSession<ncclCoopCta> bar(ncclCoopCta(), comm, ncclTeamLsa(comm), comm.lsaBarrier, blockIdx.x);
    // Peers' earlier use of their receive regions ended with their previous kernels: no data to order.
    bar.sync(ncclCoopCta(), cuda::memory_order_relaxed);
    const int n = comm.nRanks, rank = comm.rank;
    const char* send = gc_lsa_local<const char>(win, sendOffset);
    for (int i = 1; i <= n; i++) {
        int peer = (rank + i) % n;
        char* dst = reinterpret_cast<char*>(ncclGetPeerPointer(win, recvOffset + (u64)rank * chunk, peer));
        gc_copy_share(dst, send + (u64)peer * chunk, chunk, (u64)blockIdx.x * blockDim.x + threadIdx.x,
                      (u64)gridDim.x * blockDim.x, false);
    }
    // Release our stores to the peers, acquire theirs to us.
    bar.sync(ncclCoopCta(), cuda::memory_order_acq_rel);
}

extern "C" __global__ void __launch_bounds__(GC_A2A_THREADS)
gc_lsa_alltoall_opt(ncclDevComm comm, ncclWindow_t win, u64 sendOffset, u64 recvOffset, u64 chunk) {
    ncclLsaBarrierSession<ncclCoopCta> bar(ncclCoopCta(), comm, ncclTeamLsa(comm), comm.lsaBarrier, blockIdx.x);
    bar.sync(ncclCoopCta(), cuda::memory_order_relaxed);
    const int n = comm.nRanks, rank = comm.rank;
    const char* send = gc_lsa_local<const char>(win, sendOffset);
    // With at least n blocks, block b serves peer slot b % n together with the other blocks of
    // that slot; with fewer, block b serves slots b, b + blocks, ... alone.
    int first, step; u64 member, members;
    if ((int)gridDim.x >= n) {
        first = blockIdx.x % n; step = n; member = blockIdx.x / n; members = (gridDim.x - first + n - 1) / n;
    } else {
        first = blockIdx.x; step = gridDim.x; member = 0; members = 1;
    }
    for (int i = first; i < n; i += step) {
        int peer = (rank + 1 + i) % n;
        char* dst = reinterpret_cast<char*>(ncclGetPeerPointer(win, recvOffset + (u64)rank * chunk, peer));
        gc_copy_share(dst, send + (u64)peer * chunk, chunk, member * blockDim.x + threadIdx.x, members * blockDim.x, true);
    }
    bar.sync(ncclCoopCta(), cuda::memory_order_acq_rel);
}
