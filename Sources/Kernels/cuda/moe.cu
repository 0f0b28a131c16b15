// MoE expert-parallel kernels that need no communication library: the token fill, the dispatch
// layout, the FP8 cast, the NCCL style's pack, the fake expert and the weighted combine. The device
// functions are in cuda/moe.cuh, which cuda/moe_nvshmem.cu includes too; compiled by NVRTC. The formulas match Sources/MoE (Payload,
// DispatchLayout, ReceivePlan), which the host checks use.
//
// Buffers (bf16 = unsigned short bits; every row 16-byte aligned):
//   x        [tokens][hidden] bf16         this rank's tokens
//   topk     [tokens][k] int               expert ids, -1 = masked
//   weights  [tokens][k] float
//   counts   [experts] int                 this rank's tokens per expert (the layout)
//   slots    [tokens][k] int               each selection's place among its expert's tokens, -1 masked
//   recv     [L][ranks][window] messages   (local expert, source, slot) → row (l*ranks + s)*window + slot
//   recvCount[ranks][L] int                rows source s sent to each local expert
//   y        like recv, bf16 rows of hidden (the fake expert's output)
//   combRecv [experts][window] bf16 rows   combined rows back at the token's owner, (expert, slot)
//   out      [tokens][hidden] bf16
// A message: int4 header (token, source, 0, GC_MOE_MAGIC), then hidden bf16, or hidden e4m3 bytes
// and hidden/128 fp32 scales; its stride is rounded up to 16 bytes.
//
// Launch contract
//   gc_moe_fill(bf16* x, int tokens, int hidden, int rank)
//     x[t][h] = bf16(gc_moe_value(rank, t, h)). Any grid, grid-stride.
//   gc_moe_layout(const int* topk, int tokens, int k, int experts, int* counts, int* slots)
//     One block per expert (grid-stride over experts), blockDim a multiple of 32 (≤ 1024). slots
//     must be set to -1 (0xFF bytes) before: only valid selections are written. Writes counts[e]
//     and, for every (t, j) with topk = e, slots[t*k + j] = its rank among e's tokens in token order.
//   gc_moe_cast_fp8(const bf16* x, unsigned char* q, float* scales, u64 rows, int hidden)
//     One warp per 128-element block (grid-stride): scales[row][b] = max(amax, 1e-4) / 448,
//     q = e4m3(x * 448 / max(amax, 1e-4)), round to nearest even, saturating. hidden % 128 == 0.
//   gc_moe_pack_nccl(const bf16* x, const int* topk, const int* slots, const int* offsets, char* send,
//                    int tokens, int k, int hidden, int fp8, int rank, u64 stride)
//     One warp per token (grid-stride): packs the token's message once into send row offsets[e0] +
//     slot of its first valid expert, then copies it to offsets[e] + slot of each other valid
//     expert. offsets[e] = Σ_{e' < e} counts[e'] (the host's exclusive scan).
//   gc_moe_expert(const char* recv, const int* recvCount, bf16* y, int ranks, int L, int window,
//                 int hidden, int fp8, u64 stride)
//     The fake expert f(x) = bf16(1.5 x), one warp per receive row (grid-stride), rows at or past
//     recvCount are skipped. FP8 rows are dequantised (e4m3 × scale) first.
//   gc_moe_reduce(const bf16* combRecv, const int* topk, const float* weights, const int* slots,
//                 bf16* out, int tokens, int k, int hidden, int window)
//     out[t][h] = bf16(Σ_j w_j · combRecv[topk_j][slot_j][h]) over valid j, in j order, fp32
//     accumulation; 0 for a token with none. One thread per 8 elements (grid-stride).

#include "moe.cuh"

extern "C" __global__ void gc_moe_fill(bf16* x, int tokens, int hidden, int rank) {
    const u64 n = (u64)tokens * hidden;
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x)
        x[i] = gc_bf16(gc_moe_value(rank, (int)(i / hidden), (int)(i % hidden)));
}

