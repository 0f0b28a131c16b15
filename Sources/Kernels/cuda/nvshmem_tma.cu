// NVSHMEM point-to-point and all-to-all kernels that move bytes with Hopper's bulk asynchronous
// copies (TMA, cp.async.bulk) through peer memory reached by nvshmem_ptr, instead of per-thread
// 16-byte stores. sm_90 or newer. Compiled by NVRTC with -rdc -dlto -default-device and linked
// with libnvshmem_device.a by nvJitLink.
//
// The copy engine of a block (one thread, threadIdx.x == 0, issues every TMA operation; the
// block's other threads return at once): a ring of `stages` buffers of `stage` bytes in dynamic
// shared memory, each with an mbarrier. A segment of at most `stage` bytes is loaded global ->
// shared (cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes, completion counted
// in bytes on the stage's mbarrier), then, once its mbarrier phase completes, stored shared ->
// global (cp.async.bulk.global.shared::cta.bulk_group, one bulk group per store). Loads run
// `ahead` = stages - stages/2 segments ahead of the store being issued; a stage is reloaded only
// after the store that read it has finished reading (cp.async.bulk.wait_group.read stages/2).
// A store's writes go on over NVLink after its read of shared memory is done, so the bytes in
// flight per block are not bounded by the ring.
//
// Dynamic shared memory: stages * stage bytes of ring, then stages 8-byte mbarriers
// (gc_tma_shared_bytes below; the host computes the same: Kernels/TMAStaging.swift).
// stage: a multiple of 16, at least 16 (bulk copies move multiples of 16 bytes between 16-byte
// aligned addresses); stages: 2..GC_TMA_MAX_STAGES.
//
// Memory ordering (why a peer that sees the completion sees the data)
//   1. mbarrier.init is made visible to the async proxy (fence.mbarrier_init.release.cluster,
//      fence.proxy.async.shared::cta) before the first bulk copy signals on it.
//   2. load -> store of one stage: both run in the async proxy; the store is issued only after
//      the issuing thread observed the load's complete_tx on the stage's mbarrier (try_wait
//      acquires it), so the store reads the loaded bytes.
//   3. store -> reload of one stage: wait_group.read N returns once the older stores have read
//      their shared-memory source; only then is the next load into that stage issued.
//   4. End: cp.async.bulk.wait_group 0 (no .read) waits until every bulk store is complete,
//      i.e. its writes are performed and visible to the issuing thread. PTX ISA (cp.async.bulk,
//      "async proxy"): completion of a bulk copy is followed by an implicit generic-async proxy
//      fence, so after the wait the writes are ordered before the thread's later generic-proxy
//      operations; an explicit fence.proxy.async.global is added anyway (it costs nothing once per
//      block and does not rely on the implicit one). Then __threadfence_system() (fence.sc.sys)
//      is a system-scope release of everything this thread has observed, and the signal (an
//      atomic on the peer) follows it: a PE whose nvshmem_signal_wait_until observes the signal
//      observes the stored bytes (causality order is transitive through the fence and the
//      signal's read-modify-write; the same argument as gc_a2a_direct, with one issuing thread).
//      DeepEP's intranode kernels store to NVLink peers with TMA and publish a tail after
//      wait_group.read; gpucomm waits for full completion instead, which is the documented
//      guarantee.
//   The point-to-point kernel ends with the same wait and fences and nvshmem_quiet (on NVLink a
//   fence; kept so its completion contract is that of gc_bw_<scope>); the host reads the data
//   after the kernel ends.
//
// Launch contract
//   gc_bw_tma(char* dst, const char* src, u64 bytes, u64 chunk, int peer, int iters, int flags,
//             unsigned stage, int stages)
//     As gc_bw_<scope> in nvshmem_put.cu with units = blocks: the bytes are cut into pieces of
//     `chunk` bytes (0: one equal 16-byte-aligned piece per block); block b moves pieces b,
//     b + gridDim.x, …, `iters` times, each piece streamed in segments of `stage` bytes.
//     flags bit 1: get (local dst <- src on `peer`: bulk loads from the peer, stores local) else
//     put (dst on `peer` <- local src). flags bit 0 (blocking) has no TMA form: the host refuses
//     it. nvshmem_ptr(dst, peer) and nvshmem_ptr(src, peer) must be non-NULL (the host checks).
//     A piece's last bytes that are not a multiple of 16 are copied by thread 0 with plain stores.
//     Any grid; any block size (one thread works; launch 32). Dynamic shared memory:
//     gc_tma_shared_bytes(stage, stages). Plain cuLaunchKernel.
//   gc_a2a_tma(char* dst, const char* src, u64 bpp, u64 piece, u64* sig, unsigned stage, int stages)
//     Layout, grid and completion as gc_a2a_direct in nvshmem_alltoall.cu: gridDim.x = npes * per;
//     the `per` blocks of group k each move one 16-byte-aligned slice of the block for peer
//     (me + k) % npes (its own PE included) into that peer's dst through nvshmem_ptr, with the
//     ring above (or, when `piece` is smaller than that slice, pieces j, j + per, ... of `piece`
//     bytes, as gc_a2a_direct); then thread 0 waits for its stores, fences (as above) and adds 1 to sig[me] on
//     that peer. Thread 0 of block 0 of group k then waits for `per` signals from PE
//     (me - k) mod npes and subtracts them (signal ops are atomic with respect to each other, so
//     back-to-back launches need no reset). `sig`: symmetric, npes u64, zero before the first
//     launch. bpp a multiple of 16. Plain launch; the grid must be resident at once (a waiting
//     block must not keep a sending block off the GPU): at most the occupancy limit computed
//     with the dynamic shared memory.

