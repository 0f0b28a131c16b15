/// Byte- and line-level mutations of a seed input, from a seeded generator (the same seed gives
/// the same mutants, so a CI failure can be replayed with `--seed`).
struct Mutator {
    /// SplitMix64: small, fast, reproducible on every platform.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    /// Numbers that broke the importers before the checked conversion, and their neighbours.
    static let interesting: [String] = [
        "0", "-0", "-1", "-16", "1", "2", "4611686018427387904", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "99999999999999999999", "1e400", "-1e400", "1e30", "1e20", "1e18", "1e-400", "nan", "-nan",
        "NaN", "inf", "-inf", "Infinity", "4294967296", "2147483648", "0.5", "1e5", "", "N/A", "-", "0x10", "1_000",
    ]

    var random: Random

    init(seed: UInt64) { random = Random(state: seed) }

    /// One mutant of `seed`, possibly spliced with a line of `other`.
    mutating func mutate(_ seed: [UInt8], other: [UInt8]) -> [UInt8] {
        var b = seed
        let rounds = 1 + random.below(4)
        for _ in 0..<rounds {
            switch random.below(14) {
            case 0, 1: replaceNumber(&b)
            case 2, 3: replaceNumber(&b)
            case 4: flipByte(&b)
            case 5: insertBytes(&b)
            case 6: deleteRange(&b)
            case 7: duplicateLine(&b)
            case 8: deleteLine(&b)
            case 9: swapLines(&b)
            case 10: spliceLine(&b, from: other)
            case 11: lineEndings(&b)
            case 12: truncate(&b)
            default: replaceNumber(&b)
            }
        }
        return b
    }

    private mutating func flipByte(_ b: inout [UInt8]) {
        guard !b.isEmpty else { return }
        let i = random.below(b.count)
        b[i] ^= UInt8(1 << random.below(8))
    }

    private mutating func insertBytes(_ b: inout [UInt8]) {
        let pool: [[UInt8]] = [[0x0D], [0x0A], [0x0D, 0x0A], [0xEF, 0xBB, 0xBF], [0x00], [0xFF], [0x2C], [0x20], [0x22], [0x7B], [0x7D],
                               [0x2D], [0x2E], [0x65], Array("#".utf8), Array(" 1e400 ".utf8)]
        let i = random.below(b.count + 1)
        b.insert(contentsOf: pool[random.below(pool.count)], at: i)
    }

    private mutating func deleteRange(_ b: inout [UInt8]) {
        guard !b.isEmpty else { return }
        let i = random.below(b.count)
        let n = min(b.count - i, 1 + random.below(16))
        b.removeSubrange(i..<(i + n))
    }

    private mutating func truncate(_ b: inout [UInt8]) {
        guard !b.isEmpty else { return }
        b.removeSubrange(random.below(b.count)...)
    }

    /// Replaces one run of digits (with sign, dot and exponent) by an interesting number.
    private mutating func replaceNumber(_ b: inout [UInt8]) {
        guard !b.isEmpty else { return }
        let digit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        var starts: [Int] = []
        var k = 0
        // Sample up to 64 candidate positions: cheap on large seeds.
        for _ in 0..<64 {
            k = random.below(b.count)
            if digit(b[k]) { starts.append(k) }
        }
        guard let hit = starts.first else { return }
        var lo = hit, hi = hit
        let part: (UInt8) -> Bool = { digit($0) || $0 == 0x2E || $0 == 0x65 || $0 == 0x45 || $0 == 0x2D || $0 == 0x2B }
        while lo > 0, part(b[lo - 1]) { lo -= 1 }
        while hi < b.count, part(b[hi]) { hi += 1 }
        b.replaceSubrange(lo..<hi, with: Array(Self.interesting[random.below(Self.interesting.count)].utf8))
    }

    private static func lineRanges(_ b: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        for (i, c) in b.enumerated() where c == 0x0A {
            out.append(start..<(i + 1))
            start = i + 1
        }
        if start < b.count { out.append(start..<b.count) }
        return out
    }

    private mutating func duplicateLine(_ b: inout [UInt8]) {
        let lines = Self.lineRanges(b)
        guard !lines.isEmpty else { return }
        let l = lines[random.below(lines.count)]
        b.insert(contentsOf: Array(b[l]), at: l.upperBound)
    }

    private mutating func deleteLine(_ b: inout [UInt8]) {
        let lines = Self.lineRanges(b)
        guard !lines.isEmpty else { return }
        b.removeSubrange(lines[random.below(lines.count)])
    }

    private mutating func swapLines(_ b: inout [UInt8]) {
        let lines = Self.lineRanges(b)
        guard lines.count > 1 else { return }
        let i = random.below(lines.count - 1)
        let a = Array(b[lines[i]]), c = Array(b[lines[i + 1]])
        b.replaceSubrange(lines[i].lowerBound..<lines[i + 1].upperBound, with: c + a)
    }

    private mutating func spliceLine(_ b: inout [UInt8], from other: [UInt8]) {
        let theirs = Self.lineRanges(other), mine = Self.lineRanges(b)
        guard !theirs.isEmpty else { return }
        let line = Array(other[theirs[random.below(theirs.count)]])
        let at = mine.isEmpty ? 0 : mine[random.below(mine.count)].lowerBound
        b.insert(contentsOf: line, at: at)
    }

    /// CRLF everywhere, lone CRs, or a mix.
    private mutating func lineEndings(_ b: inout [UInt8]) {
        let mode = random.below(3)
        var out: [UInt8] = []
        out.reserveCapacity(b.count + b.count / 16)
        for c in b {
            if c == 0x0A {
                switch mode {
                case 0: out += [0x0D, 0x0A]
                case 1: out.append(0x0D)
                default: if random.chance(50) { out += [0x0D, 0x0A] } else { out.append(0x0A) }
                }
            } else {
                out.append(c)
            }
        }
        b = out
    }
}
