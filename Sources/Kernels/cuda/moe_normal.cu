// MoE dispatch and combine in DeepEP normal (high-throughput) mode's design, over NVLink through
// nvshmem_ptr: a token goes once to each rank that holds any of its experts (deduplicated per
// rank), with its top-k list rewritten for that rank; the work is split into C channels, each a
// pair of blocks (even block: sender, odd block: receiver), so the kernel uses 2C SMs whatever the
// token count; each (channel, source) pair streams through a bounded ring buffer on the receiver,
// in chunks of S tokens, with a tail the sender advances and a head the receiver advances.
// Appended after cuda/nvshmem_prelude.cuh; device functions from cuda/moe.cuh.
//
// Shapes: N = npes <= 32 (one warp per peer in each block), k <= 32, C = gridDim.x / 2.
// Channel c of a rank with T tokens sends tokens [c*P, min((c+1)*P, T)), P = ceil(T / C).
//
// A row (stride R, a multiple of 16): the message of cuda/moe.cuh (header, payload, scales; its
// stride M), then k int32 local expert ids for the receiving rank (-1: not on it, or masked) and
// k fp32 weights.
//
// Buffers (sym: symmetric, nvshmem_malloc, the same size on every PE; local: cuMemAlloc):
//   x, topk, weights           local, as in cuda/moe.cu
//   staging  [T] messages      local, the sender's packed (FP8: cast) tokens
//   ncount   [N][C] int        sym: rows source s's channel c sends here (written by s's notify)
//   rbase    [N][C] int        local: first row of (s, c) in recv (prefix over s, then c)
//   rtotal   [1] int           local: rows received
//   ring     [C][N][Q] rows    sym: dispatch ring of (channel, source) at the receiver
//   recv     [N*T] rows        local: received rows, source-major, then channel, then token order
//   part     [N*T] bf16 rows   local: the fake expert's partial sums, one per received row
//   cring    [C][N][Q] bf16    sym: combine ring of (channel, sender) at the token's owner
//   out      [T] bf16 rows     local
//   ctr      u64, zero before the first launch, sym, 6 × C × N:
//            [DTAIL | DHEAD | CTAIL | CHEAD] (each [C][N], at the receiving side, indexed by the
//            other rank) then [DSENT | CSENT] (the sending side's own counts, by destination).
//   sig      u64 [N] sym, zero before the first launch: notify arrivals by source.
// Ring positions only grow (u64, over every launch): a sender at position j waits until
// j - head < Q, writes slot j mod Q, and publishes tail after every S rows and at its end; the
// receiver of a launch starts where its head is and stops after ncount rows. A fast peer already in
// its next launch can only run ahead by what the ring holds, so no reset is needed between launches.
//
// Launch contract (plain launch; the grid resident at once, the same on every PE)
//   gc_moe_normal_notify(const int* topk, int tokens, int k, int L, int C, int* ncount, int* rbase,
//                        int* rtotal, u64* sig)
//     One block of >= 32 threads (C*N <= 4096). Counts the rows each channel sends to each rank,
//     stores them into ncount[me][c] on every rank, signals, waits for every rank's, then builds
//     rbase and rtotal.
//   gc_moe_normal_dispatch(const bf16* x, const int* topk, const float* weights, char* staging,
//                          char* ring, char* recv, const int* ncount, const int* rbase, u64* ctr,
//                          int tokens, int k, int hidden, int fp8, int L, int Q, int S, u64 M, u64 R)
//     2C blocks of 32*max(N, 8) threads. When it ends on a PE, recv holds every row sent to it.
//   gc_moe_normal_expert(const char* recv, const int* rtotal, bf16* part, int k, int hidden, int fp8,
//                        u64 M, u64 R, u64 rows)
//     One warp per received row (grid-stride over rows = N*T, stopping at *rtotal):
//     part[r] = bf16(Σ_j w_j · bf16(1.5 · x)) over the row's local expert ids j >= 0, j in order.
//   gc_moe_normal_combine(const bf16* part, char* cring, const int* ncount, const int* rbase,
//                         const int* topk, bf16* out, u64* ctr, int tokens, int k, int hidden, int L,
//                         int Q, int S)
//     2C blocks as dispatch. Sender block c returns each (source s, channel c) run of part rows to s;
//     receiver block c of the owner, token by token in order: out[t] = bf16(Σ over the ranks b
//     holding t, b ascending, of b's partial row), fp32 accumulation; 0 for a token on no rank.

