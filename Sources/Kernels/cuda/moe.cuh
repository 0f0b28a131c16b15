// moe.cuh: the MoE kernels' device functions (message format, token values, bf16/e4m3
// conversions, the 128-element FP8 cast, packing), shared by cuda/moe.cu and
// cuda/moe_nvshmem.cu. The formulas match Sources/MoE (Payload), which the host checks use.
#pragma once
#include "gc_common.cuh"

typedef unsigned short bf16;
#define GC_MOE_MAGIC 0x4D6F4521

__device__ __forceinline__ unsigned gc_mix(unsigned x) {
    x ^= x >> 16; x *= 0x85EBCA6Bu;
    x ^= x >> 13; x *= 0xC2B2AE35u;
    x ^= x >> 16;
    return x;
}

// Payload.value in Sources/MoE/Payload.swift.
__device__ __forceinline__ float gc_moe_value(int s, int t, int h) {
    if (h == 0) return (float)s;
    if (h == 1) return (float)(t >> 8);
    if (h == 2) return (float)(t & 255);
    unsigned r = gc_mix((unsigned)s * 0x9E3779B1u ^ gc_mix((unsigned)t * 0x85EBCA77u ^ gc_mix((unsigned)h)));
    return (float)((int)(r % 17u) - 8) * 0.5f;
}

__device__ __forceinline__ bf16 gc_bf16(float x) {  // round to nearest even (no NaNs here)
    unsigned b = __float_as_uint(x);
    b += 0x7FFFu + ((b >> 16) & 1u);
    return (bf16)(b >> 16);
}
__device__ __forceinline__ float gc_f32(bf16 b) { return __uint_as_float(((unsigned)b) << 16); }

__device__ __forceinline__ unsigned char gc_e4m3(float x) {
#if __CUDA_ARCH__ >= 890
    unsigned short r;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(0.0f), "f"(x));
    return (unsigned char)(r & 0xFF);  // the second source lands in the low byte
#else
    return 0x7F;  // NaN: the host refuses FP8 before sm_89
#endif
}

__device__ __forceinline__ float gc_from_e4m3(unsigned char b) {
    const float sign = (b & 0x80) ? -1.f : 1.f;
    const int e = (b >> 3) & 0xF, m = b & 7;
    if (e == 0) return sign * (float)m * 0.001953125f;  // m/8 · 2^-6
    return sign * (1.f + (float)m * 0.125f) * __int_as_float((e - 7 + 127) << 23);
}

// One warp casts 128 elements at src (16-byte aligned) to e4m3 at dst and returns the scale
// (lane l: elements 4l .. 4l+3).
__device__ __forceinline__ float gc_cast128(const bf16* src, unsigned char* dst) {
    const int lane = threadIdx.x & 31;
    const uint2 v = ((const uint2*)src)[lane];
    const float f0 = gc_f32(v.x & 0xFFFF), f1 = gc_f32(v.x >> 16), f2 = gc_f32(v.y & 0xFFFF), f3 = gc_f32(v.y >> 16);
    float amax = fmaxf(fmaxf(fabsf(f0), fabsf(f1)), fmaxf(fabsf(f2), fabsf(f3)));
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    amax = fmaxf(amax, 1e-4f);
    const float inv = 448.f / amax;
    ((unsigned*)dst)[lane] = (unsigned)gc_e4m3(f0 * inv) | ((unsigned)gc_e4m3(f1 * inv) << 8) |
                             ((unsigned)gc_e4m3(f2 * inv) << 16) | ((unsigned)gc_e4m3(f3 * inv) << 24);
    return amax / 448.f;
}

// One warp writes token t of rank src as a message at dst (16-byte aligned).
__device__ __forceinline__ void gc_moe_pack(char* dst, const bf16* row, int t, int src, int hidden, int fp8) {
    const int lane = threadIdx.x & 31;
    if (lane == 0) *(int4*)dst = make_int4(t, src, 0, GC_MOE_MAGIC);
    char* p = dst + 16;
    if (!fp8) {
        const int4* s = (const int4*)row;
        int4* d = (int4*)p;
        for (int i = lane; i < hidden / 8; i += 32) d[i] = s[i];
    } else {
        for (int b = 0; b < hidden / 128; b++) {
            const float scale = gc_cast128(row + b * 128, (unsigned char*)p + b * 128);
            if (lane == 0) ((float*)(p + hidden))[b] = scale;
        }
    }
}

// One warp copies `bytes` (a multiple of 16) from src to dst.
__device__ __forceinline__ void gc_moe_copy(char* dst, const char* src, u64 bytes) {
    const int lane = threadIdx.x & 31;
    const int4* s = (const int4*)src;
    int4* d = (int4*)dst;
    const u64 n = bytes / 16;
    u64 i = lane;
    for (; i + 32 < n; i += 64) { const int4 a = s[i], b = s[i + 32]; d[i] = a; d[i + 32] = b; }
    for (; i < n; i += 32) d[i] = s[i];
}

__device__ __forceinline__ int gc_warp() { return (int)((blockIdx.x * blockDim.x + threadIdx.x) >> 5); }
__device__ __forceinline__ int gc_warps() { return (int)((gridDim.x * blockDim.x) >> 5); }
