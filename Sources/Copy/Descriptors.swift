import Driver

/// Who moves the bytes of a copy: the GPU's copy engines (`cuMemcpy*Async`) or a kernel on its SMs (`gc_copy_sm`).
public enum CopyEngine: String, Sendable, CaseIterable {
    case ce
    case sm

    /// The results rows' `backend`.
    public var backend: String { self == .ce ? "copy_engine" : "sm_kernel" }
}

/// What a copy benchmark moves, between which memories (nvbandwidth's test set, docs/copy.md).
public enum CopyPattern: String, Sendable, CaseIterable {
    case hostToDevice = "host_to_device"
    case deviceToHost = "device_to_host"
    /// Host→device and device→host at once, on two streams of the same GPU.
    case hostDeviceBidirectional = "host_device_bidirectional"
    /// A copy inside one GPU's memory (the device's own copy ceiling).
    case deviceLocal = "device_local"
    /// GPU row reads GPU column's memory into its own (the copy is issued by the reader).
    case deviceToDeviceRead = "device_to_device_read"
    /// GPU row writes its memory into GPU column's (the copy is issued by the writer).
    case deviceToDeviceWrite = "device_to_device_write"
    /// Both GPUs of a pair read from each other at once.
    case deviceToDeviceBidirectionalRead = "device_to_device_bidirectional_read"
    /// Both GPUs of a pair write into each other at once.
    case deviceToDeviceBidirectionalWrite = "device_to_device_bidirectional_write"
    /// One GPU writes to every other GPU at once.
    case oneToAll = "one_to_all"
    /// Every other GPU writes into one GPU at once.
    case allToOne = "all_to_one"
    /// Every GPU copies to host memory at once.
    case allToHost = "all_to_host"
    /// Host memory is copied to every GPU at once.
    case hostToAll = "host_to_all"
    /// One thread chases pointers through host memory (the GPU's load-to-use latency over PCIe).
    case hostDeviceLatency = "host_device_latency"
    /// One thread on GPU row chases pointers through GPU column's memory (the diagonal: its own memory).
    case deviceToDeviceLatency = "device_to_device_latency"

    /// Whether host memory is one end (the host memory kind applies).
    public var usesHost: Bool {
        [.hostToDevice, .deviceToHost, .hostDeviceBidirectional, .allToHost, .hostToAll, .hostDeviceLatency].contains(self)
    }

    public var isLatency: Bool { self == .hostDeviceLatency || self == .deviceToDeviceLatency }

    /// GPUs the pattern needs.
    public var minimumGPUs: Int {
        switch self {
        case .hostToDevice, .deviceToHost, .hostDeviceBidirectional, .deviceLocal, .hostDeviceLatency, .deviceToDeviceLatency: return 1
        default: return 2
        }
    }

    /// The engines it runs with: latency is a kernel's load, the rest both.
    public var engines: [CopyEngine] { isLatency ? [.sm] : CopyEngine.allCases }
}

/// One copy benchmark: a pattern moved by one engine. Its key is nvbandwidth's testcase name
/// where nvbandwidth has the test (`host_to_device_memcpy_ce`, `device_local_copy`, …).
public struct CopyBenchmark: BenchmarkDescriptor, Hashable {
    public var pattern: CopyPattern
    public var engine: CopyEngine

    public init(_ pattern: CopyPattern, _ engine: CopyEngine) {
        self.pattern = pattern; self.engine = engine
    }

    public var key: String {
        switch pattern {
        case .hostDeviceLatency: return "host_device_latency_sm"
        case .deviceToDeviceLatency: return "device_to_device_latency_sm"
        case .deviceLocal: return "device_local_copy_\(engine.rawValue)"
        case .deviceToDeviceRead: return "device_to_device_memcpy_read_\(engine.rawValue)"
        case .deviceToDeviceWrite: return "device_to_device_memcpy_write_\(engine.rawValue)"
        case .deviceToDeviceBidirectionalRead: return "device_to_device_bidirectional_memcpy_read_\(engine.rawValue)"
        case .deviceToDeviceBidirectionalWrite: return "device_to_device_bidirectional_memcpy_write_\(engine.rawValue)"
        default: return "\(pattern.rawValue)_memcpy_\(engine.rawValue)"
        }
    }

