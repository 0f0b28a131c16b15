import Foundation

/// Reads NVIDIA/multi-gpu-programming-models Jacobi output (e.g. nccl/jacobi.cpp), plain or `-csv`.
///
/// Plain: `Jacobi relaxation: N iterations on NY x NX mesh ...`, then `Num GPUs: G.` and
/// `NYxNX: 1 GPU: T1 s, G GPUs: TG s, speedup: S, efficiency: E`. The plain output does not
/// name the variant, so it comes from `--variant` or the file name (`jacobi_nccl_overlap.log`
/// → `nccl_overlap`). CSV: `variant, nx, ny, iter_max, nccheck, num_gpus, 1, runtime[, runtime_serial]`.
enum JacobiImporter {
    static func recognizes(line: String) -> Bool {
        line.hasPrefix("Single GPU jacobi relaxation") || line.hasPrefix("Jacobi relaxation:")
            || line.hasPrefix("Num GPUs:") || resultLine(line) != nil || csvFields(line) != nil
    }

    static func parse(text: String, name: String, options: ImportOptions) throws -> ImportedInput {
        let runID = InputText.runID(name: name, text: text)
        var rows: [ResultRow] = []
        let skipped: [SkippedLine] = []  // every result line is a row or an error
        var iterations: Int?
        var csvCount = 0
        let fileVariant = variant(fromFileName: name)

        for line in InputText.lines(text) {
            let body = line.text.trimmingCharacters(in: .whitespaces)
            if body.isEmpty { continue }
            if body.hasPrefix("Jacobi relaxation:") || body.hasPrefix("Single GPU jacobi relaxation:") {
                if body.hasPrefix("Jacobi"), let n = InputText.words(Substring(body)).dropFirst(2).first {
                    iterations = try InputNumber.small(n).value(file: name, line: line.number, field: "iterations")
                }
                continue
            }
            if body.hasPrefix("Num GPUs:") {
                let digits = body.dropFirst("Num GPUs:".count).trimmingCharacters(in: CharacterSet(charactersIn: " ."))
                _ = try InputNumber.small(digits, .positive).value(file: name, line: line.number, field: "Num GPUs")  // the result line repeats it
                continue
            }
            if body.contains(": 1 GPU:") {
                guard let r = resultLine(body) else {
                    throw ResultsError(file: name, line: line.number,
                        "expected '<ny>x<nx>: 1 GPU: <s> s, <n> GPUs: <s> s, speedup: <x>, efficiency: <pct>', found '\(InputText.quote(body))': truncated or malformed")
                }
                func check(_ v: Double, _ field: String, _ range: InputNumber.Range = .nonNegative) throws {
                    _ = try InputNumber.check(v, range).value(file: name, line: line.number, field: field)
                }
                _ = try InputNumber.small(Int64(r.gpus), .positive).value(file: name, line: line.number, field: "GPUs")
                try check(r.baseline, "1 GPU time", .positive)
                try check(r.time * 1e6, "GPUs time", .positive)
                try check(r.speedup, "speedup")
                try check(r.efficiency, "efficiency")
                let v = options.variant ?? fileVariant ?? "unknown"
                var row = ResultRow(run: runID, benchmark: options.benchmark ?? "jacobi", backend: backend(of: v), ranks: r.gpus)
                row.variant = v
                row.iterations = iterations
                row.timeUs = r.time * 1e6
                row.metrics = ["baseline_s": r.baseline, "time_s": r.time, "speedup": r.speedup, "efficiency": r.efficiency]
                row.labels = ["grid": r.grid]
                rows.append(row)
                continue
            }
            if let f = csvFields(body) {
                csvCount += 1
                _ = try InputNumber.small(Int64(f.gpus), .positive).value(file: name, line: line.number, field: "num_gpus")
                _ = try InputNumber.small(Int64(f.iterMax)).value(file: name, line: line.number, field: "iter_max")
                _ = try InputNumber.check(f.time * 1e6, .positive).value(file: name, line: line.number, field: "runtime")
                if let s = f.serial { _ = try InputNumber.check(s * 1e6, .positive).value(file: name, line: line.number, field: "runtime_serial") }
                let v = options.variant ?? f.variant
                var row = ResultRow(run: runID, benchmark: options.benchmark ?? "jacobi", backend: backend(of: v), ranks: f.gpus)
                row.variant = v
                row.iterations = f.iterMax
                row.timeUs = f.time * 1e6
                var metrics = ["time_s": f.time]
                if let base = f.serial {
                    metrics["baseline_s"] = base
                    metrics["speedup"] = base / f.time
                    metrics["efficiency"] = base / (Double(f.gpus) * f.time) * 100
                }
                row.metrics = metrics
                row.labels = ["grid": "\(f.ny)x\(f.nx)", "norm_check_every": String(f.nccheck)]
                rows.append(row)
                continue
            }
            if body.first == "-" || body.first?.isLetter == true, body.contains(","), body.split(separator: ",").count >= 7 {
                throw ResultsError(file: name, line: line.number,
                    "expected a Jacobi -csv line 'variant, nx, ny, iter_max, nccheck, num_gpus, 1, runtime[, runtime_serial]', found '\(InputText.quote(body))'")
            }
            // Residual lines ("  100, 0.897983") and other log text are not rows.
        }
        if rows.isEmpty {
            throw ResultsError(file: name, "no Jacobi result line found (expected '<ny>x<nx>: 1 GPU: ...' or a -csv line): the run did not finish or the output was cut")
        }
        var run = RunInfo(run: runID, tool: "mgpm-jacobi")
        run.importer = InputFormat.jacobi.rawValue
        run.source = name
        var notes: [String] = []
        if csvCount > 0 { notes.append("speedup and efficiency computed from the -csv runtimes (efficiency in percent).") }
        if csvCount == 0 && options.variant == nil && fileVariant == nil {
            notes.append("The plain output does not name the variant and the file name does not either; pass --variant.")
        }
        run.notes = notes.isEmpty ? nil : notes
        return ImportedInput(set: ResultSet(runs: [run], rows: rows), format: .jacobi, skipped: skipped)
    }

