import Driver
import Foundation
import Measure
import Results
import Testing
@testable import MoE

/// The moe table's timing lines: the per-rank line under each operation, the grid line, the
/// DeepEP and pplx formats (against strings computed by hand from their printf formats), and the
/// results row's per-rank and timing fields.
@Suite struct TimingLinesTests {
    /// A result of `op` whose per-rank samples are `ranks` (rank r: its iterations' times in µs).
    static func result(_ op: String, shape: MoEShape, bytes: [ByteConvention: Double], ranks: [[Double]]) -> MoEResult {
        let (slowest, perRank) = Driver.Measurement.acrossRanks(ranks)
        let m = Driver.Measurement(timeUs: slowest.mean, stats: slowest, wrong: 0, iterations: ranks[0].count, perRank: perRank)
        var r = MoEResult(backend: "nvshmem_put", op: op, shape: shape, measurement: m)
        r.bytes = bytes
        return r
    }

    @Test func rankLineNamesTheSlowestAndFastestRank() {
        let shape = MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 256)
        // Means 11, 21, 15: slowest 1 (p50 21), fastest 0; spread 10 us = 90.9% of 11.
        let r = Self.result("dispatch", shape: shape, bytes: [:], ranks: [[10, 12], [20, 22], [15, 15]])
        #expect(MoETable.rankLines(r.measurement, every: false) == ["ranks: slowest 1 mean 21.00 p50 21.00 us | fastest 0 mean 11.00 us | spread 10.00 us (90.9%)"])
        #expect(MoETable.rankLines(r.measurement, every: true) == [
            "ranks: slowest 1 mean 21.00 p50 21.00 us | fastest 0 mean 11.00 us | spread 10.00 us (90.9%)",
            "rank 0: mean 11.00 p50 11.00 min 10.00 max 12.00 us",
            "rank 1: mean 21.00 p50 21.00 min 20.00 max 22.00 us",
            "rank 2: mean 15.00 p50 15.00 min 15.00 max 15.00 us",
        ])
        // One rank: nothing to compare.
        #expect(MoETable.rankLines(Self.result("combine", shape: shape, bytes: [:], ranks: [[3, 4]]).measurement, every: true).isEmpty)
    }

    @Test func gridLineSaysHowManyMultiprocessors() {
        #expect(MoETable.gridLine(blocks: 132, threads: 256, multiprocessors: 132, share: 132)
                == "# dispatch/combine grid: 132 blocks x 256 threads on 132 of the GPU's 132 multiprocessors (100%); this process's share 132")
        #expect(MoETable.gridLine(blocks: 8, threads: 256, multiprocessors: 132, share: 66)
                == "# dispatch/combine grid: 8 blocks x 256 threads on 8 of the GPU's 132 multiprocessors (6%); this process's share 66")
        #expect(MoETable.gridLine(blocks: 264, threads: 256, multiprocessors: 132, share: 132)
                == "# dispatch/combine grid: 264 blocks x 256 threads on 132 of the GPU's 132 multiprocessors (100%, up to 2 blocks each); this process's share 132")
    }

    @Test func timingWordsNameTheIterationSteps() {
        var p = TimingPlan()
        p.strategy = .events
        p.barrierEachIteration = true
        #expect(MoETable.timingWords(p) == "timing events  -n 20 -w 5  barrier/iter 1  l2-flush 0")
        p.flushL2 = true; p.barrierEachIteration = false; p.iterations = 50; p.warmup = 10
        #expect(MoETable.timingWords(p) == "timing events  -n 50 -w 10  barrier/iter 0  l2-flush 1")
        var h = TimingPlan()
        h.strategy = .hostLoop
        #expect(MoETable.timingWords(h) == "timing host  -n 20 -w 5")
    }

    /// DeepEP tests/legacy/test_low_latency.py: `[rank {rank}] Dispatch bandwidth: {bytes / 1e9 / t:.2f}
    /// GB/s, avg_t={t * 1e6:.2f} us | Combine bandwidth: ...`, one line per rank at its own time.
    @Test func deepepLinesPerRankAtTheirOwnTime() {
        let shape = MoEPreset.deepepLL.shapes[0]
        let d = Self.result("dispatch", shape: shape, bytes: [.deepepLL: 7_511_712], ranks: [[48, 52], [60, 60]])
        let c = Self.result("combine", shape: shape, bytes: [.deepepLL: 14_536_704], ranks: [[80], [100]])
        // 7511712 B / 50 us = 150.23424 GB/s; / 60 us = 125.1952; 14536704 / 80 = 181.7088; / 100 = 145.36704.
        #expect(MoETable.deepepLines([d, c]) == [
            "[rank 0] Dispatch bandwidth: 150.23 GB/s, avg_t=50.00 us | Combine bandwidth: 181.71 GB/s, avg_t=80.00 us",
            "[rank 1] Dispatch bandwidth: 125.20 GB/s, avg_t=60.00 us | Combine bandwidth: 145.37 GB/s, avg_t=100.00 us",
        ])
        #expect(MoETable.deepepLines([d]).isEmpty)
    }

    /// pplx-kernels tests/bench_all_to_all.py: `EP={world} DP={world // dp}`, the tab-separated header,
    /// rows with `{mean:4.1f}μs ± {std:4.1f}μs`, `{gbps:2.3f}GB/s` and integer bytes.
    @Test func pplxLinesInTheirTabSeparatedFormat() throws {
        let shape = MoEShape(tokens: 128, hidden: 2048, topK: 6, experts: 64, dtype: .fp8)
        // Rank 0 dispatch 30, 32, 34: mean 32, sample sd 2; 1622016 B / 32 us = 50.688 GB/s.
        // Combine 40, 50: mean 45, sd 7.07; 3145728 / 45 = 69.9050666 GB/s. Rank 1 is slower and ignored.
        let d = Self.result("dispatch", shape: shape, bytes: [.pplx: 1_622_016], ranks: [[30, 32, 34], [90, 90, 90]])
        let c = Self.result("combine", shape: shape, bytes: [.pplx: 3_145_728], ranks: [[40, 50], [99, 99]])
        let layout = Self.result("layout", shape: shape, bytes: [:], ranks: [[5], [5]])
        let lines = MoETable.pplxLines(ranks: 8, rows: [layout, d, c])
        #expect(lines.count == 3)
        #expect(lines[0] == "EP=8 DP=8")
        #expect(lines[1] == "E\tE/tok\ttok\tdim\tDispatch_lat\tDispatch_bw\tDispatch_bytes\tCombine_lat\tCombine_bw\tCombine_bytes\t"
                + "Torch_lat\tTorch_bw\tTorch_bytes\tNVSHMEM_lat\tNVSHMEM_bw\tNVSHMEM_bytes")
        #expect(lines[2] == "64\t6\t128\t2048\t32.0\u{03BC}s \u{00B1}  2.0\u{03BC}s\t50.688GB/s\t1622016\t45.0\u{03BC}s \u{00B1}  7.1\u{03BC}s\t69.905GB/s\t3145728\t-\t-\t-\t-\t-\t-")
        // One sample: torch's std of one value is nan; Python prints it ' nan' at width 4.
        let one = Self.result("dispatch", shape: shape, bytes: [.pplx: 1_622_016], ranks: [[8]])
        let oneC = Self.result("combine", shape: shape, bytes: [.pplx: 3_145_728], ranks: [[4]])
        let l = try #require(MoETable.pplxLines(ranks: 1, rows: [one, oneC]).last)
        #expect(l.hasPrefix("64\t6\t128\t2048\t 8.0\u{03BC}s \u{00B1}  nan\u{03BC}s\t202.752GB/s\t1622016\t 4.0\u{03BC}s \u{00B1}  nan\u{03BC}s\t786.432GB/s\t"))
        #expect(MoETable.pplxLines(ranks: 8, rows: [layout]).isEmpty)
    }

    @Test func resultsRowCarriesTheSlowestRankAndTheIterationSteps() {
        let shape = MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 256)
        let r = Self.result("dispatch", shape: shape, bytes: [.wire: 1e6], ranks: [[10, 12], [20, 22], [15, 15]])
        let sink = try! ResultsSink(path: nil, run: RunInfo(run: "r", tool: "gpucomm"), reports: false)
        var p = TimingPlan()
        p.strategy = .events; p.barrierEachIteration = true; p.flushL2 = false
        let row = MoETable.record(r, sink: sink, ranks: 3, plan: p)
        #expect(row.labels?["slowest_rank"] == "1")
        #expect(row.labels?["iteration_barrier"] == "1" && row.labels?["l2_flush"] == "0")
        #expect(row.metrics?["rank_mean_max_us"] == 21 && row.metrics?["rank_mean_min_us"] == 11)
        #expect(row.timing == "events")
        #expect(row.stats?.max == 22)  // per iteration the slowest rank: 20, 22
        var h = TimingPlan()
        h.strategy = .hostLoop
        let hostRow = MoETable.record(r, sink: sink, ranks: 3, plan: h)
        #expect(hostRow.labels?["l2_flush"] == nil && hostRow.labels?["iteration_barrier"] == nil)
    }
}
