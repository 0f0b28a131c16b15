/// A host scalar encoded in an NCCL data type (for premulsum).
enum ScalarBytes {
    static func encode(_ v: Double, as type: NCCLDataType) -> [UInt8] {
        func raw<T>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x) { Array($0) } }
        switch type {
        case .int8: return raw(Int8(v))
        case .uint8: return raw(UInt8(v))
        case .int32: return raw(Int32(v))
        case .uint32: return raw(UInt32(v))
        case .int64: return raw(Int64(v))
        case .uint64: return raw(UInt64(v))
        case .float32: return raw(Float(v))
        case .float64: return raw(v)
        case .float16: return raw(Float16Bits.half(Float(v)))
        case .bfloat16: return raw(UInt16(truncatingIfNeeded: Float(v).bitPattern >> 16))
        case .float8e4m3: return [Float16Bits.fp8(Float(v), exponentBits: 4, mantissaBits: 3, bias: 7)]
        case .float8e5m2: return [Float16Bits.fp8(Float(v), exponentBits: 5, mantissaBits: 2, bias: 15)]
        }
    }
}

/// Bit-level encodings of small exactly-representable values (no rounding needed for them).
enum Float16Bits {
    static func half(_ f: Float) -> UInt16 {
        if f == 0 { return 0 }
        let b = f.bitPattern
        let sign = UInt16((b >> 16) & 0x8000)
        let exp = Int((b >> 23) & 0xff) - 127 + 15
        let mant = UInt16((b >> 13) & 0x3ff)
        return sign | UInt16(exp << 10) | mant
    }

    static func fp8(_ f: Float, exponentBits: Int, mantissaBits: Int, bias: Int) -> UInt8 {
        if f == 0 { return 0 }
        let b = f.bitPattern
        let sign = UInt8((b >> 31) << 7)
        let exp = Int((b >> 23) & 0xff) - 127 + bias
        let mant = UInt8((b >> UInt32(23 - mantissaBits)) & UInt32((1 << mantissaBits) - 1))
        return sign | UInt8(exp << mantissaBits) | mant
    }
}
