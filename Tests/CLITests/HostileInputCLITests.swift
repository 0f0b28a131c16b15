import Foundation
import Testing

/// Issue 17's reproducers, each a test: one line on stderr, exit 2 (or its documented code), no file left.
@Suite struct HostileInputCLITests {
    static let fixtures = CLI.packageRoot.appendingPathComponent("Tests/ResultsTests/Fixtures").path
    static func fixture(_ name: String) -> String { "\(fixtures)/\(name)" }

    /// Crashed with SIGILL (exit 132, no message) before the checked conversion.
    static let reproducers: [[String]] = [
        ["nccl", "all_reduce", "-e", "4611686018427387904"],
        ["alltoall", "-e", "4611686018427387904"],
        ["nccl-device", "-e", "4611686018427387904"],
        ["nvshmem", "put", "-e", "4611686018427387904"],
        ["jacobi", "--gpus", "9223372036854775807"],
        ["simulate", "nic-selection", "--matrix", "{tmp}/huge-cell.csv", "--nodes", "2", "--gpus-per-node", "1"],
        ["import", fixture("hostile/nccl-tests-size-2p63.log")],
        ["report", fixture("hostile/nccl-tests-count-1e400.log"), "--out", "{tmp}/r"],
        ["compare", fixture("hostile/nccl-tests-wrong-2p63.log"), fixture("nccl-tests/nt_all_reduce_g4.log")],
        ["import", fixture("hostile/nccl-tests-ngpus-2p62.log")],
        ["import", fixture("hostile/nccl-tests-rank-2p63.log")],
        ["import", fixture("hostile/nccl_all_reduce-size-1e400.csv")],
        ["import", fixture("hostile/nccl_all_reduce-gpus-inf.csv")],
        ["import", fixture("hostile/nccl_all_reduce-iterations-1e20.csv")],
        ["report", fixture("hostile/nt_all_reduce-size-1e30.json"), "--out", "{tmp}/r"],
        ["import", fixture("hostile/nvshmem-size-huge.log")],
        ["import", fixture("hostile/nvshmem-size-inf.log")],
        // NaN or inf in any input: import exited 1 with EncodingError, report exited 0.
        ["import", fixture("hostile/nccl-tests-time-nan.log"), "-o", "{tmp}/out.jsonl"],
        ["report", fixture("hostile/nccl-tests-time-nan.log"), "--out", "{tmp}/r"],
        ["import", "--csv", fixture("hostile/nccl-tests-time-nan.log"), "-o", "{tmp}/out.csv"],
        // Negative sizes and GPU counts were accepted ("-16 GPUs" in the report).
        ["report", fixture("hostile/nccl_all_reduce-gpus-negative.csv"), "--out", "{tmp}/r"],
        ["import", fixture("hostile/nccl-tests-size-negative.log")],
        // Negative option values said "Missing value".
        ["simulate", "nic-selection", "--nodes", "-1"],
        ["compare", "--threshold", "-5%", fixture("nccl-tests/nt_all_reduce_g4.log"), fixture("nccl-tests/nt_all_reduce_g4.log")],
        ["import", "--ranks", "-3", fixture("nvshmem/alltoall_on_stream.log")],
        ["model", "fit", "--gpus-per-node", "-8", fixture("aws-efa-p5/nccl_alltoall.csv")],
        ["report", "--example", "--what-if-gpus-per-node", "-8", "--out", "{tmp}/r"],
        ["top", "--count", "-3", "--once"],
        ["simulate", "nic-selection", "--line-rate", "nan"],
        // Unbounded work: over 60 s and 3.8 GB, or no answer within 30 s.
        ["simulate", "nic-selection", "--nodes", "300"],
        ["simulate", "nic-selection", "--nodes", "100000"],
        ["report", "--what-if", "--what-if-nodes", "100000", fixture("nccl-tests/nt_all_reduce_g4.log"), "--out", "{tmp}/r"],
        // Unwritable outputs: checked before any work, exit 2 everywhere.
        ["import", fixture("nccl-tests/nt_all_reduce_g4.log"), "-o", "{tmp}/no/such/folder/x.jsonl"],
        ["report", fixture("nccl-tests/nt_all_reduce_g4.log"), "--out", "{tmp}/huge-cell.csv/r"],
        ["model", "fit", fixture("aws-efa-p5/nccl_alltoall.csv"), "--output", "{tmp}/no/such/m.json"],
        ["simulate", "nic-selection", "--svg", "{tmp}/no/such/a.svg"],
        ["top", "--once", "--record", "{tmp}/no/such/t.json"],
    ]

    @Test(arguments: reproducers)
    func reproducerIsOneLineExit2AndLeavesNoFile(_ args: [String]) throws {
        let r = try CLI.run(args, setup: { tmp in
            try "0,9223372036854775807\n9223372036854775807,0\n".write(toFile: "\(tmp)/huge-cell.csv", atomically: true, encoding: .utf8)
        }, timeout: 30)
        #expect(r.status == 2, "\(args.joined(separator: " ")): \(r.summary)")
        #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("gpucomm: ") }.count == 1, "\(r.summary)")
        #expect(!r.stderr.contains("Missing value") && !r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("The data"), "\(r.summary)")
        #expect(r.stdout.isEmpty, "\(r.summary)")
        #expect(r.leftovers.isEmpty, "\(r.leftovers)")
    }

