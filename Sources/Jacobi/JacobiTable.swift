import Foundation
import Results

/// The jacobi command's table, -csv lines and result rows (pure formatting: tested without a GPU).
public struct JacobiTable: Sendable {
    public let problem: JacobiProblem
    /// The single-GPU time of this job (seconds).
    public let serial: Double
    public let csv: Bool

    public init(problem: JacobiProblem, serial: Double, csv: Bool) { self.problem = problem; self.serial = serial; self.csv = csv }

    public static let columns = "# variant         GPUs     time (s)  per iter (us)   speedup  efficiency    #wrong        norm"

    public func header(ranks: Int, device: String, baseline b: JacobiBaseline) -> String {
        let p = problem
        let kernelPerIterUs = Double(p.bytesPerIteration) / (b.kernelGBps * 1e9) * 1e6
        return """
        # gpucomm jacobi: \(p.nx) x \(p.ny) float, \(p.iterations) iterations (\(p.warmup) warm-up), norm every \(p.normEvery == 0 ? "never" : String(p.normEvery)), \(ranks) GPU(s) (\(device))
        # copy ceiling \(String(format: "%.0f", b.copyGBps)) GB/s (cuMemcpyDtoD, read+write); stencil kernel \(String(format: "%.0f", b.kernelGBps)) GB/s = \(String(format: "%.1f", 100 * b.kernelGBps / b.copyGBps))% of it (\(String(format: "%.1f", kernelPerIterUs)) us per iteration, \(p.bytesPerIteration) B); serial \(String(format: "%.4f", serial)) s
        \(Self.columns)
        """
    }

    public func metrics(_ o: JacobiOutcome) -> (speedup: Double, efficiency: Double, perIterUs: Double) {
        let speedup = serial / o.seconds
        return (speedup, 100 * speedup / Double(o.ranks), o.seconds / Double(problem.iterations) * 1e6)
    }

    public func row(_ o: JacobiOutcome) -> String {
        let m = metrics(o)
        return String(format: "  %-15@ %4d  %11.4f  %13.2f  %8.2f  %9.1f%%  %8@  %10@", o.variant.rawValue, o.ranks, o.seconds, m.perIterUs,
                      m.speedup, m.efficiency, o.wrong.map(String.init) ?? "ref", o.norm.map { String(format: "%.6g", $0) } ?? "-")
    }

    public func notBuilt(_ v: JacobiVariant, ranks: Int) -> String {
        String(format: "  %-15@ %4d  not built yet", v.rawValue, ranks)
    }

    /// A variant that cannot run here (e.g. nccl_lsa without NCCL's device API), with why.
    public func skipped(_ v: JacobiVariant, ranks: Int, reason: String) -> String {
        String(format: "  %-15@ %4d  skipped: %@", v.rawValue, ranks, reason)
    }

    /// multi-gpu-programming-models' -csv line: variant, nx, ny, iter_max, nccheck, num_gpus, 1, runtime, runtime_serial.
    public func csvLine(_ o: JacobiOutcome) -> String {
        String(format: "%@, %d, %d, %d, %d, %d, 1, %f, %f", o.variant.rawValue, problem.nx, problem.ny, problem.iterations,
               problem.normEvery, o.ranks, o.seconds, serial)
    }

    public func record(_ o: JacobiOutcome, run: String, baseline: JacobiBaseline?) -> ResultRow {
        let m = metrics(o)
        var r = ResultRow(run: run, benchmark: "jacobi", backend: o.variant.backend, ranks: o.ranks)
        r.variant = o.variant.rawValue
        r.dtype = "float"
        r.timing = "host"
        r.iterations = problem.iterations
        r.timeUs = o.seconds * 1e6
        r.wrong = o.wrong
        var metrics = ["time_s": o.seconds, "baseline_s": serial, "speedup": m.speedup, "efficiency": m.efficiency,
                       "time_per_iter_us": m.perIterUs]
        if let n = o.norm { metrics["norm"] = n }
        if let b = baseline {
            metrics["copy_gbps"] = b.copyGBps
            metrics["kernel_gbps"] = b.kernelGBps
            metrics["kernel_fraction_of_copy"] = b.kernelGBps / b.copyGBps
        }
        r.metrics = metrics
        r.labels = ["grid": "\(problem.ny)x\(problem.nx)", "norm_check_every": String(problem.normEvery)]
        return r
    }
}
