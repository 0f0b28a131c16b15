import Foundation
import GPU
import Testing
@testable import Monitor

/// The pieces of the cheaper NVLink sampling that need no GPU: request shapes, GPM byte accounting
/// through the same rate math as every other counter, and the self-cost arithmetic.
@Suite struct CostTests {
    @Test func oneFieldRequestListPerGPU() {
        let sums = NVLinkSource.fieldRequests(upLinks: [0, 1, 2], fields: [138, 139], perLink: false)
        #expect(sums.map(\.field) == [138, 139])
        #expect(sums.allSatisfy { $0.scope == UInt32.max })
        let links = NVLinkSource.fieldRequests(upLinks: [0, 2], fields: [138, 139], perLink: true)
        #expect(links.map(\.field) == [138, 139, 138, 139])
        #expect(links.map(\.scope) == [0, 0, 2, 2])
    }

    @Test func gpmMetricIdsFollowNVMLHeader() {
        // nvml.h: NVLINK_TOTAL_RX 60, TOTAL_TX 61, L0_RX 62, L0_TX 63, …, L17_RX 96, L17_TX 97.
        #expect(NVLinkSource.gpmMetrics(upLinks: [0, 17], perLink: false) == [61, 60])
        #expect(NVLinkSource.gpmMetrics(upLinks: [0, 17], perLink: true) == [63, 62, 97, 96])
        #expect(NVLinkSource.gpmMetrics(upLinks: [], perLink: true) == [61, 60])
    }

    /// Constant GPM rates become counters whose rates, through RateCalculator, are the same rates in bytes/s.
    @Test(arguments: [0.1, 1.0]) func gpmRatesSurviveTheRateMath(interval: Double) {
        var acc = GPMAccumulator()
        var calc = RateCalculator()
        let ids = NVLinkSource.gpmMetrics(upLinks: [0, 1], perLink: true)
        let links: [(link: Int, up: Bool)] = [(0, true), (1, true), (2, false)]
        // MiB/s per link: link 0 TX 20000 RX 10000, link 1 TX 500 RX 0.
        let values: [UInt32: Double] = [63: 20000, 62: 10000, 65: 500, 64: 0]
        var last: Snapshot?
        for i in 0..<4 {
            let t = 100 + Double(i) * interval
            acc.add(i == 0 ? nil : ids.map { ($0, values[$0]) }, ids: ids, at: t)
            let ports = NVLinkSource.gpmPorts(links: links, perLink: true, totals: acc.bytes)
            last = calc.update(Sample(monotonic: t, wallClock: t, devices: [DeviceReading(name: "gpu0", kind: .gpu, ports: ports)]))
            if i == 1 { #expect(last?.devices[0].ports[0].rates["tx_bytes"] != nil, "rates from the second sample on") }
        }
        let p = last!.devices[0].ports
        #expect(abs(p[0].rates["tx_bytes"]! - 20000 * 1_048_576) < 1e3)
        #expect(abs(p[0].rates["rx_bytes"]! - 10000 * 1_048_576) < 1e3)
        #expect(abs(p[1].rates["tx_bytes"]! - 500 * 1_048_576) < 1e3)
        #expect(p[1].rates["rx_bytes"] == 0)
        #expect(p[2].rates.isEmpty && p[2].state == "down")
        #expect(abs(last!.devices[0].totals["tx_bytes"]! - 20500 * 1_048_576) < 1e3)
    }

    @Test func gpmSumsAreOnePortAndAFailedMetricAddsNothing() {
        var acc = GPMAccumulator()
        let ids: [UInt32] = [61, 60]
        acc.add(nil, ids: ids, at: 0)
        #expect(acc.bytes == [61: 0, 60: 0])
        acc.add([(61, 1), (60, nil)], ids: ids, at: 2)
        #expect(acc.bytes == [61: 2 * 1_048_576, 60: 0])
        let ports = NVLinkSource.gpmPorts(links: [(0, true)], perLink: false, totals: acc.bytes)
        #expect(ports.count == 1 && ports[0].port == "all")
        #expect(ports[0].counter("tx_bytes")?.raw == 2 * 1_048_576 && ports[0].counter("rx_bytes")?.raw == 0)
        #expect(NVLinkSource.gpmPorts(links: [(0, true)], perLink: false, totals: [:]).isEmpty)
    }

    @Test func selfCostSplitsStartupFromSteadyState() {
        let start = CPUSnapshot(wall: 10, user: 0.01, system: 0.02)
        let first = CPUSnapshot(wall: 10.5, user: 0.05, system: 0.15)
        let end = CPUSnapshot(wall: 30.5, user: 0.25, system: 0.35)
        let c = SelfCost(start: start, first: first, end: end, samples: 200)
        #expect(abs(c.startupCPU - 0.2) < 1e-9 && abs(c.startupWall - 0.5) < 1e-9)
        #expect(abs(c.steadyPercent - 2.0) < 1e-9) // 0.4 s CPU over 20 s
        #expect(abs(c.totalPercent - 0.6 / 20.5 * 100) < 1e-9)
        #expect(abs(c.msPerSample - 2.0) < 1e-9)
        let o = try? JSONSerialization.jsonObject(with: Data(c.jsonLine.utf8)) as? [String: [String: Any]]
        #expect(o?["self_cost"]?["steady_pct_core"] as? Double == 2.0)
        #expect(o?["self_cost"]?["samples"] as? Int == 200)
    }

    @Test func selfCostLineFromTheLoop() throws {
        let box = Collected()
        var c = MonitorConfig()
        c.view = .json
        c.interval = 0.02
        c.count = 2
        c.selfCostStart = .now()
        let monitor = LiveMonitor(sampler: Sampler(sources: [ScriptedSource([[Support.nic("efa_0", tx: 0, rx: 0)]])]), config: c,
                                  output: { box.text += $0 }, diagnostics: { box.diagnostics.append($0) })
        try monitor.run()
        let line = try #require(box.diagnostics.last)
        let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: [String: Any]]
        #expect(o["self_cost"]?["samples"] as? Int == 2)
        #expect((o["self_cost"]?["steady_wall_s"] as? Double ?? 0) >= 0.03)
    }
}
