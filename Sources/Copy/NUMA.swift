import Foundation

/// The host's NUMA nodes and a GPU's place among them, from sysfs.
public enum NUMATopology {
    /// Parses a Linux list such as `0-3,8,10-11` (sysfs `online`, `cpulist`); nil when malformed.
    public static func parseList(_ text: String) -> [Int]? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return [] }
        var out: [Int] = []
        for part in t.split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count <= 2, let lo = Int(ends[0]), lo >= 0 else { return nil }
            let hi = ends.count == 2 ? Int(ends[1]) : lo
            guard let hi, hi >= lo, hi - lo < 1 << 16 else { return nil }
            out += Array(lo...hi)
        }
        return out
    }

    /// Online NUMA nodes (`/sys/devices/system/node/online`); [0] when sysfs does not say.
    public static func onlineNodes(root: String = "/sys") -> [Int] {
        guard let s = try? String(contentsOfFile: root + "/devices/system/node/online", encoding: .utf8), let l = parseList(s), !l.isEmpty else { return [0] }
        return l
    }

    /// The NUMA node of the PCI device `pciBusId` (`/sys/bus/pci/devices/<id>/numa_node`); nil when unknown (-1).
    public static func node(ofPCIDevice pciBusId: String, root: String = "/sys") -> Int? {
        guard let s = try? String(contentsOfFile: root + "/bus/pci/devices/\(pciBusId.lowercased())/numa_node", encoding: .utf8),
              let n = Int(s.trimmingCharacters(in: .whitespacesAndNewlines)), n >= 0 else { return nil }
        return n
    }
}

/// Which host memory a host copy uses (`--host-memory`).
public enum HostMemoryChoice: String, Sendable, CaseIterable {
    /// `cuMemHostAlloc` on whatever node the calling thread's allocation lands.
    case pinned
    /// Ordinary pages; the copy engines stage them through the driver's pinned buffers; SM kernels cannot address them.
    case pageable
    /// Pinned memory bound to the GPU's own NUMA node.
    case numaLocal = "numa-local"
    /// Pinned memory bound to another NUMA node (the copies cross the CPU interconnect).
    case numaRemote = "numa-remote"

    /// The results rows' `variant`.
    public var variant: String { rawValue.replacingOccurrences(of: "-", with: "_") }

    /// The node to bind to for a GPU on `gpuNode` among `nodes`, or why this choice does not apply.
    public func node(gpuNode: Int?, nodes: [Int]) -> Result<Int?, CopyWaiver> {
        switch self {
        case .pinned, .pageable: return .success(nil)
        case .numaLocal, .numaRemote:
            guard nodes.count > 1 else { return .failure(CopyWaiver("one NUMA node")) }
            guard let g = gpuNode else { return .failure(CopyWaiver("the GPU's NUMA node is unknown")) }
            if self == .numaLocal { return .success(g) }
            guard let other = nodes.first(where: { $0 != g }) else { return .failure(CopyWaiver("no other NUMA node")) }
            return .success(other)
        }
    }
}

/// Why a cell or memory choice does not run here (listed, never a failure).
public struct CopyWaiver: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
