import Foundation
import GPU

/// NVLink traffic per GPU and per link from NVML field values.
///
/// Fields (nvml.h `NVML_FI_DEV_NVLINK_THROUGHPUT_*`): 138/139 data TX/RX, 140/141 raw TX/RX
/// (with protocol overhead), cumulative KiB, read as the all-links sum (`scopeId` = `UINT_MAX`, port `all`) by default, per
/// link (`scopeId` = link index) with `perLink`; when no per-link value can be read, the sum is shown.
///
/// GPUs are named `gpuN` where N is the GPU's position in PCI bus id order: the CUDA ordinal
/// under `CUDA_DEVICE_ORDER=PCI_BUS_ID`, and CUDA's default order on machines with identical
/// GPUs. `top` does not load CUDA (it would create a context beside the job it watches); the
/// NVML index, PCI bus id and UUID are in each GPU's details.
public struct NVLinkSource: CounterSource {
    public let name = "nvml"
    public let nvml: NVML
    /// Also read the raw (with protocol overhead) counters (field values only).
    public let includeRaw: Bool
    /// Read every link's counters instead of the GPU's all-links sum.
    public let perLink: Bool
    /// Field values (cumulative KiB) or GPM (rates, Hopper and later).
    public let method: NVLinkMethod
    /// Monotonic seconds, for turning GPM rates into byte counts.
    let clock: @Sendable () -> Double = SampleClock.system.monotonic
    private let state = State()

    /// Seconds between re-reads of the static facts (device list, names, link states); after a failed read, 10 s.
    static let refreshSeconds: Double = 60
    static let refreshAfterErrorSeconds: Double = 10

    /// What does not change between samples (device list, names, PCI ids, link states) and each GPU's
    /// reader (its field-value batch or GPM sampler, allocated once). Every NVML call costs a driver
    /// round trip (0.2–0.5 ms of kernel time on Hopper), so only the counters are read per sample.
    final class State: @unchecked Sendable {
        struct GPU {
            let device: NVMLDevice
            let name: String
            var info: [String: String]
            let links: [(link: Int, up: Bool)]
            var reader: Reader
        }
        enum Reader {
            /// One `nvmlDeviceGetFieldValues` call per sample; `perLink` false means the all-links sums.
            case fields(NVMLFieldBatch, perLink: Bool)
            case gpm(NVMLGPMReader, GPMAccumulator)
            case unavailable(String)
        }
        let lock = NSLock()
        var gpus: [GPU] = []
        var taken: Double?
        var failed = false
        var scratch: [NVMLFieldValue] = []
    }

    public init(nvml: NVML, includeRaw: Bool = false, perLink: Bool = false, method: NVLinkMethod = .fields) {
        self.nvml = nvml
        self.includeRaw = includeRaw && method == .fields
        self.perLink = perLink
        self.method = method
    }

    /// Counter names for the throughput fields, with NVML's KiB scaled to bytes.
    static let fields: [(field: UInt32, name: String)] = [
        (NVMLField.nvlinkThroughputDataTX, "tx_bytes"),
        (NVMLField.nvlinkThroughputDataRX, "rx_bytes"),
        (NVMLField.nvlinkThroughputRawTX, "tx_raw_bytes"),
        (NVMLField.nvlinkThroughputRawRX, "rx_raw_bytes"),
    ]
    var readFields: [(field: UInt32, name: String)] { includeRaw ? Self.fields : Array(Self.fields.prefix(2)) }

    public func read() throws -> [DeviceReading] {
        state.lock.lock()
        defer { state.lock.unlock() }
        let now = clock()
        let fresh = state.taken.map { now - $0 < (state.failed ? Self.refreshAfterErrorSeconds : Self.refreshSeconds) } ?? false
        if !fresh { try refresh(now: now) }
        var out: [DeviceReading] = []
        out.reserveCapacity(state.gpus.count)
        for i in state.gpus.indices { out.append(readGPU(i)) }
        return out
    }

