import Foundation

/// Everything one `simulate nic-selection` run needs.
public struct NICSimulation: Sendable, Equatable {
    public var topology: NICTopology
    public var pattern: TrafficPattern
    /// Chunk (packet) size in bytes; a message is cut into chunks of this size, the last one shorter.
    public var chunkBytes: Int64
    /// Chunks a PE keeps in flight; 0 = no limit (every chunk posted at time 0).
    public var window: Int
    /// Time bins for the per-NIC load over time.
    public var bins: Int

    public init(topology: NICTopology, pattern: TrafficPattern, chunkBytes: Int64, window: Int = 0, bins: Int = 10) {
        self.topology = topology
        self.pattern = pattern
        self.chunkBytes = chunkBytes
        self.window = window
        self.bins = bins
    }

    /// Rejects impossible parameters before any work, naming the field.
    public func validate() throws {
        try topology.validate()
        if chunkBytes < 1 { throw SimulationInputError("--chunk-size must be at least 1 byte (got \(chunkBytes))") }
        if window < 0 { throw SimulationInputError("--window must be 0 (no limit) or more (got \(window))") }
        if bins < 1 || bins > 1000 { throw SimulationInputError("--bins must be 1...1000 (got \(bins))") }
        switch pattern {
        case .allToAll(let b), .ring(let b):
            if b < 1 { throw SimulationInputError("--message-size must be at least 1 byte (got \(b))") }
        case .moeDispatch(let b, let skew):
            if b < 1 { throw SimulationInputError("--message-size must be at least 1 byte (got \(b))") }
            if !(skew >= 0) || !skew.isFinite { throw SimulationInputError("--skew must be 0 or more (got \(skew))") }
        case .matrix(let m):
            try TrafficPattern.checkShape(m, pes: topology.pes, file: "matrix")
        }
        if case .moeDispatch(let b, _) = pattern, Double(b) * Double(topology.pes) > 0x1p62 {
            throw SimulationInputError("--message-size × PEs is more than 2^62 bytes per PE")
        }
        let cells = topology.pes * topology.nicsPerGPU * bins  // ≤ 2048 × 64 × 1000: no overflow
        if cells > Self.maxTimelineCells {
            throw SimulationInputError("\(topology.pes) PEs × \(topology.nicsPerGPU) NICs × \(bins) bins is more than \(Self.maxTimelineCells) timeline cells: lower --bins or --nics-per-gpu (docs/simulate.md, 'Limits')")
        }
        let chunks = try chunkCount()
        if chunks > Self.maxChunks {
            throw SimulationInputError("\(chunks) inter-node chunks to simulate is more than \(Self.maxChunks), the most simulate handles within 10 s and 1 GB: raise --chunk-size or lower --message-size (docs/simulate.md, 'Limits')")
        }
    }

    /// Most PEs a simulation takes: the bytes matrix is PEs² entries.
    public static let maxPEs = 2048
    /// Most NICs per GPU.
    public static let maxNICsPerGPU = 64
    /// Most NICs × time bins (each a tx and an rx timeline cell).
    public static let maxTimelineCells = 250_000
    /// Most inter-node chunks a simulation takes (memory grows by ~200 bytes per chunk and policy run;
    /// docs/simulate.md gives the measured time and memory at this limit).
    public static let maxChunks = 1_000_000

    /// Inter-node chunks the run will simulate, counted without overflow (saturating past `maxChunks`).
    public func chunkCount() throws -> Int {
        let m = pattern.bytes(pes: topology.pes)
        var n = 0
        var total: Int64 = 0
        for s in 0..<topology.pes {
            for d in 0..<topology.pes {
                let (t, o) = total.addingReportingOverflow(m[s][d])
                if o || t > 1 << 62 { throw SimulationInputError("the traffic is more than 2^62 bytes in all") }
                total = t
                if topology.node(of: s) == topology.node(of: d) { continue }
                let c = m[s][d] / chunkBytes + (m[s][d] % chunkBytes > 0 ? 1 : 0)
                n += Int(min(c, Int64(Self.maxChunks + 1)))
                if n > Self.maxChunks { return n }
            }
        }
        return n
    }

