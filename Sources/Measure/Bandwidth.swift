/// Algorithm and bus bandwidth as nccl-tests defines them (nccl-tests doc/PERFORMANCE.md):
/// algbw = bytes / time; busbw = algbw × a per-collective factor that makes figures comparable
/// to the hardware's link bandwidth.
public enum Bandwidth {
    /// GB/s (10^9 bytes per second) for `bytes` moved in `microseconds`.
    public static func gbps(bytes: Int, microseconds: Double) -> Double {
        microseconds > 0 ? Double(bytes) / 1e3 / microseconds : 0
    }
}

/// The bus-bandwidth factor of a collective over n ranks (nccl-tests PERFORMANCE.md).
public enum BusFactor: Sendable, Equatable {
    /// 2(n−1)/n: all_reduce.
    case allReduce
    /// (n−1)/n: all_gather, reduce_scatter, alltoall, gather, scatter, hypercube.
    case nMinus1OverN
    /// 1: broadcast, reduce, sendrecv.
    case one

    public func factor(ranks n: Int) -> Double {
        let d = Double(n)
        switch self {
        case .allReduce: return n > 0 ? 2 * (d - 1) / d : 0
        case .nMinus1OverN: return n > 0 ? (d - 1) / d : 0
        case .one: return 1
        }
    }
}