    /// Re-reads the static facts and builds each GPU's reader.
    /// A GPU whose PCI id and up links did not change keeps its reader (a GPM reader keeps its
    /// previous sample and byte totals, so a refresh costs no rate).
    func refresh(now: Double) throws {
        let old = Dictionary(state.gpus.map { ($0.info["pci"] ?? $0.name, $0) }, uniquingKeysWith: { a, _ in a })
        state.gpus = []
        let found = try nvml.devices().map { d in (device: d, pci: (try? d.pciBusId()) ?? "nvml\(d.index)") }
        // `top` loads no CUDA, so it has no CUDA ordinals: PCI bus id order names the GPUs.
        let ordinals = Self.names(pciBusIds: found.map(\.pci), ordinalByPCI: nil)
        state.gpus = found.indices.sorted { ordinals[$0] < ordinals[$1] }.map { i in
            let d = found[i].device
            var info = ["pci": found[i].pci, "nvml_index": String(d.index)]
            if let model = try? d.name() { info["model"] = model }
            if let uuid = try? d.uuid() { info["uuid"] = uuid }
            let links = (0..<nvmlMaxLinks).compactMap { l in d.nvlinkActive(l).map { (link: l, up: $0) } }
            info["links_up"] = String(links.filter(\.up).count)
            let reader: State.Reader
            if let was = old[found[i].pci], was.links.map(\.link) == links.map(\.link), was.links.map(\.up) == links.map(\.up),
               !Self.isUnavailable(was.reader) {
                reader = was.reader
                info["nvlink_counters"] = was.info["nvlink_counters"]
            } else {
                reader = makeReader(d, links: links)
                info["nvlink_counters"] = Self.describe(reader)
            }
            return State.GPU(device: d, name: "gpu\(ordinals[i])", info: info, links: links, reader: reader)
        }
        state.taken = now
        state.failed = false
    }

    func makeReader(_ d: NVMLDevice, links: [(link: Int, up: Bool)]) -> State.Reader {
        let up = links.filter(\.up).map(\.link)
        switch method {
        case .fields:
            let perLinkHere = perLink && !up.isEmpty
            return .fields(NVMLFieldBatch(device: d, requests: Self.fieldRequests(upLinks: up, fields: readFields.map(\.field), perLink: perLinkHere)),
                           perLink: perLinkHere)
        case .gpm:
            do {
                return .gpm(try NVMLGPMReader(device: d, metricIds: Self.gpmMetrics(upLinks: up, perLink: perLink)), GPMAccumulator())
            } catch {
                return .unavailable("gpm: \(error)")
            }
        }
    }

    static func isUnavailable(_ r: State.Reader) -> Bool {
        if case .unavailable = r { return true }
        return false
    }

    static func describe(_ r: State.Reader) -> String {
        switch r {
        case .fields(let b, let perLink): return "nvml fields, \(perLink ? "per link" : "all-links sums"), \(b.requests.count) values in one call"
        case .gpm(let g, _): return "nvml gpm, \(g.metricIds.count) metrics"
        case .unavailable(let why): return "unavailable: \(why)"
        }
    }

    /// Every field for every up link (per link) or for the all-links scope, in one request list.
    static func fieldRequests(upLinks: [Int], fields: [UInt32], perLink: Bool) -> [(field: UInt32, scope: UInt32)] {
        perLink ? upLinks.flatMap { l in fields.map { ($0, UInt32(l)) } } : fields.map { ($0, NVMLField.allLinks) }
    }

    /// GPM metric ids: TX and RX of every up link, or the totals.
    static func gpmMetrics(upLinks: [Int], perLink: Bool) -> [UInt32] {
        perLink && !upLinks.isEmpty
            ? upLinks.flatMap { [NVMLGPMMetric.nvlinkTX(link: $0), NVMLGPMMetric.nvlinkRX(link: $0)] }
            : [NVMLGPMMetric.nvlinkTotalTX, NVMLGPMMetric.nvlinkTotalRX]
    }

    /// One GPU's reading. A failed read leaves the GPU without counters this time and asks for a refresh.
    func readGPU(_ i: Int) -> DeviceReading {
        let g = state.gpus[i]
        var ports: [PortReading] = []
        switch g.reader {
        case .fields(let batch, let perLinkHere):
            do {
                try batch.read(into: &state.scratch)
                if perLinkHere {
                    ports = Self.ports(links: g.links, values: state.scratch)
                    if ports.allSatisfy({ $0.counters.isEmpty }) {
                        // No per-link value readable (older driver): use the sums from now on.
                        let sums = NVMLFieldBatch(device: g.device, requests: Self.fieldRequests(upLinks: [], fields: readFields.map(\.field), perLink: false))
                        state.gpus[i].reader = .fields(sums, perLink: false)
                        state.gpus[i].info["nvlink_counters"] = Self.describe(state.gpus[i].reader) + " (per-link values not readable)"
                        return readGPU(i)
                    }
                } else {
                    let counters = Self.counters(state.scratch)
                    ports = counters.isEmpty ? [] : [PortReading(port: "all", state: nil, counters: counters)]
                }
            } catch {
                state.failed = true
            }
        case .gpm(let reader, var acc):
            do {
                let metrics = try reader.next()
                acc.add(metrics, ids: reader.metricIds, at: clock())
                state.gpus[i].reader = .gpm(reader, acc)
                ports = Self.gpmPorts(links: g.links, perLink: perLink && g.links.contains { $0.up }, totals: acc.bytes)
            } catch {
                state.failed = true
            }
        case .unavailable:
            break
        }
        return DeviceReading(name: g.name, kind: .gpu, info: state.gpus[i].info, ports: ports)
    }