    /// Runs every policy in `policies`, in the order given.
    public func run(policies: [NICPolicy]) throws -> NICSimulationReport {
        try validate()
        let matrix = pattern.bytes(pes: topology.pes)
        var inter: Int64 = 0
        var intra: Int64 = 0
        for s in 0..<topology.pes {
            for d in 0..<topology.pes {
                if topology.node(of: s) == topology.node(of: d) { intra += matrix[s][d] } else { inter += matrix[s][d] }
            }
        }
        let results = policies.map { simulate(policy: $0, matrix: matrix) }
        return NICSimulationReport(
            topology: topology, pattern: pattern.name, chunkBytes: chunkBytes, window: window,
            interNodeBytes: inter, intraNodeBytes: intra, results: results)
    }

    /// One chunk in a sender's posting order.
    struct Chunk { var dst: Int; var bytes: Int64 }

    /// The sender's posting order: destinations (pe + i) mod PEs for i = 1…, inter-node only,
    /// one chunk per destination per round (all destinations in progress at once).
    func postingOrder(src: Int, matrix: [[Int64]]) -> [Chunk] {
        let p = topology.pes
        var remaining: [(dst: Int, left: Int64)] = []
        for i in 1..<max(p, 1) {
            let d = (src + i) % p
            if topology.node(of: d) != topology.node(of: src), matrix[src][d] > 0 { remaining.append((d, matrix[src][d])) }
        }
        var order: [Chunk] = []
        while !remaining.isEmpty {
            var next: [(dst: Int, left: Int64)] = []
            for r in remaining {
                let b = min(r.left, chunkBytes)
                order.append(Chunk(dst: r.dst, bytes: b))
                if r.left > b { next.append((r.dst, r.left - b)) }
            }
            remaining = next
        }
        return order
    }

    /// The discrete-event run of one policy.
    func simulate(policy: NICPolicy, matrix: [[Int64]]) -> PolicyResult {
        let p = topology.pes
        let k = topology.nicsPerGPU
        let rate = topology.lineRateGBps * 1e9
        let orders = (0..<p).map { postingOrder(src: $0, matrix: matrix) }
        var chooser = NICChooser(policy: policy, pes: p, nics: k)
        var txFree = Array(repeating: 0.0, count: p * k)
        var rxFree = Array(repeating: 0.0, count: p * k)
        var txBytes = Array(repeating: Int64(0), count: p * k)
        var rxBytes = Array(repeating: Int64(0), count: p * k)
        var next = Array(repeating: 0, count: p)
        var inFlight = Array(repeating: 0, count: p)
        // Intervals kept for the timeline: (nic, start, end, bytes).
        var txSpans: [(Int, Double, Double, Int64)] = []
        var rxSpans: [(Int, Double, Double, Int64)] = []
        var queue = EventQueue()
        var inFlightChunks: [InFlight] = []
        for s in 0..<p { queue.push(time: 0, kind: .post(s)) }
        var finish = 0.0
        while let e = queue.pop() {
            switch e.kind {
            case .post(let s), .done(let s):
                if case .done = e.kind { inFlight[s] -= 1 }
                while next[s] < orders[s].count && (window == 0 || inFlight[s] < window) {
                    let c = orders[s][next[s]]
                    next[s] += 1
                    inFlight[s] += 1
                    let nic = chooser.choose(src: s, dst: c.dst, bytes: c.bytes)
                    let tx = s * k + nic
                    let duration = Double(c.bytes) / rate
                    let start = max(e.time, txFree[tx])
                    txFree[tx] = start + duration
                    txBytes[tx] += c.bytes
                    txSpans.append((tx, start, start + duration, c.bytes))
                    inFlightChunks.append(InFlight(src: s, rx: c.dst * k + nic, bytes: c.bytes, txStart: start, duration: duration))
                    queue.push(time: start + duration, kind: .arrive(inFlightChunks.count - 1))
                }
            case .arrive(let i):
                let c = inFlightChunks[i]
                // The rx NIC takes chunks in arrival order at line rate; it can overlap the
                // sender's transmission (cut-through) but not end before it.
                let rxStart = max(c.txStart, rxFree[c.rx])
                let rxEnd = max(e.time, rxStart + c.duration)
                rxFree[c.rx] = rxEnd
                rxBytes[c.rx] += c.bytes
                rxSpans.append((c.rx, rxEnd - c.duration, rxEnd, c.bytes))
                finish = max(finish, rxEnd)
                queue.push(time: rxEnd, kind: .done(c.src))
            }
        }
        let bound = Double(max(txBytes.max() ?? 0, rxBytes.max() ?? 0)) / rate
        let binSeconds = finish > 0 ? finish / Double(bins) : 0
        let txTimeline = NICSimulation.timeline(txSpans, nics: p * k, bins: bins, binSeconds: binSeconds)
        let rxTimeline = NICSimulation.timeline(rxSpans, nics: p * k, bins: bins, binSeconds: binSeconds)
        let loads = (0..<(p * k)).map { i in
            NICLoad(pe: i / k, node: topology.node(of: i / k), nic: i % k, txBytes: txBytes[i], rxBytes: rxBytes[i],
                    txOverTime: txTimeline[i], rxOverTime: rxTimeline[i])
        }
        let perBin = (0..<bins).map { b in Imbalance.maxOverMean(rxTimeline.map { $0[b] }) }
        let busyBins = perBin.filter { $0 > 0 }
        return PolicyResult(
            policy: policy, completionSeconds: finish, busiestNICSeconds: bound,
            txImbalance: Imbalance.maxOverMean(txBytes.map(Double.init)),
            rxImbalance: Imbalance.maxOverMean(rxBytes.map(Double.init)),
            rxImbalanceOverTime: busyBins.isEmpty ? 0 : busyBins.reduce(0, +) / Double(busyBins.count),
            binSeconds: binSeconds, nics: loads)
    }

