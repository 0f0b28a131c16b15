import Testing
@testable import GPU

/// NCCL types and ops, scalar encodings, PCI ids, NVLink rates, compiler options, error texts.
@Suite struct TypesTests {
    /// nccl.h `ncclDataType_t` (NCCL 2.24+) and nccl-tests' names.
    static let ncclH: [(NCCLDataType, Int32, String, Int, Bool, Bool)] = [
        // type, raw, nccl-tests name, size, isFloat, isSigned
        (.int8, 0, "int8", 1, false, true), (.uint8, 1, "uint8", 1, false, false),
        (.int32, 2, "int32", 4, false, true), (.uint32, 3, "uint32", 4, false, false),
        (.int64, 4, "int64", 8, false, true), (.uint64, 5, "uint64", 8, false, false),
        (.float16, 6, "half", 2, true, true), (.float32, 7, "float", 4, true, true),
        (.float64, 8, "double", 8, true, true), (.bfloat16, 9, "bfloat16", 2, true, true),
        (.float8e4m3, 10, "f8e4m3", 1, true, true), (.float8e5m2, 11, "f8e5m2", 1, true, true),
    ]

    @Test func dataTypesMatchNcclH() {
        #expect(Self.ncclH.count == NCCLDataType.allCases.count)
        for (t, raw, name, size, isFloat, isSigned) in Self.ncclH {
            #expect(t.rawValue == raw, "\(t)")
            #expect(t.name == name, "\(t)")
            #expect(t.size == size, "\(t)")
            #expect(t.isFloat == isFloat, "\(t)")
            #expect(t.isSigned == isSigned, "\(t)")
            #expect(NCCLDataType(name: name) == t, "name round trip")
            #expect(NCCLDataType(name: name.uppercased()) == t, "case-insensitive")
        }
    }

    @Test(arguments: [
        ("char", NCCLDataType.int8), ("int", .int32), ("float16", .float16), ("fp16", .float16), ("f16", .float16),
        ("float32", .float32), ("fp32", .float32), ("f32", .float32), ("float64", .float64), ("fp64", .float64),
        ("f64", .float64), ("bf16", .bfloat16), ("fp8_e4m3", .float8e4m3), ("e4m3", .float8e4m3),
        ("fp8_e5m2", .float8e5m2), ("e5m2", .float8e5m2), ("BF16", .bfloat16),
    ])
    func dataTypeAliases(_ name: String, _ t: NCCLDataType) {
        #expect(NCCLDataType(name: name) == t)
    }

    @Test(arguments: ["", "float128", "int16", "fp8", "all", " float", "float,half"])
    func unknownDataTypes(_ name: String) {
        #expect(NCCLDataType(name: name) == nil)
    }

