// Copy, fill, check and pointer-chase kernels for `gpucomm copy`. Includes gc_common.cuh (the
// typedefs and the 16-byte copy with loads in flight); compiled by NVRTC. Addresses may be device
// memory, a peer's memory (peer access enabled) or host memory mapped for the device
// (cuMemHostAlloc/cuMemHostRegister with DEVICEMAP).
//
// Launch contract
//   gc_copy_fill(u32* p, u64 n, u32 seed)
//     p[i] = gc_copy_value(i, seed) for i < n. Grid-stride; any grid and block.
//   gc_copy_count(const u32* p, u64 n, u32 seed, u64* wrong)
//     adds the number of i < n with p[i] != gc_copy_value(i, seed) to *wrong. Grid-stride; any
//     grid; block a multiple of 32.
//   gc_copy_sm(const uint4* src, uint4* dst, u64 n16)
//     dst[i] = src[i] for i < n16 (16-byte words; both 16-byte aligned). Each thread moves 4
//     words per step with all 4 loads issued before the stores, so a block keeps 4 × blockDim
//     loads in flight (what a PCIe or NVLink read needs to reach the link's rate). Grid-stride;
//     any grid and block.
//   gc_copy_chase(const u64* buf, u64 hops, u64* out)
//     one thread: i = 0, then hops times i = buf[i] with ld.global.cv (no cached copy is trusted:
//     a system-memory line is fetched again every time); *out = i. Grid 1, block 1.
// Values: gc_copy_value is always even, so memory set to bytes 0xFF (odd words) never passes.
// The host computes the same function (Sources/Copy/Pattern.swift) to fill and check pageable memory.

#include "gc_common.cuh"

__device__ __forceinline__ u32 gc_copy_value(u64 i, u32 seed) {
    u64 x = (i + ((u64)seed << 32)) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (u32)x & 0xFFFFFFFEu;
}

extern "C" __global__ void gc_copy_fill(u32* p, u64 n, u32 seed) {
    for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        p[i] = gc_copy_value(i, seed);
    }
}

extern "C" __global__ void gc_copy_count(const u32* p, u64 n, u32 seed, u64* wrong) {
    u64 bad = 0;
    for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        if (p[i] != gc_copy_value(i, seed)) bad++;
    }
    for (int o = 16; o > 0; o >>= 1) bad += __shfl_down_sync(0xFFFFFFFFu, bad, o);
    if ((threadIdx.x & 31) == 0 && bad != 0) atomicAdd(wrong, bad);
}

extern "C" __global__ void gc_copy_sm(const uint4* __restrict__ src, uint4* __restrict__ dst, u64 n16) {
    gc_copy16_in_flight<4>(dst, src, n16, blockIdx.x * (u64)blockDim.x + threadIdx.x, (u64)gridDim.x * blockDim.x);
}

extern "C" __global__ void gc_copy_chase(const u64* buf, u64 hops, u64* out) {
    u64 i = 0;
    for (u64 h = 0; h < hops; h++) i = __ldcv(buf + i);
    *out = i;
}
