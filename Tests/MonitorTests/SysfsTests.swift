import Foundation
import Testing
@testable import Monitor
@testable import GPU

@Suite struct SysfsRDMASourceTests {
    @Test func readsEFAHardwareCountersInBytes() throws {
        let source = SysfsRDMASource(sysRoot: Support.fixture("sys-efa"))
        #expect(source.deviceNames() == ["efa_0", "efa_1", "efa_2", "efa_3"])
        let devices = try source.read()
        #expect(devices.count == 4)
        let efa1 = devices[1]
        #expect(efa1.kind == .nic)
        #expect(efa1.ports.map(\.port) == ["1"])
        #expect(efa1.ports[0].state == "ACTIVE")
        #expect(efa1.info["link_layer"] == "Unspecified")
        #expect(efa1.info["port1_rate"] == "100 Gb/sec (4X EDR)")
        let tx = try #require(efa1.ports[0].counter("tx_bytes"))
        #expect(tx.raw == 2_000_000_000 && tx.scale == 1)
        #expect(efa1.ports[0].counter("rx_bytes")?.raw == 4_000_000_000)
        #expect(efa1.ports[0].counter("rdma_write_bytes")?.raw == 500_000_000)
        #expect(efa1.ports[0].counter("retrans_pkts")?.raw == 1)
        // `lifespan` is a setting, not a counter.
        #expect(efa1.ports[0].counter("lifespan") == nil)
    }

    @Test func readsIBPortCountersAsFourByteWords() throws {
        let devices = try SysfsRDMASource(sysRoot: Support.fixture("sys-mlx5")).read()
        #expect(devices.map(\.name) == ["mlx5_0", "mlx5_1"])
        let port = devices[0].ports[0]
        let tx = try #require(port.counter("tx_bytes"))
        #expect(tx.raw == 250_000_000 && tx.scale == 4)
        #expect(Format.cumulative(tx) == "1000000000")
        #expect(port.counter("rx_bytes")?.scale == 4)
        #expect(port.counter("port_xmit_data") == nil)
        #expect(port.counter("tx_pkts")?.scale == 1)
        #expect(port.counter("rx_write_requests")?.raw == 250_000_000 / 64)
        #expect(devices[0].info["link_layer"] == "InfiniBand")
        #expect(devices[1].ports[0].state == "DOWN")
        #expect(devices[1].ports.allSatisfy { !PortRates(port: $0.port, state: $0.state, rates: [:]).isUp })
    }

    @Test func ratesFromChangingFilesWithHotPlug() throws {
        let root = try Support.copyOfFixture("sys-mlx5")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let source = SysfsRDMASource(sysRoot: root)
        var calc = RateCalculator()
        _ = calc.update(Sample(monotonic: 0, wallClock: 0, devices: try source.read()))
        let port = root + "/class/infiniband/mlx5_0/ports/1/counters/"
        try Support.write(250_000_000 + 1000, to: port + "port_xmit_data")
        try FileManager.default.removeItem(atPath: root + "/class/infiniband/mlx5_1")
        let snap = calc.update(Sample(monotonic: 2, wallClock: 2, devices: try source.read()))
        // 1000 words in 2 s = 2000 bytes/s.
        #expect(snap.devices[0].ports[0].rate("tx_bytes") == 2000)
        #expect(snap.devices[0].ports[0].rate("rx_bytes") == 0)
        #expect(snap.events.map(\.description) == ["mlx5_1 vanished"])
    }

    @Test func missingRootHasNoDevices() throws {
        let source = SysfsRDMASource(sysRoot: "/nonexistent-gpucomm-root")
        #expect(source.deviceNames().isEmpty)
        #expect(try source.read().isEmpty)
    }

    @Test func stateAndLinkHelpers() throws {
        #expect(SysfsRDMASource.stateName("4: ACTIVE") == "ACTIVE")
        #expect(SysfsRDMASource.stateName("up") == "up")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-link-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/device", withDestinationPath: "../../../0000:10:1c.0")
        #expect(SysfsFiles.linkTarget(dir + "/device") == "0000:10:1c.0")
        try "0x1f\n".write(toFile: dir + "/hex", atomically: false, encoding: .utf8)
        #expect(SysfsFiles.readUInt(dir + "/hex") == 31)
    }
}

@Suite struct NVLinkGroupingTests {
    @Test func groupsFieldValuesByLinkAndScalesKiB() {
        func v(_ field: UInt32, _ link: UInt32, _ value: UInt64?) -> NVMLFieldValue {
            NVMLFieldValue(field: field, scope: link, timestampUs: 0, value: value, error: value == nil ? 3 : 0)
        }
        let values = [v(138, 0, 10), v(139, 0, 20), v(140, 0, 11), v(141, 0, 21),
                      v(138, 1, 5), v(139, 1, nil), v(140, 1, 6), v(141, 1, nil)]
        let ports = NVLinkSource.ports(links: [(0, true), (1, false)], values: values)
        #expect(ports.map(\.port) == ["0", "1"])
        #expect(ports.map(\.state) == ["up", "down"])
        #expect(ports[0].counters.map(\.name) == ["tx_bytes", "rx_bytes", "tx_raw_bytes", "rx_raw_bytes"])
        #expect(ports[0].counter("rx_bytes")?.raw == 20)
        #expect(ports[0].counter("rx_bytes")?.scale == 1024)
        #expect(ports[0].counter("tx_bytes")?.width == .bits64)
        // A field NVML could not read is left out, not shown as zero.
        #expect(ports[1].counters.map(\.name) == ["tx_bytes", "tx_raw_bytes"])
    }
}

@Suite struct GPUNamingTests {
    @Test func pciOrderWithoutCUDA() {
        #expect(NVLinkSource.names(pciBusIds: ["0000:b8:00.0", "0000:18:00.0", "0000:5a:00.0"], ordinalByPCI: nil) == [2, 0, 1])
    }

    @Test func cudaOrdinalsWhenKnown() {
        let map = ["0000:18:00.0": 1, "0000:b8:00.0": 0]
        #expect(NVLinkSource.names(pciBusIds: ["0000:B8:00.0", "0000:18:00.0", "0000:5a:00.0"], ordinalByPCI: map) == [0, 1, 2])
    }
}
