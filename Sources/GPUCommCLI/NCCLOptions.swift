import Driver
import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure

/// nccl-tests' flags, same letters and long names, plus gpucomm's own.
struct NCCLOptions: ParsableArguments {
    @Option(name: [.customShort("b"), .customLong("minbytes")], help: "Smallest size, with K/M/G suffixes (nccl-tests -b).")
    var minBytes = "32M"
    @Option(name: [.customShort("e"), .customLong("maxbytes")], help: "Largest size (nccl-tests -e).")
    var maxBytes = "32M"
    @Option(name: [.customShort("f"), .customLong("stepfactor")], help: "Multiply the size by this each step.")
    var stepFactor = 2
    @Option(name: [.customShort("i"), .customLong("stepbytes")], help: "Add this many bytes each step instead (linear sweep).")
    var stepBytes = "0"
    @Option(name: [.customShort("n"), .customLong("iters")], help: "Timed iterations per size.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Untimed warmup iterations per size.")
    var warmup = 5
    @Option(name: [.customShort("m"), .customLong("agg_iters")], help: "Operations aggregated per iteration.")
    var aggIters = 1
    @Option(name: [.customShort("c"), .customLong("check")], help: "Check results (1, default) or not (0).")
    var check = 1
    @Option(name: [.customShort("d"), .customLong("datatype")],
            help: "Data type(s), comma-separated, or all: int8 uint8 int32 uint32 int64 uint64 half float double bfloat16 f8e4m3 f8e5m2.")
    var datatype = "float"
    @Option(name: [.customShort("o"), .customLong("op")], help: "Reduction op(s), comma-separated, or all: sum prod max min avg mulsum (premulsum).")
    var op = "sum"
    @Option(name: [.customShort("r"), .customLong("root")], help: "Root rank for broadcast, reduce, gather, scatter, or all.")
    var root = "0"
    @Option(name: [.customShort("a"), .customLong("average")], help: "Time reported across ranks: 0 rank 0, 1 average, 2 min, 3 max.")
    var average = 1
    @Option(name: [.customShort("R"), .customLong("local_register")],
            help: "Buffers: 0 plain, 1 ncclCommRegister, 2 symmetric window (ncclMemAlloc + ncclCommWindowRegister).")
    var register = 0
    @Option(name: [.customShort("N"), .customLong("run_cycles")], help: "Run the whole sweep this many times.")
    var cycles = 1
    @Option(name: [.customShort("G"), .customLong("cudagraph")], help: "Capture the iterations in a CUDA graph and replay it this many times (0: off).")
    var graph = 0
    @Option(name: [.customShort("z"), .customLong("blocking")], help: "Synchronise after every operation (1) or not (0).")
    var blocking = 0
    @Option(name: [.customShort("t"), .customLong("nthreads")], help: "Threads per process (only 1; use -g or --np for more GPUs).")
    var threads = 1
    @Option(name: .long, help: "Timing: host (clock around the loop, like nccl-tests) or events (per-iteration CUDA events: min/p50/p95/p99/CV).")
    var timing = "host"
    @Option(name: .long, help: "alltoallv: receiver p gets weight 1/(p+1)^skew (0 uniform, 1 Zipf).")
    var skew = 1.0
    @Option(name: .long, help: "alltoallv: CSV traffic matrix, one row per sender, one column per receiver.")
    var matrix: String?
    @Option(name: .long, help: "Split the communicator by color = rank & mask (nccl-tests NCCL_TESTS_SPLIT_MASK); 0: no split.")
    var splitMask = 0
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
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
        guard let lo = ByteSize.parse(minBytes) else { throw ValidationError("-b '\(minBytes)' is not a size (examples: 8, 64K, 1M, 1G)") }
        guard let hi = ByteSize.parse(maxBytes) else { throw ValidationError("-e '\(maxBytes)' is not a size (examples: 8, 64K, 1M, 1G)") }
        guard let step = ByteSize.parse(stepBytes) else { throw ValidationError("-i '\(stepBytes)' is not a size") }
        let sweep: Sweep
        do { sweep = try Sweep(minBytes: lo, maxBytes: hi, factor: stepFactor, step: step) } catch {
            throw ValidationError("\(error)")
        }
        let allTypes = datatype.lowercased() == "all"
        let types = try allTypes ? NCCLDataType.allCases : datatype.split(separator: ",").map { n -> NCCLDataType in
            guard let t = NCCLDataType(name: String(n)) else {
                throw ValidationError("unknown data type '\(n)' (-d): use \(NCCLDataType.allCases.map(\.name).joined(separator: ", ")) or all")
            }
            return t
        }
        let ops = try op.lowercased() == "all" ? NCCLReduceOp.allCases : op.split(separator: ",").map { n -> NCCLReduceOp in
            guard let o = NCCLReduceOp(name: String(n)) else {
                throw ValidationError("unknown op '\(n)' (-o): use sum, prod, max, min, avg, mulsum or all")
            }
            return o
        }
        var roots: [Int]? = nil
        if root.lowercased() != "all" {
            guard let r = Int(root), r >= 0 else { throw ValidationError("-r '\(root)' must be a rank number or all") }
            roots = [r]
        }
        for (flag, v, lo) in [("-n", iters, 1), ("-w", warmup, 0), ("-m", aggIters, 1), ("-N", cycles, 1), ("-G", graph, 0)] where v < lo {
            throw ValidationError("\(flag) must be at least \(lo) (got \(v))")
        }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        guard blocking == 0 || blocking == 1 else { throw ValidationError("-z must be 0 or 1 (got \(blocking))") }
        guard let agg = RankAggregation(rawValue: average) else { throw ValidationError("-a must be 0, 1, 2 or 3 (got \(average))") }
        guard (0...2).contains(register) else { throw ValidationError("-R must be 0, 1 or 2 (got \(register))") }
        guard threads == 1 else { throw ValidationError("-t \(threads): gpucomm drives GPUs from one thread; use -g N (one process) or --np N (one process each)") }
        guard let tm = TimingMode(rawValue: timing) else { throw ValidationError("--timing must be host or events (got '\(timing)')") }
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
        return Plan(sizes: sweep.sizes, types: types, typesFromAll: allTypes, ops: ops, roots: roots, options: o, buffers: buffers, matrix: m)
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
