import Driver
import Measure

/// Element counts and in-place offsets of one collective at one size on one rank, as nccl-tests
/// computes them (its `Get<Coll>CollByteCount` functions).
public struct Layout: Sendable, Equatable {
    /// Elements in this rank's send buffer.
    public var sendCount: Int
    /// Elements in this rank's receive buffer.
    public var recvCount: Int
    /// The count argument NCCL gets (nccl-tests' "count" column).
    public var paramCount: Int
    /// In-place: where the send data sits inside the receive buffer (elements).
    public var sendInPlaceOffset: Int
    /// In-place: where the receive pointer sits inside the shared buffer (elements).
    public var recvInPlaceOffset: Int
    /// Bytes nccl-tests prints in its "size" column and uses for algbw.
    public var sizeBytes: Int

    /// Elements of the one buffer an in-place run uses.
    public var inPlaceElements: Int { Swift.max(sendInPlaceOffset + sendCount, recvInPlaceOffset + recvCount) }
}

/// How a collective splits a buffer among ranks.
public enum Split: Sendable, Equatable {
    /// Every rank handles the whole count (all_reduce, broadcast, reduce, sendrecv).
    case whole
    /// The size is the total over ranks; each rank's part is count / n (all_gather, alltoall, ...).
    case perRank
}

/// One NCCL collective benchmark: stable key, byte accounting, expected data, and how it is issued.
public struct CollectiveDescriptor: Sendable {
    public var key: String
    public var summary: String
    public var busFactor: BusFactor
    public var split: Split
    public var usesOp: Bool
    public var usesRoot: Bool
    /// Needs a power-of-two rank count (hypercube).
    public var needsPowerOfTwo: Bool = false
    /// In-place variant exists.
    public var hasInPlace: Bool = true
    /// Why in-place results may be wrong although the call succeeds: the library does not support
    /// it. gpucomm still runs and checks it, reports the wrong count, and does not fail on it.
    public var inPlaceUnsupported: String? = nil
    /// algbw = size × this factor / time (1 for all but hypercube, whose nccl-tests algbw counts
    /// the (n−1)/n of the data each rank receives).
    public var algbwFactor: BusFactor = .one
    /// Labels every result row of this collective carries (e.g. alltoallv's traffic definition).
    public var labels: [String: String] = [:]
    let layoutFn: @Sendable (_ count: Int, _ n: Int, _ rank: Int) -> Layout
    let expectedFn: @Sendable (_ layout: Layout, _ n: Int, _ rank: Int, _ root: Int) -> [Segment]
    /// Communication steps; each step is issued for all local ranks inside one NCCL group.
    let steps: @Sendable (_ n: Int) -> [IssueStep]

    /// Multiple of bytes every size must be (element size × ranks for split collectives).
    public func granularity(typeSize: Int, ranks: Int) -> Int {
        split == .perRank ? typeSize * ranks : typeSize
    }

    public func layout(sizeBytes: Int, typeSize: Int, ranks: Int, rank: Int) -> Layout {
        var l = layoutFn(sizeBytes / typeSize, ranks, rank)
        l.sizeBytes = sizeBytes
        return l
    }

    /// Segments of this rank's receive buffer to check (empty: nothing defined, e.g. non-root of reduce).
    public func expected(_ layout: Layout, ranks: Int, rank: Int, root: Int) -> [Segment] {
        expectedFn(layout, ranks, rank, root)
    }
}

extension CollectiveDescriptor: BenchmarkDescriptor {
    public var family: BenchmarkFamily { .collective }
    public var timings: [TimingStrategy] { [.hostLoop, .events, .graphReplay] }

    /// nccl-tests' accounting: algbw = size × algbwFactor / time, busbw = algbw × busFactor.
    public func accounting(bytes: Int, ranks: Int) -> Accounting {
        .bandwidth(bytes: bytes, algbwFactor: algbwFactor.factor(ranks: ranks), busFactor: busFactor.factor(ranks: ranks))
    }

    public func applicability(_ shape: JobShape) -> Applicability {
        if shape.sharesGPUs && shape.ranks > 1 { return .waived("NCCL refuses two ranks on one GPU") }
        if !shape.hasNCCL { return .waived("needs NCCL") }
        if needsPowerOfTwo && shape.ranks & (shape.ranks - 1) != 0 { return .waived("needs a power-of-two number of ranks") }
        return .applies
    }
}

/// What one step of a collective gets to issue its NCCL call(s) on one rank.
public struct IssueContext {
    public var send: UnsafeMutableRawPointer
    public var recv: UnsafeMutableRawPointer
    public var layout: Layout
    public var typeSize: Int
    public var rank: Int
    public var ranks: Int
    public var root: Int
    public var op: Int32
    public var dtype: Int32
    public var issuer: any NCCLIssuer
}

/// The NCCL calls a step may make on one communicator and stream (implemented over GPU.Communicator).
public protocol NCCLIssuer {
    func allReduce(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws
    func reduce(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32, root: Int) throws
    func broadcast(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws
    func allGather(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws
    func reduceScatter(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws
    func alltoAll(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws
    func gather(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws
    func scatter(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws
    func send(_ s: UnsafeRawPointer, count: Int, dtype: Int32, peer: Int) throws
    func recv(_ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, peer: Int) throws
    func copy(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, bytes: Int) throws
}

public typealias IssueStep = @Sendable (IssueContext) throws -> Void
