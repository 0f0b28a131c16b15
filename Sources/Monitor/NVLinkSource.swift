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
    /// Also read the raw (with protocol overhead) counters: twice the NVML calls per sample.
    public let includeRaw: Bool
    /// Read every link's counters (18 values per field per H200) instead of the GPU's all-links sum.
    /// Each NVML field value cost about 0.46 ms of kernel time on 4×H200 (driver 580), so per-link
    /// reading at 1 Hz used ~7% of a core; the sums use 2 values per GPU.
    public let perLink: Bool
    /// CUDA ordinal by normalised PCI bus id, when the caller knows it (from `cuDeviceGetPCIBusId`);
    /// nil names GPUs by PCI bus id order.
    public let ordinalByPCI: [String: Int]?
    private let cache = Cache()

    /// What does not change between samples: device list, names, PCI ids, link states. NVML calls
    /// cost about 0.2–0.5 ms of kernel time each on Hopper (driver RPCs), so re-reading these every
    /// sample dominated top's overhead; they are re-read every `refreshSeconds` for hot-plug.
    final class Cache: @unchecked Sendable {
        struct GPU { let device: NVMLDevice; let name: String; let info: [String: String]; let links: [(link: Int, up: Bool)] }
        let lock = NSLock()
        var gpus: [GPU] = []
        var taken: ContinuousClock.Instant?
        let refreshSeconds: Double = 30
    }

    public init(nvml: NVML, includeRaw: Bool = false, perLink: Bool = false, ordinalByPCI: [String: Int]? = nil) {
        self.nvml = nvml
        self.includeRaw = includeRaw
        self.perLink = perLink
        self.ordinalByPCI = ordinalByPCI
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
        try gpus().map { g in try readGPU(g) }
    }

    func gpus() throws -> [Cache.GPU] {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let t = cache.taken, (ContinuousClock.now - t) < .milliseconds(Int(cache.refreshSeconds * 1000)) { return cache.gpus }
        let found = try nvml.devices().map { d in (device: d, pci: (try? d.pciBusId()) ?? "nvml\(d.index)") }
        let ordinals = Self.names(pciBusIds: found.map(\.pci), ordinalByPCI: ordinalByPCI)
        cache.gpus = found.indices.sorted { ordinals[$0] < ordinals[$1] }.map { i in
            let d = found[i].device
            var info = ["pci": found[i].pci, "nvml_index": String(d.index)]
            if let model = try? d.name() { info["model"] = model }
            if let uuid = try? d.uuid() { info["uuid"] = uuid }
            let links = (0..<nvmlMaxLinks).compactMap { l in d.nvlinkActive(l).map { (link: l, up: $0) } }
            info["links_up"] = String(links.filter(\.up).count)
            return Cache.GPU(device: d, name: "gpu\(ordinals[i])", info: info, links: links)
        }
        cache.taken = .now
        return cache.gpus
    }

    func readGPU(_ g: Cache.GPU) throws -> DeviceReading {
        var requests: [(field: UInt32, scope: UInt32)] = []
        if perLink { for l in g.links where l.up { for f in readFields { requests.append((f.field, UInt32(l.link))) } } }
        let values = requests.isEmpty ? [] : ((try? g.device.fieldValues(requests)) ?? [])
        var ports = perLink ? Self.ports(links: g.links, values: values) : []
        if ports.allSatisfy({ $0.counters.isEmpty }) {
            // The all-links sum (the default, or no per-link value: older driver, no NVLink).
            let totals = (try? g.device.fieldValues(readFields.map { ($0.field, NVMLField.allLinks) })) ?? []
            let counters = Self.counters(totals)
            ports = counters.isEmpty ? [] : [PortReading(port: "all", state: nil, counters: counters)]
        }
        return DeviceReading(name: g.name, kind: .gpu, info: g.info, ports: ports)
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
