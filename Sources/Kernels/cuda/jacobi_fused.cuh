// jacobi_fused.cuh: what the Jacobi kernels that do their own halo exchange share (nvshmem_block,
// nvshmem_opt, nccl_lsa): a block's place in the slab, and the device-side norm of the
// one-kernel-per-iteration variants. Included (from memory) by jacobi_nvshmem.cu and
// jacobi_nccl_lsa.cu; includes jacobi.cuh (block_norm_add, warp_sum, JBX, u64). Device functions
// only: no kernels here.
//
// Device-side norm (no host collective, no memset, nothing on the stream but the stencil kernel)
//   GC_NORM_SLOTS (16), GC_NORM_DEPTH (D = 4) and GC_NORM_BROKEN come from gc_constants.cuh
//   (Swift: DeviceNormLayout.slotsOffset, .depth, .brokenTag).
//   Each rank has a norm area of 16 + 8 * GC_NORM_DEPTH * nranks + 8 * warps bytes, warps = the
//   warps of the grid's stencil blocks (zeroed once; Swift: DeviceNormLayout):
//     @0  u32   parts[2]   parts[tag % 2]: how many stencil warps computed check `tag` (local only)
//     @16 u64   slot[D][nranks]   slot[tag % D][src] = GC_NORM_WORD(tag, rank src's sum), written by rank src
//     @16 + 8 * D * nranks   float partial[2][n]   partial[tag % 2][w]: stencil warp w's sum of
//                                                  check `tag`, n = the grid's stencil warps (local only)
//   A check is named by its tag (1, 2, 3, ... over the life of the variant, never reused). The
//   kernel of iteration j takes three tags (0 = none; the host's DeviceNormPlan):
//     publish   the check it computes: every warp of every stencil block stores its residue sum
//               in partial[publish % 2][w] (a plain store: no atomic, no block barrier);
//     send      the check the kernel before it computed;
//     assemble  a check sent at least two kernels before.
//   The grid has one extra block, the first (service block): no stencil work. It
//     1. sums partial[send % 2][0 .. parts[send % 2]) (the previous kernel has ended): every
//        thread a strided part, 16-byte loads, 16 floats in flight (a 16-row grid on a 4096-row
//        slab has 32768 warps: one float at a time took ~60 us, longer than the kernel), then a
//        block reduction; the same order every time;
//     2. (thread 0) records parts[publish % 2] = the grid's stencil warps;
//     3. (thread 0) assembles: waits until slot[assemble % D][p] carries `assemble` for every
//        rank p, sums the nranks values in rank order (the same float sum on every rank) and writes
//        GC_NORM_WORD(assemble, sum) to out[assemble % D] (page-locked host memory, mapped); a
//        slot with another tag gives tag 0xffffffff (the host reports a broken protocol);
//     4. (thread 0) sends: stores GC_NORM_WORD(send, sum) into slot[send % D][rank] of every rank.
//   The exchange runs beside the stencil blocks, off the iteration's critical path (it was the
//   grid's last block, after every other block: ~6 us per iteration on 4 H200s). Per-warp sums
//   replaced a block reduction (__syncthreads) and one atomicAdd per block into one float.
//   Why D = 4 slots suffice: a kernel assembles check t no later than it sends t + 2
//   (assembling first). Rank p overwrites our slot (t % 4) with t + 4 only after it assembled
//   t + 2, which needs our t + 2, which we send only after we assembled t. The two-kernel lag
//   lets ranks drift before a service block waits for a peer. Nobody waits within a kernel for a
//   peer's same kernel: there is no barrier.
#pragma once
#include "jacobi.cuh"
#include "gc_constants.cuh"

// This block's column bx, interior columns [x0, x0 + n) and rows [row0, rend), this thread's
// first column ix (jacobi_col), and whether the block holds the first / last interior row.
struct BlockPlace {
    int bx, x0, n, ix, row0, rend;
    bool first, last;
};

// `service`: the grid has one more block, the first (blockIdx.x 0), which does the norm's
// exchange (gc_norm_service) and no stencil work. Block rows go boundary rows first: the block
// row holding iy_start, then the one holding iy_end - 1, then the others in order, so the halos
// a neighbour's next kernel waits for are sent in the first wave of a multi-wave grid.
__device__ __forceinline__ BlockPlace place(int iy_start, int iy_end, int nx, int nbx, bool service = false) {
    const int b = blockIdx.x - (service ? 1 : 0);
    const int nby = (gridDim.x - (service ? 1 : 0)) / nbx;
    const int k = b / nbx;
    const int by = k == 0 ? 0 : k == 1 ? nby - 1 : k - 1;
    const int v = jacobi_vec(nx);
    BlockPlace p;
    p.bx = b % nbx;
    jacobi_block_rows(by, nby, iy_start, iy_end, &p.row0, &p.rend);
    p.x0 = max(1, v == 4 ? 4 * p.bx * JBX : p.bx * JBX + 1);
    p.n = max(0, min(nx - 1, (v == 4 ? 4 * p.bx * JBX : p.bx * JBX + 1) + v * JBX) - p.x0);
    p.ix = jacobi_col(p.bx, nx);
    p.first = p.row0 == iy_start;
    p.last = p.row0 <= iy_end - 1 && iy_end - 1 < p.rend;
    return p;
}