    /// A huge step factor is a valid sweep of one size now (checked arithmetic ends it), so this
    /// machine's answer is the documented one for no GPU: exit 5, one line.
    @Test func hugeStepFactorEndsTheSweepWithoutTrapping() throws {
        let r = try CLI.run(["nccl", "all_reduce", "-f", "4611686018427387904", "-e", "1G"])
        #expect(r.status == 5 && r.stderrIsOneLine, "\(r.summary)")
    }

    @Test func leavesNoOutputFileInTmp() throws {
        // The outputs above sit in {tmp}; check one of each kind directly.
        for args in [["import", Self.fixture("hostile/nccl-tests-time-nan.log"), "-o", "{tmp}/out.jsonl"],
                     ["report", Self.fixture("hostile/nccl-tests-time-nan.log"), "--out", "{tmp}/r"]] {
            let r = try CLI.run(args + [], setup: { _ in }, timeout: 30)
            #expect(r.status == 2)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["import", Self.fixture("hostile/nccl-tests-time-nan.log"), "-o", dir.path + "/out.jsonl"])
        #expect(r.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out.jsonl"))
        let r2 = try CLI.run(["report", Self.fixture("hostile/nccl-tests-time-nan.log"), "--out", dir.path + "/r"])
        #expect(r2.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/r"))
    }

    @Test func moeWithHugeSkewSendsEverythingToOnePeer() throws {
        // Was NaN → Int64 (SIGILL). A skew of 1e5 is valid: each PE's traffic goes to its first peer.
        let r = try CLI.run(["simulate", "nic-selection", "--pattern", "moe", "--skew", "1e5", "--json"])
        #expect(r.status == 0, "\(r.summary)")
        #expect(!r.stdout.contains("nan") && !r.stdout.contains("inf"))
    }

    @Test func importTwiceOntoOneOutputIsRefusedUnlessAppend() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.path + "/all.jsonl", log = Self.fixture("nccl-tests/nt_all_reduce_g4.log")
        #expect(try CLI.run(["import", log, "-o", out]).status == 0)
        let once = try String(contentsOfFile: out, encoding: .utf8)
        let again = try CLI.run(["import", log, "-o", out])
        #expect(again.status == 2 && again.stderrIsOneLine, "\(again.summary)")
        #expect(again.stderr.contains("already holds run nt_all_reduce_g4-") && again.stderr.contains("--append"), "\(again.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == once, "the file is unchanged")
        let twiceOnOneLine = try CLI.run(["import", log, log, "-o", dir.path + "/two.jsonl"])
        #expect(twiceOnOneLine.status == 2, "\(twiceOnOneLine.summary)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/two.jsonl"))
        #expect(try CLI.run(["import", log, "-o", out, "--append"]).status == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == once + once, "--append keeps the old behaviour")
    }

    @Test func crlfLogAndStudyCSVImport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["nccl-tests/nt_all_reduce_g4.log", "aws-efa-p5/nccl_all_reduce.csv"] {
            let text = try String(contentsOfFile: Self.fixture(name), encoding: .utf8)
            let path = dir.path + "/" + (name as NSString).lastPathComponent
            try ("\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n")).write(toFile: path, atomically: true, encoding: .utf8)
            let r = try CLI.run(["import", path])
            #expect(r.status == 0, "\(r.summary)")
            #expect(r.stderr.contains(" rows, 0 skipped"), "\(r.stderr)")
        }
    }

    @Test func studyCSVWithAnotherNameSaysWhatToDo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path + "/mine.csv"
        try FileManager.default.copyItem(atPath: Self.fixture("aws-efa-p5/nccl_all_reduce.csv"), toPath: path)
        let r = try CLI.run(["report", path, "--out", "{tmp}/r"])
        #expect(r.status == 2 && r.stderr.contains("gpucomm import --benchmark"), "\(r.summary)")
        let ok = try CLI.run(["import", "--benchmark", "all_reduce", path])
        #expect(ok.status == 0, "\(ok.summary)")
    }

    /// `--out r`: NSString's deletingLastPathComponent traps on a one-character path (found writing the README's commands).
    @Test func reportIntoAOneLetterFolder() throws {
        let r = try CLI.run(["report", Self.fixture("nccl-tests/nt_all_reduce_g4.log"), "--out", "r"])
        #expect(r.status == 0, "\(r.summary)")
        #expect(r.leftovers == ["r"])
    }

    @Test func modelFitPrintsNoInf() throws {
        let r = try CLI.run(["model", "fit", Self.fixture("aws-efa-p5/nccl_alltoall.csv"), Self.fixture("aws-efa-p5/nccl_all_reduce.csv")])
        #expect(r.status == 0, "\(r.summary)")
        #expect(!r.stdout.contains("inf") && !r.stdout.contains("nan"), "\(r.stdout)")
    }
}
