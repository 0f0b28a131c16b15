import Foundation

/// What a watched device is: a GPU's NVLink ports or an RDMA NIC's ports.
public enum DeviceKind: String, Sendable, Hashable, Codable {
    /// A GPU; its ports are NVLink links.
    case gpu
    /// An RDMA device (InfiniBand, RoCE, EFA); its ports are the device's ports.
    case nic
}

/// How wide a hardware counter is, so a decrease can be told apart from a wrap.
public enum CounterWidth: Sendable, Hashable {
    /// Wraps at 2^32.
    case bits32
    /// Wraps at 2^64.
    case bits64
    /// Not known (sysfs does not say): a decrease from a value that fits in 32 bits is read as a 32-bit wrap.
    case unknown
}

/// One cumulative counter of one port, as the source read it.
///
/// `raw × scale` is the counter in its unit (bytes for byte counters). Counters are kept raw so
/// that wrap arithmetic happens at the width the hardware counts in.
public struct CounterReading: Sendable, Hashable {
    /// The name used across sources (`tx_bytes`, `rx_bytes`, `tx_pkts`, …) or the source's own name.
    public var name: String
    /// The counter's value as read.
    public var raw: UInt64
    /// Multiplier to the counter's unit: 4 for IB `port_xmit_data` (4-byte words), 1024 for NVML KiB.
    public var scale: UInt64
    /// Width for wrap handling.
    public var width: CounterWidth

    public init(name: String, raw: UInt64, scale: UInt64 = 1, width: CounterWidth = .unknown) {
        self.name = name
        self.raw = raw
        self.scale = scale
        self.width = width
    }
}

/// One port (an NVLink link or a NIC port) and its counters.
public struct PortReading: Sendable, Hashable {
    /// Port identifier: the NVLink link index or the RDMA port number, as text.
    public var port: String
    /// Link state as the source reports it (`up`, `down`, `ACTIVE`, …); nil when unknown.
    public var state: String?
    /// Cumulative counters, in the order the source read them.
    public var counters: [CounterReading]

    public init(port: String, state: String? = nil, counters: [CounterReading]) {
        self.port = port
        self.state = state
        self.counters = counters
    }

    /// The counter with this name, if the port has it.
    public func counter(_ name: String) -> CounterReading? { counters.first { $0.name == name } }
}

/// One device (a GPU or an RDMA NIC) at one instant.
public struct DeviceReading: Sendable, Hashable {
    /// Stable display name: `gpu0` (CUDA ordinal) or the RDMA device name (`mlx5_0`, `efa_0`).
    public var name: String
    /// GPU or NIC.
    public var kind: DeviceKind
    /// Extra facts shown in the detail view and JSON (PCI bus id, link layer, rate, processes…), sorted by key when written.
    public var info: [String: String]
    /// The device's ports.
    public var ports: [PortReading]

    public init(name: String, kind: DeviceKind, info: [String: String] = [:], ports: [PortReading]) {
        self.name = name
        self.kind = kind
        self.info = info
        self.ports = ports
    }
}

/// Everything one source read at one instant.
public struct Sample: Sendable, Hashable {
    /// When the counters were read, in seconds on a monotonic clock.
    public var monotonic: Double
    /// Wall-clock time of the read, seconds since 1970 (for JSON and traces).
    public var wallClock: Double
    /// The devices seen, each once.
    public var devices: [DeviceReading]

    public init(monotonic: Double, wallClock: Double, devices: [DeviceReading]) {
        self.monotonic = monotonic
        self.wallClock = wallClock
        self.devices = devices
    }
}

/// A place counters come from: NVML for NVLink, sysfs or RDMA netlink for NICs, or a fake in tests.
///
/// A source lists what it sees on every read, so devices may appear or vanish between reads
/// (hot-plug); the rate math handles both.
public protocol CounterSource: Sendable {
    /// Short name for messages (`nvml`, `sysfs`, `netlink`).
    var name: String { get }
    /// Reads every device's cumulative counters now.
    func read() throws -> [DeviceReading]
}

/// Clocks used to stamp samples; injectable so tests are deterministic.
public struct SampleClock: Sendable {
    /// Monotonic seconds.
    public var monotonic: @Sendable () -> Double
    /// Seconds since 1970.
    public var wall: @Sendable () -> Double

    public init(monotonic: @escaping @Sendable () -> Double, wall: @escaping @Sendable () -> Double) {
        self.monotonic = monotonic
        self.wall = wall
    }

    /// `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
    public static let system = SampleClock(
        monotonic: { SampleClock.read(CLOCK_MONOTONIC) },
        wall: { SampleClock.read(CLOCK_REALTIME) }
    )

    private static func read(_ id: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Reads every source once and stamps the result; a failing source is reported, not fatal.
public struct Sampler: Sendable {
    public var sources: [any CounterSource]
    public var clock: SampleClock

    public init(sources: [any CounterSource], clock: SampleClock = .system) {
        self.sources = sources
        self.clock = clock
    }

    /// One sample of all sources, and one line per source that failed this time.
    public func sample() -> (Sample, [String]) {
        var devices: [DeviceReading] = []
        var problems: [String] = []
        let t = clock.monotonic()
        let wall = clock.wall()
        for source in sources {
            do { devices += try source.read() } catch { problems.append("\(source.name): \(error)") }
        }
        return (Sample(monotonic: t, wallClock: wall, devices: devices), problems)
    }
}
