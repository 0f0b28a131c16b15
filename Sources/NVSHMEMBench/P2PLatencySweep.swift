import Driver
import Foundation
import Measure

/// `nvshmem latency` and `nvshmem signal` on a started NVSHMEM job: the kernels, every op and
/// size, the table on stdout (rank 0) and the rows in the results file.
public struct P2PLatencySweep {
    public var options: P2PLatency.Options
    public var sizes: [Int]

    public init(options: P2PLatency.Options, sizes: [Int]) { self.options = options; self.sizes = sizes }

    /// The heap these kernels need for `sizes`.
    public var heapBytes: Int { 4 * max(sizes.last!, 64 << 10) + (64 << 20) }

    /// p, g, put and get one at a time; returns the wrong bytes.
    public func latency(_ ops: [P2PLatency.Op], _ ctx: NVSHMEMRun) throws -> Int64 {
        let o = options
        let bench = try P2PLatency(session: ctx.session, compiler: ctx.compiler, maxBytes: sizes.last!, channel: ctx.job.channel)
        var wrongTotal: Int64 = 0
        if ctx.reports {
            print("# gpucomm \(GPUCommVersion.version)  nvshmem \(ctx.session.lib.version)  latency  pair \(o.pair)  scope \(o.scope.rawValue) (p/g: thread)  \(ctx.session.pes) PEs")
            print("#   op        size   time p50      min      max  #wrong")
            print("#              (B)  (us/op)  (us/op)  (us/op)")
        }
        for op in ops {
            for s in op.fixedBytes.map({ [$0] }) ?? sizes {
                let r = try ctx.driver.armed("nvshmem latency \(op.rawValue) \(s) B") { try bench.latency(op, bytes: s, o) }
                wrongTotal += r.wrong ?? 0
                guard ctx.reports else { continue }
                print(String(format: "%6@  %10d  %9.3f  %7.3f  %7.3f  %6@", op.rawValue, s, r.stats.p50, r.stats.min, r.stats.max,
                             r.wrong.map(String.init) ?? "N/A"))
                let scope = op.fixedBytes != nil ? "thread" : o.scope.rawValue
                let row = ctx.row(benchmark: op.benchmark, backend: "nvshmem_device", variant: scope, bytes: s, stats: r.stats,
                                  timing: "device_clock", iterations: o.iterations, wrong: r.wrong,
                                  labels: ["scope": scope, "blocking": "1", "direction": "uni", "initiator": "device",
                                           "pair": o.pair.description, "repeats": String(o.repeats)])
                try ctx.sink.write(row)
            }
        }
        return wrongTotal
    }

    /// The put + signal ping-pong; returns the wrong bytes.
    public func pingpong(_ ctx: NVSHMEMRun) throws -> Int64 {
        let o = options
        let bench = try P2PLatency(session: ctx.session, compiler: ctx.compiler, maxBytes: sizes.last!, channel: ctx.job.channel)
        var wrongTotal: Int64 = 0
        if ctx.reports {
            print("# gpucomm \(GPUCommVersion.version)  nvshmem \(ctx.session.lib.version)  signal ping-pong  pair \(o.pair)  scope \(o.scope.rawValue)  \(ctx.session.pes) PEs")
            print("#       size  one-way p50      min      max  #wrong")
            print("#        (B)         (us)     (us)     (us)")
        }
        for s in sizes {
            let r = try ctx.driver.armed("nvshmem signal \(s) B") { try bench.pingpong(bytes: s, o) }
            wrongTotal += r.wrong ?? 0
            guard ctx.reports else { continue }
            print(String(format: "%12d  %11.3f  %7.3f  %7.3f  %6@", s, r.stats.p50, r.stats.min, r.stats.max, r.wrong.map(String.init) ?? "N/A"))
            let row = ctx.row(benchmark: "signal_pingpong", backend: "nvshmem_device", variant: o.scope.rawValue, bytes: s, stats: r.stats,
                              timing: "device_clock", iterations: o.iterations, wrong: r.wrong,
                              labels: ["scope": o.scope.rawValue, "blocking": "1", "direction": "pingpong", "initiator": "device",
                                       "pair": o.pair.description, "repeats": String(o.repeats), "signal_op": "set"])
            try ctx.sink.write(row)
        }
        return wrongTotal
    }
}
