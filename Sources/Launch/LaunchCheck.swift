// `gpucomm launch-check`: what each rank found about itself, exchanged at the rendezvous and judged on rank 0.
// No GPU work: the GPU a rank would use comes from its local rank and CUDA_VISIBLE_DEVICES.
import Foundation

/// One rank's view of its place in the job, as `launch-check` exchanges and prints it.
public struct RankReport: Sendable, Equatable {
    public var rank: Int
    public var worldSize: Int
    public var localRank: Int
    /// Processes on this host according to the launcher (nil when it does not say).
    public var localSize: Int?
    public var host: String
    public var pid: Int
    public var launcher: String
    public var rendezvous: String
    /// The GPU this rank would use, in words (`cuda:1 = CUDA_VISIBLE_DEVICES[1] = GPU-3f…`).
    public var gpu: String
    /// A key that is equal for two ranks that would use the same physical GPU on one host.
    public var gpuKey: String?
    /// What is wrong with this rank's GPU choice, if anything.
    public var gpuProblem: String?
    /// Whether the payload broadcast from rank 0 arrived intact here.
    public var payloadIntact: Bool

    public init(rank: Int, worldSize: Int, localRank: Int, localSize: Int?, host: String, pid: Int, launcher: String,
                rendezvous: String, gpu: String, gpuKey: String?, gpuProblem: String?, payloadIntact: Bool) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localSize = localSize
        self.host = host
        self.pid = pid
        self.launcher = launcher
        self.rendezvous = rendezvous
        self.gpu = gpu
        self.gpuKey = gpuKey
        self.gpuProblem = gpuProblem
        self.payloadIntact = payloadIntact
    }

    /// Bytes for the allGather: the wire format's strings and integers.
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.u32(rank); w.u32(worldSize); w.u32(localRank); w.u32(localSize.map { $0 + 1 } ?? 0)
        w.string(host); w.u32(pid); w.string(launcher); w.string(rendezvous); w.string(gpu)
        w.string(gpuKey ?? ""); w.string(gpuProblem ?? ""); w.u32(payloadIntact ? 1 : 0)
        return w.out
    }

    /// The inverse of `encoded()`; nil when malformed.
    public static func decode(_ bytes: [UInt8]) -> RankReport? {
        var r = WireReader(bytes: bytes[...])
        guard let rank = r.u32(), let size = r.u32(), let local = r.u32(), let ls = r.u32(), let host = r.string(),
              let pid = r.u32(), let launcher = r.string(), let rendezvous = r.string(), let gpu = r.string(),
              let key = r.string(), let problem = r.string(), let intact = r.u32(), r.remaining == 0 else { return nil }
        return RankReport(rank: rank, worldSize: size, localRank: local, localSize: ls == 0 ? nil : ls - 1, host: host,
                          pid: pid, launcher: launcher, rendezvous: rendezvous, gpu: gpu,
                          gpuKey: key.isEmpty ? nil : key, gpuProblem: problem.isEmpty ? nil : problem,
                          payloadIntact: intact == 1)
    }
}

/// The pure parts of `launch-check`: the GPU choice, the payload, the verdict and the table.
public enum LaunchCheck {
    /// The GPU a rank would use, as a benchmark picks it: ordinal `localRank × perProcess` among the
    /// visible devices. `CUDA_VISIBLE_DEVICES` (when set) says which devices are visible; otherwise
    /// `gpuCount` (from `/proc/driver/nvidia/gpus`, nil without an NVIDIA driver) bounds the ordinal.
    public static func gpu(localRank: Int, perProcess: Int, environment env: [String: String], host: String,
                           gpuCount: Int?) -> (text: String, key: String?, problem: String?) {
        let ordinal = localRank * perProcess
        let last = ordinal + perProcess - 1
        let name = perProcess == 1 ? "cuda:\(ordinal)" : "cuda:\(ordinal)-\(last)"
        if let visible = env["CUDA_VISIBLE_DEVICES"] {
            let ids = visible.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if ids.isEmpty || ids.first == "-1" || visible == "NoDevFiles" {
                return (name, nil, "CUDA_VISIBLE_DEVICES='\(visible)' hides every GPU")
            }
            guard last < ids.count else {
                return (name, nil, "local rank \(localRank) needs GPU ordinal \(last) but CUDA_VISIBLE_DEVICES='\(visible)' "
                            + "lists \(ids.count)")
            }
            let chosen = ids[ordinal...last].joined(separator: ",")
            return ("\(name) = CUDA_VISIBLE_DEVICES[\(ordinal)\(perProcess == 1 ? "" : "…\(last)")] = \(chosen)",
                    "\(host)/\(chosen)", nil)
        }
        guard let count = gpuCount else {
            return ("\(name) (no NVIDIA driver on this host: not checked)", "\(host)/\(ordinal)", nil)
        }
        guard last < count else {
            return (name, nil, "local rank \(localRank) needs GPU ordinal \(last) but this host has \(count) GPU(s)")
        }
        return ("\(name) of \(count)", "\(host)/\(ordinal)", nil)
    }

    /// GPUs the NVIDIA driver lists (`/proc/driver/nvidia/gpus/*`), without loading CUDA; nil without a driver.
    public static func driverGPUCount(root: String = "/proc/driver/nvidia/gpus") -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: root))?.count
    }

    /// The payload rank 0 broadcasts: a pattern every rank can check, `count` bytes.
    public static func payload(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 8 &+ 7) }
    }

    /// Everything wrong with the job as the reports show it (empty: the launch is good).
    public static func problems(_ reports: [RankReport]) -> [String] {
        var out: [String] = []
        let size = reports.count
        for (i, r) in reports.enumerated() where r.rank != i || r.worldSize != size {
            out.append("rank \(i) reported itself as rank \(r.rank) of \(r.worldSize)")
        }
        for r in reports {
            if !r.payloadIntact { out.append("rank \(r.rank) on \(r.host): the payload from rank 0 arrived damaged") }
            if let p = r.gpuProblem { out.append("rank \(r.rank) on \(r.host): \(p)") }
        }
        let hosts = Dictionary(grouping: reports, by: \.host)
        for host in hosts.keys.sorted() {
            let here = hosts[host]!.sorted { $0.rank < $1.rank }
            for r in here where r.localSize.map({ $0 != here.count }) ?? false {
                out.append("rank \(r.rank) on \(host): the launcher says \(r.localSize!) local rank(s) but \(here.count) "
                           + "rank(s) run on this host")
            }
            for (local, same) in Dictionary(grouping: here, by: \.localRank) where same.count > 1 {
                out.append("ranks \(same.map { String($0.rank) }.joined(separator: ", ")) on \(host) all have local rank \(local)")
            }
            for (key, same) in Dictionary(grouping: here.filter { $0.gpuKey != nil }, by: { $0.gpuKey! }) where same.count > 1 {
                let gpu = key.split(separator: "/", maxSplits: 1).last.map(String.init) ?? key
                out.append("ranks \(same.map { String($0.rank) }.joined(separator: ", ")) on \(host) would all use GPU \(gpu)")
            }
        }
        return out.sorted()
    }

    /// The table rank 0 prints: one row per rank, aligned columns, no colour.
    public static func table(_ reports: [RankReport]) -> String {
        var rows = [["rank", "local", "host", "pid", "launcher", "rendezvous", "gpu"]]
        for r in reports {
            rows.append([String(r.rank), "\(r.localRank)/\(r.localSize.map(String.init) ?? "?")", r.host, String(r.pid),
                         r.launcher, r.rendezvous, r.gpu + (r.gpuProblem == nil ? "" : "  <- problem")])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
