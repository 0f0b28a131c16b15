import Copy
import Driver
import Foundation
import GoldenFiles
import Testing

/// What `gpucomm copy` measures and how it counts, without a GPU.
@Suite struct CopyDescriptorTests {
    @Test func keysAreNVBandwidthsTestcaseNamesAndUnique() {
        let keys = CopyBenchmark.all.map(\.key)
        #expect(Set(keys).count == keys.count)
        for k in ["host_to_device_memcpy_ce", "host_to_device_memcpy_sm", "device_to_host_memcpy_ce", "device_to_host_memcpy_sm",
                  "device_local_copy_ce", "device_to_device_memcpy_read_ce", "device_to_device_memcpy_write_sm",
                  "device_to_device_bidirectional_memcpy_read_ce", "device_to_device_bidirectional_memcpy_write_sm",
                  "one_to_all_memcpy_ce", "all_to_one_memcpy_sm", "all_to_host_memcpy_ce", "host_to_all_memcpy_sm",
                  "host_device_latency_sm", "device_to_device_latency_sm"] {
            #expect(keys.contains(k), "missing \(k)")
        }
        #expect(CopyBenchmark.all.count == 12 * 2 + 2)
        #expect(CopyBenchmark.all.allSatisfy { $0.family == .copy && !$0.summary.isEmpty && !$0.timings.isEmpty })
    }

    /// One copy of 1 GB in 10 ms is 100 GB/s; the other patterns scale it as docs/copy.md says.
    @Test(arguments: CopyBenchmark.all)
    func byteAccounting(_ b: CopyBenchmark) throws {
        let gpus = 4
        let a = b.accounting(bytes: 1_000_000_000, ranks: gpus)
        guard let (alg, bus) = a.bandwidth(microseconds: 10_000) else {
            #expect(b.pattern.isLatency)
            #expect(a == .latency)
            return
        }
        let (factor, busFactor): (Double, Double)
        switch b.pattern {
        case .hostToDevice, .deviceToHost, .deviceToDeviceRead, .deviceToDeviceWrite: (factor, busFactor) = (1, 1)
        case .hostDeviceBidirectional, .deviceToDeviceBidirectionalRead, .deviceToDeviceBidirectionalWrite: (factor, busFactor) = (1, 2)
        case .deviceLocal: (factor, busFactor) = (1, 2)
        case .oneToAll, .allToOne: (factor, busFactor) = (3, 1)
        case .allToHost, .hostToAll: (factor, busFactor) = (4, 1)
        case .hostDeviceLatency, .deviceToDeviceLatency: Issue.record("latency has no bandwidth"); return
        }
        #expect(abs(alg - 100 * factor) < 1e-9)
        #expect(abs(bus - 100 * factor * busFactor) < 1e-9)
    }

    @Test func oneGPURunsTheHostTestsTheLocalCopyAndLatencyOnly() {
        let one = JobShape(ranks: 1, hasNCCL: false, hasNVSHMEM: false)
        let runs = CopyBenchmark.all.filter { $0.applicability(one) == .applies }.map(\.pattern)
        #expect(Set(runs) == [.hostToDevice, .deviceToHost, .hostDeviceBidirectional, .deviceLocal, .hostDeviceLatency, .deviceToDeviceLatency])
        #expect(CopyBenchmark(.deviceToDeviceRead, .ce).applicability(one) == .waived("needs 2 GPUs"))
        #expect(CopyBenchmark.all.allSatisfy { $0.applicability(JobShape(ranks: 2, hasNCCL: false, hasNVSHMEM: false)) == .applies })
    }

    @Test func selectionByKeyAndGroup() throws {
        #expect(try CopyBenchmark.select(["all"], engines: [.ce, .sm]).get() == CopyBenchmark.all)
        let host = try CopyBenchmark.select(["host"], engines: [.ce]).get()
        #expect(host.map(\.key) == ["host_to_device_memcpy_ce", "device_to_host_memcpy_ce", "host_device_bidirectional_memcpy_ce",
                                    "all_to_host_memcpy_ce", "host_to_all_memcpy_ce"])
        #expect(try CopyBenchmark.select(["latency"], engines: [.ce]).get().map(\.key) == ["host_device_latency_sm", "device_to_device_latency_sm"])
        #expect(try CopyBenchmark.select(["device_local_copy_sm", "local"], engines: [.ce]).get().map(\.key) == ["device_local_copy_ce", "device_local_copy_sm"])
        #expect(try CopyBenchmark.select(["peer"], engines: [.sm]).get().count == 6)
        #expect(throws: CopyWaiver.self) { try CopyBenchmark.select(["host", "h2d"], engines: [.ce]).get() }
    }
}

