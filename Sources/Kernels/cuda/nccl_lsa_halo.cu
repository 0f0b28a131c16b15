// Halo exchange of a 1-D domain split across ranks, by NCCL's device API (LSA): the building
// block of the Jacobi solver's NCCL-device variant. Compiled with RuntimeCompiler.ncclDeviceRequest
// plus "gc_nccl_lsa.cuh" (KernelSources.ncclLSAHelpers).
//
// Launch contract
//   gc_lsa_halo_exchange(ncclWindow_t win, u64 dataOffset, u64 flagOffset, int rank, int nRanks,
//                        u64 rowBytes, u64 rows, unsigned epoch)
//   Rank r's window holds, at dataOffset, rows + 2 rows of rowBytes bytes: row 0 is the halo from
//   rank r - 1, rows 1..rows are owned, row rows + 1 is the halo from rank r + 1 (non-periodic:
//   rank 0 and rank nRanks - 1 have one neighbour). rowBytes % 16 == 0.
//   One block of any size; flags at flagOffset (nRanks words, zeroed once before the first call);
//   `epoch` = 1, 2, 3, ... on successive calls, the same on every rank.
//   The kernel writes row 1 into the left neighbour's last halo row and row `rows` into the right
//   neighbour's first halo row, then signals both and waits for both: when it ends, this rank's
//   halo rows hold the neighbours' boundary rows of this step.
//   Reuse hazard: a neighbour may write our halo rows of step k + 1 as soon as it has seen our
//   step-k signal, so read the halos of step k before calling this kernel for step k + 1.
#include "gc_nccl_device.h"
#include "gc_nccl_lsa.cuh"

typedef unsigned long long u64;

extern "C" __global__ void gc_lsa_halo_exchange(ncclWindow_t win, u64 dataOffset, u64 flagOffset, int rank, int nRanks,
                                                u64 rowBytes, u64 rows, unsigned epoch) {
    int peers[2];
    int nPeers = 0;
    if (rank > 0) peers[nPeers++] = rank - 1;
    if (rank < nRanks - 1) peers[nPeers++] = rank + 1;
    const uint4* first = gc_lsa_local<const uint4>(win, dataOffset + rowBytes);
    const uint4* last = gc_lsa_local<const uint4>(win, dataOffset + rows * rowBytes);
    u64 words = rowBytes / 16;
    for (int k = 0; k < nPeers; k++) {
        int peer = peers[k];
        // Left neighbour gets our first row as its last halo; right neighbour our last row as its first halo.
        bool left = peer < rank;
        uint4* dst = gc_lsa_peer<uint4>(win, dataOffset + (left ? (rows + 1) * rowBytes : 0), peer);
        const uint4* src = left ? first : last;
        for (u64 i = threadIdx.x; i < words; i += blockDim.x) dst[i] = src[i];
    }
    gc_lsa_neighbour_sync(win, flagOffset, nRanks, rank, 0, peers, nPeers, epoch);
}
