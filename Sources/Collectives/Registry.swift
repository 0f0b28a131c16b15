import Driver
import Foundation
import Measure

/// Every NCCL collective gpucomm benchmarks, in nccl-tests' order. Byte accounting and in-place
/// offsets follow nccl-tests (src/<coll>.cu); expected data is what NCCL's documentation defines.
public enum Collectives {
    public static let all: [CollectiveDescriptor] = [
        allReduce, allGather, reduceScatter, broadcast, reduce, alltoall, gather, scatter, sendrecv, hypercube,
    ]

    public static func named(_ key: String) -> CollectiveDescriptor? {
        let k = key.lowercased().replacingOccurrences(of: "_perf", with: "")
        return (all + [alltoallvPlaceholder]).first { $0.key == k }
    }

    static func whole(_ c: Int) -> Layout {
        Layout(sendCount: c, recvCount: c, paramCount: c, sendInPlaceOffset: 0, recvInPlaceOffset: 0, sizeBytes: 0)
    }

    /// Each rank sends a block of c/n, receives all n blocks; in place, its block sits at rank·b
    /// (all_gather, gather, hypercube).
    static func gathered(_ c: Int, _ n: Int, _ r: Int) -> Layout {
        let b = c / n
        return Layout(sendCount: b, recvCount: b * n, paramCount: b, sendInPlaceOffset: r * b, recvInPlaceOffset: 0, sizeBytes: 0)
    }

    /// Each rank sends n blocks of c/n, receives one; in place, it lands at rank·b (reduce_scatter, scatter).
    static func scattered(_ c: Int, _ n: Int, _ r: Int) -> Layout {
        let b = c / n
        return Layout(sendCount: b * n, recvCount: b, paramCount: b, sendInPlaceOffset: 0, recvInPlaceOffset: r * b, sizeBytes: 0)
    }

    /// Block p of the receive buffer is rank p's send block (all_gather, gather's root, hypercube).
    static func everyRanksBlock(_ l: Layout, _ n: Int) -> [Segment] {
        (0..<n).map { Segment(dstOffset: $0 * l.paramCount, length: l.paramCount, srcRank: $0, srcOffset: 0) }
    }

    static let allReduce = CollectiveDescriptor(
        key: "all_reduce", summary: "every rank gets the reduction of all ranks' buffers",
        busFactor: .allReduce, split: .whole, usesOp: true, usesRoot: false,
        layoutFn: { c, _, _ in whole(c) },
        expectedFn: { l, _, _, _ in [Segment(dstOffset: 0, length: l.recvCount, srcRank: nil, srcOffset: 0)] },
        steps: { _ in [{ x in try x.issuer.allReduce(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype, op: x.op) }] })

    static let allGather = CollectiveDescriptor(
        key: "all_gather", summary: "every rank gets every rank's block, in rank order",
        busFactor: .nMinus1OverN, split: .perRank, usesOp: false, usesRoot: false,
        layoutFn: gathered,
        expectedFn: { l, n, _, _ in everyRanksBlock(l, n) },
        steps: { _ in [{ x in try x.issuer.allGather(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype) }] })

    static let reduceScatter = CollectiveDescriptor(
        key: "reduce_scatter", summary: "rank r gets block r of the reduction of all ranks' buffers",
        busFactor: .nMinus1OverN, split: .perRank, usesOp: true, usesRoot: false,
        layoutFn: scattered,
        expectedFn: { l, _, r, _ in [Segment(dstOffset: 0, length: l.paramCount, srcRank: nil, srcOffset: r * l.paramCount)] },
        steps: { _ in [{ x in try x.issuer.reduceScatter(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype, op: x.op) }] })

    static let broadcast = CollectiveDescriptor(
        key: "broadcast", summary: "every rank gets the root's buffer",
        busFactor: .one, split: .whole, usesOp: false, usesRoot: true,
        layoutFn: { c, _, _ in whole(c) },
        expectedFn: { l, _, _, root in [Segment(dstOffset: 0, length: l.recvCount, srcRank: root, srcOffset: 0)] },
        steps: { _ in [{ x in try x.issuer.broadcast(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype, root: x.root) }] })

    static let reduce = CollectiveDescriptor(
        key: "reduce", summary: "the root gets the reduction of all ranks' buffers",
        busFactor: .one, split: .whole, usesOp: true, usesRoot: true,
        layoutFn: { c, _, _ in whole(c) },
        expectedFn: { l, _, r, root in r == root ? [Segment(dstOffset: 0, length: l.recvCount, srcRank: nil, srcOffset: 0)] : [] },
        steps: { _ in [{ x in try x.issuer.reduce(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype, op: x.op, root: x.root) }] })

