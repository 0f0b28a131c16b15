// The rendezvous wire format. Every frame: UInt32 big-endian length of what follows, one type byte, payload.
// Payload fields: UInt32/UInt64 big-endian, byte strings as UInt32 length + bytes. docs/launch.md has the table.

/// One message of the rendezvous protocol.
enum Message: Equatable {
    /// Joining rank → rank 0: who I am.
    case hello(Hello)
    /// Rank 0 → every rank once all arrived: the job's ranks (host, pid per rank).
    case ready(peers: [Peer])
    /// Rank 0 → a joining rank: go away. `wrongToken` distinguishes the common case.
    case refuse(wrongToken: Bool, reason: String)
    /// Rank 0 → joined ranks: the deadline passed; these ranks never arrived.
    case timeout(missing: [Int], waitedMilliseconds: UInt64)
    /// Rank → rank 0: my part of collective number `seq`.
    case contribute(seq: UInt64, op: CollectiveOp, root: Int, bytes: [UInt8])
    /// Rank 0 → rank: the outcome of collective number `seq`.
    case result(seq: UInt64, parts: [[UInt8]])
    /// Rank 0 → ranks: a rank died or stopped answering; end now.
    case died(rank: Int, host: String, pid: Int, detail: String)
    /// Rank 0 → ranks: the ranks called different collectives; end now.
    case mismatch(reason: String)
    /// Either way, about once a second: I am alive.
    case heartbeat
    /// Either way: orderly end, the connection closing next is not a death.
    case goodbye

    struct Hello: Equatable {
        var magic = Message.magic
        var version = Message.version
        var token: String
        var rank: Int
        var size: Int
        var host: String
        var pid: Int
    }

    struct Peer: Equatable, Sendable {
        var host: String
        var pid: Int
    }

    static let magic = "gpucomm-rendezvous"
    static let version = 1
    /// Frames larger than this are refused (a port scanner or a stray protocol, not a rank).
    static let maxFrame = 1 << 30
    /// Before the hello is accepted, a peer may send no more than this.
    static let maxHello = 4096

    enum Kind: UInt8 {
        case hello = 1, ready, refuse, timeout, contribute, result, died, mismatch, heartbeat, goodbye
    }

    /// The frame: length, type, payload.
    func encoded() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .hello(let h):
            w.string(h.magic); w.u32(h.version); w.string(h.token); w.u32(h.rank); w.u32(h.size)
            w.string(h.host); w.u32(h.pid)
        case .ready(let peers):
            w.u32(peers.count)
            for p in peers { w.string(p.host); w.u32(p.pid) }
        case .refuse(let wrongToken, let reason):
            w.u32(wrongToken ? 1 : 0); w.string(reason)
        case .timeout(let missing, let ms):
            w.u64(ms); w.u32(missing.count)
            for r in missing { w.u32(r) }
        case .contribute(let seq, let op, let root, let bytes):
            w.u64(seq); w.u32(Int(op.rawValue)); w.u32(root); w.bytes(bytes)
        case .result(let seq, let parts):
            w.u64(seq); w.u32(parts.count)
            for p in parts { w.bytes(p) }
        case .died(let rank, let host, let pid, let detail):
            w.u32(rank); w.string(host); w.u32(pid); w.string(detail)
        case .mismatch(let reason):
            w.string(reason)
        case .heartbeat, .goodbye:
            break
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(w.out.count + 5)
        let length = UInt32(w.out.count + 1)
        frame += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        frame.append(kind.rawValue)
        frame += w.out
        return frame
    }

    var kind: Kind {
        switch self {
        case .hello: .hello
        case .ready: .ready
        case .refuse: .refuse
        case .timeout: .timeout
        case .contribute: .contribute
        case .result: .result
        case .died: .died
        case .mismatch: .mismatch
        case .heartbeat: .heartbeat
        case .goodbye: .goodbye
        }
    }

    /// Decodes one frame's type byte and payload; nil when malformed.
    static func decode(type: UInt8, payload: ArraySlice<UInt8>) -> Message? {
        guard let kind = Kind(rawValue: type) else { return nil }
        var r = WireReader(bytes: payload)
        let message: Message?
        switch kind {
        case .hello:
            guard let magic = r.string(), let version = r.u32(), let token = r.string(), let rank = r.u32(),
                  let size = r.u32(), let host = r.string(), let pid = r.u32() else { return nil }
            message = .hello(Hello(magic: magic, version: version, token: token, rank: rank, size: size,
                                   host: host, pid: pid))
        case .ready:
            guard let n = r.u32(), n <= r.remaining else { return nil }
            var peers: [Peer] = []
            for _ in 0..<n {
                guard let host = r.string(), let pid = r.u32() else { return nil }
                peers.append(Peer(host: host, pid: pid))
            }
            message = .ready(peers: peers)
        case .refuse:
            guard let flag = r.u32(), let reason = r.string() else { return nil }
            message = .refuse(wrongToken: flag == 1, reason: reason)
        case .timeout:
            guard let ms = r.u64(), let n = r.u32(), n <= r.remaining else { return nil }
            var missing: [Int] = []
            for _ in 0..<n {
                guard let v = r.u32() else { return nil }
                missing.append(v)
            }
            message = .timeout(missing: missing, waitedMilliseconds: ms)
        case .contribute:
            guard let seq = r.u64(), let op = r.u32().flatMap({ CollectiveOp(rawValue: UInt8(clamping: $0)) }),
                  let root = r.u32(), let bytes = r.bytes() else { return nil }
            message = .contribute(seq: seq, op: op, root: root, bytes: bytes)
        case .result:
            guard let seq = r.u64(), let n = r.u32(), n <= r.remaining else { return nil }
            var parts: [[UInt8]] = []
            for _ in 0..<n {
                guard let p = r.bytes() else { return nil }
                parts.append(p)
            }
            message = .result(seq: seq, parts: parts)
        case .died:
            guard let rank = r.u32(), let host = r.string(), let pid = r.u32(), let detail = r.string() else { return nil }
            message = .died(rank: rank, host: host, pid: pid, detail: detail)
        case .mismatch:
            guard let reason = r.string() else { return nil }
            message = .mismatch(reason: reason)
        case .heartbeat: message = .heartbeat
        case .goodbye: message = .goodbye
        }
        return r.remaining == 0 ? message : nil
    }
}

