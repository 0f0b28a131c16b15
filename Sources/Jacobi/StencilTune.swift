import GPU
import Kernels

/// One compile-time shape of the Jacobi kernel: rows per block (JROWS), rows per unrolled step
/// of the one-column path (JUNROLL) and threads per block (JBX). Whether a thread updates 4
/// columns or 1 follows from nx (StencilKernels.columnsPerThread).
public struct StencilShape: Sendable, Equatable, CustomStringConvertible {
    public var rows: Int
    public var unroll: Int
    public var threads: Int
    public init(rows: Int, unroll: Int, threads: Int = 128) {
        self.rows = rows; self.unroll = unroll; self.threads = threads
    }
    public var description: String { rows == 0 ? "wave" : "\(rows)x\(unroll)x\(threads)" }

    /// `ROWSxUNROLL[xTHREADS]` (e.g. `32x4`, `16x1x256`): 1 ≤ UNROLL ≤ ROWS ≤ 256, THREADS a
    /// multiple of 32 up to 1024 (default 128).
    /// `wave`: one wave of resident blocks (the grid of nvshmem_opt and nccl_lsa; StencilKernels.grid).
    public static func parse(_ text: String) -> StencilShape? {
        if text == "wave" { return StencilShape(rows: 0, unroll: 4, threads: 128) }
        let p = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2 || p.count == 3, let r = p[0], let u = p[1], (1...256).contains(r), (1...256).contains(u), u <= r else { return nil }
        let t = p.count == 3 ? p[2] : 128
        guard let t, t >= 32, t <= 1024, t % 32 == 0 else { return nil }
        return StencilShape(rows: r, unroll: u, threads: t)
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
        try gbps(bytesPerRep: Int64(2 * bytes), reps: reps, on: s) { _ in try s.copy(from: a.pointer(), to: b.pointer(), bytes: bytes) }
    }

    /// bytesPerRep × reps / time of enqueueing `rep(1)` … `rep(reps)` on `s` between two events,
    /// after an untimed `rep(0)`, in GB/s.
    static func gbps(bytesPerRep: Int64, reps: Int, on s: Stream, _ rep: (Int) throws -> Void) throws -> Double {
        let start = try Event(device: s.device), end = try Event(device: s.device)
        try rep(0)
        try start.record(on: s)
        for j in 1...reps { try rep(j) }
        try end.record(on: s)
        try end.synchronize()
        return Double(bytesPerRep) * Double(reps) / (try end.milliseconds(since: start) * 1e-3) / 1e9
    }

    /// The kernel in `shape` over every interior row, `reps` sweeps after one untimed one.
    public func measure(_ shape: StencilShape, reps: Int = 10) throws -> Row {
        let k = KernelSources.jacobi(blockX: shape.threads, unroll: shape.unroll)  // rows: the grid below
        let req = CompileRequest(name: k.name, source: k.source, arch: device.arch).with(headers: k.headers)
        let module = try Module(device: device, image: try compiler.cubin(for: req))
        let step = try module.function("gc_jacobi")
        let rows = 1..<(problem.ny - 1), nx = problem.nx
        let nbx = StencilKernels.blocksX(nx: nx, threads: shape.threads)
        let grid = shape.rows == 0
            ? StencilKernels.grid(nx: nx, rows: rows.count, wave: try StencilKernels.wave(step, device: device))
            : nbx * ((rows.count + shape.rows - 1) / shape.rows)
        func sweep(_ withNorm: Bool) throws -> Double {
            let args = (0..<2).map { p in
                KernelArguments(StencilKernels.head(aNew: p == 0 ? b : a, a: p == 0 ? a : b, norm: withNorm ? norm : nil, rows: rows, nx: nx,
                                                    threads: shape.threads))
            }
            return try Self.gbps(bytesPerRep: problem.bytesPerIteration, reps: reps, on: stream) { j in
                try step.launch(grid: grid, block: shape.threads, stream: stream, arguments: args[j % 2])
            }
        }
        return Row(shape: shape, gbps: try sweep(false), gbpsNorm: try sweep(true))
    }
}
