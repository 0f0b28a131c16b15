import Driver
import ArgumentParser
import Collectives
import Foundation
import GPU
import Launch
import Measure
import Results

struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run the standard sweep of every benchmark that applies to the visible GPUs.",
        discussion: """
        What to run first on a new machine. Walks gpucomm's registry of benchmarks and runs every \
        one that applies to the visible GPUs; those that do not (one GPU, no NVSHMEM, no TMA) are \
        listed with the reason. The NCCL collectives (float, sum, 8 B to -e per rank, out-of-place \
        and in-place) run in this process on every visible GPU (one rank on a one-GPU machine); \
        the copies (host↔device by copy engine and SM, the local copy ceiling and latency on any \
        GPU count; the GPU pair matrices on 2 or more), the all-to-all backends, the NCCL device API, \
        NVSHMEM put/get/latency/signal/barrier and Jacobi run as gpucomm's own commands in child \
        processes, their tables on stderr. Every \
        result is checked and every row goes to one results file. Ends with a summary (small-message \
        latency, peak bus bandwidth and its fraction of the NVLink peak per collective, one line \
        per step), then writes the report of the results file into --report-dir (--no-report skips \
        it). Under --np or an outside launcher only the collectives run. On a machine with no GPU \
        it says so and exits 5.
        """)

    @Option(name: .long, help: "Results file (JSON Lines).")
    var results = "gpucomm-suite.jsonl"

    @Option(name: [.customShort("e"), .customLong("maxbytes")], parsing: .unconditional, help: "Largest size per rank.")
    var maxBytes: ByteSizeOption = "256M"

    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed iterations per size.")
    var iters = 20

    @Option(name: .customLong("report-dir"), help: "Folder for the report (HTML, Markdown, SVG) of the results file, written at the end.")
    var reportDir = "gpucomm-report"

    @Flag(name: .customLong("no-report"), help: "Do not write the report at the end.")
    var noReport = false

    @OptionGroup var launch: LaunchOptions

    func validate() throws {
        guard let e = maxBytes.parsed else { throw ValidationError("-e '\(maxBytes)' is not a size (examples: 64M, 1G)") }
        guard e >= 8 else { throw ValidationError("-e must be at least 8 bytes (got \(maxBytes))") }
        do { _ = try Sweep(minBytes: 8, maxBytes: e, factor: 4).sizes } catch { throw ValidationError("\(error)") }
        guard iters >= 1 else { throw ValidationError("-n must be at least 1") }
    }

    func run() throws {
        let cuda: CUDA
        do { cuda = try CUDA() } catch {
            throw Failure(.unavailable, "no GPU here (\(error)). Without a GPU try: `gpucomm report --example`, `gpucomm import <nccl-tests logs>`, `gpucomm simulate nic-selection`, `gpucomm model`")
        }
        let visible = try cuda.deviceCount()
        guard visible > 0 else {
            throw Failure(.unavailable, "no GPU visible (CUDA_VISIBLE_DEVICES?). Without a GPU try: `gpucomm report --example`, `gpucomm import`, `gpucomm simulate nic-selection`")
        }
        if let status = try Job.spawnIfAsked(launch.spec) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let job = try Job(launch.spec) { _, _ in }
        let n = job.worldSize
        let shape = JobShape(ranks: n, gpusPerProcess: 1, computeCapabilityMajor: job.devices[0].computeCapability.major,
                             hasNCCL: job.inventory.library(.nccl)?.path != nil, hasNVSHMEM: job.inventory.library(.nvshmem)?.path != nil)
        let plan = SuitePlan(shape: shape, maxBytes: maxBytes.value, iters: iters, timeout: launch.timeout)
        if job.reports {
            for w in plan.waived { FileHandle.standardError.write(Data("[gpucomm] suite: \(w.key) waived: \(w.reason)\n".utf8)) }
        }
        let run = try CollectiveRun(job: job, splitMask: 0, resultsPath: results, output: .none, timeout: launch.timeout)
        var o = try NCCLOptions.parse([])
        o.sweep.maxBytes = SweepBound(maxBytes.value, text: maxBytes.text)
        o.iters = iters
        o.sweep.stepFactor = 4
        for c in plan.collectives {
            let g = c.granularity(typeSize: 4, ranks: n)
            let lo = max(8, g) / g * g
            o.sweep.minBytes = SweepBound(lo, text: String(lo))
            let p = try o.plan()
            let sizes = p.sizes.map { $0 / g * g }.filter { $0 > 0 }
            run.progress("\(c.key): \(sizes.count) sizes, \(ByteSize.format(sizes.first!))–\(ByteSize.format(sizes.last!))")
            try run.bench.reserve(bytes: run.bench.bytesNeeded(BenchCase(collective: c, type: .float32, op: .sum, root: 0, sizeBytes: sizes.last!, inPlace: true)), mode: .none)
            for s in sizes {
                try run.measure(c, type: .float32, op: c.usesOp ? .sum : nil, root: 0, size: s, options: p.options)
            }
        }
        run.finish()  // the GPUs are the children's from here on
        guard job.reports, job.group == nil else {
            if run.wrongTotal > 0 { throw Failure(.wrongResults, "\(run.wrongTotal) wrong elements (see \(results))") }
            return
        }
        // One process per GPU: each family's command in a child, appending to the same results file.
        var outcomes: [(SuitePlan.Step, Int32)] = []
        for (i, step) in plan.steps.enumerated() {
            run.progress("suite step \(i + 1)/\(plan.steps.count): \(step.title): gpucomm \(step.arguments.joined(separator: " "))")
            outcomes.append((step, runChild(step.arguments + ["--results", results])))
        }
        print(summary(run))
        print(familySummary(outcomes, waived: plan.waived))
        // The report of the whole results file; failing to write it is a warning, not a failed suite.
        if !noReport { ResultsReport.writeAfterRun(results: results, to: reportDir, command: "suite") }
        if run.wrongTotal > 0 { throw Failure(.wrongResults, "\(run.wrongTotal) wrong elements (see \(results))") }
        if outcomes.contains(where: { $0.1 == ExitStatus.wrongResults.rawValue }) { throw Failure(.wrongResults, "a suite step found wrong data (see above)") }
        if let bad = outcomes.first(where: { $0.1 != 0 && $0.1 != ExitStatus.unavailable.rawValue }) {
            throw Failure(.failure, "suite step '\(bad.0.title)' failed (exit \(bad.1))")
        }
    }

    /// Runs gpucomm with `args`, its table on stderr (progress), and returns its exit status.
    func runChild(_ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: LocalLauncher.currentExecutable())
        p.arguments = args
        p.standardOutput = FileHandle.standardError
        do { try p.run() } catch { return ExitStatus.failure.rawValue }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// One line per child step, and the registry's benchmarks that did not apply.
    func familySummary(_ outcomes: [(SuitePlan.Step, Int32)], waived: [(key: String, reason: String)]) -> String {
        var s = "step                                          status\n"
        for (step, status) in outcomes {
            let word = status == 0 ? "ok" : status == ExitStatus.wrongResults.rawValue ? "WRONG DATA (exit 3)"
                : status == ExitStatus.unavailable.rawValue ? "unavailable here (exit 5)" : "FAILED (exit \(status))"
            s += step.title.padding(toLength: 46, withPad: " ", startingAt: 0) + word + "\n"
        }
        var reasons: [String: [String]] = [:]
        for w in waived { reasons[w.reason, default: []].append(w.key) }
        for (r, keys) in reasons.sorted(by: { $0.key < $1.key }) { s += "waived (\(r)): \(keys.count) benchmarks: \(keys.joined(separator: " "))\n" }
        return s
    }

    func summary(_ run: CollectiveRun) -> String {
        let peak = run.run.topology?.nvlinkPeakGBps
        var s = "\ngpucomm suite: \(run.ranks) GPUs (\(run.job.devices.first?.name ?? "?")), NCCL \(run.nccl.version)"
        s += peak.map { ", NVLink peak \(Int($0)) GB/s per GPU per direction\n" } ?? "\n"
        // One rank moves nothing over a bus (every bus factor is 0): its peak is the algorithm bandwidth, a local copy.
        let bus = run.ranks > 1
        let figure: (ResultRow) -> Double = { bus ? ($0.busbwGBps ?? 0) : ($0.algbwGBps ?? 0) }
        s += "collective        small-message time   peak \(bus ? "busbw" : "algbw") (size)          of NVLink peak   wrong\n"
        for key in SuitePlan.collectives {
            let rows = run.rows.filter { $0.benchmark == key && $0.variant == "out_of_place" }
            guard let small = rows.first, let best = rows.max(by: { figure($0) < figure($1) }) else { continue }
            let wrong = run.rows.filter { $0.benchmark == key && $0.labels?["unsupported"] == nil }.reduce(Int64(0)) { $0 + ($1.wrong ?? 0) }
            let frac = bus ? peak.map { String(format: "%5.1f%%", 100 * figure(best) / $0) } ?? "   n/a" : "   n/a (one rank)"
            s += key.padding(toLength: 18, withPad: " ", startingAt: 0)
            s += String(format: "%8.2f µs (%@)", small.timeUs ?? 0, ByteSize.format(Int(small.sizeBytes ?? 0))).padding(toLength: 21, withPad: " ", startingAt: 0)
            s += String(format: "%7.1f GB/s (%@)", figure(best), ByteSize.format(Int(best.sizeBytes ?? 0))).padding(toLength: 27, withPad: " ", startingAt: 0)
            s += frac.padding(toLength: 17, withPad: " ", startingAt: 0) + "\(wrong)\n"
        }
        s += "results: \(results) (gpucomm report \(results) draws the charts)\n"
        return s
    }
}
