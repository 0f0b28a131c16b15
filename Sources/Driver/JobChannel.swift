import Measure

/// What several processes of one job share: gathering small blobs and a barrier.
/// One process driving all GPUs uses `SingleProcess`; multi-process jobs use the rendezvous channel.
public protocol JobChannel: AnyObject {
    var processRank: Int { get }
    var processCount: Int { get }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
    func barrier() throws
}

/// The job is this process alone.
public final class SingleProcess: JobChannel {
    public init() {}
    public var processRank: Int { 0 }
    public var processCount: Int { 1 }
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    public func barrier() throws {}
}

extension JobChannel {
    /// Every process's doubles, in process order.
    public func allGatherDoubles(_ xs: [Double]) throws -> [[Double]] {
        try allGather(xs.flatMap { d in withUnsafeBytes(of: d.bitPattern) { Array($0) } }).map { b in
            stride(from: 0, to: b.count, by: 8).map { i in Double(bitPattern: b[i..<i + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) }
        }
    }

    /// `x` summed over every process (a count such as wrong elements; exact below 2^53).
    public func sum(_ x: Int64) throws -> Int64 {
        try allGatherDoubles([Double(x)]).reduce(0) { $0 + Int64($1[0]) }
    }
}

/// How a timing loop is timed (docs/method.md).
public enum TimingMode: String, Sendable, CaseIterable {
    /// Host clock around the whole loop, streams synchronised at both ends (nccl-tests' method).
    case host
    /// CUDA events around every iteration on every GPU; per-iteration time is the slowest GPU's.
    case events
}
