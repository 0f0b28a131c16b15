import Foundation
import Testing
@testable import Results

/// Issue 17: hostile input. Every number passes the checked conversion, every line ending reads,
/// every error is one short line naming the place, and nothing is dropped without a word.
@Suite struct HostileInputTests {
    /// The crashing inputs found by the first fuzzing (SIGILL before the checked conversion), kept as
    /// regression fixtures: each is now one error line naming file:line (or the JSON element).
    static let crashers = (try? FileManager.default.contentsOfDirectory(atPath: Golden.fixturePath("hostile")).sorted()) ?? []

    @Test(arguments: crashers)
    func crasherIsOneErrorLine(_ file: String) throws {
        do {
            let input = try Golden.importFixture("hostile/\(file)")
            Issue.record("\(file) imported \(input.rowsRead) rows; expected an error")
        } catch let e as ResultsError {
            let text = e.description
            #expect(!text.contains("\n"), "\(text)")
            #expect(text.count < 300, "\(text)")
            #expect(text.hasPrefix("hostile/\(file)"), "\(text)")
        }
    }

    @Test func crashersAreAllThere() {
        #expect(Self.crashers.count >= 15)
    }

    @Test func errorsNameTheFieldAndLine() throws {
        func message(_ file: String) -> String {
            do { _ = try Golden.importFixture("hostile/\(file)"); return "" } catch { return "\(error)" }
        }
        #expect(message("nccl-tests-size-2p63.log") == "hostile/nccl-tests-size-2p63.log:14: column 'size': 9223372036854775808 is out of range (at most 2^62)")
        #expect(message("nccl-tests-count-1e400.log") == "hostile/nccl-tests-count-1e400.log:14: column 'count': '1e400' is not a finite number")
        #expect(message("nccl-tests-time-nan.log") == "hostile/nccl-tests-time-nan.log:14: column 'time': 'nan' is not a finite number")
        #expect(message("nccl-tests-size-negative.log") == "hostile/nccl-tests-size-negative.log:14: column 'size': expected a whole number ≥ 0, found -8")
        #expect(message("nccl-tests-ngpus-2p62.log") == "hostile/nccl-tests-ngpus-2p62.log:3: parameter 'nGpus': 4611686018427387904 is out of range (at most 2^31)")
        #expect(message("nccl-tests-rank-2p63.log") == "hostile/nccl-tests-rank-2p63.log:6: device line: Rank: 9223372036854775807 is out of range (at most 2^62)")
        #expect(message("nccl_all_reduce-size-1e400.csv") == "hostile/nccl_all_reduce-size-1e400.csv:2: column 'size(MB)': '1e400' is not a finite number")
        #expect(message("nccl_all_reduce-gpus-inf.csv") == "hostile/nccl_all_reduce-gpus-inf.csv:2: column 'GPUs': 'inf' is not a finite number")
        #expect(message("nccl_all_reduce-iterations-1e20.csv") == "hostile/nccl_all_reduce-iterations-1e20.csv:2: column 'iterations': 1e20 is out of range (at most 1e18)")
        #expect(message("nccl_all_reduce-gpus-negative.csv") == "hostile/nccl_all_reduce-gpus-negative.csv:2: column 'GPUs': expected a number ≥ 0, found -16")
        #expect(message("nt_all_reduce-size-1e30.json") == "hostile/nt_all_reduce-size-1e30.json: results[0].size: 1e+30 is out of range (at most 2^62)")
        #expect(message("nt_all_reduce-size-1e400.json").hasSuffix("not an nccl-tests -J document: malformed JSON, or a number beyond the range of a double (such as 1e400)"))
        #expect(message("nvshmem-size-huge.log") == "hostile/nvshmem-size-huge.log:22: column 'size(B)': 99999999999999999999 is out of range (at most 2^62)")
        #expect(message("nvshmem-size-inf.log") == "hostile/nvshmem-size-inf.log:22: column 'size(B)': 'inf' is not a finite number")
    }

    static let fixtures = [
        "nccl-tests/nt_all_reduce_g4.log", "nccl-tests/nt_all_reduce.json", "nccl-tests/ompi-tag-output-two-tests.log",
        "nccl-tests/srun-l-sendrecv-per-iteration.log", "nccl-tests/broadcast-timestamps-graph.log",
        "nccl-tests/all_reduce_perf-2.10-old-error-column.log",
        "aws-efa-p5/nccl_all_reduce.csv", "aws-efa-p5/jacobi.csv", "aws-efa-p5/nvshmem_alltoall_host.csv",
        "nvshmem/alltoall_on_stream.log", "nvshmem/machine-readable-srun.log", "nvshmem/shmem_put_bw-scopes.log",
        "jacobi/jacobi-csv.log", "jacobi/jacobi_nccl_overlap.log",
    ]

    enum Ending: String, CaseIterable { case crlf, mixed, cr, bom, noFinalNewline }

