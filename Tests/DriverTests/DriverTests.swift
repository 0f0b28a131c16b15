import GPU
import Measure
import Testing
@testable import Driver

/// A workload with no GPU streams: records what the driver asked of it, in order.
final class ScriptedWorkload: Workload {
    var calls: [String] = []
    var wrongPerCount: [Int64]
    init(wrong: [Int64] = [0]) { wrongPerCount = wrong }
    var streams: [GPU.Stream] { [] }
    func prepare() throws { calls.append("prepare") }
    func fill() throws { calls.append("fill") }
    func enqueue() throws { calls.append("enqueue") }
    func countWrong() throws -> Int64 {
        calls.append("count")
        return wrongPerCount.isEmpty ? 0 : wrongPerCount.removeFirst()
    }
    func finish() throws { calls.append("finish") }
}

/// A job of several processes seen from one of them: what the others "send" is scripted.
final class ScriptedChannel: JobChannel {
    let processRank = 0
    let processCount: Int
    /// Values the other processes contribute to each gather, in order.
    var others: [[Double]]
    var barriers = 0
    init(processes: Int, others: [[Double]]) { processCount = processes; self.others = others }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let extra = others.isEmpty ? [] : others.removeFirst()
        return [bytes] + extra.map { d in withUnsafeBytes(of: d.bitPattern) { Array($0) } }
    }
    func barrier() throws { barriers += 1 }
}

@Suite struct DriverTests {
    @Test func checksThenWarmsThenTimesInThatOrder() throws {
        let d = BenchmarkDriver(channel: SingleProcess(), watchdog: nil)
        let w = ScriptedWorkload()
        var p = TimingPlan()
        p.iterations = 3; p.warmup = 2
        let m = try d.measure(w, p, label: "t")
        #expect(w.calls == ["prepare", "fill", "enqueue", "count", "enqueue", "enqueue", "enqueue", "enqueue", "enqueue", "finish"])
        #expect(m.wrong == 0)
        #expect(m.iterations == 3)
        #expect(m.timeUs >= 0)
    }

    @Test func noCheckMeansNoFillAndNoCount() throws {
        let d = BenchmarkDriver(channel: SingleProcess(), watchdog: nil)
        let w = ScriptedWorkload()
        var p = TimingPlan()
        p.check = false; p.iterations = 1; p.warmup = 0
        let m = try d.measure(w, p, label: "t")
        #expect(!w.calls.contains("fill") && !w.calls.contains("count"))
        #expect(m.wrong == nil)
    }

    @Test func aggregateMultipliesTheOperationsPerIteration() throws {
        let d = BenchmarkDriver(channel: SingleProcess(), watchdog: nil)
        let w = ScriptedWorkload()
        var p = TimingPlan()
        p.iterations = 4; p.aggregate = 3; p.warmup = 0; p.check = false
        let m = try d.measure(w, p, label: "t")
        #expect(w.calls.filter { $0 == "enqueue" }.count == 12)
        #expect(m.iterations == 12)
    }

    @Test func wrongElementsAreSummedOverProcessesAndRechecked() throws {
        // Check: this process counts 2, the other process 5; the recheck after timing 1 and 0.
        let ch = ScriptedChannel(processes: 2, others: [[5], [7], [0]])
        let d = BenchmarkDriver(channel: ch, watchdog: nil)
        let w = ScriptedWorkload(wrong: [2, 1])
        var p = TimingPlan()
        p.iterations = 1; p.warmup = 0; p.recheckAfterTiming = true
        let m = try d.measure(w, p, label: "t")
        #expect(m.wrong == Int64(2 + 5 + 1 + 0))
        #expect(w.calls.filter { $0 == "count" }.count == 2)
    }

    @Test func barrierAroundCheckMeetsTwiceMore() throws {
        let ch = ScriptedChannel(processes: 2, others: [[0], [0]])
        let d = BenchmarkDriver(channel: ch, watchdog: nil)
        var p = TimingPlan()
        p.iterations = 1; p.warmup = 0; p.barrierAroundCheck = true
        _ = try d.measure(ScriptedWorkload(), p, label: "t")
        #expect(ch.barriers == 3)  // after fill, after the checked operation, before timing
        let ch2 = ScriptedChannel(processes: 2, others: [[0], [0]])
        p.barrierAroundCheck = false
        _ = try BenchmarkDriver(channel: ch2, watchdog: nil).measure(ScriptedWorkload(), p, label: "t")
        #expect(ch2.barriers == 1)
    }

