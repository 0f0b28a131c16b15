import Kernels
import Testing
@testable import Jacobi

/// The device-side norm of nvshmem_opt and nccl_lsa without a GPU: the per-run plan, its slot
/// and host-word reuse across warm-up and timed run, and the protocol between ranks simulated
/// under every order the kernels' waits allow.
@Suite struct DeviceNormTests {
    /// (normEvery, iterations) pairs, including no norm, a norm every iteration, and runs that end
    /// with or without a check in the last iteration.
    static let cadences: [(Int, Int)] = [(0, 5), (1, 1), (1, 2), (1, 10), (2, 1), (2, 7), (2, 8), (3, 10), (7, 20), (5, 3)]

    @Test(arguments: cadences)
    func planPublishesAssemblesAndReadsEachCheckOnce(_ every: Int, _ n: Int) {
        let problem = JacobiProblem(nx: 64, ny: 64, iterations: n, normEvery: every, warmup: 0)
        let plan = DeviceNormPlan(problem: problem, iterations: n, firstTag: 5)
        let checks = (0..<n).filter(problem.computesNorm)
        #expect(plan.nextTag == 5 + UInt32(checks.count))
        #expect(plan.steps.count == n)
        // Published: exactly at the check iterations, tags in order.
        #expect(plan.steps.enumerated().filter { $0.element.publish != 0 }.map(\.offset) == checks)
        #expect(plan.steps.map(\.publish).filter { $0 != 0 } == Array(5..<plan.nextTag))
        // Sent: by the kernel after the one that computed it (a finish kernel after the last iteration).
        var sentAt: [UInt32: Int] = [:]
        let kernels = plan.steps.map { ($0.send, $0.assemble) } + plan.finish.map { ($0.send, $0.assemble) }
        for (j, k) in kernels.enumerated() where k.0 != 0 {
            #expect(sentAt[k.0] == nil)
            sentAt[k.0] = j
            #expect(j > 0 && (j - 1 < n ? plan.steps[j - 1].publish : 0) == k.0)
        }
        #expect(Set(sentAt.keys) == Set(5..<plan.nextTag))
        // Assembled: once each, in order, at least `lag` kernels after sending (finish kernels: after sending).
        var assembledAt: [UInt32: Int] = [:]
        for (j, k) in kernels.enumerated() where k.1 != 0 {
            #expect(assembledAt[k.1] == nil)
            assembledAt[k.1] = j
            #expect(sentAt[k.1].map { j - $0 >= (j < n ? DeviceNormLayout.lag : 1) } == true)
        }
        #expect(assembledAt.sorted { $0.key < $1.key }.map(\.value) == assembledAt.values.sorted())
        // Read: once each, strictly after the kernel that assembled it (one kernel at least still queued), or at the end.
        var readAt: [UInt32: Int] = [:]
        for (j, s) in plan.steps.enumerated() {
            guard let t = s.read else { continue }
            #expect(readAt[t] == nil)
            readAt[t] = j
            #expect(assembledAt[t].map { $0 < j } == true, "check \(t) read at \(j) before its assembly")
            #expect(s.publish != 0, "the host reads only at check iterations")
        }
        for t in plan.readAtEnd { #expect(readAt[t] == nil); readAt[t] = n }
        #expect(Set(readAt.keys) == Set(5..<plan.nextTag))
        // The last norm the runner reports is the last check's.
        #expect(plan.readAtEnd.last == (checks.isEmpty ? nil : plan.nextTag - 1))
        if every == 0 { #expect(plan.steps.allSatisfy { $0 == DeviceNormPlan.Step() } && plan.finish == [.init()]) }
    }

    /// With a norm every iteration, kernel j sends check j - 1 and assembles check j - 3 (tags
    /// from 1: tag j - 2); the host, after enqueueing kernel j, waits for kernel j - 1 and reads
    /// what it assembled. Three service kernels finish the run.
    @Test func everyIterationSendsOneBehindAndAssemblesThree() {
        let plan = DeviceNormPlan(problem: JacobiProblem(iterations: 5, normEvery: 1), iterations: 5, firstTag: 1)
        #expect(plan.steps == [.init(publish: 1, send: 0, assemble: 0, read: nil), .init(publish: 2, send: 1, assemble: 0, read: nil),
                               .init(publish: 3, send: 2, assemble: 0, read: nil), .init(publish: 4, send: 3, assemble: 1, read: nil),
                               .init(publish: 5, send: 4, assemble: 2, read: 1)])
        #expect(plan.finish == [.init(send: 5, assemble: 3), .init(send: 0, assemble: 4), .init(send: 0, assemble: 5)])
        #expect(plan.readAtEnd == [2, 3, 4, 5] && plan.nextTag == 6)
    }

