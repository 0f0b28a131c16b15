// NVSHMEM point-to-point bandwidth kernels (device-initiated puts and gets). Compiled by NVRTC
// with -rdc -dlto -default-device and linked with libnvshmem_device.a by nvJitLink.
//
// Launch contract
//   gc_bw_<scope>(char* dst, const char* src, u64 bytes, u64 chunk, int peer, int iters, int flags)
//     dst and src are symmetric (nvshmem_malloc). Units are blocks (scope block), warps (scope
//     warp) or threads (scope thread). The bytes are cut into pieces of `chunk` bytes (0: one
//     equal 16-byte-aligned piece per unit); unit u moves pieces u, u + units, u + 2·units, …
//     flags bit 0: blocking (nvshmem[x]_{put,get}mem[_warp|_block]) else non-blocking (_nbi);
//     flags bit 1: get (dst local ← src on `peer`) else put (dst on `peer` ← src local).
//     Every piece is moved `iters` times, then every thread calls nvshmem_quiet.
//     Any grid; block size a multiple of 32, at most 1024. __launch_bounds__(1024, 2) keeps the
//     kernel within 32 registers per thread, so 2048 threads (2 × 1024, 4 × 512, 8 × 256) fit on
//     one multiprocessor: each thread has one 16-byte load in flight in NVSHMEM's copy loop, and
//     NVLink needs many in flight.
//     Plain cuLaunchKernel: no device-side barrier or wait inside.

#include "nvshmem_prelude.cuh"
#include "gc_common.cuh"

__device__ __forceinline__ u64 piece_size(u64 bytes, u64 units, u64 chunk) {
    if (chunk > 0) return chunk;
    u64 per = (bytes + units - 1) / units;
    return (per + 15) & ~15ull;  // 16-byte aligned pieces
}

#define GC_BW(SCOPE, UNITS, UNIT, PUT, PUT_NBI, GET, GET_NBI)                                        \
extern "C" __global__ void __launch_bounds__(1024, 2)                                                \
gc_bw_##SCOPE(char* dst, const char* src, u64 bytes, u64 chunk, int peer, int iters, int flags) {   \
    const u64 units = (UNITS), unit = (UNIT);                                                        \
    const u64 per = piece_size(bytes, units, chunk);                                                 \
    const bool blocking = flags & 1, get = flags & 2;                                                \
    for (int i = 0; i < iters; i++) {                                                                \
        for (u64 off = unit * per; off < bytes; off += units * per) {                                \
            u64 n = bytes - off < per ? bytes - off : per;                                           \
            if (get) { if (blocking) GET(dst + off, src + off, n, peer); else GET_NBI(dst + off, src + off, n, peer); } \
            else     { if (blocking) PUT(dst + off, src + off, n, peer); else PUT_NBI(dst + off, src + off, n, peer); } \
        }                                                                                            \
    }                                                                                                \
    nvshmem_quiet();                                                                                 \
}

GC_BW(block, gridDim.x, blockIdx.x,
      nvshmemx_putmem_block, nvshmemx_putmem_nbi_block, nvshmemx_getmem_block, nvshmemx_getmem_nbi_block)
GC_BW(warp, (u64)gridDim.x * (blockDim.x / 32), (u64)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32,
      nvshmemx_putmem_warp, nvshmemx_putmem_nbi_warp, nvshmemx_getmem_warp, nvshmemx_getmem_nbi_warp)
GC_BW(thread, (u64)gridDim.x * blockDim.x, (u64)blockIdx.x * blockDim.x + threadIdx.x,
      nvshmem_putmem, nvshmem_putmem_nbi, nvshmem_getmem, nvshmem_getmem_nbi)
