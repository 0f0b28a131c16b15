import Driver
import ArgumentParser
import Foundation
import GoldenFiles
import Testing
@testable import GPUCommCLI

/// Every command's `--help`, rendered at a fixed width, against `Golden/help/<command path>.txt`
/// (GoldenFile: a mismatch writes `<name>.actual` beside the golden and names the first differing
/// line; `GPUCOMM_UPDATE_GOLDEN=1 swift test --filter HelpGoldenTests` rewrites them).
@Suite struct HelpGoldenTests {
    /// ArgumentParser's width when stdout is not a terminal and COLUMNS is unset.
    static let columns = 80

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden").appendingPathComponent("help")

    /// Every command below the root, hidden ones included, found by walking the subcommand tree.
    struct Command: Sendable, CustomTestStringConvertible {
        let path: [String]
        let type: ParsableCommand.Type
        /// `gpucomm-nvshmem-put.txt`.
        var goldenName: String { path.joined(separator: "-") + ".txt" }
        var testDescription: String { path.joined(separator: " ") }
    }

    static let commands: [Command] = {
        var out: [Command] = []
        func walk(_ type: ParsableCommand.Type, _ path: [String]) {
            out.append(Command(path: path, type: type))
            for sub in type.configuration.subcommands {
                walk(sub, path + [sub.configuration.commandName ?? sub._commandName])
            }
        }
        walk(GPUComm.self, ["gpucomm"])
        return out
    }()

    @Test(arguments: commands)
    func help(_ c: Command) throws {
        let text = GPUComm.helpMessage(for: c.type, columns: Self.columns) + "\n"
        try GoldenFile.check(text, golden: Self.folder.appendingPathComponent(c.goldenName))
    }

    /// The commands the refactor of issue 15 must keep (a renamed or dropped one fails here, not silently).
    @Test func everyBenchmarkCommandIsPinned() {
        let names = Set(Self.commands.map { $0.path.joined(separator: " ") })
        for n in ["gpucomm", "gpucomm nccl", "gpucomm nvshmem put", "gpucomm nvshmem get", "gpucomm nvshmem latency",
                  "gpucomm nvshmem signal", "gpucomm nvshmem barrier", "gpucomm alltoall", "gpucomm nccl-device alltoall",
                  "gpucomm jacobi", "gpucomm suite", "gpucomm selftest", "gpucomm env", "gpucomm import", "gpucomm report",
                  "gpucomm compare", "gpucomm top", "gpucomm simulate nic-selection", "gpucomm model fit",
                  "gpucomm _compile-kernels", "gpucomm _stencil-tune", "gpucomm _rendezvous-probe"] {
            #expect(names.contains(n), "no command \(n)")
        }
    }

    /// No golden is left for a command that no longer exists.
    @Test func noStaleGoldens() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".txt") }
        let expected = Set(Self.commands.map(\.goldenName))
        #expect(Set(files).subtracting(expected).isEmpty, "goldens without a command: \(Set(files).subtracting(expected).sorted())")
    }

    /// The binary prints what the in-process rendering pins (same width, as `gpucomm … --help | cat`).
    @Test(arguments: [["nccl"], ["nvshmem", "put"], ["alltoall"]])
    func binaryHelpMatchesTheGolden(_ args: [String]) throws {
        var env = CLI.noGPUEnvironment(home: NSTemporaryDirectory())
        env["COLUMNS"] = String(Self.columns)
        let r = try CLI.run(args + ["--help"], environment: env)
        #expect(r.status == 0, "\(r.summary)")
        let golden = try String(contentsOf: Self.folder.appendingPathComponent((["gpucomm"] + args).joined(separator: "-") + ".txt"), encoding: .utf8)
        #expect(r.stdout == golden, "gpucomm \(args.joined(separator: " ")) --help differs from its golden")
    }
}