    /// Warm-up then timed run of one variant share the slots: tags continue, and a host word
    /// (and its event) is written again only after the host has read what it held.
    @Test(arguments: [(1, 10, 1000), (1, 2, 3), (3, 10, 20), (2, 0, 9), (4, 6, 4)])
    func hostWordsAreReadBeforeReuse(_ every: Int, _ warmup: Int, _ timed: Int) {
        let problem = JacobiProblem(nx: 64, ny: 64, iterations: timed, normEvery: every, warmup: warmup)
        var tag: UInt32 = 1
        var holds: [Int: (tag: UInt32, read: Bool)] = [:]  // host word -> last tag written
        var readTags: [UInt32] = []
        for n in [warmup, timed] where n > 0 {
            let plan = DeviceNormPlan(problem: problem, iterations: n, firstTag: tag)
            #expect(plan.steps.first { $0.publish != 0 }?.publish ?? plan.nextTag == tag, "tags continue across runs")
            tag = plan.nextTag
            func write(_ t: UInt32) {
                let w = DeviceNormLayout.hostWord(tag: t)
                if let h = holds[w] { #expect(h.read, "host word \(w) rewritten with check \(t) before check \(h.tag) was read") }
                holds[w] = (t, false)
            }
            func read(_ t: UInt32) {
                let w = DeviceNormLayout.hostWord(tag: t)
                #expect(holds[w]?.tag == t, "host word \(w) holds \(holds[w]?.tag ?? 0) when check \(t) is read")
                holds[w]?.read = true
                readTags.append(t)
            }
            for s in plan.steps {
                if s.assemble != 0 { write(s.assemble) }  // the kernel (enqueued before the read below) and its event
                if let t = s.read { read(t) }
            }
            plan.finish.map(\.assemble).filter { $0 != 0 }.forEach(write)
            plan.readAtEnd.forEach(read)
        }
        #expect(readTags == Array(1..<tag))
    }

    /// The protocol between ranks: every rank runs the same plans (warm-up, finish, timed run,
    /// finish); a kernel's last block assembles (waiting for every rank's slot of that check)
    /// and then publishes into every rank's slot[tag % depth]. Ranks are interleaved at random,
    /// constrained only by these waits and stream order (the neighbour flags only constrain it
    /// further). `DeviceNormLayout.depth` slots are enough: no slot is overwritten before its rank
    /// assembled it, and nothing deadlocks. Half as many slots, or publishing before assembling,
    /// breaks it, which this simulation finds.
    @Test(arguments: [(2, 1), (3, 1), (4, 1), (4, 2), (8, 1), (8, 3)])
    func depthSlotsSufficeUnderAnyInterleaving(_ ranks: Int, _ every: Int) {
        for seed in 0..<40 {
            #expect(simulate(ranks: ranks, every: every, seed: UInt64(seed), assembleFirst: true) == nil)
        }
    }

    @Test func tooFewSlotsAreCaughtBySimulation() {
        let failures = (0..<200).compactMap { simulate(ranks: 4, every: 1, seed: UInt64($0), assembleFirst: true, depth: DeviceNormLayout.depth / 2) }
        #expect(!failures.isEmpty, "the simulation must be able to see a slot overwritten early")
    }

    @Test func publishingFirstIsCaughtBySimulation() {
        let failures = (0..<200).compactMap { simulate(ranks: 4, every: 1, seed: UInt64($0), assembleFirst: false, depth: 2 * DeviceNormLayout.lag - 1) }
        #expect(!failures.isEmpty, "the simulation must be able to see a slot overwritten early")
    }

    /// nil when the run completes with every check assembled from the right values, else what broke.
    func simulate(ranks: Int, every: Int, seed: UInt64, assembleFirst: Bool, depth: Int = DeviceNormLayout.depth) -> String? {
        let problem = JacobiProblem(nx: 64, ny: 64, iterations: 12, normEvery: every, warmup: 4)
        // Per kernel: (assemble, send); the same list on every rank.
        var kernels: [(assemble: UInt32, publish: UInt32)] = []
        var tag: UInt32 = 1
        for n in [problem.warmup, problem.iterations] {
            let plan = DeviceNormPlan(problem: problem, iterations: n, firstTag: tag)
            tag = plan.nextTag
            kernels += plan.steps.map { ($0.assemble, $0.send) } + plan.finish.map { ($0.assemble, $0.send) }
        }
        var slot = [[[UInt32]]](repeating: [[UInt32]](repeating: [UInt32](repeating: 0, count: ranks), count: depth), count: ranks)
        var next = [Int](repeating: 0, count: ranks)       // next kernel per rank
        var phase = [Int](repeating: 0, count: ranks)      // 0: first action of the kernel, 1: second
        var assembled = [Set<UInt32>](repeating: [], count: ranks)
        var rng = SplitMix(seed)
        func publish(_ r: Int, _ t: UInt32) -> String? {
            for q in 0..<ranks {
                let old = slot[q][Int(t) % depth][r]
                if old != 0 && !assembled[q].contains(old) { return "rank \(r) overwrote check \(old) at rank \(q) with \(t) before it was assembled" }
                slot[q][Int(t) % depth][r] = t
            }
            return nil
        }
        while next.contains(where: { $0 < kernels.count }) {
            // Ranks whose next action can go: publishing always can, assembling when every slot carries the tag.
            let ready = (0..<ranks).filter { r in
                guard next[r] < kernels.count else { return false }
                let k = kernels[next[r]]
                let assembling = (phase[r] == 0) == assembleFirst
                return !assembling || k.assemble == 0 || slot[r][Int(k.assemble) % depth].allSatisfy { $0 >= k.assemble }
            }
            guard let r = ready.randomElement(using: &rng) else { return "deadlock at kernels \(next)" }
            let k = kernels[next[r]]
            if (phase[r] == 0) == assembleFirst {
                if k.assemble != 0 {
                    if let bad = slot[r][Int(k.assemble) % depth].first(where: { $0 != k.assemble }) {
                        return "rank \(r) assembling check \(k.assemble) found \(bad)"
                    }
                    assembled[r].insert(k.assemble)
                }
            } else if k.publish != 0, let e = publish(r, k.publish) {
                return e
            }
            phase[r] += 1
            if phase[r] == 2 { phase[r] = 0; next[r] += 1 }
        }
        return nil
    }

    @Test func normLayoutMatchesTheKernel() {
        let l = DeviceNormLayout(ranks: 4, blocks: 2111)
        #expect(DeviceNormLayout.warpsPerBlock == 4)
        #expect(l.bytes == 16 + 4 * 32 + 8 * 4 * 2111)
        let offsets = (0..<4).flatMap { p in (0..<4).map { l.slot(tag: UInt32(p), source: $0) } }
        #expect(Set(offsets).count == 16 && offsets.allSatisfy { $0 >= DeviceNormLayout.slotsOffset && $0 + 8 <= l.bytes && $0 % 8 == 0 })
        #expect(l.slot(tag: 9, source: 2) == l.slot(tag: 1, source: 2) && l.slot(tag: 6, source: 3) == 16 + 8 * (2 * 4 + 3))
        let fused = KernelSources.jacobiNVSHMEM.headers.first { $0.name == "jacobi_fused.cuh" }?.source ?? ""
        let constants = KernelSources.jacobiNVSHMEM.headers.first { $0.name == "gc_constants.cuh" }?.source ?? ""
        #expect(constants.contains("#define GC_NORM_DEPTH \(DeviceNormLayout.depth)\n"))
        #expect(DeviceNormLayout.depth >= 2 * DeviceNormLayout.lag)
        #expect(constants.contains("#define GC_NORM_SLOTS \(DeviceNormLayout.slotsOffset)\n"))
        #expect(DeviceNormLayout.word(tag: 3, value: 1.5) == 3 << 32 | UInt64(Float(1.5).bitPattern))
        // Per-warp sums after the slots, one array per tag parity, disjoint from the slots, for
        // the largest grid and a smaller one; 16-byte aligned arrays (the service block's loads).
        for warps in [4 * 2111, 4 * 1000] {
            let partials = (0..<warps).flatMap { w in [UInt32(6), 7].map { l.partial(tag: $0, warp: w, warps: warps) } }
            #expect(Set(partials).count == 2 * warps && partials.allSatisfy { $0 >= 16 + 4 * 32 && $0 + 4 <= l.bytes && $0 % 4 == 0 })
            #expect(l.partial(tag: 7, warp: 0, warps: warps) % 16 == 0 && l.partial(tag: 6, warp: 0, warps: warps) % 16 == 0)
        }
        #expect(l.partial(tag: 9, warp: 3, warps: 8) == 16 + 4 * 32 + 4 * (8 + 3) && l.partial(tag: 2, warp: 0, warps: 8) == l.partialOffset)
        #expect(fused.contains("const unsigned w = (blockIdx.x - 1) * (JBX / 32) + threadIdx.x / 32;"))
        #expect(fused.contains("gc_norm_partial(norm, nranks)[(size_t)(publish % 2) * gc_norm_warps() + w] = s;"))
        #expect(constants.contains("#define GC_NORM_BROKEN 0x\(String(DeviceNormLayout.brokenTag, radix: 16))u\n"))
        #expect(KernelSources.jacobiNCCLLSA.headers.map(\.name).contains("jacobi_fused.cuh"))
    }
}

/// A small seeded generator (SplitMix64) so a failing interleaving can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
