/// CUDA C++ sources shipped inside the binary and compiled at run time (NVRTC).
///
/// Each `.cu` file under `cuda/` is embedded by SwiftPM (`.embedInCode`), so the static
/// binary carries its kernels and needs no resource bundle beside it.
public enum KernelSources {
    /// Fill and check kernels for collective data (see cuda/fill_check.cu).
    public static var fillCheck: String { String(decoding: PackageResources.fill_check_cu, as: UTF8.self) }
    /// Device-initiated NVSHMEM put kernels (see cuda/nvshmem_put.cu).
    public static var nvshmemPut: String { nvshmem(String(decoding: PackageResources.nvshmem_put_cu, as: UTF8.self)) }
    /// NVSHMEM point-to-point latency and signal ping-pong kernels (see cuda/nvshmem_p2p.cu).
    public static var nvshmemP2P: String { nvshmem(String(decoding: PackageResources.nvshmem_p2p_cu, as: UTF8.self)) }
    /// All-to-all kernels on NCCL's device API (see cuda/nccl_lsa_alltoall.cu).
    public static var ncclLSAAlltoall: String { String(decoding: PackageResources.nccl_lsa_alltoall_cu, as: UTF8.self) }
    /// Kernel-side LSA helpers, given to NVRTC in memory as "gc_nccl_lsa.cuh" (see cuda/nccl_lsa.cuh).
    public static var ncclLSAHelpers: String { String(decoding: PackageResources.nccl_lsa_cuh, as: UTF8.self) }
    /// The helpers as the in-memory header NVRTC gets (`InMemoryHeader(_:)` in GPU): one name and
    /// text for every compile, so `_compile-kernels` warms the cache entries the run uses.
    public static var ncclLSAHeader: (name: String, source: String) { ("gc_nccl_lsa.cuh", ncclLSAHelpers) }
    /// Device-initiated NVSHMEM all-to-all and barrier kernels (see cuda/nvshmem_alltoall.cu).
    public static var nvshmemAlltoall: String { nvshmem(String(decoding: PackageResources.nvshmem_alltoall_cu, as: UTF8.self), putSignalBridge: true) }
    /// A stream-ordered barrier over CUDA IPC-mapped flags (see cuda/ipc_barrier.cu).
    public static var ipcBarrier: String { String(decoding: PackageResources.ipc_barrier_cu, as: UTF8.self) }
    /// NVSHMEM put/get and all-to-all kernels moving bytes with bulk asynchronous copies (TMA, sm_90+; see cuda/nvshmem_tma.cu).
    public static var nvshmemTMA: String { nvshmem(String(decoding: PackageResources.nvshmem_tma_cu, as: UTF8.self)) }
    /// Jacobi stencil, init and compare kernels (see cuda/jacobi.cu).
    public static var jacobi: String { String(decoding: PackageResources.jacobi_cu, as: UTF8.self) }
    /// What the kernels that exchange halos themselves share: block placement and the device-side norm (see cuda/jacobi_fused.cu).
    static var jacobiFused: String { String(decoding: PackageResources.jacobi_fused_cu, as: UTF8.self) }
    /// NVSHMEM Jacobi kernels: cuda/jacobi_nvshmem.cu appended to cuda/jacobi.cu and cuda/jacobi_fused.cu, whose device functions it uses.
    public static var jacobiNVSHMEM: String {
        nvshmem(jacobi + "\n" + jacobiFused + "\n" + String(decoding: PackageResources.jacobi_nvshmem_cu, as: UTF8.self))
    }
    /// NCCL device-API (LSA) Jacobi kernels: cuda/jacobi_nccl_lsa.cu appended to cuda/jacobi.cu and
    /// cuda/jacobi_fused.cu. Compile as NCCL device code with "gc_nccl_lsa.cuh" in memory.
    public static var jacobiNCCLLSA: String {
        jacobi + "\n" + jacobiFused + "\n" + String(decoding: PackageResources.jacobi_nccl_lsa_cu, as: UTF8.self)
    }
    /// MoE kernels that need no communication library: fill, layout, FP8 cast, NCCL pack, fake expert, combine reduce (see cuda/moe.cu).
    public static var moe: String { String(decoding: PackageResources.moe_cu, as: UTF8.self) }
    /// MoE dispatch and combine over NVSHMEM (put-with-signal and NVLink stores): cuda/moe_nvshmem.cu appended to cuda/moe.cu.
    public static var moeNVSHMEM: String {
        nvshmem(moe + "\n" + String(decoding: PackageResources.moe_nvshmem_cu, as: UTF8.self), putSignalBridge: true)
    }

    /// An NVSHMEM source as compiled: cuda/nvshmem_prelude.cuh (libcu++ aliases NVSHMEM's headers
    /// need, the headers, u64), then `body`. `putSignalBridge` turns on the prelude's bridge for
    /// sources whose NVSHMEM calls reference nvshmemi_transfer_put_signal (it must precede the headers).
    static func nvshmem(_ body: String, putSignalBridge: Bool = false) -> String {
        (putSignalBridge ? "#define GC_NVSHMEM_PUT_SIGNAL_BRIDGE\n" : "") + String(decoding: PackageResources.nvshmem_prelude_cuh, as: UTF8.self) + "\n" + body
    }

    /// How a source is compiled: plain NVRTC to a cubin, or relocatable LTO-IR linked with a
    /// device library (NVSHMEM's `libnvshmem_device.a`), or NCCL device-API code (NVRTC against the
    /// loaded NCCL's headers, with "gc_nccl_lsa.cuh" in memory).
    public enum Kind: String, Sendable { case plain, nvshmem, ncclDevice }

    /// Every shipped kernel source, for `gpucomm _compile-kernels` (compiles them all with no GPU).
    /// Add a line here with each new `.cu` file.
    public static var catalog: [(name: String, kind: Kind, source: String)] {
        [
            ("fill_check", .plain, fillCheck),
            ("nvshmem_put", .nvshmem, nvshmemPut),
            ("nvshmem_p2p", .nvshmem, nvshmemP2P),
            ("nccl_lsa_alltoall", .ncclDevice, ncclLSAAlltoall),
            ("nvshmem_alltoall", .nvshmem, nvshmemAlltoall),
            ("ipc_barrier", .plain, ipcBarrier),
            ("nvshmem_tma", .nvshmem, nvshmemTMA),
            ("jacobi", .plain, jacobi),
            ("jacobi_nvshmem", .nvshmem, jacobiNVSHMEM),
            ("jacobi_nccl_lsa", .ncclDevice, jacobiNCCLLSA),
            ("moe", .plain, moe),
            ("moe_nvshmem", .nvshmem, moeNVSHMEM),
        ]
    }
}
