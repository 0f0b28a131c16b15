import Foundation

/// An open `NETLINK_RDMA` socket; closed when the value goes away.
final class NetlinkSocket {
    /// Why a netlink call failed, with the call's name and errno text.
    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var sequence: UInt32 = 1

    init() throws {
        fd = socket(Int32(AF_NETLINK), Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), RDMANetlink.protocolNumber)
        guard fd >= 0 else { throw Error(description: "socket(AF_NETLINK, NETLINK_RDMA) failed: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends one request and collects the reply messages (until NLMSG_DONE for a dump).
    func transact(_ op: RDMANetlink.Op, dump: Bool, u32Attributes: [(UInt16, UInt32)] = []) throws -> [RDMANetlink.Message] {
        sequence &+= 1
        let seq = sequence
        let flags = RDMANetlink.flagRequest | (dump ? RDMANetlink.flagDump : 0)
        let request = RDMANetlink.request(op, flags: flags, sequence: seq, u32Attributes: u32Attributes)
        // struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; }: kernel is pid 0.
        var address = [UInt8](repeating: 0, count: 12)
        address[0] = UInt8(AF_NETLINK & 0xff)
        let sent = request.withUnsafeBytes { req in
            address.withUnsafeBytes { addr in
                sendto(fd, req.baseAddress, req.count, 0, addr.baseAddress!.assumingMemoryBound(to: sockaddr.self), 12)
            }
        }
        guard sent == request.count else { throw Error(description: "sendto(NETLINK_RDMA) failed: \(String(cString: strerror(errno)))") }
        var replies: [RDMANetlink.Message] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Error(description: "recv(NETLINK_RDMA) failed: \(String(cString: strerror(errno)))") }
            let messages = try RDMANetlink.messages(Array(buffer[0..<n])).filter { $0.sequence == seq }
            for m in messages where m.type != RDMANetlink.typeDone { replies.append(m) }
            if !dump || messages.contains(where: { $0.type == RDMANetlink.typeDone }) { return replies }
        }
    }
}

/// RDMA port hardware counters over netlink (what `rdma statistic show` prints).
///
/// Reads the running kernel, not `--sys-root`; it gives the driver's hardware counters (EFA's
/// byte counters, mlx5's `hw_counters`), not the IB port counters that sysfs `counters/` holds.
public struct NetlinkRDMASource: CounterSource {
    public let name = "netlink"

    public init() {}

    public func read() throws -> [DeviceReading] {
        let socket = try NetlinkSocket()
        let devices = try RDMANetlink.devices(socket.transact(.get, dump: true))
        return try devices.map { dev in
            var ports: [PortReading] = []
            for p in 1...max(1, dev.lastPort) {
                let replies = try socket.transact(.statGet, dump: false, u32Attributes: [
                    (RDMANetlink.Attr.devIndex, dev.index), (RDMANetlink.Attr.portIndex, p),
                ])
                let counters = try RDMANetlink.portCounters(replies).flatMap(\.counters)
                ports.append(PortReading(port: String(p), counters: counters.map { CounterReading(name: $0.0, raw: $0.1, width: .bits64) }))
            }
            return DeviceReading(name: dev.name, kind: .nic, ports: ports)
        }
    }
}

/// Which processes own queue pairs on each RDMA device, from RDMA netlink (`rdma resource show qp`).
public enum RDMAProcesses {
    /// Device name → sorted "pid comm" strings; kernel users appear as `[name]`. Empty when netlink is unavailable.
    public static func owners(procRoot: String = "/proc") -> [String: [String]] {
        guard let socket = try? NetlinkSocket(),
              let devices = try? RDMANetlink.devices(socket.transact(.get, dump: true)) else { return [:] }
        var out: [String: [String]] = [:]
        for dev in devices {
            guard let replies = try? socket.transact(.resQPGet, dump: true, u32Attributes: [(RDMANetlink.Attr.devIndex, dev.index)]),
                  let qps = try? RDMANetlink.queuePairs(replies) else { continue }
            out[dev.name] = describe(qps, procRoot: procRoot)
        }
        return out
    }

    /// Distinct owners of these queue pairs as `pid comm` (comm from `<procRoot>/<pid>/comm`) or `[kernel name]`.
    public static func describe(_ qps: [RDMANetlink.QueuePairOwner], procRoot: String) -> [String] {
        var set = Set<String>()
        for qp in qps {
            if let pid = qp.pid {
                let comm = SysfsFiles.readLine("\(procRoot)/\(pid)/comm") ?? "?"
                set.insert("\(pid) \(comm)")
            } else if let k = qp.kernelName {
                set.insert("[\(k)]")
            }
        }
        return set.sorted { (Int($0.split(separator: " ").first ?? "") ?? Int.max, $0) < (Int($1.split(separator: " ").first ?? "") ?? Int.max, $1) }
    }
}

/// Adds each NIC's queue-pair owners (`info["processes"]`) to another source's readings.
public struct ProcessAnnotatingSource: CounterSource {
    public var base: any CounterSource
    public var owners: @Sendable () -> [String: [String]]
    public var name: String { base.name }

    public init(base: any CounterSource, owners: @escaping @Sendable () -> [String: [String]] = { RDMAProcesses.owners() }) {
        self.base = base
        self.owners = owners
    }

    public func read() throws -> [DeviceReading] {
        var devices = try base.read()
        let table = owners()
        guard !table.isEmpty else { return devices }
        for i in devices.indices where devices[i].kind == .nic {
            if let list = table[devices[i].name] { devices[i].info["processes"] = list.joined(separator: ", ") }
        }
        return devices
    }
}

extension RDMAProcesses {
    /// `owners()` asked at most once per `maxAge` seconds (queue-pair dumps can be long under NCCL).
    public static func cached(maxAge: Double, procRoot: String = "/proc") -> @Sendable () -> [String: [String]] {
        let cache = OwnerCache()
        return { cache.get(maxAge: maxAge) { owners(procRoot: procRoot) } }
    }
}

/// The last owner table and when it was taken, behind a lock.
final class OwnerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var table: [String: [String]] = [:]
    private var taken: Double = -.infinity

    func get(maxAge: Double, refresh: () -> [String: [String]]) -> [String: [String]] {
        lock.lock()
        defer { lock.unlock() }
        let now = SampleClock.system.monotonic()
        if now - taken >= maxAge {
            table = refresh()
            taken = now
        }
        return table
    }
}
