import Testing
@testable import Measure

@Suite struct SizeTests {
    @Test(arguments: [("8", 8), ("128K", 131072), ("1M", 1 << 20), ("1G", 1 << 30), ("4GiB", 4 << 30),
                      ("2gb", 2 << 30), ("1T", 1 << 40), (" 64 ", 64)])
    func parses(_ text: String, _ bytes: Int) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "K", "-8", "1.5M", "8X", "abc", "99999999999999999999", "9999999999T"])
    func rejects(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test func formats() {
        #expect(ByteSize.format(1 << 30) == "1G")
        #expect(ByteSize.format(3 << 20) == "3M")
        #expect(ByteSize.format(1536) == "1536")
        #expect(ByteSize.format(8) == "8")
    }
}

@Suite struct SweepTests {
    @Test func geometric() throws {
        let s = try Sweep(minBytes: 8, maxBytes: 128, factor: 2)
        #expect(s.sizes == [8, 16, 32, 64, 128])
        #expect(try Sweep(minBytes: 8, maxBytes: 1 << 30, factor: 4).sizes.count == 14)
        #expect(try Sweep(minBytes: 8, maxBytes: 100, factor: 3).sizes == [8, 24, 72])
    }

    @Test func linear() throws {
        #expect(try Sweep(minBytes: 100, maxBytes: 400, factor: 2, step: 100).sizes == [100, 200, 300, 400])
    }

    @Test func single() throws {
        #expect(try Sweep(minBytes: 64, maxBytes: 64, factor: 1).sizes == [64])
    }

    @Test func problems() {
        #expect(throws: Sweep.Problem.minAboveMax(128, 8)) { try Sweep(minBytes: 128, maxBytes: 8) }
        #expect(throws: Sweep.Problem.zeroSize) { try Sweep(minBytes: 0, maxBytes: 8) }
        #expect(throws: Sweep.Problem.badFactor(1)) { try Sweep(minBytes: 8, maxBytes: 64, factor: 1) }
    }
}

@Suite struct StatisticsTests {
    @Test func summary() {
        let s = Summary([4, 1, 3, 2, 5])
        #expect(s.min == 1 && s.max == 5 && s.mean == 3 && s.p50 == 3)
        #expect(abs(s.p95 - 4.8) < 1e-12)
        #expect(abs(s.p99 - 4.96) < 1e-12)
        #expect(abs(s.cv - (2.5).squareRoot() / 3) < 1e-12)
        #expect(Summary([7]).cv == 0 && Summary([7]).p99 == 7)
    }

    @Test func aggregation() {
        let t = [10.0, 20, 30, 60]
        #expect(RankAggregation.rank0.combine(t) == 10)
        #expect(RankAggregation.average.combine(t) == 30)
        #expect(RankAggregation.minimum.combine(t) == 10)
        #expect(RankAggregation.maximum.combine(t) == 60)
    }

    /// Figures from nccl-tests 2.19.6 on 4×H200 (shared/reference/tool-output): 512 MiB all_reduce in 2317.92 µs.
    @Test func bandwidthMatchesNcclTests() {
        let alg = Bandwidth.gbps(bytes: 536_870_912, microseconds: 2317.92)
        #expect(String(format2(alg)) == "231.62")
        #expect(String(format2(alg * BusFactor.allReduce.factor(ranks: 4))) == "347.43")
        #expect(BusFactor.nMinus1OverN.factor(ranks: 8) == 0.875)
        #expect(BusFactor.one.factor(ranks: 8) == 1)
    }

    func format2(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        let whole = Int(r)
        let frac = Int(((r - Double(whole)) * 100).rounded())
        return "\(whole).\(frac < 10 ? "0" : "")\(frac)"
    }
}
