import Foundation
import GPU

/// NVLink traffic per GPU and per link from NVML field values.
///
/// Fields (nvml.h `NVML_FI_DEV_NVLINK_THROUGHPUT_*`): 138/139 data TX/RX, 140/141 raw TX/RX
/// (with protocol overhead), cumulative KiB, read per link (`scopeId` = link index). When no
/// per-link value can be read, the all-links sum (`scopeId` = `UINT_MAX`) is shown as port `all`.
///
/// GPUs are named `gpuN` where N is the GPU's position in PCI bus id order: the CUDA ordinal
/// under `CUDA_DEVICE_ORDER=PCI_BUS_ID`, and CUDA's default order on machines with identical
/// GPUs. `top` does not load CUDA (it would create a context beside the job it watches); the
/// NVML index, PCI bus id and UUID are in each GPU's details.
public struct NVLinkSource: CounterSource {
    public let name = "nvml"
    public let nvml: NVML
    private let identities = IdentityCache()

    /// CUDA ordinal by normalised PCI bus id, when the caller knows it (from `cuDeviceGetPCIBusId`);
    /// nil names GPUs by PCI bus id order.
    public let ordinalByPCI: [String: Int]?

    public init(nvml: NVML, ordinalByPCI: [String: Int]? = nil) {
        self.nvml = nvml
        self.ordinalByPCI = ordinalByPCI
    }

    /// PCI bus id, model and UUID per NVML index: read once (they do not change while a GPU is present),
    /// so a 10 Hz refresh does not ask NVML for them every time.
    final class IdentityCache: @unchecked Sendable {
        struct Identity { var pci: String; var model: String?; var uuid: String? }
        private let lock = NSLock()
        private var table: [Int: Identity] = [:]

        func identity(_ d: NVMLDevice) -> Identity {
            lock.lock()
            defer { lock.unlock() }
            if let known = table[d.index] { return known }
            let id = Identity(pci: (try? d.pciBusId()) ?? "nvml\(d.index)", model: try? d.name(), uuid: try? d.uuid())
            table[d.index] = id
            return id
        }
    }

    /// Counter names for the four throughput fields, with NVML's KiB scaled to bytes.
    static let fields: [(field: UInt32, name: String)] = [
        (NVMLField.nvlinkThroughputDataTX, "tx_bytes"),
        (NVMLField.nvlinkThroughputDataRX, "rx_bytes"),
        (NVMLField.nvlinkThroughputRawTX, "tx_raw_bytes"),
        (NVMLField.nvlinkThroughputRawRX, "rx_raw_bytes"),
    ]

    public func read() throws -> [DeviceReading] {
        let gpus = try nvml.devices().map { d in (device: d, id: identities.identity(d)) }
        let names = Self.names(pciBusIds: gpus.map(\.id.pci), ordinalByPCI: ordinalByPCI)
        return try gpus.indices.sorted { names[$0] < names[$1] }.map { i in
            try readGPU(gpus[i].device, name: "gpu\(names[i])", identity: gpus[i].id)
        }
    }

    func readGPU(_ d: NVMLDevice, name: String, identity: IdentityCache.Identity) throws -> DeviceReading {
        var info = ["pci": identity.pci, "nvml_index": String(d.index)]
        if let model = identity.model { info["model"] = model }
        if let uuid = identity.uuid { info["uuid"] = uuid }
        let links = (0..<nvmlMaxLinks).compactMap { l in d.nvlinkActive(l).map { (link: l, up: $0) } }
        info["links_up"] = String(links.filter(\.up).count)
        var requests: [(field: UInt32, scope: UInt32)] = []
        for l in links { for f in Self.fields { requests.append((f.field, UInt32(l.link))) } }
        let values = requests.isEmpty ? [] : ((try? d.fieldValues(requests)) ?? [])
        var ports = Self.ports(links: links, values: values)
        if ports.allSatisfy({ $0.counters.isEmpty }) {
            // No per-link value (older driver, or no NVLink): the all-links sum if NVML has it, else no ports.
            let totals = (try? d.fieldValues(Self.fields.map { ($0.field, NVMLField.allLinks) })) ?? []
            let counters = Self.counters(totals)
            ports = counters.isEmpty ? [] : [PortReading(port: "all", state: nil, counters: counters)]
        }
        return DeviceReading(name: name, kind: .gpu, info: info, ports: ports)
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
