import Collectives
import GPU
import Testing

/// Which cases the known NCCL defects cover: exactly the ones seen wrong on NCCL 2.28.9, and no others.
@Suite struct KnownDefectTests {
    func bench(_ key: String, _ type: NCCLDataType, _ op: NCCLReduceOp?, _ size: Int, inPlace: Bool) -> BenchCase {
        BenchCase(collective: Collectives.named(key)!, type: type, op: op, root: 0, sizeBytes: size, inPlace: inPlace)
    }

    @Test func coversTheCasesSeenWrongOnNCCL2289() {
        let v: Int32 = 22809
        // The 14 selftest failures of 2026-11-21 (4 ranks).
        for t: NCCLDataType in [.int8, .uint8, .float8e4m3, .float8e5m2] {
            #expect(KnownDefect.explaining(bench("all_gather", t, nil, 65540, inPlace: true), mode: .symmetric, ranks: 4, ncclVersion: v) != nil)
        }
        for t: NCCLDataType in [.float16, .bfloat16] {
            #expect(KnownDefect.explaining(bench("all_gather", t, nil, 65544, inPlace: true), mode: .symmetric, ranks: 4, ncclVersion: v) != nil)
            for ip in [false, true] {
                #expect(KnownDefect.explaining(bench("reduce_scatter", t, .sum, 65544, inPlace: ip), mode: .symmetric, ranks: 4, ncclVersion: v) != nil)
            }
        }
    }

    @Test func coversNothingElse() {
        let v: Int32 = 22809
        // Other buffer modes, aligned blocks, other ops, 4-byte types, other collectives, other releases.
        #expect(KnownDefect.explaining(bench("all_gather", .int8, nil, 65540, inPlace: true), mode: .none, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("all_gather", .int8, nil, 65540, inPlace: true), mode: .registered, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("all_gather", .int8, nil, 65536, inPlace: true), mode: .symmetric, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("all_gather", .int8, nil, 65540, inPlace: false), mode: .symmetric, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("reduce_scatter", .float16, .max, 65544, inPlace: false), mode: .symmetric, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("reduce_scatter", .float32, .sum, 65552, inPlace: false), mode: .symmetric, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("reduce_scatter", .int8, .sum, 65540, inPlace: false), mode: .symmetric, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("all_reduce", .float16, .sum, 65544, inPlace: false), mode: .symmetric, ranks: 4, ncclVersion: v) == nil)
        #expect(KnownDefect.explaining(bench("all_gather", .int8, nil, 65540, inPlace: true), mode: .symmetric, ranks: 4, ncclVersion: 22903) == nil)
    }
}