    @Test(arguments: [(RankAggregation.rank0, 0.0), (.maximum, 1e9), (.minimum, 0.0)])
    func hostTimeIsCombinedOverProcesses(_ a: RankAggregation, _ atLeast: Double) throws {
        // The other process took 1e9 µs: rank0 and minimum ignore it, maximum reports it.
        let ch = ScriptedChannel(processes: 2, others: [[0], [1e9]])
        var p = TimingPlan()
        p.iterations = 1; p.warmup = 0; p.aggregation = a
        let m = try BenchmarkDriver(channel: ch, watchdog: nil).measure(ScriptedWorkload(), p, label: "t")
        #expect(m.timeUs >= atLeast)
        #expect(a == .maximum ? m.timeUs == 1e9 : m.timeUs < 1e9)
    }

    @Test func tallyDecidesTheExitStatus() {
        let d = BenchmarkDriver(channel: SingleProcess(), watchdog: nil)
        #expect(d.failureIfWrong("bytes") == nil)
        d.tally(nil); d.tally(0)
        #expect(d.failureIfWrong("bytes") == nil)
        d.tally(3); d.tally(4)
        let f = d.failureIfWrong("bytes", detail: " (see #wrong)")
        #expect(f?.status == .wrongResults)
        #expect(f?.message == "7 wrong bytes (see #wrong)")
        #expect(d.measurementsWithWrong == 2)
    }
}

@Suite struct AccountingTests {
    @Test func bandwidthAppliesBothFactors() {
        let a = Accounting.bandwidth(bytes: 1_000_000, algbwFactor: 0.5, busFactor: 2)
        let bw = a.bandwidth(microseconds: 1000)!
        #expect(bw.algbw == 0.5)   // 1 MB in 1 ms = 1 GB/s, × 0.5
        #expect(bw.busbw == 1.0)
        #expect(Accounting.latency.bandwidth(microseconds: 1) == nil)
        #expect(Accounting.timeToSolution.bandwidth(microseconds: 1) == nil)
    }

    @Test func jobShapeRequirements() {
        let one = JobShape(ranks: 1)
        #expect(one.requires(ranks: 2) == .waived("needs 2 GPUs"))
        #expect(JobShape(ranks: 4, hasNVSHMEM: false).requires(ranks: 2, nvshmem: true) == .waived("needs NVSHMEM"))
        #expect(JobShape(ranks: 4, hasNCCL: false).requires(ranks: 2, nccl: true) == .waived("needs NCCL"))
        #expect(JobShape(ranks: 2).requires(ranks: 2, nccl: true, nvshmem: true) == .applies)
    }
}

struct Boom: Error, CustomStringConvertible { var description: String { "cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED (719)" } }

final class FailingWorkload: Workload {
    let error: any Error
    init(_ e: any Error) { error = e }
    var streams: [GPU.Stream] { [] }
    func fill() throws {}
    func enqueue() throws { throw error }
    func countWrong() throws -> Int64 { 0 }
}

@Suite struct DriverErrorTests {
    @Test func aLibraryErrorNamesRankHostAndBenchmark() {
        let d = BenchmarkDriver(channel: SingleProcess(), watchdog: nil, rank: 3, host: "node07")
        do {
            _ = try d.measure(FailingWorkload(Boom()), TimingPlan(), label: "all_reduce float sum 8 B out-of-place")
            Issue.record("no error")
        } catch let e as BenchmarkError {
            #expect(e.description == "rank 3 on node07, all_reduce float sum 8 B out-of-place: cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED (719)")
            #expect(BenchmarkError.cause(e, as: Boom.self) != nil)
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func aFailurePassesThroughWithItsStatus() {
        let d = BenchmarkDriver(channel: SingleProcess(), watchdog: nil)
        #expect(throws: Failure.self) { try d.measure(FailingWorkload(Failure(.usage, "x")), TimingPlan(), label: "t") }
    }
}