#include "nvshmem_prelude.cuh"
#include "gc_common.cuh"
#include "gc_constants.cuh"  // GC_TMA_MAX_STAGES (TMAStaging.maxStages)

__host__ __device__ constexpr u64 gc_tma_shared_bytes(u32 stage, int stages) {
    return (u64)stage * stages + 8ull * stages;
}

// ---- PTX wrappers (sm_90). Shared-memory operands are 32-bit shared-window addresses. ----

__device__ __forceinline__ u32 smem_addr(const void* p) { return (u32)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void mbar_init(u32 bar, u32 count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}

// The inits are visible to the async proxy (the TMA unit completes transactions on them).
__device__ __forceinline__ void mbar_init_fence() {
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// Arrives (count 1) and expects `bytes` of transactions in the current phase.
__device__ __forceinline__ void mbar_arrive_expect_tx(u32 bar, u32 bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}

// Waits until the phase of parity `parity` has completed (acquire, CTA scope).
__device__ __forceinline__ void mbar_wait(u32 bar, u32 parity) {
    u32 done;
    do {
        asm volatile("{\n\t.reg .pred p;\n\t"
                     "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\t"
                     "selp.u32 %0, 1, 0, p;\n\t}"
                     : "=r"(done) : "r"(bar), "r"(parity) : "memory");
    } while (!done);
}

// global -> shared, completion as bytes on `bar`.
__device__ __forceinline__ void bulk_load(u32 dst_smem, const void* src, u32 bytes, u32 bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                 ::"r"(dst_smem), "l"(src), "r"(bytes), "r"(bar) : "memory");
}

// shared -> global, in its own bulk async-group.
__device__ __forceinline__ void bulk_store(void* dst, u32 src_smem, u32 bytes) {
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(dst), "r"(src_smem), "r"(bytes) : "memory");
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
}

// Waits until at most n of this thread's newest bulk groups have not finished reading their source
// (n is an immediate in PTX: one case per value).
__device__ __forceinline__ void bulk_wait_read(int n) {
    switch (n) {
    case 0: asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory"); break;
    case 1: asm volatile("cp.async.bulk.wait_group.read 1;" ::: "memory"); break;
    case 2: asm volatile("cp.async.bulk.wait_group.read 2;" ::: "memory"); break;
    case 3: asm volatile("cp.async.bulk.wait_group.read 3;" ::: "memory"); break;
    default: asm volatile("cp.async.bulk.wait_group.read 4;" ::: "memory"); break;
    }
}

// Every bulk store of this thread complete (writes performed), then ordered before later
// generic-proxy operations and released at system scope (see "Memory ordering" above).
__device__ __forceinline__ void bulk_complete_and_release() {
    asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
    asm volatile("fence.proxy.async.global;" ::: "memory");
    __threadfence_system();
}

// ---- The ring: streams the segments a `Segments` source yields (src, dst, bytes <= stage). ----

template <typename Segments>
__device__ void tma_stream(Segments& seg, unsigned char* smem, u32 stage, int stages) {
    if (stages > GC_TMA_MAX_STAGES) stages = GC_TMA_MAX_STAGES;
    if (stages < 2) stages = 2;
    const u32 ring = smem_addr(smem);
    const u32 bars = ring + stage * (u32)stages;
    for (int s = 0; s < stages; s++) mbar_init(bars + 8 * s, 1);
    mbar_init_fence();
    const int reading = stages / 2;         // stores allowed to be still reading shared memory
    const int ahead = stages - reading;     // loads issued beyond the store being issued
    char* to[GC_TMA_MAX_STAGES];
    u32 len[GC_TMA_MAX_STAGES];
    u32 phase = 0;                          // bit s: parity of stage s's next phase to wait for
    long long loaded = 0;
    const char* s_src; char* s_dst; u32 n;
    auto load = [&](long long i) {
        int s = (int)(i % stages);
        to[s] = s_dst; len[s] = n;
        mbar_arrive_expect_tx(bars + 8 * s, n);
        bulk_load(ring + stage * (u32)s, s_src, n, bars + 8 * s);
    };
    while (loaded < ahead && seg.next(&s_src, &s_dst, &n)) load(loaded++);
    for (long long i = 0; i < loaded; i++) {
        int s = (int)(i % stages);
        mbar_wait(bars + 8 * s, (phase >> s) & 1);
        phase ^= 1u << s;
        bulk_store(to[s], ring + stage * (u32)s, len[s]);
        if (seg.next(&s_src, &s_dst, &n)) {
            // Segment `loaded` = i + ahead reuses the stage of segment i + ahead - stages, whose
            // store is `reading` groups older than the one just committed.
            bulk_wait_read(reading);
            load(loaded++);
        }
    }
}

