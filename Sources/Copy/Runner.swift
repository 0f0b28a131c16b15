import Driver
import GPU

/// One measured (or waived) cell of a copy benchmark at one size.
public struct CopyResult: Sendable {
    public var benchmark: CopyBenchmark
    public var cell: CopyCell
    /// The host memory used, for the patterns with a host end.
    public var memory: HostMemoryChoice?
    public var bytes: Int
    public var measurement: Measurement?
    /// Why the cell did not run (N/A in the matrix).
    public var waiver: String?
    public var limit: CopyLimit?
    /// For latency: loads chased per operation (the time per load is the operation's time / hops).
    public var hops: Int?

    public init(benchmark: CopyBenchmark, cell: CopyCell, memory: HostMemoryChoice?, bytes: Int, measurement: Measurement?,
                waiver: String?, limit: CopyLimit?, hops: Int? = nil) {
        self.benchmark = benchmark; self.cell = cell; self.memory = memory; self.bytes = bytes
        self.measurement = measurement; self.waiver = waiver; self.limit = limit; self.hops = hops
    }

    /// Microseconds per operation, or per load for latency.
    public var timeUs: Double? { measurement.map { $0.timeUs / Double(hops ?? 1) } }

    public var bandwidth: (algbw: Double, busbw: Double)? {
        guard let t = measurement?.timeUs, t > 0 else { return nil }
        return benchmark.accounting(bytes: bytes, ranks: cell.devices.count).bandwidth(microseconds: t)
    }

    /// What the matrix shows: algbw (GB/s), or the latency (µs per load).
    public var matrixValue: Double? { benchmark.pattern.isLatency ? timeUs : bandwidth?.algbw }
}

/// Runs copy benchmarks on every visible GPU of one process: buffers allocated once per end at
/// the largest size and reused (per host memory choice), each cell checked and timed by the driver.
public final class CopyRunner {
    public let devices: [CopyDevice]
    public let calls: HostCopyCalls
    public let driver: BenchmarkDriver
    public let plan: TimingPlan
    public let topology: CopyTopology
    let maxBytes: Int
    let numaNodes: [Int]
    private var buffers: [String: CopyMemory] = [:]
    private var hostKind: HostBuffer.Kind?
    private var seed: UInt32 = 1

    public init(devices: [CopyDevice], calls: HostCopyCalls, driver: BenchmarkDriver, plan: TimingPlan, topology: CopyTopology,
                maxBytes: Int, numaNodes: [Int]) {
        self.devices = devices; self.calls = calls; self.driver = driver; self.plan = plan; self.topology = topology
        self.maxBytes = maxBytes; self.numaNodes = numaNodes
    }

    /// Measures every cell of `b` at every size in `sizes` (ascending), handing each result to `report` as it completes.
    public func run(_ b: CopyBenchmark, memory: HostMemoryChoice, sizes: [Int], chain: PointerChain, hops: Int,
                    report: (CopyResult) throws -> Void) throws {
        let layout = CopyLayout(b, gpus: devices.count)
        for cell in layout.cells {
            let mem: HostMemoryChoice? = b.pattern.usesHost ? memory : nil
            let limit = topology.limit(b, cell)
            func waive(_ why: String) throws {
                for s in (b.pattern.isLatency ? [chain.bytes] : sizes) {
                    try report(CopyResult(benchmark: b, cell: cell, memory: mem, bytes: s, measurement: nil, waiver: why, limit: limit))
                }
            }
            if let why = try waiver(b, cell, memory: mem) { try waive(why); continue }
            let kind: HostBuffer.Kind?
            switch mem.map({ hostKind(for: $0, gpu: cell.legs[0].issuer) }) {
            case let .failure(w)?: try waive(w.reason); continue
            case let .success(k)?: kind = k
            case nil: kind = nil
            }
            if b.pattern.isLatency {
                let r = try measureChase(b, cell, kind: kind, chain: chain, hops: hops)
                try report(CopyResult(benchmark: b, cell: cell, memory: mem, bytes: chain.bytes, measurement: r, waiver: nil, limit: nil, hops: hops))
                continue
            }
            for s in sizes {
                let w = try workload(b, cell, kind: kind, bytes: s)
                let m = try driver.measure(w, plan, label: "copy \(b.key) \(cell.legs.map { "\($0.source)->\($0.destination)" }.joined(separator: ",")) \(s) B")
                driver.tally(m.wrong)
                try report(CopyResult(benchmark: b, cell: cell, memory: mem, bytes: s, measurement: m, waiver: nil, limit: limit))
            }
        }
    }

