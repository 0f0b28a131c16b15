import Testing
@testable import Collectives
import GPU

/// A CPU stand-in for NCCL over host memory: every rank's calls of one step are collected, then
/// executed together as one NCCL group. Data moves as bytes; reductions (sum) are done on int32
/// and float64. All reads of a group happen before any write (the result NCCL defines when
/// buffers do not alias). Calls that NCCL would reject (mismatched counts, a collective not
/// called by every rank, unmatched send/recv) are recorded as test issues.
final class FakeGroup {
    enum Call {
        case allReduce(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32)
        case reduce(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32, root: Int)
        case broadcast(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int)
        case allGather(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32)
        case reduceScatter(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32)
        case alltoAll(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32)
        case gather(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int)
        case scatter(s: UnsafeRawPointer, r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int)
        case send(s: UnsafeRawPointer, count: Int, dtype: Int32, peer: Int)
        case recv(r: UnsafeMutableRawPointer, count: Int, dtype: Int32, peer: Int)

        var kind: String { String("\(self)".prefix { $0 != "(" }) }
    }

    let ranks: Int
    /// Pending calls per rank, in issue order.
    var pending: [[Call]]
    /// Every NCCL call made, by kind (for tests that count them).
    var callCounts: [String: Int] = [:]
    var copies = 0
    /// Host allocations the job made: every read and write must stay inside one (a stray pointer
    /// is recorded as an issue instead of corrupting the test process).
    var allocations: [(base: UnsafeRawPointer, bytes: Int)] = []

    func inBounds(_ p: UnsafeRawPointer, _ bytes: Int) -> Bool {
        allocations.contains { p >= $0.base && p + bytes <= $0.base + $0.bytes }
    }

    init(ranks: Int) {
        self.ranks = ranks
        pending = Array(repeating: [], count: ranks)
    }

    func issuer(rank: Int) -> FakeIssuer { FakeIssuer(group: self, rank: rank) }

    func add(_ c: Call, rank: Int) {
        pending[rank].append(c)
        callCounts[c.kind, default: 0] += 1
    }

    static func size(_ dtype: Int32) -> Int { NCCLDataType(rawValue: dtype)!.size }

    /// Executes the group: every collective must be called once by every rank with the same
    /// arguments; the k-th send from a to b pairs with the k-th receive on b from a.
    func end(sourceLocation: SourceLocation = #_sourceLocation) {
        defer { pending = Array(repeating: [], count: ranks) }
        var writes: [(UnsafeMutableRawPointer, [UInt8])] = []
        func fail(_ m: String) { Issue.record(Comment(rawValue: m), sourceLocation: sourceLocation) }
        func read(_ p: UnsafeRawPointer, _ bytes: Int) -> [UInt8] {
            guard inBounds(p, bytes) else { fail("a read of \(bytes) bytes outside every buffer"); return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: bytes))
        }

        // Point-to-point.
        var sends: [[[(UnsafeRawPointer, Int, Int32)]]] = Array(repeating: Array(repeating: [], count: ranks), count: ranks)
        var recvs: [[[(UnsafeMutableRawPointer, Int, Int32)]]] = Array(repeating: Array(repeating: [], count: ranks), count: ranks)
        var collectives: [[Call]] = Array(repeating: [], count: ranks)
        for r in 0..<ranks {
            for c in pending[r] {
                switch c {
                case .send(let s, let n, let t, let peer):
                    guard (0..<ranks).contains(peer) else { fail("rank \(r) sends to rank \(peer) of \(ranks)"); continue }
                    sends[r][peer].append((s, n, t))
                case .recv(let p, let n, let t, let peer):
                    guard (0..<ranks).contains(peer) else { fail("rank \(r) receives from rank \(peer) of \(ranks)"); continue }
                    recvs[r][peer].append((p, n, t))
                default: collectives[r].append(c)
                }
            }
        }
        for a in 0..<ranks {
            for b in 0..<ranks {
                let s = sends[a][b], rv = recvs[b][a]
                if s.count != rv.count { fail("rank \(a) sends \(s.count)× to rank \(b), which receives \(rv.count)× from it"); continue }
                for (x, y) in zip(s, rv) {
                    if x.1 != y.1 || x.2 != y.2 { fail("send \(a)→\(b) of \(x.1) elements (type \(x.2)) meets a receive of \(y.1) (type \(y.2))") }
                    writes.append((y.0, read(x.0, min(x.1, y.1) * Self.size(x.2))))
                }
            }
        }

