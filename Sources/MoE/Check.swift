/// The host-side checks of dispatch and combine: every element of every row, against the
/// reference computed here (no GPU: tests feed them bytes built by hand).
public enum MoECheck {
    /// Wrong elements in the messages of one receive window: the rows `expected` names (source
    /// tokens in slot order) of rank `source`. Each header
    /// field, each payload element and (FP8) each scale counts as one element; a missing row
    /// counts every element of it.
    public static func window(_ bytes: [UInt8], expected: [Int], source: Int, format f: MessageFormat) -> Int {
        var wrong = 0
        let perRow = 4 + f.hidden + f.scaleBytes / 4
        bytes.withUnsafeBytes { raw in
            for (slot, t) in expected.enumerated() {
                let base = slot * f.stride
                guard base + f.bytes <= raw.count else { wrong += perRow; continue }
                func i32(_ o: Int) -> Int32 { raw.loadUnaligned(fromByteOffset: base + o, as: Int32.self) }
                if i32(0) != Int32(t) { wrong += 1 }
                if i32(4) != Int32(source) { wrong += 1 }
                if i32(8) != 0 { wrong += 1 }
                if i32(12) != MessageFormat.magic { wrong += 1 }
                let p = base + MessageFormat.headerBytes
                switch f.dtype {
                case .bf16:
                    for h in 0..<f.hidden {
                        let got = raw.loadUnaligned(fromByteOffset: p + 2 * h, as: UInt16.self)
                        if got != Payload.bf16(Payload.value(source: source, token: t, element: h)) { wrong += 1 }
                    }
                case .fp8:
                    for b in 0..<(f.hidden / 128) {
                        let scale = raw.loadUnaligned(fromByteOffset: p + f.hidden + 4 * b, as: Float.self)
                        let want = Payload.fp8Scale(source: source, token: t, block: b)
                        if scale != want { wrong += 1 }
                        for h in (b * 128)..<(b * 128 + 128) {
                            let x = Payload.value(source: source, token: t, element: h)
                            let got = Payload.float(e4m3: raw[p + h]) * want
                            if !(abs(got - x) <= Payload.fp8Tolerance(x, scale: want)) { wrong += 1 }
                        }
                    }
                }
            }
        }
        return wrong
    }

    /// Wrong elements of rank `rank`'s combined output (`routing.tokens` BF16 rows of `hidden`):
    /// row t must be Σ_k w_k · f(x_t) over the token's valid selections (0 with none), f the fake
    /// expert (×1.5 in BF16), within `combineTolerance`.
    /// `tolerance` is how far an element may be (`combineTolerance` unless a style rounds more).
    public static func combine(_ bytes: [UInt8], routing r: Routing, rank: Int, hidden: Int, dtype: MoEDType,
                               tolerance: (_ x: Float, _ absWeights: Float, _ dtype: MoEDType, _ scale: Float) -> Float = combineTolerance) -> Int {
        var wrong = 0
        bytes.withUnsafeBytes { raw in
            for t in 0..<r.tokens {
                var sumW: Float = 0, absW: Float = 0
                for k in 0..<r.topK where r.expert(t, k) >= 0 { sumW += r.weights[t * r.topK + k]; absW += abs(r.weights[t * r.topK + k]) }
                var scale: Float = 0
                for h in 0..<hidden {
                    let x = Payload.value(source: rank, token: t, element: h)
                    if dtype == .fp8 && h % 128 == 0 { scale = Payload.fp8Scale(source: rank, token: t, block: h / 128) }
                    let off = (t * hidden + h) * 2
                    guard off + 2 <= raw.count else { wrong += 1; continue }
                    let got = Payload.float(bf16: raw.loadUnaligned(fromByteOffset: off, as: UInt16.self))
                    let want = sumW * Payload.expertScale * x
                    if !(abs(got - want) <= tolerance(x, absW, dtype, scale)) { wrong += 1 }
                }
            }
        }
        return wrong
    }

    /// How far a combined element may be from Σ w_k · 1.5 x: BF16, the expert's and the output's
    /// BF16 rounding (2^-8 relative, with room for the fp32 sum); FP8, also the cast's error
    /// (`Payload.fp8Tolerance`) times 1.5 per selection.
    public static func combineTolerance(_ x: Float, absWeights w: Float, dtype: MoEDType, scale: Float) -> Float {
        let s = Payload.expertScale
        switch dtype {
        case .bf16: return w * s * abs(x) * 0x1p-8 + 1e-6
        case .fp8: return w * s * (Payload.fp8Tolerance(x, scale: scale) * 1.01 + (abs(x) + Payload.fp8Tolerance(x, scale: scale)) * 0x1p-7) + 1e-6
        }
    }
}

extension MoECheck {
    /// Wrong elements of a cast of `tokens` rows of rank `rank`'s values to e4m3 (`q`, row-major)
    /// with one fp32 scale per 128 elements (`scales`): a scale that is not amax / 448 exactly, or
    /// an element whose round trip moves it more than `Payload.fp8Tolerance`.
    public static func cast(q: [UInt8], scales: [UInt8], rank: Int, tokens: Int, hidden: Int) -> Int {
        var wrong = 0
        let blocks = hidden / 128
        scales.withUnsafeBytes { sc in
            for t in 0..<tokens {
                for b in 0..<blocks {
                    let i = t * blocks + b
                    guard (i + 1) * 4 <= sc.count, (i + 1) * 128 <= q.count else { wrong += 129; continue }
                    let want = Payload.fp8Scale(source: rank, token: t, block: b)
                    if sc.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) != want { wrong += 1 }
                    for h in 0..<128 {
                        let x = Payload.value(source: rank, token: t, element: b * 128 + h)
                        if !(abs(Payload.float(e4m3: q[i * 128 + h]) * want - x) <= Payload.fp8Tolerance(x, scale: want)) { wrong += 1 }
                    }
                }
            }
        }
        return wrong
    }
}
