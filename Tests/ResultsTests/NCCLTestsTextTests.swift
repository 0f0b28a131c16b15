import Foundation
import Testing
@testable import Results

@Suite struct NCCLTestsTextTests {
    static let files = [
        "nt_all_reduce_g4.log", "all_reduce_perf-2.10-old-error-column.log", "srun-l-sendrecv-per-iteration.log",
        "broadcast-timestamps-graph.log", "ompi-tag-output-two-tests.log",
    ]

    @Test(arguments: files)
    func goldenImport(_ file: String) throws {
        let input = try Golden.importFixture("nccl-tests/\(file)")
        #expect(input.format == .ncclTestsText)
        #expect(input.skipped.isEmpty)
        #expect(input.rowsRead > 0 && input.rowsRead % 2 == 0)
        #expect(input.set.runs.allSatisfy { $0.tool == "nccl-tests" })
        try Golden.check(try Golden.render(input), against: "nccl-tests-\(file).jsonl")
    }

    @Test func realSampleCarriesProvenance() throws {
        let input = try Golden.importFixture("nccl-tests/nt_all_reduce_g4.log")
        let run = try #require(input.set.runs.first)
        #expect(run.toolVersion == "2.19.6" && run.nccl == "2.28.9")
        #expect(run.gpus?.count == 4 && run.gpus?[3].pciBusId == "0000:00:09" && run.gpus?[3].name == "NVIDIA H200")
        #expect(run.notes?.first?.contains("nThread 1 nGpus 4") == true)
        #expect(input.rowsRead == 28)
        let last = try #require(input.set.rows.last)
        #expect(last.benchmark == "all_reduce" && last.variant == "in_place" && last.ranks == 4)
        #expect(last.sizeBytes == 536_870_912 && last.count == 134_217_728 && last.dtype == "float" && last.op == "sum")
        #expect(last.timeUs == 2321.20 && last.algbwGBps == 231.29 && last.busbwGBps == 346.94 && last.wrong == 0)
        #expect(last.iterations == 40 && last.root == nil)
    }

    @Test func oldLayoutKeepsErrorAsMetric() throws {
        let input = try Golden.importFixture("nccl-tests/all_reduce_perf-2.10-old-error-column.log")
        let row = try #require(input.set.rows.first)
        #expect(row.wrong == nil && row.metrics?["max_error"] == 0)
        #expect(row.ranks == 8 && row.benchmark == "all_reduce" && input.set.runs[0].gpus?[0].pciBusId == "0x06")
    }

    @Test func launcherPrefixesAndConcatenatedTests() throws {
        let input = try Golden.importFixture("nccl-tests/ompi-tag-output-two-tests.log")
        #expect(input.set.runs.count == 2)
        #expect(Set(input.set.rows.map(\.benchmark)) == ["all_gather", "reduce_scatter"])
        #expect(input.set.rows.allSatisfy { $0.ranks == 16 && $0.nodes == 2 })
        #expect(input.set.runs[0].run != input.set.runs[1].run)
        let srun = try Golden.importFixture("nccl-tests/srun-l-sendrecv-per-iteration.log")
        let r = try #require(srun.set.rows.first)
        #expect(r.benchmark == "sendrecv" && r.ranks == 2 && r.timing == "events")
        #expect(r.metrics?["time_p99_us"] != nil && r.metrics?["time_cv_pct"] != nil)
    }

    @Test func timestampsAndRoot() throws {
        let input = try Golden.importFixture("nccl-tests/broadcast-timestamps-graph.log")
        let row = try #require(input.set.rows.first)
        #expect(row.labels?["timestamp"] == "2026-03-02 10:14:05")
        #expect(row.root == 0 && row.op == nil && row.timing == "graph" && row.dtype == "bfloat16")
    }

    @Test func truncatedRowIsAnErrorNamingTheLine() throws {
        let text = try Golden.fixtureText("nccl-tests/nt_all_reduce_g4.log")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let cut = lines[..<26].joined(separator: "\n") + "\n" + lines[26].prefix(60)
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: cut, name: "cut.log") }
        #expect(error.line == 27)
        #expect(error.message.hasPrefix("expected 13 columns (size count type redop root time algbw busbw #wrong"))
    }

    @Test func logCutBetweenRowsIsReportedAsSkipped() throws {
        let text = try Golden.fixtureText("nccl-tests/nt_all_reduce_g4.log")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let cut = lines[..<20].joined(separator: "\n") + "\n"
        let input = try ResultInputs.load(text: cut, name: "cut.log")
        #expect(input.rowsRead == 14)
        #expect(input.skipped.count == 1 && input.skipped[0].reason.contains("cut short"))
        let headerOnly = lines[..<13].joined(separator: "\n") + "\n"
        #expect(throws: ResultsError.self) { try ResultInputs.load(text: headerOnly, name: "cut.log") }
    }

    @Test func garbageInsideTableIsSkippedWithReason() throws {
        var lines = try Golden.fixtureText("nccl-tests/nt_all_reduce_g4.log").split(separator: "\n", omittingEmptySubsequences: false)
        lines.insert("vm:1601:1650 [2] NCCL INFO Channel 00/0 : 2[2] -> 3[3] via P2P/CUMEM", at: 16)
        lines.insert("Segmentation fault in thread 3, retrying", at: 18)
        let input = try ResultInputs.load(text: lines.joined(separator: "\n"), name: "noisy.log")
        #expect(input.rowsRead == 28)
        #expect(input.skipped.map(\.line) == [19])
        #expect(input.skipped.first?.reason == "not a table row: 'Segmentation fault in thread 3, retrying'")
    }

    @Test func launcherPrefixStripping() {
        #expect(InputText.stripLauncherPrefix("[1,12]<stdout>:# nThread 1") == "# nThread 1")
        #expect(InputText.stripLauncherPrefix("12: # nThread 1") == "# nThread 1")
        #expect(InputText.stripLauncherPrefix("           8             2     float") == "           8             2     float")
        #expect(InputText.stripLauncherPrefix("16384x16384: 1 GPU") == "16384x16384: 1 GPU")
    }
}

@Suite struct NCCLTestsLayoutTests {
    @Test func oldAllGatherWithoutRedopOrRootAndUncheckedWrong() throws {
        let log = """
        # nThread 1 nGpus 2 minBytes 1024 maxBytes 2048 step: 2(factor) warmup iters: 5 iters: 20 validation: 0
        #
        #                                             out-of-place                       in-place
        #       size         count      type     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong
        #        (B)    (elements)               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)
                1024           128     float    10.00    0.10    0.05     N/A    10.50    0.10    0.05     N/A
                2048           256     float    11.00    0.19    0.09     N/A    11.20    0.18    0.09     N/A
        # Out of bounds values : 0 OK
        """
        let input = try ResultInputs.load(text: log, name: "all_gather_perf.log")
        #expect(input.rowsRead == 4 && input.skipped.isEmpty)
        let r = input.set.rows[3]
        #expect(r.benchmark == "all_gather" && r.variant == "in_place" && r.wrong == nil && r.op == nil && r.root == nil)
        #expect(r.ranks == 2 && r.timeUs == 11.20 && r.busbwGBps == 0.09 && r.count == 256)
    }

    @Test func unknownCollectiveAsksForBenchmark() throws {
        let text = try Golden.fixtureText("nccl-tests/all_reduce_perf-2.10-old-error-column.log")
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: text, name: "run7.log") }
        #expect(error.message.contains("--benchmark"))
        let forced = try ResultInputs.load(text: text, name: "run7.log", options: ImportOptions(benchmark: "all_reduce"))
        #expect(forced.rowsRead == 24)
    }
}