        // Collectives, matched by position in each rank's list.
        let counts = Set(collectives.map(\.count))
        guard counts.count == 1 else { fail("ranks issue different numbers of collectives: \(collectives.map(\.count))"); return }
        for i in 0..<(counts.first ?? 0) {
            let calls = collectives.map { $0[i] }
            let kinds = Set(calls.map(\.kind))
            guard kinds.count == 1 else { fail("collective \(i) differs between ranks: \(kinds.sorted())"); continue }
            writes += execute(calls, read: read, fail: fail)
        }
        for (p, bytes) in writes where !bytes.isEmpty {
            guard inBounds(p, bytes.count) else { fail("a write of \(bytes.count) bytes outside every buffer"); continue }
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
    }

    /// Returns the writes one collective makes, reading everything first.
    private func execute(_ calls: [Call], read: (UnsafeRawPointer, Int) -> [UInt8], fail: (String) -> Void) -> [(UnsafeMutableRawPointer, [UInt8])] {
        let n = ranks
        var out: [(UnsafeMutableRawPointer, [UInt8])] = []
        func same<T: Equatable>(_ xs: [T], _ what: String) -> Bool {
            if Set(xs.map { "\($0)" }).count != 1 { fail("\(calls[0].kind): ranks disagree on \(what): \(xs)"); return false }
            return true
        }
        switch calls[0] {
        case .allReduce, .reduce, .reduceScatter:
            var srcs: [UnsafeRawPointer] = [], dsts: [UnsafeMutableRawPointer] = [], count = 0, dtype: Int32 = 0, root = -1
            var params: [String] = []
            for c in calls {
                switch c {
                case .allReduce(let s, let r, let k, let t, let op): srcs.append(s); dsts.append(r); count = k; dtype = t; params.append("\(k) \(t) \(op)")
                case .reduce(let s, let r, let k, let t, let op, let ro): srcs.append(s); dsts.append(r); count = k; dtype = t; root = ro; params.append("\(k) \(t) \(op) \(ro)")
                case .reduceScatter(let s, let r, let k, let t, let op): srcs.append(s); dsts.append(r); count = k; dtype = t; params.append("\(k) \(t) \(op)")
                default: break
                }
            }
            guard same(params, "count, type, op, root") else { return [] }
            let isRS = calls[0].kind == "reduceScatter"
            let total = isRS ? count * n : count
            guard srcs.allSatisfy({ inBounds($0, total * Self.size(dtype)) }) else { fail("a reduction reads outside every buffer"); return [] }
            let sum = reduceSum(srcs, count: total, dtype: dtype)
            let es = Self.size(dtype)
            for r in 0..<n where calls[0].kind != "reduce" || r == root {
                let part = isRS ? Array(sum[(r * count * es)..<((r + 1) * count * es)]) : sum
                out.append((dsts[r], part))
            }
        case .broadcast, .gather, .scatter, .allGather, .alltoAll:
            var srcs: [UnsafeRawPointer] = [], dsts: [UnsafeMutableRawPointer] = [], params: [String] = []
            var count = 0, dtype: Int32 = 0, root = 0
            for c in calls {
                switch c {
                case .broadcast(let s, let r, let k, let t, let ro), .gather(let s, let r, let k, let t, let ro), .scatter(let s, let r, let k, let t, let ro):
                    srcs.append(s); dsts.append(r); count = k; dtype = t; root = ro; params.append("\(k) \(t) \(ro)")
                case .allGather(let s, let r, let k, let t), .alltoAll(let s, let r, let k, let t):
                    srcs.append(s); dsts.append(r); count = k; dtype = t; params.append("\(k) \(t)")
                default: break
                }
            }
            guard same(params, "count, type, root") else { return [] }
            let b = count * Self.size(dtype)
            switch calls[0].kind {
            case "broadcast": let d = read(srcs[root], b); for r in 0..<n { out.append((dsts[r], d)) }
            case "gather": for q in 0..<n { out.append((dsts[root] + q * b, read(srcs[q], b))) }
            case "scatter": for r in 0..<n { out.append((dsts[r], read(srcs[root] + r * b, b))) }
            case "allGather": for r in 0..<n { for q in 0..<n { out.append((dsts[r] + q * b, read(srcs[q], b))) } }
            default: for r in 0..<n { for q in 0..<n { out.append((dsts[r] + q * b, read(srcs[q] + r * b, b))) } }
            }
        default: break
        }
        return out
    }

