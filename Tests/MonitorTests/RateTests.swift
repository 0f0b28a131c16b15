import Foundation
import Testing
@testable import Monitor

@Suite struct CounterDeltaTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var old: UInt64, new: UInt64, width: CounterWidth, expected: UInt64?
        var testDescription: String { "\(old)→\(new) \(width)" }
    }

    static let cases: [Case] = [
        Case(old: 10, new: 25, width: .bits64, expected: 15),
        Case(old: 7, new: 7, width: .unknown, expected: 0),
        // 32-bit wrap: 0xFFFF_FF00 → 0x100 moved 0x200.
        Case(old: 0xFFFF_FF00, new: 0x100, width: .bits32, expected: 0x200),
        Case(old: 0xFFFF_FF00, new: 0x100, width: .unknown, expected: 0x200),
        // 64-bit wrap near the top.
        Case(old: UInt64.max - 9, new: 5, width: .bits64, expected: 15),
        Case(old: UInt64.max - 9, new: 5, width: .unknown, expected: 15),
        // A big 64-bit value falling to a small one is a reset, not a wrap.
        Case(old: 1_000_000_000_000, new: 10, width: .bits64, expected: nil),
        Case(old: 1_000_000_000_000, new: 10, width: .unknown, expected: nil),
        // A 32-bit counter falling by more than half its range is a reset.
        Case(old: 100, new: 50, width: .bits32, expected: nil),
        Case(old: 3_000_000_000, new: 100, width: .unknown, expected: 1_294_967_396),
    ]

    @Test(arguments: cases)
    func delta(_ c: Case) {
        #expect(CounterDelta.delta(old: c.old, new: c.new, width: c.width) == c.expected)
    }
}

@Suite struct RateCalculatorTests {
    @Test func firstSampleHasNoRatesThenRatesAreScaled() {
        let snaps = Support.snapshots([
            Support.sample(0, [Support.gpu("gpu0", tx: [0, 0], rx: [0, 0])]),
            Support.sample(0.5, [Support.gpu("gpu0", tx: [1024, 2048], rx: [0, 512])]),
        ])
        #expect(snaps[0].interval == nil)
        #expect(snaps[0].devices[0].ports[0].rates.isEmpty)
        #expect(snaps[0].devices[0].isNew)
        let gpu = snaps[1].devices[0]
        #expect(snaps[1].interval == 0.5)
        // 1024 KiB in 0.5 s = 2 MiB/s.
        #expect(gpu.ports[0].rate("tx_bytes") == 2.0 * 1_048_576)
        #expect(gpu.ports[1].rate("tx_bytes") == 4.0 * 1_048_576)
        #expect(gpu.totals["tx_bytes"] == 6.0 * 1_048_576)
        #expect(gpu.totals["rx_bytes"] == 1_048_576.0)
        #expect(!gpu.isNew)
        #expect(snaps[1].elapsed == 0.5)
    }

    @Test func wrapGivesTheRateAndResetGivesNone() {
        let snaps = Support.snapshots([
            Support.sample(0, [Support.nic("mlx5_0", tx: 0xFFFF_FF00, rx: 1 << 40, width: .unknown)]),
            Support.sample(1, [Support.nic("mlx5_0", tx: 0x100, rx: 5, width: .unknown)]),
        ])
        let nic = snaps[1].devices[0]
        #expect(nic.ports[0].rate("tx_bytes") == 512)
        #expect(nic.ports[0].rate("rx_bytes") == nil)
        #expect(snaps[1].events.contains(MonitorEvent(kind: .reset, device: "mlx5_0", port: "1", counter: "rx_bytes")))
    }

    @Test func hotPlugAppearsAndVanishes() {
        let snaps = Support.snapshots([
            Support.sample(0, [Support.nic("efa_0", tx: 0, rx: 0), Support.nic("efa_1", tx: 0, rx: 0)]),
            Support.sample(1, [Support.nic("efa_0", tx: 100, rx: 0), Support.nic("efa_2", tx: 7, rx: 0)]),
            Support.sample(2, [Support.nic("efa_0", tx: 200, rx: 0), Support.nic("efa_2", tx: 17, rx: 0)]),
        ])
        #expect(snaps[1].events.map(\.description) == ["efa_2 appeared", "efa_1 vanished"])
        let plugged = snaps[1].devices.first { $0.name == "efa_2" }!
        #expect(plugged.isNew && plugged.ports[0].rates.isEmpty)
        #expect(snaps[2].devices.first { $0.name == "efa_2" }!.ports[0].rate("tx_bytes") == 10)
        #expect(snaps[2].events.isEmpty)
    }
}

@Suite struct ImbalanceTests {
    @Test(arguments: [
        ([1.0, 1.0, 1.0, 1.0], 1.0),
        ([4.0, 0.0, 0.0, 0.0], 4.0),
        ([3.0, 1.0], 1.5),
    ])
    func ratio(_ values: [Double], _ expected: Double) {
        #expect(ImbalancePolicy.ratio(values) == expected)
    }

    @Test func ratioNeedsTwoMembersAndTraffic() {
        #expect(ImbalancePolicy.ratio([5]) == nil)
        #expect(ImbalancePolicy.ratio([0, 0, 0]) == nil)
    }

    @Test func scenarioFlagsReceiveOnOneNICAndUnevenLinks() {
        let snap = Support.snapshots(Support.scenario())[1]
        let groups = Dictionary(uniqueKeysWithValues: snap.imbalance.map { ($0.group, $0) })
        let nics = groups["nics"]!
        #expect(nics.members == 4)
        #expect(abs(nics.tx! - 1.0) < 1e-9)
        #expect(abs(nics.rx! - 4.0) < 1e-6)
        #expect(nics.busiestRx == "efa_0")
        #expect(nics.flagged)
        let gpu0 = groups["gpu0"]!
        #expect(gpu0.members == 4 && !gpu0.flagged && abs(gpu0.tx! - 1) < 1e-9)
        // gpu1: link 3 is down and left out; tx 4,1,1 → max/mean = 4/2 = 2.
        let gpu1 = groups["gpu1"]!
        #expect(gpu1.members == 3)
        #expect(abs(gpu1.tx! - 2.0) < 1e-9)
        #expect(gpu1.flagged)
    }

    @Test func idleGroupsAreNeverFlagged() {
        var policy = ImbalancePolicy(threshold: 1.5)
        policy.floorBytesPerSecond = 1e6
        let snaps = Support.snapshots([
            Support.sample(0, [Support.nic("a", tx: 0, rx: 0), Support.nic("b", tx: 0, rx: 0)]),
            Support.sample(1, [Support.nic("a", tx: 1000, rx: 0), Support.nic("b", tx: 0, rx: 0)]),
        ])
        let nics = policy.evaluate(snaps[1].devices)[0]
        #expect(nics.tx == 2.0)
        #expect(!nics.flagged)
    }

    @Test func thresholdDecides() {
        let devices = Support.snapshots(Support.scenario())[1].devices
        #expect(ImbalancePolicy(threshold: 4.5).evaluate(devices).first { $0.group == "nics" }!.flagged == false)
        #expect(ImbalancePolicy(threshold: 3.5).evaluate(devices).first { $0.group == "nics" }!.flagged == true)
    }
}
