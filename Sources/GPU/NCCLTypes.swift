// NCCL's value types: errors, data types, reduction ops (nccl.h numbering).

/// A failed NCCL call: NCCL's result name and text plus `ncclGetLastError`.
public struct NCCLError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var text: String
    public var lastError: String
    public var description: String {
        let name = NCCLError.names[Int(code)] ?? "ncclResult \(code)"
        return "\(call) failed: \(name) (\(code)): \(text)\(lastError.isEmpty ? "" : " — \(lastError)")"
    }

    static let names: [Int: String] = [1: "ncclUnhandledCudaError", 2: "ncclSystemError", 3: "ncclInternalError",
                                       4: "ncclInvalidArgument", 5: "ncclInvalidUsage", 6: "ncclRemoteError",
                                       7: "ncclInProgress"]
}

/// NCCL data types (nccl.h `ncclDataType_t`) with nccl-tests' names.
public enum NCCLDataType: Int32, CaseIterable, Sendable {
    case int8 = 0, uint8 = 1, int32 = 2, uint32 = 3, int64 = 4, uint64 = 5
    case float16 = 6, float32 = 7, float64 = 8, bfloat16 = 9, float8e4m3 = 10, float8e5m2 = 11

    /// nccl-tests' spelling (`float`, `half`, `bfloat16`, `f8e4m3`, ...).
    public var name: String {
        switch self {
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .int32: return "int32"
        case .uint32: return "uint32"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float16: return "half"
        case .float32: return "float"
        case .float64: return "double"
        case .bfloat16: return "bfloat16"
        case .float8e4m3: return "f8e4m3"
        case .float8e5m2: return "f8e5m2"
        }
    }

    public var size: Int {
        switch self {
        case .int8, .uint8, .float8e4m3, .float8e5m2: return 1
        case .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isFloat: Bool { [.float16, .float32, .float64, .bfloat16, .float8e4m3, .float8e5m2].contains(self) }
    public var isSigned: Bool { ![.uint8, .uint32, .uint64].contains(self) }

    /// Accepts nccl-tests' names and common aliases (`fp32`, `f32`, `bf16`, `fp16`, `fp8`...).
    public init?(name: String) {
        let aliases: [String: NCCLDataType] = [
            "int8": .int8, "char": .int8, "uint8": .uint8, "int32": .int32, "int": .int32, "uint32": .uint32,
            "int64": .int64, "uint64": .uint64, "half": .float16, "float16": .float16, "fp16": .float16, "f16": .float16,
            "float": .float32, "float32": .float32, "fp32": .float32, "f32": .float32, "double": .float64,
            "float64": .float64, "fp64": .float64, "f64": .float64, "bfloat16": .bfloat16, "bf16": .bfloat16,
            "f8e4m3": .float8e4m3, "fp8_e4m3": .float8e4m3, "e4m3": .float8e4m3, "f8e5m2": .float8e5m2,
            "fp8_e5m2": .float8e5m2, "e5m2": .float8e5m2,
        ]
        guard let t = aliases[name.lowercased()] else { return nil }
        self = t
    }
}

/// NCCL reduction ops; `premulsum` is created per communicator (`ncclRedOpCreatePreMulSum`).
public enum NCCLReduceOp: String, CaseIterable, Sendable {
    case sum, prod, max, min, avg, premulsum

    /// The built-in reduction, nil for premulsum (`Communicator.preMulSum` creates one).
    public var builtin: NCCLReduction? {
        switch self {
        case .sum: return .sum
        case .prod: return .prod
        case .max: return .max
        case .min: return .min
        case .avg: return .avg
        case .premulsum: return nil
        }
    }

    /// nccl-tests prints premulsum as `mulsum`.
    public var tableName: String { self == .premulsum ? "mulsum" : rawValue }

    public init?(name: String) {
        if name.lowercased() == "mulsum" { self = .premulsum; return }
        self.init(rawValue: name.lowercased())
    }
}

/// A reduction as NCCL's calls take it (nccl.h `ncclRedOp_t`): a built-in op, or one created on a
/// communicator (`Communicator.preMulSum`), valid until `Communicator.destroyOp`.
public struct NCCLReduction: RawRepresentable, Hashable, Sendable {
    /// The `ncclRedOp_t` value: ncclSum 0, ncclProd 1, ncclMax 2, ncclMin 3, ncclAvg 4 (nccl.h);
    /// created ops from ncclNumOps (5) up.
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let sum = NCCLReduction(rawValue: 0)
    public static let prod = NCCLReduction(rawValue: 1)
    public static let max = NCCLReduction(rawValue: 2)
    public static let min = NCCLReduction(rawValue: 3)
    public static let avg = NCCLReduction(rawValue: 4)
}
