import Testing
@testable import Collectives

/// One collective under test: every registry descriptor, plus alltoallv at several skews.
struct Coll: Sendable, CustomTestStringConvertible {
    let name: String
    let descriptor: CollectiveDescriptor
    var testDescription: String { name }

    static let registry: [Coll] = Collectives.all.map { Coll(name: $0.key, descriptor: $0) }
    static let alltoallv: [Coll] = [0, 0.5, 1, 3].map {
        Coll(name: "alltoallv skew \($0)", descriptor: Collectives.alltoallv(matrix: TrafficMatrix(skew: $0)))
    }
    static let all = registry + alltoallv
}

/// Rank counts every parameterized test runs over.
let rankCounts = [1, 2, 3, 4, 8]

/// nccl-tests' `<Coll>GetCollByteCount` (src/<coll>.cu), written out independently of gpucomm:
/// (sendcount, recvcount, paramcount, sendInplaceOffset × rank, recvInplaceOffset × rank).
/// nccl-tests stores the in-place offsets per rank and multiplies by the rank when it places the
/// pointers (common.cu); gpucomm stores the product.
func ncclTestsLayout(_ key: String, count c: Int, ranks n: Int, rank r: Int) -> Layout? {
    let b = c / n
    func l(_ s: Int, _ rc: Int, _ p: Int, _ so: Int, _ ro: Int) -> Layout {
        Layout(sendCount: s, recvCount: rc, paramCount: p, sendInPlaceOffset: so, recvInPlaceOffset: ro, sizeBytes: 0)
    }
    switch key {
    case "all_reduce", "broadcast", "reduce", "sendrecv": return l(c, c, c, 0, 0)
    case "all_gather", "gather", "hypercube": return l(b, b * n, b, r * b, 0)
    case "reduce_scatter", "scatter": return l(b * n, b, b, 0, r * b)
    case "alltoall": return l(b * n, b * n, b, 0, 0)
    default: return nil
    }
}

/// The bus factor nccl-tests applies (src/<coll>.cu `<Coll>GetBw`).
func ncclTestsBusFactor(_ key: String, ranks n: Int) -> Double {
    let d = Double(n)
    switch key {
    case "all_reduce": return 2 * (d - 1) / d
    case "broadcast", "reduce", "sendrecv": return 1
    // nccl-tests' hypercube counts (n−1)/n of the size in algbw and uses factor 1 (src/hypercube.cu).
    case "hypercube": return 1
    default: return (d - 1) / d  // all_gather, reduce_scatter, alltoall(v), gather, scatter
    }
}

/// nccl-tests' algbw bytes as a fraction of the size column: (n−1)/n for hypercube, else 1.
func ncclTestsAlgbwFactor(_ key: String, ranks n: Int) -> Double {
    key == "hypercube" ? Double(n - 1) / Double(n) : 1
}

/// Roots to try for a collective: every rank if it has a root, else 0.
func roots(_ d: CollectiveDescriptor, _ n: Int) -> [Int] { d.usesRoot ? Array(0..<n) : [0] }

/// Receive buffers with nothing defined: non-roots of reduce and gather.
func nothingDefined(_ key: String, rank: Int, root: Int) -> Bool {
    (key == "reduce" || key == "gather") && rank != root
}
