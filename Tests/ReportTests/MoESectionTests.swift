import Foundation
import Testing
@testable import Report
import Results

/// The MoE section from a hand-written fixture of `gpucomm moe` and bench/torch_moe.py rows
/// (Fixtures/moe-rows.jsonl: 8 ranks, one shape, three styles at 128/512/2048 tokens per rank,
/// one failed dispatch, layout and kernel rows, and a run whose ranks shared one GPU).
@Suite struct MoESectionTests {
    static func fixture() throws -> ResultSet {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let url = Bundle.module.resourceURL.map { $0.appendingPathComponent("Fixtures/moe-rows.jsonl") }
            .flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil } ?? dir.appendingPathComponent("moe-rows.jsonl")
        return try ResultSet.parseJSONLines(try String(contentsOf: url, encoding: .utf8), file: "moe-rows.jsonl")
    }

    static func section(_ doc: ReportDocument) throws -> Section {
        try #require(doc.sections.first { $0.title == "MoE dispatch and combine" })
    }

    @Test func markdownGolden() throws {
        let doc = ReportBuilder.build(try Self.fixture(), inputs: [], options: ReportOptions(title: "moe"))
        try Golden.check(ReportWriter.markdown(doc), against: "moe_report.md")
    }

    /// A bandwidth chart and a time chart per op, a series per style, and every chart becomes an SVG.
    @Test func chartsPerOpWithASeriesPerStyle() throws {
        let doc = ReportBuilder.build(try Self.fixture(), inputs: [], options: ReportOptions())
        let charts = try Self.section(doc).figures.compactMap(\.chart)
        #expect(charts.map(\.id) == [
            "moe_dispatch_fp8_8r_h7168_k8_e256_m0_s1_0_z0_fp8_gbps_wire", "moe_dispatch_fp8_8r_h7168_k8_e256_m0_s1_0_z0_fp8_time",
            "moe_combine_bf16_8r_h7168_k8_e256_m0_s1_0_z0_fp8_gbps_wire", "moe_combine_bf16_8r_h7168_k8_e256_m0_s1_0_z0_fp8_time",
        ])
        for c in charts {
            #expect(c.series.map(\.name) == ["nvlink_ll", "nvshmem_put", "torch"], "\(c.id)")
            #expect(c.x.scale == .log2 && c.x.label == "tokens per rank")
            let svg = SVGWriter.render(c)
            #expect(svg.hasPrefix("<svg") && svg.contains("tokens per rank"))
        }
        // Only MoE charts: the dispatch rows have size_bytes, but no generic section draws them.
        #expect(doc.charts.count == 4)
        #expect(!doc.sections.contains { $0.title == "Bandwidth vs message size" })
        // The failed nvlink_ll dispatch at 2048 tokens is not drawn; its combine is.
        let dispatch = charts[0].series.first { $0.name == "nvlink_ll" }!
        #expect(dispatch.points.map(\.x) == [128, 512])
        #expect(charts[2].series.first { $0.name == "nvlink_ll" }!.points.map(\.x) == [128, 512, 2048])
        // y is the wire convention's GB/s: 128 tokens × 34150 B + 896 B in 45 µs.
        let put = charts[0].series.first { $0.name == "nvshmem_put" }!
        #expect(abs(put.points[0].y - (128 * 34150 + 896) / 1e3 / 45) < 1e-3)
        #expect(charts[0].title.contains("wire"))
    }

    /// The table under the charts: every convention's GB/s and bytes, the failed row flagged.
    @Test func tableShowsEveryConventionAndFlagsFailures() throws {
        let doc = ReportBuilder.build(try Self.fixture(), inputs: [], options: ReportOptions())
        let table = try #require(try Self.section(doc).figures.first { $0.chart == nil }?.table)
        #expect(table.headers == ["style", "tokens per rank", "op", "dtype", "mean µs",
                                  "GB/s deepep_normal", "GB/s deepep_ll", "GB/s pplx", "GB/s wire",
                                  "MB/rank deepep_normal", "MB/rank deepep_ll", "MB/rank pplx", "MB/rank wire", "check"])
        #expect(table.rows.count == 18)
        let failed = table.rows.filter { $0.last!.hasPrefix("FAILED") }
        #expect(failed == [["nvlink_ll", "2048", "dispatch", "fp8", "350.0", "227.1", "346.8", "346.0", "199.8",
                            "79.48", "121.37", "121.11", "69.94", "FAILED: 3 wrong elements (not charted)"]])
        // Repeats: the median of 110 and 120 µs.
        let put512 = table.rows.first { $0[0] == "nvshmem_put" && $0[1] == "512" && $0[2] == "dispatch" }!
        #expect(put512[4] == "115.0")
        #expect(table.rows.filter { $0.last == "ok" }.count == 17)
    }

    /// Combine rows are BF16 whatever the dispatch: their `dispatch_dtype` label keeps an FP8 run's
    /// combine apart from a BF16 run's of the same shape (without it they were one measurement's repeats).
    @Test func combinesOfFP8AndBF16RunsStayApart() throws {
        let fixture = try Self.fixture()
        let combine = try #require(fixture.rows.first { $0.benchmark == "moe_combine" && $0.run == "fixture-moe8" })
        var fp8 = combine, bf16 = combine
        fp8.labels?["dispatch_dtype"] = "fp8"
        bf16.labels?["dispatch_dtype"] = "bf16"
        let shapes = Set(MoEPoint.points([fp8, bf16], failed: []).map(\.shape.text))
        #expect(shapes == ["hidden 7168, top-8 of 256 experts, masked 0, skew 1.0, zero-token ranks 0, fp8 dispatch, 8 ranks",
                           "hidden 7168, top-8 of 256 experts, masked 0, skew 1.0, zero-token ranks 0, bf16 dispatch, 8 ranks"])
    }

    /// Torch rows carry no skew label: they join the one shape that agrees with every label they have.
    @Test func torchRowsJoinTheirShape() throws {
        let set = try Self.fixture()
        let torch = set.rows.filter { $0.backend == "torch" && $0.benchmark == "moe_dispatch" }
        #expect(torch.allSatisfy { $0.labels?["skew"] == nil })
        let shapes = Set(MoEPoint.points(set.rows.filter { $0.run != "fixture-share" }, failed: []).map(\.shape.text))
        #expect(shapes.count == 2)  // the 8-rank shape and the kernels' 1-rank shape
        #expect(shapes.contains("hidden 7168, top-8 of 256 experts, masked 0, skew 1.0, zero-token ranks 0, fp8 dispatch, 8 ranks"))
    }

    /// Layout rows and the kernel rows (the cast as a fraction of the copy) in tables of their own.
    @Test func layoutAndKernelTables() throws {
        let doc = ReportBuilder.build(try Self.fixture(), inputs: [], options: ReportOptions())
        let tables = try Self.section(doc).figures.filter { $0.chart == nil }.map(\.table)
        let layout = try #require(tables.first { $0.headers.first == "op" })
        #expect(layout.rows.map { [$0[0], $0[2], $0[3], $0[4]] } == [
            ["layout", "layout", "128", "9.500"], ["layout", "layout", "512", "10.50"],
            ["layout", "torch", "128", "35.00"], ["layout", "torch", "512", "36.00"]])
        let kernels = try #require(tables.first { $0.headers.first == "kernel" })
        #expect(kernels.headers == ["kernel", "hidden", "tokens", "mean µs", "traffic GB/s", "of copy", "check"])
        #expect(kernels.rows == [["fp8_cast", "7168", "4096", "38.79", "2294", "84.5%", "ok"],
                                 ["copy", "7168", "4096", "43.23", "2717", "", "ok"]])
    }

    /// The run whose 4 ranks shared one GPU: not in any chart or table; one line says so.
    @Test func sharedGPURowsAreLeftOutAndCounted() throws {
        let doc = ReportBuilder.build(try Self.fixture(), inputs: [], options: ReportOptions())
        let md = ReportWriter.markdown(doc)
        #expect(!md.contains("hidden 2048"))
        #expect(!md.contains("900.0"))
        let line = "2 of the 27 rows are left out of every chart and table: they come from 1 run where several ranks shared one GPU"
        #expect(doc.intro.contains { $0.hasPrefix(line) })
        #expect(try Self.section(doc).intro.contains { $0.hasPrefix("2 of the 27 rows for this section are left out") })
    }

    /// Rows without the wire convention are charted by the first convention every point has, and
    /// say so; tokens that span less than a factor of 4 get a linear axis.
    @Test func chartConventionFallsBackAndAxisIsLinearForANarrowSpan() throws {
        let rows = [128, 256].map { t -> ResultRow in
            var r = ResultRow(run: "x", benchmark: "moe_dispatch", backend: "new_style", ranks: 2)
            r.count = Int64(t)
            r.dtype = "bf16"
            r.timeUs = 10
            r.wrong = 0
            r.metrics = ["gbps_pplx": Double(t) / 10, "bytes_pplx": Double(t) * 1e3, "gbps_zeta": 1, "bytes_zeta": 1e4]
            r.labels = ["hidden": "1024", "topk": "2", "experts": "8", "masked": "0", "skew": "1.0", "zero_ranks": "0", "tokens": String(t)]
            return r
        }
        let doc = ReportBuilder.build(ResultSet(rows: rows), inputs: [], options: ReportOptions())
        let section = try Self.section(doc)
        let bw = try #require(section.figures.first { $0.chart?.id.hasSuffix("gbps_pplx") == true })
        #expect(bw.chart!.x.scale == .linear)
        #expect(bw.findings[0].hasPrefix("Bandwidth by the `pplx` convention"))
        #expect(bw.chart!.series.map(\.points) == [[Point(x: 128, y: 12.8), Point(x: 256, y: 25.6)]])
        // A convention the report does not know (added later) is still a column.
        let table = try #require(section.figures.first { $0.chart == nil }).table
        #expect(table.headers.contains("GB/s zeta") && table.headers.contains("MB/rank zeta"))
        #expect(table.headers.firstIndex(of: "GB/s pplx")! < table.headers.firstIndex(of: "GB/s zeta")!)
    }
}
