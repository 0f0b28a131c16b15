import Foundation

/// Difference of two reads of one cumulative counter, with wraps and resets told apart.
public enum CounterDelta {
    /// How far the counter moved from `old` to `new`, in raw counts; nil when it was reset.
    ///
    /// A counter that went down either wrapped or was reset (driver reload, device reset).
    /// It is read as a wrap at the counter's width (32 bits for `.unknown` when `old` fits in
    /// 32 bits, else 64) when the wrapped distance is at most half the counter's range, and as
    /// a reset otherwise: a reset gives no rate for that interval rather than a huge one.
    public static func delta(old: UInt64, new: UInt64, width: CounterWidth) -> UInt64? {
        if new >= old { return new - old }
        let bits: Int
        switch width {
        case .bits32: bits = 32
        case .bits64: bits = 64
        case .unknown: bits = old <= UInt64(UInt32.max) ? 32 : 64
        }
        if bits == 32 {
            guard old <= UInt64(UInt32.max), new <= UInt64(UInt32.max) else { return nil }
            let d = (UInt64(1) << 32) - old + new
            return d <= (UInt64(1) << 31) ? d : nil
        }
        let d = new &- old
        return d <= (UInt64(1) << 63) ? d : nil
    }
}

/// Rates of one port over the last interval.
public struct PortRates: Sendable, Hashable {
    public var port: String
    public var state: String?
    /// Counter name → units per second (bytes/s for byte counters). A counter absent here had no rate (first read, reset, new port).
    public var rates: [String: Double]

    /// Rate of one counter; nil when unknown.
    public func rate(_ name: String) -> Double? { rates[name] }
    /// False when the source says the link or port is down (such ports are left out of imbalance).
    public var isUp: Bool {
        guard let s = state?.lowercased() else { return true }
        return !(s.contains("down") || s.contains("inactive") || s.contains("disabled") || s.contains("polling"))
    }
}

/// Rates of one device: per port and summed over its ports.
public struct DeviceRates: Sendable, Hashable {
    public var name: String
    public var kind: DeviceKind
    public var info: [String: String]
    public var ports: [PortRates]
    /// Counter name → sum over the ports that have a rate for it.
    public var totals: [String: Double]
    /// True when the device was not in the previous sample (first sample, or hot-plugged).
    public var isNew: Bool
}

/// What changed between two samples, beyond the numbers.
public struct MonitorEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable { case appeared, vanished, reset }
    public var kind: Kind
    public var device: String
    public var port: String?
    public var counter: String?

    public var description: String {
        switch kind {
        case .appeared: return "\(device) appeared"
        case .vanished: return "\(device) vanished"
        case .reset: return "\(device) port \(port ?? "?") \(counter ?? "?") went backwards (reset): no rate this interval"
        }
    }
}

/// One refresh of the monitor: the latest read, rates since the previous read, imbalance, events.
public struct Snapshot: Sendable {
    /// The latest read (cumulative counters).
    public var sample: Sample
    /// Seconds since the previous read; nil on the first read.
    public var interval: Double?
    public var devices: [DeviceRates]
    public var imbalance: [Imbalance]
    public var events: [MonitorEvent]
    /// Seconds since the monitor's first read.
    public var elapsed: Double
}

/// Turns successive samples into rates; remembers only the previous sample.
public struct RateCalculator: Sendable {
    public var imbalancePolicy: ImbalancePolicy
    private var previous: Sample?
    private var first: Double?

    public init(imbalancePolicy: ImbalancePolicy = ImbalancePolicy()) {
        self.imbalancePolicy = imbalancePolicy
    }

    /// Rates between the previous sample (if any) and this one; then this one becomes the previous.
    public mutating func update(_ sample: Sample) -> Snapshot {
        defer { previous = sample }
        if first == nil { first = sample.monotonic }
        let dt = previous.map { sample.monotonic - $0.monotonic }
        let old = Dictionary((previous?.devices ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var events: [MonitorEvent] = []
        var devices: [DeviceRates] = []
        for device in sample.devices {
            let before = old[device.name]
            if previous != nil && before == nil { events.append(MonitorEvent(kind: .appeared, device: device.name)) }
            var ports: [PortRates] = []
            var totals: [String: Double] = [:]
            for port in device.ports {
                var rates: [String: Double] = [:]
                let beforePort = before?.ports.first { $0.port == port.port }
                if let dt, dt > 0, let beforePort {
                    for c in port.counters {
                        guard let b = beforePort.counter(c.name) else { continue }
                        if let d = CounterDelta.delta(old: b.raw, new: c.raw, width: c.width) {
                            rates[c.name] = Double(d) * Double(c.scale) / dt
                        } else {
                            events.append(MonitorEvent(kind: .reset, device: device.name, port: port.port, counter: c.name))
                        }
                    }
                }
                for (k, v) in rates { totals[k, default: 0] += v }
                ports.append(PortRates(port: port.port, state: port.state, rates: rates))
            }
            devices.append(DeviceRates(name: device.name, kind: device.kind, info: device.info,
                                       ports: ports, totals: totals, isNew: before == nil))
        }
        let now = Set(sample.devices.map(\.name))
        for name in old.keys.sorted() where !now.contains(name) {
            events.append(MonitorEvent(kind: .vanished, device: name))
        }
        return Snapshot(sample: sample, interval: dt, devices: devices,
                        imbalance: imbalancePolicy.evaluate(devices), events: events,
                        elapsed: sample.monotonic - (first ?? sample.monotonic))
    }
}
