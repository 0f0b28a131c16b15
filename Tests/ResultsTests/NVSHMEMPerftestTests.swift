import Foundation
import Testing
@testable import Results

@Suite struct NVSHMEMPerftestTests {
    static let files = ["alltoall_on_stream.log", "alltoall_device-scopes.log", "shmem_put_bw-scopes.log", "machine-readable-srun.log"]

    @Test(arguments: files)
    func goldenImport(_ file: String) throws {
        let input = try Golden.importFixture("nvshmem/\(file)")
        #expect(input.format == .nvshmemPerftest)
        #expect(input.skipped.isEmpty)
        #expect(input.set.runs.count == 1 && input.set.runs[0].tool == "nvshmem-perftest")
        try Golden.check(try Golden.render(input), against: "nvshmem-\(file).jsonl")
    }

    @Test func hostTable() throws {
        let input = try Golden.importFixture("nvshmem/alltoall_on_stream.log")
        #expect(input.rowsRead == 12)
        try #require(input.set.rows.count > 5)
        let r = input.set.rows[5]
        #expect(input.set.rows.last?.dtype == "float")
        #expect(r.benchmark == "alltoall" && r.backend == "nvshmem_host" && r.ranks == 16 && r.dtype == "int")
        #expect(r.sizeBytes == 16_777_216 && r.algbwGBps == 32.320 && r.busbwGBps == 30.300)
        #expect(r.metrics?["time_min_us"] != nil && r.iterations == 1000)
        #expect(input.set.runs[0].gpus?.count == 16 && input.set.runs[0].gpus?[9].index == 1)
    }

    @Test func deviceTablesPerScope() throws {
        let input = try Golden.importFixture("nvshmem/alltoall_device-scopes.log")
        #expect(input.rowsRead == 10)
        #expect(Set(input.set.rows.compactMap { $0.labels?["scope"] }) == ["warp", "block"])
        #expect(input.set.rows.allSatisfy { $0.backend == "nvshmem_device" && $0.benchmark == "alltoall" && $0.timeUs != nil })
    }

    @Test func plainTable() throws {
        let input = try Golden.importFixture("nvshmem/shmem_put_bw-scopes.log")
        #expect(input.rowsRead == 18)
        let r = try #require(input.set.rows.first)
        #expect(r.benchmark == "put_bw" && r.labels?["scope"] == "thread" && r.algbwGBps != nil && r.ranks == 2)
    }

    @Test func machineReadable() throws {
        let input = try Golden.importFixture("nvshmem/machine-readable-srun.log")
        #expect(input.rowsRead == 11)
        let a2a = try #require(input.set.rows.first)
        #expect(a2a.backend == "nvshmem_host" && a2a.timeUs != nil && a2a.algbwGBps != nil && a2a.ranks == 8)
        let stats = try #require(input.set.rows.last)
        #expect(stats.benchmark == "put_latency" && stats.timeUs == 2.2)
        #expect(stats.metrics?["time_stddev_us"] == 0.03 && stats.metrics?["repetitions"] == 5)
    }

    @Test func classifyJobs() {
        #expect(NVSHMEMPerftestImporter.classify(job: "alltoall_on_stream") == ("alltoall", "nvshmem_host"))
        #expect(NVSHMEMPerftestImporter.classify(job: "device_reduction") == ("all_reduce", "nvshmem_device"))
        #expect(NVSHMEMPerftestImporter.classify(job: "fcollect_device") == ("all_gather", "nvshmem_device"))
        #expect(NVSHMEMPerftestImporter.classify(job: "shmem_put_bw") == ("put_bw", "nvshmem_device"))
    }

    @Test func truncatedRowAndTable() throws {
        let text = try Golden.fixtureText("nvshmem/alltoall_on_stream.log")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines[22] = lines[22].prefix(30)
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: lines.joined(separator: "\n"), name: "a.log") }
        #expect(error.line == 23 && error.message.hasPrefix("expected 8 columns"))
        let headerOnly = text.split(separator: "\n", omittingEmptySubsequences: false)[..<21].joined(separator: "\n")
        let e2 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: headerOnly, name: "a.log") }
        #expect(e2.line == 21 && e2.message.contains("no rows"))
        let perf = "&&&& PERF alltoall_on_stream___int___size__1024___latency\n"
        let e3 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: perf, name: "p.log") }
        #expect(e3.line == 1 && e3.message.contains("truncated"))
    }

    @Test func missingPECountIsNoted() throws {
        let text = "#alltoall_on_stream\nsize(B)  count  type  latency(us)  min_lat(us)  max_lat(us)  algbw(GB/s)  busbw(GB/s)\n1024 256 int 10.0 9.0 11.0 0.1 0.09\n"
        let input = try ResultInputs.load(text: text, name: "x.log")
        #expect(input.set.rows[0].ranks == 0)
        #expect(input.set.runs[0].notes?.contains { $0.contains("--ranks") } == true)
        let given = try ResultInputs.load(text: text, name: "x.log", options: ImportOptions(ranks: 8))
        #expect(given.set.rows[0].ranks == 8)
    }
}
