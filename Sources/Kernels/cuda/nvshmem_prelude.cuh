// What every NVSHMEM kernel source includes first (`#include "nvshmem_prelude.cuh"`, given to
// NVRTC from memory): nvshmem_put.cu, nvshmem_p2p.cu, nvshmem_tma.cu, nvshmem_alltoall.cu and
// jacobi_nvshmem.cu. A source that defines GC_NVSHMEM_PUT_SIGNAL_BRIDGE before including it gets the
// put-signal bridge, which must come before NVSHMEM's headers.
#pragma once

// NVSHMEM 3.3/3.4 headers use std::is_signed/is_unsigned/is_integral, which NVRTC's libc++-less
// environment lacks: alias them from libcu++ (can go once only NVSHMEM >= 3.8 is supported).
#include <cuda/std/type_traits>
namespace std {
using cuda::std::is_signed;
using cuda::std::is_unsigned;
using cuda::std::is_integral;
}
#ifdef GC_NVSHMEM_PUT_SIGNAL_BRIDGE
// uint64_t is `unsigned long long` under NVRTC but `unsigned long` in the nvcc build of
// libnvshmem_device.a, so the library's nvshmemi_transfer_put_signal<SCOPE> (which
// nvshmemx_alltoallmem_block and nvshmemx_putmem_signal_nbi_block reference) has another mangled
// name than the one NVRTC asks for (nvJitLink: undefined reference). Bridge: declare the library's
// signature and specialise NVRTC's spelling to call it (before any use). Can go when NVRTC and the
// library agree (or the library is built with uint64_t spelled one way).
#include "non_abi/device/pt-to-pt/nvshmemi_transfer_api.cuh"
template <threadgroup_t SCOPE>
__device__ void nvshmemi_transfer_put_signal(void* rptr, void* lptr, size_t bytes, void* sig_addr, unsigned long signal,
                                             nvshmemi_amo_t sig_op, int pe, bool is_nbi);
#define GC_PUT_SIGNAL_BRIDGE(SCOPE)                                                                       \
    template <>                                                                                           \
    __device__ void nvshmemi_transfer_put_signal<SCOPE>(void* rptr, void* lptr, size_t bytes, void* sig_addr, \
                                                        unsigned long long signal, nvshmemi_amo_t sig_op,    \
                                                        int pe, bool is_nbi) {                               \
        nvshmemi_transfer_put_signal<SCOPE>(rptr, lptr, bytes, sig_addr, (unsigned long)signal, sig_op, pe, is_nbi); \
    }
GC_PUT_SIGNAL_BRIDGE(NVSHMEMI_THREADGROUP_THREAD)
GC_PUT_SIGNAL_BRIDGE(NVSHMEMI_THREADGROUP_WARP)
GC_PUT_SIGNAL_BRIDGE(NVSHMEMI_THREADGROUP_BLOCK)
#endif
#include <nvshmem.h>
#include <nvshmemx.h>
