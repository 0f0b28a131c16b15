import Driver
import Foundation
import GPU

/// `selftest`'s in-process stage: every collective × type × op × root × in/out-of-place × buffer
/// mode at three sizes (NCCL's LL, LL128 and Simple protocols), each checked once through the
/// driver, tallied against the known limitations and defects of the loaded NCCL.
public struct CollectiveSelftest: Sendable {
    public var collectives: [CollectiveDescriptor]
    public var types: [NCCLDataType]
    public var ops: [NCCLReduceOp]
    public var buffers: [BufferMode]
    /// Count wrong results that match a known defect as failures.
    public var strict: Bool

    public init(collectives: [CollectiveDescriptor], types: [NCCLDataType], ops: [NCCLReduceOp], buffers: [BufferMode], strict: Bool) {
        self.collectives = collectives; self.types = types; self.ops = ops; self.buffers = buffers; self.strict = strict
    }

    /// Runs every case on `run`'s job; returns the stage's label and tally.
    public func run(_ run: CollectiveRun) throws -> (String, SelftestTally) {
        let colls = collectives
        let n = run.ranks
        var bench = BenchOptions()
        bench.iterations = 1
        bench.warmup = 0
        var tally = SelftestTally()
        let label = run.job.group == nil ? "single process, \(n) GPUs" : "\(n) processes"
        for mode in buffers {
            bench.buffers = mode
            for c in colls {
                if run.job.reports { FileHandle.standardError.write(Data("[selftest] \(label): \(mode.rawValue) \(c.key) (\(tally.passed) passed, \(tally.failures.count) failed so far)\n".utf8)) }
                if c.needsPowerOfTwo && n & (n - 1) != 0 { tally.waive("\(c.key): needs power-of-two ranks"); continue }
                if c.key == "alltoallv", mode == .symmetric, run.job.group != nil, run.nccl.versionCode <= 22809 {
                    // Seen on 4×H200: grouped send/recv on symmetric windows across processes never
                    // completes on the ranks that only send (NCCL 2.28.9; one process passes).
                    tally.waive("symmetric alltoallv: NCCL \(run.nccl.version) hangs on grouped send/recv in symmetric windows across processes")
                    continue
                }
                // One allocation per collective and mode, sized for its largest case.
                let most = types.map { t -> Int in
                    let g = c.granularity(typeSize: t.size, ranks: n)
                    return run.bench.bytesNeeded(BenchCase(collective: c, type: t, op: nil, root: 0, sizeBytes: (4 << 20) / g * g + g, inPlace: true))
                }.max() ?? 0
                try run.bench.reserve(bytes: most, mode: mode)
                for t in types {
                    let g = c.granularity(typeSize: t.size, ranks: n)
                    // Small, medium and large: NCCL picks its LL, LL128 and Simple protocols by size.
                    let sizes = [g, (65_536 / g + 1) * g, (4 << 20) / g * g + g]
                    for op in c.usesOp ? ops.map(Optional.some) : [nil] {
                        for root in c.usesRoot ? Array(Set([0, n - 1])).sorted() : [0] {
                            for s in sizes {
                                for inPlace in c.hasInPlace ? [false, true] : [false] {
                                    let name = "\(mode.rawValue) \(c.key) \(t.name)\(op.map { " " + $0.rawValue } ?? "")\(c.usesRoot ? " root \(root)" : "") \(s) B \(inPlace ? "in-place" : "out-of-place")"
                                    do {
                                        let bc = BenchCase(collective: c, type: t, op: op, root: root, sizeBytes: s, inPlace: inPlace)
                                        let m = try run.bench.measure(bc, bench, driver: run.driver, label: name)
                                        let wrong = m.wrong ?? 0
                                        if inPlace, c.inPlaceUnsupported != nil {
                                            tally.known(name, wrong)
                                        } else if !strict, let d = KnownDefect.explaining(bc, mode: mode, ranks: n, ncclVersion: run.nccl.versionCode) {
                                            tally.defect(d, name, wrong)
                                        } else if wrong > 0 {
                                            tally.fail("\(name): \(wrong) wrong elements")
                                        } else {
                                            tally.pass()
                                        }
                                    } catch {
                                        guard let e = BenchmarkError.cause(error, as: NCCLError.self), e.code == 4 || e.code == 5 else { throw error }
                                        tally.waive("\(name): NCCL rejects it (\(e.text))")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (label, tally)
    }
}

/// Pass, fail, waive and known-limitation counts with the names that matter.
public struct SelftestTally: Sendable {
    public init() {}

    public var passed = 0
    public var failures: [String] = []
    public var waived: [String] = []
    public var knownWrong: [String: Int] = [:]
    public var knownRight = 0
    /// Known defects of the loaded library: id → (summary, wrong case names, cases that came out right).
    public var defects: [String: (summary: String, wrong: [String], right: Int)] = [:]

    public mutating func pass() { passed += 1 }
    public mutating func fail(_ s: String) { failures.append(s) }
    public mutating func waive(_ s: String) { waived.append(s) }
    public mutating func known(_ name: String, _ wrong: Int64) {
        if wrong > 0 { knownWrong[name.split(separator: " ").prefix(2).joined(separator: " "), default: 0] += 1 } else { knownRight += 1 }
    }

    public mutating func defect(_ d: KnownDefect, _ name: String, _ wrong: Int64) {
        var e = defects[d.id] ?? (d.summary, [], 0)
        if wrong > 0 { e.wrong.append("\(name): \(wrong) wrong elements") } else { e.right += 1 }
        defects[d.id] = e
    }

    /// When every failure is in one buffer mode, the same cases ran right in the others (each case
    /// runs in every mode), which points at that mode's code in the library rather than at the data.
    public func diagnosis() -> String? {
        let modes = Set(failures.map { String($0.split(separator: " ").first ?? "") })
        guard modes.count == 1, let mode = modes.first, !failures.isEmpty else { return nil }
        let kinds = { (m: String) -> String in
            switch m {
            case "symmetric": return "symmetric-window buffers (-R 2: ncclMemAlloc + ncclCommWindowRegister)"
            case "registered": return "registered buffers (-R 1: ncclCommRegister)"
            default: return "plain buffers (-R 0)"
            }
        }
        return "every failure is with \(kinds(mode)); the same cases are right with the other buffer modes, so the wrong data comes from NCCL's code path for that mode"
    }

    public func summary(_ label: String) -> String {
        let defectCases = defects.values.reduce(0) { $0 + $1.wrong.count }
        var s = "selftest (\(label)): \(passed) passed, \(failures.count) failed, \(waived.count) waived"
            + (defectCases > 0 ? ", \(defectCases) wrong from known NCCL defects (--strict fails them)" : "") + "\n"
        for f in failures.prefix(50) { s += "  FAIL \(f)\n" }
        if failures.count > 50 { s += "  … \(failures.count - 50) more\n" }
        if let d = diagnosis() { s += "  diagnosis: \(d)\n" }
        var reasons: [String: Int] = [:]
        for w in waived { reasons[w.components(separatedBy: ": ").dropFirst().joined(separator: ": "), default: 0] += 1 }
        for (r, k) in reasons.sorted(by: { $0.key < $1.key }) { s += "  waived \(k)× \(r)\n" }
        for (k, v) in knownWrong.sorted(by: { $0.key < $1.key }) {
            let key = String(k.split(separator: " ").last ?? "")
            s += "  known limitation: \(k) in-place wrong in \(v) cases — \(Collectives.named(key)?.inPlaceUnsupported ?? "")\n"
        }
        if knownRight > 0 { s += "  known limitation cases that came out right: \(knownRight)\n" }
        for (id, e) in defects.sorted(by: { $0.key < $1.key }) {
            s += "  known NCCL defect \(id): \(e.summary) — \(e.wrong.count) cases wrong, \(e.right) matching cases right\n"
            for w in e.wrong { s += "    \(w)\n" }
        }
        return s
    }
}
