import Driver
import Measure

/// `nvshmem put` and `nvshmem get` bandwidth: PE A moves `size` bytes to or from PE B, one way.
extension P2POp: BenchmarkDescriptor {
    /// The results rows' `benchmark`.
    public var key: String { "\(rawValue)_bw" }
    public var summary: String {
        self == .put ? "PE A writes size bytes into PE B's symmetric buffer (device- or host-initiated), one way"
            : "PE A reads size bytes of PE B's symmetric buffer into its own (device- or host-initiated), one way"
    }
    public var family: BenchmarkFamily { .nvshmem }
    /// Each sample: one launch (or on-stream call sequence) of --inner operations between CUDA events.
    public var timings: [TimingStrategy] { [.events] }
    /// One direction's bytes: algbw = size / time, never the sum of both directions; no bus factor.
    public func accounting(bytes: Int, ranks: Int) -> Accounting { .bandwidth(bytes: bytes, algbwFactor: 1, busFactor: 1) }
    public func applicability(_ shape: JobShape) -> Applicability { shape.requires(ranks: 2, nvshmem: true) }
}

/// `nvshmem latency`: p, g, put and get one at a time, timed by the GPU clock inside the kernel.
extension P2PLatency.Op: BenchmarkDescriptor {
    public var key: String { benchmark }
    public var summary: String {
        switch self {
        case .p: return "nvshmem_longlong_p of one 8-byte word + nvshmem_quiet, one at a time"
        case .g: return "nvshmem_longlong_g of one 8-byte word, each waiting for the last"
        case .put: return "nvshmem[x]_putmem + nvshmem_quiet, one at a time"
        case .get: return "blocking nvshmem[x]_getmem, one at a time"
        }
    }
    public var family: BenchmarkFamily { .nvshmem }
    public var timings: [TimingStrategy] { [.deviceClock] }
    public func accounting(bytes: Int, ranks: Int) -> Accounting { .latency }
    public func applicability(_ shape: JobShape) -> Applicability { shape.requires(ranks: 2, nvshmem: true) }
}

/// `nvshmem signal`: put + signal answered by signal_wait_until, one-way latency of the ping-pong.
public struct SignalPingPong: BenchmarkDescriptor {
    public init() {}
    public var key: String { "signal_pingpong" }
    public var summary: String { "put + signal ping-pong between PE A and PE B, one-way latency (round trip / 2)" }
    public var family: BenchmarkFamily { .nvshmem }
    public var timings: [TimingStrategy] { [.deviceClock] }
    public func accounting(bytes: Int, ranks: Int) -> Accounting { .latency }
    public func applicability(_ shape: JobShape) -> Applicability { shape.requires(ranks: 2, nvshmem: true) }
}
