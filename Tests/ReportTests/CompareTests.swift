import Foundation
import Testing
import Results
@testable import Report

/// `gpucomm compare`'s logic: medians, thresholds, noise, direction of better, formats.
@Suite struct CompareTests {
    /// One row per value: repeats of all_reduce at 1 GiB on 8 GPUs.
    static func set(busbw: [Double], size: Int64 = 1 << 30, run: String = "r") -> ResultSet {
        ResultSet(runs: [RunInfo(run: run, tool: "gpucomm")], rows: busbw.map { v in
            var r = ResultRow(run: run, benchmark: "all_reduce", backend: "nccl", ranks: 8)
            r.variant = "out_of_place"; r.dtype = "float"; r.op = "sum"
            r.sizeBytes = size
            r.busbwGBps = v
            r.algbwGBps = v / 1.75
            return r
        })
    }

    static func latency(_ us: [Double]) -> ResultSet {
        ResultSet(rows: us.map { v in
            var r = ResultRow(run: "r", benchmark: "put_latency", backend: "nvshmem_device", ranks: 2)
            r.sizeBytes = 8
            r.timeUs = v
            return r
        })
    }

    @Test(arguments: [
        ([400.0], [300.0], Verdict.regression),
        ([400.0], [500.0], Verdict.improvement),
        ([400.0], [390.0], Verdict.unchanged),     // -2.5% is inside 5%
        ([400.0, 300.0, 420.0], [330.0, 310.0, 340.0], Verdict.noise),  // -17.5% but ranges overlap
        ([400.0, 405.0, 398.0], [300.0, 310.0, 305.0], Verdict.regression),  // ranges apart
    ])
    func verdicts(base: [Double], cand: [Double], expected: Verdict) {
        let c = Comparison(baseline: Self.set(busbw: base), candidate: Self.set(busbw: cand))
        #expect(c.rows.count == 1)
        #expect(c.rows[0].verdict == expected)
        #expect(c.rows[0].metric == .busbw)
        #expect(c.hasRegression == (expected == .regression))
    }

    @Test func medianOfRepeatsIsCompared() {
        let c = Comparison(baseline: Self.set(busbw: [100, 400, 410]), candidate: Self.set(busbw: [380]))
        #expect(c.rows[0].baseline?.median == 400)
        #expect(c.rows[0].baseline?.n == 3)
        #expect(abs(c.rows[0].ratio! - 0.95) < 1e-12)
    }

    @Test func thresholdsRelativeAndAbsolute() {
        let base = Self.set(busbw: [400]), cand = Self.set(busbw: [370])  // -7.5%, -30 GB/s
        #expect(Comparison(baseline: base, candidate: cand, options: CompareOptions(threshold: 0.05)).hasRegression)
        #expect(!Comparison(baseline: base, candidate: cand, options: CompareOptions(threshold: 0.10)).hasRegression)
        #expect(!Comparison(baseline: base, candidate: cand, options: CompareOptions(threshold: 0.05, absThreshold: 50)).hasRegression)
        #expect(Comparison(baseline: base, candidate: cand, options: CompareOptions(threshold: 0.05, absThreshold: 20)).hasRegression)
    }

    @Test func timeIsBetterWhenLower() {
        let slower = Comparison(baseline: Self.latency([2.0]), candidate: Self.latency([2.5]))
        #expect(slower.rows[0].metric == .time)
        #expect(slower.rows[0].verdict == .regression)
        let faster = Comparison(baseline: Self.latency([2.0]), candidate: Self.latency([1.5]))
        #expect(faster.rows[0].verdict == .improvement)
    }

    @Test func chosenMetricIsUsed() {
        let c = Comparison(baseline: Self.set(busbw: [400]), candidate: Self.set(busbw: [300]), options: CompareOptions(metric: .algbw))
        #expect(c.rows[0].metric == .algbw)
    }

    @Test func measurementsOnOneSideAreListedNotRegressions() {
        let c = Comparison(baseline: Self.set(busbw: [400], size: 1 << 20), candidate: Self.set(busbw: [400], size: 1 << 21))
        #expect(c.rows.map(\.verdict) == [.onlyBaseline, .onlyCandidate])
        #expect(!c.hasRegression)
    }

    @Test func keysSeparateMeasurements() {
        var cand = Self.set(busbw: [200])
        cand.rows[0].dtype = "bfloat16"
        let c = Comparison(baseline: Self.set(busbw: [400]), candidate: cand)
        #expect(c.rows.count == 2)
        #expect(!c.hasRegression)
    }

    @Test func textOutputGolden() throws {
        var base = Self.set(busbw: [400, 405, 398])
        base.append(Self.latency([2.0]))
        var cand = Self.set(busbw: [300, 310, 305])
        cand.append(Self.latency([1.5]))
        let c = Comparison(baseline: base, candidate: cand)
        try Golden.check(c.render(.text), against: "compare.txt")
        try Golden.check(c.render(.markdown), against: "compare.md")
    }

    @Test func jsonOutputParses() throws {
        let c = Comparison(baseline: Self.set(busbw: [400]), candidate: Self.set(busbw: [300]))
        let obj = try JSONSerialization.jsonObject(with: Data(c.render(.json).utf8)) as! [String: Any]
        #expect(obj["regressions"] as? Int == 1)
        let rows = obj["rows"] as! [[String: Any]]
        #expect(rows[0]["verdict"] as? String == "regression")
        #expect(rows[0]["size_bytes"] as? Int == 1 << 30)
        #expect(abs((rows[0]["ratio"] as! Double) - 0.75) < 1e-12)
    }
}

extension CompareTests {
    @Test func annotationLabelsDoNotSeparateMeasurements() {
        var base = Self.set(busbw: [400])
        base.rows[0].labels = ["timestamp": "2026-03-02 10:14:05", "experiment": "main", "scope": "block"]
        var cand = Self.set(busbw: [300])
        cand.rows[0].labels = ["timestamp": "2026-03-03 11:00:00", "experiment": "pr-42", "scope": "block"]
        let c = Comparison(baseline: base, candidate: cand)
        #expect(c.rows.count == 1)
        #expect(c.rows[0].verdict == .regression)
        cand.rows[0].labels?["scope"] = "warp"
        #expect(Comparison(baseline: base, candidate: cand).rows.count == 2)
    }
}