    public var summary: String {
        let by = engine == .ce ? "copy engine (cuMemcpyAsync)" : "SM kernel"
        switch pattern {
        case .hostToDevice: return "host to device copy by \(by)"
        case .deviceToHost: return "device to host copy by \(by)"
        case .hostDeviceBidirectional: return "host to device and device to host at once by \(by)"
        case .deviceLocal: return "copy within one GPU's memory by \(by): the device's copy ceiling"
        case .deviceToDeviceRead: return "every GPU pair: the row GPU reads the column GPU's memory by \(by)"
        case .deviceToDeviceWrite: return "every GPU pair: the row GPU writes the column GPU's memory by \(by)"
        case .deviceToDeviceBidirectionalRead: return "every GPU pair reads from each other at once by \(by)"
        case .deviceToDeviceBidirectionalWrite: return "every GPU pair writes into each other at once by \(by)"
        case .oneToAll: return "one GPU writes to every other GPU at once by \(by)"
        case .allToOne: return "every other GPU writes into one GPU at once by \(by)"
        case .allToHost: return "every GPU copies to host memory at once by \(by)"
        case .hostToAll: return "host memory copied to every GPU at once by \(by)"
        case .hostDeviceLatency: return "pointer chase by one GPU thread through host memory: load latency over PCIe"
        case .deviceToDeviceLatency: return "pointer chase by one GPU thread through a peer's memory (diagonal: its own)"
        }
    }

    public var family: BenchmarkFamily { .copy }

    /// Host loop by default (as `nccl`); latency reads CUDA events around each chase.
    public var timings: [TimingStrategy] { pattern.isLatency ? [.events] : [.hostLoop, .events] }

    /// algbw = the bytes one copy moves (per direction, and per GPU for the patterns that move
    /// `bytes` once per peer or GPU, summed over them); busbw = every byte over the links (both
    /// directions of a bidirectional copy) or, for a local copy, the memory traffic (read + write).
    public func accounting(bytes: Int, ranks: Int) -> Accounting {
        switch pattern {
        case .hostDeviceLatency, .deviceToDeviceLatency: return .latency
        case .hostToDevice, .deviceToHost, .deviceToDeviceRead, .deviceToDeviceWrite:
            return .bandwidth(bytes: bytes, algbwFactor: 1, busFactor: 1)
        case .deviceLocal: return .bandwidth(bytes: bytes, algbwFactor: 1, busFactor: 2)
        case .hostDeviceBidirectional, .deviceToDeviceBidirectionalRead, .deviceToDeviceBidirectionalWrite:
            return .bandwidth(bytes: bytes, algbwFactor: 1, busFactor: 2)
        case .oneToAll, .allToOne: return .bandwidth(bytes: bytes, algbwFactor: Double(max(ranks - 1, 1)), busFactor: 1)
        case .allToHost, .hostToAll: return .bandwidth(bytes: bytes, algbwFactor: Double(max(ranks, 1)), busFactor: 1)
        }
    }

    public func applicability(_ shape: JobShape) -> Applicability {
        shape.requires(ranks: pattern.minimumGPUs)
    }

    /// Every copy benchmark, in the order `gpucomm copy` runs them.
    public static let all: [CopyBenchmark] = CopyPattern.allCases.flatMap { p in p.engines.map { CopyBenchmark(p, $0) } }

    /// The benchmark with this key, or nil.
    public static func named(_ key: String) -> CopyBenchmark? { all.first { $0.key == key } }
}

extension CopyBenchmark {
    /// The groups `gpucomm copy` takes besides keys.
    public static let groups: [String: @Sendable (CopyPattern) -> Bool] = [
        "all": { _ in true },
        "host": { $0.usesHost && !$0.isLatency },
        "local": { $0 == .deviceLocal },
        "peer": { !$0.usesHost && !$0.isLatency && $0 != .deviceLocal },
        "latency": { $0.isLatency },
    ]

    /// The benchmarks named by `tokens` (keys or groups), moved by `engines` (latency is always
    /// the SM's), in registry order without repeats; the first token that names nothing, if any.
    public static func select(_ tokens: [String], engines: [CopyEngine]) -> Result<[CopyBenchmark], CopyWaiver> {
        var chosen = Set<CopyBenchmark>()
        for t in tokens {
            if let g = groups[t] {
                chosen.formUnion(all.filter { g($0.pattern) && ($0.pattern.isLatency || engines.contains($0.engine)) })
            } else if let b = named(t) {
                chosen.insert(b)
            } else {
                return .failure(CopyWaiver(t))
            }
        }
        return .success(all.filter { chosen.contains($0) })
    }
}
