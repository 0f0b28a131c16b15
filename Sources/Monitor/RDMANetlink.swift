import Foundation

/// RDMA netlink (`NETLINK_RDMA`, the interface `rdma statistic` and `rdma resource` use): message
/// building and reply parsing, kept apart from the socket so it is tested on recorded bytes.
///
/// Numbers from Linux `include/uapi/rdma/rdma_netlink.h` and `include/uapi/linux/netlink.h`.
/// RDMA netlink messages carry attributes straight after the 16-byte `nlmsghdr` (no family header).
public enum RDMANetlink {
    /// `NETLINK_RDMA`, the socket protocol.
    public static let protocolNumber: Int32 = 20
    /// `RDMA_NL_NLDEV`, the client whose ops we use; message type = `(client << 10) + op`.
    public static let nldevClient: UInt16 = 5

    /// `enum rdma_nldev_command` values used here.
    public enum Op: UInt16, Sendable {
        case get = 1          // RDMA_NLDEV_CMD_GET: devices (dump)
        case portGet = 5      // RDMA_NLDEV_CMD_PORT_GET
        case resQPGet = 10    // RDMA_NLDEV_CMD_RES_QP_GET: queue pairs (dump)
        case statGet = 17     // RDMA_NLDEV_CMD_STAT_GET: port hardware counters
    }

    /// `enum rdma_nldev_attr` values used here.
    public enum Attr {
        public static let pad: UInt16 = 0
        public static let devIndex: UInt16 = 1        // u32
        public static let devName: UInt16 = 2         // string
        public static let portIndex: UInt16 = 3       // u32 (in a GET reply: the last port number)
        public static let resQP: UInt16 = 19          // nested table
        public static let resQPEntry: UInt16 = 20     // nested
        public static let resLQPN: UInt16 = 21        // u32
        public static let resPID: UInt16 = 28         // u32
        public static let resKernName: UInt16 = 29    // string
        public static let statHWCounters: UInt16 = 80 // nested table
        public static let statHWCounterEntry: UInt16 = 81        // nested
        public static let statHWCounterEntryName: UInt16 = 82    // string
        public static let statHWCounterEntryValue: UInt16 = 83   // u64
    }

    /// Netlink flags and control message types (`linux/netlink.h`).
    public static let flagRequest: UInt16 = 0x1
    public static let flagMulti: UInt16 = 0x2
    public static let flagAck: UInt16 = 0x4
    public static let flagDump: UInt16 = 0x300
    public static let typeError: UInt16 = 2
    public static let typeDone: UInt16 = 3

    /// The message type of an nldev op.
    public static func messageType(_ op: Op) -> UInt16 { (nldevClient << 10) + op.rawValue }

    /// One netlink message: header fields and its payload (the bytes after the header).
    public struct Message: Sendable, Hashable {
        public var type: UInt16
        public var flags: UInt16
        public var sequence: UInt32
        public var payload: [UInt8]
    }

    /// One attribute; `type` has the nested and byte-order flag bits removed.
    public struct Attribute: Sendable, Hashable {
        public var type: UInt16
        public var payload: [UInt8]