    static func backend(of variant: String) -> String {
        let v = variant.lowercased()
        if v.contains("nvshmem") { return "nvshmem" }
        if v.contains("nccl") { return "nccl" }
        if v.contains("mpi") { return "mpi" }
        return "cuda"
    }

    /// `jacobi_nccl_overlap.log` → `nccl_overlap`; nil when the name says nothing about a variant.
    static func variant(fromFileName name: String) -> String? {
        var base = ((name as NSString).lastPathComponent as NSString).deletingPathExtension
        for prefix in ["jacobi_", "jacobi-"] where base.lowercased().hasPrefix(prefix) { base = String(base.dropFirst(prefix.count)) }
        let known = ["nccl", "nvshmem", "mpi", "single", "multi", "cuda", "stdpar", "openmp"]
        return known.contains(where: { base.lowercased().contains($0) }) ? base : nil
    }

    private struct Result { var grid: String; var baseline: Double; var gpus: Int; var time: Double; var speedup: Double; var efficiency: Double }

    /// `16384x16384: 1 GPU:   5.9929 s, 8 GPUs:   0.8161 s, speedup:     7.34, efficiency:    91.79`.
    private static func resultLine(_ line: String) -> Result? {
        guard let colon = line.range(of: ": 1 GPU:") else { return nil }
        let grid = String(line[..<colon.lowerBound])
        guard grid.split(separator: "x").count == 2, grid.split(separator: "x").allSatisfy({ Int($0) != nil }) else { return nil }
        let parts = line[colon.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 4 else { return nil }
        func seconds(_ s: String) -> Double? {
            s.hasSuffix(" s") ? Double(s.dropLast(2).trimmingCharacters(in: .whitespaces)) : nil
        }
        let gpuPart = parts[1].components(separatedBy: "GPUs:")
        guard let baseline = seconds(parts[0]), gpuPart.count == 2,
              let gpus = Int(gpuPart[0].trimmingCharacters(in: .whitespaces)),
              let time = seconds(gpuPart[1].trimmingCharacters(in: .whitespaces)),
              parts[2].hasPrefix("speedup:"), let speedup = Double(parts[2].dropFirst(8).trimmingCharacters(in: .whitespaces)),
              parts[3].hasPrefix("efficiency:"), let eff = Double(parts[3].dropFirst(11).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return Result(grid: grid, baseline: baseline, gpus: gpus, time: time, speedup: speedup, efficiency: eff)
    }

    private struct CSVLine { var variant: String; var nx: Int; var ny: Int; var iterMax: Int; var nccheck: Int; var gpus: Int; var time: Double; var serial: Double? }

    private static func csvFields(_ line: String) -> CSVLine? {
        let f = InputText.csvFields(Substring(line))
        guard f.count == 8 || f.count == 9, let first = f.first?.first, first.isLetter,
              let nx = Int(f[1]), let ny = Int(f[2]), let it = Int(f[3]), let nc = Int(f[4]), let g = Int(f[5]),
              Int(f[6]) != nil, let t = Double(f[7]) else { return nil }
        return CSVLine(variant: f[0], nx: nx, ny: ny, iterMax: it, nccheck: nc, gpus: g, time: t,
                       serial: f.count == 9 ? Double(f[8]) : nil)
    }
}
