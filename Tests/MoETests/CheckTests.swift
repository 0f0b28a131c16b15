import Testing
@testable import MoE

@Suite struct CheckTests {
    @Test func valuesAreExactInBF16AndNameTheirSource() {
        for (s, t) in [(0, 0), (7, 4095), (255, 65535), (3, 300)] {
            #expect(Payload.value(source: s, token: t, element: 0) == Float(s))
            #expect(Payload.value(source: s, token: t, element: 1) * 256 + Payload.value(source: s, token: t, element: 2) == Float(t))
            for h in 0..<64 {
                let x = Payload.value(source: s, token: t, element: h)
                #expect(Payload.float(bf16: Payload.bf16(x)) == x)
            }
        }
        #expect(Payload.value(source: 1, token: 2, element: 100) != Payload.value(source: 2, token: 1, element: 100)
            || Payload.value(source: 1, token: 2, element: 101) != Payload.value(source: 2, token: 1, element: 101))
    }

    @Test func e4m3Decoding() {
        #expect(Payload.float(e4m3: 0x7E) == 448)
        #expect(Payload.float(e4m3: 0x38) == 1)
        #expect(Payload.float(e4m3: 0x01) == 0x1p-9)
        #expect(Payload.float(e4m3: 0xB8) == -1)
        #expect(Payload.float(e4m3: 0x7F).isNaN)
        #expect(Payload.bf16(1.0) == 0x3F80)
        #expect(Payload.bf16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie to even
        #expect(Payload.bf16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
    }

    /// The nearest e4m3 code by search (tests only: the kernel uses cvt.rn.satfinite).
    static func e4m3(_ x: Float) -> UInt8 {
        var best: UInt8 = 0, err = Float.infinity
        for c in 0...255 where c & 0x7F != 0x7F {
            let e = abs(Payload.float(e4m3: UInt8(c)) - x)
            if e < err { err = e; best = UInt8(c) }
        }
        return best
    }

    /// A message as the kernels write it, built on the host.
    static func message(source s: Int, token t: Int, format f: MessageFormat) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: f.stride)
        func put<T>(_ v: T, _ o: Int) { withUnsafeBytes(of: v) { for (i, b) in $0.enumerated() { m[o + i] = b } } }
        put(Int32(t), 0); put(Int32(s), 4); put(Int32(0), 8); put(MessageFormat.magic, 12)
        for b in 0..<(f.hidden / 128) where f.dtype == .fp8 {
            let scale = Payload.fp8Scale(source: s, token: t, block: b)
            put(scale, 16 + f.hidden + 4 * b)
            for h in (b * 128)..<(b * 128 + 128) { m[16 + h] = e4m3(Payload.value(source: s, token: t, element: h) / scale) }
        }
        for h in 0..<f.hidden where f.dtype == .bf16 { put(Payload.bf16(Payload.value(source: s, token: t, element: h)), 16 + 2 * h) }
        return m
    }

    @Test(arguments: MoEDType.allCases)
    func aRightWindowHasNoWrongElementAndAMisplacedRowIsCaught(_ d: MoEDType) {
        let f = MessageFormat(hidden: 256, dtype: d)
        let tokens = [3, 17, 300]
        var bytes = tokens.flatMap { Self.message(source: 5, token: $0, format: f) }
        #expect(MoECheck.window(bytes, expected: tokens, source: 5, format: f) == 0)
        // Slots 1 and 2 swapped: both rows' token fields and most of their elements are wrong.
        #expect(MoECheck.window(tokens.map { $0 == 17 ? 300 : $0 == 300 ? 17 : $0 }.flatMap { Self.message(source: 5, token: $0, format: f) },
                                expected: tokens, source: 5, format: f) >= 2)
        // From the wrong source rank.
        #expect(MoECheck.window(tokens.flatMap { Self.message(source: 4, token: $0, format: f) }, expected: tokens, source: 5, format: f) >= 3)
        // One payload byte flipped.
        bytes[f.stride + 16 + 40] ^= 0x40
        #expect(MoECheck.window(bytes, expected: tokens, source: 5, format: f) == 1)
        // A row that never arrived counts all its elements.
        #expect(MoECheck.window(Array(bytes.prefix(2 * f.stride)), expected: tokens, source: 5, format: f) == 4 + 256 + f.scaleBytes / 4 + 1)
    }

    /// Combined rows built as the reduce kernel computes them: Σ_k w_k · bf16(1.5 x), rounded to BF16.
    @Test(arguments: MoEDType.allCases)
    func combineMatchesTheWeightedSumAndCatchesAWrongWeight(_ d: MoEDType) {
        let r = RoutingLayoutTests.hand
        let hidden = 128
        func out(_ weightOf: (Int, Int) -> Float) -> [UInt8] {
            var b: [UInt8] = []
            for t in 0..<r.tokens {
                let scale = Payload.fp8Scale(source: 0, token: t, block: 0)
                for h in 0..<hidden {
                    let x = Payload.value(source: 0, token: t, element: h)
                    let xin = d == .bf16 ? x : Payload.float(e4m3: Self.e4m3(x / scale)) * scale
                    let y = Payload.float(bf16: Payload.bf16(1.5 * xin))
                    var acc: Float = 0
                    for k in 0..<r.topK where r.expert(t, k) >= 0 { acc += weightOf(t, k) * y }
                    withUnsafeBytes(of: Payload.bf16(acc)) { b += $0 }
                }
            }
            return b
        }
        #expect(MoECheck.combine(out { r.weights[$0 * 2 + $1] }, routing: r, rank: 0, hidden: hidden, dtype: d) == 0)
        // The masked selection's weight (9) must not count.
        #expect(MoECheck.combine(out { r.weights[$0 * 2 + $1] + ($0 == 1 ? 9 : 0) }, routing: r, rank: 0, hidden: hidden, dtype: d) > 100)
        // A token left unreduced (zeros) is wrong wherever x ≠ 0.
        var b = out { r.weights[$0 * 2 + $1] }
        for i in 0..<(2 * hidden) { b[i] = 0 }
        #expect(MoECheck.combine(b, routing: r, rank: 0, hidden: hidden, dtype: d) > 50)
    }
}
