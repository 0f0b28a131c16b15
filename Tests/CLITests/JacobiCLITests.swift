import Driver
import Foundation
import Testing
@testable import GPUCommCLI
import Jacobi
import Results

/// `gpucomm jacobi`: bad input in one line (exit 2) before any GPU work; table, CSV and rows.
@Suite struct JacobiCLITests {
    static let cases: [ValidationTests.Case] = [
        ValidationTests.Case("jacobi --variants nccl,bogus", "unknown variant 'bogus'", "nvshmem_opt"),
        ValidationTests.Case("jacobi --gpus 1,0", "--gpus", "≥ 1"),
        ValidationTests.Case("jacobi --gpus two", "--gpus"),
        ValidationTests.Case("jacobi --ny 9 --gpus 1,4", "grid too small for 4 GPUs", "--ny ≥ 10"),
        ValidationTests.Case("jacobi --nx 2", "--nx and --ny must be at least 3"),
        ValidationTests.Case("jacobi --nx 2000000", "at most"),
        ValidationTests.Case("jacobi -n 0", "-n/--iterations"),
        ValidationTests.Case("jacobi --warmup 3", "--warmup"),
        ValidationTests.Case("jacobi --norm-every -1", "--norm-every"),
        ValidationTests.Case("jacobi --tolerance -1", "--tolerance"),
        ValidationTests.Case("jacobi --np 2", "--gpus", "--np"),
        ValidationTests.Case("jacobi -g 2", "-g must be 1"),
    ]

    @Test(arguments: cases)
    func usageErrors(_ c: ValidationTests.Case) throws {
        let r = try CLI.run(c.args + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine && c.says.allSatisfy { r.stderr.contains($0) }, "\(r.summary)")
        #expect(r.leftovers.isEmpty, "files left: \(r.leftovers)")
    }

    /// A valid command line on a machine without a GPU: exit 5 naming CUDA, no results file.
    @Test func validRunWithoutGPU() throws {
        let r = try CLI.run(["jacobi", "--gpus", "1,2", "--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine && r.stderr.contains("CUDA"), "\(r.summary)")
        #expect(r.leftovers.isEmpty)
    }

    static let table = JacobiTable(problem: JacobiProblem(nx: 16384, ny: 16384, iterations: 1000, normEvery: 1), serial: 0.6, csv: true)

    /// The -csv line is one multi-gpu-programming-models' importer reads back with the same numbers.
    @Test func csvLineRoundTripsThroughTheImporter() throws {
        let out = JacobiOutcome(variant: .nvshmemOpt, ranks: 4, seconds: 0.153, wrong: 0, norm: 1.5)
        let line = Self.table.csvLine(out)
        #expect(line == "nvshmem_opt, 16384, 16384, 1000, 1, 4, 1, 0.153000, 0.600000")
        let imported = try ResultInputs.load(text: line + "\n", name: "jacobi.csv")
        let row = try #require(imported.set.rows.first)
        #expect(row.variant == "nvshmem_opt" && row.ranks == 4 && row.backend == "nvshmem")
        #expect(abs((row.metrics?["efficiency"] ?? 0) - 0.6 / (4 * 0.153) * 100) < 1e-9)
        #expect(row.labels?["grid"] == "16384x16384")
    }

    /// Rows carry what the report's application section draws: time, speedup, efficiency in %.
    @Test func recordAndRow() {
        let out = JacobiOutcome(variant: .nccl, ranks: 4, seconds: 0.2, wrong: 3, norm: nil)
        let r = Self.table.record(out, run: "r1", baseline: nil)
        #expect(r.benchmark == "jacobi" && r.backend == "nccl" && r.variant == "nccl" && r.ranks == 4 && r.wrong == 3)
        #expect(r.sizeBytes == nil && r.timeUs == 0.2e6 && r.iterations == 1000)
        func near(_ k: String, _ v: Double) -> Bool { abs((r.metrics?[k] ?? .nan) - v) < 1e-9 }
        #expect(near("speedup", 3) && near("efficiency", 75) && near("time_per_iter_us", 200) && near("baseline_s", 0.6))
        #expect(r.labels == ["grid": "16384x16384", "norm_check_every": "1"])
        let line = Self.table.row(out)
        #expect(line.contains("nccl") && line.contains("75.0%") && line.contains("200.00") && line.hasSuffix("-"))
        #expect(Self.table.notBuilt(.ncclLSA, ranks: 4).contains("not built yet"))
        let skipped = Self.table.skipped(.ncclLSA, ranks: 4, reason: "NCCL's load/store team has 2 of 4 ranks")
        #expect(skipped.hasPrefix("  nccl_lsa") && skipped.hasSuffix("skipped: NCCL's load/store team has 2 of 4 ranks") && !skipped.contains("\n"))
    }
}