// ---- Point-to-point bandwidth ----

// Segments of block b's pieces, `iters` times: [from + off, +n) -> [to + off, +n), n <= stage.
struct PieceSegments {
    const char* from; char* to;
    u64 bytes, per, first, step, stage;
    int iters, iter;
    u64 off, sub;
    __device__ bool next(const char** s, char** d, u32* n) {
        while (iter < iters) {
            if (off < bytes) {
                u64 piece = bytes - off < per ? bytes - off : per;
                u64 bulk = piece & ~15ull;
                if (sub < bulk) {
                    u64 m = bulk - sub < stage ? bulk - sub : stage;
                    *s = from + off + sub; *d = to + off + sub; *n = (u32)m;
                    sub += m;
                    return true;
                }
                off += step; sub = 0;
                continue;
            }
            iter++; off = first; sub = 0;
        }
        return false;
    }
};

extern "C" __global__ void __launch_bounds__(1024, 1)
gc_bw_tma(char* dst, const char* src, u64 bytes, u64 chunk, int peer, int iters, int flags, u32 stage, int stages) {
    extern __shared__ __align__(128) unsigned char gc_tma_smem[];
    if (threadIdx.x != 0) return;
    const bool get = flags & 2;
    const u64 units = gridDim.x;
    u64 per = chunk > 0 ? chunk : (bytes + units - 1) / units;
    per = (per + 15) & ~15ull;
    // Put: local src -> the peer's dst. Get: the peer's src -> local dst.
    const char* from = get ? (const char*)nvshmem_ptr(src, peer) : src;
    char* to = get ? dst : (char*)nvshmem_ptr(dst, peer);
    if (from == nullptr || to == nullptr) return;  // no load/store path: the host refuses before launching
    PieceSegments seg{from, to, bytes, per, blockIdx.x * per, units * per, stage, iters, 0, blockIdx.x * per, 0};
    if (iters > 0) tma_stream(seg, gc_tma_smem, stage, stages);
    // The bytes of a piece past its last multiple of 16 (only the final piece can have them).
    for (u64 off = blockIdx.x * per; off < bytes; off += units * per) {
        u64 piece = bytes - off < per ? bytes - off : per;
        for (u64 k = piece & ~15ull; k < piece && iters > 0; k++) to[off + k] = from[off + k];
    }
    bulk_complete_and_release();
    nvshmem_quiet();
}

// ---- All-to-all ----

extern "C" __global__ void __launch_bounds__(1024, 1)
gc_a2a_tma(char* dst, const char* src, u64 bpp, u64 piece, u64* sig, u32 stage, int stages) {
    extern __shared__ __align__(128) unsigned char gc_tma_smem[];
    if (threadIdx.x != 0) return;
    const int me = nvshmem_my_pe(), npes = nvshmem_n_pes();
    const int per = gridDim.x / npes;
    const int k = blockIdx.x / per, j = blockIdx.x % per;
    if (k >= npes) return;
    const int peer = (me + k) % npes, from = (me - k + npes) % npes;
    // This block's pieces of the bpp bytes for `peer` (as interleave() in nvshmem_alltoall.cu):
    // one 16-byte-aligned slice, or pieces j, j + per, ... of `piece` bytes when that is smaller.
    u64 share = ((bpp + per - 1) / per + 15) & ~15ull;
    u64 c = piece > 0 && piece < share ? piece : share;
    char* remote = (char*)nvshmem_ptr(dst + (u64)me * bpp, peer);
    if (remote != nullptr && (u64)j * c < bpp) {
        PieceSegments seg{src + (u64)peer * bpp, remote, bpp, c, (u64)j * c, (u64)per * c, stage, 1, 0, (u64)j * c, 0};
        tma_stream(seg, gc_tma_smem, stage, stages);
    }
    bulk_complete_and_release();
    nvshmemx_signal_op(sig + me, 1, NVSHMEM_SIGNAL_ADD, peer);
    if (j == 0) {
        nvshmem_signal_wait_until(sig + from, NVSHMEM_CMP_GE, (u64)per);
        nvshmemx_signal_op(sig + from, (u64)0 - (u64)per, NVSHMEM_SIGNAL_ADD, me);
    }
}
