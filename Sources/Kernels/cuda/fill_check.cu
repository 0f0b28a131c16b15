// Fill and check kernels for collective data. Compiled by NVRTC; includes gc_common.cuh (from memory).
//
// Launch contract
//   gc_fill_<type>(S* buf, u64 len, int rank, u64 off, unsigned seed, int mode)
//     buf[j] = encode(value(rank, off + j)) for j < len.  Grid-stride; any grid and block.
//   gc_check_<type>(const S* buf, u64 len, int src, u64 off, int nranks, int op, double scalar,
//                   unsigned seed, int mode, double tol, u64* wrong)
//     expected[j] = value(src, off + j) when src >= 0, else op over r < nranks of value(r, off + j)
//     (premulsum multiplies each by scalar; avg divides by nranks); adds the number of elements
//     that differ (beyond tol × max(1, |expected|) for floats, exactly for integers; NaN always
//     differs) to *wrong. Grid-stride; block size must be 256.
// Values are small integers (|v| <= 4) so every sum, max and min over up to 16 ranks, and every
// product of up to 8 values, is exact in all 12 NCCL types (integer products wrap like NCCL's).
// op: 0 sum, 1 prod, 2 max, 3 min, 4 avg, 5 premulsum. mode: see value().

#include "gc_common.cuh"

__device__ __forceinline__ int value(int rank, u64 k, unsigned seed, int mode) {
    unsigned h = (unsigned)(k * 2654435761ull) ^ (unsigned)((k >> 32) * 97u) ^ ((unsigned)rank * 0x9E3779B9u) ^ seed;
    h ^= h >> 15; h *= 0x2C1B3C6Du; h ^= h >> 12; h *= 0x297A2D39u; h ^= h >> 15;
    switch (mode) {
    case 0: return (int)(h % 5u) - 2;                          // signed and float: -2..2
    case 1: return (int)(h % 5u);                              // unsigned: 0..4
    case 2: return (int)(h % 3u) - 1;                          // fp8: -1..1
    case 3: { int v = (int)(h % 3u); return v == 0 ? -1 : v; } // prod, signed: -1, 1, 2
    default: return 1 + (int)(h % 2u);                         // prod, unsigned: 1, 2
    }
}

// Encodings of small integers (exact) and exact decodings of every bit pattern.
__device__ __forceinline__ int ilog2(int a) { return 31 - __clz(a); }

__device__ __forceinline__ unsigned short enc_half(int v) {
    if (v == 0) return 0;
    unsigned short s = v < 0 ? 0x8000 : 0; int a = v < 0 ? -v : v; int e = ilog2(a);
    return s | (unsigned short)((e + 15) << 10) | (unsigned short)((a - (1 << e)) << (10 - e));
}
__device__ __forceinline__ double dec_half(unsigned short b) {
    int s = b >> 15, e = (b >> 10) & 31, m = b & 1023;
    double r;
    if (e == 0) r = ldexp((double)m, -24);
    else if (e == 31) r = m ? __longlong_as_double(0x7ff8000000000000ll) : __longlong_as_double(0x7ff0000000000000ll);
    else r = ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -r : r;
}
__device__ __forceinline__ unsigned short enc_bf16(int v) { return (unsigned short)(__float_as_uint((float)v) >> 16); }
__device__ __forceinline__ double dec_bf16(unsigned short b) { return (double)__uint_as_float(((unsigned)b) << 16); }
__device__ __forceinline__ unsigned char enc_fp8(int v, int mbits, int bias) {
    if (v == 0) return 0;
    unsigned char s = v < 0 ? 0x80 : 0; int a = v < 0 ? -v : v; int e = ilog2(a);
    return s | (unsigned char)((e + bias) << mbits) | (unsigned char)((a - (1 << e)) << (mbits - e));
}
__device__ __forceinline__ double dec_e4m3(unsigned char b) {   // OCP E4M3 (fn): no infinities, S.1111.111 is NaN
    int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
    if (e == 15 && m == 7) return __longlong_as_double(0x7ff8000000000000ll);
    double r = e == 0 ? ldexp((double)m, -9) : ldexp(1.0 + m / 8.0, e - 7);
    return s ? -r : r;
}
__device__ __forceinline__ double dec_e5m2(unsigned char b) {   // OCP E5M2: IEEE-like
    int s = b >> 7, e = (b >> 2) & 31, m = b & 3;
    double r;
    if (e == 31) r = m ? __longlong_as_double(0x7ff8000000000000ll) : __longlong_as_double(0x7ff0000000000000ll);
    else r = e == 0 ? ldexp((double)m, -16) : ldexp(1.0 + m / 4.0, e - 15);
    return s ? -r : r;
}

