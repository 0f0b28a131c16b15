import Driver
import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure

/// nccl-tests' flags, same letters and long names, plus gpucomm's own.
struct NCCLOptions: ParsableArguments {
    enum SweepWords: SweepDefaults {
        static let minBytes = "32M", minHelp = "Smallest size, with K/M/G suffixes (nccl-tests -b)."
        static let maxBytes = "32M", maxHelp = "Largest size (nccl-tests -e)."
        static let stepFactor = 2
    }
    @OptionGroup var sweep: SweepOptions<SweepWords>
    @Option(name: [.customShort("i"), .customLong("stepbytes")], parsing: .unconditional, help: "Add this many bytes each step instead (linear sweep).")
    var stepBytes: ByteSizeOption = "0"
    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed iterations per size.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Untimed warmup iterations per size.")
    var warmup = 5
    @Option(name: [.customShort("m"), .customLong("agg_iters")], parsing: .unconditional, help: "Operations aggregated per iteration.")
    var aggIters = 1
    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check results (1, default) or not (0).")
    var check = 1
    @Option(name: [.customShort("d"), .customLong("datatype")],
            help: "Data type(s), comma-separated, or all: int8 uint8 int32 uint32 int64 uint64 half float double bfloat16 f8e4m3 f8e5m2.")
    var datatype: Typed<DataTypeListReading> = "float"
    @Option(name: [.customShort("o"), .customLong("op")], help: "Reduction op(s), comma-separated, or all: sum prod max min avg mulsum (premulsum).")
    var op: Typed<ReduceOpListReading> = "sum"
    @Option(name: [.customShort("r"), .customLong("root")], parsing: .unconditional, help: "Root rank for broadcast, reduce, gather, scatter, or all.")
    var root: Typed<RootReading> = "0"
    @Option(name: [.customShort("a"), .customLong("average")], parsing: .unconditional, help: "Time reported across ranks: 0 rank 0, 1 average, 2 min, 3 max.")
    var average = 1
    @Option(name: [.customShort("R"), .customLong("local_register")], parsing: .unconditional,
            help: "Buffers: 0 plain, 1 ncclCommRegister, 2 symmetric window (ncclMemAlloc + ncclCommWindowRegister).")
    var register = 0
    @Option(name: [.customShort("N"), .customLong("run_cycles")], parsing: .unconditional, help: "Run the whole sweep this many times.")
    var cycles = 1
    @Option(name: [.customShort("G"), .customLong("cudagraph")], parsing: .unconditional, help: "Capture the iterations in a CUDA graph and replay it this many times (0: off).")
    var graph = 0
    @Option(name: [.customShort("z"), .customLong("blocking")], parsing: .unconditional, help: "Synchronise after every operation (1) or not (0).")
    var blocking = 0
    @Option(name: [.customShort("t"), .customLong("nthreads")], parsing: .unconditional, help: "Threads per process (only 1; use -g or --np for more GPUs).")
    var threads = 1
    @Option(name: .long, help: "Timing: host (clock around the loop, like nccl-tests) or events (per-iteration CUDA events: min/p50/p95/p99/CV).")
    var timing: Choice<TimingMode> = "host"
    @Option(name: .long, parsing: .unconditional, help: "alltoallv: receiver p gets weight 1/(p+1)^skew (0 uniform, 1 Zipf).")
    var skew = 1.0
    @Option(name: .long, help: "alltoallv: CSV traffic matrix, one row per sender, one column per receiver.")
    var matrix: String?
    @Option(name: .long, parsing: .unconditional, help: "Split the communicator by color = rank & mask (nccl-tests NCCL_TESTS_SPLIT_MASK); 0: no split.")
    var splitMask = 0
    @OptionGroup var output: ResultsOptions
    @Flag(name: .long, help: "Print rows as JSON Lines on stdout instead of the table.")
    var json = false
    @Flag(name: .long, help: "Print rows as CSV on stdout instead of the table.")
    var csv = false

    /// Everything checked without a GPU.
    struct Plan {
        var sizes: [Int]
        var types: [NCCLDataType]
        var typesFromAll: Bool
        var ops: [NCCLReduceOp]
        var roots: [Int]?   // nil = all
        var options: BenchOptions
        var buffers: BufferMode
        var matrix: TrafficMatrix
    }

