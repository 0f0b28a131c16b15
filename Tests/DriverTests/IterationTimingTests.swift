import GPU
import Measure
import Testing
@testable import Driver

/// A job seen from process 0 where every other process contributes a list of doubles per gather
/// (its per-iteration samples), and barriers are counted.
final class SampleChannel: JobChannel {
    let processRank = 0
    let processCount: Int
    /// Per gather, in order: each other process's doubles.
    var gathers: [[[Double]]]
    var barriers = 0
    init(processes: Int, gathers: [[[Double]]]) { processCount = processes; self.gathers = gathers }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let others = gathers.isEmpty ? [] : gathers.removeFirst()
        return [bytes] + others.map { xs in xs.flatMap { d in withUnsafeBytes(of: d.bitPattern) { Array($0) } } }
    }
    func barrier() throws { barriers += 1 }
}

/// Per-iteration barrier, L2 flush sizing and per-rank statistics (docs/method.md, "Timing modes").
@Suite struct IterationTimingTests {
    /// Three processes, three iterations: per iteration the slowest (20, 15, 30) is the sample;
    /// process 1 has the highest mean (18.33), process 0 the lowest (11).
    @Test func acrossRanksKeepsEachRanksSummaryAndTheSlowestPerIteration() {
        let (slowest, perRank) = Measurement.acrossRanks([[10, 12, 11], [20, 5, 30], [15, 15, 15]])
        #expect(slowest == Summary([20, 15, 30]))
        #expect(slowest.p50 == 20 && slowest.min == 15 && slowest.max == 30)
        #expect(perRank.map(\.mean) == [11, 55.0 / 3, 15])
        #expect(perRank[1].p50 == 20 && perRank[1].min == 5 && perRank[1].max == 30)
        let m = Measurement(timeUs: slowest.mean, stats: slowest, wrong: nil, iterations: 3, perRank: perRank)
        #expect(m.slowestRank == 1 && m.fastestRank == 0)
    }

    @Test func equalMeansNameTheFirstRank() {
        let (_, perRank) = Measurement.acrossRanks([[4, 6], [5, 5], [6, 4]])
        let m = Measurement(timeUs: 6, stats: nil, wrong: nil, iterations: 2, perRank: perRank)
        #expect(m.slowestRank == 0 && m.fastestRank == 0)
        #expect(Measurement(timeUs: 1, stats: nil, wrong: nil, iterations: 1).slowestRank == nil)
    }

    /// Through the driver: events timing gathers every process's samples (this one has no
    /// streams, so its samples are 0) and keeps them per rank.
    @Test func eventsTimingKeepsEveryProcesssSamples() throws {
        let ch = SampleChannel(processes: 3, gathers: [[[4, 2, 6], [1, 9, 1]]])
        let d = BenchmarkDriver(channel: ch, watchdog: nil)
        var p = TimingPlan()
        p.strategy = .events; p.iterations = 3; p.warmup = 1; p.check = false
        let m = try d.measure(ScriptedWorkload(), p, label: "t")
        #expect(m.stats == Summary([4, 9, 6]))
        #expect(m.timeUs == Summary([4, 9, 6]).mean)
        #expect(m.perRank?.map(\.mean) == [0, 4, 11.0 / 3])
        #expect(m.slowestRank == 1 && m.fastestRank == 0)
        #expect(ch.barriers == 1)  // after the warm-up only
    }

    @Test func theIterationBarrierMeetsBeforeEveryTimedIteration() throws {
        let ch = SampleChannel(processes: 1, gathers: [])
        let d = BenchmarkDriver(channel: ch, watchdog: nil)
        let w = ScriptedWorkload()
        var p = TimingPlan()
        p.strategy = .events; p.iterations = 4; p.warmup = 2; p.check = false; p.barrierEachIteration = true
        _ = try d.measure(w, p, label: "t")
        #expect(ch.barriers == 1 + 4)
        #expect(w.calls.filter { $0 == "enqueue" }.count == 2 + 4)
    }

    /// A workload that enqueues the barrier on its stream (NVSHMEM's on-stream barrier): the host
    /// meets nobody per iteration and enqueues straight on, barrier then operation, every time.
    @Test func aDeviceBarrierReplacesTheHostBarrier() throws {
        final class DeviceBarrierWorkload: Workload {
            var calls: [String] = []
            var streams: [GPU.Stream] { [] }
            func fill() throws {}
            func enqueue() throws { calls.append("enqueue") }
            func countWrong() throws -> Int64 { 0 }
            func enqueueIterationBarrier() throws -> Bool { calls.append("barrier"); return true }
        }
        let ch = SampleChannel(processes: 1, gathers: [])
        let d = BenchmarkDriver(channel: ch, watchdog: nil)
        let w = DeviceBarrierWorkload()
        var p = TimingPlan()
        p.strategy = .events; p.iterations = 3; p.warmup = 1; p.check = false; p.barrierEachIteration = true
        _ = try d.measure(w, p, label: "t")
        #expect(ch.barriers == 1)  // after the warm-up only
        #expect(w.calls == ["enqueue", "barrier", "enqueue", "barrier", "enqueue", "barrier", "enqueue"])
        // Without the per-iteration barrier it is never asked.
        let again = DeviceBarrierWorkload()
        p.barrierEachIteration = false
        _ = try d.measure(again, p, label: "t")
        #expect(!again.calls.contains("barrier"))
    }

    /// Host timing: each process's loop time is its one sample; -a still combines them.
    @Test func hostTimingKeepsEachProcesssTimeAsOneSample() throws {
        let ch = SampleChannel(processes: 2, gathers: [[[7e6]]])
        let d = BenchmarkDriver(channel: ch, watchdog: nil)
        var p = TimingPlan()
        p.iterations = 1; p.warmup = 0; p.check = false; p.aggregation = .maximum
        let m = try d.measure(ScriptedWorkload(), p, label: "t")
        #expect(m.timeUs == 7e6)
        #expect(m.perRank?.count == 2 && m.perRank?[1] == Summary([7e6]) && m.perRank?[1].count == 1)
        #expect(m.slowestRank == 1)
        #expect(m.stats == nil)
    }

    @Test func perIterationStepsFitOnlyEventsTiming() {
        var p = TimingPlan()
        p.strategy = .events; p.barrierEachIteration = true; p.flushL2 = true
        #expect(p.iterationStepsFit)
        for s in [TimingStrategy.hostLoop, .graphReplay] {
            var q = TimingPlan()
            q.strategy = s
            #expect(q.iterationStepsFit)
            q.barrierEachIteration = true
            #expect(!q.iterationStepsFit)
            q.barrierEachIteration = false; q.flushL2 = true
            #expect(!q.iterationStepsFit)
        }
    }

    /// Twice the L2, at least 64 MiB: H100's 50 MiB → 100 MiB; a 4 MiB L2 → 64 MiB.
    @Test func theFlushBufferIsTwiceTheL2AndAtLeast64MiB() {
        #expect(BenchmarkDriver.l2FlushBytes(l2: 50 << 20) == 100 << 20)
        #expect(BenchmarkDriver.l2FlushBytes(l2: 4 << 20) == 64 << 20)
        #expect(BenchmarkDriver.l2FlushBytes(l2: 32 << 20) == 64 << 20)
        #expect(BenchmarkDriver.l2FlushBytes(l2: 0) == 64 << 20)
    }
}
