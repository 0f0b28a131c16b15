import Driver
import ArgumentParser
import Foundation
import GPU
import Kernels

/// Hidden: compiles every shipped kernel for an architecture, with no GPU (NVRTC, nvJitLink and
/// the libraries' headers only). Lets a machine without a GPU catch compile errors in kernels.
struct CompileKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_compile-kernels",
        abstract: "Compile every shipped kernel for an architecture (no GPU needed).",
        shouldDisplay: false)

    @Option(name: .long, help: "Target architecture.")
    var arch = "sm_90"
    @Option(name: .long, help: "Only kernels whose name contains this.")
    var only: String?
    @Flag(name: .long, help: "Bypass the on-disk cache.")
    var noCache = false

    func run() throws {
        if noCache { setenv("GPUCOMM_CACHE_DIR", "", 1) }
        let compiler = try RuntimeCompiler()
        var failed = 0
        var ncclLayoutShown = false
        // Each library is loaded once, on the first kernel that needs it.
        var nvshmemLib: NVSHMEM?
        var ncclLib: NCCL?
        for k in KernelSources.catalog where only.map({ k.name.contains($0) }) ?? true {
            let t0 = Date()
            do {
                let request: CompileRequest
                switch k.kind {
                case .plain: request = CompileRequest(name: k.name, source: k.source, arch: arch).with(headers: k.headers)
                case .nvshmem:
                    let nv = try nvshmemLib ?? NVSHMEM()
                    nvshmemLib = nv
                    request = try compiler.nvshmemRequest(name: k.name, source: k.source, arch: arch, nvshmem: nv).with(headers: k.headers)
                case .ncclDevice:
                    let nccl = try ncclLib ?? NCCL()
                    ncclLib = nccl
                    if !ncclLayoutShown {
                        // The layout probe needs no GPU either: show what was read from the headers.
                        let api = try NCCLDevice(nccl: nccl, compiler: compiler, arch: arch)
                        let l = api.layout
                        print("ok    nccl_device_layout       nccl \(nccl.version): ncclDevComm \(l.devCommSize) B, ncclDevCommRequirements \(l.requirementsSize) B, lsaBarrierCount @\(l.lsaBarrierCountOffset)")
                        ncclLayoutShown = true
                    }
                    request = try compiler.ncclDeviceRequest(name: k.name, source: k.source, arch: arch, nccl: nccl).with(headers: k.headers)
                }
                let image = try compiler.cubin(for: request)
                print("ok    \(k.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(k.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(image.count) B  " + String(format: "%.1f s", Date().timeIntervalSince(t0)))
            } catch {
                failed += 1
                print("FAIL  \(k.name) (\(k.kind.rawValue)): \(error)")
            }
        }
        if failed > 0 { throw Failure(.failure, "\(failed) kernel source(s) failed to compile") }
    }
}
