#if canImport(Glibc)
import Glibc
#endif

/// A message of `cuda-ce-1p`'s set-up over the job channel: `+` and what it carries, or `!` and
/// why the sender failed.
protocol OneProcessMessage {}

extension OneProcessMessage {
    static func failure(_ why: String) -> [UInt8] { Array(("!" + why).utf8) }
}

/// What each rank tells the others when `cuda-ce-1p` is built: its host and its GPU; or,
/// starting with `!`, why it cannot take part.
struct OneProcessAdvert: OneProcessMessage, Equatable, Sendable {
    /// Host name and kernel boot id: equal only for processes of one machine (containers included).
    var host: String
    /// As `cuDeviceGetPCIBusId` prints it.
    var pciBusId: String

    func encoded() -> [UInt8] { Array("+\(host)\n\(pciBusId)".utf8) }

    /// A rank's advert, or its problem.
    static func decode(_ b: [UInt8]) -> Result<OneProcessAdvert, Problem> {
        guard b.first == UInt8(ascii: "+") else {
            return .failure(Problem(text: b.first == UInt8(ascii: "!") ? String(decoding: b.dropFirst(), as: UTF8.self) : "malformed advert (\(b.count) bytes)"))
        }
        let tail = String(decoding: b.dropFirst(), as: UTF8.self)
        guard let nl = tail.lastIndex(of: "\n") else { return .failure(Problem(text: "advert without a PCI bus id")) }
        return .success(OneProcessAdvert(host: String(tail[..<nl]), pciBusId: String(tail[tail.index(after: nl)...])))
    }

    struct Problem: Error, Equatable { var text: String }

    /// Why the job cannot run `cuda-ce-1p`, decided from every rank's advert (the same on every rank), or nil.
    static func problem(_ all: [Result<OneProcessAdvert, Problem>]) -> String? {
        for (k, a) in all.enumerated() { if case .failure(let p) = a { return "rank \(k): \(p.text)" } }
        let hosts = all.map { (try? $0.get())?.host ?? "" }
        if let k = hosts.firstIndex(where: { $0 != hosts[0] }) {
            return "ranks on more than one host (rank 0: \(hosts[0]), rank \(k): \(hosts[k])): one process can drive only its own host's GPUs"
        }
        return nil
    }

    /// This machine: host name and the kernel's boot id (two hosts may share a container's host name).
    static func thisHost() -> String {
        func text(_ b: [CChar]) -> String {
            String(decoding: b.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0 ? text(name) : "?"
        var boot = "?"
        if let f = fopen("/proc/sys/kernel/random/boot_id", "r") {
            var b = [CChar](repeating: 0, count: 64)
            if fgets(&b, Int32(b.count), f) != nil { boot = text(b) }
            fclose(f)
        }
        return "\(host) boot \(boot)"
    }
}

/// Rank 0's answer when `cuda-ce-1p` is built: the IPC handles of the send and receive buffers
/// it allocated on every other rank's GPU (rank 0's own pair is empty), or, starting with `!`,
/// why it could not.
enum OneProcessHandles: OneProcessMessage {
    static let handleBytes = 64  // sizeof(CUipcMemHandle)

    /// `pairs[k]`: rank k's (send, receive) handles; rank 0's are empty.
    static func encode(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "+")]
        for (s, r) in pairs {
            precondition((s.isEmpty && r.isEmpty) || (s.count == handleBytes && r.count == handleBytes))
            out += s.isEmpty ? [UInt8](repeating: 0, count: 2 * handleBytes) : s + r
        }
        return out
    }

    /// Rank `rank`'s handles from rank 0's message (`ranks` ranks), or its problem.
    static func decode(_ b: [UInt8], rank: Int, ranks: Int) -> Result<(send: [UInt8], recv: [UInt8]), OneProcessAdvert.Problem> {
        guard b.first == UInt8(ascii: "+") else {
            return .failure(.init(text: b.first == UInt8(ascii: "!") ? String(decoding: b.dropFirst(), as: UTF8.self) : "malformed handles (\(b.count) bytes)"))
        }
        let h = handleBytes
        guard b.count == 1 + 2 * h * ranks, rank >= 0, rank < ranks else { return .failure(.init(text: "handles for \((b.count - 1) / (2 * h)) ranks, not \(ranks)")) }
        let at = 1 + 2 * h * rank
        return .success((Array(b[at..<at + h]), Array(b[at + h..<at + 2 * h])))
    }
}
