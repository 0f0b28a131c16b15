import Foundation
import GPU
import Launch
import Results

/// Turns what was found on the machine into the `run` line every results file starts with.
public enum Provenance {
    /// Variables recorded with every run: NCCL's and NVSHMEM's settings and the launcher's.
    public static func recordedEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        let prefixes = ["NCCL_", "NVSHMEM_", "GPUCOMM_", "CUDA_VISIBLE_DEVICES", "TORCH_SYMM_MEM_", "OMPI_COMM_WORLD_SIZE",
                        "SLURM_JOB_ID", "SLURM_NTASKS", "WORLD_SIZE"]
        return env.filter { k, _ in prefixes.contains { k.hasPrefix($0) } && k != "GPUCOMM_TOKEN" }
    }

    public static func runInfo(inventory inv: Inventory, launcher: String, host: String = hostName(), nodes: Int? = nil) -> RunInfo {
        var r = RunInfo(run: newRunId(), tool: "gpucomm")
        r.toolVersion = GPUCommVersion.version
        r.gitRevision = gitRevision()
        r.command = CommandLine.arguments
        r.host = host
        r.time = isoNow()
        r.driver = inv.driverVersion
        r.cuda = inv.cudaDriverAPI
        r.nccl = inv.library(.nccl)?.version
        r.nvshmem = inv.library(.nvshmem)?.version
        r.environment = recordedEnvironment()
        r.launcher = launcher
        r.sharedGPUs = sharedGPUs(ProcessInfo.processInfo.environment, visibleGPUs: inv.gpus.count)
        r.gpus = inv.gpus.map { g in
            var x = GPUInfo(index: g.ordinal, name: g.name)
            x.pciBusId = g.pciBusId
            x.uuid = g.uuid
            x.memoryBytes = g.memoryBytes
            x.computeCapability = g.computeCapability
            x.nvlinks = g.nvlinks
            x.host = host
            return x
        }
        var t = Topology()
        if let g = inv.gpus.first, let links = g.nvlinks, links > 0, let rate = Inventory.nvlinkGBpsPerLink(computeCapability: g.computeCapability) {
            t.nvlinksPerGPU = links
            t.nvlinkGBpsPerLink = rate
            t.nvlinkPeakGBps = rate * Double(links)
        }
        t.matrix = inv.linkMatrix
        t.nodes = nodes
        t.gpusPerNode = inv.gpus.count
        r.topology = t
        return r
    }

    /// `true` when ranks share GPUs: GPUCOMM_SHARE_GPUS=1 (`Job.sharesGPUs`) and the launcher puts
    /// more ranks on this host than it has visible GPUs; nil otherwise (the run line leaves the
    /// field out). One process per GPU is assumed (the only layout sharing is used with).
    public static func sharedGPUs(_ env: [String: String], visibleGPUs: Int) -> Bool? {
        guard Job.sharesGPUs(env) else { return nil }
        // Only the rank counts matter here; the endpoint stands in for the rendezvous Job.init found
        // (a --rendezvous given on the command line is not in the environment).
        guard let info = try? RankDiscovery.detect(environment: env, rendezvousOverride: Endpoint(host: "127.0.0.1", port: 1), parent: "")
        else { return nil }
        return (info.localSize ?? info.worldSize) > visibleGPUs ? true : nil
    }

    public static func newRunId() -> String {
        var g = SystemRandomNumberGenerator()
        let suffix = String(UInt32.random(in: 0...UInt32.max, using: &g), radix: 16)
        return "\(isoNow().replacingOccurrences(of: ":", with: ""))-\(suffix)"
    }

    public static func isoNow() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    public static func hostName() -> String { ProcessInfo.processInfo.hostName }

    /// GPUCOMM_GIT_REVISION, else the revision of a git checkout holding the binary, else nil.
    public static func gitRevision() -> String? {
        if let r = ProcessInfo.processInfo.environment["GPUCOMM_GIT_REVISION"], !r.isEmpty { return r }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let head = dir.appendingPathComponent(".git/HEAD")
            if let h = try? String(contentsOf: head, encoding: .utf8) {
                let t = h.trimmingCharacters(in: .whitespacesAndNewlines)
                if t.hasPrefix("ref: ") {
                    let ref = dir.appendingPathComponent(".git/" + t.dropFirst(5))
                    return (try? String(contentsOf: ref, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                return t
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }
}
