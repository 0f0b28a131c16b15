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

    // MARK: NCCL's one-rank premulsum tail (src/device/onerank.cu before 2.29.7)

    @Test func oneRankSplitLeavesTheTailItRoundsDown() {
        // selftest's three sizes per type: 1 element, 64 KiB + 1 element, 4 MiB + 1 element.
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 1, elementSize: 4) == 0)
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 16385, elementSize: 4) == 0)    // 5 blocks × 3280 cover it
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 8193, elementSize: 8) == 3)     // 5 blocks × 1638 = 8190
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 65537, elementSize: 1) == 0)
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 1_048_577, elementSize: 4) == 1) // 32 blocks × 32768
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 4_194_305, elementSize: 1) == 1)
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 524_289, elementSize: 8) == 1)
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 1 << 20, elementSize: 4) == 0)   // an even split
        #expect(NCCLOneRankSplit.uncoveredTail(elements: 0, elementSize: 4) == 0)
    }

    func oneRank(_ key: String, _ t: NCCLDataType, _ op: NCCLReduceOp?, elements: Int, inPlace: Bool,
                 ranks: Int = 1, version: Int32 = 22809, mode: BufferMode = .none) -> Bool {
        KnownDefect.explaining(bench(key, t, op, elements * t.size, inPlace: inPlace), mode: mode, ranks: ranks, ncclVersion: version)?.id
            == "nccl-2.28-one-rank-premulsum-tail"
    }

    /// Exactly which of selftest's one-GPU cases it covers: premulsum of every type in and out of
    /// place, avg of floating-point types out of place, in all_reduce, reduce and reduce_scatter,
    /// at the sizes whose tail the split misses; per buffer mode 111 of the cases.
    @Test(arguments: [BufferMode.none, .registered, .symmetric])
    func oneRankCoversExactlyTheSplitTail(_ mode: BufferMode) {
        var matched = 0
        for key in ["all_reduce", "reduce", "reduce_scatter", "all_gather", "broadcast", "alltoall"] {
            for t in NCCLDataType.allCases {
                for n in [1, 65_536 / t.size + 1, (4 << 20) / t.size + 1] {
                    for op: NCCLReduceOp? in [nil, .sum, .prod, .max, .min, .avg, .premulsum] {
                        for ip in [false, true] {
                            let hit = oneRank(key, t, op, elements: n, inPlace: ip, mode: mode)
                            let tail = NCCLOneRankSplit.uncoveredTail(elements: n, elementSize: t.size) > 0
                            let reduces = ["all_reduce", "reduce", "reduce_scatter"].contains(key)
                            let kernel = op == .premulsum || (op == .avg && t.isFloat && !ip)
                            #expect(hit == (reduces && kernel && tail), "\(key) \(t.name) \(op?.rawValue ?? "-") \(n) in-place \(ip)")
                            if hit { matched += 1 }
                        }
                    }
                }
            }
        }
        // premulsum: 12 types at 4 MiB + 1 and the three 8-byte types at 64 KiB + 1, in and out of place;
        // avg: 6 floating-point types at 4 MiB + 1 and float64 at 64 KiB + 1, out of place; × 3 collectives.
        #expect(matched == (15 * 2 + 7) * 3)
    }

    @Test func oneRankDefectOnlyOnOneRankAndTheAffectedReleases() {
        let n = (4 << 20) / 4 + 1
        #expect(oneRank("all_reduce", .float32, .premulsum, elements: n, inPlace: false))
        #expect(oneRank("all_reduce", .float32, .premulsum, elements: n, inPlace: false, version: 22800))  // 2.28.0
        #expect(oneRank("all_reduce", .float32, .premulsum, elements: n, inPlace: false, version: 22906))  // 2.29.6
        #expect(!oneRank("all_reduce", .float32, .premulsum, elements: n, inPlace: false, version: 22907)) // 2.29.7 fixed it
        #expect(!oneRank("all_reduce", .float32, .premulsum, elements: n, inPlace: false, version: 22709)) // 2.27.9: not seen
        #expect(!oneRank("all_reduce", .float32, .premulsum, elements: n, inPlace: false, ranks: 2))
        #expect(!oneRank("all_reduce", .int32, .avg, elements: n, inPlace: false))    // integer avg: sum, then divide: a plain copy
        #expect(!oneRank("all_reduce", .float32, .avg, elements: n, inPlace: true))   // avg's factor is 1: the unscaled tail is right
        #expect(!oneRank("all_reduce", .float32, .sum, elements: n, inPlace: false))  // not the kernel: cudaMemcpyAsync
    }
}

