// NVSHMEM point-to-point latency kernels: p, g, put, get one after another, and a signal
// ping-pong. Compiled by NVRTC with -rdc -dlto -default-device, linked with libnvshmem_device.a.
//
// Timing: thread 0 reads %globaltimer (ns) after `warmup` operations and again after `iters`
// more, and writes the difference to out[0]; launch cost and host skew are outside the interval.
//
// Launch contract
//   gc_latency(char* dst, const char* src, u64 bytes, int peer, int op, int scope, int warmup,
//              int iters, u64* out)
//     op 0 p:   word k = i mod GC_WORDS (8192): nvshmem_longlong_p(dst + 8k, src[k], peer); nvshmem_quiet.
//     op 1 g:   v = nvshmem_longlong_g(src + 8k, peer); local dst[k] = v; the next k depends on v,
//               so each g waits for the one before. (p and g: one thread; scope ignored.)
//     op 2 put: nvshmem[x]_putmem[_warp|_block](dst, src, bytes, peer); nvshmem_quiet.
//     op 3 get: nvshmem[x]_getmem[_warp|_block](dst, src, bytes, peer) (blocking: data is local
//               on return).
//     scope 0 thread (block of 1 thread), 1 warp (block of 32), 2 block (any multiple of 32).
//     dst and src symmetric, at least max(bytes, 8 * GC_WORDS) bytes. Grid of 1 block; plain launch.
//   gc_pingpong(char* dst, const char* src, u64 bytes, u64* sig, int peer, int initiator,
//               int scope, int warmup, int iters, u64* out)
//     Round trip i = 1, 2, …: the initiator puts `bytes` of src into the peer's dst
//     (nvshmem[x]_putmem[_warp|_block]), then thread 0 calls nvshmem_fence and
//     nvshmemx_signal_op(sig, i, NVSHMEM_SIGNAL_SET, peer), then waits with
//     nvshmem_signal_wait_until(sig, NVSHMEM_CMP_GE, i); the other PE waits for i, then answers
//     the same way. This is what nvshmem[x]_putmem_signal does on NVLink (copy, group sync,
//     fence, signal); putmem_signal itself does not link from NVRTC with NVSHMEM 3.4.5: its
//     proxy fallback nvshmemi_transfer_put_signal<scope>(…, uint64_t, …) is a non-inline function
//     in libnvshmem_device.a, compiled where uint64_t is unsigned long, while NVRTC's uint64_t is
//     unsigned long long, so the mangled names differ (undefined reference at nvJitLink). *sig must be 0 on both
//     PEs before either starts. The initiator times the last `iters` round trips. Both PEs run it
//     at once; grid of 1 block (thread 1, warp 32, block any multiple of 32); cooperative launch
//     (it waits on another PE).

#include "nvshmem_prelude.cuh"
#include "gc_common.cuh"
#include "gc_constants.cuh"  // GC_WORDS (P2PLatency.words): p and g cycle over GC_WORDS 8-byte words

__device__ __forceinline__ u64 now_ns() {
    u64 t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

__device__ __forceinline__ void one_op(char* dst, const char* src, u64 bytes, int peer, int op, int scope, unsigned* k) {
    switch (op) {
    case 0:
        if (threadIdx.x == 0) {
            nvshmem_longlong_p((long long*)dst + *k, ((const long long*)src)[*k], peer);
            nvshmem_quiet();
        }
        *k = (*k + 1) % GC_WORDS;
        break;
    case 1:
        if (threadIdx.x == 0) {
            long long v = nvshmem_longlong_g((const long long*)src + *k, peer);
            ((long long*)dst)[*k] = v;
            // Data dependence: the next address waits for v (the fill's bytes are 0..4, so v is
            // never -1 and the step is always 1, but the compiler cannot know that).
            *k = (*k + (v == -1ll ? 2u : 1u)) % GC_WORDS;
        }
        break;
    case 2:
        if (scope == 0) nvshmem_putmem(dst, src, bytes, peer);
        else if (scope == 1) nvshmemx_putmem_warp(dst, src, bytes, peer);
        else nvshmemx_putmem_block(dst, src, bytes, peer);
        nvshmem_quiet();
        break;
    default:
        if (scope == 0) nvshmem_getmem(dst, src, bytes, peer);
        else if (scope == 1) nvshmemx_getmem_warp(dst, src, bytes, peer);
        else nvshmemx_getmem_block(dst, src, bytes, peer);
        break;
    }
}

extern "C" __global__ void __launch_bounds__(1024)
gc_latency(char* dst, const char* src, u64 bytes, int peer, int op, int scope, int warmup, int iters, u64* out) {
    unsigned k = 0;
    for (int i = 0; i < warmup; i++) one_op(dst, src, bytes, peer, op, scope, &k);
    __syncthreads();
    u64 t0 = now_ns();
    for (int i = 0; i < iters; i++) one_op(dst, src, bytes, peer, op, scope, &k);
    __syncthreads();
    if (threadIdx.x == 0) out[0] = now_ns() - t0;
}

__device__ __forceinline__ void send(char* dst, const char* src, u64 bytes, u64* sig, u64 i, int peer, int scope) {
    if (scope == 0) nvshmem_putmem(dst, src, bytes, peer);
    else if (scope == 1) nvshmemx_putmem_warp(dst, src, bytes, peer);
    else nvshmemx_putmem_block(dst, src, bytes, peer);
    if (threadIdx.x == 0) {
        nvshmem_fence();
        nvshmemx_signal_op((uint64_t*)sig, i, NVSHMEM_SIGNAL_SET, peer);
    }
}

__device__ __forceinline__ void await(u64* sig, u64 i) {
    if (threadIdx.x == 0) nvshmem_signal_wait_until((uint64_t*)sig, NVSHMEM_CMP_GE, i);
    __syncthreads();
}

extern "C" __global__ void __launch_bounds__(1024)
gc_pingpong(char* dst, const char* src, u64 bytes, u64* sig, int peer, int initiator, int scope, int warmup, int iters, u64* out) {
    u64 t0 = 0;
    const u64 total = (u64)warmup + (u64)iters;
    for (u64 i = 1; i <= total; i++) {
        if (initiator) {
            if (i == (u64)warmup + 1) { __syncthreads(); t0 = now_ns(); }
            send(dst, src, bytes, sig, i, peer, scope);
            await(sig, i);
        } else {
            await(sig, i);
            send(dst, src, bytes, sig, i, peer, scope);
        }
    }
    __syncthreads();
    if (initiator && threadIdx.x == 0) out[0] = now_ns() - t0;
}
