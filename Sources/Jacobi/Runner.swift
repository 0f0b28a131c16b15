import Driver
import Collectives
import Dispatch
import GPU

/// One variant's measured outcome on this job (every rank holds the same numbers).
public struct JacobiOutcome: Sendable {
    public var variant: JacobiVariant
    public var ranks: Int
    /// Host time of the timed iterations, the maximum over ranks (seconds).
    public var seconds: Double
    /// Elements of the final grid that differ from the single-GPU result, summed over ranks
    /// (nil for single_gpu, which is the reference).
    public var wrong: Int64?
    /// L2 norm after the last norm check (nil when --norm-every 0).
    public var norm: Double?

    public init(variant: JacobiVariant, ranks: Int, seconds: Double, wrong: Int64?, norm: Double?) {
        self.variant = variant; self.ranks = ranks; self.seconds = seconds; self.wrong = wrong; self.norm = norm
    }
}

/// The single-GPU baseline as this rank measured it, and the device's copy ceiling.
public struct JacobiBaseline: Sendable {
    public var seconds: Double
    public var norm: Double?
    /// cuMemcpyDtoD of one full grid: (read + write bytes) / time, GB/s.
    public var copyGBps: Double
    /// gc_jacobi alone over the whole grid (no norm, no halo copies): bytesPerIteration / time, GB/s.
    public var kernelGBps: Double

    public init(seconds: Double, norm: Double?, copyGBps: Double, kernelGBps: Double) {
        self.seconds = seconds; self.norm = norm; self.copyGBps = copyGBps; self.kernelGBps = kernelGBps
    }
}

/// Runs the variants on this rank's GPU: the single-GPU reference first (every rank computes
/// it on its own GPU, as the samples do), then each variant, checked against it on the GPU.
public final class JacobiRunner {
    public let problem: JacobiProblem
    public let rank: Int
    public let ranks: Int
    public let device: Device
    let channel: JobChannel
    let kernels: StencilKernels
    let tolerance: Float
    private var reference: SingleGPUScheme?
    private let counter: DeviceBuffer

    public init(device: Device, compiler: RuntimeCompiler, problem: JacobiProblem, rank: Int, ranks: Int,
                channel: JobChannel, tolerance: Float) throws {
        self.device = device; self.problem = problem; self.rank = rank; self.ranks = ranks
        self.channel = channel; self.tolerance = tolerance
        try device.makeCurrent()
        kernels = try StencilKernels(device: device, compiler: compiler)
        counter = try DeviceBuffer(device: device, bytes: 8)
    }

    /// Measures the copy ceiling and the bare kernel, then runs single_gpu (timed, the reference).
    public func runBaseline() throws -> JacobiBaseline {
        let c = try RankContext(device: device, problem: problem, rank: 0, ranks: 1, kernels: kernels)
        let s = try SingleGPUScheme(c)
        let reps = 10
        let copyGBps = try StencilTuner.copyGBps(from: s.buffers[0], to: s.buffers[1], bytes: problem.nx * problem.ny * 4, reps: reps, on: c.compute)
        try kernels.reset(s.buffers[0], s.buffers[1], offset: 0, rows: problem.ny, nx: problem.nx, ny: problem.ny, on: c.compute)
        let args = (0..<2).map { p in KernelArguments(StencilKernels.head(aNew: s.buffers[1 - p], a: s.buffers[p], norm: nil, rows: c.interior, nx: problem.nx)) }
        let kernelGBps = try StencilTuner.gbps(bytesPerRep: problem.bytesPerIteration, reps: reps, on: c.compute) { j in
            try kernels.launch(args[j % 2], rows: c.interior, nx: problem.nx, on: c.compute)
        }
        let (seconds, norm) = try measure(s, c)
        reference = s
        return JacobiBaseline(seconds: seconds, norm: norm, copyGBps: copyGBps, kernelGBps: kernelGBps)
    }

