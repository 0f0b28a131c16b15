/// CUDA C++ sources shipped inside the binary and compiled at run time (NVRTC).
///
/// Each file under `cuda/` is embedded by SwiftPM (`.embedInCode`), so the static binary carries
/// its kernels and needs no resource bundle beside it. A `.cu` file is one kernel family with its
/// launch contract; it includes the `.cuh` headers it needs (`gc_common.cuh`, the generated
/// `gc_constants.cuh`, …), which `KernelProgram` gives NVRTC from memory.
public enum KernelSources {
    /// Fill and check kernels for collective data (see cuda/fill_check.cu).
    public static var fillCheck: KernelProgram { program("fill_check", .plain) }
    /// Device-initiated NVSHMEM put kernels (see cuda/nvshmem_put.cu).
    public static var nvshmemPut: KernelProgram { program("nvshmem_put", .nvshmem) }
    /// NVSHMEM point-to-point latency and signal ping-pong kernels (see cuda/nvshmem_p2p.cu).
    public static var nvshmemP2P: KernelProgram { program("nvshmem_p2p", .nvshmem) }
    /// All-to-all kernels on NCCL's device API (see cuda/nccl_lsa_alltoall.cu).
    public static var ncclLSAAlltoall: KernelProgram { program("nccl_lsa_alltoall", .ncclDevice) }
    /// Device-initiated NVSHMEM all-to-all and barrier kernels (see cuda/nvshmem_alltoall.cu).
    public static var nvshmemAlltoall: KernelProgram { program("nvshmem_alltoall", .nvshmem) }
    /// A stream-ordered barrier over CUDA IPC-mapped flags (see cuda/ipc_barrier.cu).
    public static var ipcBarrier: KernelProgram { program("ipc_barrier", .plain) }
    /// NVSHMEM put/get and all-to-all kernels moving bytes with bulk asynchronous copies (TMA, sm_90+; see cuda/nvshmem_tma.cu).
    public static var nvshmemTMA: KernelProgram { program("nvshmem_tma", .nvshmem) }
    /// Host↔device and peer copy, fill, check and pointer-chase kernels (see cuda/copy.cu).
    public static var copy: KernelProgram { program("copy", .plain) }
    /// MoE kernels that need no communication library: fill, layout, FP8 cast, NCCL pack, fake expert, combine reduce (see cuda/moe.cu).
    public static var moe: KernelProgram { program("moe", .plain) }
    /// MoE dispatch and combine over NVSHMEM (put-with-signal and NVLink stores), cuda/moe_nvshmem.cu.
    public static var moeNVSHMEM: KernelProgram { program("moe_nvshmem", .nvshmem) }
    /// MoE dispatch and combine in DeepEP normal mode's design (channels, ring buffers, one row per token and rank), cuda/moe_normal.cu.
    public static var moeNormal: KernelProgram { program("moe_normal", .nvshmem) }
    /// Jacobi stencil, init and compare kernels (see cuda/jacobi.cu).
    public static var jacobi: KernelProgram { jacobi() }
    /// The Jacobi kernels with another block width or unroll depth (`gpucomm _stencil-tune`): the
    /// same name, another `gc_constants.cuh`, so another cache entry.
    public static func jacobi(blockX: Int = KernelConstants.jacobiBlockX, unroll: Int = KernelConstants.jacobiUnroll) -> KernelProgram {
        program("jacobi", .plain, constants: KernelConstants.header(jacobiBlockX: blockX, jacobiUnroll: unroll))
    }
    /// NVSHMEM Jacobi kernels (see cuda/jacobi_nvshmem.cu; includes jacobi.cuh and jacobi_fused.cuh).
    public static var jacobiNVSHMEM: KernelProgram { program("jacobi_nvshmem", .nvshmem) }
    /// NCCL device-API (LSA) Jacobi kernels (see cuda/jacobi_nccl_lsa.cu; includes jacobi.cuh and jacobi_fused.cuh).
    public static var jacobiNCCLLSA: KernelProgram { program("jacobi_nccl_lsa", .ncclDevice) }

    /// How a source is compiled: plain NVRTC to a cubin, or relocatable LTO-IR linked with a
    /// device library (NVSHMEM's `libnvshmem_device.a`), or NCCL device-API code (NVRTC against the
    /// loaded NCCL's headers, with its stand-in headers in memory).
    public enum Kind: String, Sendable { case plain, nvshmem, ncclDevice }

    /// Every shipped kernel source, for `gpucomm _compile-kernels` (compiles them all with no GPU),
    /// exactly as the benchmarks compile them, so it warms the cache entries a run uses.
    /// Add a line here with each new `.cu` file.
    public static var catalog: [KernelProgram] {
        [fillCheck, nvshmemPut, nvshmemP2P, ncclLSAAlltoall, nvshmemAlltoall, ipcBarrier, nvshmemTMA, jacobi, jacobiNVSHMEM, jacobiNCCLLSA, copy, moe, moeNVSHMEM, moeNormal]
    }

    /// `cuda/<name>.cu` with its headers; `constants` is the text of `gc_constants.cuh`.
    static func program(_ name: String, _ kind: Kind, constants: String = KernelConstants.header()) -> KernelProgram {
        KernelProgram(name: name, kind: kind, file: "\(name).cu", generated: [KernelConstants.headerName: constants])
    }

    /// Every file under `cuda/`, by its name there (which is also its include name).
    public static let files: [String: [UInt8]] = [
        "copy.cu": PackageResources.copy_cu,
        "fill_check.cu": PackageResources.fill_check_cu,
        "gc_common.cuh": PackageResources.gc_common_cuh,
        "gc_nccl_lsa.cuh": PackageResources.gc_nccl_lsa_cuh,
        "ipc_barrier.cu": PackageResources.ipc_barrier_cu,
        "jacobi.cu": PackageResources.jacobi_cu,
        "jacobi.cuh": PackageResources.jacobi_cuh,
        "jacobi_fused.cuh": PackageResources.jacobi_fused_cuh,
        "jacobi_nccl_lsa.cu": PackageResources.jacobi_nccl_lsa_cu,
        "jacobi_nvshmem.cu": PackageResources.jacobi_nvshmem_cu,
        "moe.cu": PackageResources.moe_cu,
        "moe.cuh": PackageResources.moe_cuh,
        "moe_normal.cu": PackageResources.moe_normal_cu,
        "moe_nvshmem.cu": PackageResources.moe_nvshmem_cu,
        "nccl_lsa_alltoall.cu": PackageResources.nccl_lsa_alltoall_cu,
        "nvshmem_alltoall.cu": PackageResources.nvshmem_alltoall_cu,
        "nvshmem_p2p.cu": PackageResources.nvshmem_p2p_cu,
        "nvshmem_prelude.cuh": PackageResources.nvshmem_prelude_cuh,
        "nvshmem_put.cu": PackageResources.nvshmem_put_cu,
        "nvshmem_tma.cu": PackageResources.nvshmem_tma_cu,
    ]

    /// The text of `cuda/<file>`, or nil when there is no such file.
    static func optionalText(_ file: String) -> String? { files[file].map { String(decoding: $0, as: UTF8.self) } }

    /// The text of `cuda/<file>`, which must exist (a name in this file; tests cover every one).
    static func text(_ file: String) -> String {
        guard let t = optionalText(file) else { preconditionFailure("no kernel source cuda/\(file)") }
        return t
    }
}
