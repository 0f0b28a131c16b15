import Foundation
import Testing
@testable import Monitor

/// Hand-built RDMA netlink replies (layout from include/uapi/rdma/rdma_netlink.h and linux/netlink.h).
enum NetlinkFixtures {
    /// An RDMA_NLDEV_CMD_STAT_GET reply for device 2 port 1 with two counters, written byte by byte,
    /// including the 4-byte PAD attribute the kernel's `nla_put_u64_64bit` puts before a u64.
    static let statReply: [UInt8] = [
        // nlmsghdr: len 108, type (5<<10)+17 = 0x1411, flags 0, seq 7, pid 0
        0x6c, 0x00, 0x00, 0x00, 0x11, 0x14, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // DEV_INDEX (1) u32 2
        0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
        // PORT_INDEX (3) u32 1
        0x08, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
        // STAT_HWCOUNTERS (80 | NLA_F_NESTED), len 76
        0x4c, 0x00, 0x50, 0x80,
        //   ENTRY (81 | nested), len 36
        0x24, 0x00, 0x51, 0x80,
        //     ENTRY_NAME (82) "tx_bytes\0", len 13, padded to 16
        0x0d, 0x00, 0x52, 0x00, 0x74, 0x78, 0x5f, 0x62, 0x79, 0x74, 0x65, 0x73, 0x00, 0x00, 0x00, 0x00,
        //     PAD (0)
        0x04, 0x00, 0x00, 0x00,
        //     ENTRY_VALUE (83) u64 0x123456789
        0x0c, 0x00, 0x53, 0x00, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00,
        //   ENTRY (81 | nested), len 36
        0x24, 0x00, 0x51, 0x80,
        //     ENTRY_NAME "rx_drops\0"
        0x0d, 0x00, 0x52, 0x00, 0x72, 0x78, 0x5f, 0x64, 0x72, 0x6f, 0x70, 0x73, 0x00, 0x00, 0x00, 0x00,
        0x04, 0x00, 0x00, 0x00,
        //     ENTRY_VALUE u64 5
        0x0c, 0x00, 0x53, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    /// An nlmsgerr reply carrying -EOPNOTSUPP (95).
    static let errorReply: [UInt8] = [
        0x24, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xa1, 0xff, 0xff, 0xff, // error -95
        0x10, 0x00, 0x00, 0x00, 0x11, 0x14, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    // Small independent builders for the longer dump replies.
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)] }
    static func attr(_ type: UInt16, _ payload: [UInt8], nested: Bool = false) -> [UInt8] {
        let len = 4 + payload.count
        let t = type | (nested ? 0x8000 : 0)
        let pad = [UInt8](repeating: 0, count: (4 - len % 4) % 4)
        return [UInt8(len & 0xff), UInt8(len >> 8), UInt8(t & 0xff), UInt8(t >> 8)] + payload + pad
    }
    static func string(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }
    static func message(type: UInt16, flags: UInt16, seq: UInt32, _ attrs: [UInt8]) -> [UInt8] {
        le32(UInt32(16 + attrs.count)) + [UInt8(type & 0xff), UInt8(type >> 8), UInt8(flags & 0xff), UInt8(flags >> 8)]
            + le32(seq) + le32(0) + attrs
    }

    /// A GET dump: mlx5_0 (index 1, 1 port), efa_0 (index 2, 1 port), then NLMSG_DONE.
    static let deviceDump: [UInt8] =
        message(type: 0x1401, flags: 2, seq: 3, attr(1, le32(1)) + attr(2, string("mlx5_0")) + attr(3, le32(1)) + attr(5, string("28.39.1002")))
        + message(type: 0x1401, flags: 2, seq: 3, attr(1, le32(2)) + attr(2, string("efa_0")) + attr(3, le32(1)))
        + message(type: 3, flags: 2, seq: 3, le32(0))

    /// A RES_QP_GET dump for efa_0: two QPs of pid 4242, one of the kernel's ib_core.
    static let qpDump: [UInt8] = {
        func qp(_ lqpn: UInt32, _ owner: [UInt8]) -> [UInt8] { attr(20, attr(3, le32(1)) + attr(21, le32(lqpn)) + owner, nested: true) }
        let table = attr(19, qp(17, attr(28, le32(4242))) + qp(18, attr(28, le32(4242))) + qp(1, attr(29, string("ib_core"))), nested: true)
        return message(type: 0x140a, flags: 2, seq: 9, attr(1, le32(2)) + attr(2, string("efa_0")) + table)
            + message(type: 3, flags: 2, seq: 9, le32(0))
    }()
}

