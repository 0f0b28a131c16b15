// gpucomm's own launcher: N copies of a command on this host, one per rank, like `mpirun -np N` without MPI.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Spawns the ranks of a local job and waits for them.
public enum LocalLauncher {
    /// Variable holding the launcher's pid, so `Launch.dieWithParent()` can tell it was orphaned early.
    static let parentVariable = "GPUCOMM_LAUNCHER_PID"

    /// Runs `ranks` copies of `executable arguments…` and returns the exit status the launcher should use.
    ///
    /// Each child gets `GPUCOMM_RANK`, `GPUCOMM_WORLD_SIZE`, `GPUCOMM_LOCAL_RANK`, `GPUCOMM_LOCAL_SIZE`,
    /// `GPUCOMM_RENDEZVOUS` (a free loopback port), `GPUCOMM_TOKEN` (fresh, random) and
    /// `GPUCOMM_BIND=127.0.0.1` on top of `environment`. The children share a new process group; SIGINT,
    /// SIGTERM and SIGHUP sent to the launcher are forwarded to it. Rank 0's stdout passes through unchanged;
    /// the other ranks' stdout is dropped unless `GPUCOMM_ALL_STDOUT=1` (then it is prefixed `[rank N] `);
    /// every rank's stderr is prefixed `[rank N] `. Once a child fails, the others get `timeout` to end by
    /// themselves, then SIGTERM, then (2 s later) SIGKILL. Returns 0 when every child exited 0, else the
    /// first failing child's status (6 when it was killed by a signal); 1 when spawning failed.
    public static func run(ranks: Int, executable: String, arguments: [String], environment: [String: String],
                           timeout: Duration) -> Int32 {
        guard ranks >= 1 else { return 2 }
        let port: UInt16
        do { port = try Net.freeLoopbackPort() } catch {
            say("cannot find a free loopback port: \(error)")
            return 1
        }
        var randomness = SystemRandomNumberGenerator()
        let token = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &randomness)) }.joined()

        // Block the signals we handle before any thread starts, so the threads below inherit the mask and
        // only `sigtimedwait` in this loop sees them. The children get a clean mask (POSIX_SPAWN_SETSIGMASK).
        var handled = sigset_t()
        sigemptyset(&handled)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&handled, s) }
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &handled, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let allStdout = environment["GPUCOMM_ALL_STDOUT"] == "1"
        let output = PrefixWriter()
        var children: [Child] = []
        var pgid: pid_t = 0
        for r in 0..<ranks {
            var env = environment
            env["GPUCOMM_RANK"] = String(r)
            env["GPUCOMM_WORLD_SIZE"] = String(ranks)
            env["GPUCOMM_LOCAL_RANK"] = String(r)
            env["GPUCOMM_LOCAL_SIZE"] = String(ranks)
            env["GPUCOMM_RENDEZVOUS"] = "127.0.0.1:\(port)"
            env["GPUCOMM_TOKEN"] = token
            env["GPUCOMM_BIND"] = "127.0.0.1"
            env[parentVariable] = String(getpid())
            do {
                let child = try Child.spawn(rank: r, executable: executable, arguments: arguments, environment: env,
                                            group: pgid, stdout: r == 0 ? .inherit : (allStdout ? .prefixed : .drop))
                if pgid == 0 { pgid = child.pid }
                children.append(child)
            } catch {
                say("cannot start rank \(r) (\(executable)): \(error)")
                if pgid != 0 { kill(-pgid, SIGKILL) }
                for c in children { var s: Int32 = 0; waitpid(c.pid, &s, 0) }
                return 1
            }
        }
        let readers = children.flatMap { child in
            child.pipes.map { (fd, toStdout) in output.start(fd: fd, prefix: "[rank \(child.rank)] ", toStdout: toStdout) }
        }

        let status = supervise(children, group: pgid, timeout: timeout, signals: handled)
        // Reader threads end at EOF; a grandchild still holding a pipe must not keep us here.
        output.waitForReaders(readers.count, until: .now + .seconds(1))
        if kill(-pgid, 0) == 0 { kill(-pgid, SIGKILL) }
        return status
    }

    /// The path of the running executable (`/proc/self/exe`), for re-running oneself as the ranks.
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// `arguments` (without the program name) minus every `option value` / `option=value` pair, so that the
    /// ranks re-run the same command without the launcher's own flag (e.g. `--np`).
    public static func arguments(_ arguments: [String], removing option: String) -> [String] {
        var out: [String] = []
        var skipNext = false
        for (i, arg) in arguments.enumerated() {
            if skipNext { skipNext = false; continue }
            if arg == "--" { out += arguments[i...]; break }
            if arg == option { skipNext = true; continue }
            if arg.hasPrefix(option + "=") { continue }
            out.append(arg)
        }
        return out
    }

    /// Waits for every child, forwarding signals and escalating after the first failure.
    static func supervise(_ children: [Child], group pgid: pid_t, timeout: Duration, signals: sigset_t) -> Int32 {
        var running = Dictionary(uniqueKeysWithValues: children.map { ($0.pid, $0.rank) })
        var firstFailure: Int32? = nil
        var failedAt: ContinuousClock.Instant? = nil
        var termSentAt: ContinuousClock.Instant? = nil
        var killSent = false
        var set = signals
        while !running.isEmpty {
            var info = siginfo_t()
            var wait = timespec(tv_sec: 0, tv_nsec: 100_000_000)
            let sig = sigtimedwait(&set, &info, &wait)
            if sig == SIGINT || sig == SIGTERM || sig == SIGHUP {
                kill(-pgid, sig)
                if failedAt == nil { failedAt = .now; firstFailure = firstFailure ?? 6 }
            }
            for (pid, rank) in running {
                var status: Int32 = 0
                guard waitpid(pid, &status, WNOHANG) == pid else { continue }
                running[pid] = nil
                let signal = status & 0x7f
                let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 6
                if signal != 0 && !killSent && termSentAt == nil {
                    say("rank \(rank) (pid \(pid)) was killed by signal \(signal)")
                }
                if code != 0 && firstFailure == nil {
                    firstFailure = code
                    failedAt = .now
                }
            }
            guard let failedAt, !running.isEmpty else { continue }
            if termSentAt == nil, ContinuousClock.now - failedAt >= timeout {
                say("\(running.count) rank(s) still running \(LaunchError.seconds(timeout.seconds)) after the first failure: sending SIGTERM")
                kill(-pgid, SIGTERM)
                termSentAt = .now
            } else if let termSentAt, !killSent, ContinuousClock.now - termSentAt >= .seconds(2) {
                say("sending SIGKILL to ranks \(running.values.sorted().map(String.init).joined(separator: ", "))")
                kill(-pgid, SIGKILL)
                killSent = true
            }
        }
        return firstFailure ?? 0
    }

    static func say(_ line: String) {
        FileHandle.standardError.write(Data("gpucomm: launcher: \(line)\n".utf8))
    }
}

