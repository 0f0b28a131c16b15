import Foundation
import GoldenFiles
import Testing
@testable import Monitor

/// Helpers shared by the monitor tests: fixtures, goldens, scripted samples.
enum Support {
    /// A fixture folder from the test bundle (`Fixtures/<name>`).
    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }

    /// The `Golden/` folder beside this file (read, and written on mismatch).
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Compares `text` with `Golden/<name>` (GoldenFile: `.actual` on mismatch, GPUCOMM_UPDATE_GOLDEN=1 rewrites).
    static func checkGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try GoldenFile.check(text, golden: goldenDirectory.appendingPathComponent(name), sourceLocation: sourceLocation)
        } catch {
            Issue.record("golden \(name): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A temporary copy of a fixture tree (to change counters between reads).
    static func copyOfFixture(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-top-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appendingPathComponent(name)
        try FileManager.default.copyItem(atPath: fixture(name), toPath: target.path)
        return target.path
    }

    static func write(_ value: UInt64, to path: String) throws {
        try "\(value)\n".write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A GPU with `links` NVLink ports; `tx[i]`/`rx[i]` are link i's cumulative KiB.
    static func gpu(_ name: String, tx: [UInt64], rx: [UInt64], down: Set<Int> = []) -> DeviceReading {
        DeviceReading(name: name, kind: .gpu, info: ["pci": "0000:\(name.suffix(1))8:00.0"], ports: tx.indices.map { i in
            PortReading(port: String(i), state: down.contains(i) ? "down" : "up", counters: [
                CounterReading(name: "tx_bytes", raw: tx[i], scale: 1024, width: .bits64),
                CounterReading(name: "rx_bytes", raw: rx[i], scale: 1024, width: .bits64),
                CounterReading(name: "tx_raw_bytes", raw: tx[i] + tx[i] / 16, scale: 1024, width: .bits64),
                CounterReading(name: "rx_raw_bytes", raw: rx[i] + rx[i] / 16, scale: 1024, width: .bits64),
            ])
        })
    }

    /// An EFA-like NIC with one port and byte/packet counters.
    static func nic(_ name: String, tx: UInt64, rx: UInt64, drops: UInt64 = 0, retrans: UInt64 = 0, width: CounterWidth = .bits64) -> DeviceReading {
        DeviceReading(name: name, kind: .nic, info: ["link_layer": "Unspecified"], ports: [
            PortReading(port: "1", state: "ACTIVE", counters: [
                CounterReading(name: "tx_bytes", raw: tx, width: width),
                CounterReading(name: "rx_bytes", raw: rx, width: width),
                CounterReading(name: "tx_pkts", raw: tx / 8192, width: width),
                CounterReading(name: "rx_pkts", raw: rx / 8192, width: width),
                CounterReading(name: "rx_drops", raw: drops, width: width),
                CounterReading(name: "retrans_pkts", raw: retrans, width: width),
            ]),
        ])
    }

    /// Start of the scripted samples' wall clock: 2026-11-21T12:00:00Z.
    static let wallStart = 1_795_262_400.0

    static func sample(_ t: Double, _ devices: [DeviceReading]) -> Sample {
        Sample(monotonic: 1000 + t, wallClock: wallStart + t, devices: devices)
    }

    /// The scenario behind the view goldens: two GPUs over 4 links (gpu1 uneven, one link down),
    /// four NICs whose transmit is spread evenly but whose receive lands on efa_0 (the multi-NIC finding).
    static func scenario() -> [Sample] {
        let gib: UInt64 = 1 << 30
        let s0 = sample(0, [
            gpu("gpu0", tx: [100, 100, 100, 100], rx: [200, 200, 200, 200]),
            gpu("gpu1", tx: [0, 0, 0, 0], rx: [0, 0, 0, 0], down: [3]),
            nic("efa_0", tx: 1000, rx: 1000), nic("efa_1", tx: 1000, rx: 1000),
            nic("efa_2", tx: 1000, rx: 1000), nic("efa_3", tx: 1000, rx: 1000),
        ])
        let kib = gib / 1024 // 1 GiB in KiB: 1 GiB/s per link over 1 s
        let s1 = sample(1, [
            gpu("gpu0", tx: [100 + kib, 100 + kib, 100 + kib, 100 + kib], rx: [200 + kib, 200 + kib, 200 + kib, 200 + kib]),
            gpu("gpu1", tx: [4 * kib, kib, kib, 0], rx: [kib, kib, kib, 0], down: [3]),
            nic("efa_0", tx: 1000 + 3 * gib, rx: 1000 + 12 * gib, drops: 7, retrans: 3),
            nic("efa_1", tx: 1000 + 3 * gib, rx: 1000),
            nic("efa_2", tx: 1000 + 3 * gib, rx: 1000),
            nic("efa_3", tx: 1000 + 3 * gib, rx: 1000),
        ])
        return [s0, s1]
    }

    /// Snapshots of a sequence of samples.
    static func snapshots(_ samples: [Sample], threshold: Double = 1.5) -> [Snapshot] {
        var calc = RateCalculator(imbalancePolicy: ImbalancePolicy(threshold: threshold))
        return samples.map { calc.update($0) }
    }
}

/// A source that returns scripted readings, one per call, repeating the last.
final class ScriptedSource: CounterSource, @unchecked Sendable {
    let name = "scripted"
    private let lock = NSLock()
    private var readings: [[DeviceReading]]

    init(_ readings: [[DeviceReading]]) { self.readings = readings }

    func read() throws -> [DeviceReading] {
        lock.lock()
        defer { lock.unlock() }
        return readings.count > 1 ? readings.removeFirst() : readings[0]
    }
}