#define GC_NORM_WORD(tag, v) (((u64)(tag) << 32) | (u64)__float_as_uint(v))

__device__ __forceinline__ u64* gc_norm_slot(unsigned char* norm, int nranks, unsigned tag, int src) {
    return reinterpret_cast<u64*>(norm + GC_NORM_SLOTS) + (size_t)(tag % GC_NORM_DEPTH) * nranks + src;
}

__device__ __forceinline__ float* gc_norm_partial(unsigned char* norm, int nranks) {
    return reinterpret_cast<float*>(norm + GC_NORM_SLOTS + 8 * (size_t)GC_NORM_DEPTH * nranks);
}

// The grid's first block in the one-kernel-per-iteration variants: no stencil work, only the norm
// (first, so it is resident from the start however many waves the grid takes).
__device__ __forceinline__ bool gc_norm_service_block() { return blockIdx.x == 0; }

// Stencil warps of this grid (all blocks but the service block; JBX threads per block, a multiple of 32).
__device__ __forceinline__ unsigned gc_norm_warps() { return (gridDim.x - 1) * (JBX / 32); }

// Every thread of every stencil block calls it once, after its work, with its residue s: when
// publishing, each warp's sum goes to partial[publish % 2][w], w = (blockIdx.x - 1) * warps per
// block + warp.
__device__ __forceinline__ void gc_norm_add(float s, unsigned char* norm, int nranks, unsigned publish) {
    if (!publish) return;
    s = warp_sum(s);
    if ((threadIdx.x & 31) == 0) {
        const unsigned w = (blockIdx.x - 1) * (JBX / 32) + threadIdx.x / 32;
        gc_norm_partial(norm, nranks)[(size_t)(publish % 2) * gc_norm_warps() + w] = s;
    }
}

// This thread's share of the n floats at p (thread t takes elements t, t + blockDim.x, ... in
// 16-byte words when n % 4 == 0), four words in flight at a time. A fixed order for a given n.
__device__ __forceinline__ float gc_norm_strided_sum(const float* p, unsigned n) {
    float s = 0.0f;
    if (n % 4 != 0) {
        for (unsigned i = threadIdx.x; i < n; i += blockDim.x) s += p[i];
        return s;
    }
    const float4* q = reinterpret_cast<const float4*>(p);
    const unsigned n4 = n / 4, step = blockDim.x;
    float4 acc[4];
#pragma unroll
    for (int k = 0; k < 4; k++) acc[k] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    unsigned i = threadIdx.x;
    for (; i + 3 * step < n4; i += 4 * step) {
        float4 v[4];
#pragma unroll
        for (int k = 0; k < 4; k++) v[k] = q[i + k * step];
#pragma unroll
        for (int k = 0; k < 4; k++) { acc[k].x += v[k].x; acc[k].y += v[k].y; acc[k].z += v[k].z; acc[k].w += v[k].w; }
    }
    for (; i < n4; i += step) {
        const float4 v = q[i];
        acc[0].x += v.x; acc[0].y += v.y; acc[0].z += v.z; acc[0].w += v.w;
    }
#pragma unroll
    for (int k = 0; k < 4; k++) s += (acc[k].x + acc[k].y) + (acc[k].z + acc[k].w);
    return s;
}

// Sums the nranks words `load(p)` returns (each waited for) in rank order and writes the result
// for the host.
template <class Load>
__device__ __forceinline__ void gc_norm_assemble(unsigned tag, int nranks, u64* out, const Load& load) {
    float sum = 0.0f;
    unsigned seen = tag;
    for (int p = 0; p < nranks; p++) {
        const u64 w = load(p);
        if ((unsigned)(w >> 32) != tag) seen = GC_NORM_BROKEN;
        sum += __uint_as_float((unsigned)w);
    }
    *reinterpret_cast<volatile u64*>(out + tag % GC_NORM_DEPTH) = GC_NORM_WORD(seen, sum);
}

// The service block's work (every thread of a block of the grid calls it; grid 1 for the
// finish kernels): sum the previous kernel's per-warp sums of check `send`, record how many
// warps compute `publish`, assemble `assemble` (wait(p) returns rank p's slot word once it
// carries the tag), then give send's word to put(word) to store into slot[send % D][rank] of
// every rank. wait and put run on thread 0 only.
template <class Wait, class Put>
__device__ __forceinline__ void gc_norm_service(unsigned char* norm, int nranks, unsigned publish, unsigned send, unsigned assemble,
                                                u64* out, const Wait& wait, const Put& put) {
    unsigned* parts = reinterpret_cast<unsigned*>(norm);
    float v = 0.0f;
    if (send) {
        const unsigned n = parts[send % 2];
        v = block_sum(gc_norm_strided_sum(gc_norm_partial(norm, nranks) + (size_t)(send % 2) * n, n));
    }
    if (threadIdx.x != 0) return;
    if (publish) parts[publish % 2] = gc_norm_warps();
    if (assemble) gc_norm_assemble(assemble, nranks, out, wait);
    if (send) put(GC_NORM_WORD(send, v));
}