    /// Why a cell cannot run here, or nil.
    func waiver(_ b: CopyBenchmark, _ cell: CopyCell, memory: HostMemoryChoice?) throws -> String? {
        if memory == .pageable && (b.engine == .sm || b.pattern.isLatency) { return "an SM kernel cannot address pageable memory" }
        for l in cell.legs {
            for end in [l.source, l.destination] {
                guard case let .device(d) = end, d != l.issuer else { continue }
                let a = devices[l.issuer].device, p = devices[d].device
                guard try a.canAccessPeer(p) else { return "no peer access from GPU \(l.issuer) to GPU \(d)" }
                try a.enablePeerAccess(to: p)
                try p.enablePeerAccess(to: a)
            }
        }
        return nil
    }

    /// The host buffer kind for `choice` next to GPU `gpu`, or why it does not apply.
    func hostKind(for choice: HostMemoryChoice, gpu: Int) -> Result<HostBuffer.Kind, CopyWaiver> {
        switch choice {
        case .pinned: return .success(.pinned)
        case .pageable: return .success(.pageable)
        case .numaLocal, .numaRemote:
            let gpuNode = NUMATopology.node(ofPCIDevice: devices[gpu].device.pciBusId)
            return choice.node(gpuNode: gpuNode, nodes: numaNodes).map { .numaNode($0!) }
        }
    }

    /// Memory `role` at `end`, allocated at the largest size once and kept (host memory per kind).
    func memory(_ end: CopyEnd, role: String, kind: HostBuffer.Kind?, near gpu: Int) throws -> CopyMemory {
        if let k = kind, k != hostKind {  // a new host memory choice: let the old host buffers go
            buffers = buffers.filter { if case .host = $0.value { return false }; return true }
            hostKind = k
        }
        let key = "\(end) \(role)"
        if let m = buffers[key] { return m }
        let m: CopyMemory
        switch end {
        case let .device(d): m = .device(try DeviceBuffer(device: devices[d].device, bytes: maxBytes))
        case .host: m = .host(try HostBuffer(calls: calls, device: devices[gpu].device, bytes: maxBytes, kind: kind ?? .pinned))
        }
        buffers[key] = m
        return m
    }

    /// The workload of one cell at `bytes`: a source per end (shared by the legs reading it), a destination per leg.
    func workload(_ b: CopyBenchmark, _ cell: CopyCell, kind: HostBuffer.Kind?, bytes: Int) throws -> CopyWorkload {
        var perIssuer: [Int: Int] = [:]
        for l in cell.legs { perIssuer[l.issuer, default: 0] += 1 }
        var next: [Int: Int] = [:]
        var legs: [RunningLeg] = []
        for (i, l) in cell.legs.enumerated() {
            let src = try memory(l.source, role: "source", kind: kind, near: l.issuer)
            let dst = try memory(l.destination, role: "destination \(i)", kind: kind, near: l.issuer)
            let d = devices[l.issuer]
            let k = next[l.issuer, default: 1]
            next[l.issuer] = k + 1
            let blocks = max(1, d.device.multiprocessors * 2 / perIssuer[l.issuer]!)
            legs.append(try RunningLeg(leg: l, source: src, destination: dst, issuer: d, stream: try d.stream(k),
                                       engine: b.engine, bytes: bytes, blocks: blocks))
        }
        seed &+= 1000
        let main = legs.count == 1 ? legs[0].stream : try devices[cell.legs[0].issuer].main()
        return try CopyWorkload(legs: legs, devices: devices, main: main, calls: calls, bytes: bytes, seed: seed)
    }

    /// One latency cell: the chain written into the memory at the leg's source, chased from its issuer.
    func measureChase(_ b: CopyBenchmark, _ cell: CopyCell, kind: HostBuffer.Kind?, chain: PointerChain, hops: Int) throws -> Measurement {
        let l = cell.legs[0]
        let d = devices[l.issuer]
        let address: DeviceAddress
        let staging = try HostBuffer(calls: calls, device: d.device, bytes: chain.bytes, kind: kind ?? .pinned)
        chain.write(to: staging.pointer)
        var keep: DeviceBuffer?
        switch l.source {
        case .host: address = staging.deviceAddress!
        case let .device(j):
            let buf = try DeviceBuffer(device: devices[j].device, bytes: chain.bytes)
            try devices[j].device.makeCurrent()
            let s = try devices[j].stream(0)
            try calls.copy(fromHost: staging.pointer, to: buf.address, bytes: chain.bytes, on: s)
            try s.synchronize()
            address = buf.address
            keep = buf
        }
        let w = try ChaseWorkload(issuer: d, stream: try d.stream(1), chain: address, hops: hops, expected: chain.end(after: hops))
        var p = plan
        p.strategy = .events
        let m = try withExtendedLifetime((staging, keep)) {
            try driver.measure(w, p, label: "copy \(b.key) \(l.source) from GPU \(l.issuer)")
        }
        driver.tally(m.wrong)
        return m
    }
}
