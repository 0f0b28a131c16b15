import Dispatch
import Foundation
import GPU
import Measure

/// The one place where gpucomm checks, warms up and times a benchmark (docs/method.md): every
/// command hands its workloads here, so every benchmark is armed against hangs, checked the same
/// way and timed by one of the same strategies.
public final class BenchmarkDriver {
    public let channel: JobChannel
    /// Bounds every measurement by -T; nil leaves the measurement unbounded (tests).
    public let watchdog: Watchdog?
    /// Per device ordinal: start and end events for `events` timing, kept between measurements.
    private var events: [Int: [Event]] = [:]
    /// Per device ordinal: the buffer the L2 flush overwrites (`TimingPlan.flushL2`), kept between measurements.
    private var flushBuffers: [Int: DeviceBuffer] = [:]
    /// Wrong elements counted so far (over every rank), and in how many measurements.
    public private(set) var wrongTotal: Int64 = 0
    public private(set) var measurementsWithWrong = 0

    /// This process's first rank and host, for error lines.
    public let rank: Int
    public let host: String

    public init(channel: JobChannel, watchdog: Watchdog?, rank: Int = 0, host: String = ProcessInfo.processInfo.hostName) {
        self.channel = channel
        self.watchdog = watchdog
        self.rank = rank
        self.host = host
    }

    /// Runs `body` with the watchdog armed for `label` (what the message names if it hangs); an
    /// error from it comes out as a BenchmarkError naming the rank, host and `label`.
    public func armed<T>(_ label: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        let what = label()
        watchdog?.arm(what)
        defer { watchdog?.disarm() }
        do { return try body() } catch let e as BenchmarkError { throw e } catch let f as Failure { throw f } catch {
            throw BenchmarkError(rank: rank, host: host, benchmark: what, underlying: error)
        }
    }

    /// Prepares, checks (unless off), warms up and times `w` as `plan` says; every rank calls it
    /// with the same plan. Self-timed strategies (device clock, time to solution) are the
    /// benchmark's own business: it runs inside `armed`.
    public func measure(_ w: Workload, _ plan: TimingPlan, label: @autoclosure () -> String) throws -> Measurement {
        precondition(plan.iterationStepsFit, "\(plan.strategy) timing would time the per-iteration barrier or L2 flush: commands refuse it")
        return try armed(label()) {
            try w.prepare()
            let wrong: Int64? = plan.check ? try check(w, plan) : nil
            for _ in 0..<plan.warmup { try w.enqueue() }
            try syncAll(w)
            try channel.barrier()
            var (timeUs, stats, perRank) = try time(w, plan)
            if plan.strategy != .events {
                let each = try channel.allGatherDoubles([timeUs]).map { $0[0] }
                timeUs = plan.aggregation.combine(each)
                perRank = each.map { Summary([$0]) }
            }
            try w.finish()
            var total = wrong
            if plan.check && plan.recheckAfterTiming { total! += try channel.sum(try w.countWrong()) }
            return Measurement(timeUs: timeUs, stats: stats, wrong: total, iterations: plan.iterations * plan.aggregate, perRank: perRank)
        }
    }

    /// Poisons and fills, runs one operation, counts wrong elements over every rank.
    func check(_ w: Workload, _ plan: TimingPlan) throws -> Int64 {
        try w.fill()
        if plan.barrierAroundCheck { try syncAll(w); try channel.barrier() }  // no peer writes before its owner poisoned
        try w.enqueue()
        if plan.barrierAroundCheck { try syncAll(w); try channel.barrier() }
        return try channel.sum(try w.countWrong())
    }

    func syncAll(_ w: Workload) throws { for s in w.streams { try s.synchronize() } }