    func plan() throws -> Plan {
        let sizes = try sweep.sizes(stepBytes: stepBytes)
        let typeList = try datatype.checked()
        let ops = try op.checked()
        guard let r = root.parsed else { throw ValidationError("-r '\(root)' must be a rank number or all") }
        let roots: [Int]? = r.rank.map { [$0] }
        for (flag, v, lo) in [("-n", iters, 1), ("-w", warmup, 0), ("-m", aggIters, 1), ("-N", cycles, 1), ("-G", graph, 0)] where v < lo {
            throw ValidationError("\(flag) must be at least \(lo) (got \(v))")
        }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        guard blocking == 0 || blocking == 1 else { throw ValidationError("-z must be 0 or 1 (got \(blocking))") }
        guard let agg = RankAggregation(rawValue: average) else { throw ValidationError("-a must be 0, 1, 2 or 3 (got \(average))") }
        guard (0...2).contains(register) else { throw ValidationError("-R must be 0, 1 or 2 (got \(register))") }
        guard threads == 1 else { throw ValidationError("-t \(threads): gpucomm drives GPUs from one thread; use -g N (one process) or --np N (one process each)") }
        guard let tm = timing.parsed else { throw ValidationError("--timing must be host or events (got '\(timing)')") }
        if graph > 0 && tm == .events { throw ValidationError("-G and --timing events cannot be combined: graph replays are host-timed") }
        if json && csv { throw ValidationError("--json and --csv cannot be combined") }
        guard skew >= 0, skew.isFinite else { throw ValidationError("--skew must be a non-negative number (got \(skew))") }
        guard splitMask >= 0 else { throw ValidationError("--split-mask must be non-negative") }
        var m = TrafficMatrix(skew: skew)
        if let path = matrix {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("--matrix: cannot read '\(path)'") }
            do { m = try TrafficMatrix(csv: text) } catch { throw ValidationError("--matrix \(path): \(error)") }
        }
        var o = BenchOptions()
        o.iterations = iters; o.warmup = warmup; o.aggregate = aggIters; o.graphLaunches = graph
        o.blocking = blocking == 1; o.timing = tm; o.check = check == 1; o.aggregation = agg
        let buffers: BufferMode = [.none, .registered, .symmetric][register]
        o.buffers = buffers
        return Plan(sizes: sizes, types: typeList.types, typesFromAll: typeList.fromAll, ops: ops, roots: roots, options: o, buffers: buffers, matrix: m)
    }
}

/// Resolves collective names (`all`, nccl-tests' `all_reduce_perf` spellings) to descriptors.
func resolveCollectives(_ names: [String], matrix: TrafficMatrix) throws -> [CollectiveDescriptor] {
    var out: [CollectiveDescriptor] = []
    for n in names {
        if n.lowercased() == "all" { out += Collectives.all; continue }
        let key = n.lowercased().replacingOccurrences(of: "_perf", with: "")
        if key == "alltoallv" { out.append(Collectives.alltoallv(matrix: matrix)); continue }
        guard let d = Collectives.named(key) else {
            throw ValidationError("unknown collective '\(n)': use \((Collectives.all.map(\.key) + ["alltoallv"]).joined(separator: ", ")) or all")
        }
        out.append(d)
    }
    return out
}

/// `-d`: `all` (any case) or data type names, comma-separated (empty items skipped).
enum DataTypeListReading: OptionReading {
    static func read(_ text: String) throws -> (types: [NCCLDataType], fromAll: Bool) {
        if text.lowercased() == "all" { return (NCCLDataType.allCases, true) }
        return (try text.split(separator: ",").map { n in
            guard let t = NCCLDataType(name: String(n)) else { throw UnreadText(text: String(n)) }
            return t
        }, false)
    }
}

/// `-o`: `all` (any case) or reduction op names, comma-separated (empty items skipped).
enum ReduceOpListReading: OptionReading {
    static func read(_ text: String) throws -> [NCCLReduceOp] {
        if text.lowercased() == "all" { return NCCLReduceOp.allCases }
        return try text.split(separator: ",").map { n in
            guard let o = NCCLReduceOp(name: String(n)) else { throw UnreadText(text: String(n)) }
            return o
        }
    }
}

/// `-r`: a root rank, or `all` (any case: every rank).
enum RootReading: OptionReading {
    /// nil rank = every rank.
    struct Root { var rank: Int? }
    static func read(_ text: String) throws -> Root {
        if text.lowercased() == "all" { return Root(rank: nil) }
        guard let r = Int(text), r >= 0 else { throw UnreadText(text: text) }
        return Root(rank: r)
    }
}

extension Typed where Reading == DataTypeListReading {
    /// The types, or `-d`'s one line naming the first unknown one (nccl and selftest say the same).
    func checked() throws -> (types: [NCCLDataType], fromAll: Bool) {
        if let n = unread { throw ValidationError("unknown data type '\(n)' (-d): use \(NCCLDataType.allCases.map(\.name).joined(separator: ", ")) or all") }
        return value
    }
}

extension Typed where Reading == ReduceOpListReading {
    /// The ops, or `-o`'s one line naming the first unknown one.
    func checked() throws -> [NCCLReduceOp] {
        if let n = unread { throw ValidationError("unknown op '\(n)' (-o): use sum, prod, max, min, avg, mulsum or all") }
        return value
    }
}