    /// Runs one multi-GPU variant (every rank must call it with the same arguments). Throws
    /// `NCCLDeviceUnavailable` for nccl_lsa when the ranks are not all in one LSA team.
    public func run(_ v: JacobiVariant, comm: Communicator?, nvshmem: NVSHMEMStencil?, lsa: NCCLLSAStencil? = nil) throws -> JacobiOutcome {
        guard let reference else { throw JacobiRunError("internal: run(_:) before runBaseline()") }
        let c = try RankContext(device: device, problem: problem, rank: rank, ranks: ranks, kernels: kernels)
        let s: JacobiScheme
        switch v {
        case .singleGPU: throw JacobiRunError("internal: \(v.rawValue) is not a multi-GPU scheme here")
        case .nccl, .ncclOverlap, .ncclGraphs, .ncclUB, .ncclSymm:
            guard let comm else { throw JacobiRunError("internal: \(v.rawValue) without a communicator") }
            let schedule: NCCLScheme.Schedule = v == .nccl ? .plain : v == .ncclOverlap ? .overlap : .graphs
            let memory: NCCLScheme.Memory = v == .ncclUB ? .registered : v == .ncclSymm ? .window : .device
            s = try NCCLScheme(c, comm: comm, schedule: schedule, memory: memory)
        case .nvshmem, .nvshmemBlock:
            guard let nvshmem else { throw JacobiRunError("internal: \(v.rawValue) without NVSHMEM") }
            s = try NVSHMEMScheme(c, stencil: nvshmem, kind: v == .nvshmem ? .perElement : .block)
        case .nvshmemOpt:
            guard let nvshmem else { throw JacobiRunError("internal: \(v.rawValue) without NVSHMEM") }
            s = try NVSHMEMOptScheme(c, stencil: nvshmem)
        case .ncclLSA:
            guard let lsa else { throw JacobiRunError("internal: \(v.rawValue) without the NCCL device-API kernels") }
            s = try NCCLLSAScheme(c, stencil: lsa)
        }
        let mine: Double, norm: Double?
        switch s {
        case let d as DeviceNormScheme where v.overlapsNorm: (mine, norm) = try measure(d, c)
        case let h as HaloScheme where !v.overlapsNorm: (mine, norm) = try measure(h, c)
        default: throw JacobiRunError("internal: \(v.rawValue)'s scheme does not match its overlapsNorm")
        }
        let seconds = try channel.allGatherDoubles([mine]).map { $0[0] }.max() ?? mine
        // Check: local rows 1 ... rows against the reference's global rows firstRow ...
        let result = s.buffers[problem.iterations % 2]
        let rowBytes = UInt64(problem.nx * 4)
        let ref = reference.buffers[problem.iterations % 2]
        let mineWrong = try kernels.wrong(UInt64(result.address) + rowBytes, UInt64(ref.address) + UInt64(c.slab.firstRow) * rowBytes,
                                          count: c.slab.rows * problem.nx, tolerance: tolerance, counter: counter, on: c.compute)
        let wrong = try channel.sum(mineWrong)
        return JacobiOutcome(variant: v, ranks: ranks, seconds: seconds, wrong: wrong, norm: norm)
    }

    /// Re-initialise, warm up, quiesce, re-initialise, then `iterate(iterations)` timed between
    /// two job-wide barriers. Returns this rank's host time.
    private func timed(_ s: JacobiScheme, _ c: RankContext, _ iterate: (Int) throws -> Void) throws -> Double {
        func reset() throws {
            try kernels.reset(s.buffers[0], s.buffers[1], offset: c.slab.firstRow - 1, rows: c.slab.rows + 2,
                              nx: problem.nx, ny: problem.ny, on: c.compute)
            try c.compute.synchronize()
            try s.quiesce()
        }
        try reset()
        if problem.warmup > 0 { try iterate(problem.warmup) }
        try s.quiesce()
        try reset()
        try channel.barrier()
        let t0 = DispatchTime.now().uptimeNanoseconds
        try iterate(problem.iterations)
        let t1 = DispatchTime.now().uptimeNanoseconds
        try s.quiesce()
        return Double(t1 - t0) * 1e-9
    }

