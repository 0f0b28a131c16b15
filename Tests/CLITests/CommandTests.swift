import ArgumentParser
import Collectives
import Driver
import Foundation
import Testing
@testable import GPUCommCLI

/// Commands on a machine without a GPU, help texts, and the documented exit codes.
@Suite struct CommandTests {
    @Test func envWithoutGPUExits5WithMissingLines() throws {
        let r = try CLI.run(["env"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let cuda = lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("cuda ") }
        #expect(cuda?.contains("MISSING") == true, "a MISSING line for cuda: \(r.stdout)")
        #expect(cuda?.contains("GPUCOMM_CUDA_LIB") == true, "it says how to point at the library")
        for lib in ["nvrtc", "nccl", "nvml"] {
            #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(lib + " ") && $0.contains("MISSING") }, "\(lib)")
        }
        #expect(lines.contains("GPUs (0)"))
        #expect(r.stderrIsOneLine && r.stderr.contains("missing cuda"), "\(r.summary)")
    }

    @Test func envJSONWithoutGPU() throws {
        let r = try CLI.run(["env", "--json"])
        #expect(r.status == ExitStatus.unavailable.rawValue)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let libs = try #require(obj["libraries"] as? [[String: Any]])
        #expect(Set(libs.compactMap { $0["name"] as? String }) == ["cuda", "nvrtc", "nvjitlink", "nccl", "nvshmem", "nvml"])
        let cuda = try #require(libs.first { $0["name"] as? String == "cuda" })
        #expect(cuda["path"] == nil && (cuda["problem"] as? String)?.contains("not found") == true)
        #expect(r.stderrIsOneLine)
    }

    @Test func suiteWithoutGPUExits5InOneLine() throws {
        let r = try CLI.run(["suite", "--results", "{tmp}/s.jsonl"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine, "\(r.summary)")
        #expect(r.stderr.contains("report --example"), "it says what works without a GPU")
        #expect(r.leftovers.isEmpty, "no results file: \(r.leftovers)")
        #expect(r.stdout.isEmpty)
    }

    /// The suite's one line should carry the library's own words (which file, where it looked).
    @Test func suiteSaysWhichLibraryIsMissing() throws {
        let r = try CLI.run(["suite", "--results", "{tmp}/s.jsonl"])
        #expect(r.stderr.contains("libcuda") || r.stderr.contains("cuda.so"), "\(r.stderr)")
    }

    @Test func topOnceWithNothingToWatch() throws {
        // NVML unreachable (override), no RDMA device in an empty sysfs stand-in.
        let r = try CLI.run(["top", "--once", "--rdma", "sysfs", "--sys-root", "{tmp}"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine && r.stderr.contains("nothing to watch"), "\(r.summary)")
        #expect(r.stdout.isEmpty)
    }

    /// Plain `gpucomm top --once` on a machine with no NVIDIA GPU and no RDMA device.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/sys/class/infiniband"), "this machine has RDMA devices"))
    func topOnceOnThisMachine() throws {
        let r = try CLI.run(["top", "--once"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine, "\(r.summary)")
    }

    @Test func helpListsEverySubcommand() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0, "\(r.summary)")
        let shown = GPUComm.configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
        #expect(shown.count >= 10)
        for name in shown {
            #expect(r.stdout.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") },
                    "--help lists \(name)")
        }
        for name in ["suite", "env", "nccl", "selftest", "import", "report", "compare", "top", "simulate", "model"] {
            #expect(shown.contains(name), "\(name) is a shown subcommand")
        }
        #expect(r.stdout.contains("Exit codes"), "the exit codes are in the root help")
    }

    @Test func ncclHelpHasEveryNcclTestsFlag() throws {
        let r = try CLI.run(["nccl", "--help"])
        #expect(r.status == 0, "\(r.summary)")
        for letter in ["b", "e", "f", "i", "n", "w", "m", "c", "d", "o", "r", "a", "R", "N", "T", "G", "z", "t", "g"] {
            #expect(r.stdout.contains("-\(letter), --") || r.stdout.contains("-\(letter) <"), "nccl --help mentions -\(letter)")
        }
    }

    @Test func versionFlag() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0 && r.stdout.hasPrefix(GPUCommVersion.version), "\(r.summary)")
    }

    @Test func unknownSubcommandIsUsage() throws {
        let r = try CLI.run(["bogus"])
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine, "\(r.summary)")
    }

    /// selftest's summary: failures listed, waivers grouped by reason, known limitations named with their reason.
    @Test func selftestTally() {
        var t = SelftestTally()
        t.pass(); t.pass()
        t.fail("none all_reduce float sum 8 B out-of-place: 2 wrong elements")
        t.waive("none hypercube: needs power-of-two ranks")
        t.waive("registered hypercube: needs power-of-two ranks")
        t.waive("none all_reduce f8e4m3 prod 8 B out-of-place: NCCL rejects it (invalid argument)")
        t.known("none alltoall float 8 B in-place", 5)
        t.known("none alltoall float 64 B in-place", 1)
        t.known("none sendrecv float 8 B in-place", 0)
        let s = t.summary("single process, 4 GPUs")
        #expect(s.hasPrefix("selftest (single process, 4 GPUs): 2 passed, 1 failed, 3 waived\n"))
        #expect(s.contains("  FAIL none all_reduce float sum 8 B out-of-place: 2 wrong elements\n"))
        #expect(s.contains("  waived 2× needs power-of-two ranks\n"))
        #expect(s.contains("  waived 1× NCCL rejects it (invalid argument)\n"))
        #expect(s.contains("known limitation: none alltoall in-place wrong in 2 cases — NCCL does not support in-place all-to-all"), "\(s)")
        #expect(s.contains("known limitation cases that came out right: 1"))
    }

    /// Known NCCL defects: listed apart from failures, with the cases and the right-case count.
    @Test func selftestTallyKnownDefects() throws {
        var t = SelftestTally()
        let d = try #require(KnownDefect.all.first)
        t.defect(d, "symmetric all_gather int8 65540 B in-place", 46024)
        t.defect(d, "symmetric all_gather int8 4 B in-place", 0)
        let s = t.summary("4 processes")
        #expect(s.hasPrefix("selftest (4 processes): 0 passed, 0 failed, 0 waived, 1 wrong from known NCCL defects (--strict fails them)\n"), "\(s)")
        #expect(s.contains("known NCCL defect \(d.id): "), "\(s)")
        #expect(s.contains("1 cases wrong, 1 matching cases right"), "\(s)")
        #expect(s.contains("    symmetric all_gather int8 65540 B in-place: 46024 wrong elements\n"), "\(s)")
        #expect(t.failures.isEmpty)
    }

    @Test func exitStatusValues() {
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6])
        #expect(Failure(.usage, "x").description == "x")
    }

    /// Words that name each exit status in prose (any one is enough).
    static let statusWords: [Driver.ExitStatus: [String]] = [
        .ok: ["ok", "success"], .failure: ["fail", "error"], .usage: ["usage", "command line", "bad input"],
        .wrongResults: ["wrong"], .regression: ["regression"], .unavailable: ["unavailable", "missing", "no gpu"],
        .rankFailed: ["rank"],
    ]

    static let errorsDoc = CLI.packageRoot.appendingPathComponent("docs/errors.md").path

    /// docs/errors.md documents every ExitStatus: a line that starts with the code (table row,
    /// list item or heading) or says `N` / "exit code N", and names it.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: errorsDoc), "docs/errors.md does not exist yet: exit codes not checked against it"))
    func errorsDocDocumentsEveryExitStatus() throws {
        let text = try String(contentsOfFile: Self.errorsDoc, encoding: .utf8)
        let lines = text.split(separator: "\n").map { String($0) }
        for s in ExitStatus.allCases {
            let code = "\(s.rawValue)"
            let led = lines.filter { line in
                let t = line.drop { " |-*#`".contains($0) }
                let low = line.lowercased()
                return (t.hasPrefix(code) && !(t.dropFirst(code.count).first?.isNumber ?? false))
                    || low.contains("`\(code)`") || low.contains("exit code \(code)") || low.contains("exit status \(code)")
            }
            #expect(!led.isEmpty, "docs/errors.md has no line starting with exit code \(s.rawValue) (\(s))")
            let words = Self.statusWords[s]!
            #expect(led.contains { l in words.contains { l.lowercased().contains($0) } },
                    "docs/errors.md: the line for \(s.rawValue) should name it (\(words.joined(separator: " / "))): \(led)")
        }
    }
}
