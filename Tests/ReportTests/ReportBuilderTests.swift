import Foundation
import Testing
import Results
@testable import Report

/// The report from in-memory rows and from the shipped study data.
@Suite struct ReportBuilderTests {
    /// A small gpucomm-like result set: NCCL all-reduce on 2 and 4 GPUs (two repeats each), a device
    /// all-reduce on 4 GPUs, a chunk sweep and a Jacobi run, with an NVLink peak in the topology.
    static func sample() -> ResultSet {
        var run = RunInfo(run: "r1", tool: "gpucomm")
        run.host = "node1"
        run.nccl = "2.28.9"
        var topo = Topology()
        topo.nvlinkPeakGBps = 450
        run.topology = topo
        var rows: [ResultRow] = []
        for ranks in [2, 4] {
            for e in stride(from: 10, through: 30, by: 4) {
                for rep in 0..<2 {
                    var r = ResultRow(run: "r1", benchmark: "all_reduce", backend: "nccl", ranks: ranks)
                    r.variant = "out_of_place"; r.dtype = "float"; r.op = "sum"
                    r.sizeBytes = Int64(1) << e
                    let bw = 400 * Double(e - 9) / 21 * (ranks == 2 ? 0.8 : 1) + Double(rep)
                    r.busbwGBps = bw
                    r.algbwGBps = bw / (2 * Double(ranks - 1) / Double(ranks))
                    rows.append(r)
                }
            }
        }
        for e in stride(from: 10, through: 30, by: 4) {
            var r = ResultRow(run: "r1", benchmark: "all_reduce", backend: "nccl_device", ranks: 4)
            r.variant = "out_of_place"; r.dtype = "float"; r.op = "sum"
            r.sizeBytes = Int64(1) << e
            r.busbwGBps = 300 * Double(e - 9) / 21
            r.algbwGBps = r.busbwGBps! / 1.5
            rows.append(r)
        }
        for c in [12, 14, 16, 18] {
            var r = ResultRow(run: "r1", benchmark: "put_bw", backend: "nvshmem_device", ranks: 2)
            r.sizeBytes = 1 << 26
            r.chunkBytes = Int64(1) << c
            r.algbwGBps = Double(c * 20)
            rows.append(r)
        }
        for (variant, times) in [("baseline", [10.0, 5.5]), ("overlap", [10.0, 5.1])] {
            for (i, ranks) in [2, 4].enumerated() {
                var r = ResultRow(run: "r1", benchmark: "jacobi", backend: "nccl", ranks: ranks)
                r.variant = variant
                r.timeUs = times[i] * 1e6
                r.metrics = ["speedup": 19 / times[i], "efficiency": 19 / times[i] / Double(ranks)]
                rows.append(r)
            }
        }
        return ResultSet(runs: [run], rows: rows)
    }

    static let inputs = [InputSummary(path: "results.jsonl", format: "gpucomm-jsonl", rowsRead: 37)]

    @Test func sampleMarkdownGolden() throws {
        let doc = ReportBuilder.build(Self.sample(), inputs: Self.inputs, options: ReportOptions(title: "sample"))
        try Golden.check(ReportWriter.markdown(doc), against: "sample_report.md")
    }

    @Test func sampleHTMLGolden() throws {
        let doc = ReportBuilder.build(Self.sample(), inputs: Self.inputs, options: ReportOptions(title: "sample"))
        try Golden.check(ReportWriter.html(doc), against: "sample_report.html")
    }

    @Test func rowOrderDoesNotChangeTheReport() {
        let set = Self.sample()
        var shuffled = set
        var rng = SplitMix(seed: 7)
        shuffled.rows.shuffle(using: &rng)
        let a = ReportWriter.markdown(ReportBuilder.build(set, inputs: [], options: ReportOptions()))
        let b = ReportWriter.markdown(ReportBuilder.build(shuffled, inputs: [], options: ReportOptions()))
        #expect(a == b)
    }

    @Test func sectionsWithoutDataAreAbsent() {
        var set = Self.sample()
        set.rows.removeAll { $0.benchmark == "jacobi" || $0.chunkBytes != nil }
        let doc = ReportBuilder.build(set, inputs: [], options: ReportOptions())
        let titles = doc.sections.map(\.title)
        #expect(!titles.contains("Application scaling"))
        #expect(!titles.contains("Bandwidth vs chunk size"))
        #expect(titles.contains("Backend comparison"))
        #expect(titles.last == "Provenance")
    }

