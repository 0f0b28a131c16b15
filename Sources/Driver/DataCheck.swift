import GPU
import Kernels

/// Where a range of a receive buffer comes from: `srcRank`'s send elements starting at
/// `srcOffset`, or (srcRank nil) the reduction of every rank's elements there.
public struct Segment: Sendable, Equatable {
    public var dstOffset: Int
    public var length: Int
    public var srcRank: Int?
    public var srcOffset: Int

    public init(dstOffset: Int, length: Int, srcRank: Int?, srcOffset: Int) {
        self.dstOffset = dstOffset; self.length = length; self.srcRank = srcRank; self.srcOffset = srcOffset
    }
}

/// The fill and check kernels (Kernels/cuda/fill_check.cu) loaded on one device.
public final class DataCheckKernels: @unchecked Sendable {
    let device: Device
    let module: Module
    let counter: DeviceBuffer
    var fills: [NCCLDataType: Kernel] = [:]
    var checks: [NCCLDataType: Kernel] = [:]

    public init(device: Device, compiler: RuntimeCompiler) throws {
        self.device = device
        let k = KernelSources.fillCheck
        let image = try compiler.cubin(for: CompileRequest(name: k.name, source: k.source, arch: device.arch).with(headers: k.headers))
        module = try Module(device: device, image: image)
        counter = try DeviceBuffer(device: device, bytes: 8)
        for t in NCCLDataType.allCases {
            fills[t] = try module.function("gc_fill_\(t.name)")
            checks[t] = try module.function("gc_check_\(t.name)")
        }
    }

    /// Value set for a type and op: small integers exact in every type (see the kernel's header).
    public static func valueMode(_ t: NCCLDataType, op: NCCLReduceOp?) -> Int32 {
        if op == .prod { return t.isSigned ? 3 : 4 }
        if t == .float8e4m3 || t == .float8e5m2 { return 2 }
        return t.isSigned ? 0 : 1
    }

    /// Relative tolerance for reduced floats (avg and premulsum may round); integers are exact.
    public static func tolerance(_ t: NCCLDataType) -> Double {
        switch t {
        case .float64: return 1e-12
        case .float32: return 1e-6
        case .float16: return 1e-3
        case .bfloat16: return 8e-3
        case .float8e4m3: return 0.13
        case .float8e5m2: return 0.26
        default: return 0
        }
    }

    func grid(_ n: Int) -> Int { max(1, min((n + 255) / 256, device.multiprocessors * 16)) }

    /// Writes value(rank, srcOffset + j) into `len` elements at `address`.
    public func fill(_ address: DeviceAddress, len: Int, type: NCCLDataType, rank: Int, srcOffset: Int, seed: UInt32, mode: Int32, stream: Stream) throws {
        guard len > 0 else { return }
        try device.makeCurrent()
        try fills[type]!.launch(grid: grid(len), block: 256, stream: stream,
                                args: [UInt64(address), UInt64(len), Int32(rank), UInt64(srcOffset), seed, mode])
    }

    /// Counts elements of `segments` (relative to `address`) that differ from the expected data.
    public func countWrong(_ address: DeviceAddress, segments: [Segment], type: NCCLDataType, ranks: Int, op: NCCLReduceOp?,
                    scalar: Double, seed: UInt32, mode: Int32, stream: Stream) throws -> Int64 {
        try device.makeCurrent()
        try counter.fill(byte: 0, on: stream)
        let opCode: Int32 = op.map { o in o == .premulsum ? 5 : o.builtin!.rawValue } ?? 0
        for s in segments where s.length > 0 {
            let a = address + s.dstOffset * type.size
            try checks[type]!.launch(grid: grid(s.length), block: 256, stream: stream, args: [
                UInt64(a), UInt64(s.length), Int32(s.srcRank ?? -1), UInt64(s.srcOffset), Int32(ranks), opCode,
                scalar, seed, mode, DataCheckKernels.tolerance(type), UInt64(counter.address),
            ])
        }
        try stream.synchronize()
        let b = try counter.copyToHost(count: 8)
        return b.withUnsafeBytes { Int64(bitPattern: $0.load(as: UInt64.self)) }
    }
}
