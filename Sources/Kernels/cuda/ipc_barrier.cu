// A barrier among the processes (or the GPUs of one process) of one host over flags every GPU
// can store to, enqueued on a stream: what the copy-engine all-to-alls (alltoall --backends
// cuda-ce, and cuda-ce-1p with --copy-sync flags) run around their copies; and the SM copy
// cuda-ce-1p runs for a GPU's own block with --copy-local sm.
// Compiled by NVRTC; includes gc_common.cuh (from memory).
//
// Launch contract
//   gc_ipc_barrier_next(const u64* flags_of, u64* mine, int me, int npes, u64* count)
//     flags_of[p] (device array of npes addresses) is PE p's flag array (npes u64) as mapped in
//     this process (flags_of[me] == mine); `*count` (this PE's, 0 at the start) holds the last
//     epoch: the kernel uses *count + 1 and stores it back when it ends, so successive calls use
//     1, 2, 3, ..., the same on every PE, and it takes no per-call argument (its arguments are
//     built once; a CUDA graph can replay it). One block of at least npes threads. Thread p
//     release-stores the epoch into slot `me` of PE p's flags, then spins until slot p of its
//     own flags is at least the epoch (acquire). Everything this PE's stream completed before
//     the kernel (copies into peers included) is visible to a peer once it sees the flag: the
//     system-scope fence and release store order it. When the kernel ends, every PE has reached
//     this call.
//
//   gc_copy16(w16* dst, const w16* src, u64 n16)
//     Copies n16 16-byte words (both pointers 16-byte aligned), any grid, grid-stride, four
//     loads in flight per thread (gc_copy16_in_flight).
#include "gc_common.cuh"

__device__ __forceinline__ void gc_barrier_slot(const u64* flags_of, u64* mine, int me, int p, u64 epoch) {
    u64* slot = (u64*)flags_of[p] + me;
    __threadfence_system();
    gc_st_release_sys(slot, epoch);
    u64 seen;
    do {
        seen = gc_ld_acquire_sys(mine + p);
    } while (seen < epoch);
}

extern "C" __global__ void gc_ipc_barrier_next(const u64* flags_of, u64* mine, int me, int npes, u64* count) {
    const u64 epoch = *count + 1;  // every thread reads it before thread 0 stores it back
    __syncthreads();
    if (threadIdx.x < npes) gc_barrier_slot(flags_of, mine, me, threadIdx.x, epoch);
    __syncthreads();
    if (threadIdx.x == 0) *count = epoch;
}

struct __align__(16) w16 { unsigned x, y, z, w; };

extern "C" __global__ void gc_copy16(w16* dst, const w16* src, u64 n16) {
    const u64 stride = (u64)gridDim.x * blockDim.x;
    const u64 first = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    gc_copy16_in_flight<4>(dst, src, n16, first, stride);
}