    static func rewrite(_ text: String, _ e: Ending) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        switch e {
        case .crlf: return lines.joined(separator: "\r\n")
        case .mixed: return lines.enumerated().map { $0.offset % 3 == 0 ? $0.element + "\r\n" : $0.offset % 3 == 1 ? $0.element + "\n" : $0.element + "\r" }.joined()
        case .cr: return lines.joined(separator: "\r")
        case .bom: return "\u{FEFF}" + text
        case .noFinalNewline: return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }
    }

    @Test(arguments: fixtures, Ending.allCases)
    func lineEndingsReadTheSameRows(_ fixture: String, _ ending: Ending) throws {
        let text = try Golden.fixtureText(fixture)
        let plain = try ResultInputs.load(text: text, name: fixture)
        let other = try ResultInputs.load(text: Self.rewrite(text, ending), name: fixture)
        #expect(other.format == plain.format)
        #expect(other.rowsRead == plain.rowsRead)
        #expect(other.rowsSkipped == plain.rowsSkipped)
        // Run ids hash the text; every other field reads the same.
        let strip: ([ResultRow]) -> [ResultRow] = { $0.map { var r = $0; r.run = ""; return r } }
        #expect(strip(other.set.rows) == strip(plain.set.rows))
    }

    @Test func crlfJSONLinesFromBytesReads() throws {
        let rows = "{\"type\":\"result\",\"run\":\"a\",\"benchmark\":\"b\",\"backend\":\"c\",\"ranks\":2,\"size_bytes\":8}"
        let text = "\u{FEFF}" + rows + "\r\n" + rows + "\r" + rows
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).jsonl")
        try Data(text.utf8).write(to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try ResultInputs.load(path: dir.path)
        #expect(input.format == .gpucommJSONL && input.rowsRead == 3)
    }

    @Test func errorQuotesAtMostOneShortLine() throws {
        // Mixed line endings used to make one "line" of thousands of characters.
        let long = String(repeating: "x", count: 5000)
        let text = "Nodes,GPUs,size(MB),iterations,algbw(GB/s)\r" + long + "\r\n" + long + "\n"
        do {
            _ = try ResultInputs.load(text: text, name: "s.csv")
            Issue.record("expected an error")
        } catch let e as ResultsError {
            #expect(e.description.count < 200, "\(e.description.count) characters")
            #expect(!e.description.contains("\n") && !e.description.contains("\r"))
        }
        #expect(InputText.quote("abc\ndef") == "abc…")
        #expect(InputText.quote(String(repeating: "y", count: 100), limit: 10) == "yyyyyyyyyy…")
    }

    @Test func nanAndInfinityInResultsAreRefusedWithPlace() throws {
        for (value, reason) in [("-5", "expected a number ≥ 0, found -5.0"), ("1e400", "'inf' is not a finite number")] {
            let text = "{\"type\":\"result\",\"run\":\"a\",\"benchmark\":\"b\",\"backend\":\"c\",\"ranks\":2,\"time_us\":\(value)}\n"
            #expect(throws: ResultsError.self) { try ResultInputs.load(text: text, name: "r.jsonl") }
            do { _ = try ResultInputs.load(text: text, name: "r.jsonl") } catch {
                #expect("\(error)" == "r.jsonl:1: field 'time_us': \(reason)")
            }
        }
        let negative = "{\"type\":\"result\",\"run\":\"a\",\"benchmark\":\"b\",\"backend\":\"c\",\"ranks\":-16}\n"
        do { _ = try ResultInputs.load(text: negative, name: "r.jsonl"); Issue.record("accepted -16 GPUs") } catch {
            #expect("\(error)" == "r.jsonl:1: field 'ranks': expected a whole number ≥ 0, found -16")
        }
    }

    @Test func emptyCellLosesOnlyItsRowAndIsCounted() throws {
        let text = "Nodes,GPUs,size(MB),iterations,blocking,out algbw(GB/s),out busbw(GB/s),in algbw(GB/s),in busbw(GB/s)\n"
            + "2,16,32,1000,false,78.57,147.32,,147.22\n" + "2,16,,1000,false,78.57,147.32,78.52,147.22\n" + "2,16,64,1000,false,1,2,3,4\n"
        let input = try ResultInputs.load(text: text, name: "nccl_all_reduce.csv")
        #expect(input.rowsRead == 3)  // out-of-place of line 2, both of line 4
        #expect(input.rowsSkipped == 3)  // in-place of line 2, both of line 3
        #expect(input.skipped.map(\.description) == [
            "line 2: in_place: no value in column 'in algbw(GB/s)'", "line 3: no value in column 'size(MB)' (2 rows)",
        ])
    }

    @Test func jsonResultWithoutAVariantIsCounted() throws {
        var text = try Golden.fixtureText("nccl-tests/nt_all_reduce.json")
        let range = try #require(text.range(of: "\"out_of_place\""))
        text.replaceSubrange(range, with: "\"somewhere_else\"")
        let input = try ResultInputs.load(text: text, name: "nt_all_reduce.json")
        #expect(input.rowsSkipped == 1)
        #expect(input.skipped.first?.description == "results[0] (size 8): no out_of_place numbers")
    }

    @Test func checkedConversion() {
        #expect(InputNumber.count("1e3") == .success(1000))
        #expect(InputNumber.count("2.5") == .failure(.init("expected a whole number, found 2.5")))
        #expect(InputNumber.count("9223372036854775807") == .failure(.init("9223372036854775807 is out of range (at most 2^62)")))
        #expect(InputNumber.real("-inf", .any) == .failure(.init("'-inf' is not a finite number")))
        #expect(InputNumber.real("1e19", .any) == .failure(.init("1e19 is out of range (at most 1e18)")))
        #expect(InputNumber.small("4294967296") == .failure(.init("4294967296 is out of range (at most 2^31)")))
        #expect(InputNumber.real("0", .positive) == .failure(.init("expected a number > 0, found 0")))
    }
}
