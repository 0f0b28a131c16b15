import Foundation
import Testing
@testable import Results

@Suite struct JacobiTests {
    static let files = ["jacobi_nccl_overlap.log", "jacobi_nvshmem_block_comm-srun.log", "jacobi-csv.log", "jacobi-csv-old.log"]

    @Test(arguments: files)
    func goldenImport(_ file: String) throws {
        let input = try Golden.importFixture("jacobi/\(file)")
        #expect(input.format == .jacobi)
        #expect(input.skipped.isEmpty)
        #expect(input.set.rows.allSatisfy { $0.benchmark == "jacobi" && $0.metrics?["time_s"] != nil })
        try Golden.check(try Golden.render(input), against: "jacobi-\(file).jsonl")
    }

    @Test func plainOutput() throws {
        let input = try Golden.importFixture("jacobi/jacobi_nccl_overlap.log")
        let r = try #require(input.set.rows.first)
        #expect(input.rowsRead == 1)
        #expect(r.variant == "nccl_overlap" && r.backend == "nccl" && r.ranks == 8 && r.iterations == 1000)
        #expect(r.metrics == ["baseline_s": 58.9121, "time_s": 7.6502, "speedup": 7.70, "efficiency": 96.26])
        #expect(r.labels?["grid"] == "16384x16384")
    }

    @Test func concatenatedWithPrefixes() throws {
        let input = try Golden.importFixture("jacobi/jacobi_nvshmem_block_comm-srun.log")
        #expect(input.set.rows.map(\.ranks) == [16, 32])
        #expect(input.set.rows.allSatisfy { $0.backend == "nvshmem" && $0.variant == "nvshmem_block_comm-srun" })
    }

    @Test func csvComputesSpeedup() throws {
        let input = try Golden.importFixture("jacobi/jacobi-csv.log")
        #expect(input.set.rows.map(\.variant) == ["nccl", "nccl_overlap", "nccl_graphs", "nvshmem"])
        let r = input.set.rows[0]
        #expect(abs((r.metrics?["speedup"] ?? 0) - 58.9121 / 7.65021) < 1e-9)
        let old = try Golden.importFixture("jacobi/jacobi-csv-old.log")
        #expect(old.set.rows.allSatisfy { $0.metrics?["speedup"] == nil && $0.backend == "mpi" && $0.ranks == 4 })
    }

    @Test func variantOverride() throws {
        let text = try Golden.fixtureText("jacobi/jacobi_nccl_overlap.log")
        let input = try ResultInputs.load(text: text, name: "run1.txt", options: ImportOptions(variant: "nccl_graphs"))
        #expect(input.set.rows[0].variant == "nccl_graphs")
        let unnamed = try ResultInputs.load(text: text, name: "run1.txt")
        #expect(unnamed.set.rows[0].variant == "unknown")
        #expect(unnamed.set.runs[0].notes?.contains { $0.contains("--variant") } == true)
    }

    @Test func truncatedOutputNamesThePlace() throws {
        let text = try Golden.fixtureText("jacobi/jacobi_nccl_overlap.log")
        let cut = String(text.dropLast(40))
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: cut, name: "j.log") }
        #expect(error.line == 24 && error.message.contains("truncated"))
        let noResult = text.split(separator: "\n")[..<22].joined(separator: "\n")
        let e2 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: noResult, name: "j.log") }
        #expect(e2.message.contains("no Jacobi result line"))
        let badCSV = "nccl, 16384, 16384, 1000, 1, 8, 1, 7.65\nnccl, 16384, 16384, 1000, 1, eight, 1, 7.65\n"
        let e3 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: badCSV, name: "c.log") }
        #expect(e3.line == 2)
    }
}
