import Foundation
import Testing

/// The built `gpucomm` binary run as a user would: exit codes, one-shot views, and the live view under tmux.
@Suite(.serialized) struct TopCommandTests {
    /// `.build/<config>/gpucomm`, beside the test bundle.
    static let binary: String? = {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates.append(Bundle.module.bundleURL.deletingLastPathComponent())
        for dir in candidates {
            let p = dir.appendingPathComponent("gpucomm").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ executable: String, _ args: [String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// posix_spawn with stdio on /dev/null, an empty signal mask and default signal actions, then
    /// waitpid. Used for tmux: its server daemonizes, keeps inherited pipes, and Foundation's
    /// Process did not reap the tmux client here; the test runner's blocked signals would also be inherited.
    static func spawnAndWait(_ executable: String, _ args: [String], stdout: String = "/dev/null") -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, &attr, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    static func emptyDirectory() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func nothingToWatchIsOneLineAndExit5() throws {
        let bin = try #require(Self.binary, "gpucomm binary not built")
        let empty = try Self.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let r = try Self.run(bin, ["top", "--no-nvlink", "--sys-root", empty])
        #expect(r.status == 5)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("nothing to watch") && r.stderr.contains(empty + "/class/infiniband"))
    }

    @Test(arguments: [["--interval", "0"], ["--sort", "busy"], ["--json", "--prometheus"], ["--rdma", "rdmaa"],
                      ["--imbalance-threshold", "0.5"], ["--duration", "soon"], ["--count", "0"],
                      ["--nvlink-counters", "dcgm"], ["--raw", "--nvlink-counters", "gpm"], ["--no-nvlink", "--nvlink-counters", "gpm"]])
    func badOptionsAreUsageErrors(_ args: [String]) throws {
        let bin = try #require(Self.binary, "gpucomm binary not built")
        let r = try Self.run(bin, ["top"] + args)
        #expect(r.status == 2, "\(args): \(r.stderr)")
    }

    @Test func onceJSONFromFixtureRoot() throws {
        let bin = try #require(Self.binary, "gpucomm binary not built")
        let r = try Self.run(bin, ["top", "--no-nvlink", "--sys-root", Support.fixture("sys-efa"), "--once", "--json", "--interval", "50ms"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let o = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect((o["devices"] as! [Any]).count == 4)
    }

    @Test func prometheusOnceFromMlx5Root() throws {
        let bin = try #require(Self.binary, "gpucomm binary not built")
        let r = try Self.run(bin, ["top", "--no-nvlink", "--sys-root", Support.fixture("sys-mlx5"), "--prometheus", "--interval", "50ms"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("gpucomm_counter_total{kind=\"nic\",device=\"mlx5_0\",port=\"1\",counter=\"tx_bytes\"} 1000000000"))
        #expect(r.stdout.contains("gpucomm_port_up{kind=\"nic\",device=\"mlx5_1\",port=\"1\"} 0"))
    }

    /// Drives the interactive view in a detached tmux session against a changing fixture tree.
    @Test func liveViewUnderTmux() throws {
        guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first(where: FileManager.default.isExecutableFile) else {
            print("SKIPPED liveViewUnderTmux: tmux is not installed (apt-get install -y tmux)")
            return
        }
        let bin = try #require(Self.binary, "gpucomm binary not built")
        let root = try Support.copyOfFixture("sys-efa")
        let work = (root as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: work) }
        let socket = "gpucomm-test-\(UUID().uuidString.prefix(8))"
        let captured = work + "/tmux-out"
        func tmuxRun(_ args: [String]) throws -> String {
            _ = Self.spawnAndWait(tmux, ["-L", socket, "-f", "/dev/null"] + args, stdout: captured)
            return (try? String(contentsOfFile: captured, encoding: .utf8)) ?? ""
        }
        defer { _ = try? tmuxRun(["kill-server"]) }
        let exitFile = work + "/exit"
        let command = "TERM=xterm-256color '\(bin)' top --no-nvlink --sys-root '\(root)' --interval 0.2s; echo EXIT=$? > '\(exitFile)'; sleep 3"
        _ = try tmuxRun(["new-session", "-d", "-x", "120", "-y", "30", "-s", "t", command])
        let counter = root + "/class/infiniband/efa_0/ports/1/hw_counters/rx_bytes"
        var value: UInt64 = 2_000_000_000
        func capture() throws -> String { try tmuxRun(["capture-pane", "-p", "-t", "t"]) }
        func waitFor(_ what: String, bumping: Bool = true) throws -> String {
            var screen = ""
            for _ in 0..<60 {
                if bumping { value += 100_000_000; try Support.write(value, to: counter) }
                Thread.sleep(forTimeInterval: 0.1)
                screen = try capture()
                if screen.contains(what) { return screen }
            }
            Issue.record("tmux screen never showed \(what):\n\(screen)")
            return screen
        }
        var screen = try waitFor("MB/s")
        #expect(screen.contains("keys: q quit"))
        let efa0 = screen.split(separator: "\n").first { $0.contains("efa_0") } ?? ""
        #expect(efa0.contains("MB/s") || efa0.contains("GB/s"), "efa_0 row: \(efa0)")
        _ = try tmuxRun(["send-keys", "-t", "t", "s"])
        screen = try waitFor("sort tx")
        _ = try tmuxRun(["send-keys", "-t", "t", "Enter"])
        screen = try waitFor("RDMA device)")
        _ = try tmuxRun(["send-keys", "-t", "t", "q"])
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: exitFile) { Thread.sleep(forTimeInterval: 0.1) }
        let status = (try? String(contentsOfFile: exitFile, encoding: .utf8)) ?? "none"
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "EXIT=0")
        // Back on the normal screen: the live view is gone.
        screen = try capture()
        #expect(!screen.contains("keys: q quit"))
    }
}
