import GPU

/// Where the time of cuda-ce-1p's `--copy-sync flags` all-to-all goes, GPU by GPU: timing events
/// on every GPU's head stream and copy streams around each part of the last `ring` all-to-alls
/// (`GPUCOMM_COPY_TRACE=1`, a diagnostic; the events add a little work of their own). Every time is
/// between two events of one GPU, so no clocks of different GPUs are compared.
final class CopyTrace {
    let ring = 8
    /// Per set (all-to-all i uses set i % ring), per GPU: before the first barrier, after it and
    /// the fork, after the join, after the second barrier.
    private var t0: [[Event]] = [], t1: [[Event]] = [], t4: [[Event]] = [], t5: [[Event]] = []
    /// Per set, per GPU, per lane: when the lane passed the fork (its first copy starts), and when
    /// its last copy ended.
    private var s: [[[Event]]] = [], e: [[[Event]]] = []
    private(set) var issued = 0
    let localLanes: Int

    init(devices: [Device], lanes: Int, localLanes: Int) throws {
        self.localLanes = localLanes
        for _ in 0..<ring {
            t0.append(try devices.map { try Event(device: $0) }); t1.append(try devices.map { try Event(device: $0) })
            t4.append(try devices.map { try Event(device: $0) }); t5.append(try devices.map { try Event(device: $0) })
            s.append(try devices.map { d in try (0..<lanes).map { _ in try Event(device: d) } })
            e.append(try devices.map { d in try (0..<lanes).map { _ in try Event(device: d) } })
        }
    }

    /// The set of the all-to-all being enqueued.
    var current: Int { issued % ring }
    func beforeBarrier(_ g: Int, _ h: Stream) throws { try t0[current][g].record(on: h) }
    func afterFork(_ g: Int, _ h: Stream) throws { try t1[current][g].record(on: h) }
    func laneStart(_ g: Int, _ lane: Int, _ q: Stream) throws { try s[current][g][lane].record(on: q) }
    func laneEnd(_ g: Int, _ lane: Int, _ q: Stream) throws { try e[current][g][lane].record(on: q) }
    func afterJoin(_ g: Int, _ h: Stream) throws { try t4[current][g].record(on: h) }
    func afterBarrier(_ g: Int, _ h: Stream) throws { try t5[current][g].record(on: h); }
    func finish() { issued += 1 }

    /// Mean microseconds per part over the last all-to-alls (at most `ring`) and every GPU, as
    /// results labels: trace_barrier1 (first barrier and fork), trace_start (fork to a lane's first
    /// copy), trace_local (the local block's copy), trace_peers (the longest peer lane), trace_join
    /// (last copy's end to the head passing the join), trace_barrier2, trace_gap (second barrier's
    /// end to the next all-to-all's first barrier's start, on the head), trace_total (first barrier's
    /// start to second barrier's end).
    func summary() -> [String: String] {
        let n = min(issued, ring)
        guard n > 0 else { return [:] }
        let first = issued - n
        var sum: [String: Double] = [:]
        var count: [String: Int] = [:]
        func add(_ k: String, _ v: Double?) { if let v { sum[k, default: 0] += v; count[k, default: 0] += 1 } }
        func us(_ a: Event, _ b: Event) -> Double? { (try? b.synchronize()).flatMap { _ in try? b.milliseconds(since: a) }.map { $0 * 1e3 } }
        for i in first..<issued {
            let k = i % ring
            for g in t0[k].indices {
                add("trace_barrier1", us(t0[k][g], t1[k][g]))
                let lanes = s[k][g].indices
                add("trace_start", lanes.compactMap { us(t1[k][g], s[k][g][$0]) }.min())
                add("trace_local", lanes.prefix(localLanes).compactMap { us(s[k][g][$0], e[k][g][$0]) }.max())
                add("trace_peers", lanes.dropFirst(localLanes).compactMap { us(s[k][g][$0], e[k][g][$0]) }.max())
                let lastEnd = lanes.compactMap { us(t1[k][g], e[k][g][$0]) }.max()
                if let lastEnd, let join = us(t1[k][g], t4[k][g]) { add("trace_join", join - lastEnd) }
                add("trace_barrier2", us(t4[k][g], t5[k][g]))
                add("trace_total", us(t0[k][g], t5[k][g]))
                if i + 1 < issued { add("trace_gap", us(t5[k][g], t0[(i + 1) % ring][g])) }
            }
        }
        var out: [String: String] = ["trace_alltoalls": String(n)]
        for (k, v) in sum { out[k] = String(format: "%.2f", v / Double(count[k]!)) }
        return out
    }
}
