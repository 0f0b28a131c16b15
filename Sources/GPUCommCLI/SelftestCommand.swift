import ArgumentParser
import Collectives
import Foundation
import GPU
import Launch
import Measure

struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Check every collective, type, op, in/out-of-place and buffer mode on the visible GPUs.",
        discussion: """
        gpucomm's GPU test suite. By default it runs twice: one process driving every visible GPU, then \
        one process per GPU (re-running itself under its own launcher). Each case fills the send data, \
        poisons the receive buffer, runs the collective once and counts wrong elements on the GPU.
        Cases NCCL rejects (e.g. an op a type does not support) are listed as waived; in-place \
        all-to-all, which NCCL does not support, is listed as a known limitation. Wrong results that \
        match a known defect of the loaded NCCL release (Collectives/KnownDefects.swift: the versions, \
        the exact cases and the evidence) are listed as known NCCL defects with their case names; \
        --strict counts them as failures. Then (--nvshmem auto|on|off) every NVSHMEM benchmark and \
        every all-to-all backend runs checked at small sizes with 2 and with 4 PEs, as gpucomm's own \
        commands in child processes; a command that exits 5 (unavailable here, e.g. --scope tma \
        before sm_90) is listed as waived. Exit status 0 when every other case is right, 3 when any is \
        wrong, 1 on an error.
        """)

    @Option(name: .long, help: "single (one process, all GPUs), ranks (one process per GPU), or both.")
    var mode = "both"

    @Option(name: .long, help: "Comma-separated buffer modes: none, registered, symmetric.")
    var buffers = "none,registered,symmetric"

    @Option(name: .long, help: "Comma-separated collectives (default: all, with alltoallv).")
    var collectives = "all,alltoallv"

    @Option(name: [.customShort("d"), .customLong("datatype")], help: "Data types, comma-separated, or all.")
    var datatype = "all"

    @Option(name: [.customShort("o"), .customLong("op")], help: "Ops, comma-separated, or all.")
    var op = "all"

    @Flag(name: .long, help: "Count wrong results that match a known defect of the loaded NCCL as failures.")
    var strict = false

    @Option(name: .long, help: "NVSHMEM and all-to-all stage: auto (when NVSHMEM is found and 2+ GPUs are visible), on, off.")
    var nvshmem = "auto"

    @OptionGroup var launch: LaunchOptions

    func validate() throws {
        guard ["auto", "on", "off"].contains(nvshmem) else { throw ValidationError("--nvshmem must be auto, on or off (got '\(nvshmem)')") }
        guard ["single", "ranks", "both"].contains(mode) else { throw ValidationError("--mode must be single, ranks or both (got '\(mode)')") }
        for b in buffers.split(separator: ",") where BufferMode(rawValue: String(b)) == nil {
            throw ValidationError("unknown buffer mode '\(b)': use none, registered, symmetric")
        }
        _ = try resolveCollectives(collectives.split(separator: ",").map(String.init), matrix: TrafficMatrix(skew: 1))
        _ = try NCCLOptions.parse(["-d", datatype, "-o", op]).plan()
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let isRank = try env["GPUCOMM_RANK"] != nil || RankEnvironment.present(env)
        var failures: [Failure] = []
        if isRank || mode != "ranks" {
            do { try runHere() } catch let f as Failure { if isRank { throw f }; failures.append(f) }
        }
        if !isRank && mode != "single" {
            let cuda = try Job.loadCUDA()
            let n = try launch.np ?? cuda.deviceCount()
            if n > 1 {
                FileHandle.standardError.write(Data("[selftest] one process per GPU: \(n) ranks\n".utf8))
                let status = Job.rerunAsRanks(n, extra: ["--mode", "ranks"], timeout: launch.timeout)
                if status != 0 { failures.append(Failure(ExitStatus(rawValue: status) ?? .failure, "selftest with \(n) processes failed (status \(status))")) }
            } else {
                FileHandle.standardError.write(Data("[selftest] one process per GPU: waived (needs 2 GPUs, \(n) visible)\n".utf8))
            }
        }
        if !isRank && nvshmem != "off" {
            if let f = try runNVSHMEMStage() { failures.append(f) }
        }
        if let f = failures.first(where: { $0.status == .wrongResults }) ?? failures.first { throw f }
    }

    /// The NVSHMEM benchmarks and every all-to-all backend, each checked, with 2 PEs and with 4
    /// (when visible): gpucomm's own commands at small sizes, as child processes (NVSHMEM needs one
    /// process per GPU). Each exits 3 on any wrong byte; their exit statuses make the stage's.
    func runNVSHMEMStage() throws -> Failure? {
        let gpus = try Job.loadCUDA().deviceCount()
        let found = (try? NVSHMEM()) != nil
        guard gpus >= 2, found else {
            let why = gpus < 2 ? "needs 2 GPUs, \(gpus) visible" : "NVSHMEM not found (gpucomm env says where it looks)"
            if nvshmem == "on" { return Failure(.unavailable, "selftest NVSHMEM stage: \(why)") }
            FileHandle.standardError.write(Data("[selftest] NVSHMEM stage: waived (\(why))\n".utf8))
            return nil
        }
        var cases: [[String]] = []
        for np in [2, 4] where np <= gpus {
            let n = ["--np", String(np), "-T", String(launch.timeout), "--no-results"]
            cases += [
                ["nvshmem", "put", "-b", "64K", "-e", "4M", "-f", "8", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "put", "--pair", "\(np - 1),0", "--bidirectional", "--blocking", "--scope", "warp", "-b", "1M", "-e", "1M", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "get", "-b", "64K", "-e", "4M", "-f", "8", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "put", "--host", "-b", "64K", "-e", "4M", "-f", "8", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "get", "--host", "-b", "1M", "-e", "1M", "-n", "3", "-w", "1"] + n,
                // TMA (sm_90+; exit 5 elsewhere, waived): a size whose last piece ends off a 16-byte boundary, then
                // get both ways with round-robin chunks through a small ring.
                ["nvshmem", "put", "--scope", "tma", "-b", "64K", "-e", "4M", "-f", "8", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "put", "--scope", "tma", "-b", "1000003", "-e", "1000003", "--blocks", "7", "--tma-stage", "16K", "--tma-stages", "3", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "get", "--scope", "tma", "--pair", "\(np - 1),0", "--bidirectional", "--chunk", "48K", "--tma-stage", "16K", "--tma-stages", "2", "-b", "1M", "-e", "1M", "-n", "3", "-w", "1"] + n,
                ["nvshmem", "latency", "-b", "8", "-e", "4K", "-f", "8", "-n", "100"] + n,
                ["nvshmem", "signal", "-b", "8", "-e", "4K", "-f", "8", "-n", "100"] + n,
                ["nvshmem", "barrier", "-n", "100", "-w", "10"] + n,
                ["alltoall", "--backends", "all", "-b", "64K", "-e", "16M", "-f", "16", "-n", "3", "-w", "1"] + n,
                ["alltoall", "--backends", "nvshmem-signal", "--chunks", "16K,1M", "-b", "4M", "-e", "4M", "-n", "3", "-w", "1"] + n,
                // The copy-engine backends the other way (push) with uneven pieces (cuda-ce-1p with flag barriers);
                // then pulled one round after another with cuda-ce-1p relaying (the default) and its own block by an SM kernel;
                // cuda-ce-1p replayed from a CUDA graph, pushed round by round; and with an SM share of every block.
                ["alltoall", "--backends", "nvshmem-ce,cuda-ce,cuda-ce-1p", "--copy-mode", "push", "--copy-split", "3", "--copy-sync", "flags", "-b", "64K", "-e", "16M", "-f", "16", "-n", "3", "-w", "1"] + n,
                ["alltoall", "--backends", "nvshmem-ce,cuda-ce,cuda-ce-1p", "--copy-rounds", "serial", "--copy-split", "2", "--copy-local", "sm",
                 "-b", "64K", "-e", "16M", "-f", "16", "-n", "3", "-w", "1"] + n,
                ["alltoall", "--backends", "cuda-ce-1p", "--copy-sync", "events-graph", "--copy-rounds", "serial", "--copy-mode", "push", "-b", "64K", "-e", "16M", "-f", "16", "-n", "3", "-w", "1"] + n,
                ["alltoall", "--backends", "cuda-ce-1p", "--copy-sync", "events", "--copy-sm", "25", "--copy-split", "2", "-b", "64K", "-e", "16M", "-f", "16", "-n", "3", "-w", "1"] + n,
                ["alltoall", "--backends", "nvshmem-tma", "--threads", "32", "--blocks", "12", "--tma-stage", "16K", "--tma-stages", "3", "-b", "64K", "-e", "16M", "-f", "16", "-n", "3", "-w", "1"] + n,
            ]
        }
        var passed = 0
        var wrong: [String] = [], failed: [String] = [], waived: [String] = []
        for (i, args) in cases.enumerated() {
            let line = "gpucomm " + args.joined(separator: " ")
            FileHandle.standardError.write(Data("[selftest] NVSHMEM stage \(i + 1)/\(cases.count): \(line)\n".utf8))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: LocalLauncher.currentExecutable())
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            switch p.terminationStatus {
            case 0: passed += 1
            case ExitStatus.wrongResults.rawValue: wrong.append(line)
            case ExitStatus.unavailable.rawValue: waived.append(line)  // e.g. --scope tma before sm_90: not a failure
            default: failed.append("\(line) (exit \(p.terminationStatus))")
            }
        }
        var s = "selftest (NVSHMEM and all-to-all, 2\(gpus >= 4 ? " and 4" : "") PEs): \(passed) passed, \(wrong.count) wrong, \(failed.count) failed, \(waived.count) waived\n"
        for w in waived { s += "  WAIVED (unavailable here, exit 5) \(w)\n" }
        for w in wrong { s += "  WRONG \(w)\n" }
        for f in failed { s += "  FAIL \(f)\n" }
        print(s, terminator: "")
        if !wrong.isEmpty { return Failure(.wrongResults, "selftest NVSHMEM stage: \(wrong.count) commands found wrong data") }
        if !failed.isEmpty { return Failure(.failure, "selftest NVSHMEM stage: \(failed.count) commands failed") }
        return nil
    }

    /// Runs every case in this process's job (single process, or one rank of a multi-process job).
    func runHere() throws {
        let plan = try NCCLOptions.parse(["-d", datatype, "-o", op]).plan()
        let colls = try resolveCollectives(collectives.split(separator: ",").map(String.init), matrix: TrafficMatrix(skew: 1))
        var types = plan.types
        var opts = launch
        opts.np = nil
        let job = try Job(opts) { _, devices in types = types.filter { typeSupported($0, devices) } }
        let run = try CollectiveRun(job: job, splitMask: 0, resultsPath: nil, output: .none, timeout: launch.timeout)
        defer { run.finish() }
        let n = run.ranks
        var bench = BenchOptions()
        bench.iterations = 1
        bench.warmup = 0
        var tally = Tally()
        let label = job.group == nil ? "single process, \(n) GPUs" : "\(n) processes"
        for mode in buffers.split(separator: ",").compactMap({ BufferMode(rawValue: String($0)) }) {
            bench.buffers = mode
            for c in colls {
                if job.reports { FileHandle.standardError.write(Data("[selftest] \(label): \(mode.rawValue) \(c.key) (\(tally.passed) passed, \(tally.failures.count) failed so far)\n".utf8)) }
                if c.needsPowerOfTwo && n & (n - 1) != 0 { tally.waive("\(c.key): needs power-of-two ranks"); continue }
                if c.key == "alltoallv", mode == .symmetric, job.group != nil, run.nccl.versionCode <= 22809 {
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
                    for op in c.usesOp ? plan.ops.map(Optional.some) : [nil] {
                        for root in c.usesRoot ? Array(Set([0, n - 1])).sorted() : [0] {
                            for s in sizes {
                                for inPlace in c.hasInPlace ? [false, true] : [false] {
                                    let name = "\(mode.rawValue) \(c.key) \(t.name)\(op.map { " " + $0.rawValue } ?? "")\(c.usesRoot ? " root \(root)" : "") \(s) B \(inPlace ? "in-place" : "out-of-place")"
                                    do {
                                        run.watchdog.arm(name)
                                        defer { run.watchdog.disarm() }
                                        let bc = BenchCase(collective: c, type: t, op: op, root: root, sizeBytes: s, inPlace: inPlace)
                                        let m = try run.bench.measure(bc, bench)
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
                                    } catch let e as NCCLError where e.code == 4 || e.code == 5 {
                                        tally.waive("\(name): NCCL rejects it (\(e.text))")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if job.reports {
            print(tally.summary(label))
        }
        if !tally.failures.isEmpty { throw Failure(.wrongResults, "selftest (\(label)): \(tally.failures.count) cases wrong") }
    }
}

/// Pass, fail, waive and known-limitation counts with the names that matter.
struct Tally {
    var passed = 0
    var failures: [String] = []
    var waived: [String] = []
    var knownWrong: [String: Int] = [:]
    var knownRight = 0
    /// Known defects of the loaded library: id → (summary, wrong case names, cases that came out right).
    var defects: [String: (summary: String, wrong: [String], right: Int)] = [:]

    mutating func pass() { passed += 1 }
    mutating func fail(_ s: String) { failures.append(s) }
    mutating func waive(_ s: String) { waived.append(s) }
    mutating func known(_ name: String, _ wrong: Int64) {
        if wrong > 0 { knownWrong[name.split(separator: " ").prefix(2).joined(separator: " "), default: 0] += 1 } else { knownRight += 1 }
    }

    mutating func defect(_ d: KnownDefect, _ name: String, _ wrong: Int64) {
        var e = defects[d.id] ?? (d.summary, [], 0)
        if wrong > 0 { e.wrong.append("\(name): \(wrong) wrong elements") } else { e.right += 1 }
        defects[d.id] = e
    }

    /// When every failure is in one buffer mode, the same cases ran right in the others (each case
    /// runs in every mode), which points at that mode's code in the library rather than at the data.
    func diagnosis() -> String? {
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

    func summary(_ label: String) -> String {
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
