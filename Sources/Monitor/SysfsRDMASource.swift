import Foundation

/// RDMA device counters from sysfs: `<sys-root>/class/infiniband/<dev>/ports/<p>/{counters,hw_counters}/*`.
///
/// `counters/` holds the InfiniBand port counters (mlx5 and other IB/RoCE devices); their data
/// counters `port_xmit_data` / `port_rcv_data` count 4-byte words and are scaled ×4 to bytes
/// (IBA spec, PortCounters/PortCountersExtended: "in units of 32-bit words"). `hw_counters/`
/// holds driver counters, already in their own units (EFA: `tx_bytes`, `rx_bytes`, … in bytes).
/// The device list is read again on every call, so devices can come and go.
public struct SysfsRDMASource: CounterSource {
    public let name = "sysfs"
    /// The directory standing in for `/sys` (`--sys-root`).
    public var sysRoot: String

    public init(sysRoot: String = "/sys") {
        self.sysRoot = sysRoot
    }

    /// `<sys-root>/class/infiniband`.
    public var classDirectory: String { sysRoot + "/class/infiniband" }

    /// Names of the RDMA devices present now (empty when the class directory is missing).
    public func deviceNames() -> [String] { SysfsFiles.list(classDirectory) }

    public func read() throws -> [DeviceReading] {
        deviceNames().compactMap(readDevice)
    }

    /// Standard IB port counters renamed to the names used across sources, with their scale.
    /// Source: Linux `drivers/infiniband/core/sysfs.c` (the `counters/` attribute names) and the IBA
    /// PortCounters definition (data in 4-byte words).
    static let ibRenames: [String: (name: String, scale: UInt64)] = [
        "port_xmit_data": ("tx_bytes", 4),
        "port_rcv_data": ("rx_bytes", 4),
        "port_xmit_packets": ("tx_pkts", 1),
        "port_rcv_packets": ("rx_pkts", 1),
        "port_xmit_discards": ("tx_drops", 1),
        "port_rcv_errors": ("rx_errors", 1),
    ]

    /// Files in `hw_counters/` that are settings, not counters.
    static let notCounters: Set<String> = ["lifespan"]

    func readDevice(_ dev: String) -> DeviceReading? {
        let devDir = classDirectory + "/" + dev
        let portNames = SysfsFiles.list(devDir + "/ports").sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }
        guard !portNames.isEmpty else { return nil }
        var info: [String: String] = [:]
        if let pci = SysfsFiles.linkTarget(devDir + "/device") { info["pci"] = pci }
        if let fw = SysfsFiles.readLine(devDir + "/fw_ver") { info["fw_ver"] = fw }
        if let nt = SysfsFiles.readLine(devDir + "/node_type") { info["node_type"] = nt }
        var ports: [PortReading] = []
        for p in portNames {
            let portDir = devDir + "/ports/" + p
            var counters: [CounterReading] = []
            var seen = Set<String>()
            for file in SysfsFiles.list(portDir + "/counters") {
                guard let v = SysfsFiles.readUInt(portDir + "/counters/" + file) else { continue }
                let r = Self.ibRenames[file] ?? (file, 1)
                if seen.insert(r.name).inserted { counters.append(CounterReading(name: r.name, raw: v, scale: r.scale)) }
            }
            for file in SysfsFiles.list(portDir + "/hw_counters") where !Self.notCounters.contains(file) {
                guard let v = SysfsFiles.readUInt(portDir + "/hw_counters/" + file) else { continue }
                if seen.insert(file).inserted { counters.append(CounterReading(name: file, raw: v)) }
            }
            let state = SysfsFiles.readLine(portDir + "/state").map(Self.stateName)
            if let ll = SysfsFiles.readLine(portDir + "/link_layer") { info["link_layer"] = info["link_layer"] ?? ll }
            if let rate = SysfsFiles.readLine(portDir + "/rate") { info["port\(p)_rate"] = rate }
            ports.append(PortReading(port: p, state: state, counters: counters))
        }
        return DeviceReading(name: dev, kind: .nic, info: info, ports: ports)
    }

    /// `4: ACTIVE` → `ACTIVE`.
    static func stateName(_ s: String) -> String {
        guard let colon = s.firstIndex(of: ":") else { return s }
        return s[s.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}

/// Small, allocation-light file helpers for sysfs (read on every refresh, so no Foundation file APIs).
enum SysfsFiles {
    /// Entry names of a directory, sorted, without `.` and `..`; empty when it cannot be opened.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The file's contents (up to 4 KiB), or nil when it cannot be read.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    /// First line, trimmed; nil when missing or empty.
    static func readLine(_ path: String) -> String? {
        guard let s = read(path) else { return nil }
        let line = s.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let t = line.trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }

    /// The file as an unsigned decimal (or 0x hex) integer; nil when it is not one.
    static func readUInt(_ path: String) -> UInt64? {
        guard let s = readLine(path) else { return nil }
        if s.hasPrefix("0x") { return UInt64(s.dropFirst(2), radix: 16) }
        return UInt64(s)
    }

    /// Last path component of a symlink's target (`…/0000:10:1c.0` → `0000:10:1c.0`), or nil.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.split(separator: "/").last.map(String.init)
    }
}
