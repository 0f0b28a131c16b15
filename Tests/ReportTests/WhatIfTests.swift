import Foundation
import Testing
import Results
import Simulate
@testable import Report

/// The "What if: beyond one host" section: simulator and model numbers computed, not copied;
/// invalid rows never drawn; golden Markdown and SVG.
@Suite struct WhatIfTests {
    static func exampleDoc(_ w: WhatIfOptions = WhatIfOptions()) throws -> ReportDocument {
        try ExampleReport.build(options: ReportOptions(title: "example", whatIf: w))
    }

    static func section(_ doc: ReportDocument) -> Section? { doc.sections.first { $0.title == "What if: beyond one host" } }

    @Test func sectionMarkdownGolden() throws {
        let doc = try Self.exampleDoc()
        let only = ReportDocument(title: "what if", sections: [try #require(Self.section(doc))])
        try Golden.check(ReportWriter.markdown(only), against: "whatif_section.md")
    }

    @Test func modelChartSVGGolden() throws {
        let chart = try #require(try Self.exampleDoc().charts.first { $0.id == "whatif_model_alltoall_nccl_out_of_place_busbw" })
        #expect(!chart.bands.isEmpty)
        #expect(chart.series.contains { $0.markersOnly })
        try Golden.check(SVGWriter.render(chart), against: "whatif_model_alltoall.svg")
    }

    @Test func docsBecomeLinksWhenTheirPlaceIsKnown() throws {
        var o = ReportOptions(whatIf: WhatIfOptions())
        o.docsBase = "../../docs/"
        let doc = try ExampleReport.build(options: o)
        #expect(ReportWriter.markdown(doc).contains("| [docs/simulate.md](../../docs/simulate.md) |"))
        #expect(ReportWriter.html(doc).contains("<a href=\"../../docs/model.md\">docs/model.md</a>"))
        let plain = ReportWriter.html(try Self.exampleDoc())
        #expect(plain.contains("docs/model.md") && !plain.contains("<a href"))
    }

    @Test func offUnlessAsked() throws {
        let doc = try ExampleReport.build(options: ReportOptions())
        #expect(Self.section(doc) == nil)
        #expect(!doc.charts.contains { $0.id.hasPrefix("whatif") })
    }

    /// The gain sentence follows the simulator for any shape: here 2 NICs and 3 nodes.
    @Test(arguments: [(2, [2, 4]), (4, [3]), (8, [2])])
    func gainIsComputed(nics: Int, nodes: [Int]) throws {
        let w = WhatIfOptions(nodes: nodes, nicsPerGPU: nics)
        let findings = try #require(Self.section(try Self.exampleDoc(w))).figures.flatMap(\.findings)
        for n in nodes {
            let r = try w.simulation(nodes: n).run(policies: [.roundRobinShared, .roundRobinOffset])
            let gain = try #require(r.gain(of: .roundRobinOffset, over: .roundRobinShared))
            #expect(gain > 1, "the offset must beat the shared start at \(n) nodes, \(nics) NICs")
            #expect(findings.contains { $0.hasPrefix("\(n) nodes:") && $0.hasSuffix("\(Fmt.fixed(gain, 2))× faster.") },
                    "no finding with the computed gain \(Fmt.fixed(gain, 2)) at \(n) nodes")
        }
        let bars = try Self.exampleDoc(w).charts.first { $0.id == "whatif_nic_rx_\(nodes[0])_nodes" }
        #expect(bars?.series.count == nics)
    }

    /// The held-out error under the model chart is what `ModelValidation` computes on the same rows.
    @Test func heldOutErrorMatchesModelValidation() throws {
        let (set, _) = try ExampleReport.load()
        let rows = set.rows.filter { $0.benchmark == "alltoall" && $0.backend == "nccl" && $0.variant == "out_of_place" }
        let v = try ModelValidation(rows: rows, topology: ModelTopology(gpusPerNode: 8, nicGBpsPerGPU: 50), maxFitGPUs: 64)
        let median = Simulate.Stats.quantile(v.entries.map(\.error), 0.5)
        let findings = try #require(try Self.exampleDoc().sections.last { $0.title.hasPrefix("What if") })
            .figures.first { $0.chart?.id == "whatif_model_alltoall_nccl_out_of_place_busbw" }?.findings ?? []
        #expect(findings.contains { $0.hasPrefix("Held out 128, 256 GPUs") && $0.contains("median error \(Fmt.percent(median))") })
    }

    /// One node only: no model chart, and the section says why.
    @Test func singleNodeDataGetsNoModel() throws {
        var set = ResultSet(runs: [RunInfo(run: "r", tool: "gpucomm")], rows: [])
        for ranks in [2, 4] {
            for e in 20...26 {
                var r = ResultRow(run: "r", benchmark: "all_reduce", backend: "nccl", ranks: ranks)
                r.sizeBytes = 1 << e
                r.timeUs = Double(1 << e) / 1e5
                r.busbwGBps = 100
                set.rows.append(r)
            }
        }
        let doc = ReportBuilder.build(set, inputs: [], options: ReportOptions(whatIf: WhatIfOptions()))
        let s = try #require(Self.section(doc))
        #expect(!s.figures.contains { $0.chart?.id.hasPrefix("whatif_model") == true })
        #expect(s.figures.flatMap(\.findings).contains { $0.hasPrefix("Scaling model: not fitted") && $0.contains("2, 4 GPUs only") })
    }
}

/// Rows marked unsupported or with wrong elements are not drawn, and the chart says so.
@Suite struct InvalidRowTests {
    static func set() -> ResultSet {
        var run = RunInfo(run: "r", tool: "gpucomm")
        var topo = Topology()
        topo.nvlinkPeakGBps = 450
        run.topology = topo
        var rows: [ResultRow] = []
        for e in [10, 20, 28] {
            for variant in ["out_of_place", "in_place"] {
                for bench in ["alltoall", "sendrecv"] {
                    var r = ResultRow(run: "r", benchmark: bench, backend: "nccl", ranks: 4)
                    r.variant = variant
                    r.sizeBytes = Int64(1) << e
                    r.busbwGBps = variant == "in_place" ? 999 : Double(e)
                    r.wrong = 0
                    if variant == "in_place" && bench == "alltoall" { r.labels = ["unsupported": "NCCL does not support in-place all-to-all"]; r.wrong = 5 }
                    if variant == "in_place" && bench == "sendrecv" && e > 10 { r.wrong = 7 }
                    rows.append(r)
                }
            }
        }
        return ResultSet(runs: [run], rows: rows)
    }

