import Driver
import ArgumentParser
import Foundation
import Launch

/// Hidden test command: joins the rendezvous, runs broadcast/allGather/barrier, prints what it got.
/// LaunchTests spawn it as real processes; `--behaviour` makes one rank misbehave on purpose.
struct RendezvousProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_rendezvous-probe",
        abstract: "Test the rank rendezvous (used by the test suite).",
        shouldDisplay: false)

    enum Behaviour: String, ExpressibleByArgument, CaseIterable {
        /// Join, run the collectives, close.
        case ok
        /// Never connect (exit 0 at once).
        case never
        /// Present a token that differs from the others'.
        case wrongToken = "wrong-token"
        /// SIGKILL itself right after the join.
        case dieAfterJoin = "die-after-join"
        /// SIGSTOP itself right after the join: a frozen host, no heartbeats.
        case hang
    }

    @Option(help: "What the misbehaving rank does (hang: SIGSTOP itself after the join).")
    var behaviour: Behaviour = .ok

    @Option(help: "Which rank misbehaves (default: the last).")
    var misbehavingRank: Int?

    @Option(help: "Spawn this many local ranks with gpucomm's launcher, each running this command.")
    var np: Int?

    @Option(help: "Rendezvous and liveness timeout, seconds.")
    var timeout: Double = 3

    @Option(help: "Rank 0's address, host:port (default: from the environment).")
    var rendezvous: String?

    @Option(help: "Address rank 0 listens on (default: GPUCOMM_BIND or 0.0.0.0).")
    var bind: String?

    @Option(help: "Time this many barrier + allGather rounds after the checks (0: none).")
    var rounds = 0

    /// A 128-byte payload like an ncclUniqueId.
    static func payload(seed: Int) -> [UInt8] { (0..<128).map { UInt8(truncatingIfNeeded: $0 * 7 + seed) } }

    func validate() throws {
        if let np, np < 1 { throw ValidationError("--np must be at least 1") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        if let np { return try launch(np) }
        Launch.dieWithParent()
        let env = ProcessInfo.processInfo.environment
        let info: RankInfo
        do {
            let override = try rendezvous.map { (text) throws(LaunchError) in try Endpoint(parsing: text) }
            guard let found = try RankDiscovery.detect(environment: env, rendezvousOverride: override) else {
                Self.say("single process: no rendezvous")
                return
            }
            info = found
        } catch { throw Self.failure(error) }
        let me = info.rank == (misbehavingRank ?? info.worldSize - 1) ? behaviour : .ok
        var joining = info
        switch me {
        case .never:
            FileHandle.standardError.write(Data("rank \(info.rank): not joining (--behaviour never)\n".utf8))
            return
        case .wrongToken:
            joining.token = (info.token ?? "") + "-wrong"
        default: break
        }
        let group: RankGroup
        do {
            group = try RankGroup.join(joining, bind: bind ?? RankDiscovery.bindAddress(environment: env),
                                       timeout: .milliseconds(Int(timeout * 1000)))
        } catch { throw Self.failure(error) }
        let (r, n) = (group.rank, group.size)
        Self.say("rank \(r) of \(n) joined (\(info.launcher.rawValue), local rank \(info.localRank))")
        switch me {
        case .dieAfterJoin: kill(getpid(), SIGKILL)
        case .hang: kill(getpid(), SIGSTOP)
        default: break
        }
        do {
            let first = try group.broadcast(r == 0 ? Self.payload(seed: 0) : nil)
            let last = try group.broadcast(r == n - 1 ? Self.payload(seed: n - 1) : nil, root: n - 1)
            let gathered = try group.allGather(Array("rank-\(r)".utf8))
            try group.barrier()
            Self.say("rank \(r) broadcast root 0: \(first.count) bytes, \(first == Self.payload(seed: 0) ? "as sent" : "WRONG")")
            Self.say("rank \(r) broadcast root \(n - 1): \(last.count) bytes, \(last == Self.payload(seed: n - 1) ? "as sent" : "WRONG")")
            Self.say("rank \(r) allgather: \(gathered.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ","))")
            Self.say("rank \(r) barrier passed; hosts \(Set(group.hosts).sorted().joined(separator: ","))")
            if rounds > 0 {
                let t0 = ContinuousClock.now
                for i in 0..<rounds {
                    try group.barrier()
                    _ = try group.allGather(Array(repeating: UInt8(truncatingIfNeeded: i), count: 8))
                }
                let us = Double((ContinuousClock.now - t0).components.attoseconds) / 1e12 + Double((ContinuousClock.now - t0).components.seconds) * 1e6
                if r == 0 { Self.say("\(rounds) rounds of barrier + allGather: \(String(format: "%.1f", us / Double(rounds))) µs per round") }
            }
        } catch {
            group.close()
            throw Self.failure(error)
        }
        group.close()
    }

    /// Re-runs this command as `np` local ranks (the same arguments without --np).
    private func launch(_ np: Int) throws {
        let args = LocalLauncher.arguments(Array(CommandLine.arguments.dropFirst()), removing: "--np")
        let code = LocalLauncher.run(ranks: np, executable: LocalLauncher.currentExecutable(), arguments: args,
                                     environment: ProcessInfo.processInfo.environment,
                                     timeout: .milliseconds(Int(timeout * 1000)))
        if code != 0 {
            throw Failure(ExitStatus(rawValue: code) ?? .failure, "a rank failed (exit status \(code))")
        }
    }

    /// Unbuffered, so a rank that is killed has already shown what it printed.
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private static func failure(_ error: LaunchError) -> Failure {
        if case .badEnvironment = error { return Failure(.usage, error.description) }
        return Failure(.rankFailed, error.description)
    }
}