    /// This process's time per operation (µs) by the plan's strategy; events: the slowest
    /// process per iteration, already combined, its statistics and every process's own.
    func time(_ w: Workload, _ plan: TimingPlan) throws -> (Double, Summary?, [Summary]?) {
        let perIteration = Double(plan.iterations * plan.aggregate)
        switch plan.strategy {
        case .graphReplay:
            let graphs = try GraphExec.capture(streams: w.streams) {
                for _ in 0..<(plan.iterations * plan.aggregate) { try w.enqueue() }
            }
            for (g, s) in zip(graphs, w.streams) { try g.launch(on: s) }  // warm replay
            try syncAll(w)
            try channel.barrier()
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<plan.graphLaunches { for (g, s) in zip(graphs, w.streams) { try g.launch(on: s) } }
            try syncAll(w)
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / (perIteration * Double(plan.graphLaunches)), nil, nil)
        case .events:
            let marks = try w.streams.map { try events(for: $0, count: 2 * plan.iterations) }
            for i in 0..<plan.iterations {
                if plan.barrierEachIteration, try !w.enqueueIterationBarrier() { try syncAll(w); try channel.barrier() }
                if plan.flushL2 { try flushL2(w) }
                for (s, e) in zip(w.streams, marks) { try e[2 * i].record(on: s) }
                for _ in 0..<plan.aggregate { try w.enqueue() }
                for (s, e) in zip(w.streams, marks) { try e[2 * i + 1].record(on: s) }
                if plan.blocking { try syncAll(w) }
            }
            try syncAll(w)
            var local = [Double](repeating: 0, count: plan.iterations)
            for e in marks {
                for i in 0..<plan.iterations {
                    local[i] = max(local[i], try e[2 * i + 1].milliseconds(since: e[2 * i]) * 1e3 / Double(plan.aggregate))
                }
            }
            let (s, perRank) = Measurement.acrossRanks(try channel.allGatherDoubles(local))
            return (s.mean, s, perRank)
        case .hostLoop, .deviceClock, .timeToSolution:
            precondition(plan.strategy == .hostLoop, "\(plan.strategy) is self-timed: run it inside BenchmarkDriver.armed")
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<plan.iterations {
                for _ in 0..<plan.aggregate { try w.enqueue() }
                if plan.blocking { try syncAll(w) }
            }
            try syncAll(w)
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / perIteration, nil, nil)
        }
    }

    /// Bytes of the L2 flush buffer for a device with `l2` bytes of L2: twice the L2, at least
    /// 64 MiB (DeepEP's tests write 256 MB; twice the L2 is enough to evict all of it).
    public static func l2FlushBytes(l2: Int) -> Int { max(2 * l2, 64 << 20) }

    /// Overwrites (zeroes) each stream's device's flush buffer on that stream, so the next
    /// operation starts with none of its data in L2. The buffers are allocated on first use and
    /// kept; rank 0's context (the first stream's device) is current again afterwards.
    func flushL2(_ w: Workload) throws {
        defer { if let first = w.streams.first { try? first.device.makeCurrent() } }
        for s in w.streams {
            let d = s.device
            let b = try flushBuffers[d.ordinal] ?? DeviceBuffer(device: d, bytes: Self.l2FlushBytes(l2: d.l2CacheBytes))
            flushBuffers[d.ordinal] = b
            try d.makeCurrent()
            try b.fill(byte: 0, on: s)
        }
    }

    /// At least `count` timing events on `stream`'s device, kept for later measurements.
    func events(for stream: GPU.Stream, count: Int) throws -> [Event] {
        var e = events[stream.device.ordinal] ?? []
        while e.count < count { e.append(try Event(device: stream.device)) }
        events[stream.device.ordinal] = e
        return e
    }

    /// Adds a measurement's wrong elements to the job's tally (what decides the exit status).
    public func tally(_ wrong: Int64?) {
        guard let w = wrong, w > 0 else { return }
        wrongTotal += w
        measurementsWithWrong += 1
    }

    /// Exit status 3 with one line when anything was wrong, naming what was counted (elements, bytes).
    public func failureIfWrong(_ unit: String, detail: String = "") -> Failure? {
        wrongTotal > 0 ? Failure(.wrongResults, "\(wrongTotal) wrong \(unit)\(detail)") : nil
    }
}
