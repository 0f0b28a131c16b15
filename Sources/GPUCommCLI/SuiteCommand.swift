import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure
import Results

struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run the standard sweep of every benchmark that applies to the visible GPUs.",
        discussion: """
        What to run first on a new machine. Sweeps the NCCL collectives (float, sum, 8 B to 256 MiB \
        per rank, out-of-place and in-place, every result checked) on every visible GPU in one \
        process, writes every row to one results file, and ends with a summary: small-message \
        latency, peak bus bandwidth and its fraction of the NVLink peak, then writes the report of the results \
        file into --report-dir (--no-report skips it). On a machine with no GPU it \
        says so and exits 5.
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

    static let collectives = ["all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce", "alltoall", "sendrecv"]

    func validate() throws {
        guard maxBytes.parsed != nil else { throw ValidationError("-e '\(maxBytes)' is not a size (examples: 64M, 1G)") }
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
        guard visible > 1 || launch.np != nil else {
            throw Failure(.unavailable, "1 GPU visible: the communication benchmarks need 2 or more (waived)")
        }
        if let status = try Job.spawnIfAsked(launch) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        var o = try NCCLOptions.parse([])
        o.sweep.maxBytes = SweepBound(maxBytes.value, text: maxBytes.text)
        o.iters = iters
        o.sweep.stepFactor = 4
        let job = try Job(launch) { _, _ in }
        let n = job.worldSize
        let run = try CollectiveRun(job: job, splitMask: 0, resultsPath: results, output: .none, timeout: launch.timeout)
        defer { run.finish() }
        let colls = try resolveCollectives(SuiteCommand.collectives, matrix: TrafficMatrix(skew: 0))
        for c in colls {
            let g = c.granularity(typeSize: 4, ranks: n)
            let lo = max(8, g) / g * g
            o.sweep.minBytes = SweepBound(lo, text: String(lo))
            let plan = try o.plan()
            let sizes = plan.sizes.map { $0 / g * g }.filter { $0 > 0 }
            run.progress("\(c.key): \(sizes.count) sizes, \(ByteSize.format(sizes.first!))–\(ByteSize.format(sizes.last!))")
            try run.bench.reserve(bytes: run.bench.bytesNeeded(BenchCase(collective: c, type: .float32, op: .sum, root: 0, sizeBytes: sizes.last!, inPlace: true)), mode: .none)
            for s in sizes {
                try run.measure(c, type: .float32, op: c.usesOp ? .sum : nil, root: 0, size: s, options: plan.options)
            }
        }
        if job.reports { print(summary(run)) }
        // The report of the whole results file; failing to write it is a warning, not a failed suite.
        if job.reports && !noReport { ResultsReport.writeAfterRun(results: results, to: reportDir, command: "suite") }
        if run.wrongTotal > 0 { throw Failure(.wrongResults, "\(run.wrongTotal) wrong elements (see \(results))") }
    }

    func summary(_ run: CollectiveRun) -> String {
        let peak = run.run.topology?.nvlinkPeakGBps
        var s = "\ngpucomm suite: \(run.ranks) GPUs (\(run.job.devices.first?.name ?? "?")), NCCL \(run.nccl.version)"
        s += peak.map { ", NVLink peak \(Int($0)) GB/s per GPU per direction\n" } ?? "\n"
        s += "collective        small-message time   peak busbw (size)          of NVLink peak   wrong\n"
        for key in SuiteCommand.collectives {
            let rows = run.rows.filter { $0.benchmark == key && $0.variant == "out_of_place" }
            guard let small = rows.first, let best = rows.max(by: { ($0.busbwGBps ?? 0) < ($1.busbwGBps ?? 0) }) else { continue }
            let wrong = run.rows.filter { $0.benchmark == key && $0.labels?["unsupported"] == nil }.reduce(Int64(0)) { $0 + ($1.wrong ?? 0) }
            let frac = peak.map { String(format: "%5.1f%%", 100 * (best.busbwGBps ?? 0) / $0) } ?? "   n/a"
            s += key.padding(toLength: 18, withPad: " ", startingAt: 0)
            s += String(format: "%8.2f µs (%@)", small.timeUs ?? 0, ByteSize.format(Int(small.sizeBytes ?? 0))).padding(toLength: 21, withPad: " ", startingAt: 0)
            s += String(format: "%7.1f GB/s (%@)", best.busbwGBps ?? 0, ByteSize.format(Int(best.sizeBytes ?? 0))).padding(toLength: 27, withPad: " ", startingAt: 0)
            s += frac.padding(toLength: 17, withPad: " ", startingAt: 0) + "\(wrong)\n"
        }
        s += "results: \(results) (gpucomm report \(results) draws the charts)\n"
        return s
    }
}