    @Test func invalidRowsAreNotDrawn() throws {
        let doc = ReportBuilder.build(Self.set(), inputs: [], options: ReportOptions())
        for c in doc.charts {
            #expect(!c.series.contains { $0.points.contains { $0.y == 999 } }, "chart \(c.id) draws an invalid row")
            #expect(!c.series.contains { $0.name.contains("unsupported") }, "chart \(c.id) names a series after the unsupported label")
        }
        let a2a = try #require(doc.sections.flatMap(\.figures).first { $0.chart?.id == "size_alltoall_nccl_busbw" })
        #expect(a2a.findings.contains("3 in-place rows are not drawn and not in the table: marked unsupported by the tool that measured them: NCCL does not support in-place all-to-all (15 wrong elements in all)."))
        #expect(!a2a.table.rows.flatMap { $0 }.contains { $0.hasPrefix("999") })
        let sr = try #require(doc.sections.flatMap(\.figures).first { $0.chart?.id == "size_sendrecv_nccl_busbw" })
        #expect(sr.findings.contains("2 in-place rows are not drawn and not in the table: they failed the data check (14 wrong elements in all)."))
        #expect(doc.intro.contains { $0.hasPrefix("5 of the 12 rows are left out") })
    }
}

/// gpucomm's own NCCL rows carry a time: the size table shows it beside the bandwidth.
@Suite struct TimeColumnTests {
    @Test func sizeTableShowsTimeWhenEveryRowHasOne() throws {
        var rows: [ResultRow] = []
        for (e, us) in [(3, 23.5), (20, 31.0), (28, 660.0)] {
            var r = ResultRow(run: "r", benchmark: "alltoall", backend: "nccl", ranks: 4)
            r.variant = "out_of_place"
            r.sizeBytes = Int64(1) << e
            r.timeUs = us
            r.busbwGBps = Double(1 << e) / us / 1e3 * 0.75
            rows.append(r)
        }
        let doc = ReportBuilder.build(ResultSet(runs: [RunInfo(run: "r", tool: "gpucomm")], rows: rows), inputs: [], options: ReportOptions())
        let fig = try #require(doc.sections.flatMap(\.figures).first { $0.chart?.id == "size_alltoall_nccl_busbw" })
        #expect(fig.table.headers == ["message size (bytes)", "bus bandwidth (GB/s)", "time (µs)"])
        #expect(fig.table.rows.map { $0.last } == ["23.50", "31.00", "660.0"])
        #expect(fig.findings.contains("Smallest time: 23.50 µs (4 GPUs, 8 B)."))
    }
}