    /// Host-side norm: each check is zeroed, summed over ranks by the scheme's collective, copied
    /// to page-locked memory, and the host waits for it, as the samples' convergence check does
    /// (so one accumulator, host word and event serve every check). Returns this rank's host time
    /// and the last norm.
    func measure(_ s: HaloScheme, _ c: RankContext) throws -> (Double, Double?) {
        let check: (norm: (local: DeviceBuffer, global: DeviceBuffer), host: PinnedBuffer, done: Event)? =
            try problem.normEvery > 0 ? (s.makeNorm(), PinnedBuffer(device: device, bytes: 4), Event(device: device)) : nil
        var lastNorm: Double?
        let seconds = try timed(s, c) { n in
            for j in 0..<n {
                let k = problem.computesNorm(j) ? check : nil
                if let k { try k.norm.local.fill(byte: 0, on: c.compute) }
                try s.step(j, norm: k?.norm.local)
                guard let k else { continue }
                try s.reduceNorm(local: k.norm.local, global: k.norm.global)
                try k.host.copy(from: k.norm.global.address, bytes: 4, on: c.compute)
                try k.done.record(on: c.compute)
                try k.done.synchronize()
                lastNorm = Double(k.host.pointer.load(as: Float.self)).squareRoot()
            }
            try c.compute.synchronize()
        }
        return (seconds, lastNorm)
    }

    /// Device-side norm (`DeviceNormPlan`): one kernel per iteration, an event after each kernel
    /// that assembles a check, and the host reads each check from mapped page-locked memory
    /// while a later kernel is queued. Returns this rank's host time and the last norm.
    func measure(_ s: DeviceNormScheme, _ c: RankContext) throws -> (Double, Double?) {
        let out = try PinnedBuffer(device: device, bytes: 8 * DeviceNormLayout.depth, mapped: true)
        // Ordering only: a timing event after every kernel would add a timestamp between kernels.
        let events = try (0..<DeviceNormLayout.depth).map { _ in try Event(device: device, timing: false) }
        // The warm-up's plan (when there is one) and the timed run's, whose tags continue from
        // it, made before anything is timed; `timed` calls `iterate` once for each, in order.
        var plans: [DeviceNormPlan] = []
        if problem.warmup > 0 { plans.append(DeviceNormPlan(problem: problem, iterations: problem.warmup, firstTag: 1)) }
        plans.append(DeviceNormPlan(problem: problem, iterations: problem.iterations, firstTag: plans.last?.nextTag ?? 1))
        var runs = 0
        var lastNorm: Double?
        func read(_ t: UInt32) throws {
            let w = out.pointer.load(fromByteOffset: 8 * DeviceNormLayout.hostWord(tag: t), as: UInt64.self)
            guard UInt32(truncatingIfNeeded: w >> 32) == t else {
                throw JacobiRunError("device-side norm: check \(t) came back with tag \(w >> 32)"
                                     + (UInt32(truncatingIfNeeded: w >> 32) == DeviceNormLayout.brokenTag ? " (a rank's slot held another check)" : ""))
            }
            lastNorm = Double(Float(bitPattern: UInt32(truncatingIfNeeded: w))).squareRoot()
        }
        let seconds = try timed(s, c) { n in
            let plan = plans[runs]
            runs += 1
            precondition(plan.steps.count == n)
            for (j, p) in plan.steps.enumerated() {
                try s.step(j, norm: DeviceNormStep(publish: p.publish, send: p.send, assemble: p.assemble, out: out.deviceAddress))
                if p.assemble != 0 { try events[DeviceNormLayout.hostWord(tag: p.assemble)].record(on: c.compute) }
                if let t = p.read {
                    try events[DeviceNormLayout.hostWord(tag: t)].synchronize()
                    try read(t)
                }
            }
            for f in plan.finish { try s.finishRun(norm: DeviceNormStep(send: f.send, assemble: f.assemble, out: out.deviceAddress)) }
            try c.compute.synchronize()
            for t in plan.readAtEnd { try read(t) }
        }
        return (seconds, lastNorm)
    }
}
