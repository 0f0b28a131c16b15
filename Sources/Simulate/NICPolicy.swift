/// How a sending PE picks one of its GPU's NICs for each chunk. The receiving NIC is the one
/// with the same index on the destination GPU (rail-matched; docs/simulate.md says why).
public enum NICPolicy: String, CaseIterable, Codable, Sendable {
    /// Always NIC 0.
    case single
    /// Round-robin over the NICs, every PE's counter starting at NIC 0 (NVSHMEM 3.6.5).
    case roundRobinShared = "round-robin-shared"
    /// Round-robin with the counter of PE `p` starting at NIC `p mod nics` (the fix).
    case roundRobinOffset = "round-robin-offset"
    /// A fixed hash of (source, destination): every chunk of one pair on one NIC.
    case hash
    /// The NIC index whose tx (sender) and rx (receiver) NICs carry the fewest bytes so far;
    /// an idealised policy that assumes the sender sees the receiver's load.
    case leastLoaded = "least-loaded"

    /// The accepted names, for messages: `single, round-robin-shared, …`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Parses a name; the error lists the allowed names.
    public static func parse(_ name: String) throws -> NICPolicy {
        guard let p = NICPolicy(rawValue: name) else {
            throw SimulationInputError("unknown policy '\(name)' (allowed: \(names), all)")
        }
        return p
    }
}

/// Chooses NIC indices; holds the per-PE counters and per-NIC assigned bytes a policy needs.
struct NICChooser {
    let policy: NICPolicy
    let nics: Int
    private var counter: [Int]
    private var txAssigned: [Int64]
    private var rxAssigned: [Int64]

    init(policy: NICPolicy, pes: Int, nics: Int) {
        self.policy = policy
        self.nics = nics
        counter = (0..<pes).map { policy == .roundRobinOffset ? $0 % nics : 0 }
        txAssigned = Array(repeating: 0, count: pes * nics)
        rxAssigned = Array(repeating: 0, count: pes * nics)
    }

    /// The NIC index for the next chunk of `bytes` from `src` to `dst`.
    mutating func choose(src: Int, dst: Int, bytes: Int64) -> Int {
        let k: Int
        switch policy {
        case .single:
            k = 0
        case .roundRobinShared, .roundRobinOffset:
            k = counter[src] % nics
            counter[src] += 1
        case .hash:
            k = Int(NICChooser.mix(UInt64(src) << 32 | UInt64(dst)) % UInt64(nics))
        case .leastLoaded:
            var best = 0
            var bestLoad = Int64.max
            for i in 0..<nics {
                let load = max(txAssigned[src * nics + i], rxAssigned[dst * nics + i])
                if load < bestLoad { best = i; bestLoad = load }
            }
            k = best
        }
        txAssigned[src * nics + k] += bytes
        rxAssigned[dst * nics + k] += bytes
        return k
    }

    /// splitmix64's finaliser (Steele, Lea, Flood 2014): a fixed, well-mixed hash.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
