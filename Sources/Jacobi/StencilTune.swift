import GPU
import Kernels

/// One compile-time shape of gc_jacobi: rows per block (JROWS) and rows per unrolled step (JUNROLL).
public struct StencilShape: Sendable, Equatable, CustomStringConvertible {
    public var rows: Int
    public var unroll: Int
    public init(rows: Int, unroll: Int) { self.rows = rows; self.unroll = unroll }
    public var description: String { "rows \(rows) unroll \(unroll)" }
    /// The shape the shipped kernels are compiled with.
    public static let shipped = StencilShape(rows: StencilKernels.rowsPerBlock, unroll: 4)

    /// `ROWSxUNROLL` (e.g. `32x4`); nil unless both are in 1 ... 256 and unroll ≤ rows.
    public static func parse(_ text: String) -> StencilShape? {
        let p = text.split(separator: "x", omittingEmptySubsequences: false)
        guard p.count == 2, let r = Int(p[0]), let u = Int(p[1]), (1...256).contains(r), (1...256).contains(u), u <= r else { return nil }
        return StencilShape(rows: r, unroll: u)
    }
}

/// Times gc_jacobi compiled in several shapes on one GPU over one full grid, against the copy
/// ceiling measured on the same buffers: how the single-GPU kernel's speed target is tuned.
public final class StencilTuner {
    public struct Row: Sendable {
        public var shape: StencilShape
        /// bytesPerIteration / time, GB/s, without and with the norm.
        public var gbps: Double
        public var gbpsNorm: Double
    }

    let device: Device
    let compiler: RuntimeCompiler
    let problem: JacobiProblem
    let stream: Stream
    let a: DeviceBuffer
    let b: DeviceBuffer
    let norm: DeviceBuffer

    public init(device: Device, compiler: RuntimeCompiler, problem: JacobiProblem) throws {
        self.device = device; self.compiler = compiler; self.problem = problem
        try device.makeCurrent()
        stream = try Stream(device: device)
        let full = problem.nx * problem.ny * 4
        a = try DeviceBuffer(device: device, bytes: full)
        b = try DeviceBuffer(device: device, bytes: full)
        norm = try DeviceBuffer(device: device, bytes: 4)
    }

    /// cuMemcpyDtoD of one full grid, (read + write bytes) / time, GB/s.
    public func copyCeiling(reps: Int = 10) throws -> Double {
        try Self.copyGBps(from: a, to: b, bytes: problem.nx * problem.ny * 4, reps: reps, on: stream)
    }

    /// (read + write bytes) / time of `reps` device-to-device copies of `bytes`, after one untimed copy.
    static func copyGBps(from a: DeviceBuffer, to b: DeviceBuffer, bytes: Int, reps: Int, on s: Stream) throws -> Double {
        let start = try Event(device: s.device), end = try Event(device: s.device)
        try s.copy(from: a.pointer(), to: b.pointer(), bytes: bytes)
        try start.record(on: s)
        for _ in 0..<reps { try s.copy(from: a.pointer(), to: b.pointer(), bytes: bytes) }
        try end.record(on: s)
        try end.synchronize()
        return Double(2 * bytes * reps) / (try end.milliseconds(since: start) * 1e-3) / 1e9
    }

    /// gc_jacobi in `shape` over every interior row, `reps` sweeps after one untimed one.
    public func measure(_ shape: StencilShape, reps: Int = 10) throws -> Row {
        let req = CompileRequest(name: "jacobi", source: KernelSources.jacobi, arch: device.arch,
                                 options: ["-DJROWS=\(shape.rows)", "-DJUNROLL=\(shape.unroll)"])
        let module = try Module(device: device, image: try compiler.cubin(for: req))
        let step = try module.function("gc_jacobi")
        let rows = 1..<(problem.ny - 1), nx = problem.nx
        let grid = StencilKernels.blocksX(nx: nx) * ((rows.count + shape.rows - 1) / shape.rows)
        func sweep(_ withNorm: Bool) throws -> Double {
            let args = (0..<2).map { p in
                KernelArguments(StencilKernels.head(aNew: p == 0 ? b : a, a: p == 0 ? a : b, norm: withNorm ? norm : nil, rows: rows, nx: nx))
            }
            let start = try Event(device: device), end = try Event(device: device)
            try step.launch(grid: grid, block: StencilKernels.blockX, stream: stream, arguments: args[0])
            try start.record(on: stream)
            for j in 0..<reps { try step.launch(grid: grid, block: StencilKernels.blockX, stream: stream, arguments: args[(j + 1) % 2]) }
            try end.record(on: stream)
            try end.synchronize()
            return Double(problem.bytesPerIteration) * Double(reps) / (try end.milliseconds(since: start) * 1e-3) / 1e9
        }
        return Row(shape: shape, gbps: try sweep(false), gbpsNorm: try sweep(true))
    }
}
