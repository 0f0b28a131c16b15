// gc_nccl_lsa.cuh: kernel-side helpers for NCCL's device API (LSA: load/store access to peers'
// copies of a symmetric window). Include after "gc_nccl_device.h" (supplied in memory by
// RuntimeCompiler.ncclDeviceRequest / NCCLDevice.module). See docs/nccl-device.md.
//
// Pointers
//   gc_lsa_peer<T>(win, offset, peer)   peer's copy of the window at `offset` (peer = world rank,
//                                       which must be in this rank's LSA team); local when peer = rank.
//   gc_lsa_local<T>(win, offset)        this rank's copy.
#pragma once

template <typename T>
__device__ __forceinline__ T* gc_lsa_peer(ncclWindow_t win, size_t offset, int peer) {
    return reinterpret_cast<T*>(ncclGetPeerPointer(win, offset, peer));
}

template <typename T>
__device__ __forceinline__ T* gc_lsa_local(ncclWindow_t win, size_t offset) {
    return reinterpret_cast<T*>(ncclGetLocalPointer(win, offset));
}
