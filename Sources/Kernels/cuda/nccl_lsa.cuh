// gc_nccl_lsa.cuh: kernel-side helpers for NCCL's device API (LSA: load/store access to peers'
// copies of a symmetric window). Include after "gc_nccl_device.h" (supplied in memory by
// RuntimeCompiler.ncclDeviceRequest / NCCLDevice.module). See docs/nccl-device.md.
//
// Pointers
//   gc_lsa_peer<T>(win, offset, peer)   peer's copy of the window at `offset` (peer = world rank,
//                                       which must be in this rank's LSA team); local when peer = rank.
//   gc_lsa_local<T>(win, offset)        this rank's copy.
// Neighbour signals (a barrier among a few peers, not the whole team)
//   Flag slots: uint32 words in the window at flagOffset, slot (index, src) at
//   flagOffset + 4 * (index * nRanks + src); zero them before first use (e.g. cuMemsetD8 + a host
//   barrier across ranks). `index` separates independent users (e.g. one per block); `epoch` is
//   a counter the caller increments once per use (e.g. the iteration number + 1), the same on all ranks.
//   gc_lsa_signal(win, flagOffset, nRanks, rank, index, peer, epoch)
//       one thread: release-stores `epoch` into peer's slot (index, rank). Every write this block
//       made before a __syncthreads() that precedes the call is visible to the peer once it sees the flag.
//   gc_lsa_wait(win, flagOffset, nRanks, index, peer, epoch)
//       one thread: spins until this rank's slot (index, peer) reaches `epoch` (acquire, wrap-safe).
//   gc_lsa_neighbour_sync(win, flagOffset, nRanks, rank, index, peers, nPeers, epoch)
//       whole block: __syncthreads, signal every peer in peers[0..nPeers), wait for each, __syncthreads.
#pragma once

template <typename T>
__device__ __forceinline__ T* gc_lsa_peer(ncclWindow_t win, size_t offset, int peer) {
    return reinterpret_cast<T*>(ncclGetPeerPointer(win, offset, peer));
}

template <typename T>
__device__ __forceinline__ T* gc_lsa_local(ncclWindow_t win, size_t offset) {
    return reinterpret_cast<T*>(ncclGetLocalPointer(win, offset));
}

__device__ __forceinline__ void gc_lsa_signal(ncclWindow_t win, size_t flagOffset, int nRanks, int rank, int index, int peer,
                                              unsigned int epoch) {
    unsigned int* slot = gc_lsa_peer<unsigned int>(win, flagOffset + 4ull * ((size_t)index * nRanks + rank), peer);
    cuda::atomic_ref<unsigned int, cuda::thread_scope_system> f(*slot);
    f.store(epoch, cuda::memory_order_release);
}

__device__ __forceinline__ void gc_lsa_wait(ncclWindow_t win, size_t flagOffset, int nRanks, int index, int peer, unsigned int epoch) {
    unsigned int* slot = gc_lsa_local<unsigned int>(win, flagOffset + 4ull * ((size_t)index * nRanks + peer));
    cuda::atomic_ref<unsigned int, cuda::thread_scope_system> f(*slot);
    while ((int)(f.load(cuda::memory_order_acquire) - epoch) < 0) {}
}

__device__ __forceinline__ void gc_lsa_neighbour_sync(ncclWindow_t win, size_t flagOffset, int nRanks, int rank, int index,
                                                      const int* peers, int nPeers, unsigned int epoch) {
    __syncthreads();
    if (threadIdx.x < nPeers) gc_lsa_signal(win, flagOffset, nRanks, rank, index, peers[threadIdx.x], epoch);
    if (threadIdx.x < nPeers) gc_lsa_wait(win, flagOffset, nRanks, index, peers[threadIdx.x], epoch);
    __syncthreads();
}
