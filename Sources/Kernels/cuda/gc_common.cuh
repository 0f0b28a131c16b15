// gc_common.cuh: what gpucomm's kernels share. Given to NVRTC from memory (KernelSources resolves
// `#include "gc_common.cuh"`); needs no other header, so it may be included anywhere.
//
// Typedefs
//   u64, i64, u32                          unsigned/signed 64-bit, unsigned 32-bit integers
// 16-byte copy
//   gc_copy16_in_flight<UNROLL[, LDG]>(dst, src, n, first, stride)
//                                          dst[i] = src[i] for i = first, first + stride, ... < n
//                                          (16-byte words), UNROLL loads in flight per thread
// Acquire / release (system scope, global memory)
//   gc_st_release_sys(p, v)                st.release.sys.global.u64
//   gc_ld_acquire_sys(p)                   ld.acquire.sys.global.u64
#pragma once

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;

// One 16-byte word from p: a plain load, or (LDG) through the read-only data cache (__ldg; W must
// then be one of CUDA's vector types, e.g. uint4).
template <bool LDG, class W>
__device__ __forceinline__ W gc_load16(const W* p) {
    if constexpr (LDG) return __ldg(p);
    else return *p;
}

// Copies the 16-byte words i = first, first + stride, first + 2 * stride, ... < n from src to dst
// (W: a 16-byte, 16-byte-aligned type; both pointers 16-byte aligned). UNROLL words at a time: all
// UNROLL loads are issued before any of their stores, so each thread keeps UNROLL loads in flight
// (one is not enough to fill NVLink or HBM); the words left over go one at a time (UNROLL 1: only
// that loop). The caller picks first and stride (a thread's index and the thread count of the
// grid, of a block, or of a group of blocks); S, the stride's type, sets the width of the index
// arithmetic (unsigned for blockDim.x: 32-bit products, as the kernels computed them before).
template <int UNROLL, bool LDG = false, class W, class S>
__device__ __forceinline__ void gc_copy16_in_flight(W* dst, const W* src, u64 n, u64 first, S stride) {
    u64 i = first;
    if constexpr (UNROLL > 1) {
        for (; i + (UNROLL - 1) * stride < n; i += UNROLL * stride) {
            W v[UNROLL];
#pragma unroll
            for (int k = 0; k < UNROLL; k++) v[k] = gc_load16<LDG>(src + (i + k * stride));
#pragma unroll
            for (int k = 0; k < UNROLL; k++) dst[i + k * stride] = v[k];
        }
    }
    for (; i < n; i += stride) dst[i] = gc_load16<LDG>(src + i);
}

// Release-stores v into *p at system scope: everything this thread did (and observed) before is
// visible to a thread of any GPU or the host that acquires the value. p must be a global address.
__device__ __forceinline__ void gc_st_release_sys(u64* p, u64 v) {
    asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

// Acquire-loads *p at system scope: what the storing thread released is visible after it.
__device__ __forceinline__ u64 gc_ld_acquire_sys(const u64* p) {
    u64 v;
    asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}
