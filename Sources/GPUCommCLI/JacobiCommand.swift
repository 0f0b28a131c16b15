import Driver
import ArgumentParser
import Foundation
import GPU
import Jacobi
import Launch
import Results

struct JacobiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jacobi",
        abstract: "2-D Jacobi solver in every multi-GPU programming model (NCCL, NVSHMEM, NCCL device API), checked, with speedup and efficiency.",
        discussion: """
        A Laplace 5-point Jacobi solver on an nx × ny float grid, as NVIDIA's multi-gpu-programming-models \
        samples: rows 1 … ny-2 split across GPUs (strong scaling), columns 0 and nx-1 fixed at \
        sin(2πy/(ny-1)), top and bottom periodic; each iteration updates every interior element and \
        exchanges the first and last rows with the neighbours; the L2 norm every --norm-every iterations \
        (the host reads it, as the samples' convergence check does); a fixed iteration count. Most \
        variants sum the norm over ranks with a collective and the host waits for it; nvshmem_opt and \
        nccl_lsa sum it inside their stencil kernels (one kernel per iteration) and the host reads each \
        check from page-locked memory once a later kernel has assembled it, with the next kernel \
        already queued.

        Every GPU count runs as one job of one process per GPU. Each rank first runs single_gpu on its own \
        GPU (the serial time, and the reference result every variant is checked against element by \
        element on the GPU: wrong = |x - ref| > --tolerance; all variants do the same float operations in \
        the same order, so the results are expected to be bit-identical). It also measures the copy \
        ceiling (cuMemcpyDtoD of one grid, read + write bytes / time) and the bare stencil kernel, whose \
        bytes per iteration are 2 × 4 × (nx-2)(ny-2): each updated element read once and written once.

        time: host time of the timed iterations between two job-wide barriers, the maximum over ranks, \
        after --warmup untimed iterations and a re-initialisation. speedup = serial / time; \
        efficiency = serial / (GPUs × time).

        nccl_lsa needs NCCL 2.28+ with its headers (docs/nccl-device.md) and every rank in one NVLink/P2P \
        (LSA) team; otherwise it is skipped with one line saying why.

        Variants: \(JacobiVariant.allCases.map { "\n  \($0.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0))\($0.summary)" }.joined())

        Examples:
          gpucomm jacobi --variants all --gpus 1,2,4                  # the study's comparison, 16384²
          gpucomm jacobi --variants nccl,nvshmem_opt --gpus 4 --nx 4096 --ny 4096 -n 200 --csv
          mpirun -np 8 gpucomm jacobi --variants nccl                 # under a launcher: one job of its size
        Rows go to the results file (benchmark jacobi; time_us = the whole run, metrics speedup, \
        efficiency in %, baseline_s, time_per_iter_us); --csv adds multi-gpu-programming-models' -csv \
        lines (variant, nx, ny, iter_max, nccheck, num_gpus, 1, runtime, runtime_serial), which \
        `gpucomm import` reads. Exit 3 when any element is wrong.
        """)

    @Option(name: .long, help: "Comma-separated variants, or all.")
    var variants: Typed<JacobiVariantsReading> = "all"
    @Option(name: .long, parsing: .unconditional, help: "GPU counts to run, each as its own job (default: every visible GPU).")
    var gpus: Typed<GPUCountsReading>?
    @Option(name: .long, parsing: .unconditional, help: "Columns of the grid.")
    var nx = 16384
    @Option(name: .long, parsing: .unconditional, help: "Rows of the grid (rows 1 … ny-2 are computed).")
    var ny = 16384
    @Option(name: [.customShort("n"), .customLong("iterations")], parsing: .unconditional, help: "Timed iterations.")
    var iterations = 1000
    @Option(name: .customLong("norm-every"), parsing: .unconditional, help: "L2 norm every this many iterations (0 = never).")
    var normEvery = 1
    @Option(name: .long, parsing: .unconditional, help: "Untimed iterations before the timed run (even).")
    var warmup = 10
    @Option(name: .long, parsing: .unconditional, help: "Largest |x - reference| counted as right (float; multi-gpu-programming-models uses 1e-8).")
    var tolerance: Float = 1e-8
    @Flag(name: .long, help: "Also print multi-gpu-programming-models' -csv lines.")
    var csv = false
    @OptionGroup var output: ResultsOptions
    @OptionGroup var launch: LaunchOptions

    var problem: JacobiProblem { JacobiProblem(nx: nx, ny: ny, iterations: iterations, normEvery: normEvery, warmup: warmup) }

    static func parseCounts(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let counts = parts.compactMap { Int($0) }
        guard !parts.isEmpty, counts.count == parts.count, counts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--gpus must be a comma-separated list of GPU counts ≥ 1 (got '\(text)')")
        }
        return counts
    }

    func validate() throws {
        if let e = variants.problem { throw ValidationError("--variants: \(e)") }
        if let e = gpus?.problem { throw e }
        let counts = gpus?.value ?? []
        if let p = problem.problem(ranks: counts) { throw ValidationError(p) }
        if !(tolerance >= 0) { throw ValidationError("--tolerance must be ≥ 0 (got \(tolerance))") }
        if launch.np != nil { throw ValidationError("jacobi starts its own ranks: use --gpus N (or an outside launcher), not --np") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("jacobi runs one GPU per process: -g must be 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if try env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            try launchJobs(env)
        } else {
            try runRank(printBaseline: env["GPUCOMM_JACOBI_BASELINE"] != "0")
        }
    }

    /// Runs each GPU count as a job of that many local ranks, one after another.
    func launchJobs(_ env: [String: String]) throws {
        let cuda = try Job.loadCUDA()
        let visible = try cuda.deviceCount()
        if visible == 0 { throw Failure(.unavailable, "no CUDA devices are visible (CUDA_VISIBLE_DEVICES=\(env["CUDA_VISIBLE_DEVICES"] ?? "unset"))") }
        let counts = gpus?.value ?? [visible]
        if let n = counts.first(where: { $0 > visible }), !Job.sharesGPUs(env) {
            throw Failure(.usage, "--gpus asks for \(n) GPUs but \(visible) are visible")
        }
        if let p = problem.problem(ranks: counts) { throw Failure(.usage, p) }
        var worst: Int32 = 0
        for (i, n) in counts.enumerated() {
            if counts.count > 1 { FileHandle.standardError.write(Data("[jacobi] \(n) GPU(s): job \(i + 1) of \(counts.count)\n".utf8)) }
            var childEnv = Job.rankEnvironment(ranks: n, env)
            childEnv["GPUCOMM_JACOBI_BASELINE"] = i == 0 ? "1" : "0"
            let status = LocalLauncher.run(ranks: n, executable: LocalLauncher.currentExecutable(),
                                           arguments: Array(CommandLine.arguments.dropFirst()), environment: childEnv,
                                           timeout: .seconds(launch.timeout))
            if status == ExitStatus.wrongResults.rawValue || worst == 0 { worst = status == 0 ? worst : status }
        }
        if worst != 0 { throw Failure(ExitStatus(rawValue: worst) ?? .failure, "") }
    }

    func runRank(printBaseline: Bool) throws {
        let run = JacobiRun(variants: variants.value, problem: problem, tolerance: tolerance, csv: csv, timeout: launch.timeout,
                            resultsPath: output.noResults ? nil : output.results, printBaseline: printBaseline)
        var opts = launch
        if opts.gpusPerProcess == nil { opts.gpusPerProcess = 1 }  // one GPU per process, also for a job of one rank
        try run.run(opts.spec)
    }
}

/// `--variants`: `all` or a comma-separated list (`JacobiVariant.parseList`, whose error names the bad one).
enum JacobiVariantsReading: OptionReading {
    static func read(_ text: String) throws -> [JacobiVariant] { try JacobiVariant.parseList(text) }
}

/// `--gpus`: GPU counts ≥ 1, comma-separated (`JacobiCommand.parseCounts`, whose error is the one line).
enum GPUCountsReading: OptionReading {
    static func read(_ text: String) throws -> [Int] { try JacobiCommand.parseCounts(text) }
}
