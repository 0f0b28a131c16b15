/// CUDA C++ sources shipped inside the binary and compiled at run time (NVRTC).
///
/// Each `.cu` file under `cuda/` is embedded by SwiftPM (`.embedInCode`), so the static
/// binary carries its kernels and needs no resource bundle beside it.
public enum KernelSources {
    /// Fill and check kernels for collective data (see cuda/fill_check.cu).
    public static var fillCheck: String { String(decoding: PackageResources.fill_check_cu, as: UTF8.self) }
    /// Device-initiated NVSHMEM put kernels (see cuda/nvshmem_put.cu).
    public static var nvshmemPut: String { String(decoding: PackageResources.nvshmem_put_cu, as: UTF8.self) }
    /// Jacobi stencil, init and compare kernels (see cuda/jacobi.cu).
    public static var jacobi: String { String(decoding: PackageResources.jacobi_cu, as: UTF8.self) }
    /// NVSHMEM Jacobi kernels: cuda/jacobi_nvshmem.cu appended to cuda/jacobi.cu, whose device functions it uses.
    public static var jacobiNVSHMEM: String { jacobi + "\n" + String(decoding: PackageResources.jacobi_nvshmem_cu, as: UTF8.self) }

    /// How a source is compiled: plain NVRTC to a cubin, or relocatable LTO-IR linked with a
    /// device library (NVSHMEM's `libnvshmem_device.a`).
    public enum Kind: String, Sendable { case plain, nvshmem }

    /// Every shipped kernel source, for `gpucomm _compile-kernels` (compiles them all with no GPU).
    /// Add a line here with each new `.cu` file.
    public static var catalog: [(name: String, kind: Kind, source: String)] {
        [
            ("fill_check", .plain, fillCheck),
            ("nvshmem_put", .nvshmem, nvshmemPut),
            ("jacobi", .plain, jacobi),
            ("jacobi_nvshmem", .nvshmem, jacobiNVSHMEM),
        ]
    }
}
