import ArgumentParser
import Measure

/// A command's defaults and words for its `-b/-e/-f` sweep: the flags are the same everywhere,
/// the help and the defaults are each command's own (so `--help` reads as before).
protocol SweepDefaults {
    static var minBytes: String { get }
    static var minHelp: String { get }
    static var maxBytes: String { get }
    static var maxHelp: String { get }
    static var stepFactor: Int { get }
}

/// `-b/--minbytes`, `-e/--maxbytes`, `-f/--stepfactor`: a geometric size sweep as nccl-tests'.
struct SweepOptions<Defaults: SweepDefaults>: ParsableArguments {
    @Option(name: [.customShort("b"), .customLong("minbytes")], parsing: .unconditional, help: ArgumentHelp(Defaults.minHelp))
    var minBytes = SweepBound(argument: Defaults.minBytes)
    @Option(name: [.customShort("e"), .customLong("maxbytes")], parsing: .unconditional, help: ArgumentHelp(Defaults.maxHelp))
    var maxBytes = SweepBound(argument: Defaults.maxBytes)
    @Option(name: [.customShort("f"), .customLong("stepfactor")], parsing: .unconditional, help: "Multiply the size by this each step.")
    var stepFactor = Defaults.stepFactor

    /// The sizes, or one line naming the flag that is wrong (for `validate()`); `stepBytes` is nccl's `-i`.
    func sizes(stepBytes: ByteSizeOption? = nil) throws -> [Int] {
        guard let lo = minBytes.parsed else { throw ValidationError("-b '\(minBytes)' is not a size (examples: 8, 64K, 1M, 1G)") }
        guard let hi = maxBytes.parsed else { throw ValidationError("-e '\(maxBytes)' is not a size (examples: 8, 64K, 1M, 1G)") }
        var step = 0
        if let stepBytes {
            guard let s = stepBytes.parsed else { throw ValidationError("-i '\(stepBytes)' is not a size") }
            step = s
        }
        do { return try Sweep(minBytes: lo, maxBytes: hi, factor: stepFactor, step: step).sizes } catch { throw ValidationError("\(error)") }
    }
}

/// `--results FILE` and `--no-results`: where a benchmark appends its rows.
struct ResultsOptions: ParsableArguments {
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
}