@Suite struct CopyLimitTests {
    /// Per lane and direction after line coding (PCI-SIG): the x16 figures vendors quote.
    @Test func pcieRateFromGenerationAndWidth() throws {
        let x16: [Int: Double] = [1: 4.0, 2: 8.0, 3: 15.754, 4: 31.508, 5: 63.015, 6: 121.0]
        for (gen, want) in x16 {
            let got = try #require(PCIeRate.gbps(generation: gen, width: 16))
            #expect(abs(got - want) < 0.01, "Gen\(gen) x16: \(got)")
        }
        #expect(abs(PCIeRate.gbps(generation: 4, width: 8)! - 15.754) < 0.01)
        #expect(abs(PCIeRate.gbps(generation: 5, width: 1)! - 3.938) < 0.001)
        #expect(PCIeRate.gbps(generation: 7, width: 16) == nil)
        #expect(PCIeRate.gbps(generation: 0, width: 16) == nil)
        #expect(PCIeRate.gbps(generation: 5, width: 0) == nil)
    }

    @Test func hostLimitUsesTheMostTheLinkAllowsAtTheWidthItTrainedTo() throws {
        // An idle H100 reports Gen1 now; the limit is Gen5.
        let l = try #require(CopyLimit.pcie(maxGeneration: 5, currentGeneration: 1, currentWidth: 16, maxWidth: 16))
        #expect(l.name == "PCIe Gen5 x16")
        #expect(abs(l.gbps - 63.015) < 0.01)
        #expect(CopyLimit.pcie(maxGeneration: 5, currentGeneration: 5, currentWidth: 8, maxWidth: 16)?.name == "PCIe Gen5 x8")
        #expect(CopyLimit.pcie(maxGeneration: nil, currentGeneration: 4, currentWidth: nil, maxWidth: 16)?.name == "PCIe Gen4 x16")
        #expect(CopyLimit.pcie(maxGeneration: nil, currentGeneration: nil, currentWidth: 16, maxWidth: 16) == nil)
        #expect(abs(l.fraction(56.7) - 0.8998) < 0.001)
    }

    @Test func peerLimitIsTheNVLinkRateElseThePCIeLink() {
        let pcie = CopyLimit(name: "PCIe Gen5 x16", gbps: 63.015)
        let t = CopyTopology(pcie: [pcie, pcie, pcie], links: [["X", "NV18", "SYS"], ["NV18", "X", "SYS"], ["SYS", "SYS", "X"]],
                             nvlinkGBpsPerLink: 25, nvlinksPerGPU: [18, 18, nil])
        let read = CopyBenchmark(.deviceToDeviceRead, .ce)
        let cells = CopyLayout(read, gpus: 3).cells
        #expect(t.limit(read, cells.first { $0.row == 0 && $0.column == 1 }!) == CopyLimit(name: "NVLink 18 × 25 GB/s", gbps: 450))
        #expect(t.limit(read, cells.first { $0.row == 0 && $0.column == 2 }!) == pcie)
        let h2d = CopyBenchmark(.hostToDevice, .sm)
        #expect(t.limit(h2d, CopyLayout(h2d, gpus: 3).cells[2]) == pcie)
        let all = CopyBenchmark(.hostToAll, .ce)
        #expect(t.limit(all, CopyLayout(all, gpus: 3).cells[0])?.gbps == 3 * 63.015)
        let one = CopyBenchmark(.oneToAll, .ce)
        #expect(t.limit(one, CopyLayout(one, gpus: 3).cells[0])?.gbps == 450)
        #expect(t.limit(one, CopyLayout(one, gpus: 3).cells[2]) == pcie)  // no NVLink: its PCIe link
        #expect(t.limit(CopyBenchmark(.deviceLocal, .ce), CopyLayout(CopyBenchmark(.deviceLocal, .ce), gpus: 3).cells[0]) == nil)
        #expect(t.limit(CopyBenchmark(.hostDeviceLatency, .sm), CopyLayout(CopyBenchmark(.hostDeviceLatency, .sm), gpus: 3).cells[0]) == nil)
    }
}

@Suite struct CopyLayoutTests {
    func legs(_ p: CopyPattern, _ gpus: Int, _ row: Int, _ col: Int) -> [CopyLeg]? {
        CopyLayout(CopyBenchmark(p, p.isLatency ? .sm : .ce), gpus: gpus).cells.first { $0.row == row && $0.column == col }?.legs
    }