    @Test func fractionOfLinkPeakComesFromTopologyOrOverride() {
        let doc = ReportBuilder.build(Self.sample(), inputs: [], options: ReportOptions())
        let md = ReportWriter.markdown(doc)
        #expect(md.contains("of the 450.0 GB/s link peak (from the run's topology)"))
        let over = ReportWriter.markdown(ReportBuilder.build(Self.sample(), inputs: [], options: ReportOptions(linkGBps: 200)))
        #expect(over.contains("of the 200.0 GB/s link peak (given with --link-gbps)"))
    }

    @Test func repeatsAreSummarisedByTheirMedian() {
        let cells = Aggregate(Self.sample()).cells
        let c = cells.first { $0.key.backend == "nccl" && $0.key.ranks == 2 && $0.key.sizeBytes == 1 << 10 }!
        #expect(c.values[.busbw]!.count == 2)
        #expect(c.median(.busbw) == (c.values[.busbw]![0] + c.values[.busbw]![1]) / 2)
    }

    @Test func exampleReportGolden() throws {
        let doc = try ExampleReport.build(options: ReportOptions(title: "example"))
        try Golden.check(ReportWriter.markdown(doc), against: "example_report.md")
    }

    @Test func exampleReproducesTheStudysFiveFigures() throws {
        let doc = try ExampleReport.build(options: ReportOptions())
        let ids = Set(doc.charts.map(\.id))
        for (n, charts) in ExampleReport.figureCharts {
            for id in charts { #expect(ids.contains(id), "study figure \(n): chart \(id) missing") }
        }
        #expect(ExampleReport.studyFigures.count == 5)
        let md = ReportWriter.markdown(doc)
        #expect(md.contains("CC BY 4.0"))
        #expect(!md.contains("not reproduced"))
    }

    /// The study's statements, checked against what our findings computed from its data.
    @Test func exampleFindingsMatchTheData() throws {
        let doc = try ExampleReport.build(options: ReportOptions())
        let findings = doc.sections.flatMap { $0.figures.flatMap(\.findings) }
        // All-to-all is far below all-reduce and falls to about 40 GB/s at 256 GPUs.
        #expect(findings.contains("alltoall, 2 GiB has the lowest bus bandwidth at every GPU count measured (5 of them)."))
        #expect(findings.contains { $0.hasPrefix("alltoall, 2 GiB: bus bandwidth at 256 GPUs is 40.78 GB/s") })
        // NVSHMEM host-initiated all-to-all is nearly flat in GPU count.
        #expect(findings.contains { $0.hasPrefix("nvshmem_host is nearly flat") })
        // Large sizes degrade for NVSHMEM.
        #expect(findings.contains { $0.hasPrefix("Every series falls at its largest size (128 MiB)") })
    }
}

/// A seeded generator so shuffles are repeatable.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ReportBuilderTests {
    @Test func seriesNamesShowOnlyWhatDiffers() {
        var rows: [ResultRow] = []
        for (scope, ranks) in [("block", 2), ("warp", 2), ("block", 8)] {
            var r = ResultRow(run: "r", benchmark: "put_bw", backend: "nvshmem_device", ranks: ranks)
            r.sizeBytes = 1 << 20
            r.algbwGBps = 100
            r.labels = ["perftest": "shmem_put_bw", "scope": scope]
            rows.append(r)
        }
        let cells = Aggregate(ResultSet(rows: rows)).cells
        let names = Grouping.series(cells, by: FigureKit.seriesDims, single: "x").map(\.name)
        #expect(names == ["2 GPUs, scope=block", "2 GPUs, scope=warp", "8 GPUs, scope=block"])
    }

    @Test func variantThatImpliesTheBackendIsNotRepeated() {
        let rows = [("NCCL", "nccl"), ("NVSHMEM", "nvshmem")].map { v, b -> ResultRow in
            var r = ResultRow(run: "r", benchmark: "jacobi", backend: b, ranks: 8)
            r.variant = v
            r.timeUs = 1e6
            return r
        }
        let cells = Aggregate(ResultSet(rows: rows)).cells
        #expect(Grouping.series(cells, by: [.variant, .backend], single: "x").map(\.name) == ["NCCL", "NVSHMEM"])
    }
}
