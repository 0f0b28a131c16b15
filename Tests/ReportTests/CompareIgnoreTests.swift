import Testing
@testable import Report
@testable import Results

@Suite struct CompareIgnoreTests {
    func row(_ backend: String, _ busbw: Double, buffer: String? = nil, op: String? = nil, wrong: Int64? = nil,
             unsupported: Bool = false) -> ResultRow {
        var r = ResultRow(run: "r", benchmark: "alltoall", backend: backend, ranks: 4)
        r.variant = "out_of_place"; r.dtype = "float"; r.sizeBytes = 1 << 30
        r.buffer = buffer; r.op = op; r.busbwGBps = busbw; r.wrong = wrong
        if unsupported { r.labels = ["unsupported": "in-place alltoall"] }
        return r
    }

    /// Two backends share no key until --ignore leaves the backend (and fields only one side records) out.
    @Test func ignoreLinesUpTwoBackends() {
        let torch = ResultSet(rows: [row("torch", 336.4)])
        let nccl = ResultSet(rows: [row("nccl", 337.2, buffer: "none", op: nil)])
        #expect(!Comparison(baseline: torch, candidate: nccl).rows.contains { $0.baseline != nil && $0.candidate != nil })
        let cmp = Comparison(baseline: torch, candidate: nccl, options: CompareOptions(ignore: [.backend, .buffer]))
        #expect(cmp.rows.count == 1)
        let r = cmp.rows[0]
        #expect(r.baseline?.median == 336.4 && r.candidate?.median == 337.2 && r.verdict == .unchanged)
    }

    /// Rows marked unsupported or with wrong elements are compared on neither side, and counted.
    @Test func invalidRowsAreLeftOut() {
        let base = ResultSet(rows: [row("nccl", 300), row("nccl", 100, wrong: 5)])
        let cand = ResultSet(rows: [row("nccl", 200), row("nccl", 500, unsupported: true)])
        let cmp = Comparison(baseline: base, candidate: cand, options: CompareOptions(threshold: 0.05))
        #expect(cmp.leftOut.baseline == 1 && cmp.leftOut.candidate == 1)
        #expect(cmp.rows.count == 1 && cmp.rows[0].baseline?.median == 300 && cmp.rows[0].candidate?.median == 200)
        #expect(cmp.hasRegression)
    }
}
