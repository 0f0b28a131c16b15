// MoE dispatch and combine over NVSHMEM, two styles (one kernel each, `style` picks):
//   0  put-with-signal (pplx-kernels' design): each (token, expert) message is one
//      nvshmemx_putmem_signal_nbi_warp from this PE's staging row into the owner's receive
//      window, adding 1 to sig[MSG + me] there; the per-expert counts go as one more put with a
//      signal (sig[CNT + me] += 1). Runs over NVLink and over NVSHMEM's proxy transports.
//   1  NVLink stores (DeepEP low-latency's design): warps store each message straight into the
//      owner's window through nvshmem_ptr, block 0 stores the counts, then every block signals
//      each PE once (sig[ARR + me] += 1) after a system fence. Needs a load/store path to every PE.
// Appended to cuda/moe.cu (its device functions and buffer layout) after cuda/nvshmem_prelude.cuh.
//
// sig: symmetric, 5 × npes u64, zero before the first launch: [MSG | CNT | ARR | CMSG | CARR].
// Counters only ever grow by signals and are consumed by subtracting what was awaited (as
// gc_a2a_signal does), so back-to-back launches need no reset and a fast peer's next signals
// are never lost. Every buffer named below is symmetric (nvshmem_malloc), the same size on every PE.
//
// `phase` splits each kernel into its two halves (DeepEP's return_recv_hook, pplx-kernels'
// do_send / do_recv): 1 = send only, 2 = receive only, 3 = both in one launch.
//   send (1): everything this PE writes into others: packing, the puts with their signals or the
//     stores with their arrival signals, the counts; style 0 ends with nvshmem_quiet, so its puts
//     are complete (delivered, and the staging rows or y may be rewritten) when the launch ends.
//     It waits for nothing another PE or a later launch provides: any grid size runs.
//   receive (2): block b < npes waits for source b's signals and subtracts exactly what one send
//     half of b added (below); the other blocks return at once. When it ends every row one send
//     half of every PE addressed to this PE is in place. Each receive consumes one send's signals,
//     in order: k send launches on a PE with no receive between them (their signals add up) are
//     consumed by k receive launches, the i-th reading the counts of the i-th send's routing
//     (recvCount of that routing) — the counters never go below zero and nothing is reset. In
//     order because a PE's sends follow each other on its stream and each ends with its writes
//     complete (quiet; stores fenced before the arrival signals): no signal of send i+1 exists
//     before all of send i's, so the first signals a receive finds are the oldest send's.
//     It needs only that every peer's matching send half is (or will be) launched; it holds at
//     most npes blocks while waiting.
//   both (3): send then receive in one launch; the whole grid must be resident at once, since
//     blocks wait for other PEs whose sends run in the same launch there.
//
// Launch contract (plain launch; gridDim.x >= npes, the same on every PE and for every phase of
// the same kernel, since style 1's receive counts one arrival per block of the sender's grid;
// blockDim a multiple of 32; residency as above)
//   gc_moe_dispatch(const bf16* x, const int* topk, const int* slots, const int* counts,
//                   char* staging, char* recv, int* recvCount, u64* sig,
//                   int tokens, int k, int hidden, int fp8, int L, int window, u64 stride, int style, int phase)
//     Send: one warp per token (grid-stride) packs it once into staging[t] (casting to FP8 when
//     fp8), then sends that message to row (l*npes + me)*window + slot of each valid expert's
//     owner; counts[d*L ..] go to recvCount[me*L ..] on PE d. Receive: block b < npes waits for
//     source b: style 0, its count put (CNT), then as many message signals (MSG) as those counts
//     add up to; style 1, gridDim.x arrivals (ARR).
//   gc_moe_combine(const bf16* y, const int* recvCount, const int* counts, bf16* combRecv, u64* sig,
//                  int hidden, int L, int window, int style, int phase)
//     Send: one warp per received row (l, s, slot < recvCount[s*L + l]) (grid-stride) sends y's
//     row to combRecv row (me*L + l)*window + slot on PE s (style 0: put with signal CMSG; style 1:
//     stores, then one CARR signal per block and PE). Receive: block b < npes waits for what PE b
//     owes it: style 0, Σ counts[e] over b's experts; style 1, gridDim.x arrivals. Run
//     gc_moe_reduce after the receive half.

#define GC_NVSHMEM_PUT_SIGNAL_BRIDGE
#include "nvshmem_prelude.cuh"
#include "moe.cuh"

enum { GC_MSG = 0, GC_CNT = 1, GC_ARR = 2, GC_CMSG = 3, GC_CARR = 4 };
enum { GC_SEND = 1, GC_RECEIVE = 2 };

// nvshmem_signal_wait_until is a volatile poll with no fence after it (unlike nvshmem_uint64_wait_until):
// the fence makes what the signals released (style 0's count put: recvCount) visible to the loads after it.
__device__ __forceinline__ void gc_moe_consume(u64* sig, u64 count, int me) {
    nvshmem_signal_wait_until(sig, NVSHMEM_CMP_GE, count);
    __threadfence_system();
    nvshmemx_signal_op(sig, (u64)0 - count, NVSHMEM_SIGNAL_ADD, me);
}

