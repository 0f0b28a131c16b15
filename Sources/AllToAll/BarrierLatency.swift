import Driver
import Collectives
import Foundation
import GPU

/// NVSHMEM barrier latency: device-side barriers in a loop inside one cooperative kernel, and
/// host-initiated `nvshmemx_barrier_all_on_stream` back to back.
public final class BarrierLatency {
    public enum Method: String, CaseIterable, Sendable {
        /// `nvshmem_barrier_all()` from one thread, `iters` times in one kernel.
        case deviceThread = "device-thread"
        /// `nvshmemx_barrier_all_block()` from a 256-thread block, `iters` times in one kernel.
        case deviceBlock = "device-block"
        /// `nvshmemx_barrier_all_on_stream`, `iters` calls on one stream.
        case onStream = "on-stream"
    }

    let shared: NVSHMEMAlltoallShared
    let stream: GPU.Stream
    let channel: JobChannel
    let start: Event, end: Event

    public init(shared: NVSHMEMAlltoallShared, stream: GPU.Stream, channel: JobChannel) throws {
        self.shared = shared; self.stream = stream; self.channel = channel
        start = try Event(device: stream.device)
        end = try Event(device: stream.device)
    }

    func run(_ m: Method, _ iters: Int) throws {
        switch m {
        case .deviceThread: try shared.barrierThread.launchCooperative(grid: 1, block: 32, stream: stream, args: [Int32(iters)])
        case .deviceBlock: try shared.barrierBlock.launchCooperative(grid: 1, block: 256, stream: stream, args: [Int32(iters)])
        case .onStream: for _ in 0..<iters { shared.session.barrier(on: stream) }
        }
    }

    /// Microseconds per barrier: CUDA-event time of `iterations` back-to-back barriers / iterations,
    /// the slowest PE's. Every PE must call it.
    public func measure(_ m: Method, iterations: Int, warmup: Int) throws -> Double {
        try stream.device.makeCurrent()
        if warmup > 0 { try run(m, warmup) }
        try stream.synchronize()
        try channel.barrier()
        try start.record(on: stream)
        try run(m, iterations)
        try end.record(on: stream)
        try end.synchronize()
        let us = try end.milliseconds(since: start) * 1e3 / Double(iterations)
        return try channel.allGatherDoubles([us]).map { $0[0] }.max()!
    }
}

extension BarrierLatency {
    /// `nvshmem barrier` on a started NVSHMEM job: every method, the table on stdout (rank 0) and
    /// the rows in the results file.
    public static func sweep(_ methods: [Method], iterations iters: Int, warmup: Int, _ ctx: NVSHMEMRun) throws {
        let session = ctx.session
        let shared = try NVSHMEMAlltoallShared(session: session, compiler: ctx.compiler, maxBytesPerRank: 1 << 16)
        let bench = try BarrierLatency(shared: shared, stream: try GPU.Stream(device: session.device), channel: ctx.job.channel)
        if ctx.reports {
            print("# gpucomm \(GPUCommVersion.version)  nvshmem \(session.lib.version)  barrier latency  \(session.pes) PEs  -n \(iters)")
            print("#       method   time per barrier (us)")
        }
        for m in methods {
            let us = try ctx.driver.armed("nvshmem barrier \(m.rawValue)") { try bench.measure(m, iterations: iters, warmup: warmup) }
            guard ctx.reports else { continue }
            print(String(format: "%14@  %10.3f", m.rawValue, us))
            var row = ctx.sink.row(benchmark: "barrier", backend: m == .onStream ? "nvshmem_host" : "nvshmem_device", ranks: session.pes)
            row.variant = m.rawValue
            row.timing = "events"
            row.iterations = iters
            row.timeUs = us
            try ctx.sink.write(row)
        }
    }
}

/// `nvshmem barrier`: one method's time per barrier.
extension BarrierLatency.Method: BenchmarkDescriptor {
    public var key: String { "barrier_" + rawValue.replacingOccurrences(of: "-", with: "_") }
    public var summary: String {
        switch self {
        case .deviceThread: return "nvshmem_barrier_all from one thread, back to back in one cooperative kernel"
        case .deviceBlock: return "nvshmemx_barrier_all_block from a 256-thread block, back to back in one cooperative kernel"
        case .onStream: return "nvshmemx_barrier_all_on_stream, back to back on one stream"
        }
    }
    public var family: BenchmarkFamily { .nvshmem }
    public var timings: [TimingStrategy] { [.events] }
    public func accounting(bytes: Int, ranks: Int) -> Accounting { .latency }
    public func applicability(_ shape: JobShape) -> Applicability { shape.requires(ranks: 2, nvshmem: true) }
}
