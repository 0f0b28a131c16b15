/// The bytes of one dispatched row ("message") and the values every token carries. The same
/// formulas are in cuda/moe.cu (gc_moe_value, the message layout); tests pin them.
///
/// A message is a 16-byte header (int32 token index, int32 source rank, int32 0, int32 magic),
/// the same for each of a token's experts (one packed copy serves all k), then the payload: BF16, `hidden` × 2 bytes; FP8, `hidden` e4m3 bytes followed by
/// hidden/128 fp32 scales. Its stride in buffers is rounded up to 16 bytes.
public struct MessageFormat: Sendable, Equatable {
    public let hidden: Int
    public let dtype: MoEDType

    public init(hidden: Int, dtype: MoEDType) { self.hidden = hidden; self.dtype = dtype }

    public static let headerBytes = 16
    public static let magic: Int32 = 0x4D6F_4521  // "MoE!"

    /// Payload bytes: the row (BF16 or e4m3) and, for FP8, its scales.
    public var payloadBytes: Int { dtype == .bf16 ? hidden * 2 : hidden + scaleBytes }
    public var scaleBytes: Int { dtype == .fp8 ? hidden / 128 * 4 : 0 }
    /// Header + payload, unpadded.
    public var bytes: Int { Self.headerBytes + payloadBytes }
    /// The distance between messages in buffers (16-byte aligned).
    public var stride: Int { (bytes + 15) / 16 * 16 }
    /// A combined (expert output) row: BF16.
    public var combineRowBytes: Int { hidden * 2 }
}

/// The values of the tokens and their exact encodings.
public enum Payload {
    /// murmur3's 32-bit finaliser.
    @inline(__always) static func mix(_ x: UInt32) -> UInt32 {
        var x = x
        x ^= x >> 16; x = x &* 0x85EB_CA6B
        x ^= x >> 13; x = x &* 0xC2B2_AE35
        x ^= x >> 16
        return x
    }

    /// Element `h` of token `t` of rank `s`: element 0 is s, 1 is t / 256, 2 is t mod 256 (so a
    /// BF16 row names its source exactly: integers up to 256 are exact in BF16); the rest are
    /// multiples of 0.5 in −4…4 from a hash (exact in BF16, and ×1.5 exact too).
    public static func value(source s: Int, token t: Int, element h: Int) -> Float {
        switch h {
        case 0: return Float(s)
        case 1: return Float(t >> 8)
        case 2: return Float(t & 255)
        default:
            let r = mix(UInt32(truncatingIfNeeded: s) &* 0x9E37_79B1 ^ mix(UInt32(truncatingIfNeeded: t) &* 0x85EB_CA77 ^ mix(UInt32(truncatingIfNeeded: h))))
            return Float(Int(r % 17) - 8) * 0.5
        }
    }

    /// The fake expert every style runs between dispatch and combine: f(x) = 1.5 x, rounded to BF16.
    public static let expertScale: Float = 1.5

    /// BF16 bits of `x`, rounded to nearest even (NaN kept quiet).
    public static func bf16(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if x.isNaN { return UInt16(b >> 16) | 0x40 }
        let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    public static func float(bf16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// An OCP e4m3 (fn) byte as a float: bias 7, no infinities, S.1111.111 is NaN.
    public static func float(e4m3 b: UInt8) -> Float {
        let sign: Float = b & 0x80 != 0 ? -1 : 1
        let e = Int((b >> 3) & 0xF), m = Int(b & 7)
        if e == 15 && m == 7 { return .nan }
        if e == 0 { return sign * Float(m) / 8 * 0x1p-6 }
        return sign * (1 + Float(m) / 8) * Float(sign: .plus, exponent: e - 7, significand: 1)
    }

    /// How far an FP8 round trip may move `x` whose 128-element block has scale `scale`
    /// (amax / 448): half an e4m3 step (2^-4 relative) in the normal range, half the subnormal
    /// step (scale · 2^-10) below it, doubled for fp32 rounding of x · 448 / amax.
    public static func fp8Tolerance(_ x: Float, scale: Float) -> Float {
        (abs(x) * 0x1p-4 + scale * 0x1p-10) * 1.0001 + 1e-30
    }

    /// amax / 448 of block `b` (128 elements) of token t of rank s, as the kernel computes it
    /// (amax clamped to at least 1e-4, as DeepEP's cast does).
    public static func fp8Scale(source s: Int, token t: Int, block b: Int) -> Float {
        var amax: Float = 0
        for h in (b * 128)..<(b * 128 + 128) { amax = max(amax, abs(value(source: s, token: t, element: h))) }
        return max(amax, 1e-4) / 448
    }
}
