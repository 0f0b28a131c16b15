import Driver
import ArgumentParser
import Foundation
import Launch

/// `gpucomm launch-check`: the first thing to run on a new allocation. Every rank says who it is, the ranks
/// meet at the rendezvous, rank 0 broadcasts a payload that every rank checks, and rank 0 prints one table.
struct LaunchCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch-check",
        abstract: "Check a multi-process launch without GPU work: ranks, hosts, rendezvous, GPU choice.",
        discussion: """
        Run it the way you will run a benchmark (mpirun, mpiexec, srun, torchrun, a Kubernetes Job, or \
        --np N). Each rank reports its rank, local rank, host, launcher, rendezvous address and the GPU it \
        would use (from its local rank and CUDA_VISIBLE_DEVICES; CUDA is not loaded). The ranks meet at \
        the rendezvous, rank 0 broadcasts a payload that every rank checks, and rank 0 prints one table \
        on stdout. Exit status, the same on every rank: 0 the launch is good; 1 a check failed (the \
        table's problems list says which: two ranks on one GPU, a local size that does not match, a \
        damaged payload); 2 the launch environment is wrong (one line names the variable); 6 a rank \
        never arrived, was refused or died. See docs/clusters.md.
        """)

    @Option(name: .long, parsing: .unconditional, help: "Spawn N local ranks on this host (gpucomm's own launcher).")
    var np: Int?

    @Option(name: [.customShort("g"), .customLong("ngpus")], parsing: .unconditional, help: "GPUs each rank would use (as a benchmark's -g).")
    var gpusPerProcess = 1

    @Option(name: .long, help: "Rank 0's host:port (default: from the launcher's variables or GPUCOMM_RENDEZVOUS).")
    var rendezvous: String?

    @Option(name: .long, help: "Address rank 0 listens on (default: GPUCOMM_BIND or 0.0.0.0).")
    var bind: String?

    @Option(name: [.customShort("T"), .customLong("timeout")], parsing: .unconditional, help: "Seconds a rank may be missing or silent.")
    var timeout = 60

    @Option(name: .long, parsing: .unconditional, help: "Bytes rank 0 broadcasts and every rank checks (0...67108864).")
    var payload = 1 << 20

    func validate() throws {
        if let np, np < 1 { throw ValidationError("--np must be at least 1 (got \(np))") }
        if gpusPerProcess < 1 { throw ValidationError("-g must be at least 1 (got \(gpusPerProcess))") }
        if timeout < 1 || timeout > 86_400 { throw ValidationError("-T must be 1...86400 seconds (got \(timeout))") }
        if payload < 0 || payload > 1 << 26 { throw ValidationError("--payload must be 0...67108864 bytes (got \(payload))") }
        if let r = rendezvous { do { _ = try Endpoint(parsing: r) } catch { throw ValidationError("--rendezvous: \(error)") } }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if let np, env["GPUCOMM_RANK"] == nil {
            let args = LocalLauncher.arguments(Array(CommandLine.arguments.dropFirst()), removing: "--np")
            let code = LocalLauncher.run(ranks: np, executable: LocalLauncher.currentExecutable(), arguments: args,
                                         environment: env, timeout: .seconds(timeout))
            if code != 0 { throw Failure(ExitStatus(rawValue: code) ?? .failure, "launch-check: a rank failed (exit status \(code))") }
            return
        }
        let info: RankInfo?
        do {
            info = try RankDiscovery.detect(environment: env, rendezvousOverride: try rendezvous.map { try Endpoint(parsing: $0) })
        } catch { throw Failure(.usage, "\(error)") }
        // Slurm's name for the node when it differs from the host name (several slurmd on one host, or
        // node names that are not host names): the checks group ranks by what the launcher calls a node.
        var host = info?.host ?? Launch.hostName()
        if let node = env["SLURMD_NODENAME"], !node.isEmpty, node != host, !host.hasPrefix(node + ".") {
            host += "[\(node)]"
        }
        let localRank = info?.localRank ?? 0
        let gpu = LaunchCheck.gpu(localRank: localRank, perProcess: gpusPerProcess, environment: env, host: host,
                                  gpuCount: LaunchCheck.driverGPUCount())
        var mine = RankReport(rank: info?.rank ?? 0, worldSize: info?.worldSize ?? 1, localRank: localRank,
                              localSize: info?.localSize ?? 1, host: host, pid: Int(getpid()),
                              launcher: info?.launcher.rawValue ?? Launcher.single.rawValue,
                              rendezvous: info?.rendezvous?.description ?? "-", gpu: gpu.text, gpuKey: gpu.key,
                              gpuProblem: gpu.problem, payloadIntact: true)
        let start = ContinuousClock.now
        var reports = [mine]
        if let info {
            Launch.dieWithParent()
            let group: RankGroup
            do {
                group = try RankGroup.join(info, bind: bind ?? RankDiscovery.bindAddress(environment: env),
                                           timeout: .seconds(timeout))
            } catch { throw Failure(error.exitStatus == 2 ? .usage : .rankFailed, "\(error)") }
            defer { group.close() }
            do {
                let expected = LaunchCheck.payload(count: payload)
                let got = try group.broadcast(info.rank == 0 ? expected : nil)
                mine.payloadIntact = got == expected
                let all = try group.allGather(mine.encoded())
                reports = try all.enumerated().map { r, bytes in
                    guard let report = RankReport.decode(bytes) else { throw Failure(.rankFailed, "rank \(r) sent a malformed report") }
                    return report
                }
                try group.barrier()
            } catch let error as LaunchError {
                throw Failure(.rankFailed, "\(error)")
            }
        } else {
            FileHandle.standardError.write(Data("gpucomm: launch-check: a single process (no launcher variables, or a world size of 1): run it under mpirun, srun, torchrun or with --np N to check a job\n".utf8))
        }
        let problems = LaunchCheck.problems(reports)
        if mine.rank == 0 {
            var text = LaunchCheck.table(reports)
            let hosts = Set(reports.map(\.host)).count
            let seconds = String(format: "%.2f", (ContinuousClock.now - start) / .seconds(1))
            if reports.count > 1 {
                text += "\(reports.count) ranks on \(hosts) host(s) met at \(mine.rendezvous) in \(seconds) s; "
                    + "\(payload) B from rank 0 arrived \(problems.contains { $0.contains("payload") } ? "DAMAGED at some rank" : "intact at every rank")\n"
            }
            text += problems.isEmpty ? "launch-check: ok\n" : problems.map { "problem: \($0)\n" }.joined()
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if !problems.isEmpty {
            throw Failure(.failure, "launch-check: \(problems.count) problem(s)\(mine.rank == 0 ? "" : "; rank 0 printed them")")
        }
    }
}