#define GC_NVSHMEM_PUT_SIGNAL_BRIDGE
#include "nvshmem_prelude.cuh"
#include "moe.cuh"

enum { GC_DTAIL = 0, GC_DHEAD = 1, GC_CTAIL = 2, GC_CHEAD = 3, GC_DSENT = 4, GC_CSENT = 5 };

// The ranks holding any of token t's experts, as a bit mask (bit d: rank d).
__device__ __forceinline__ unsigned gc_normal_mask(const int* topk, int t, int k, int L) {
    unsigned m = 0;
    for (int j = 0; j < k; j++) {
        const int e = topk[t * k + j];
        if (e >= 0) m |= 1u << (e / L);
    }
    return m;
}

// A warp's acquire: lane 0 loads *p (acquire, system scope) and every lane gets the value; the
// warp barrier after it orders every lane's later accesses after the load (one value for the whole
// warp: lanes that each loaded could see different values and leave a loop at different times).
__device__ __forceinline__ u64 gc_normal_acquire(const u64* p) {
    u64 v = 0;
    if ((threadIdx.x & 31) == 0) v = gc_ld_acquire_sys(p);
    v = __shfl_sync(0xffffffffu, v, 0);
    __syncwarp();
    return v;
}

// One warp copies `bytes` (a multiple of 16) out of a ring slot. The loads go to L2 (ld.global.cg),
// never to this SM's L1: a slot is rewritten by another GPU while this kernel runs (the ring wraps),
// so a line of its earlier contents must not be served from L1.
__device__ __forceinline__ void gc_ring_read(char* dst, const char* src, u64 bytes) {
    const int4* s = (const int4*)src;
    int4* d = (int4*)dst;
    for (u64 i = threadIdx.x & 31; i < bytes / 16; i += 32) d[i] = __ldcg(s + i);
}

// A warp's publish: every lane's earlier stores reach every GPU before lane 0 stores v at p.
__device__ __forceinline__ void gc_normal_publish(u64* p, u64 v) {
    __threadfence_system();
    __syncwarp();
    if ((threadIdx.x & 31) == 0) gc_st_release_sys(p, v);
    __syncwarp();
}

// One warp's side of a ring it writes into on `peer`: its (channel, this PE) ring there, that ring's
// tail and head there, and this PE's own count of rows sent through it (over every launch).
struct GcRingWriter {
    u64* sent;
    u64* tail;
    const u64* head;
    char* base;
    u64 rowBytes, j, published, seen;
    int Q, S;
};

// ctr's counters: `sentAt`, `tailAt`, `headAt` name the regions (GC_DSENT, GC_DTAIL, GC_DHEAD or the
// combine's); `ring` is the symmetric ring buffer of C × npes × Q rows of `rowBytes`.
__device__ __forceinline__ GcRingWriter gc_ring_writer(u64* ctr, int sentAt, int tailAt, int headAt, char* ring, u64 rowBytes,
                                                       int c, int me, int npes, int peer, int Q, int S) {
    const int CN = (gridDim.x / 2) * npes;
    GcRingWriter w;
    w.sent = ctr + sentAt * CN + c * npes + peer;
    w.tail = (u64*)nvshmem_ptr(ctr + tailAt * CN + c * npes + me, peer);
    w.head = (const u64*)nvshmem_ptr(ctr + headAt * CN + c * npes + me, peer);
    w.base = (char*)nvshmem_ptr(ring + (u64)(c * npes + me) * Q * rowBytes, peer);
    w.rowBytes = rowBytes; w.Q = Q; w.S = S;
    w.j = *w.sent; w.published = w.j; w.seen = gc_normal_acquire(w.head);
    return w;
}

// The next free row of the ring (waiting for the reader's head when the ring is full).
__device__ __forceinline__ char* gc_ring_slot(GcRingWriter& w) {
    while (w.j - w.seen >= (u64)w.Q) w.seen = gc_normal_acquire(w.head);
    return w.base + (w.j % w.Q) * w.rowBytes;
}

// The row just written counts; the tail is published every S rows.
__device__ __forceinline__ void gc_ring_advance(GcRingWriter& w) {
    w.j++;
    if (w.j - w.published >= (u64)w.S) { gc_normal_publish(w.tail, w.j); w.published = w.j; }
}

// The last rows published, and the count kept for the next launch.
__device__ __forceinline__ void gc_ring_finish(GcRingWriter& w) {
    gc_normal_publish(w.tail, w.j);
    if ((threadIdx.x & 31) == 0) *w.sent = w.j;
}

