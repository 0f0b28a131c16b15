// NVSHMEM put bandwidth kernels (device-initiated). Compiled by NVRTC with -rdc -dlto
// -default-device and linked with libnvshmem_device.a by nvJitLink.
//
// Launch contract
//   gc_put_<scope>(char* dst, const char* src, u64 bytes, int peer, int iters, int blocking)
//     dst and src are symmetric (nvshmem_malloc). The bytes are split into equal contiguous chunks,
//     one per block (scope block), per warp (scope warp) or per thread (scope thread); each unit puts
//     its chunk to `peer` `iters` times, blocking (nvshmem[x]_putmem[_block|_warp]) or not (_nbi),
//     then every thread calls nvshmem_quiet. Any grid; block size a multiple of 32. Plain
//     cuLaunchKernel (no device-side barrier inside, so no cooperative launch needed).

// NVSHMEM 3.3/3.4 headers use std::is_signed/is_unsigned/is_integral, which NVRTC's libc++-less
// environment lacks: alias them from libcu++ (can go once only NVSHMEM >= 3.8 is supported).
#include <cuda/std/type_traits>
namespace std {
using cuda::std::is_signed;
using cuda::std::is_unsigned;
using cuda::std::is_integral;
}
#include <nvshmem.h>
#include <nvshmemx.h>

typedef unsigned long long u64;

__device__ __forceinline__ void chunk(u64 bytes, u64 units, u64 unit, u64* off, u64* n) {
    u64 per = (bytes + units - 1) / units;
    per = (per + 15) & ~15ull;  // 16-byte aligned chunks
    *off = per * unit;
    *n = *off >= bytes ? 0 : (bytes - *off < per ? bytes - *off : per);
}

extern "C" __global__ void gc_put_block(char* dst, const char* src, u64 bytes, int peer, int iters, int blocking) {
    u64 off, n;
    chunk(bytes, gridDim.x, blockIdx.x, &off, &n);
    if (n > 0) {
        for (int i = 0; i < iters; i++) {
            if (blocking) nvshmemx_putmem_block(dst + off, src + off, n, peer);
            else nvshmemx_putmem_nbi_block(dst + off, src + off, n, peer);
        }
    }
    nvshmem_quiet();
}

extern "C" __global__ void gc_put_warp(char* dst, const char* src, u64 bytes, int peer, int iters, int blocking) {
    u64 warps = (u64)gridDim.x * (blockDim.x / 32);
    u64 w = (u64)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    u64 off, n;
    chunk(bytes, warps, w, &off, &n);
    if (n > 0) {
        for (int i = 0; i < iters; i++) {
            if (blocking) nvshmemx_putmem_warp(dst + off, src + off, n, peer);
            else nvshmemx_putmem_nbi_warp(dst + off, src + off, n, peer);
        }
    }
    nvshmem_quiet();
}

extern "C" __global__ void gc_put_thread(char* dst, const char* src, u64 bytes, int peer, int iters, int blocking) {
    u64 threads = (u64)gridDim.x * blockDim.x;
    u64 t = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    u64 off, n;
    chunk(bytes, threads, t, &off, &n);
    if (n > 0) {
        for (int i = 0; i < iters; i++) {
            if (blocking) nvshmem_putmem(dst + off, src + off, n, peer);
            else nvshmem_putmem_nbi(dst + off, src + off, n, peer);
        }
    }
    nvshmem_quiet();
}
