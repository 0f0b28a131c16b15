import Foundation
import Testing
@testable import Results

@Suite struct FastReaderTests {
    /// Decodes one line with the fast path only.
    static func fast(_ line: String) -> ResultRow? {
        var line = line
        return line.withUTF8 { FastResultLine.parse($0, from: 0, to: $0.count) }
    }

    static func slow(_ line: String) throws -> ResultsLine {
        try ResultsCodec.decode(Substring(line), file: "t", line: 1)
    }

    /// Every result line in every golden file reads the same through both paths.
    @Test func agreesWithJSONDecoderOnAllGoldens() throws {
        let dir = Golden.sourceDir.appendingPathComponent("Golden")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".jsonl") }.sorted()
        #expect(names.count >= 19)
        var checked = 0
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("{") {
                let l = String(line)
                if case .result(let want) = try Self.slow(l) {
                    #expect(Self.fast(l) == want, "\(name): \(l.prefix(80))")
                    checked += 1
                } else {
                    #expect(Self.fast(l) == nil)
                }
            }
        }
        #expect(checked > 400)
    }

    @Test func edgeCases() throws {
        var row = ResultRow(run: "r\"1\\", benchmark: "all_reduce", backend: "nccl", ranks: 8)
        row.labels = ["grid": "16384x16384", "note": "tab\there \u{e9}"]
        row.metrics = ["speedup": 1e-7, "big": 1.5e300]
        row.stats = TimeStats(min: 1, p50: 2, p95: 3, p99: 4, max: 5, mean: 2.5, cv: 0.1, samples: 40)
        row.sizeBytes = 1 << 40
        row.wrong = 0
        let line = try ResultsCodec.encode(.result(row))
        #expect(Self.fast(line) == row)
        // Unknown keys are skipped; nulls are nil; integral exponents are integers.
        let extra = #"{"type":"result","run":"r","benchmark":"b","backend":"x","ranks":2,"future":{"a":[1,2,{"b":null}],"c":true},"variant":null,"size_bytes":1e3}"#
        let parsed = try #require(Self.fast(extra))
        #expect(parsed.variant == nil && parsed.sizeBytes == 1000)
        #expect(try Self.slow(extra) == .result(parsed))
        // Anything the fast path refuses goes to JSONDecoder, which names the problem.
        for bad in [#"{"type":"result","run":"r","benchmark":"b","backend":"x"}"#,
                    #"{"type":"result","run":"r","benchmark":"b","backend":"x","ranks":2.5}"#,
                    #"{"type":"result","run":"r","benchmark":"b","backend":"x","ranks":2"#,
                    #"{"type":"run","run":"r","schema":1,"tool":"gpucomm"}"#] {
            #expect(Self.fast(bad) == nil)
        }
    }

    /// Not a timed test: prints the reading rate for a million rows. Run with GPUCOMM_BENCH=1
    /// (release build: `swift test -c release --filter FastReaderTests`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GPUCOMM_BENCH"] == "1"))
    func millionRows() throws {
        let text = Self.bigFile(rows: 1_000_000)
        let clock = ContinuousClock()
        var set = ResultSet()
        let fast = try clock.measure { set = try ResultSet.parseJSONLines(text, file: "big.jsonl") }
        #expect(set.rows.count == 1_000_000)
        let sample = text.split(separator: "\n").prefix(20_001).map(String.init)
        let slow = try clock.measure { for l in sample { _ = try ResultsCodec.decode(Substring(l), file: "b", line: 1) } }
        print("parseJSONLines: 1,000,000 rows (\(text.utf8.count / 1_000_000) MB) in \(fast); JSONDecoder: 20,000 lines in \(slow)")
    }

    static func bigFile(rows: Int) -> String {
        var run = RunInfo(run: "bench", tool: "gpucomm")
        run.host = "vm"
        var out = (try? ResultsCodec.encode(.run(run))).map { $0 + "\n" } ?? ""
        out.reserveCapacity(rows * 330)
        for k in 0..<rows {
            var r = ResultRow(run: "bench", benchmark: ["all_reduce", "all_gather", "alltoall"][k % 3], backend: "nccl", ranks: 8 << (k % 4))
            r.variant = k % 2 == 0 ? "out_of_place" : "in_place"
            r.dtype = "float"
            r.sizeBytes = Int64(8) << (k % 28)
            r.count = r.sizeBytes! / 4
            r.timeUs = 20.5 + Double(k % 1000) * 0.37
            r.algbwGBps = Double(k % 997) * 0.25
            r.busbwGBps = Double(k % 991) * 0.4375
            r.wrong = 0
            r.iterations = 40
            r.metrics = ["time_p99_us": 30.25 + Double(k % 13)]
            out += ((try? ResultsCodec.encode(.result(r))) ?? "") + "\n"
        }
        return out
    }
}