// Style 1: every thread's stores before this point reach every PE before its arrival signal.
__device__ __forceinline__ void gc_moe_arrive(u64* sig, int me, int npes) {
    __threadfence_system();
    __syncthreads();
    for (int d = threadIdx.x; d < npes; d += blockDim.x) {
        __threadfence_system();
        nvshmemx_signal_op(sig + me, 1, NVSHMEM_SIGNAL_ADD, d);
    }
}

extern "C" __global__ void gc_moe_dispatch(const bf16* x, const int* topk, const int* slots, const int* counts,
                                           char* staging, char* recv, int* recvCount, u64* sig,
                                           int tokens, int k, int hidden, int fp8, int L, int window, u64 stride, int style, int phase) {
    const int me = nvshmem_my_pe(), npes = nvshmem_n_pes();
    const int lane = threadIdx.x & 31;
    if (phase & GC_SEND) {
        for (int t = gc_warp(); t < tokens; t += gc_warps()) {
            char* st = staging + (u64)t * stride;
            gc_moe_pack(st, x + (u64)t * hidden, t, me, hidden, fp8);
            __syncwarp();
            for (int j = 0; j < k; j++) {
                const int e = topk[t * k + j];
                if (e < 0) continue;
                const int d = e / L, l = e % L;
                char* dst = recv + ((u64)(l * npes + me) * window + slots[t * k + j]) * stride;
                if (style == 0) nvshmemx_putmem_signal_nbi_warp(dst, st, stride, sig + GC_MSG * npes + me, 1, NVSHMEM_SIGNAL_ADD, d);
                else gc_moe_copy((char*)nvshmem_ptr(dst, d), st, stride);
            }
        }
        if (blockIdx.x == 0) {
            const int warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
            for (int d = warp; d < npes; d += warps) {
                if (style == 0) {
                    nvshmemx_putmem_signal_nbi_warp(recvCount + me * L, counts + d * L, (size_t)L * 4, sig + GC_CNT * npes + me, 1, NVSHMEM_SIGNAL_ADD, d);
                } else {
                    int* r = (int*)nvshmem_ptr(recvCount + me * L, d);
                    for (int l = lane; l < L; l += 32) r[l] = counts[d * L + l];
                }
            }
        }
        if (style == 1) gc_moe_arrive(sig + GC_ARR * npes, me, npes);
    }
    if ((phase & GC_RECEIVE) && blockIdx.x < npes && threadIdx.x == 0) {
        const int s = blockIdx.x;
        if (style == 0) {
            gc_moe_consume(sig + GC_CNT * npes + s, 1, me);
            u64 n = 0;
            for (int l = 0; l < L; l++) n += (u64)((volatile int*)recvCount)[s * L + l];
            if (n > 0) gc_moe_consume(sig + GC_MSG * npes + s, n, me);
        } else {
            gc_moe_consume(sig + GC_ARR * npes + s, gridDim.x, me);
        }
    }
    if (style == 0 && (phase & GC_SEND)) nvshmem_quiet();  // this PE's puts are complete: staging may be rewritten
}

extern "C" __global__ void gc_moe_combine(const bf16* y, const int* recvCount, const int* counts, bf16* combRecv, u64* sig,
                                          int hidden, int L, int window, int style, int phase) {
    const int me = nvshmem_my_pe(), npes = nvshmem_n_pes();
    if (phase & GC_SEND) {
        const u64 rows = (u64)L * npes * window, rowBytes = (u64)hidden * 2;
        for (u64 r = gc_warp(); r < rows; r += gc_warps()) {
            const int slot = (int)(r % window), s = (int)((r / window) % npes), l = (int)(r / ((u64)window * npes));
            if (slot >= recvCount[s * L + l]) continue;
            bf16* dst = combRecv + ((u64)(me * L + l) * window + slot) * hidden;
            if (style == 0) nvshmemx_putmem_signal_nbi_warp(dst, y + r * hidden, rowBytes, sig + GC_CMSG * npes + me, 1, NVSHMEM_SIGNAL_ADD, s);
            else gc_moe_copy((char*)nvshmem_ptr(dst, s), (const char*)(y + r * hidden), rowBytes);
        }
        if (style == 1) gc_moe_arrive(sig + GC_CARR * npes, me, npes);
    }
    if ((phase & GC_RECEIVE) && blockIdx.x < npes && threadIdx.x == 0) {
        const int b = blockIdx.x;
        if (style == 0) {
            u64 n = 0;
            for (int l = 0; l < L; l++) n += (u64)counts[b * L + l];
            if (n > 0) gc_moe_consume(sig + GC_CMSG * npes + b, n, me);
        } else {
            gc_moe_consume(sig + GC_CARR * npes + b, gridDim.x, me);
        }
    }
    if (style == 0 && (phase & GC_SEND)) nvshmem_quiet();  // y may be rewritten once these puts are complete
}