    /// Ports from GPM byte totals: one per link (down links without counters) or `all`.
    static func gpmPorts(links: [(link: Int, up: Bool)], perLink: Bool, totals: [UInt32: UInt64]) -> [PortReading] {
        func counters(tx: UInt32, rx: UInt32) -> [CounterReading] {
            [("tx_bytes", tx), ("rx_bytes", rx)].compactMap { name, id in
                totals[id].map { CounterReading(name: name, raw: $0, scale: 1, width: .bits64) }
            }
        }
        guard perLink else {
            let c = counters(tx: NVMLGPMMetric.nvlinkTotalTX, rx: NVMLGPMMetric.nvlinkTotalRX)
            return c.isEmpty ? [] : [PortReading(port: "all", state: nil, counters: c)]
        }
        return links.map { l in
            PortReading(port: String(l.link), state: l.up ? "up" : "down",
                        counters: l.up ? counters(tx: NVMLGPMMetric.nvlinkTX(link: l.link), rx: NVMLGPMMetric.nvlinkRX(link: l.link)) : [])
        }
    }

    /// Ordinal for each GPU: from `ordinalByPCI` when it knows the GPU, else its position in PCI bus id order
    /// (after the known ordinals, so names never collide).
    static func names(pciBusIds: [String], ordinalByPCI: [String: Int]?) -> [Int] {
        let known = ordinalByPCI ?? [:]
        var next = (known.values.max() ?? -1) + 1
        var out = [Int](repeating: 0, count: pciBusIds.count)
        let byPCI = pciBusIds.indices.sorted { pciBusIds[$0] < pciBusIds[$1] }
        for (position, i) in byPCI.enumerated() {
            if known.isEmpty {
                out[i] = position
            } else if let o = known[normalizePCIBusId(pciBusIds[i])] {
                out[i] = o
            } else {
                out[i] = next
                next += 1
            }
        }
        return out
    }

    /// Groups field values by link into ports (pure: tested without NVML).
    static func ports(links: [(link: Int, up: Bool)], values: [NVMLFieldValue]) -> [PortReading] {
        links.map { l in
            PortReading(port: String(l.link), state: l.up ? "up" : "down",
                        counters: counters(values.filter { $0.scope == UInt32(l.link) }))
        }
    }

    static func counters(_ values: [NVMLFieldValue]) -> [CounterReading] {
        fields.compactMap { f in
            guard let v = values.first(where: { $0.field == f.field })?.value else { return nil }
            return CounterReading(name: f.name, raw: v, scale: 1024, width: .bits64)
        }
    }
}

/// Where NVLink counters come from.
public enum NVLinkMethod: String, Sendable, CaseIterable {
    /// `nvmlDeviceGetFieldValues` (fields 138–141): cumulative KiB, one call per GPU per sample.
    case fields
    /// NVML GPM (`nvmlGpmSampleGet` + `nvmlGpmMetricsGet`): MiB/s between two samples, Hopper and later.
    case gpm
}

/// Turns GPM rates (MiB/s over the time between two GPM samples) into cumulative byte counts, so
/// they flow through the same rate math as every other counter: bytes += rate × seconds since the
/// previous GPM sample. The first sample gives zeros (no rate yet).
public struct GPMAccumulator: Sendable {
    /// Metric id → bytes so far.
    public private(set) var bytes: [UInt32: UInt64] = [:]
    private var exact: [UInt32: Double] = [:]
    private var last: Double?

    public init() {}

    /// Adds one `NVMLGPMReader.next()` result taken at monotonic time `t` (nil: the first sample,
    /// which starts every metric in `ids` at 0 bytes).
    public mutating func add(_ metrics: [(metric: UInt32, value: Double?)]?, ids: [UInt32], at t: Double) {
        defer { last = t }
        guard let metrics, let last else {
            for id in ids where exact[id] == nil { exact[id] = 0; bytes[id] = 0 }
            return
        }
        let dt = max(0, t - last)
        for m in metrics {
            let total = exact[m.metric, default: 0] + max(0, m.value ?? 0) * 1_048_576 * dt
            exact[m.metric] = total
            bytes[m.metric] = total < 1.8e19 ? UInt64(total.rounded()) : UInt64.max
        }
    }
}