    @Test func whoCopiesWhatInEachCell() {
        #expect(legs(.hostToDevice, 2, 0, 1) == [CopyLeg(.host, .device(1), issuer: 1)])
        #expect(legs(.deviceToHost, 2, 0, 0) == [CopyLeg(.device(0), .host, issuer: 0)])
        #expect(legs(.hostDeviceBidirectional, 1, 0, 0) == [CopyLeg(.host, .device(0), issuer: 0), CopyLeg(.device(0), .host, issuer: 0)])
        #expect(legs(.deviceLocal, 1, 0, 0) == [CopyLeg(.device(0), .device(0), issuer: 0)])
        // Read: the row GPU pulls the column GPU's memory with its own stream; write: the row GPU pushes.
        #expect(legs(.deviceToDeviceRead, 4, 0, 3) == [CopyLeg(.device(3), .device(0), issuer: 0)])
        #expect(legs(.deviceToDeviceWrite, 4, 0, 3) == [CopyLeg(.device(0), .device(3), issuer: 0)])
        #expect(legs(.deviceToDeviceBidirectionalRead, 2, 1, 0) == [CopyLeg(.device(0), .device(1), issuer: 1), CopyLeg(.device(1), .device(0), issuer: 0)])
        #expect(legs(.deviceToDeviceBidirectionalWrite, 2, 1, 0) == [CopyLeg(.device(1), .device(0), issuer: 1), CopyLeg(.device(0), .device(1), issuer: 0)])
        #expect(legs(.oneToAll, 3, 0, 1) == [CopyLeg(.device(1), .device(0), issuer: 1), CopyLeg(.device(1), .device(2), issuer: 1)])
        #expect(legs(.allToOne, 3, 0, 1) == [CopyLeg(.device(0), .device(1), issuer: 0), CopyLeg(.device(2), .device(1), issuer: 2)])
        #expect(legs(.allToHost, 2, 0, 0) == [CopyLeg(.device(0), .host, issuer: 0), CopyLeg(.device(1), .host, issuer: 1)])
        #expect(legs(.hostToAll, 2, 0, 0) == [CopyLeg(.host, .device(0), issuer: 0), CopyLeg(.host, .device(1), issuer: 1)])
        #expect(legs(.hostDeviceLatency, 2, 0, 1) == [CopyLeg(.host, .device(1), issuer: 1)])
        #expect(legs(.deviceToDeviceLatency, 2, 1, 1) == [CopyLeg(.device(1), .device(1), issuer: 1)])  // the diagonal: its own memory
        #expect(legs(.deviceToDeviceLatency, 2, 0, 1) == [CopyLeg(.device(1), .device(0), issuer: 0)])
    }

    @Test(arguments: [1, 2, 4, 8])
    func cellCounts(_ n: Int) {
        for b in CopyBenchmark.all where n >= b.pattern.minimumGPUs {
            let l = CopyLayout(b, gpus: n)
            let want: Int
            switch b.pattern {
            case .deviceToDeviceRead, .deviceToDeviceWrite, .deviceToDeviceBidirectionalRead, .deviceToDeviceBidirectionalWrite: want = n * (n - 1)
            case .deviceToDeviceLatency: want = n * n
            case .allToHost, .hostToAll: want = 1
            default: want = n
            }
            #expect(l.cells.count == want, "\(b.key) on \(n) GPUs")
            #expect(l.cells.allSatisfy { $0.row < l.rowLabels.count && $0.column < l.columnLabels.count && !$0.legs.isEmpty })
            #expect(Set(l.cells.map { "\($0.row),\($0.column)" }).count == l.cells.count)
        }
    }
}

@Suite struct CopyMatrixTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// nvbandwidth's layout: a 4-GPU read matrix with N/A on the diagonal, and a host row.
    @Test func nvbandwidthLayoutGolden() throws {
        let read = CopyBenchmark(.deviceToDeviceRead, .ce)
        var m = CopyMatrix(read, CopyLayout(read, gpus: 4))
        for i in 0..<4 { for j in 0..<4 where i != j { m[i, j] = 389.21 + Double(i * 4 + j) / 100 } }
        let h2d = CopyBenchmark(.hostToDevice, .ce)
        var h = CopyMatrix(h2d, CopyLayout(h2d, gpus: 2))
        h.title += ", pinned host memory"
        h[0, 0] = 55.2349
        h[0, 1] = 1234.5
        let lat = CopyBenchmark(.deviceToDeviceLatency, .sm)
        var l = CopyMatrix(lat, CopyLayout(lat, gpus: 1))
        l[0, 0] = 0.64
        try GoldenFile.check(m.formatted() + "\n" + h.formatted() + "\n" + l.formatted(), golden: Self.golden.appendingPathComponent("matrices.txt"))
    }

    @Test func sumCountsMeasuredCellsOnly() {
        var m = CopyMatrix(key: "k", title: "t", rowLabels: ["0"], columnLabels: ["0", "1", "2"])
        m[0, 0] = 1.5
        m[0, 2] = 2
        #expect(m.sum == 3.5)
        #expect(m.formatted().contains("       N/A"))
        #expect(m.formatted().hasSuffix("\nSUM k 3.50\n"))
    }
}

