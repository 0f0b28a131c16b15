import Foundation
import Testing
@testable import Report
import Results

/// `gpucomm alltoall --backends all` rows: one busbw-vs-size chart with a series per backend.
@Suite struct AlltoallBackendsTests {
    static let backends = ["nccl", "nccl_symm", "nvshmem_direct", "nvshmem_host", "nvshmem_signal", "torch"]

    static func rows() -> ResultSet {
        var run = RunInfo(run: "a1", tool: "gpucomm")
        run.host = "node1"
        var rows: [ResultRow] = []
        for (i, b) in backends.enumerated() {
            for e in stride(from: 14, through: 30, by: 4) {
                var r = ResultRow(run: "a1", benchmark: "alltoall", backend: b, ranks: 4)
                r.variant = "out_of_place"
                r.sizeBytes = Int64(1) << e
                // Backend i leads at small sizes when odd, at large sizes when even: the findings name both.
                let base = 300 * Double(e - 13) / 17
                r.busbwGBps = i % 2 == 1 ? base + Double(10 * i) * Double(30 - e) / 16 : base * (1 + Double(i) / 100)
                r.algbwGBps = r.busbwGBps! * 4 / 3
                r.timeUs = Double(Int64(1) << e) / (r.algbwGBps! * 1e3)
                rows.append(r)
            }
        }
        // A wrong row is left out of the chart.
        var bad = ResultRow(run: "a1", benchmark: "alltoall", backend: "nvshmem_put", ranks: 4)
        bad.sizeBytes = 1 << 20; bad.busbwGBps = 999; bad.algbwGBps = 1332; bad.wrong = 7
        rows.append(bad)
        return ResultSet(runs: [run], rows: rows)
    }

    @Test func oneChartWithASeriesPerBackend() throws {
        let doc = ReportBuilder.build(Self.rows(), inputs: [], options: ReportOptions(title: "alltoall"))
        let section = try #require(doc.sections.first { $0.title == "Backend comparison" })
        let ids = section.figures.compactMap { $0.chart?.id }
        let all = section.figures.compactMap(\.chart).filter { $0.title.contains("every backend") }
        #expect(all.count == 1, "\(ids)")
        #expect(all.first?.series.count == Self.backends.count)
        // No pair charts for six backends (fifteen of them would bury the one that matters).
        #expect(!ids.contains { $0.contains("-vs-") }, "\(ids)")
        let md = ReportWriter.markdown(doc)
        #expect(!md.contains("999"))
        try Golden.check(md, against: "alltoall_backends.md")
    }
}
