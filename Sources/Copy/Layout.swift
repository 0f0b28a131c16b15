/// One end of a copy: host memory, or GPU `n`'s memory.
public enum CopyEnd: Hashable, Sendable, CustomStringConvertible {
    case host
    case device(Int)

    public var description: String {
        switch self {
        case .host: return "host"
        case let .device(d): return "gpu\(d)"
        }
    }
}

/// One copy of a measured operation: `bytes` from `source` to `destination`, moved by GPU
/// `issuer` (its stream for a copy engine, its SMs for a kernel). For latency, the memory at
/// `source` is chased by a thread on `issuer`.
public struct CopyLeg: Hashable, Sendable {
    public var source: CopyEnd
    public var destination: CopyEnd
    public var issuer: Int

    public init(_ source: CopyEnd, _ destination: CopyEnd, issuer: Int) {
        self.source = source; self.destination = destination; self.issuer = issuer
    }
}

/// One measured cell of a benchmark's matrix: the copies that run at once and are timed together.
public struct CopyCell: Hashable, Sendable {
    public var row: Int
    public var column: Int
    public var legs: [CopyLeg]

    public init(row: Int, column: Int, legs: [CopyLeg]) { self.row = row; self.column = column; self.legs = legs }

    /// Every GPU the cell touches (issuers and ends), ascending.
    public var devices: [Int] {
        var s = Set(legs.map(\.issuer))
        for l in legs {
            if case let .device(d) = l.source { s.insert(d) }
            if case let .device(d) = l.destination { s.insert(d) }
        }
        return s.sorted()
    }
}

/// The shape of a benchmark's results on `gpus` GPUs, as nvbandwidth prints them: a title naming
/// what rows and columns are, their labels, and the cells measured (the others print N/A).
public struct CopyLayout: Sendable, Equatable {
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var cells: [CopyCell]

    public init(_ b: CopyBenchmark, gpus n: Int) {
        let gpus = (0..<n).map(String.init)
        let by = b.engine == .ce ? "memcpy CE" : "memcpy SM"
        let units = b.pattern.isLatency ? "latency (us)" : "bandwidth (GB/s)"
        func row(_ make: (Int) -> [CopyLeg]) -> [CopyCell] { (0..<n).map { CopyCell(row: 0, column: $0, legs: make($0)) } }
        func square(diagonal: Bool, _ make: (Int, Int) -> [CopyLeg]) -> [CopyCell] {
            (0..<n).flatMap { i in (0..<n).compactMap { j in i == j && !diagonal ? nil : CopyCell(row: i, column: j, legs: make(i, j)) } }
        }
        rowLabels = gpus
        columnLabels = gpus
        switch b.pattern {
        case .hostToDevice:
            title = "\(by) CPU(row) -> GPU(column) \(units)"; rowLabels = ["0"]
            cells = row { [CopyLeg(.host, .device($0), issuer: $0)] }
        case .deviceToHost:
            title = "\(by) CPU(row) <- GPU(column) \(units)"; rowLabels = ["0"]
            cells = row { [CopyLeg(.device($0), .host, issuer: $0)] }
        case .hostDeviceBidirectional:
            title = "\(by) CPU(row) <-> GPU(column) \(units), each direction"; rowLabels = ["0"]
            cells = row { [CopyLeg(.host, .device($0), issuer: $0), CopyLeg(.device($0), .host, issuer: $0)] }
        case .deviceLocal:
            title = "\(by) local copy GPU(column) \(units)"; rowLabels = ["0"]
            cells = row { [CopyLeg(.device($0), .device($0), issuer: $0)] }
        case .deviceToDeviceRead:
            title = "\(by) GPU(row) <- GPU(column) \(units)"
            cells = square(diagonal: false) { i, j in [CopyLeg(.device(j), .device(i), issuer: i)] }
        case .deviceToDeviceWrite:
            title = "\(by) GPU(row) -> GPU(column) \(units)"
            cells = square(diagonal: false) { i, j in [CopyLeg(.device(i), .device(j), issuer: i)] }
        case .deviceToDeviceBidirectionalRead:
            title = "\(by) GPU(row) <-> GPU(column) \(units), each direction, each GPU reading"
            cells = square(diagonal: false) { i, j in [CopyLeg(.device(j), .device(i), issuer: i), CopyLeg(.device(i), .device(j), issuer: j)] }
        case .deviceToDeviceBidirectionalWrite:
            title = "\(by) GPU(row) <-> GPU(column) \(units), each direction, each GPU writing"
            cells = square(diagonal: false) { i, j in [CopyLeg(.device(i), .device(j), issuer: i), CopyLeg(.device(j), .device(i), issuer: j)] }
        case .oneToAll:
            title = "\(by) GPU(column) -> every other GPU \(units), total"; rowLabels = ["0"]
            cells = row { i in (0..<n).filter { $0 != i }.map { CopyLeg(.device(i), .device($0), issuer: i) } }
        case .allToOne:
            title = "\(by) every other GPU -> GPU(column) \(units), total"; rowLabels = ["0"]
            cells = row { i in (0..<n).filter { $0 != i }.map { CopyLeg(.device($0), .device(i), issuer: $0) } }
        case .allToHost:
            title = "\(by) every GPU -> CPU \(units), total"; rowLabels = ["0"]; columnLabels = ["all"]
            cells = [CopyCell(row: 0, column: 0, legs: (0..<n).map { CopyLeg(.device($0), .host, issuer: $0) })]
        case .hostToAll:
            title = "\(by) CPU -> every GPU \(units), total"; rowLabels = ["0"]; columnLabels = ["all"]
            cells = [CopyCell(row: 0, column: 0, legs: (0..<n).map { CopyLeg(.host, .device($0), issuer: $0) })]
        case .hostDeviceLatency:
            title = "memory latency SM CPU(row) <-> GPU(column) (us)"; rowLabels = ["0"]
            cells = row { [CopyLeg(.host, .device($0), issuer: $0)] }
        case .deviceToDeviceLatency:
            title = "memory latency SM GPU(row) <-> GPU(column) (us), the row GPU reading the column GPU's memory"
            cells = square(diagonal: true) { i, j in [CopyLeg(.device(j), .device(i), issuer: i)] }
        }
    }
}

