import Foundation
import Testing
@testable import Results

@Suite struct StudyCSVTests {
    static let files = ["nccl_all_reduce", "nccl_alltoall", "nvshmem_alltoall_device", "nvshmem_alltoall_host", "jacobi"]

    @Test(arguments: files)
    func goldenImport(_ file: String) throws {
        let input = try Golden.importFixture("aws-efa-p5/\(file).csv")
        #expect(input.format == .studyCSV)
        #expect(input.skipped.isEmpty)
        #expect(input.set.runs.count == 1)
        #expect(input.set.runs[0].tool == "aws-efa-p5-study")
        #expect(input.set.runs[0].notes?.first?.contains("CC BY 4.0") == true)
        #expect(input.set.runs[0].topology?.nicGBpsPerGPU == nil && input.set.runs[0].topology?.gpusPerNode == 8)
        try Golden.check(try Golden.render(input), against: "aws-efa-p5-\(file).jsonl")
    }

    @Test func allReduceRowsAreTwoPerLineInMiB() throws {
        let input = try Golden.importFixture("aws-efa-p5/nccl_all_reduce.csv")
        #expect(input.rowsRead == 45 * 2)
        let first = input.set.rows[0], second = input.set.rows[1]
        #expect(first.benchmark == "all_reduce" && first.backend == "nccl")
        #expect(first.variant == "out_of_place" && second.variant == "in_place")
        #expect(first.sizeBytes == 32 << 20)
        #expect(first.ranks == 16 && first.nodes == 2 && first.iterations == 1000)
        #expect(first.algbwGBps == 78.57 && first.busbwGBps == 147.32)
        #expect(second.algbwGBps == 78.52 && second.busbwGBps == 147.22)
    }

    @Test func straySpacesAreTolerated() throws {
        let jacobi = try Golden.importFixture("aws-efa-p5/jacobi.csv")
        let row = try #require(jacobi.set.rows.first { $0.variant == "NVSHMEM" && $0.ranks == 32 })
        #expect(row.metrics?["time_s"] == 28.3470)
        #expect(row.backend == "nvshmem")
        #expect(row.metrics?["efficiency"] == 52.05)
        let a2a = try Golden.importFixture("aws-efa-p5/nccl_alltoall.csv")
        #expect(a2a.set.rows.contains { $0.ranks == 32 && $0.labels?["blocking"] == "false" && $0.sizeBytes == 32 << 20 })
    }

    @Test func nvshmemUnitsAndBackends() throws {
        let dev = try Golden.importFixture("aws-efa-p5/nvshmem_alltoall_device.csv")
        #expect(dev.set.rows[0].backend == "nvshmem_device" && dev.set.rows[0].sizeBytes == 128 << 10)
        let host = try Golden.importFixture("aws-efa-p5/nvshmem_alltoall_host.csv")
        #expect(host.set.rows[0].backend == "nvshmem_host" && host.set.rows[0].sizeBytes == 2 << 20)
        #expect(host.set.rows[0].benchmark == "alltoall")
    }

    @Test func collectiveComesFromFileNameOrOverride() throws {
        let text = try Golden.fixtureText("aws-efa-p5/nccl_all_reduce.csv")
        let gather = try ResultInputs.load(text: text, name: "data/nccl_all_gather.csv")
        #expect(gather.set.rows.allSatisfy { $0.benchmark == "all_gather" })
        #expect(throws: ResultsError.self) { try ResultInputs.load(text: text, name: "mystery.csv") }
        let forced = try ResultInputs.load(text: text, name: "mystery.csv", options: ImportOptions(benchmark: "reduce_scatter"))
        #expect(forced.set.rows.allSatisfy { $0.benchmark == "reduce_scatter" })
    }

    @Test func truncatedLineNamesThePlace() throws {
        var text = try Golden.fixtureText("aws-efa-p5/nccl_alltoall.csv")
        text = String(text.dropLast(12))  // cut the last line short
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: text, name: "nccl_alltoall.csv") }
        #expect(error.line == 36)
        #expect(error.description.hasPrefix("nccl_alltoall.csv:36: expected 9 comma-separated fields"))
    }

    @Test func garbageNumberIsAnErrorAndMissingValueIsSkipped() throws {
        let header = "Nodes,GPUs,size(MB),iterations,algbw(GB/s)\n"
        let bad = header + "2,16,2,1000,fast\n"
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: bad, name: "nvshmem_alltoall_host.csv") }
        #expect(error.description == "nvshmem_alltoall_host.csv:2: column 'algbw(GB/s)': expected a number ≥ 0, found 'fast'")
        let missing = header + "2,16,2,1000,N/A\n2,16,4,1000,33.1\n"
        let input = try ResultInputs.load(text: missing, name: "nvshmem_alltoall_host.csv")
        #expect(input.rowsRead == 1)
        #expect(input.skipped == [SkippedLine(line: 2, reason: "no value in column 'algbw(GB/s)'")])
    }

    @Test func headerOnlyAndEmptyAreErrors() throws {
        let header = "Nodes,GPUs,size(MB),iterations,algbw(GB/s)\n"
        let e1 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: header, name: "nvshmem_alltoall_host.csv") }
        #expect(e1.line == 1 && e1.message.contains("cut short"))
        let e2 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: "\n \n", name: "x.csv") }
        #expect(e2.message.hasPrefix("empty input"))
    }
}
