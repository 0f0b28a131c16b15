import Foundation
import Testing
@testable import Report
import Results

/// `gpucomm copy` rows (labels row, column, copies) drawn as nvbandwidth's matrix, one table per benchmark.
@Suite struct CopyMatrixTests {
    static func row(_ bench: String, variant: String?, row: Int, column: Int, copies: String, size: Int64, gbps: Double?, us: Double, ranks: Int) -> ResultRow {
        var r = ResultRow(run: "c1", benchmark: bench, backend: bench.hasSuffix("_ce") ? "copy_engine" : "sm", ranks: ranks)
        r.variant = variant
        r.sizeBytes = size
        r.algbwGBps = gbps
        r.busbwGBps = gbps
        r.timeUs = us
        r.wrong = 0
        r.labels = ["row": String(row), "column": String(column), "copies": copies, "engine": bench.hasSuffix("_ce") ? "ce" : "sm"]
        return r
    }

    /// Two GPUs: host→device (one row, a column per GPU, pinned and pageable), GPU→GPU writes
    /// (2 × 2 without the diagonal; one cell lacks the largest size) and GPU↔GPU latency.
    static func rows() -> ResultSet {
        var rows: [ResultRow] = []
        for (variant, scale) in [("pinned", 1.0), ("pageable", 0.5)] {
            for g in 0..<2 {
                for (size, bw) in [(Int64(1) << 20, 20.0), (Int64(1) << 30, 55.0)] {
                    rows.append(row("host_to_device_memcpy_ce", variant: variant, row: 0, column: g, copies: "host->gpu\(g)", size: size,
                                    gbps: bw * scale + Double(g), us: Double(size) / (bw * scale * 1e3), ranks: 1))
                }
            }
        }
        for (i, j) in [(0, 1), (1, 0)] {
            for size in [Int64(1) << 20, Int64(1) << 30] where !(i == 1 && size == 1 << 30) {
                rows.append(row("device_to_device_memcpy_write_ce", variant: nil, row: i, column: j, copies: "gpu\(i)->gpu\(j)", size: size,
                                gbps: size == 1 << 20 ? 300 + Double(i) : 380, us: 10, ranks: 2))
            }
        }
        for i in 0..<2 {
            for j in 0..<2 {
                rows.append(row("device_local_latency_sm", variant: nil, row: i, column: j, copies: "gpu\(j)->gpu\(i)", size: 1 << 21,
                                gbps: nil, us: i == j ? 0.6 : 1.4, ranks: i == j ? 1 : 2))
            }
        }
        // A one-cell matrix (a local copy on one GPU) goes to the table of one-cell matrices.
        rows.append(row("device_local_copy_ce", variant: nil, row: 0, column: 0, copies: "gpu0->gpu0", size: 1 << 30, gbps: 1514, us: 709, ranks: 1))
        var run = RunInfo(run: "c1", tool: "gpucomm")
        run.host = "node1"
        return ResultSet(runs: [run], rows: rows)
    }

    @Test func matricesGolden() throws {
        let doc = ReportBuilder.build(Self.rows(), inputs: [], options: ReportOptions(title: "copy"))
        let section = try #require(doc.sections.first { $0.title == "Copy matrices" })
        try Golden.check(ReportWriter.markdown(ReportDocument(title: "copy matrices", sections: [section])), against: "copy_matrix.md")
    }

    @Test func cellsSitWhereTheirLabelsSay() throws {
        let doc = ReportBuilder.build(Self.rows(), inputs: [], options: ReportOptions())
        let figures = try #require(doc.sections.first { $0.title == "Copy matrices" }).figures
        #expect(figures.count == 5)
        #expect(figures.last!.table.rows == [["device_local_copy_ce", "copy_engine", "", "gpu0->gpu0", "1 GiB", "1514", "GB/s"]])
        // GPU→GPU writes at 1 MiB: the 1 GiB size is not measured by cell (1, 0); the diagonal is N/A.
        let write = try #require(figures.first { $0.findings[0].hasPrefix("device_to_device_memcpy_write_ce") })
        #expect(write.findings[0].contains("at 1 MiB, the largest size every cell measured"))
        #expect(write.table.headers == ["row \\ column", "0", "1"])
        #expect(write.table.rows == [["0", "N/A", "300.0"], ["1", "301.0", "N/A"]])
        #expect(write.findings.contains("SUM device_to_device_memcpy_write_ce 601.0 GB/s (nvbandwidth's sum line); N/A: not measured."))
        // Host→device: one row, a column per GPU, one table per memory kind, at 1 GiB.
        let pinned = try #require(figures.first { $0.findings[0].hasPrefix("host_to_device_memcpy_ce (copy_engine, pinned)") })
        #expect(pinned.table.rows == [["0", "55.00", "56.00"]])
        // Latency has no bandwidth: the matrix shows time, and no sum.
        let latency = try #require(figures.first { $0.findings[0].hasPrefix("device_local_latency_sm") })
        #expect(latency.findings[0].contains("time (µs)"))
        #expect(latency.table.rows == [["0", "0.600", "1.400"], ["1", "1.400", "0.600"]])
        #expect(!latency.findings.contains { $0.hasPrefix("SUM") })
    }
}