    /// Spreads each span's bytes evenly over its duration and sums them per NIC and time bin.
    static func timeline(_ spans: [(Int, Double, Double, Int64)], nics: Int, bins: Int, binSeconds: Double) -> [[Double]] {
        var t = Array(repeating: Array(repeating: 0.0, count: bins), count: nics)
        guard binSeconds > 0 else { return t }
        for (nic, start, end, bytes) in spans {
            let first = min(bins - 1, Int(start / binSeconds))
            let last = min(bins - 1, Int((end / binSeconds).nextDown))
            if first >= last || end <= start { t[nic][max(0, first)] += Double(bytes); continue }
            for b in first...last {
                let lo = max(start, Double(b) * binSeconds)
                let hi = b == bins - 1 ? end : min(end, Double(b + 1) * binSeconds)
                if hi > lo { t[nic][b] += Double(bytes) * (hi - lo) / (end - start) }
            }
        }
        return t
    }
}

/// Load ratios.
public enum Imbalance {
    /// max / mean of `values`; 0 when all are zero (no load is not an imbalance).
    public static func maxOverMean(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return mean > 0 ? (values.max() ?? 0) / mean : 0
    }
}

struct InFlight { var src: Int; var rx: Int; var bytes: Int64; var txStart: Double; var duration: Double }

/// A binary min-heap of events ordered by (time, insertion order): deterministic ties.
struct EventQueue {
    enum Kind { case post(Int), arrive(Int), done(Int) }
    struct Event { var time: Double; var seq: Int; var kind: Kind }
    private var heap: [Event] = []
    private var seq = 0

    mutating func push(time: Double, kind: Kind) {
        heap.append(Event(time: time, seq: seq, kind: kind))
        seq += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if less(heap[i], heap[parent]) { heap.swapAt(i, parent); i = parent } else { break }
        }
    }

    mutating func pop() -> Event? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return top
    }

    private func less(_ a: Event, _ b: Event) -> Bool { a.time < b.time || (a.time == b.time && a.seq < b.seq) }
}