    @Test func reduceOps() {
        #expect(NCCLReduceOp.allCases.map(\.rawValue) == ["sum", "prod", "max", "min", "avg", "premulsum"])
        // nccl.h ncclRedOp_t: ncclSum 0, ncclProd 1, ncclMax 2, ncclMin 3, ncclAvg 4; premulsum is created per communicator.
        #expect(NCCLReduceOp.allCases.map { $0.builtin?.rawValue } == [0, 1, 2, 3, 4, nil])
        for o in NCCLReduceOp.allCases {
            #expect(NCCLReduceOp(name: o.rawValue) == o)
            #expect(NCCLReduceOp(name: o.rawValue.uppercased()) == o)
            #expect(NCCLReduceOp(name: o.tableName) == o, "nccl-tests' table name parses back")
        }
        #expect(NCCLReduceOp(name: "mulsum") == .premulsum)
        #expect(NCCLReduceOp(name: "MulSum") == .premulsum)
        #expect(NCCLReduceOp.premulsum.tableName == "mulsum")
        #expect(NCCLReduceOp.sum.tableName == "sum")
        for bad in ["", "add", "none", "mul", "all"] { #expect(NCCLReduceOp(name: bad) == nil, "\(bad)") }
    }

    /// Known bit patterns of 2, 1, −1 and 0 in every type, little-endian.
    @Test func scalarEncodings() {
        let want: [NCCLDataType: [Double: [UInt8]]] = [
            .int8: [2: [2], 1: [1], -1: [0xFF], 0: [0]],
            .uint8: [2: [2], 1: [1], 0: [0]],
            .int32: [2: [2, 0, 0, 0], 1: [1, 0, 0, 0], -1: [0xFF, 0xFF, 0xFF, 0xFF], 0: [0, 0, 0, 0]],
            .uint32: [2: [2, 0, 0, 0], 1: [1, 0, 0, 0], 0: [0, 0, 0, 0]],
            .int64: [2: [2] + [UInt8](repeating: 0, count: 7), 1: [1] + [UInt8](repeating: 0, count: 7),
                     -1: [UInt8](repeating: 0xFF, count: 8), 0: [UInt8](repeating: 0, count: 8)],
            // Unsigned types: -1 is not representable (ScalarBytes traps on it; gpucomm only encodes 2).
            .uint64: [2: [2] + [UInt8](repeating: 0, count: 7), 1: [1] + [UInt8](repeating: 0, count: 7), 0: [UInt8](repeating: 0, count: 8)],
            .float16: [2: [0x00, 0x40], 1: [0x00, 0x3C], -1: [0x00, 0xBC], 0: [0, 0]],
            .bfloat16: [2: [0x00, 0x40], 1: [0x80, 0x3F], -1: [0x80, 0xBF], 0: [0, 0]],
            .float32: [2: [0, 0, 0, 0x40], 1: [0, 0, 0x80, 0x3F], -1: [0, 0, 0x80, 0xBF], 0: [0, 0, 0, 0]],
            .float64: [2: [0, 0, 0, 0, 0, 0, 0, 0x40], 1: [0, 0, 0, 0, 0, 0, 0xF0, 0x3F], -1: [0, 0, 0, 0, 0, 0, 0xF0, 0xBF],
                       0: [UInt8](repeating: 0, count: 8)],
            .float8e4m3: [2: [0x40], 1: [0x38], -1: [0xB8], 0: [0]],
            .float8e5m2: [2: [0x40], 1: [0x3C], -1: [0xBC], 0: [0]],
        ]
        #expect(Set(want.keys) == Set(NCCLDataType.allCases))
        for (t, values) in want {
            for (v, bytes) in values {
                #expect(ScalarBytes.encode(v, as: t) == bytes, "\(t) \(v)")
                #expect(ScalarBytes.encode(v, as: t).count == t.size, "\(t): one element")
            }
        }
    }

    @Test func halfAndFp8Bits() {
        #expect(Float16Bits.half(2) == 0x4000)
        #expect(Float16Bits.half(0.5) == 0x3800)
        #expect(Float16Bits.half(-2) == 0xC000)
        #expect(Float16Bits.half(3) == 0x4200)
        #expect(Float16Bits.fp8(2, exponentBits: 4, mantissaBits: 3, bias: 7) == 0x40)
        #expect(Float16Bits.fp8(3, exponentBits: 4, mantissaBits: 3, bias: 7) == 0x44)
        #expect(Float16Bits.fp8(0.5, exponentBits: 5, mantissaBits: 2, bias: 15) == 0x38)
        #expect(Float16Bits.fp8(-2, exponentBits: 5, mantissaBits: 2, bias: 15) == 0xC0)
        #if arch(x86_64) || arch(arm64)
        // Cross-check with the platform's own half type where it has one.
        for v: Float in [2, 1, -1, 0.5, 3, 1024, -0.25] { #expect(Float16Bits.half(v) == Float16(v).bitPattern, "\(v)") }
        #endif
    }

    @Test(arguments: [
        ("00000000:06:00.0", "0000:06:00.0"),
        ("0000:06:00.0", "0000:06:00.0"),
        ("00000000:1A:00.0", "0000:1a:00.0"),
        ("0000:BD:00.0", "0000:bd:00.0"),
        ("1:06:00.0", "0001:06:00.0"),
        ("00000001:c1:00.0", "0001:c1:00.0"),
        ("06:00.0", "06:00.0"),
        ("", ""),
    ])
    func pciBusIds(_ raw: String, _ want: String) {
        #expect(normalizePCIBusId(raw) == want)
    }

    @Test func nvmlAndCudaSpellingsMeet() {
        #expect(normalizePCIBusId("00000000:9A:00.0") == normalizePCIBusId("0000:9a:00.0"))
    }

    @Test(arguments: [("8.0", 25.0), ("9.0", 25), ("10.0", 50), ("10.3", 50), ("9", 25)] as [(String, Double)])
    func nvlinkPerLink(_ cc: String, _ gbps: Double) {
        #expect(Inventory.nvlinkGBpsPerLink(computeCapability: cc) == gbps)
    }

    @Test(arguments: ["7.0", "7.5", "12.0", "", "abc", "sm_90"])
    func nvlinkUnknown(_ cc: String) {
        #expect(Inventory.nvlinkGBpsPerLink(computeCapability: cc) == nil)
    }

    @Test func nvlinkPeaksMatchDatasheets() {
        // A100 600 GB/s over 12 links, H100 900 GB/s over 18, B200 1800 GB/s over 18 (bidirectional).
        #expect(Inventory.nvlinkGBpsPerLink(computeCapability: "8.0")! * 12 * 2 == 600)
        #expect(Inventory.nvlinkGBpsPerLink(computeCapability: "9.0")! * 18 * 2 == 900)
        #expect(Inventory.nvlinkGBpsPerLink(computeCapability: "10.0")! * 18 * 2 == 1800)
    }

    @Test func nvrtcOptions() {
        let plain = CompileRequest(name: "k", source: "", arch: "sm_90")
        #expect(plain.nvrtcOptions == ["-arch=sm_90", "-std=c++17"])
        let inc = CompileRequest(name: "k", source: "", arch: "sm_100", options: ["-DX=1", "-lineinfo"], includeDirs: ["/a", "/b c"])
        #expect(inc.nvrtcOptions == ["-arch=sm_100", "-std=c++17", "-DX=1", "-lineinfo", "-I/a", "-I/b c"])
        #expect(!inc.nvrtcOptions.contains("-rdc=true") && !inc.nvrtcOptions.contains("-dlto"))
        let linked = CompileRequest(name: "k", source: "", arch: "sm_90", includeDirs: ["/nvshmem/include"],
                                    linkLibraries: ["/nvshmem/lib/libnvshmem_device.a"], dependencyVersions: ["3.3.9"])
        #expect(linked.nvrtcOptions == ["-arch=sm_90", "-std=c++17", "-I/nvshmem/include", "-rdc=true", "-dlto"])
        let versioned = CompileRequest(name: "k", source: "", arch: "sm_90", dependencyVersions: ["2.28.9"])
        #expect(versioned.nvrtcOptions == plain.nvrtcOptions, "versions are cache keys, not options")
    }

    @Test func errorDescriptionsNameTheCallAndTheLibrarysWords() {
        let n = NCCLError(call: "ncclAllReduce(count 4)", code: 5, text: "invalid usage", lastError: "comm is being destroyed")
        #expect(n.description == "ncclAllReduce(count 4) failed: ncclInvalidUsage (5): invalid usage — comm is being destroyed")
        let n2 = NCCLError(call: "ncclGroupEnd", code: 2, text: "unhandled system error", lastError: "")
        #expect(n2.description == "ncclGroupEnd failed: ncclSystemError (2): unhandled system error")
        #expect(NCCLError(call: "x", code: 42, text: "?", lastError: "").description.contains("ncclResult 42"))
        for (code, name) in [(1, "ncclUnhandledCudaError"), (3, "ncclInternalError"), (4, "ncclInvalidArgument"),
                             (6, "ncclRemoteError"), (7, "ncclInProgress")] as [(Int32, String)] {
            #expect(NCCLError(call: "c", code: code, text: "t", lastError: "").description == "c failed: \(name) (\(code)): t")
        }
        let c = CUDAError(call: "cuMemAlloc(1 GiB)", code: 2, name: "CUDA_ERROR_OUT_OF_MEMORY", text: "out of memory")
        #expect(c.description == "cuMemAlloc(1 GiB) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory")
        let m = NVMLError(call: "nvmlDeviceGetFieldValues", code: 3, text: "Not Supported")
        #expect(m.description.contains("nvmlDeviceGetFieldValues") && m.description.contains("Not Supported") && m.description.contains("3"))
        let s = MissingSymbol(library: "/lib/libnccl.so.2", symbol: "ncclCommWindowRegister")
        #expect(s.description.contains("ncclCommWindowRegister") && s.description.contains("/lib/libnccl.so.2"))
        let e = CompileError(kernel: "fill_check", stage: "NVRTC compile", code: 6, status: "NVRTC_ERROR_COMPILATION",
                             log: "fill_check.cu(3): error: x", options: ["-arch=sm_90", "-std=c++17"])
        #expect(e.description.hasPrefix("NVRTC compile of fill_check failed: NVRTC_ERROR_COMPILATION (6); options: -arch=sm_90 -std=c++17"))
        #expect(e.description.hasSuffix("fill_check.cu(3): error: x"))
    }
}
