import Foundation
import Testing
import Results
@testable import Report

/// The fast JSON Lines reader must give exactly what the Results reader gives, rows and errors.
@Suite struct FastReaderTests {
    static let text = """
    {"type":"run","run":"r1","schema":1,"tool":"gpucomm","topology":{"nvlink_peak_gbps":450}}
    {"type":"result","run":"r1","benchmark":"all_reduce","backend":"nccl","ranks":8,"size_bytes":1073741824,"busbw_gbps":358.123,"algbw_gbps":204.6417,"time_us":5246.7,"variant":"out_of_place","dtype":"float","op":"sum","wrong":0}

    {"algbw_gbps": 1e2, "backend": "nccl_device", "benchmark": "alltoall", "ranks": 4, "run": "r1", "type": "result", "stats": {"min": 1.5, "p50": 2, "p95": 2.25, "p99": 2.5, "max": 3, "mean": 2.1, "cv": 0.01, "samples": 20}}
    {"type":"result","run":"r1","benchmark":"jacobi","backend":"nvshmem","ranks":16,"variant":"NVSHMEM w/ \\"quotes\\"","metrics":{"speedup":14.98,"efficiency":93.64},"labels":{"grid":"16384x16384"}}
    {"type":"result","run":"r1","benchmark":"put_bw","backend":"nvshmem_device","ranks":2,"chunk_bytes":4096,"size_bytes":67108864,"algbw_gbps":-0.0,"future_field":[1,2,{"a":null}],"root":null}
      {"type":"result","run":"r1","benchmark":"x","backend":"y","ranks":2,"time_us":123456789012345678}
    {"type":"result","run":"r1","benchmark":"x","backend":"y","ranks":2,"nodes":1,"iterations":20,"count":7,"timing":"events","buffer":"symmetric","extra":{"k":true}}
    """

    @Test func sameRowsAsTheResultsReader() throws {
        let slow = try ResultSet.parseJSONLines(Self.text, file: "t.jsonl")
        let fast = try FastResultsReader.parse(Data(Self.text.utf8), file: "t.jsonl")
        #expect(fast.runs == slow.runs)
        #expect(fast.rows.count == 6)
        #expect(fast.rows == slow.rows)
    }

    @Test(arguments: [
        "{\"type\":\"result\",\"run\":\"r\",\"benchmark\":\"b\",\"backend\":\"c\"}",
        "{\"type\":\"result\",\"run\":\"r\",\"benchmark\":\"b\",\"backend\":\"c\",\"ranks\":\"two\"}",
        "{\"type\":\"result\",\"run\":\"r\",\"benchmark\":\"b\",\"backend\":\"c\",\"ranks\":2",
        "{\"type\":\"bogus\"}",
        "not json",
    ])
    func sameErrorsAsTheResultsReader(line: String) {
        let text = Self.text + "\n" + line + "\n"
        var slowError = "", fastError = ""
        do { _ = try ResultSet.parseJSONLines(text, file: "t.jsonl") } catch { slowError = "\(error)" }
        do { _ = try FastResultsReader.parse(Data(text.utf8), file: "t.jsonl") } catch { fastError = "\(error)" }
        #expect(!slowError.isEmpty)
        #expect(fastError == slowError)
        #expect(fastError.hasPrefix("t.jsonl:9:"))
    }

    @Test func manyChunksKeepOrderAndLineNumbers() throws {
        var text = ""
        for i in 0..<20_000 {
            text += "{\"type\":\"result\",\"run\":\"r\",\"benchmark\":\"b\",\"backend\":\"c\",\"ranks\":\(i % 7 + 1),\"size_bytes\":\(i)}\n"
        }
        let set = try FastResultsReader.parse(Data(text.utf8), file: "big")
        #expect(set.rows.map(\.sizeBytes) == (0..<20_000).map { Int64($0) })
        let bad = text + "{\"type\":\"result\"}\n"
        #expect(throws: ResultsError.self) { try FastResultsReader.parse(Data(bad.utf8), file: "big") }
        do { _ = try FastResultsReader.parse(Data(bad.utf8), file: "big") } catch { #expect("\(error)".hasPrefix("big:20001:")) }
    }

    @Test func recognizesOnlyGpucommJSONLines() {
        #expect(FastResultsReader.recognizes(Data("\n  {\"type\":\"run\",\"run\":\"a\"}\n".utf8)))
        #expect(!FastResultsReader.recognizes(Data("# nccl-tests version 2.13.8\n".utf8)))
        #expect(!FastResultsReader.recognizes(Data("{\n \"nccl_version\": 1}\n".utf8)))
    }
}
