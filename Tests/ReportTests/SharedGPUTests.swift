import Foundation
import Testing
@testable import Report
import Results

/// Rows from runs whose ranks shared one GPU are in no chart or table, in every section, and each
/// section they would have been in says how many were left out.
@Suite struct SharedGPUTests {
    /// The sample set plus a run of 4 ranks on 1 GPU: a put_bw sweep (size section) and a Jacobi row (application section).
    static func withSharedRun(recorded: Bool) -> ResultSet {
        var set = ReportBuilderTests.sample()
        var run = RunInfo(run: "shared", tool: "gpucomm")
        run.gpus = [GPUInfo(index: 0, name: "NVIDIA H100 80GB HBM3")]
        if recorded { run.sharedGPUs = true } else { run.environment = ["GPUCOMM_SHARE_GPUS": "1"] }
        set.runs.append(run)
        for e in [20, 24] {
            var r = ResultRow(run: "shared", benchmark: "put_bw", backend: "nvshmem_device", ranks: 4)
            r.sizeBytes = Int64(1) << e
            r.algbwGBps = 12345
            set.rows.append(r)
        }
        var j = ResultRow(run: "shared", benchmark: "jacobi", backend: "nccl", ranks: 4)
        j.variant = "baseline"
        j.timeUs = 98765e6
        set.rows.append(j)
        return set
    }

    @Test(arguments: [true, false]) func leftOutEverywhereAndCountedPerSection(recorded: Bool) throws {
        let set = Self.withSharedRun(recorded: recorded)
        let doc = ReportBuilder.build(set, inputs: [], options: ReportOptions())
        let md = ReportWriter.markdown(doc)
        #expect(!md.contains("12345"))
        #expect(!md.contains("98765"))
        let total = set.rows.count
        #expect(doc.intro.contains { $0.hasPrefix("3 of the \(total) rows are left out of every chart and table: they come from 1 run where several ranks shared one GPU") })
        // The size section (32 sized rows in all, 2 of them shared) and the application section (5 rows, 1 shared) say so.
        let size = try #require(doc.sections.first { $0.title == "Bandwidth vs message size" })
        #expect(size.intro.contains { $0.hasPrefix("2 of the 32 rows for this section are left out") })
        let app = try #require(doc.sections.first { $0.title == "Application scaling" })
        #expect(app.intro == ["1 of the 5 rows for this section is left out of every chart and table: it comes from 1 run where several ranks shared one GPU "
            + "(GPUCOMM_SHARE_GPUS=1; `shared_gpus` in its run record), which checks correctness only; its timings are not results."])
        // Sections with no shared rows say nothing about them.
        let chunk = try #require(doc.sections.first { $0.title == "Bandwidth vs chunk size" })
        #expect(chunk.intro.isEmpty)
        // Without the shared run, the same report as before: the split changes nothing else.
        var clean = set
        clean.runs.removeLast()
        clean.rows.removeAll { $0.run == "shared" }
        let base = ReportBuilder.build(clean, inputs: [], options: ReportOptions())
        #expect(doc.sections.dropLast().map(\.figures) == base.sections.dropLast().map(\.figures))
    }

    /// Old files (no `shared_gpus`): the recorded GPUCOMM_SHARE_GPUS=1 counts only for rows with more ranks than the run's GPUs.
    @Test func oldFilesJudgeByRanksAgainstGPUs() {
        var run = RunInfo(run: "old", tool: "gpucomm")
        run.gpus = [GPUInfo(index: 0, name: "H100")]
        run.environment = ["GPUCOMM_SHARE_GPUS": "1"]
        let one = ResultRow(run: "old", benchmark: "put_bw", backend: "nvshmem_device", ranks: 1)
        let two = ResultRow(run: "old", benchmark: "put_bw", backend: "nvshmem_device", ranks: 2)
        #expect(!SharedGPURows.isShared(one, run: run))
        #expect(SharedGPURows.isShared(two, run: run))
        var twoNodes = run
        var topo = Topology()
        topo.nodes = 2
        twoNodes.topology = topo
        #expect(!SharedGPURows.isShared(two, run: twoNodes))
        // A run that records the field is taken at its word.
        var said = run
        said.sharedGPUs = false
        #expect(!SharedGPURows.isShared(two, run: said))
        #expect(!SharedGPURows.isShared(two, run: RunInfo(run: "old", tool: "gpucomm")))
    }

    /// The provenance table names the run whose ranks shared GPUs.
    @Test func provenanceSaysTheRunSharedGPUs() {
        let doc = ReportBuilder.build(Self.withSharedRun(recorded: true), inputs: [], options: ReportOptions())
        let runs = doc.sections.last!.figures.last!.table
        let row = runs.rows.first { $0[0] == "shared" }!
        #expect(row.last == "Ranks shared GPUs (correctness only; its rows are not charted).")
    }
}
