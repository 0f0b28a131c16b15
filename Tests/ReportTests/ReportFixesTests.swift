import Foundation
import Testing
import Results
@testable import Report

/// Issue 17's report fixes, on real nccl-tests logs (4×H200, shared/reference/tool-output).
@Suite struct ReportFixesTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ResultsTests/Fixtures")

    static func load(_ name: String, edit: (String) -> String = { $0 }) throws -> ImportedInput {
        let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        return try ResultInputs.load(text: edit(text), name: name)
    }

    /// The real log with a 0-byte row first, as all_gather and alltoall give with -b 8 on 4 ranks.
    static func withZeroRow() throws -> ImportedInput {
        try load("nccl-tests/nt_all_reduce_g4.log") { text in
            text.replacingOccurrences(of: "           8             2     float", with: "           0             0     float     sum      -1    20.58    0.00    0.00       0    20.66    0.00    0.00       0\n           8             2     float")
        }
    }

    @Test func zeroByteRowsStayInTheTableOffTheLogAxis() throws {
        let input = try Self.withZeroRow()
        #expect(input.set.rows.contains { $0.sizeBytes == 0 })
        let doc = ReportBuilder.build(input.set, inputs: [], options: ReportOptions())
        let fig = try #require(doc.sections.flatMap(\.figures).first { $0.chart?.id.hasPrefix("size_all_reduce") == true })
        #expect(fig.table.rows.first?.first == "0 B", "the table keeps the 0-byte row")
        #expect(fig.findings.contains { $0.contains("1 measurement at 0 B is in the table but not on the chart") }, "\(fig.findings)")
        #expect(!fig.findings.contains { $0.contains("(0 B)") }, "no finding describes a no-op: \(fig.findings)")
        let svg = SVGWriter.render(fig.chart!)
        // Ticks and points: nothing at or left of the axis, the first tick a non-zero size.
        let ticks = svg.split(separator: "\n").filter { $0.contains("text-anchor=\"middle\">") && $0.contains("y=\"") }
        #expect(!svg.contains("message size 0,"), "no point for 0 B")
        #expect(!ticks.contains { $0.hasSuffix(">0</text>") }, "no tick labelled 0")
        for line in svg.split(separator: "\n") where line.hasPrefix("<circle") || line.hasPrefix("<rect x") {
            let x = Double(line.split(separator: "\"")[1]) ?? 0
            #expect(x >= 78, "\(line)")
        }
    }

    @Test func runsWithOtherWarmupAndIterationsAreSeparateSeries() throws {
        // nt_all_reduce_g4.log: warm-up 10, 40 iterations; nt_all_reduce.json: warm-up 1, 20 iterations.
        var set = try Self.load("nccl-tests/nt_all_reduce_g4.log").set
        set.append(try Self.load("nccl-tests/nt_all_reduce.json").set)
        let doc = ReportBuilder.build(set, inputs: [], options: ReportOptions())
        let chart = try #require(doc.charts.first { $0.id.hasPrefix("size_all_reduce") })
        let names = chart.series.map(\.name)
        #expect(names.count == 2, "\(names)")
        #expect(names.contains { $0.contains("iters=40") && $0.contains("warmup=10") }, "\(names)")
        #expect(names.contains { $0.contains("iters=20") && $0.contains("warmup=1") }, "\(names)")
        // Each series' value at 8 B is its own run's, not a median of both.
        let text = try Self.load("nccl-tests/nt_all_reduce_g4.log").set.rows.first { $0.sizeBytes == 128 && $0.variant == "out_of_place" }!
        #expect(chart.series.contains { s in s.points.contains { $0.x == 128 && $0.y == text.busbwGBps } })
    }

    @Test func tablesScrollInTheirOwnBox() throws {
        let doc = ReportBuilder.build(try Self.load("nccl-tests/nt_all_reduce_g4.log").set, inputs: [], options: ReportOptions())
        let html = ReportWriter.html(doc)
        #expect(html.contains(".table-box { overflow-x: auto;"))
        #expect(html.components(separatedBy: "<table>").count == html.components(separatedBy: "<div class=\"table-box\">\n<table>").count)
    }

    @Test func overlappingSeriesDifferInMarkerAndDash() {
        let same = [Point(x: 1, y: 1), Point(x: 2, y: 2)]
        let chart = Chart(id: "t", title: "t", x: Axis(label: "x", unit: ""), y: Axis(label: "y", unit: ""),
                          series: [Series(name: "a", points: same), Series(name: "b", points: same), Series(name: "c", points: same)])
        let svg = SVGWriter.render(chart)
        #expect(svg.contains("<circle") && svg.contains("<rect x") && svg.contains("<path d"), "three markers")
        #expect(svg.contains("stroke-dasharray=\"6 3\"") && svg.contains("stroke-dasharray=\"2 3\""), "dashes for the 2nd and 3rd")
    }

    @Test func whatIfTextSaysWhereTheModelMissesThePoints() throws {
        var options = ReportOptions()
        options.whatIf = WhatIfOptions()
        let doc = try ExampleReport.build(options: options)
        let fig = try #require(doc.sections.flatMap(\.figures).first { $0.chart?.id == "whatif_model_alltoall_nvshmem_host_algbw" })
        #expect(fig.findings.contains { $0.hasPrefix("At 128 MiB the model is ") && $0.contains("× the measured algorithm bandwidth") }, "\(fig.findings)")
        #expect(fig.chart!.series.contains { $0.name.hasPrefix("model, 128 MiB (") }, "the legend says it too")
    }

    @Test func nothingNonFiniteReachesThePage() {
        #expect(Fmt.fixed(.infinity, 2) == "n/a" && Fmt.fixed(-.infinity, 1) == "n/a" && Fmt.fixed(.nan, 1) == "n/a")
        var r = ResultRow(run: "r", benchmark: "jacobi", backend: "nccl", ranks: 16)
        r.variant = "a"; r.timeUs = 0; r.metrics = ["time_s": 0]
        var s = r; s.variant = "b"; s.timeUs = 5e6; s.metrics = ["time_s": 5]
        var r2 = r; r2.ranks = 32
        var s2 = s; s2.ranks = 32
        let doc = ReportBuilder.build(ResultSet(runs: [RunInfo(run: "r", tool: "t")], rows: [r, s, r2, s2]), inputs: [], options: ReportOptions())
        let md = ReportWriter.markdown(doc)
        #expect(FuzzFindingTests.standalone(["inf", "nan"], in: md) == nil, "\(md)")
    }
}