/// The collective a contribution belongs to; every rank must call the same one in the same order.
enum CollectiveOp: UInt8, CustomStringConvertible {
    case broadcast = 1, allGather, barrier

    var description: String {
        switch self {
        case .broadcast: "broadcast"
        case .allGather: "allGather"
        case .barrier: "barrier"
        }
    }
}

struct WireWriter {
    var out: [UInt8] = []
    mutating func u32(_ v: Int) {
        let x = UInt32(truncatingIfNeeded: v)
        out += [UInt8(x >> 24), UInt8(x >> 16 & 0xff), UInt8(x >> 8 & 0xff), UInt8(x & 0xff)]
    }
    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(v >> UInt64(shift) & 0xff)) }
    }
    mutating func bytes(_ b: [UInt8]) { u32(b.count); out += b }
    mutating func string(_ s: String) { bytes(Array(s.utf8)) }
}

struct WireReader {
    var data: ArraySlice<UInt8>
    init(bytes: ArraySlice<UInt8>) { data = bytes }
    var remaining: Int { data.count }
    mutating func u32() -> Int? {
        guard data.count >= 4 else { return nil }
        var v: UInt32 = 0
        for b in data.prefix(4) { v = v << 8 | UInt32(b) }
        data = data.dropFirst(4)
        return Int(v)
    }
    mutating func u64() -> UInt64? {
        guard data.count >= 8 else { return nil }
        var v: UInt64 = 0
        for b in data.prefix(8) { v = v << 8 | UInt64(b) }
        data = data.dropFirst(8)
        return v
    }
    mutating func bytes() -> [UInt8]? {
        guard let n = u32(), n <= data.count else { return nil }
        let out = Array(data.prefix(n))
        data = data.dropFirst(n)
        return out
    }
    mutating func string() -> String? { bytes().map { String(decoding: $0, as: UTF8.self) } }
}

/// Collects bytes from a stream and cuts them into frames.
struct FrameBuffer {
    private var buffer: [UInt8] = []
    private var start = 0
    /// Largest frame accepted; bigger is a protocol error.
    var limit: Int

    init(limit: Int) { self.limit = limit }

    mutating func append(_ chunk: UnsafeRawBufferPointer) { buffer.append(contentsOf: chunk) }

    /// Next complete message; nil when more bytes are needed. Throws on a malformed or oversized frame.
    mutating func next() throws(LaunchError) -> Message? {
        let available = buffer.count - start
        guard available >= 4 else { compact(); return nil }
        var length = 0
        for i in 0..<4 { length = length << 8 | Int(buffer[start + i]) }
        guard length >= 1, length <= limit else { throw .io("bad frame length \(length) from peer (not a gpucomm rank?)") }
        guard available >= 4 + length else { return nil }
        let type = buffer[start + 4]
        let payload = buffer[(start + 5)..<(start + 4 + length)]
        start += 4 + length
        guard let message = Message.decode(type: type, payload: payload) else {
            throw .io("malformed message (type \(type)) from peer")
        }
        return message
    }

    private mutating func compact() {
        if start > 0 { buffer.removeFirst(start); start = 0 }
    }
}
