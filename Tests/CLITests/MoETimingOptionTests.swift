import ArgumentParser
import Driver
import Testing
@testable import GPUCommCLI
@testable import MoE

/// `gpucomm moe`'s timing options: the per-iteration barrier (on by default with events timing),
/// the L2 flush (events only: refused with host timing, exit 2), per-rank and pplx lines.
@Suite struct MoETimingOptionTests {
    static func command(_ args: [String]) throws -> MoECommand {
        try #require(try GPUComm.parseAsRoot(["moe", "--np", "2"] + args) as? MoECommand)
    }

    @Test func eventsTimingMeetsBeforeEveryIterationUnlessTurnedOff() throws {
        let p = try Self.command([]).timingPlan
        #expect(p.strategy == .events && p.barrierEachIteration && !p.flushL2)
        #expect(try !Self.command(["--no-iteration-barrier"]).timingPlan.barrierEachIteration)
        let host = try Self.command(["--timing", "host"]).timingPlan
        #expect(host.strategy == .hostLoop && !host.barrierEachIteration && host.iterationStepsFit)
        // Redundant with host timing (it has no per-iteration barrier), so accepted.
        #expect(try !Self.command(["--timing", "host", "--no-iteration-barrier"]).timingPlan.barrierEachIteration)
        let flush = try Self.command(["--flush-l2"]).timingPlan
        #expect(flush.flushL2 && flush.barrierEachIteration && flush.iterationStepsFit)
        // --kernels runs on one GPU: nothing to meet, so no per-iteration sync either; the flush stays.
        let kernels = try #require(try GPUComm.parseAsRoot(["moe", "--kernels", "--flush-l2"]) as? MoECommand).timingPlan
        #expect(kernels.strategy == .events && !kernels.barrierEachIteration && kernels.flushL2)
    }

    @Test func flushWithHostTimingIsOneUsageLine() {
        #expect(MoECommandTests.problem(["--np", "2", "--timing", "host", "--flush-l2"])
                == "--flush-l2 needs --timing events (the host clock would time the flush)")
        #expect(MoECommandTests.problem(["--np", "2", "--kernels", "--flush-l2"]) == nil)
    }

    @Test func perRankAndPplxLinesReachTheRun() throws {
        let s = try Self.command(["--per-rank", "--pplx-lines", "--deepep-lines"]).settings
        #expect(s.perRankLines && s.pplxLines && s.deepepLines)
        let d = try Self.command([]).settings
        #expect(!d.perRankLines && !d.pplxLines && !d.deepepLines)
    }
}
