import Driver
import Foundation
import Testing

/// Runs the built `gpucomm` binary as a subprocess in a fresh folder, output to files.
struct CLI {
    let status: Int32
    let stdout: String
    let stderr: String
    /// It died of a signal (a trap), not an exit.
    var crashed = false
    /// What the command left in its working folder.
    let leftovers: [String]

    /// The `gpucomm` binary next to the running test bundle (`.build/<triple>/debug/gpucomm`).
    static let binary: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("gpucomm").path
    }()

    /// The package root (this file is Tests/CLITests/CLISupport.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// An environment with no GPU library reachable, whatever the machine has: every library
    /// override points at a file that does not exist, and no Python environment is searched.
    static func noGPUEnvironment(home: String) -> [String: String] {
        var env = ["PATH": "/usr/bin:/bin", "HOME": home, "GPUCOMM_PYTHON_SITE": "\(home)/no-site", "GPUCOMM_CACHE_DIR": ""]
        for lib in ["CUDA", "NVRTC", "NVJITLINK", "NCCL", "NVML", "NVSHMEM"] { env["GPUCOMM_\(lib)_LIB"] = "/nonexistent/\(lib.lowercased()).so" }
        return env
    }

    /// Runs `gpucomm args` in a new empty folder (`{tmp}` in an argument becomes that folder).
    static func run(_ args: [String], environment: [String: String]? = nil, setup: (String) throws -> Void = { _ in },
                    timeout: Double = 60) throws -> CLI {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-clitests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try setup(dir.path)
        let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args.map { $0.replacingOccurrences(of: "{tmp}", with: dir.path) }
        p.environment = environment ?? noGPUEnvironment(home: dir.path)
        p.currentDirectoryURL = work
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            Issue.record("gpucomm \(args.joined(separator: " ")) still running after \(timeout) s")
        }
        try outHandle.close()
        try errHandle.close()
        let left = try FileManager.default.contentsOfDirectory(atPath: work.path).sorted()
            + FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !["work", "stdout", "stderr"].contains($0) && $0.hasSuffix(".jsonl") }
        return CLI(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "", crashed: p.terminationReason == .uncaughtSignal, leftovers: left)
    }

    /// stderr is exactly one line starting `gpucomm: `.
    var stderrIsOneLine: Bool {
        stderr.hasPrefix("gpucomm: ") && stderr.hasSuffix("\n") && !stderr.dropLast().contains("\n")
    }

    var summary: String { "status \(status), stderr: \(stderr.debugDescription), stdout: \(stdout.prefix(300).debugDescription)" }
}
