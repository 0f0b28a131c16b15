// What the Jacobi kernels that do their own halo exchange share (nvshmem_block, nvshmem_opt,
// nccl_lsa): a block's place in the slab, and the device-side norm of the one-kernel-per-iteration
// variants. Compiled appended to jacobi.cu (block_norm_add, JBX, JROWS, u64) and followed by
// jacobi_nvshmem.cu or jacobi_nccl_lsa.cu. Device functions only: no kernels here.
//
// Device-side norm (no host collective, no memset, nothing on the stream but the stencil kernel)
//   Each rank has a norm area of 16 + 8 * GC_NORM_DEPTH * nranks bytes (zeroed once; Swift:
//   DeviceNormLayout):
//     @0  float acc      this kernel's sum of squared residues (local only)
//     @4  u32   ticket   blocks of this kernel that have finished (local only)
//     @16 u64   slot[D][nranks]   slot[tag % D][src] = GC_NORM_WORD(tag, rank src's sum), written by rank src
//   A check is named by its tag (1, 2, 3, ... over the life of the variant, never reused). The
//   kernel of iteration j takes `publish` (the tag of the check it computes, 0 = none) and
//   `assemble` (the tag of a check published two or more iterations before, 0 = none; the
//   host's DeviceNormPlan). Every block adds its residue to acc (when publishing), then takes a
//   ticket; the last block (thread 0):
//     1. assemble: waits until slot[assemble % D][p] carries `assemble` for every rank p, sums the
//        nranks values in rank order (the same float sum on every rank) and writes
//        GC_NORM_WORD(assemble, sum) to out[assemble % D] (page-locked host memory, mapped);
//        a slot with another tag gives tag 0xffffffff (the host reports a broken protocol);
//     2. publish: takes acc and resets acc and ticket for the next kernel, then stores
//        GC_NORM_WORD(publish, acc) into slot[publish % D][rank] of every rank.
//   Why D = 4 slots suffice: a kernel assembles check t no later than it publishes t + 2
//   (assembling first). Rank p overwrites our slot (t % 4) with t + 4 only after it assembled
//   t + 2, which needs our t + 2, which we publish only after we assembled t. The two-iteration
//   lag lets ranks drift by two iterations before a last block waits for a peer's value (a lag
//   of one made the norm a barrier with one iteration of slack: ~8 us per iteration on 4 H200s).
//   Nobody waits within a kernel for a peer's same kernel: there is no barrier.

// This block's interior columns [x0, x0 + n) and rows [row0, rend), this thread's first column ix
// (jacobi_col), and whether the block holds the first / last interior row.
struct BlockPlace {
    int x0, n, ix, row0, rend;
    bool first, last;
};

__device__ __forceinline__ BlockPlace place(int iy_start, int iy_end, int nx, int nbx) {
    const int bx = blockIdx.x % nbx, by = blockIdx.x / nbx;
    const int v = jacobi_vec(nx);
    BlockPlace p;
    jacobi_block_rows(by, iy_start, iy_end, nbx, &p.row0, &p.rend);
    p.x0 = max(1, v == 4 ? 4 * bx * JBX : bx * JBX + 1);
    p.n = max(0, min(nx - 1, (v == 4 ? 4 * bx * JBX : bx * JBX + 1) + v * JBX) - p.x0);
    p.ix = jacobi_col(bx, nx);
    p.first = p.row0 == iy_start;
    p.last = p.row0 <= iy_end - 1 && iy_end - 1 < p.rend;
    return p;
}

#define GC_NORM_SLOTS 16
#define GC_NORM_DEPTH 4
#define GC_NORM_WORD(tag, v) (((u64)(tag) << 32) | (u64)__float_as_uint(v))
#define GC_NORM_BROKEN 0xffffffffu

__device__ __forceinline__ u64* gc_norm_slot(unsigned char* norm, int nranks, unsigned tag, int src) {
    return reinterpret_cast<u64*>(norm + GC_NORM_SLOTS) + (size_t)(tag % GC_NORM_DEPTH) * nranks + src;
}

// Every thread of every block calls it once, after the block's work, with its residue s. Adds
// the block's sum to acc when publishing; returns true on thread 0 of the grid's last block (and
// only there, only when publish or assemble is set), which then owns the rest of the protocol.
__device__ __forceinline__ bool gc_norm_last_block(float s, unsigned char* norm, unsigned publish, unsigned assemble) {
    if (publish) block_norm_add(s, reinterpret_cast<float*>(norm));  // thread 0 does the atomicAdd
    if ((publish == 0 && assemble == 0) || threadIdx.x != 0) return false;
    unsigned* ticket = reinterpret_cast<unsigned*>(norm + 4);
    __threadfence();  // this block's atomicAdd to acc is performed before its ticket
    if (atomicAdd(ticket, 1u) != gridDim.x - 1) return false;
    __threadfence();  // every other block's acc atomicAdd is performed before we read acc
    return true;
}

// The last block: this kernel's sum (resetting acc and ticket for the next kernel, which starts
// after this one ends, in stream order).
__device__ __forceinline__ float gc_norm_take(unsigned char* norm, unsigned publish) {
    const float v = publish ? atomicExch(reinterpret_cast<float*>(norm), 0.0f) : 0.0f;
    atomicExch(reinterpret_cast<unsigned*>(norm + 4), 0u);
    return v;
}

// The last block: sums the nranks words `load(p)` returns (each already waited for) in rank
// order and writes the result for the host.
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
