import Foundation

/// Reads nccl-tests `-J <file>` JSON (NVIDIA/nccl-tests src/util.cu, JSON file versions 2 and 3).
///
/// Known quirk: `config.devices` lists only the first GPU of each process (nccl-tests parses one
/// line per process), so ranks are `nthreads × ngpus × processes`.
enum NCCLTestsJSONImporter {
    static func parse(text: String, name: String, options: ImportOptions) throws -> ImportedInput {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let last = lines.lastIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0 + 1 } ?? 1
            let closed = text.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("}")
            // Foundation's message names neither line nor cause; ours says what to look for.
            throw ResultsError(file: name, line: closed ? nil : last,
                closed ? "not an nccl-tests -J document: malformed JSON, or a number beyond the range of a double (such as 1e400)"
                       : "JSON ends early: the nccl-tests -J document is truncated (expected the closing '}')")
        }
        guard let doc = object as? [String: Any], let results = doc["results"] as? [Any] else {
            throw ResultsError(file: name, "not an nccl-tests -J document (expected an object with a 'results' list)")
        }
        let config = doc["config"] as? [String: Any] ?? [:]
        let args = (doc["args"] as? [Any])?.compactMap { $0 as? String }
        let runID = InputText.runID(name: name, text: text)

        var run = RunInfo(run: runID, tool: "nccl-tests")
        run.importer = InputFormat.ncclTestsJSON.rawValue
        run.source = name
        run.command = args
        if let t = doc["start_time"] as? String { run.time = t.replacingOccurrences(of: " ", with: "T") }
        if let code = doc["nccl_version"] as? Int { run.nccl = NCCLTestsTextImporter.ncclVersion(code: code) }
        let env = (doc["env"] as? [Any])?.compactMap { $0 as? String } ?? []
        var kept: [String: String] = [:]
        for entry in env {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            let key = String(entry[..<eq])
            if key.hasPrefix("NCCL_") || key.hasPrefix("NVSHMEM_") || key.hasPrefix("FI_") || key.hasPrefix("SLURM_JOB")
                || ["CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "OMPI_COMM_WORLD_SIZE"].contains(key) {
                kept[key] = String(entry[entry.index(after: eq)...])
            }
        }
        run.environment = kept.isEmpty ? nil : kept
        let devices = (config["devices"] as? [Any])?.compactMap { $0 as? [String: Any] } ?? []
        if !devices.isEmpty {
            run.gpus = devices.map { d in
                var g = GPUInfo(index: d["device"] as? Int ?? 0, name: d["device_info"] as? String ?? "")
                g.pciBusId = d["device_hex"] as? String
                g.host = d["hostname"] as? String
                return g
            }
            var topo = Topology()
            topo.nodes = Set(devices.compactMap { $0["hostname"] as? String }).count
            run.topology = topo
        }
        var notes = ["nccl-tests JSON version \(doc["version"].map { "\($0)" } ?? "?"); start_time is the machine's local time."]
        let params = ["nthreads", "ngpus", "minimum_bytes", "maximum_bytes", "step_factor", "step_bytes", "warmup_iters",
                      "iterations", "aggregated_iterations", "validation", "graph", "blocking_collectives", "per_iter_timing"]
        let described = params.compactMap { k in config[k].map { "\(k) \($0)" } }
        if !described.isEmpty { notes.append("nccl-tests parameters: " + described.joined(separator: " ")) }
        if devices.count > 0 { notes.append("nccl-tests -J lists only the first GPU of each process.") }
        if let bw = (doc["average_bus_bandwidth"] as? [String: Any])?["bandwidth"] { notes.append("nccl-tests Avg bus bandwidth: \(bw)") }
        if let errors = (doc["errors"] as? [Any])?.compactMap({ $0 as? String }).filter({ !$0.isEmpty }), !errors.isEmpty {
            notes.append("nccl-tests errors: " + errors.joined(separator: "; "))
        }
        run.notes = notes

        let processes = max(devices.count, 1)
        func configCount(_ key: String) throws -> Int? {
            guard let v = config[key] else { return nil }
            guard let n = v as? NSNumber else { throw ResultsError(file: name, "config.\(key): expected a number") }
            let c = try InputNumber.count(exactly: n.doubleValue).value(file: name, line: nil, field: "config.\(key)")
            return try InputNumber.small(c).value(file: name, line: nil, field: "config.\(key)")
        }
        let (perProcess, o1) = (try configCount("nthreads") ?? 1).multipliedReportingOverflow(by: try configCount("ngpus") ?? 1)
        let (ranks, o2) = perProcess.multipliedReportingOverflow(by: processes)
        if o1 || o2 || ranks > InputNumber.largestSmall {
            throw ResultsError(file: name, "config: nthreads × ngpus × processes is out of range (at most 2^31 GPUs)")
        }
        let configIterations = try configCount("iterations")
        let warmup = try configCount("warmup_iters")
        let benchmark = try options.benchmark ?? args?.first.flatMap(NCCLTestsTextImporter.collective(fromProgram:))
            ?? StudyCSVImporter.collective(fromFileName: ((name as NSString).lastPathComponent).lowercased(), name: name)
        let perIter = (config["per_iter_timing"] as? String) == "true"
        let graph = (config["graph"] as? NSNumber)?.doubleValue ?? 0 > 0

        var rows: [ResultRow] = []
        var skipped: [SkippedLine] = []
        for (i, item) in results.enumerated() {
            guard let r = item as? [String: Any], let sizeValue = number(r["size"]) else {
                throw ResultsError(file: name, "results[\(i)]: expected an object with a numeric 'size'")
            }
            func count(_ v: Double?, _ field: String) throws -> Int64? {
                try v.map { try InputNumber.count(exactly: $0).value(file: name, line: nil, field: "results[\(i)].\(field)") }
            }
            func real(_ v: Double?, _ field: String) throws -> Double? {
                try v.map { try InputNumber.check($0).value(file: name, line: nil, field: "results[\(i)].\(field)") }
            }
            let size = try count(sizeValue, "size")!
            var base = ResultRow(run: runID, benchmark: benchmark, backend: "nccl", ranks: ranks)
            base.sizeBytes = size
            base.count = try count(number(r["count"]), "count")
            base.dtype = r["type"] as? String
            if let op = r["redop"] as? String, op != "none" { base.op = op }
            if let root = (r["root"] as? String).flatMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) ?? (r["root"] as? NSNumber).flatMap({ Int32(exactly: $0.doubleValue) }),
               root >= 0 {
                base.root = Int(root)
            }
            base.iterations = try count(number(r["actual_iterations"]), "actual_iterations").map {
                try InputNumber.small($0).value(file: name, line: nil, field: "results[\(i)].actual_iterations")
            } ?? configIterations
            base.nodes = run.topology?.nodes
            base.timing = perIter ? "events" : graph ? "graph" : "host"
            if let name = r["experiment_name"] as? String, !name.isEmpty { base.labels = ["experiment": name] }
            for variant in ["out_of_place", "in_place"] {
                guard let body = r[variant] as? [String: Any] else {
                    // Every result is counted: a missing variant is a skipped row, not nothing.
                    skipped.append(SkippedLine(line: 0, reason: "results[\(i)] (size \(size)): no \(variant) numbers"))
                    continue
                }
                var row = base
                row.variant = variant
                row.timeUs = try real(number(body["time"]) ?? number(body["cpu_time"]), "\(variant).time")
                if body["cpu_time"] != nil { row.labels = (row.labels ?? [:]).merging(["time_column": "cputime"]) { a, _ in a } }
                row.algbwGBps = try real(number(body["alg_bw"]), "\(variant).alg_bw")
                row.busbwGBps = try real(number(body["bus_bw"]), "\(variant).bus_bw")
                row.wrong = try count(number(body["nwrong"]), "\(variant).nwrong")
                var m: [String: Double] = [:]
                if let it = r["\(variant)_per_iter"] as? [String: Any] {
                    for (k, key) in [("min_us", "time_min_us"), ("max_us", "time_max_us"), ("p50_us", "time_p50_us"),
                                     ("p95_us", "time_p95_us"), ("p99_us", "time_p99_us"), ("avg_us", "time_mean_us"),
                                     ("stdev_us", "time_stdev_us"), ("cv_pct", "time_cv_pct")] {
                        if let v = try real(number(it[k]), "\(variant)_per_iter.\(k)") { m[key] = v }
                    }
                }
                if let warmup { m["warmup_iters"] = Double(warmup) }
                row.metrics = m.isEmpty ? nil : m
                rows.append(row)
            }
        }
        return ImportedInput(set: ResultSet(runs: [run], rows: rows), format: .ncclTestsJSON, skipped: skipped)
    }

    /// A JSON number, or nccl-tests' `"nan"` string as nil.
    private static func number(_ v: Any?) -> Double? {
        if let n = v as? NSNumber { return n.doubleValue }  // nccl-tests writes booleans as strings
        if let s = v as? String, let d = Double(s.trimmingCharacters(in: .whitespaces)), !d.isNaN { return d }
        return nil
    }
}
