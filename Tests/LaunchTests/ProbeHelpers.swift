import Foundation
@testable import Launch

/// Runs the built `gpucomm _rendezvous-probe` as real processes; output goes to files (never blocks).
final class Probe: @unchecked Sendable {
    let process = Process()
    let outURL: URL
    let errURL: URL

    /// The `gpucomm` binary next to the running test bundle (`.build/<triple>/debug/gpucomm`).
    static let binary: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("gpucomm").path
    }()

    /// A fresh tag to put in a job's environment, to find its leftovers in /proc.
    static func newTag() -> String { "launchtests-\(getpid())-\(UUID().uuidString)" }

    /// Environment for one rank of a hand-made job (no launcher): only what the probe needs.
    static func rankEnvironment(rank: Int, size: Int, port: UInt16, token: String = "t0k", tag: String) -> [String: String] {
        ["GPUCOMM_RANK": String(rank), "GPUCOMM_WORLD_SIZE": String(size), "GPUCOMM_RENDEZVOUS": "127.0.0.1:\(port)",
         "GPUCOMM_TOKEN": token, "GPUCOMM_BIND": "127.0.0.1", "GPUCOMM_TEST_TAG": tag, "PATH": "/usr/bin:/bin"]
    }

    init(_ arguments: [String], environment: [String: String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-launchtests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let name = UUID().uuidString
        outURL = dir.appendingPathComponent(name + ".out")
        errURL = dir.appendingPathComponent(name + ".err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["_rendezvous-probe"] + arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
    var status: Int32 { process.terminationStatus }

    /// Waits (polling, on this thread) until the process ends; false if it is still running at the deadline.
    @discardableResult
    func wait(seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// Polls until stdout contains `text`.
    func waitFor(_ text: String, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if stdout.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Kills it if still running (test clean-up).
    func reap() {
        if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() }
    }

    /// Starts one probe per rank listed, for a job of `size` ranks on a fresh port.
    static func job(size: Int, ranks: [Int]? = nil, arguments: [String], token: (Int) -> String = { _ in "t0k" })
        throws -> [Int: Probe] {
        let port = try Net.freeLoopbackPort()
        let tag = newTag()
        var probes: [Int: Probe] = [:]
        for r in ranks ?? Array(0..<size) {
            probes[r] = try Probe(arguments, environment: rankEnvironment(rank: r, size: size, port: port, token: token(r), tag: tag))
        }
        return probes
    }

    /// Processes with `tag` in their environment still alive: probes and anything they started.
    static func leftovers(_ tag: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            guard String(decoding: data, as: UTF8.self).contains("GPUCOMM_TEST_TAG=\(tag)") else { return false }
            // A zombie (already dead, not yet reaped by its parent) is not left behind.
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return !stat.contains(") Z ")
        }
    }
}

/// Runs `body(rank)` on `n` threads (blocking calls must not sit on the Swift concurrency pool) and
/// returns the results by rank.
func onThreads<T: Sendable>(_ n: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let box = ThreadResults<T>()
    for r in 0..<n {
        Thread {
            let value = body(r)
            box.condition.lock()
            box.results[r] = value
            box.condition.broadcast()
            box.condition.unlock()
        }.start()
    }
    box.condition.lock()
    while box.results.count < n { box.condition.wait() }
    box.condition.unlock()
    return (0..<n).map { box.results[$0]! }
}

final class ThreadResults<T>: @unchecked Sendable {
    let condition = NSCondition()
    var results: [Int: T] = [:]
}
