import Foundation
import GPU
import Launch

/// How ranks are started: one process for all GPUs, `--np N` local processes, or an outside
/// launcher (the launch options, once validated).
public struct LaunchSpec: Sendable {
    /// GPUs per process (nil: every visible GPU in one process; 1 per rank under a launcher or --np).
    public var gpusPerProcess: Int?
    /// Local ranks to spawn (one process each), or nil.
    public var np: Int?
    /// Rank 0's endpoint for the rendezvous, when given on the command line.
    public var rendezvous: Endpoint?
    /// Address rank 0 listens on for the rendezvous.
    public var bind: String?
    /// Seconds a rank may be missing or silent before every rank gives up.
    public var timeout: Int

    public init(gpusPerProcess: Int? = nil, np: Int? = nil, rendezvous: Endpoint? = nil, bind: String? = nil, timeout: Int = 120) {
        self.gpusPerProcess = gpusPerProcess; self.np = np; self.rendezvous = rendezvous; self.bind = bind; self.timeout = timeout
    }
}

/// The processes and GPUs of one benchmark job, with the libraries loaded.
public final class Job {
    public let inventory: Inventory
    public let cuda: CUDA
    public let devices: [Device]
    /// Global rank of each local device.
    public let globalRanks: [Int]
    public let worldSize: Int
    public let group: RankGroup?
    public let channel: JobChannel
    public let launcher: String
    public var reports: Bool { channel.processRank == 0 }

    /// Under `--np N` (and not already a rank), re-runs this command as N local ranks and returns their status.
    public static func spawnIfAsked(_ o: LaunchSpec) throws -> Int32? {
        let env = ProcessInfo.processInfo.environment
        guard let n = o.np, env["GPUCOMM_RANK"] == nil else { return nil }
        let cuda = try loadCUDA()
        let visible = try cuda.deviceCount()
        let per = o.gpusPerProcess ?? 1
        if n * per > visible && !sharesGPUs(env) {
            throw Failure(.usage, "--np \(n) × -g \(per) asks for \(n * per) GPUs but \(visible) are visible")
        }
        return rerunAsRanks(n, extra: [], timeout: o.timeout)
    }

    /// Re-runs this command (without `--np`) as `n` local ranks under gpucomm's launcher; returns their status.
    public static func rerunAsRanks(_ n: Int, extra: [String], timeout: Int) -> Int32 {
        let args = LocalLauncher.arguments(Array(CommandLine.arguments.dropFirst()), removing: "--np") + extra
        return LocalLauncher.run(ranks: n, executable: LocalLauncher.currentExecutable(), arguments: args,
                                 environment: rankEnvironment(ranks: n), timeout: .seconds(timeout))
    }

    /// GPUCOMM_SHARE_GPUS=1: more local ranks than GPUs, rank i on GPU i mod visible (under CUDA
    /// MPS, so that their kernels run at once). For checking multi-rank code on one GPU only.
    public static func sharesGPUs(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        env["GPUCOMM_SHARE_GPUS"] == "1"
    }

    /// The environment of `n` local ranks: this process's, plus, when they share GPUs, an MPS
    /// thread share per rank (CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, unless set) small enough for
    /// every rank on a GPU to be resident at once (NVSHMEM's multiple-PEs-per-GPU support needs
    /// the shares of one GPU to add up to at most 100).
    public static func rankEnvironment(ranks n: Int, _ env: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var e = env
        guard sharesGPUs(env), e["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] == nil,
              let visible = try? loadCUDA().deviceCount(), visible > 0, n > visible else { return e }
        let perGPU = (n + visible - 1) / visible
        e["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = String(100 / perGPU)
        return e
    }

    public static func loadCUDA() throws -> CUDA {
        do { return try CUDA() } catch {
            throw Failure(.unavailable, "no usable CUDA driver: \(error)")
        }
    }

    /// Finds this process's place, checks the GPU count, and calls `validate(worldSize)` before any GPU work.
    public init(_ o: LaunchSpec, needsNCCL: Bool = true, validate: (_ worldSize: Int, _ devices: [Device]) throws -> Void) throws {
        let env = ProcessInfo.processInfo.environment
        let info: RankInfo?
        do {
            info = try RankDiscovery.detect(environment: env, rendezvousOverride: o.rendezvous)
        } catch {
            throw Failure(.usage, "\(error)")
        }
        if info != nil { Launch.dieWithParent() }
        cuda = try Job.loadCUDA()
        let visible = try cuda.deviceCount()
        if visible == 0 { throw Failure(.unavailable, "no CUDA devices are visible (CUDA_VISIBLE_DEVICES=\(env["CUDA_VISIBLE_DEVICES"] ?? "unset"))") }
        let per = o.gpusPerProcess ?? (info == nil ? visible : 1)
        let shared = Job.sharesGPUs(env) && info != nil
        var first = (info?.localRank ?? 0) * per
        if shared && per <= visible { first %= visible - per + 1 }  // ranks wrap around the visible GPUs
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
        if shared {
            if needsNCCL && worldSize > visible {
                throw Failure(.unavailable, "NCCL refuses two ranks on one GPU: GPUCOMM_SHARE_GPUS=1 serves only NVSHMEM and the copy-engine benchmarks")
            }
            if info?.localRank == 0 {
                FileHandle.standardError.write(Data("[gpucomm] GPUCOMM_SHARE_GPUS=1: \(worldSize) ranks on \(visible) GPU(s), for correctness checks only; these timings are not results\n".utf8))
            }
        }
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
    public func communicators(_ nccl: NCCL) throws -> [Communicator] {
        if group == nil { return try nccl.communicators(devices: devices) }
        let id = try channel.processRank == 0 ? nccl.uniqueId() : []
        let shared = try group!.broadcast(channel.processRank == 0 ? id : nil)
        return try nccl.communicators(devices: devices, ranks: globalRanks, worldSize: worldSize, uniqueId: shared)
    }

    public func close() { group?.close() }
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
