import Foundation
import Testing
@testable import Results

@Suite struct NCCLTestsJSONTests {
    @Test func goldenImport() throws {
        let input = try Golden.importFixture("nccl-tests/nt_all_reduce.json")
        #expect(input.format == .ncclTestsJSON)
        #expect(input.skipped.isEmpty)
        try Golden.check(try Golden.render(input), against: "nccl-tests-nt_all_reduce.json.jsonl")
    }

    @Test func provenanceAndRows() throws {
        let input = try Golden.importFixture("nccl-tests/nt_all_reduce.json")
        let run = try #require(input.set.runs.first)
        #expect(run.nccl == "2.28.9" && run.time == "2026-11-21T16:57:28")
        #expect(run.command?.first == "./build/all_reduce_perf")
        #expect(run.environment?["NCCL_NVLS_ENABLE"] == "0" && run.environment?["CUDA_VERSION"] == nil)
        #expect(run.gpus?.first?.pciBusId == "0000:00:06")
        #expect(input.rowsRead == 28)
        let last = try #require(input.set.rows.last)
        #expect(last.benchmark == "all_reduce" && last.ranks == 4 && last.variant == "in_place")
        #expect(last.busbwGBps == 347.689175 && last.timeUs == 2316.1675 && last.wrong == 0 && last.iterations == 20)
        #expect(last.root == nil && last.op == "sum")
    }

    @Test func truncatedDocumentNamesTheEnd() throws {
        let text = try Golden.fixtureText("nccl-tests/nt_all_reduce.json")
        let cut = String(text.prefix(3000))
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: cut, name: "nt.json") }
        #expect(error.message.contains("truncated"))
        #expect((error.line ?? 0) > 150)
    }

    @Test func perIterationAndNaN() throws {
        let doc = """
        {"version":2,"nccl_version":22703,"args":["alltoall_perf"],"config":{"nthreads":1,"ngpus":8,"per_iter_timing":"true"},
         "results":[{"size":1024,"count":32,"type":"float","redop":"none","root":"    -1",
           "out_of_place":{"time":10.5,"alg_bw":0.1,"bus_bw":"nan","nwrong":null},
           "out_of_place_per_iter":{"min_us":9.0,"max_us":12.0,"p99_us":11.5,"cv_pct":3.0},
           "in_place":null,"actual_iterations":20,"experiment_name":""}]}
        """
        let input = try ResultInputs.load(text: doc, name: "a2a.json")
        #expect(input.rowsRead == 1)
        let r = try #require(input.set.rows.first)
        #expect(r.benchmark == "alltoall" && r.ranks == 8 && r.busbwGBps == nil && r.wrong == nil && r.op == nil)
        #expect(r.metrics?["time_p99_us"] == 11.5 && r.timing == "events")
    }
}
