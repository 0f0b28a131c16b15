import Driver
import Foundation
import GPU
import Measure

/// `nvshmem put|get`: every size × shape of one bandwidth run on a started NVSHMEM job, its table
/// on stdout (rank 0) and its rows in the results file.
public struct P2PBandwidthSweep {
    public var op: P2POp
    public var options: P2PBandwidth.Options
    public var shapes: [P2PBandwidth.Config]
    public var sizes: [Int]

    public init(op: P2POp, options: P2PBandwidth.Options, shapes: [P2PBandwidth.Config], sizes: [Int]) {
        self.op = op; self.options = options; self.shapes = shapes; self.sizes = sizes
    }

    /// Runs the sweep; returns the wrong bytes over every size and shape.
    public func run(_ ctx: NVSHMEMRun) throws -> Int64 {
        let b = options
        let pair = b.pair
        let tma = !b.host && b.scope == .tma
        var wrongTotal: Int64 = 0
        let bench = try P2PBandwidth(session: ctx.session, compiler: ctx.compiler, maxBytes: sizes.last!, channel: ctx.job.channel)
        let initiator = b.host ? "host" : "device"
        let how = !b.host ? b.scope.rawValue : b.hostCopy == .cuda ? "host cuMemcpyDtoDAsync (nvshmem_ptr)" : "host on-stream"
        let variant = "\(b.host ? "host" : b.scope.rawValue)\(b.blocking ? "" : "_nbi")\(b.bidirectional ? "_bidir" : "")"
        if ctx.reports {
            print("# gpucomm \(GPUCommVersion.version)  nvshmem \(ctx.session.lib.version)  \(op.rawValue) \(how) \(b.blocking ? "blocking" : "nbi")  pair \(pair)\(b.bidirectional ? " bidirectional" : "")  \(ctx.session.pes) PEs  \(ctx.session.device.name)")
            print("#       size  blocks thrds    chunk\(tma ? "     ring" : "")  inner  dir    time p50      min      p95   algbw  #wrong")
            print("#        (B)                    (B)\(tma ? "         " : "")                   (us)     (us)     (us)  (GB/s)")
        }
        var best: [Int: (Double, String)] = [:]
        let total = sizes.count * shapes.count
        var done = 0
        for s in sizes {
            for c in shapes {
                done += 1
                if ctx.reports && total > 1 { progress("\(op.rawValue) \(done)/\(total): \(s) B, \(b.host ? "host" : c.description(scope: b.scope))") }
                let r = try ctx.driver.armed("nvshmem \(op.rawValue) \(s) B \(b.host ? "host" : c.description(scope: b.scope))") {
                    try bench.measure(bytes: s, config: c, b)
                }
                wrongTotal += r.wrong ?? 0
                guard ctx.reports else { continue }
                for d in r.directions {
                    let ring = tma ? String(format: " %8@", "\(ByteSize.format(c.staging.stageBytes))x\(c.staging.stages)") : ""
                    print(String(format: "%12d  %6@ %5@ %8@%@ %6d  %d->%d  %10.2f  %7.2f  %7.2f  %6.2f  %6@", s,
                                 b.host ? "-" : String(r.blocks), b.host ? "-" : String(c.threads),
                                 b.host ? "-" : (r.chunk == 0 ? "even" : String(r.chunk)), ring, r.inner, d.from, d.to,
                                 d.timeUs, d.stats.min, d.stats.p95, d.algbwGBps, r.wrong.map(String.init) ?? "N/A"))
                    var labels = ["scope": b.host ? "host" : b.scope.rawValue, "blocking": b.blocking ? "1" : "0",
                                  "direction": b.bidirectional ? "bi" : "uni", "initiator": initiator, "pair": pair.description,
                                  "from_pe": String(d.from), "to_pe": String(d.to), "inner": String(r.inner)]
                    if b.host { labels["streams"] = String(b.hostStreams); labels["host_copy"] = b.hostCopy.rawValue }
                    if !b.host {
                        labels["blocks"] = String(r.blocks); labels["threads"] = String(c.threads)
                        labels["chunk"] = String(r.chunk); labels["grid"] = c.grid.description
                        labels["resident_blocks_per_sm"] = String(r.residentBlocksPerSM)
                    }
                    if tma {
                        labels["tma_stage"] = String(c.staging.stageBytes); labels["tma_stages"] = String(c.staging.stages)
                        labels["shared_bytes"] = String(c.staging.sharedBytes)
                    }
                    var row = ctx.row(benchmark: "\(op.rawValue)_bw", backend: b.host ? "nvshmem_host" : "nvshmem_device",
                                      variant: variant, bytes: s, stats: d.stats, timing: "events", iterations: b.iterations,
                                      wrong: r.wrong, labels: labels)
                    row.algbwGBps = d.algbwGBps
                    try ctx.sink.write(row)
                }
                let worst = r.directions.map(\.algbwGBps).min() ?? 0
                if worst > (best[s]?.0 ?? -1) { best[s] = (worst, b.host ? "host" : c.description(scope: b.scope)) }
            }
        }
        if ctx.reports && shapes.count > 1 {
            for s in sizes { if let (g, c) = best[s] { print(String(format: "# best at %@: %.2f GB/s with %@", ByteSize.format(s), g, c)) } }
        }
        return wrongTotal
    }
}
