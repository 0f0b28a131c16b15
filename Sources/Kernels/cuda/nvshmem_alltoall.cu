// NVSHMEM all-to-all and barrier kernels (device-initiated). Compiled by NVRTC with -rdc -dlto
// -default-device and linked with libnvshmem_device.a by nvJitLink.
//
// Layout (every kernel): src and dst are symmetric (nvshmem_malloc), npes blocks of `bpp` bytes
// each. Block p of PE r's src goes to block r of PE p's dst. bpp is a multiple of 16.
//
// Launch contract
//   gc_a2a_lib(char* dst, const char* src, u64 bpp)
//     NVSHMEM's own team all-to-all (nvshmemx_alltoallmem_block on NVSHMEM_TEAM_WORLD): exactly one
//     block (a team collective may run in one block at a time), any block size that is a multiple
//     of 32. Cooperative launch (the collective ends with a device-side barrier). Complete on
//     return: NVSHMEM's all-to-all returns after every PE's dst holds every block.
//   gc_a2a_put(char* dst, const char* src, u64 bpp)
//     Blocking block-scope puts (nvshmemx_putmem_block). gridDim.x = npes * per; the `per` blocks
//     of group k serve peer (me + k) % npes, each one equal 16-byte-aligned slice of that peer's
//     block. Then nvshmem_quiet in every thread, a grid-wide sync, and block 0 runs
//     nvshmemx_barrier_all_block: when any PE's kernel ends, every PE's puts have been delivered.
//     Cooperative launch (grid sync and a device-side barrier inside).
//   gc_a2a_signal(char* dst, const char* src, u64 bpp, u64 chunk, u64* sig)
//     Non-blocking puts with a signal (nvshmemx_putmem_signal_nbi_block), one per `chunk`-sized
//     piece; the pieces of peer (me + k) % npes are dealt round-robin to the `per` blocks of group k.
//     Every piece adds 1 to sig[me] on the receiver. Block 0 of group k then waits until
//     sig[from] >= ceil(bpp / chunk), from = (me - k) mod npes, and subtracts that count (a signal
//     op on itself), so the counters stay consistent across back-to-back launches without a
//     reset. `sig` is a symmetric array of npes u64, zero before the first launch. When a PE's
//     kernel ends, it has received every byte. Plain launch; the grid must be resident at once
//     (waiting blocks must not keep sending blocks off the GPU): at most the occupancy limit.
//   gc_a2a_direct(char* dst, const char* src, u64 bpp, u64 piece, u64* sig)
//     The low-latency path: the blocks of group k store 16-byte words straight into peer
//     (me + k) % npes's dst through nvshmem_ptr (NVLink load/store; the host checks that every
//     peer is reachable so; four loads in flight per thread, gc_copy16_in_flight), fence, and each block adds 1 to sig[me] on that peer. Each block
//     moves one equal 16-byte-aligned slice, or, when `piece` (a multiple of 16; 0 = off) is
//     smaller than that slice, pieces j, j + per, ... of `piece` bytes (interleaved: the blocks of a
//     group walk through the peer's block together). Block 0 of
//     group k waits for `per` signals from PE (me - k) mod npes and subtracts them. Same grid and
//     completion rules as gc_a2a_signal.
//   gc_barrier_thread(int iters) / gc_barrier_block(int iters)
//     `iters` device-side nvshmem_barrier_all (one thread) or nvshmemx_barrier_all_block (the
//     whole block) back to back. One block; cooperative launch.

// nvshmemx_alltoallmem_block and nvshmemx_putmem_signal_nbi_block need the prelude's put-signal bridge.
#define GC_NVSHMEM_PUT_SIGNAL_BRIDGE
#include "nvshmem_prelude.cuh"
#include "gc_common.cuh"
#include <cooperative_groups.h>

// The slice [*off, *off + *len) of n bytes that part i of `parts` handles (16-byte aligned).
__device__ __forceinline__ void slice(u64 n, u64 parts, u64 i, u64* off, u64* len) {
    u64 per = (n + parts - 1) / parts;
    per = (per + 15) & ~15ull;
    *off = per * i;
    *len = *off >= n ? 0 : (n - *off < per ? n - *off : per);
}

// The piece size block j of `per` uses over n bytes: the even 16-byte-aligned slice, or `piece`
// when that is smaller (0 = no interleaving). Block j then moves [j*c, +c), [(j+per)*c, +c), ...
__device__ __forceinline__ u64 interleave(u64 n, u64 per, u64 piece) {
    u64 share = (((n + per - 1) / per) + 15) & ~15ull;
    return piece > 0 && piece < share ? piece : share;
}

