import Foundation
import Testing
@testable import Results

@Suite struct JSONLinesTests {
    static func sample() -> ResultSet {
        var run = RunInfo(run: "r1", tool: "gpucomm")
        run.host = "vm"
        var row = ResultRow(run: "r1", benchmark: "all_reduce", backend: "nccl", ranks: 4)
        row.sizeBytes = 1 << 20
        row.busbwGBps = 123.5
        row.metrics = ["x": 1.5]
        return ResultSet(runs: [run], rows: [row])
    }

    static func text(_ set: ResultSet) throws -> String {
        try set.runs.map { try ResultsCodec.encode(.run($0)) }.joined(separator: "\n") + "\n"
            + set.rows.map { try ResultsCodec.encode(.result($0)) }.joined(separator: "\n") + "\n"
    }

    @Test func roundTripIsDetectedAndExact() throws {
        let set = Self.sample()
        let input = try ResultInputs.load(text: try Self.text(set), name: "r.jsonl")
        #expect(input.format == .gpucommJSONL)
        #expect(input.set == set)
        #expect(input.rowsRead == 1)
    }

    @Test func badLineNamesFileAndLine() throws {
        let good = try Self.text(Self.sample())
        let broken = good + "{\"type\":\"result\",\"run\":\"r1\",\"benchmark\":\"x\"\n"
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: broken, name: "r.jsonl") }
        #expect(error.file == "r.jsonl" && error.line == 3 && error.message.contains("truncated"))
        let missing = good + "{\"type\":\"result\",\"run\":\"r1\",\"benchmark\":\"x\",\"backend\":\"nccl\"}\n"
        let e2 = try #require(throws: ResultsError.self) { try ResultInputs.load(text: missing, name: "r.jsonl") }
        #expect(e2.description == "r.jsonl:3: missing field 'ranks'")
    }

    @Test func futureSchemaIsRefused() throws {
        let line = "{\"type\":\"run\",\"run\":\"r\",\"schema\":99,\"tool\":\"gpucomm\"}\n"
        let error = try #require(throws: ResultsError.self) { try ResultInputs.load(text: line, name: "f.jsonl") }
        #expect(error.line == 1 && error.message.contains("schema version 99"))
    }

    @Test func unknownFormatIsAnError() {
        #expect(throws: ResultsError.self) { try ResultInputs.load(text: "hello world\n", name: "x.txt") }
    }
}
