import Foundation

/// Who issues a device-initiated operation inside the kernel, or how the bytes move.
///
/// `thread`, `warp` and `block` call NVSHMEM's put/get at that scope (SM loads and stores on
/// NVLink); `tma` streams the bytes with bulk asynchronous copies (TMA, sm_90+) through the
/// peer's memory as `nvshmem_ptr` maps it (cuda/nvshmem_tma.cu): bandwidth only, no blocking form.
public enum P2PScope: String, Sendable, CaseIterable {
    case thread, warp, block, tma

    /// The scopes the latency and ping-pong kernels have (every one but `tma`).
    public static let latencyScopes: [P2PScope] = [.thread, .warp, .block]

    /// The kernels' scope code (nvshmem_p2p.cu: 0 thread, 1 warp, 2 block); nil for `tma`, which has none.
    var code: Int32? {
        switch self {
        case .thread: return 0
        case .warp: return 1
        case .block: return 2
        case .tma: return nil
        }
    }

    /// Threads of the single block a latency kernel runs with at this scope (`tma` has no latency kernel).
    public func latencyBlock(threads: Int) -> Int {
        switch self {
        case .thread: return 1
        case .warp: return 32
        case .block, .tma: return threads
        }
    }
}

/// A one-sided operation's direction: put writes the peer's memory, get reads it.
public enum P2POp: String, Sendable, CaseIterable {
    case put, get
}

/// The two PEs a point-to-point benchmark runs between; the job's other PEs stay idle.
///
/// `a` initiates: a put moves data a → b, a get moves data b → a. Bidirectional runs let `b`
/// initiate towards `a` at the same time.
public struct PEPair: Sendable, Equatable, CustomStringConvertible {
    public var a: Int
    public var b: Int
    public init(_ a: Int, _ b: Int) { self.a = a; self.b = b }

    /// `A,B` with two different non-negative PE numbers.
    public static func parse(_ text: String) -> PEPair? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, b >= 0, a != b else { return nil }
        return PEPair(a, b)
    }

    public var description: String { "\(a),\(b)" }
    /// The other PE of the pair, or nil for a PE outside it.
    public func peer(of pe: Int) -> Int? { pe == a ? b : pe == b ? a : nil }
    public func contains(_ pe: Int) -> Bool { pe == a || pe == b }
}

/// A kernel's grid: a multiple of the multiprocessor count (`2x`) or a number of blocks (`264`).
public enum GridSize: Sendable, Equatable, CustomStringConvertible {
    case perSM(Int)
    case blocks(Int)

    public static func parse(_ text: String) -> GridSize? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasSuffix("x") {
            guard let n = Int(t.dropLast()), n >= 1, n <= 64 else { return nil }
            return .perSM(n)
        }
        guard let n = Int(t), n >= 1, n <= 1 << 20 else { return nil }
        return .blocks(n)
    }

    public func blocks(multiprocessors: Int) -> Int {
        switch self {
        case .perSM(let n): return n * multiprocessors
        case .blocks(let n): return n
        }
    }

    public var description: String {
        switch self {
        case .perSM(let n): return "\(n)x"
        case .blocks(let n): return "\(n)"
        }
    }
}

/// Parses a comma-separated list with `item`; nil when empty or when any item fails.
public func parseList<T>(_ text: String, _ item: (String) -> T?) -> [T]? {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
    var out: [T] = []
    for p in parts {
        guard let v = item(p) else { return nil }
        out.append(v)
    }
    return out.isEmpty ? nil : out
}

/// Threads per block a bandwidth kernel accepts: a multiple of 32 from 32 to 1024.
public func validBlockThreads(_ n: Int) -> Bool { n >= 32 && n <= 1024 && n % 32 == 0 }

/// Operations per timed sample: enough that one sample moves about 1 GiB (at most 100), so the
/// per-sample cost (events, the closing quiet) stays under about 0.5 % of it. 256 MiB per sample
/// cost 1.2 % at 64 MiB on H200 (host put 382.7 GB/s with 4 per sample, 387.3 with 16).
public func autoInnerIterations(bytes: Int) -> Int {
    max(1, min(100, ((1 << 30) + bytes - 1) / max(bytes, 1)))
}