    /// Element-wise sum over ranks (int32 wraps, float64 adds), as bytes.
    private func reduceSum(_ srcs: [UnsafeRawPointer], count: Int, dtype: Int32) -> [UInt8] {
        switch NCCLDataType(rawValue: dtype)! {
        case .int32:
            let v = (0..<count).map { i in srcs.reduce(Int32(0)) { $0 &+ $1.loadUnaligned(fromByteOffset: i * 4, as: Int32.self) } }
            return v.withUnsafeBytes { Array($0) }
        case .float64:
            let v = (0..<count).map { i in srcs.reduce(0.0) { $0 + $1.loadUnaligned(fromByteOffset: i * 8, as: Double.self) } }
            return v.withUnsafeBytes { Array($0) }
        default:
            Issue.record("the fake NCCL reduces int32 and float64 only")
            return []
        }
    }
}

/// One rank's view of the fake: what `IssueContext.issuer` gets.
struct FakeIssuer: NCCLIssuer {
    let group: FakeGroup
    let rank: Int
    func allReduce(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws {
        group.add(.allReduce(s: s, r: r, count: count, dtype: dtype, op: op), rank: rank)
    }
    func reduce(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32, root: Int) throws {
        group.add(.reduce(s: s, r: r, count: count, dtype: dtype, op: op, root: root), rank: rank)
    }
    func broadcast(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        group.add(.broadcast(s: s, r: r, count: count, dtype: dtype, root: root), rank: rank)
    }
    func allGather(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws {
        group.add(.allGather(s: s, r: r, count: count, dtype: dtype), rank: rank)
    }
    func reduceScatter(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws {
        group.add(.reduceScatter(s: s, r: r, count: count, dtype: dtype, op: op), rank: rank)
    }
    func alltoAll(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws {
        group.add(.alltoAll(s: s, r: r, count: count, dtype: dtype), rank: rank)
    }
    func gather(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        group.add(.gather(s: s, r: r, count: count, dtype: dtype, root: root), rank: rank)
    }
    func scatter(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        group.add(.scatter(s: s, r: r, count: count, dtype: dtype, root: root), rank: rank)
    }
    func send(_ s: UnsafeRawPointer, count: Int, dtype: Int32, peer: Int) throws {
        group.add(.send(s: s, count: count, dtype: dtype, peer: peer), rank: rank)
    }
    func recv(_ r: UnsafeMutableRawPointer, count: Int, dtype: Int32, peer: Int) throws {
        group.add(.recv(r: r, count: count, dtype: dtype, peer: peer), rank: rank)
    }
    /// A stream copy runs before the group's NCCL work (it is queued on the stream first).
    func copy(_ s: UnsafeRawPointer, _ r: UnsafeMutableRawPointer, bytes: Int) throws {
        group.copies += 1
        guard group.inBounds(s, bytes), group.inBounds(r, bytes) else { Issue.record("a copy of \(bytes) bytes outside every buffer"); return }
        r.copyMemory(from: s, byteCount: bytes)
    }
}
