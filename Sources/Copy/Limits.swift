import Foundation

/// The data rate of a PCIe link per direction, from its generation and width.
///
/// Per lane: the transfer rate times the line-code efficiency (PCI-SIG base specifications):
/// Gen1 2.5 GT/s and Gen2 5 GT/s with 8b/10b; Gen3 8, Gen4 16 and Gen5 32 GT/s with 128b/130b;
/// Gen6 64 GT/s (PAM4, FLIT mode: 242 of every 256 bytes carry data). What the copies can reach is
/// lower again by the packet headers (TLP/DLLP overhead, typically 10–15%): the rate is the limit,
/// not a target.
public enum PCIeRate {
    /// GB/s (10⁹ bytes per second) per lane and direction, or nil for an unknown generation.
    public static func gbpsPerLane(generation: Int) -> Double? {
        switch generation {
        case 1: return 2.5 * 8 / 10 / 8
        case 2: return 5.0 * 8 / 10 / 8
        case 3: return 8.0 * 128 / 130 / 8
        case 4: return 16.0 * 128 / 130 / 8
        case 5: return 32.0 * 128 / 130 / 8
        case 6: return 64.0 * 242 / 256 / 8
        default: return nil
        }
    }

    /// GB/s per direction of a link of `width` lanes at `generation`, or nil when either is unknown or not positive.
    public static func gbps(generation: Int, width: Int) -> Double? {
        guard width > 0, let lane = gbpsPerLane(generation: generation) else { return nil }
        return lane * Double(width)
    }
}

/// What a copy is held against: a named rate in GB/s per direction.
public struct CopyLimit: Sendable, Equatable {
    /// e.g. `PCIe Gen5 x16`, `NVLink 18 × 25 GB/s`, `device_local_copy_ce`.
    public var name: String
    public var gbps: Double

    public init(name: String, gbps: Double) { self.name = name; self.gbps = gbps }

    /// The limit of a host copy: the PCIe link at the most the device and system allow
    /// (NVML's max generation; an idle GPU's current generation is often lower) and at the
    /// width it trained to (a narrower link than the slot's is a finding, not a limit to hide).
    public static func pcie(maxGeneration: Int?, currentGeneration: Int?, currentWidth: Int?, maxWidth: Int?) -> CopyLimit? {
        guard let gen = maxGeneration ?? currentGeneration, let width = currentWidth ?? maxWidth,
              let rate = PCIeRate.gbps(generation: gen, width: width) else { return nil }
        return CopyLimit(name: "PCIe Gen\(gen) x\(width)", gbps: rate)
    }

    /// The limit of a peer copy from an `nvidia-smi topo -m` label (`NV18`) and the per-link rate:
    /// links × rate; nil for `X`, `SYS` or an unknown rate (then the host link bounds it).
    public static func nvlink(label: String, gbpsPerLink: Double?) -> CopyLimit? {
        guard label.hasPrefix("NV"), let k = Int(label.dropFirst(2)), k > 0, let r = gbpsPerLink else { return nil }
        return CopyLimit(name: "NVLink \(k) × \(formatRate(r)) GB/s", gbps: Double(k) * r)
    }

    /// The fraction of this limit that `gbps` reaches.
    public func fraction(_ gbps: Double) -> Double { self.gbps > 0 ? gbps / self.gbps : 0 }
}

func formatRate(_ v: Double) -> String {
    v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v)
}
