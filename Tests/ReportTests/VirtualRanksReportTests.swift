import Foundation
import Testing
@testable import Report
import Results

/// Rows of `gpucomm moe --virtual-ranks` (label `virtual_ranks`: several ranks in one process on one
/// GPU) check correctness only: no chart or table shows them, and the notes say why, beside the
/// rows of runs whose ranks shared a GPU.
@Suite struct VirtualRanksReportTests {
    /// The MoE fixture plus a virtual-rank run (its run record says nothing of sharing): the
    /// fixture's first dispatch and combine rows, as nccl rows of 8 virtual ranks at 4242.42 µs.
    static func withVirtualRun() throws -> ResultSet {
        var set = try MoESectionTests.fixture()
        var run = RunInfo(run: "virtual", tool: "gpucomm")
        run.gpus = [GPUInfo(index: 0, name: "NVIDIA H100 80GB HBM3")]
        set.runs.append(run)
        for op in ["moe_dispatch", "moe_combine"] {
            var r = try #require(set.rows.first { $0.benchmark == op && $0.run == "fixture-moe8" })
            r.run = "virtual"
            r.backend = "nccl"
            r.timeUs = 4242.42
            r.labels = (r.labels ?? [:]).merging(["virtual_ranks": "8"]) { $1 }
            set.rows.append(r)
        }
        return set
    }

    @Test func leftOutOfEveryChartAndTableAndCountedBesideTheSharedRows() throws {
        let set = try Self.withVirtualRun()
        let doc = ReportBuilder.build(set, inputs: [], options: ReportOptions())
        #expect(!ReportWriter.markdown(doc).contains("4242"))
        let moe = try MoESectionTests.section(doc)
        #expect(moe.figures.compactMap(\.chart).allSatisfy { !$0.series.contains { $0.name == "nccl" } })
        let total = set.rows.count
        #expect(doc.intro.contains("4 of the \(total) rows are left out of every chart and table: they come from 1 run where several ranks shared one GPU "
            + "(GPUCOMM_SHARE_GPUS=1; `shared_gpus` in its run record) and 1 run of virtual ranks on one GPU (`moe --virtual-ranks`; `virtual_ranks` in its rows), "
            + "which check correctness only; their timings are not results."), "\(doc.intro)")
        // The same charts as without the virtual run.
        var without = set
        without.runs.removeLast()
        without.rows.removeAll { $0.run == "virtual" }
        #expect(moe.figures.compactMap(\.chart) == (try MoESectionTests.section(ReportBuilder.build(without, inputs: [], options: ReportOptions()))).figures.compactMap(\.chart))
    }

    @Test func aloneTheyAreLeftOutWithTheirOwnWords() throws {
        var set = try Self.withVirtualRun()
        set.runs.removeAll { $0.run == "fixture-share" }
        set.rows.removeAll { $0.run == "fixture-share" }
        let doc = ReportBuilder.build(set, inputs: [], options: ReportOptions())
        #expect(doc.intro.contains("2 of the \(set.rows.count) rows are left out of every chart and table: they come from 1 run of virtual ranks on one GPU "
            + "(`moe --virtual-ranks`; `virtual_ranks` in its rows), which checks correctness only; its timings are not results."), "\(doc.intro)")
        let row = try #require(set.rows.last)
        #expect(SharedGPURows.isShared(row, run: nil))
        var plain = row
        plain.labels?["virtual_ranks"] = nil
        #expect(!SharedGPURows.isShared(plain, run: set.runs.last))
    }
}
