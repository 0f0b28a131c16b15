/// Numbers a kernel and its host code must agree on, defined here once. The kernels see them as
/// the generated header `gc_constants.cuh` (`#define NAME value`, given to NVRTC from memory
/// with every source that includes it), so a change reaches both sides and enters the kernel cache
/// key (a header's text is part of it). Host code reads the same properties (e.g.
/// `StencilKernels.blockX`, `DeviceNormLayout.depth`, `NCCLDeviceAlltoall.threadsPerBlock`).
public enum KernelConstants {
    /// JBX: threads per block of every Jacobi stencil kernel (jacobi.cuh); a multiple of 32.
    public static let jacobiBlockX = 128
    /// JUNROLL: rows whose loads the one-column stencil path issues at once (jacobi.cuh).
    public static let jacobiUnroll = 4
    /// GC_COUNT_WRONG_THREADS: block size of gc_jacobi_count_wrong (jacobi.cu); a multiple of 32.
    public static let jacobiCountWrongThreads = 256
    /// GC_NORM_SLOTS: byte offset of the slots in a Jacobi device-side norm area (jacobi_fused.cuh).
    public static let normSlotsOffset = 16
    /// GC_NORM_DEPTH: slots per source rank, and page-locked host words, of the device-side norm.
    public static let normDepth = 4
    /// GC_NORM_BROKEN: the tag a broken device-side norm protocol writes.
    public static let normBrokenTag: UInt32 = 0xffff_ffff
    /// GC_A2A_THREADS: threads per block of the NCCL device-API all-to-all (nccl_lsa_alltoall.cu).
    public static let ncclAlltoallThreads = 512
    /// GC_WORDS: 8-byte words the NVSHMEM p and g latency loops cycle over (nvshmem_p2p.cu).
    public static let p2pWords = 8192
    /// GC_TMA_MAX_STAGES: the deepest shared-memory ring of the TMA kernels (nvshmem_tma.cu).
    public static let tmaMaxStages = 8

    /// The include name of the generated header.
    public static let headerName = "gc_constants.cuh"

    /// Every constant as the kernels see it: macro name and C literal, in header order.
    /// `jacobiBlockX` and `jacobiUnroll` may differ from the shipped values (`gpucomm _stencil-tune`).
    public static func table(jacobiBlockX: Int = jacobiBlockX, jacobiUnroll: Int = jacobiUnroll) -> [(name: String, value: String)] {
        [
            ("JBX", "\(jacobiBlockX)"),
            ("JUNROLL", "\(jacobiUnroll)"),
            ("GC_COUNT_WRONG_THREADS", "\(jacobiCountWrongThreads)"),
            ("GC_NORM_SLOTS", "\(normSlotsOffset)"),
            ("GC_NORM_DEPTH", "\(normDepth)"),
            ("GC_NORM_BROKEN", "0x\(String(normBrokenTag, radix: 16))u"),
            ("GC_A2A_THREADS", "\(ncclAlltoallThreads)"),
            ("GC_WORDS", "\(p2pWords)"),
            ("GC_TMA_MAX_STAGES", "\(tmaMaxStages)"),
        ]
    }

    /// The header's text: one `#define` per table entry.
    public static func header(jacobiBlockX: Int = jacobiBlockX, jacobiUnroll: Int = jacobiUnroll) -> String {
        "// gc_constants.cuh: generated from Sources/Kernels/KernelConstants.swift; do not edit.\n#pragma once\n"
            + table(jacobiBlockX: jacobiBlockX, jacobiUnroll: jacobiUnroll).map { "#define \($0.name) \($0.value)\n" }.joined()
    }
}