extern "C" __global__ void gc_moe_layout(const int* topk, int tokens, int k, int experts, int* counts, int* slots) {
    __shared__ int sums[32];
    __shared__ int base;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int e = blockIdx.x; e < experts; e += gridDim.x) {
        if (threadIdx.x == 0) base = 0;
        __syncthreads();
        for (int t0 = 0; t0 < tokens; t0 += blockDim.x) {
            const int t = t0 + threadIdx.x;
            int hit = -1;
            if (t < tokens)
                for (int j = 0; j < k; j++) if (topk[t * k + j] == e) hit = j;
            const unsigned ballot = __ballot_sync(0xffffffffu, hit >= 0);
            if (lane == 0) sums[warp] = __popc(ballot);
            __syncthreads();
            int before = base;
            for (int w = 0; w < warp; w++) before += sums[w];
            if (hit >= 0) slots[t * k + hit] = before + __popc(ballot & ((1u << lane) - 1u));
            __syncthreads();
            if (threadIdx.x == 0) { int s = 0; for (int w = 0; w < warps; w++) s += sums[w]; base += s; }
            __syncthreads();
        }
        if (threadIdx.x == 0) counts[e] = base;
        __syncthreads();
    }
}

extern "C" __global__ void gc_moe_cast_fp8(const bf16* x, unsigned char* q, float* scales, u64 rows, int hidden) {
    const u64 blocks = rows * (u64)(hidden / 128);
    for (u64 b = gc_warp(); b < blocks; b += gc_warps()) {
        const float s = gc_cast128(x + b * 128, q + b * 128);
        if ((threadIdx.x & 31) == 0) scales[b] = s;
    }
}

extern "C" __global__ void gc_moe_pack_nccl(const bf16* x, const int* topk, const int* slots, const int* offsets, char* send,
                                            int tokens, int k, int hidden, int fp8, int rank, u64 stride) {
    for (int t = gc_warp(); t < tokens; t += gc_warps()) {
        char* first = 0;
        for (int j = 0; j < k; j++) {
            const int e = topk[t * k + j];
            if (e < 0) continue;
            char* dst = send + (u64)(offsets[e] + slots[t * k + j]) * stride;
            if (!first) { gc_moe_pack(dst, x + (u64)t * hidden, t, rank, hidden, fp8); first = dst; __syncwarp(); }
            else gc_moe_copy(dst, first, stride);
        }
    }
}

extern "C" __global__ void gc_moe_expert(const char* recv, const int* recvCount, bf16* y, int ranks, int L, int window,
                                         int hidden, int fp8, u64 stride) {
    const int lane = threadIdx.x & 31;
    const u64 rows = (u64)L * ranks * window;
    for (u64 r = gc_warp(); r < rows; r += gc_warps()) {
        const int slot = (int)(r % window), s = (int)((r / window) % ranks), l = (int)(r / ((u64)window * ranks));
        if (slot >= recvCount[s * L + l]) continue;
        const char* p = recv + r * stride + 16;
        bf16* out = y + r * hidden;
        for (int h = lane; h < hidden; h += 32) {
            const float v = fp8 ? gc_from_e4m3(((const unsigned char*)p)[h]) * ((const float*)(p + hidden))[h / 128]
                                : gc_f32(((const bf16*)p)[h]);
            out[h] = gc_bf16(1.5f * v);
        }
    }
}

extern "C" __global__ void gc_moe_reduce(const bf16* combRecv, const int* topk, const float* weights, const int* slots,
                                         bf16* out, int tokens, int k, int hidden, int window) {
    const u64 groups = (u64)tokens * (hidden / 8);
    for (u64 g = (u64)blockIdx.x * blockDim.x + threadIdx.x; g < groups; g += (u64)gridDim.x * blockDim.x) {
        const int t = (int)(g / (hidden / 8)), h0 = (int)(g % (hidden / 8)) * 8;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int j = 0; j < k; j++) {
            const int e = topk[t * k + j];
            if (e < 0) continue;
            const float w = weights[t * k + j];
            const int4 v = *(const int4*)(combRecv + ((u64)e * window + slots[t * k + j]) * hidden + h0);
            const unsigned u[4] = {(unsigned)v.x, (unsigned)v.y, (unsigned)v.z, (unsigned)v.w};
            for (int i = 0; i < 4; i++) { acc[2 * i] += w * gc_f32(u[i] & 0xFFFF); acc[2 * i + 1] += w * gc_f32(u[i] >> 16); }
        }
        int4 o;
        unsigned* ou = (unsigned*)&o;
        for (int i = 0; i < 4; i++) ou[i] = (unsigned)gc_bf16(acc[2 * i]) | ((unsigned)gc_bf16(acc[2 * i + 1]) << 16);
        *(int4*)(out + (u64)t * hidden + h0) = o;
    }
}