    static let alltoall = CollectiveDescriptor(
        key: "alltoall", summary: "block p of rank r's buffer goes to block r of rank p",
        busFactor: .nMinus1OverN, split: .perRank, usesOp: false, usesRoot: false,
        inPlaceUnsupported: "NCCL does not support in-place all-to-all (NVIDIA/nccl#1839): its in-place results are wrong, so nccl-tests' unchecked in-place alltoall figures describe wrong data",
        layoutFn: { c, n, _ in
            let b = c / n
            return Layout(sendCount: b * n, recvCount: b * n, paramCount: b, sendInPlaceOffset: 0, recvInPlaceOffset: 0, sizeBytes: 0)
        },
        expectedFn: { l, n, r, _ in (0..<n).map { Segment(dstOffset: $0 * l.paramCount, length: l.paramCount, srcRank: $0, srcOffset: r * l.paramCount) } },
        steps: { _ in [{ x in try x.issuer.alltoAll(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype) }] })

    static let gather = CollectiveDescriptor(
        key: "gather", summary: "the root gets every rank's block, in rank order",
        busFactor: .nMinus1OverN, split: .perRank, usesOp: false, usesRoot: true,
        layoutFn: gathered,
        expectedFn: { l, n, r, root in
            r == root ? everyRanksBlock(l, n) : []
        },
        steps: { _ in [{ x in try x.issuer.gather(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype, root: x.root) }] })

    static let scatter = CollectiveDescriptor(
        key: "scatter", summary: "rank r gets block r of the root's buffer",
        busFactor: .nMinus1OverN, split: .perRank, usesOp: false, usesRoot: true,
        layoutFn: scattered,
        expectedFn: { l, _, r, root in [Segment(dstOffset: 0, length: l.paramCount, srcRank: root, srcOffset: r * l.paramCount)] },
        steps: { _ in [{ x in try x.issuer.scatter(x.send, x.recv, count: x.layout.paramCount, dtype: x.dtype, root: x.root) }] })

    static let sendrecv = CollectiveDescriptor(
        key: "sendrecv", summary: "each rank sends its buffer to rank+1 and receives from rank−1",
        busFactor: .one, split: .whole, usesOp: false, usesRoot: false,
        inPlaceUnsupported: "NCCL does not order a group's send and receive on one buffer: in-place send/recv overwrites data before it is sent, so its results are a race",
        layoutFn: { c, _, _ in whole(c) },
        expectedFn: { l, n, r, _ in [Segment(dstOffset: 0, length: l.recvCount, srcRank: (r - 1 + n) % n, srcOffset: 0)] },
        steps: { _ in [{ x in
            try x.issuer.send(x.send, count: x.layout.paramCount, dtype: x.dtype, peer: (x.rank + 1) % x.ranks)
            try x.issuer.recv(x.recv, count: x.layout.paramCount, dtype: x.dtype, peer: (x.rank - 1 + x.ranks) % x.ranks)
        }] })

    /// nccl-tests' hypercube: an all-gather by log2(n) pairwise exchanges of doubling blocks.
    static let hypercube = CollectiveDescriptor(
        key: "hypercube", summary: "all-gather by log2(n) pairwise exchanges (power-of-two ranks)",
        busFactor: .one, split: .perRank, usesOp: false, usesRoot: false, needsPowerOfTwo: true,
        algbwFactor: .nMinus1OverN,
        layoutFn: gathered,
        expectedFn: { l, n, _, _ in everyRanksBlock(l, n) },
        steps: { n in
            var steps: [IssueStep] = [{ x in
                let own = x.recv + x.rank * x.layout.paramCount * x.typeSize
                if own != x.send { try x.issuer.copy(x.send, own, bytes: x.layout.paramCount * x.typeSize) }
            }]
            var mask = 1
            while mask < n {
                let m = mask
                steps.append { x in
                    let b = x.layout.paramCount * x.typeSize
                    let s = x.rank & ~(m - 1)
                    let r = s ^ m
                    try x.issuer.send(x.recv + s * b, count: m * x.layout.paramCount, dtype: x.dtype, peer: x.rank ^ m)
                    try x.issuer.recv(x.recv + r * b, count: m * x.layout.paramCount, dtype: x.dtype, peer: x.rank ^ m)
                }
                mask <<= 1
            }
            return steps
        })

    /// Placeholder descriptor resolved to a real one by `alltoallv(matrix:)` once the traffic is known.
    static let alltoallvPlaceholder = alltoallv(matrix: .uniform)
}

extension CollectiveDescriptor {
    /// True for keys the registry knows.
    public static func isKnown(_ key: String) -> Bool { Collectives.named(key) != nil }
}
