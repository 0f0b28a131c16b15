import Driver
import ArgumentParser
import Foundation
import Report
import Results

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a baseline and a candidate result set; exit 4 on a regression.",
        discussion: """
        Per measurement (benchmark, backend, variant, dtype, op, GPUs, size, ...), compares the median \
        of the metric over repeated rows. A change counts when it passes --threshold (and --abs-threshold \
        if given); it is marked noise when the baseline's and candidate's ranges of repeats overlap. \
        --ignore drops fields from the measurement key on both sides, to put two backends side by side: \
        `gpucomm compare torch.jsonl gpucomm.jsonl --ignore backend,buffer,op` compares gpucomm's NCCL \
        runs with PyTorch's at the same collectives, GPU counts and sizes. \
        Exit status: 0 no regression, 4 a regression, 2 bad input. See docs/compare.md.
        """)

    @Argument(help: "Baseline results (any supported input).")
    var baseline: String

    @Argument(help: "Candidate results (any supported input).")
    var candidate: String

    @Option(name: .long, parsing: .unconditional, help: "Relative change that counts, e.g. 5% or 0.05.")
    var threshold: String = "5%"

    @Option(name: .customLong("abs-threshold"), parsing: .unconditional, help: "Absolute change that must also be passed, in the metric's unit (GB/s, µs).")
    var absThreshold: Double?

    @Option(name: .long, help: "Metric: busbw, algbw or time (default: busbw, else algbw, else time, per measurement).")
    var metric: String?

    @Option(name: .long, help: "Output: text, markdown or json.")
    var format: String = "text"

    @Option(name: .long, help: "Comma-separated key fields to leave out on both sides: backend, variant, dtype, op, root, buffer, timing, labels.")
    var ignore: String?

    var ignored: Set<IgnorableField> {
        Set((ignore ?? "").split(separator: ",").compactMap { IgnorableField(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
    }

    func validate() throws {
        guard Self.parseThreshold(threshold) != nil else {
            throw ValidationError("--threshold must be ≥ 0, a percentage like 5% or a fraction like 0.05 (got '\(threshold)')")
        }
        if let a = absThreshold { try OptionNumber.finite(a, atLeast: 0, "--abs-threshold") }
        if let m = metric, Metric(rawValue: m) == nil || !["busbw", "algbw", "time"].contains(m) {
            throw ValidationError("--metric must be one of busbw, algbw, time, got '\(m)'")
        }
        for f in (ignore ?? "").split(separator: ",") where IgnorableField(rawValue: f.trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("--ignore: unknown field '\(f)' (use \(IgnorableField.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if CompareFormat(rawValue: format) == nil {
            throw ValidationError("--format must be one of text, markdown, json, got '\(format)'")
        }
    }

    /// `5%` → 0.05, `0.05` → 0.05; nil for anything else or a negative value.
    static func parseThreshold(_ s: String) -> Double? {
        let t = s.trimmingCharacters(in: .whitespaces)
        let v = t.hasSuffix("%") ? Double(t.dropLast()).map { $0 / 100 } : Double(t)
        guard let v, v >= 0, v.isFinite, v <= 1e18 else { return nil }
        return v
    }

    func run() throws {
        let (base, _) = try InputLoader.load([baseline], command: "compare")
        let (cand, _) = try InputLoader.load([candidate], command: "compare")
        let options = CompareOptions(metric: metric.flatMap(Metric.init(rawValue:)),
                                     threshold: Self.parseThreshold(threshold)!, absThreshold: absThreshold, ignore: ignored)
        let cmp = Comparison(baseline: base, candidate: cand, options: options)
        if cmp.leftOut.baseline + cmp.leftOut.candidate > 0 {
            FileHandle.standardError.write(Data("gpucomm compare: left out \(cmp.leftOut.baseline) baseline and \(cmp.leftOut.candidate) candidate rows marked unsupported or with wrong elements\n".utf8))
        }
        guard cmp.rows.contains(where: { $0.baseline != nil && $0.candidate != nil }) else {
            throw Failure(.usage, "\(baseline) and \(candidate) have no measurement in common (same benchmark, backend, GPUs, size, ...)")
        }
        print(cmp.render(CompareFormat(rawValue: format)!), terminator: "")
        if cmp.hasRegression {
            throw Failure(.regression, "\(cmp.count(.regression)) regression(s) past the \(threshold) threshold")
        }
    }
}