/// What a machine offers the copies: each GPU's PCIe limit and the NVLink labels between them.
public struct CopyTopology: Sendable, Equatable {
    /// Per GPU, its PCIe link's limit (nil when NVML could not tell).
    public var pcie: [CopyLimit?]
    /// `nvidia-smi topo -m` labels between GPUs (`X`, `NV18`, `SYS`), when known.
    public var links: [[String]]?
    /// Published NVLink rate per link and direction (GB/s) for these GPUs.
    public var nvlinkGBpsPerLink: Double?
    /// Active NVLinks per GPU.
    public var nvlinksPerGPU: [Int?]

    public init(pcie: [CopyLimit?], links: [[String]]? = nil, nvlinkGBpsPerLink: Double? = nil, nvlinksPerGPU: [Int?] = []) {
        self.pcie = pcie; self.links = links; self.nvlinkGBpsPerLink = nvlinkGBpsPerLink; self.nvlinksPerGPU = nvlinksPerGPU
    }

    func pcie(_ d: Int) -> CopyLimit? { d < pcie.count ? pcie[d] : nil }

    /// The link between two GPUs: NVLink when the labels say so, else the slower PCIe link.
    func peer(_ a: Int, _ b: Int) -> CopyLimit? {
        if let l = links, a < l.count, b < l[a].count, let nv = CopyLimit.nvlink(label: l[a][b], gbpsPerLink: nvlinkGBpsPerLink) { return nv }
        let both = [pcie(a), pcie(b)].compactMap { $0 }
        guard both.count == 2 else { return nil }
        return both.min { $0.gbps < $1.gbps }
    }

    /// All of one GPU's NVLinks (what one-to-all and all-to-one can use at most).
    func nvlinkTotal(_ d: Int) -> CopyLimit? {
        guard d < nvlinksPerGPU.count, let k = nvlinksPerGPU[d], k > 0, let r = nvlinkGBpsPerLink else { return nil }
        return CopyLimit(name: "NVLink \(k) × \(formatRate(r)) GB/s", gbps: Double(k) * r)
    }

    /// The limit a cell's algbw is held against; nil for latency and for the local copy (which
    /// is the ceiling itself: its SM variant is compared with the CE one by the caller).
    public func limit(_ b: CopyBenchmark, _ cell: CopyCell) -> CopyLimit? {
        let first = cell.legs.first!
        switch b.pattern {
        case .hostDeviceLatency, .deviceToDeviceLatency, .deviceLocal: return nil
        case .hostToDevice, .deviceToHost, .hostDeviceBidirectional: return pcie(first.issuer)
        case .allToHost, .hostToAll:
            let links = cell.legs.map { pcie($0.issuer) }
            guard !links.contains(where: { $0 == nil }), let one = links.first! else { return nil }
            return CopyLimit(name: "\(links.count) × \(one.name)", gbps: links.reduce(0) { $0 + $1!.gbps })
        case .deviceToDeviceRead, .deviceToDeviceWrite, .deviceToDeviceBidirectionalRead, .deviceToDeviceBidirectionalWrite:
            return peer(cell.row, cell.column)
        case .oneToAll, .allToOne:
            return nvlinkTotal(cell.column) ?? pcie(cell.column)
        }
    }
}