extern "C" __global__ void gc_moe_normal_notify(const int* topk, int tokens, int k, int L, int C, int* ncount, int* rbase,
                                                int* rtotal, u64* sig) {
    const int me = nvshmem_my_pe(), npes = nvshmem_n_pes();
    __shared__ int cnt[4096];
    for (int i = threadIdx.x; i < C * npes; i += blockDim.x) cnt[i] = 0;
    __syncthreads();
    const int per = (tokens + C - 1) / C;
    for (int t = threadIdx.x; t < tokens; t += blockDim.x) {
        const unsigned m = gc_normal_mask(topk, t, k, L);
        const int c = t / per;
        for (int d = 0; d < npes; d++) if (m & (1u << d)) atomicAdd(&cnt[c * npes + d], 1);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < C * npes; i += blockDim.x) {
        const int c = i / npes, d = i % npes;
        ((volatile int*)nvshmem_ptr(ncount + me * C + c, d))[0] = cnt[i];
    }
    __threadfence_system();
    __syncthreads();
    for (int d = threadIdx.x; d < npes; d += blockDim.x) nvshmemx_signal_op(sig + me, 1, NVSHMEM_SIGNAL_ADD, d);
    for (int s = threadIdx.x; s < npes; s += blockDim.x) {
        nvshmem_signal_wait_until(sig + s, NVSHMEM_CMP_GE, 1);
        __threadfence_system();  // the poll has no fence: order the ncount loads below after it
        nvshmemx_signal_op(sig + s, (u64)0 - 1, NVSHMEM_SIGNAL_ADD, me);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        int run = 0;
        for (int i = 0; i < npes * C; i++) { rbase[i] = run; run += ((volatile int*)ncount)[i]; }
        *rtotal = run;
    }
}

extern "C" __global__ void gc_moe_normal_dispatch(const bf16* x, const int* topk, const float* weights, char* staging,
                                                  char* ring, char* recv, const int* ncount, const int* rbase, u64* ctr,
                                                  int tokens, int k, int hidden, int fp8, int L, int Q, int S, u64 M, u64 R) {
    const int me = nvshmem_my_pe(), npes = nvshmem_n_pes();
    const int C = gridDim.x / 2, c = blockIdx.x / 2, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int CN = C * npes;
    if ((blockIdx.x & 1) == 0) {
        // Sender: pack this channel's tokens once, then one warp per destination rank.
        const int per = (tokens + C - 1) / C, t0 = min(c * per, tokens), t1 = min(t0 + per, tokens);
        for (int t = t0 + warp; t < t1; t += blockDim.x >> 5) gc_moe_pack(staging + (u64)t * M, x + (u64)t * hidden, t, me, hidden, fp8);
        __syncthreads();
        const int d = warp;
        if (d >= npes) return;
        GcRingWriter w = gc_ring_writer(ctr, GC_DSENT, GC_DTAIL, GC_DHEAD, ring, R, c, me, npes, d, Q, S);
        for (int t = t0; t < t1; t++) {
            if (!(gc_normal_mask(topk, t, k, L) & (1u << d))) continue;
            char* row = gc_ring_slot(w);
            gc_moe_copy(row, staging + (u64)t * M, M);
            if (lane < k) {
                const int e = topk[t * k + lane];
                ((int*)(row + M))[lane] = (e >= 0 && e / L == d) ? e % L : -1;
                ((float*)(row + M + 4 * k))[lane] = weights[t * k + lane];
            }
            gc_ring_advance(w);
        }
        gc_ring_finish(w);
    } else {
        // Receiver: one warp per source rank copies its rows out of the ring, in order.
        const int s = warp;
        if (s >= npes) return;
        const u64* tail = ctr + GC_DTAIL * CN + c * npes + s;
        u64* head = ctr + GC_DHEAD * CN + c * npes + s;
        const char* slots = ring + (u64)(c * npes + s) * Q * R;
        char* dst = recv + (u64)rbase[s * C + c] * R;
        const u64 start = *head, end = start + (u64)ncount[s * C + c];
        u64 done = start;
        while (done < end) {
            u64 avail = gc_normal_acquire(tail);
            if (avail > end) avail = end;
            if (avail <= done) continue;
            for (u64 i = done; i < avail; i++) gc_ring_read(dst + (i - start) * R, slots + (i % Q) * R, R);
            gc_normal_publish(head, avail);
            done = avail;
        }
    }
}