__device__ double expected_float(int src, u64 k, int nranks, int op, double scalar, unsigned seed, int mode) {
    if (src >= 0) return (double)value(src, k, seed, mode);
    double acc = (double)value(0, k, seed, mode);
    if (op == 5) acc *= scalar;
    for (int r = 1; r < nranks; r++) {
        double v = (double)value(r, k, seed, mode);
        switch (op) {
        case 1: acc *= v; break;
        case 2: acc = v > acc ? v : acc; break;
        case 3: acc = v < acc ? v : acc; break;
        case 5: acc += scalar * v; break;
        default: acc += v;
        }
    }
    if (op == 4) acc /= nranks;
    return acc;
}

__device__ i64 expected_int(int src, u64 k, int nranks, int op, double scalar, unsigned seed, int mode) {
    if (src >= 0) return (i64)value(src, k, seed, mode);
    i64 s = (i64)scalar;
    i64 acc = (i64)value(0, k, seed, mode);
    if (op == 5) acc *= s;
    for (int r = 1; r < nranks; r++) {
        i64 v = (i64)value(r, k, seed, mode);
        switch (op) {
        case 1: acc *= v; break;
        case 2: acc = v > acc ? v : acc; break;
        case 3: acc = v < acc ? v : acc; break;
        case 5: acc += s * v; break;
        default: acc += v;
        }
    }
    if (op == 4) acc /= nranks;
    return acc;
}

__device__ __forceinline__ void count_wrong(bool bad, u64* wrong) {
    int n = __syncthreads_count(bad);
    if (threadIdx.x == 0 && n) atomicAdd(wrong, (u64)n);
}

#define GC_INT(NAME, S)                                                                              \
extern "C" __global__ void gc_fill_##NAME(S* buf, u64 len, int rank, u64 off, unsigned seed, int mode) { \
    for (u64 j = blockIdx.x * (u64)blockDim.x + threadIdx.x; j < len; j += (u64)gridDim.x * blockDim.x) \
        buf[j] = (S)value(rank, off + j, seed, mode);                                                \
}                                                                                                    \
extern "C" __global__ void gc_check_##NAME(const S* buf, u64 len, int src, u64 off, int nranks, int op, \
        double scalar, unsigned seed, int mode, double tol, u64* wrong) {                            \
    u64 stride = (u64)gridDim.x * blockDim.x;                                                        \
    u64 base = blockIdx.x * (u64)blockDim.x;                                                         \
    for (; base < len; base += stride) {                                                             \
        u64 j = base + threadIdx.x;                                                                  \
        bool bad = false;                                                                            \
        if (j < len) bad = buf[j] != (S)expected_int(src, off + j, nranks, op, scalar, seed, mode);  \
        count_wrong(bad, wrong);                                                                     \
    }                                                                                                \
}

#define GC_FLOAT(NAME, S, ENC, DEC)                                                                  \
extern "C" __global__ void gc_fill_##NAME(S* buf, u64 len, int rank, u64 off, unsigned seed, int mode) { \
    for (u64 j = blockIdx.x * (u64)blockDim.x + threadIdx.x; j < len; j += (u64)gridDim.x * blockDim.x) { \
        int v = value(rank, off + j, seed, mode); buf[j] = ENC;                                      \
    }                                                                                                \
}                                                                                                    \
extern "C" __global__ void gc_check_##NAME(const S* buf, u64 len, int src, u64 off, int nranks, int op, \
        double scalar, unsigned seed, int mode, double tol, u64* wrong) {                            \
    u64 stride = (u64)gridDim.x * blockDim.x;                                                        \
    u64 base = blockIdx.x * (u64)blockDim.x;                                                         \
    for (; base < len; base += stride) {                                                             \
        u64 j = base + threadIdx.x;                                                                  \
        bool bad = false;                                                                            \
        if (j < len) {                                                                               \
            S b = buf[j]; double got = DEC;                                                          \
            double e = expected_float(src, off + j, nranks, op, scalar, seed, mode);                 \
            double lim = tol * (fabs(e) > 1.0 ? fabs(e) : 1.0);                                      \
            bad = !(fabs(got - e) <= lim);                                                           \
        }                                                                                            \
        count_wrong(bad, wrong);                                                                     \
    }                                                                                                \
}

GC_INT(int8, signed char)
GC_INT(uint8, unsigned char)
GC_INT(int32, int)
GC_INT(uint32, unsigned int)
GC_INT(int64, long long)
GC_INT(uint64, unsigned long long)
GC_FLOAT(half, unsigned short, enc_half(v), dec_half(b))
GC_FLOAT(float, float, (float)v, (double)b)
GC_FLOAT(double, double, (double)v, b)
GC_FLOAT(bfloat16, unsigned short, enc_bf16(v), dec_bf16(b))
GC_FLOAT(f8e4m3, unsigned char, enc_fp8(v, 3, 7), dec_e4m3(b))
GC_FLOAT(f8e5m2, unsigned char, enc_fp8(v, 2, 15), dec_e5m2(b))