        public var u32: UInt32? { payload.count >= 4 ? RDMANetlink.loadLE(payload, 0, 4).map(UInt32.init) : nil }
        public var u64: UInt64? {
            if payload.count >= 8 { return RDMANetlink.loadLE(payload, 0, 8) }
            return u32.map(UInt64.init)
        }
        /// NUL-terminated string payload.
        public var string: String { String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self) }
        /// Attributes nested inside this one.
        public func nested() throws -> [Attribute] { try RDMANetlink.attributes(payload[...]) }
    }

    /// A reply that could not be parsed, or a netlink error reply.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Builds a request: header, then u32 attributes.
    public static func request(_ op: Op, flags: UInt16, sequence: UInt32, u32Attributes: [(UInt16, UInt32)] = []) -> [UInt8] {
        var attrs: [UInt8] = []
        for (type, value) in u32Attributes {
            attrs += le(UInt16(8), 2) + le(type, 2) + le(value, 4)
        }
        let length = UInt32(16 + attrs.count)
        return le(length, 4) + le(messageType(op), 2) + le(flags, 2) + le(sequence, 4) + le(UInt32(0), 4) + attrs
    }

    /// Splits a buffer of netlink messages; a netlink error reply (other than an ACK) throws with its errno text.
    public static func messages(_ bytes: [UInt8]) throws -> [Message] {
        var out: [Message] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(loadLE(bytes, offset, 4)!)
            guard length >= 16, offset + length <= bytes.count else {
                throw ParseError(description: "netlink message at byte \(offset) claims \(length) bytes, \(bytes.count - offset) left")
            }
            let type = UInt16(loadLE(bytes, offset + 4, 2)!)
            let flags = UInt16(loadLE(bytes, offset + 6, 2)!)
            let seq = UInt32(loadLE(bytes, offset + 8, 4)!)
            let payload = Array(bytes[(offset + 16)..<(offset + length)])
            if type == typeError, payload.count >= 4 {
                let code = Int32(bitPattern: UInt32(loadLE(payload, 0, 4)!))
                if code != 0 { throw ParseError(description: "netlink error \(-code): \(String(cString: strerror(-code)))") }
            } else {
                out.append(Message(type: type, flags: flags, sequence: seq, payload: payload))
            }
            offset += (length + 3) & ~3
        }
        return out
    }

    /// Parses attributes (`nlattr`: u16 length including its 4-byte header, u16 type; payload padded to 4).
    public static func attributes(_ bytes: ArraySlice<UInt8>) throws -> [Attribute] {
        var out: [Attribute] = []
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(loadLE(bytes, offset, 2)!)
            let type = UInt16(loadLE(bytes, offset + 2, 2)!) & 0x3fff
            guard length >= 4, offset + length <= bytes.endIndex else {
                throw ParseError(description: "netlink attribute type \(type) claims \(length) bytes, \(bytes.endIndex - offset) left")
            }
            if type != Attr.pad { out.append(Attribute(type: type, payload: Array(bytes[(offset + 4)..<(offset + length)]))) }
            offset += (length + 3) & ~3
        }
        return out
    }

    /// A device from an `RDMA_NLDEV_CMD_GET` reply.
    public struct Device: Sendable, Hashable {
        public var index: UInt32
        public var name: String
        /// Ports are numbered 1…`lastPort`.
        public var lastPort: UInt32
    }

    /// Devices in a GET dump reply.
    public static func devices(_ messages: [Message]) throws -> [Device] {
        try messages.filter { $0.type == messageType(.get) }.compactMap { m in
            let attrs = try attributes(m.payload[...])
            guard let index = attrs.first(where: { $0.type == Attr.devIndex })?.u32,
                  let name = attrs.first(where: { $0.type == Attr.devName })?.string else { return nil }
            return Device(index: index, name: name, lastPort: attrs.first { $0.type == Attr.portIndex }?.u32 ?? 1)
        }
    }

    /// One port's hardware counters from a STAT_GET reply.
    public struct PortCounters: Sendable, Hashable {
        public var deviceIndex: UInt32
        public var port: UInt32
        /// (name, value) in the kernel's order.
        public var counters: [(String, UInt64)]

        public static func == (a: Self, b: Self) -> Bool {
            a.deviceIndex == b.deviceIndex && a.port == b.port && a.counters.elementsEqual(b.counters) { $0 == $1 }
        }
        public func hash(into h: inout Hasher) { h.combine(deviceIndex); h.combine(port) }
    }

    /// Hardware counters in STAT_GET replies: `80 → 81 → {82 name, 83 u64}`.
    public static func portCounters(_ messages: [Message]) throws -> [PortCounters] {
        try messages.filter { $0.type == messageType(.statGet) }.compactMap { m in
            let attrs = try attributes(m.payload[...])
            guard let dev = attrs.first(where: { $0.type == Attr.devIndex })?.u32,
                  let port = attrs.first(where: { $0.type == Attr.portIndex })?.u32,
                  let table = attrs.first(where: { $0.type == Attr.statHWCounters }) else { return nil }
            var counters: [(String, UInt64)] = []
            for entry in try table.nested() where entry.type == Attr.statHWCounterEntry {
                let fields = try entry.nested()
                guard let name = fields.first(where: { $0.type == Attr.statHWCounterEntryName })?.string,
                      let value = fields.first(where: { $0.type == Attr.statHWCounterEntryValue })?.u64 else { continue }
                counters.append((name, value))
            }
            return PortCounters(deviceIndex: dev, port: port, counters: counters)
        }
    }

    /// A queue pair's owner from a RES_QP_GET dump: a user process (pid) or a kernel user (name).
    public struct QueuePairOwner: Sendable, Hashable {
        public var deviceIndex: UInt32
        public var deviceName: String?
        public var port: UInt32?
        public var qpNumber: UInt32?
        public var pid: UInt32?
        public var kernelName: String?
    }

    /// Queue pairs in RES_QP_GET replies: `19 → 20 → {3 port, 21 lqpn, 28 pid | 29 kern name}`.
    public static func queuePairs(_ messages: [Message]) throws -> [QueuePairOwner] {
        var out: [QueuePairOwner] = []
        for m in messages where m.type == messageType(.resQPGet) {
            let attrs = try attributes(m.payload[...])
            guard let dev = attrs.first(where: { $0.type == Attr.devIndex })?.u32 else { continue }
            let name = attrs.first { $0.type == Attr.devName }?.string
            for table in attrs where table.type == Attr.resQP {
                for entry in try table.nested() where entry.type == Attr.resQPEntry {
                    let f = try entry.nested()
                    out.append(QueuePairOwner(
                        deviceIndex: dev, deviceName: name,
                        port: f.first { $0.type == Attr.portIndex }?.u32,
                        qpNumber: f.first { $0.type == Attr.resLQPN }?.u32,
                        pid: f.first { $0.type == Attr.resPID }?.u32,
                        kernelName: f.first { $0.type == Attr.resKernName }?.string))
                }
            }
        }
        return out
    }

    /// Little-endian integer of `size` bytes at `offset`; nil when out of range.
    static func loadLE<C: RandomAccessCollection>(_ bytes: C, _ offset: C.Index, _ size: Int) -> UInt64?
    where C.Element == UInt8, C.Index == Int {
        guard offset >= bytes.startIndex, offset + size <= bytes.endIndex else { return nil }
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    /// Little-endian bytes of `value` (low `size` bytes).
    static func le<T: FixedWidthInteger>(_ value: T, _ size: Int) -> [UInt8] {
        let v = UInt64(truncatingIfNeeded: value)
        return (0..<size).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
    }
}