extern "C" __global__ void gc_moe_normal_expert(const char* recv, const int* rtotal, bf16* part, int k, int hidden, int fp8,
                                                u64 M, u64 R, u64 rows) {
    const int lane = threadIdx.x & 31;
    const u64 n = min(rows, (u64)*rtotal);
    for (u64 r = gc_warp(); r < n; r += gc_warps()) {
        const char* p = recv + r * R;
        const int* ids = (const int*)(p + M);
        const float* w = (const float*)(p + M + 4 * k);
        const char* payload = p + 16;
        bf16* o = part + r * hidden;
        for (int h = lane; h < hidden; h += 32) {
            const float v = fp8 ? gc_from_e4m3(((const unsigned char*)payload)[h]) * ((const float*)(payload + hidden))[h / 128]
                                : gc_f32(((const bf16*)payload)[h]);
            const float f = gc_f32(gc_bf16(1.5f * v));
            float acc = 0.f;
            for (int j = 0; j < k; j++) if (ids[j] >= 0) acc += w[j] * f;
            o[h] = gc_bf16(acc);
        }
    }
}

extern "C" __global__ void gc_moe_normal_combine(const bf16* part, char* cring, const int* ncount, const int* rbase,
                                                 const int* topk, bf16* out, u64* ctr, int tokens, int k, int hidden, int L,
                                                 int Q, int S) {
    const int me = nvshmem_my_pe(), npes = nvshmem_n_pes();
    const int C = gridDim.x / 2, c = blockIdx.x / 2, warp = threadIdx.x >> 5;
    const int CN = C * npes;
    const u64 rowBytes = (u64)hidden * 2;
    if ((blockIdx.x & 1) == 0) {
        // Sender: one warp per token owner s returns the partial rows of (s, c), in order.
        const int s = warp;
        if (s >= npes) return;
        GcRingWriter w = gc_ring_writer(ctr, GC_CSENT, GC_CTAIL, GC_CHEAD, cring, rowBytes, c, me, npes, s, Q, S);
        const char* src = (const char*)(part + (u64)rbase[s * C + c] * hidden);
        const int n = ncount[s * C + c];
        for (int i = 0; i < n; i++) {
            gc_moe_copy(gc_ring_slot(w), src + (u64)i * rowBytes, rowBytes);
            gc_ring_advance(w);
        }
        gc_ring_finish(w);
    } else {
        // Receiver (the tokens' owner): token by token, the sum of every holding rank's row.
        __shared__ u64 pos[32];
        __shared__ unsigned mask;
        for (int b = threadIdx.x; b < npes; b += blockDim.x) pos[b] = ctr[GC_CHEAD * CN + c * npes + b];
        const int per = (tokens + C - 1) / C, t0 = min(c * per, tokens), t1 = min(t0 + per, tokens);
        __syncthreads();
        for (int t = t0; t < t1; t++) {
            if (threadIdx.x == 0) {
                const unsigned m = gc_normal_mask(topk, t, k, L);
                for (int b = 0; b < npes; b++)
                    if (m & (1u << b)) while (gc_ld_acquire_sys(ctr + GC_CTAIL * CN + c * npes + b) <= pos[b]) {}
                mask = m;
            }
            __syncthreads();
            const unsigned m = mask;
            for (int g = threadIdx.x; g < hidden / 8; g += blockDim.x) {
                float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int b = 0; b < npes; b++) {
                    if (!(m & (1u << b))) continue;
                    const int4 v = __ldcg((const int4*)(cring + ((u64)(c * npes + b) * Q + pos[b] % Q) * rowBytes + (u64)g * 16));  // L2: the slot is rewritten while we run
                    const unsigned u[4] = {(unsigned)v.x, (unsigned)v.y, (unsigned)v.z, (unsigned)v.w};
                    for (int i = 0; i < 4; i++) { acc[2 * i] += gc_f32(u[i] & 0xFFFF); acc[2 * i + 1] += gc_f32(u[i] >> 16); }
                }
                int4 o;
                unsigned* ou = (unsigned*)&o;
                for (int i = 0; i < 4; i++) ou[i] = (unsigned)gc_bf16(acc[2 * i]) | ((unsigned)gc_bf16(acc[2 * i + 1]) << 16);
                *(int4*)(out + (u64)t * hidden + (u64)g * 8) = o;
            }
            __threadfence();
            __syncthreads();
            if (threadIdx.x == 0) {
                for (int b = 0; b < npes; b++)
                    if (m & (1u << b)) { pos[b]++; gc_st_release_sys(ctr + GC_CHEAD * CN + c * npes + b, pos[b]); }
            }
            __syncthreads();
        }
    }
}
