import ArgumentParser
import Collectives
import Foundation
import GPU
import Launch

/// How ranks are started: one process for all GPUs, `--np N` local processes, or an outside launcher.
struct LaunchOptions: ParsableArguments {
    @Option(name: [.customShort("g"), .customLong("ngpus")], parsing: .unconditional,
            help: "GPUs per process (default: every visible GPU in one process; 1 per rank under a launcher or --np).")
    var gpusPerProcess: Int?

    @Option(name: .long, parsing: .unconditional, help: "Spawn N local ranks (one process each) on this host; no MPI needed.")
    var np: Int?

    @Option(name: .long, help: "Rank 0's host:port for the rendezvous (default: from the launcher's variables or GPUCOMM_RENDEZVOUS).")
    var rendezvous: String?

    @Option(name: .long, help: "Address rank 0 listens on for the rendezvous (default: GPUCOMM_BIND or 0.0.0.0).")
    var bind: String?

    @Option(name: [.customShort("T"), .customLong("timeout")], parsing: .unconditional,
            help: "Seconds a rank may be missing or silent before every rank gives up (rendezvous and liveness).")
    var timeout: Int = 120

    func validate() throws {
        if let np, np < 1 { throw ValidationError("--np must be at least 1 (got \(np))") }
        if let g = gpusPerProcess, g < 1 { throw ValidationError("-g must be at least 1 (got \(g))") }
        if timeout < 1 { throw ValidationError("-T must be at least 1 second (got \(timeout))") }
        if let r = rendezvous { do { _ = try Endpoint(parsing: r) } catch { throw ValidationError("--rendezvous: \(error)") } }
    }
}

/// The processes and GPUs of one benchmark job, with the libraries loaded.
final class Job {
    let inventory: Inventory
    let cuda: CUDA
    let devices: [Device]
    /// Global rank of each local device.
    let globalRanks: [Int]
    let worldSize: Int
    let group: RankGroup?
    let channel: JobChannel
    let launcher: String
    var reports: Bool { channel.processRank == 0 }

    /// Under `--np N` (and not already a rank), re-runs this command as N local ranks and returns their status.
    static func spawnIfAsked(_ o: LaunchOptions) throws -> Int32? {
        let env = ProcessInfo.processInfo.environment
        guard let n = o.np, env["GPUCOMM_RANK"] == nil else { return nil }
        let cuda = try loadCUDA()
        let visible = try cuda.deviceCount()
        let per = o.gpusPerProcess ?? 1
        if n * per > visible {
            throw Failure(.usage, "--np \(n) × -g \(per) asks for \(n * per) GPUs but \(visible) are visible")
        }
        return rerunAsRanks(n, extra: [], timeout: o.timeout)
    }

    /// Re-runs this command (without `--np`) as `n` local ranks under gpucomm's launcher; returns their status.
    static func rerunAsRanks(_ n: Int, extra: [String], timeout: Int) -> Int32 {
        let args = LocalLauncher.arguments(Array(CommandLine.arguments.dropFirst()), removing: "--np") + extra
        return LocalLauncher.run(ranks: n, executable: LocalLauncher.currentExecutable(), arguments: args,
                                 environment: ProcessInfo.processInfo.environment, timeout: .seconds(timeout))
    }

    static func loadCUDA() throws -> CUDA {
        do { return try CUDA() } catch {
            throw Failure(.unavailable, "no usable CUDA driver: \(error)")
        }
    }

    /// Finds this process's place, checks the GPU count, and calls `validate(worldSize)` before any GPU work.
    init(_ o: LaunchOptions, needsNCCL: Bool = true, validate: (_ worldSize: Int, _ devices: [Device]) throws -> Void) throws {
        let env = ProcessInfo.processInfo.environment
        let info: RankInfo?
        do {
            info = try RankDiscovery.detect(environment: env, rendezvousOverride: try o.rendezvous.map { try Endpoint(parsing: $0) })
        } catch {
            throw Failure(.usage, "\(error)")
        }
        if info != nil { Launch.dieWithParent() }
        cuda = try Job.loadCUDA()
        let visible = try cuda.deviceCount()
        if visible == 0 { throw Failure(.unavailable, "no CUDA devices are visible (CUDA_VISIBLE_DEVICES=\(env["CUDA_VISIBLE_DEVICES"] ?? "unset"))") }
        let per = o.gpusPerProcess ?? (info == nil ? visible : 1)
        let first = (info?.localRank ?? 0) * per
        if first + per > visible {
            throw Failure(.usage, "asked for \(per) GPU(s) per process at local rank \(info?.localRank ?? 0) but only \(visible) are visible")
        }
        let cu = cuda
        devices = try (first..<first + per).map { try Device(cuda: cu, ordinal: $0) }
        worldSize = (info?.worldSize ?? 1) * per
        let processRank = info?.rank ?? 0
        globalRanks = (0..<per).map { processRank * per + $0 }
        try validate(worldSize, devices)
        inventory = Inventory.gather()
        if needsNCCL, inventory.library(.nccl)?.path == nil {
            throw Failure(.unavailable, "NCCL: \(inventory.library(.nccl)?.problem ?? "not found")")
        }
        if inventory.library(.nvrtc)?.path == nil {
            throw Failure(.unavailable, "NVRTC (needed to compile the check kernels): \(inventory.library(.nvrtc)?.problem ?? "not found")")
        }
        if let info {
            launcher = info.launcher.rawValue
            do {
                let g = try RankGroup.join(info, bind: o.bind ?? RankDiscovery.bindAddress(environment: env), timeout: .seconds(o.timeout))
                group = g
                channel = GroupChannel(g)
            } catch {
                throw Failure(.rankFailed, "\(error)")
            }
        } else {
            launcher = "single-process"
            group = nil
            channel = SingleProcess()
        }
    }

    /// One NCCL communicator per local GPU, over the whole job.
    func communicators(_ nccl: NCCL) throws -> [Communicator] {
        if group == nil { return try nccl.communicators(devices: devices) }
        let id = try channel.processRank == 0 ? nccl.uniqueId() : []
        let shared = try group!.broadcast(channel.processRank == 0 ? id : nil)
        return try nccl.communicators(devices: devices, ranks: globalRanks, worldSize: worldSize, uniqueId: shared)
    }

    func close() { group?.close() }
}

/// The rendezvous' control channel as the benchmarks' job channel.
final class GroupChannel: JobChannel {
    let group: RankGroup
    init(_ g: RankGroup) { group = g }
    var processRank: Int { group.rank }
    var processCount: Int { group.size }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { try group.allGather(bytes) }
    func barrier() throws { try group.barrier() }
}
