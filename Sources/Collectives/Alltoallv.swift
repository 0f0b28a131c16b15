import Driver
import Foundation
import Measure

/// Who sends how much to whom in an imbalanced all-to-all: relative weights per (sender, receiver).
public struct TrafficMatrix: Sendable, Equatable {
    enum Source: Sendable, Equatable {
        /// Receiver p gets weight 1/(p+1)^skew from every sender (a Zipf-like hot expert at rank 0).
        case skew(Double)
        /// Explicit weights, ranks × ranks.
        case explicit([[Double]])
    }

    let source: Source

    /// Every pair gets the same share (`skew` 0).
    public static let uniform = TrafficMatrix(skew: 0)

    /// Receiver p weighted 1/(p+1)^skew; skew 0 is uniform, 1 is Zipf.
    public init(skew: Double) { source = .skew(skew) }

    /// Weights from a CSV file's text: one row per sender, one column per receiver, non-negative
    /// numbers (bytes or any relative unit), each row with a positive sum.
    public init(csv text: String) throws(MatrixError) {
        var rows: [[Double]] = []
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            var row: [Double] = []
            for f in t.split(separator: ",", omittingEmptySubsequences: false) {
                guard let v = Double(f.trimmingCharacters(in: .whitespaces)), v >= 0, v.isFinite else {
                    throw .badValue(line: i + 1, text: String(f))
                }
                row.append(v)
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw .empty }
        for (i, r) in rows.enumerated() where r.count != rows.count {
            throw .notSquare(rows: rows.count, row: i + 1, columns: r.count)
        }
        for (i, r) in rows.enumerated() where r.reduce(0, +) <= 0 { throw .emptyRow(i + 1) }
        source = .explicit(rows)
    }

    public enum MatrixError: Error, Equatable, CustomStringConvertible {
        case badValue(line: Int, text: String)
        case empty
        case notSquare(rows: Int, row: Int, columns: Int)
        case emptyRow(Int)
        case wrongRanks(matrix: Int, ranks: Int)

        public var description: String {
            switch self {
            case .badValue(let l, let t): return "traffic matrix line \(l): '\(t)' is not a non-negative number"
            case .empty: return "traffic matrix has no rows"
            case .notSquare(let n, let r, let c): return "traffic matrix is not square: \(n) rows but row \(r) has \(c) columns"
            case .emptyRow(let r): return "traffic matrix row \(r) sends nothing (its sum must be positive)"
            case .wrongRanks(let m, let n): return "traffic matrix is \(m)×\(m) but the job has \(n) ranks"
            }
        }
    }

    /// How the traffic was defined, for result rows: `skew 1.2` or `matrix 8x8`.
    public var summary: String {
        switch source {
        case .skew(let s): return "skew \(s)"
        case .explicit(let w): return "matrix \(w.count)x\(w.count)"
        }
    }

    /// The matrix size it requires, if fixed.
    public var fixedRanks: Int? {
        if case .explicit(let w) = source { return w.count }
        return nil
    }

    func weights(ranks n: Int) -> [[Double]] {
        switch source {
        case .skew(let s):
            let row = (0..<n).map { 1 / pow(Double($0 + 1), s) }
            return Array(repeating: row, count: n)
        case .explicit(let w):
            precondition(w.count == n, "traffic matrix size checked before use")
            return w
        }
    }

    /// Elements each sender sends to each receiver when every sender sends `total` elements.
    /// Shares are rounded down; the remainder goes to the sender's heaviest receiver.
    public func counts(total: Int, ranks n: Int) -> [[Int]] {
        weights(ranks: n).map { row in
            let sum = row.reduce(0, +)
            var c = row.map { Int((Double(total) * $0 / sum).rounded(.down)) }
            let heaviest = row.indices.max { row[$0] < row[$1] }!
            c[heaviest] += total - c.reduce(0, +)
            return c
        }
    }
}

/// Offsets of each block in senders' and receivers' buffers.
struct VLayout {
    let counts: [[Int]]
    func sendOffset(_ sender: Int, to receiver: Int) -> Int { counts[sender][..<receiver].reduce(0, +) }
    func recvOffset(_ receiver: Int, from sender: Int) -> Int { (0..<sender).reduce(0) { $0 + counts[$1][receiver] } }
    func recvCount(_ receiver: Int) -> Int { counts.reduce(0) { $0 + $1[receiver] } }
}

extension Collectives {
    /// An imbalanced all-to-all over grouped ncclSend/ncclRecv. The size is each rank's send
    /// total (as alltoall); algbw = size / time, busbw = algbw × (n−1)/n, as alltoall.
    public static func alltoallv(matrix: TrafficMatrix) -> CollectiveDescriptor {
        @Sendable func v(_ c: Int, _ n: Int) -> VLayout { VLayout(counts: matrix.counts(total: c, ranks: n)) }
        var d = CollectiveDescriptor(
            key: "alltoallv", summary: "all-to-all with per-pair counts from a skew or a traffic matrix",
            busFactor: .nMinus1OverN, split: .perRank, usesOp: false, usesRoot: false, hasInPlace: false,
            layoutFn: { c, n, r in
                Layout(sendCount: c, recvCount: v(c, n).recvCount(r), paramCount: c, sendInPlaceOffset: 0,
                       recvInPlaceOffset: 0, sizeBytes: 0)
            },
            expectedFn: { l, n, r, _ in
                let vl = v(l.sendCount, n)
                return (0..<n).map {
                    Segment(dstOffset: vl.recvOffset(r, from: $0), length: vl.counts[$0][r], srcRank: $0, srcOffset: vl.sendOffset($0, to: r))
                }
            },
            steps: { _ in [{ x in
                let vl = v(x.layout.sendCount, x.ranks)
                // Zero-count pairs are skipped on both sides (every rank knows the whole matrix): NCCL
                // 2.28.9 hung on zero-byte send/recv with symmetric-window buffers across processes.
                for p in 0..<x.ranks {
                    if vl.counts[x.rank][p] > 0 {
                        try x.issuer.send(x.send + vl.sendOffset(x.rank, to: p) * x.typeSize, count: vl.counts[x.rank][p], dtype: x.dtype, peer: p)
                    }
                    if vl.counts[p][x.rank] > 0 {
                        try x.issuer.recv(x.recv + vl.recvOffset(x.rank, from: p) * x.typeSize, count: vl.counts[p][x.rank], dtype: x.dtype, peer: p)
                    }
                }
            }] })
        d.labels = ["traffic": matrix.summary]
        return d
    }
}