@Suite struct CopyPatternTests {
    @Test func valuesAreEvenSoPoisonNeverPasses() {
        var seen = Set<UInt32>()
        for i in 0..<10_000 {
            let v = CopyPattern32.value(UInt64(i), seed: 7)
            #expect(v & 1 == 0)
            #expect(v != 0xFFFF_FFFF)
            seen.insert(v)
        }
        #expect(seen.count > 9_990)  // a hash, not a counter: neighbours differ
        #expect(CopyPattern32.value(5, seed: 1) != CopyPattern32.value(5, seed: 2))  // a new seed: stale data fails
    }

    @Test func hostCheckCountsEveryWrongWord() {
        var buf = [UInt32](repeating: 0, count: 1000)
        buf.withUnsafeMutableBytes { CopyPattern32.fill($0.baseAddress!, count: 1000, seed: 3) }
        #expect(buf.withUnsafeBytes { CopyPattern32.countWrong($0.baseAddress!, count: 1000, seed: 3) } == 0)
        #expect(buf.withUnsafeBytes { CopyPattern32.countWrong($0.baseAddress!, count: 1000, seed: 4) } >= 999)
        buf[0] = 0xFFFF_FFFF
        buf[999] ^= 2
        #expect(buf.withUnsafeBytes { CopyPattern32.countWrong($0.baseAddress!, count: 1000, seed: 3) } == 2)
    }

    /// Pinned to the kernel's gc_copy_value (cuda/copy.cu): if either changes, this fails.
    @Test func valueIsTheKernelsFunction() {
        func reference(_ i: UInt64, _ seed: UInt32) -> UInt32 {
            var x = (i &+ (UInt64(seed) << 32)) &* 0x9E3779B97F4A7C15
            x ^= x >> 31; x = x &* 0xBF58476D1CE4E5B9; x ^= x >> 29
            return UInt32(truncatingIfNeeded: x) & 0xFFFFFFFE
        }
        for i: UInt64 in [0, 1, 2, 1 << 20, 1 << 33, UInt64.max] { #expect(CopyPattern32.value(i, seed: 9) == reference(i, 9)) }
    }

    @Test func chainIsOneCycleThroughEverySlot() {
        let c = PointerChain(bytes: 64 << 10, strideBytes: 256)
        #expect(c.slots == 256)
        var slot = 0, visited = Set<Int>()
        for _ in 0..<c.slots {
            visited.insert(slot)
            let next = c.next[slot]
            #expect(next % 32 == 0)      // a slot start, in 8-byte words
            #expect(next / 32 != slot)   // never itself
            slot = next / 32
        }
        #expect(visited.count == c.slots && slot == 0)  // back at the start after every slot once
        #expect(c.end(after: 0) == 0)
        #expect(c.end(after: c.slots) == 0)
        #expect(c.end(after: 1) == UInt64(c.next[0]))
        // The words the kernel reads are what end(after:) follows.
        var mem = [UInt64](repeating: 7, count: c.bytes / 8)
        mem.withUnsafeMutableBytes { c.write(to: $0.baseAddress!) }
        var i = 0
        for _ in 0..<1000 { i = Int(mem[i]) }
        #expect(UInt64(i) == c.end(after: 1000))
    }
}

@Suite struct CopyNUMATests {
    @Test func parsesSysfsLists() {
        #expect(NUMATopology.parseList("0\n") == [0])
        #expect(NUMATopology.parseList("0-1") == [0, 1])
        #expect(NUMATopology.parseList("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11])
        #expect(NUMATopology.parseList("") == [])
        #expect(NUMATopology.parseList("3-1") == nil)
        #expect(NUMATopology.parseList("a") == nil)
        #expect(NUMATopology.parseList("-1") == nil)
    }

    @Test func hostMemoryChoicePicksTheNode() throws {
        #expect(try HostMemoryChoice.pinned.node(gpuNode: nil, nodes: [0]).get() == nil)
        #expect(HostMemoryChoice.numaLocal.node(gpuNode: 0, nodes: [0]) == .failure(CopyWaiver("one NUMA node")))
        #expect(try HostMemoryChoice.numaLocal.node(gpuNode: 1, nodes: [0, 1]).get() == 1)
        #expect(try HostMemoryChoice.numaRemote.node(gpuNode: 1, nodes: [0, 1]).get() == 0)
        #expect(try HostMemoryChoice.numaRemote.node(gpuNode: 0, nodes: [0, 1, 2, 3]).get() == 1)
        #expect(HostMemoryChoice.numaRemote.node(gpuNode: nil, nodes: [0, 1]) == .failure(CopyWaiver("the GPU's NUMA node is unknown")))
        #expect(HostMemoryChoice.numaRemote.variant == "numa_remote")
    }
}