@Suite struct RDMANetlinkTests {
    @Test func requestLayout() {
        let bytes = RDMANetlink.request(.statGet, flags: RDMANetlink.flagRequest, sequence: 7, u32Attributes: [(1, 2), (3, 1)])
        #expect(bytes == [
            0x20, 0, 0, 0, 0x11, 0x14, 0x01, 0x00, 7, 0, 0, 0, 0, 0, 0, 0,
            8, 0, 1, 0, 2, 0, 0, 0,
            8, 0, 3, 0, 1, 0, 0, 0,
        ])
        #expect(RDMANetlink.messageType(.get) == 0x1401)
        #expect(RDMANetlink.messageType(.resQPGet) == 0x140a)
    }

    @Test func parsesHardwareCounters() throws {
        let messages = try RDMANetlink.messages(NetlinkFixtures.statReply)
        #expect(messages.count == 1)
        let ports = try RDMANetlink.portCounters(messages)
        #expect(ports.count == 1)
        #expect(ports[0].deviceIndex == 2 && ports[0].port == 1)
        #expect(ports[0].counters.map(\.0) == ["tx_bytes", "rx_drops"])
        #expect(ports[0].counters.map(\.1) == [0x1_2345_6789, 5])
    }

    @Test func parsesDeviceDump() throws {
        let devices = try RDMANetlink.devices(RDMANetlink.messages(NetlinkFixtures.deviceDump))
        #expect(devices == [
            RDMANetlink.Device(index: 1, name: "mlx5_0", lastPort: 1),
            RDMANetlink.Device(index: 2, name: "efa_0", lastPort: 1),
        ])
    }

    @Test func parsesQueuePairOwnersAndNamesProcesses() throws {
        let qps = try RDMANetlink.queuePairs(RDMANetlink.messages(NetlinkFixtures.qpDump))
        #expect(qps.count == 3)
        #expect(qps.map(\.pid) == [4242, 4242, nil])
        #expect(qps.map(\.qpNumber) == [17, 18, 1])
        #expect(qps[2].kernelName == "ib_core")
        #expect(qps[0].deviceName == "efa_0")
        let proc = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-proc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: proc + "/4242", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: proc) }
        try "python3\n".write(toFile: proc + "/4242/comm", atomically: false, encoding: .utf8)
        #expect(RDMAProcesses.describe(qps, procRoot: proc) == ["4242 python3", "[ib_core]"])
    }

    @Test func errorReplyThrowsWithErrno() {
        #expect(throws: RDMANetlink.ParseError.self) { try RDMANetlink.messages(NetlinkFixtures.errorReply) }
        do { _ = try RDMANetlink.messages(NetlinkFixtures.errorReply) } catch {
            #expect("\(error)".hasPrefix("netlink error 95"))
        }
    }

    @Test func truncatedRepliesThrow() {
        var cut = NetlinkFixtures.statReply
        cut.removeLast(10)
        #expect(throws: RDMANetlink.ParseError.self) { try RDMANetlink.messages(cut) }
        // A message whose attribute overruns the message.
        var bad = NetlinkFixtures.statReply
        bad[16] = 0x40
        #expect(throws: RDMANetlink.ParseError.self) { try RDMANetlink.portCounters(RDMANetlink.messages(bad)) }
    }

    @Test func annotatesNICsWithOwners() throws {
        let base = ScriptedSource([[Support.nic("efa_0", tx: 0, rx: 0), Support.gpu("gpu0", tx: [0], rx: [0])]])
        let source = ProcessAnnotatingSource(base: base, owners: { ["efa_0": ["4242 python3", "[ib_core]"]] })
        let devices = try source.read()
        #expect(devices[0].info["processes"] == "4242 python3, [ib_core]")
        #expect(devices[1].info["processes"] == nil)
    }
}