/// One spawned rank: its pid and the read ends of its output pipes.
struct Child {
    enum Stdout { case inherit, drop, prefixed }
    var rank: Int
    var pid: pid_t
    /// (read end, goes to stdout) pairs.
    var pipes: [(Int32, Bool)]

    static func spawn(rank: Int, executable: String, arguments: [String], environment: [String: String],
                      group: pid_t, stdout: Stdout) throws(LaunchError) -> Child {
        var errPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        guard closeOnExecPipe(&errPipe) else { throw .io("pipe: \(Net.errorText())") }
        if stdout == .prefixed, !closeOnExecPipe(&outPipe) { throw .io("pipe: \(Net.errorText())") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch stdout {
        case .inherit: break
        case .drop: posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        case .prefixed: posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        }
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attr, group)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv + [nil], envp + [nil])
        close(errPipe[1])
        if outPipe[1] >= 0 { close(outPipe[1]) }
        guard rc == 0 else {
            close(errPipe[0])
            if outPipe[0] >= 0 { close(outPipe[0]) }
            throw .io("posix_spawn: \(Net.errorText(rc))")
        }
        var pipes = [(errPipe[0], false)]
        if outPipe[0] >= 0 { pipes.append((outPipe[0], true)) }
        return Child(rank: rank, pid: pid, pipes: pipes)
    }
}

/// pipe() with FD_CLOEXEC on both ends (no thread of ours forks between the two calls).
private func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return true
}

/// Copies children's output line by line with a prefix; one thread per pipe, one lock for whole lines.
final class PrefixWriter: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = 0

    /// Starts a thread copying `fd` to stdout or stderr; returns when it is started.
    func start(fd: Int32, prefix: String, toStdout: Bool) -> Thread {
        let thread = Thread { [self] in
            copy(fd: fd, prefix: Array(prefix.utf8), to: toStdout ? 1 : 2)
            close(fd)
            condition.lock()
            finished += 1
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
        return thread
    }

    func waitForReaders(_ count: Int, until deadline: ContinuousClock.Instant) {
        condition.lock()
        defer { condition.unlock() }
        while finished < count {
            let left = (deadline - .now).seconds
            if left <= 0 || !condition.wait(until: Date(timeIntervalSinceNow: left)) { return }
        }
    }

    private func copy(fd: Int32, prefix: [UInt8], to out: Int32) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending += chunk[0..<n]
            if let last = pending.lastIndex(of: UInt8(ascii: "\n")) {
                emit(pending[...last], prefix: prefix, to: out)
                pending.removeFirst(last + 1)
            }
        }
        if !pending.isEmpty { emit(pending[...] + [UInt8(ascii: "\n")], prefix: prefix, to: out) }
    }

    private func emit(_ lines: ArraySlice<UInt8>, prefix: [UInt8], to out: Int32) {
        var text: [UInt8] = []
        for line in lines.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            text += prefix + line + [UInt8(ascii: "\n")]
        }
        condition.lock()
        defer { condition.unlock() }
        var written = 0
        while written < text.count {
            let n = text.withUnsafeBytes { write(out, $0.baseAddress! + written, text.count - written) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            written += n
        }
    }
}