// This block's place: group k serves peer (me + k) % npes; j is the block's index in its group.
struct Place { int me, npes, per, k, j, peer, from; };

__device__ __forceinline__ Place place() {
    Place p;
    p.me = nvshmem_my_pe();
    p.npes = nvshmem_n_pes();
    p.per = gridDim.x / p.npes;
    p.k = blockIdx.x / p.per;
    p.j = blockIdx.x % p.per;
    p.peer = (p.me + p.k) % p.npes;
    p.from = (p.me - p.k + p.npes) % p.npes;
    return p;
}

// Waits for `count` signals from PE `from` in sig[from], then consumes them (signal ops are
// atomic with respect to each other, so a peer's next-iteration signals are never lost).
__device__ __forceinline__ void consume(u64* sig, int from, u64 count, int me) {
    nvshmem_signal_wait_until(sig + from, NVSHMEM_CMP_GE, count);
    nvshmemx_signal_op(sig + from, (u64)0 - count, NVSHMEM_SIGNAL_ADD, me);
}

extern "C" __global__ void gc_a2a_lib(char* dst, const char* src, u64 bpp) {
    nvshmemx_alltoallmem_block(NVSHMEM_TEAM_WORLD, dst, src, bpp);
}

extern "C" __global__ void gc_a2a_put(char* dst, const char* src, u64 bpp) {
    Place p = place();
    if (p.k < p.npes) {
        u64 off, len;
        slice(bpp, p.per, p.j, &off, &len);
        if (len > 0) nvshmemx_putmem_block(dst + (u64)p.me * bpp + off, src + (u64)p.peer * bpp + off, len, p.peer);
    }
    nvshmem_quiet();
    cooperative_groups::this_grid().sync();
    if (blockIdx.x == 0) nvshmemx_barrier_all_block();
}

extern "C" __global__ void gc_a2a_signal(char* dst, const char* src, u64 bpp, u64 chunk, u64* sig) {
    Place p = place();
    if (p.k >= p.npes) return;
    u64 pieces = (bpp + chunk - 1) / chunk;
    for (u64 c = p.j; c < pieces; c += p.per) {
        u64 off = c * chunk;
        u64 len = bpp - off < chunk ? bpp - off : chunk;
        nvshmemx_putmem_signal_nbi_block(dst + (u64)p.me * bpp + off, src + (u64)p.peer * bpp + off, len,
                                         sig + p.me, 1, NVSHMEM_SIGNAL_ADD, p.peer);
    }
    if (p.j == 0 && threadIdx.x == 0) consume(sig, p.from, pieces, p.me);
    nvshmem_quiet();  // this PE's non-blocking puts are complete (its src may be rewritten)
}

extern "C" __global__ void gc_a2a_direct(char* dst, const char* src, u64 bpp, u64 piece, u64* sig) {
    Place p = place();
    if (p.k >= p.npes) return;
    char* remote = (char*)nvshmem_ptr(dst + (u64)p.me * bpp, p.peer);
    const u64 c = interleave(bpp, p.per, piece);
    for (u64 off = (u64)p.j * c; off < bpp; off += (u64)p.per * c) {
        const int4* s = (const int4*)(src + (u64)p.peer * bpp + off);
        int4* d = (int4*)(remote + off);
        u64 words = (bpp - off < c ? bpp - off : c) / 16;
        gc_copy16_in_flight<4>(d, s, words, threadIdx.x, blockDim.x);  // four loads in flight per thread
    }
    // Release: each thread's stores are ordered before the barrier, the barrier before thread 0's
    // fence and signal; the receiver's signal wait acquires them (PTX memory model, causality order).
    __threadfence_system();
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence_system();
        nvshmemx_signal_op(sig + p.me, 1, NVSHMEM_SIGNAL_ADD, p.peer);
        if (p.j == 0) consume(sig, p.from, (u64)p.per, p.me);
    }
}

extern "C" __global__ void gc_barrier_thread(int iters) {
    if (threadIdx.x == 0)
        for (int i = 0; i < iters; i++) nvshmem_barrier_all();
}

extern "C" __global__ void gc_barrier_block(int iters) {
    for (int i = 0; i < iters; i++) nvshmemx_barrier_all_block();
}
