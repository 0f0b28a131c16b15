/// The data a copy's check expects, and the pointer chain a latency test follows: computed the
/// same way here and in the kernels (Kernels/cuda/copy.cu), so the host can fill and check the
/// memory kernels cannot address (pageable pages) and predict where a chase ends.
public enum CopyPattern32 {
    /// The 32-bit word at index `i` for `seed` (cuda/copy.cu `gc_copy_value`): always even, so
    /// memory poisoned with bytes 0xFF never passes.
    @inline(__always)
    public static func value(_ i: UInt64, seed: UInt32) -> UInt32 {
        var x = (i &+ (UInt64(seed) << 32)) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 31
        x = x &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 29
        return UInt32(truncatingIfNeeded: x) & 0xFFFF_FFFE
    }

    /// Writes the pattern into `count` words at `p`.
    public static func fill(_ p: UnsafeMutableRawPointer, count: Int, seed: UInt32) {
        let w = p.bindMemory(to: UInt32.self, capacity: count)
        for i in 0..<count { w[i] = value(UInt64(i), seed: seed) }
    }

    /// Words of the `count` at `p` that differ from the pattern.
    public static func countWrong(_ p: UnsafeRawPointer, count: Int, seed: UInt32) -> Int64 {
        let w = p.bindMemory(to: UInt32.self, capacity: count)
        var bad: Int64 = 0
        for i in 0..<count where w[i] != value(UInt64(i), seed: seed) { bad += 1 }
        return bad
    }
}

/// A pointer chain for the latency tests: 64-bit words where the word at a slot's start holds the
/// index (in words) of the next slot; the slots, `strideBytes` apart, form one cycle through every
/// slot in a random order (Sattolo's algorithm), so no two consecutive loads share a cache line
/// and a prefetcher has nothing to follow.
public struct PointerChain: Sendable {
    public let bytes: Int
    public let strideBytes: Int
    /// Word index of the next slot, per slot.
    public let next: [Int]

    /// `bytes` of memory (at least two slots), slots `strideBytes` apart (a multiple of 8), fixed `seed`.
    public init(bytes: Int, strideBytes: Int = 256, seed: UInt64 = 0x5EED) {
        precondition(strideBytes % 8 == 0 && bytes >= 2 * strideBytes, "a chain needs two slots of 8-byte words")
        self.bytes = bytes
        self.strideBytes = strideBytes
        let slots = bytes / strideBytes
        var order = Array(0..<slots)
        var rng = SplitMix64(seed: seed)
        // Sattolo: a uniformly random single cycle.
        var i = slots - 1
        while i > 0 {
            let j = Int(rng.next() % UInt64(i))
            order.swapAt(i, j)
            i -= 1
        }
        let wordsPerSlot = strideBytes / 8
        var next = [Int](repeating: 0, count: slots)
        for s in 0..<slots { next[s] = order[s] * wordsPerSlot }
        self.next = next
    }

    public var slots: Int { next.count }

    /// Writes the chain into `bytes` of memory at `p` (words outside the slot starts are zero).
    public func write(to p: UnsafeMutableRawPointer) {
        let w = p.bindMemory(to: UInt64.self, capacity: bytes / 8)
        w.initialize(repeating: 0, count: bytes / 8)
        let wordsPerSlot = strideBytes / 8
        for s in 0..<slots { w[s * wordsPerSlot] = UInt64(next[s]) }
    }

    /// The word index a chase of `hops` loads from word 0 ends at (what `gc_copy_chase` writes).
    public func end(after hops: Int) -> UInt64 {
        let wordsPerSlot = strideBytes / 8
        var i = 0
        for _ in 0..<hops { i = next[i / wordsPerSlot] }
        return UInt64(i)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small deterministic generator for test data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
