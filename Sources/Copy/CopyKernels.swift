import GPU
import Kernels

/// The kernels of cuda/copy.cu loaded on one device, with the 8-byte counter their checks add to.
public final class CopyKernels: @unchecked Sendable {
    public let device: Device
    let module: Module
    let fillKernel: Kernel
    let countKernel: Kernel
    let copyKernel: Kernel
    let chaseKernel: Kernel
    let counter: DeviceBuffer

    public init(device: Device, compiler: RuntimeCompiler) throws {
        self.device = device
        let k = KernelSources.copy
        let image = try compiler.cubin(for: CompileRequest(name: k.name, source: k.source, arch: device.arch).with(headers: k.headers))
        module = try Module(device: device, image: image)
        fillKernel = try module.function("gc_copy_fill")
        countKernel = try module.function("gc_copy_count")
        copyKernel = try module.function("gc_copy_sm")
        chaseKernel = try module.function("gc_copy_chase")
        counter = try DeviceBuffer(device: device, bytes: 8)
    }

    /// Blocks of 256 threads for a grid-stride pass over `words`: at most 16 per SM.
    func grid(_ words: Int) -> Int { max(1, min((words + 255) / 256, device.multiprocessors * 16)) }

    /// Writes the pattern (`CopyPattern32`) into `bytes / 4` words at `address`.
    public func fill(_ address: DeviceAddress, bytes: Int, seed: UInt32, stream: Stream) throws {
        let words = bytes / 4
        guard words > 0 else { return }
        try device.makeCurrent()
        try fillKernel.launch(grid: grid(words), block: 256, stream: stream, args: [UInt64(address), UInt64(words), seed])
    }

    /// Words of `bytes / 4` at `address` that differ from the pattern, after the work on `stream`.
    public func countWrong(_ address: DeviceAddress, bytes: Int, seed: UInt32, stream: Stream) throws -> Int64 {
        let words = bytes / 4
        try device.makeCurrent()
        try counter.fill(byte: 0, on: stream)
        if words > 0 {
            try countKernel.launch(grid: grid(words), block: 256, stream: stream, args: [UInt64(address), UInt64(words), seed, UInt64(counter.address)])
        }
        try stream.synchronize()
        let b = try counter.copyToHost(count: 8)
        return b.withUnsafeBytes { Int64(bitPattern: $0.load(as: UInt64.self)) }
    }

    /// Arguments of one SM copy, marshalled once (the launch in the timed loop copies nothing else).
    public func copyArguments(from src: DeviceAddress, to dst: DeviceAddress, bytes: Int) -> KernelArguments {
        KernelArguments([UInt64(src), UInt64(dst), UInt64(bytes / 16)])
    }

    /// Enqueues `gc_copy_sm` with `blocks` blocks of 512 threads.
    public func copy(_ arguments: KernelArguments, blocks: Int, stream: Stream) throws {
        try copyKernel.launch(grid: blocks, block: 512, stream: stream, arguments: arguments)
    }

    /// Enqueues one chase of `hops` loads through the chain at `chain`, writing where it ended to `out`.
    public func chase(_ arguments: KernelArguments, stream: Stream) throws {
        try chaseKernel.launch(grid: 1, block: 1, stream: stream, arguments: arguments)
    }

    public func chaseArguments(chain: DeviceAddress, hops: Int, out: DeviceAddress) -> KernelArguments {
        KernelArguments([UInt64(chain), UInt64(hops), UInt64(out)])
    }
}
