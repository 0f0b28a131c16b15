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
            throw ResultsError(file: name, line: closed ? nil : last,
                closed ? "not valid JSON (expected an nccl-tests -J document): \(error.localizedDescription)"
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
        let ranks = (config["nthreads"] as? Int ?? 1) * (config["ngpus"] as? Int ?? 1) * processes
        let benchmark = try options.benchmark ?? args?.first.flatMap(NCCLTestsTextImporter.collective(fromProgram:))
            ?? StudyCSVImporter.collective(fromFileName: ((name as NSString).lastPathComponent).lowercased(), name: name)
        let perIter = (config["per_iter_timing"] as? String) == "true"
        let graph = (config["graph"] as? Int ?? 0) > 0

        var rows: [ResultRow] = []
        var skipped: [SkippedLine] = []
        for (i, item) in results.enumerated() {
            guard let r = item as? [String: Any], let size = number(r["size"]) else {
                throw ResultsError(file: name, "results[\(i)]: expected an object with a numeric 'size'")
            }
            var base = ResultRow(run: runID, benchmark: benchmark, backend: "nccl", ranks: ranks)
            base.sizeBytes = Int64(size)
            base.count = number(r["count"]).map { Int64($0) }
            base.dtype = r["type"] as? String
            if let op = r["redop"] as? String, op != "none" { base.op = op }
            if let root = (r["root"] as? String).flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) ?? (r["root"] as? Int), root >= 0 {
                base.root = root
            }
            base.iterations = r["actual_iterations"] as? Int ?? config["iterations"] as? Int
            base.nodes = run.topology?.nodes
            base.timing = perIter ? "events" : graph ? "graph" : "host"
            if let name = r["experiment_name"] as? String, !name.isEmpty { base.labels = ["experiment": name] }
            var any = false
            for variant in ["out_of_place", "in_place"] {
                guard let body = r[variant] as? [String: Any] else { continue }
                var row = base
                row.variant = variant
                row.timeUs = number(body["time"]) ?? number(body["cpu_time"])
                if body["cpu_time"] != nil { row.labels = (row.labels ?? [:]).merging(["time_column": "cputime"]) { a, _ in a } }
                row.algbwGBps = number(body["alg_bw"])
                row.busbwGBps = number(body["bus_bw"])
                row.wrong = number(body["nwrong"]).map { Int64($0) }
                if let it = r["\(variant)_per_iter"] as? [String: Any] {
                    var m: [String: Double] = [:]
                    for (k, key) in [("min_us", "time_min_us"), ("max_us", "time_max_us"), ("p50_us", "time_p50_us"),
                                     ("p95_us", "time_p95_us"), ("p99_us", "time_p99_us"), ("avg_us", "time_mean_us"),
                                     ("stdev_us", "time_stdev_us"), ("cv_pct", "time_cv_pct")] {
                        if let v = number(it[k]) { m[key] = v }
                    }
                    row.metrics = m.isEmpty ? nil : m
                }
                rows.append(row)
                any = true
            }
            if !any { skipped.append(SkippedLine(line: 0, reason: "results[\(i)] (size \(Int64(size))): no out_of_place or in_place numbers")) }
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
