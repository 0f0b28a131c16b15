// A barrier among the processes of one host over CUDA IPC-mapped flags, enqueued on a stream:
// what the copy-engine all-to-all (alltoall --backends cuda-ce) runs after its copies.
// Self-contained: no headers, compiled by NVRTC.
//
// Launch contract
//   gc_ipc_barrier(const u64* flags_of, u64* mine, int me, int npes, u64 epoch)
//     flags_of[p] (device array of npes addresses) is PE p's flag array (npes u64) as mapped in
//     this process (flags_of[me] == mine); `epoch` is 1, 2, 3, ... on successive calls, the same
//     on every PE. One block of at least npes threads. Thread p release-stores `epoch` into slot
//     `me` of PE p's flags, then spins until slot p of its own flags is at least `epoch`
//     (acquire). Everything this PE's stream completed before the kernel (copies into peers
//     included) is visible to a peer once it sees the flag: the system-scope fence and release
//     store order it. When the kernel ends, every PE has reached this call.

typedef unsigned long long u64;

extern "C" __global__ void gc_ipc_barrier(const u64* flags_of, u64* mine, int me, int npes, u64 epoch) {
    const int p = threadIdx.x;
    if (p >= npes) return;
    u64* slot = (u64*)flags_of[p] + me;
    __threadfence_system();
    asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(slot), "l"(epoch) : "memory");
    u64 seen;
    do {
        asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(seen) : "l"(mine + p) : "memory");
    } while (seen < epoch);
}
