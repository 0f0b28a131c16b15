import Foundation

/// Reads NVSHMEM perftest output (NVIDIA/nvshmem perftest/common/utils.cu): the plain
/// point-to-point table (`size(B) scope <var> (<units>)`), the device collective table
/// (`size(B) count type [redop] scope latency(us) ... algbw(GB/s) busbw(GB/s)`), the host
/// on-stream table (the same without `scope`, with `min_lat(us) max_lat(us)`), optional
/// repetition columns, and the `&&&& PERF` / `&&&& PERF_STATS` machine-readable lines.
///
/// Each table is preceded by a `#<job name>` title line; the job name gives the benchmark key,
/// the backend (`_on_stream` → `nvshmem_host`, otherwise `nvshmem_device`) and the `perftest` label.
enum NVSHMEMPerftestImporter {
    static func recognizes(line: String) -> Bool {
        line.hasPrefix("size(B)") || line.hasPrefix("&&&& PERF") || line.hasPrefix("[PE 0] Runtime options")
            || (line.hasPrefix("mype:") && line.contains("mype_node:"))
    }

    static func parse(text: String, name: String, options: ImportOptions) throws -> ImportedInput {
        let runID = InputText.runID(name: name, text: text)
        var rows: [ResultRow] = []
        let skipped: [SkippedLine] = []  // every table line is a row or an error
        var pes: [Int: GPUInfo] = [:]
        var optionLine: String?
        var optionLineNumber: Int?
        var job: String?
        var table: (columns: [String], line: Int, rows: Int)?

        func closeTable() throws {
            if let t = table, t.rows == 0 {
                throw ResultsError(file: name, line: t.line,
                    "perftest table '\(job ?? "?")' has a header but no rows (expected rows of '\(t.columns.joined(separator: " "))')")
            }
            table = nil
        }

        for line in InputText.lines(text) {
            let body = line.text.trimmingCharacters(in: .whitespaces)
            if body.isEmpty { try closeTable(); continue }
            if body.hasPrefix("&&&& PERF") {
                try closeTable()
                if let row = try perfLine(body, line: line.number, name: name, runID: runID, options: options) { rows.append(row) }
                continue
            }
            if body.hasPrefix("#") {
                try closeTable()
                let title = body.dropFirst().trimmingCharacters(in: .whitespaces)
                if !title.isEmpty && !title.contains(" ") { job = title }
                continue
            }
            if body.hasPrefix("size(B)") {
                try closeTable()
                table = (headerColumns(body), line.number, 0)
                continue
            }
            if body.hasPrefix("mype:"), let pe = peLine(body) {
                let n = try InputNumber.small(InputText.words(Substring(body))[1]).value(file: name, line: line.number, field: "mype")
                pes[n] = pe
                continue
            }
            if body.hasPrefix("min_size:") { optionLine = body; optionLineNumber = line.number; continue }
            guard let t = table else { continue }  // log text outside tables
            let values = InputText.words(Substring(body)).map(String.init)
            // A row starts with its size: digits, or a number the checked conversion will refuse (inf, -5, 1e400).
            guard let first = values.first, first.first?.isNumber == true || first.first == "-" || Double(first) != nil else {
                try closeTable()
                continue
            }
            guard values.count == t.columns.count else {
                throw ResultsError(file: name, line: line.number,
                    "expected \(t.columns.count) columns (\(InputText.quote(t.columns.joined(separator: " "), limit: 120))), found \(values.count): the line is truncated or malformed")
            }
            let jobName = job ?? options.benchmark ?? "unknown"
            var row = base(job: jobName, runID: runID, options: options)
            var metrics: [String: Double] = [:]
            for (c, v) in zip(t.columns, values) {
                try assign(column: c, value: v, to: &row, metrics: &metrics, file: name, line: line.number)
            }
            row.metrics = metrics.isEmpty ? nil : metrics
            rows.append(row)
            table!.rows += 1
        }
        if let t = table, t.rows == 0 {
            throw ResultsError(file: name, line: t.line, "perftest table '\(job ?? "?")' has a header but no rows: the input was cut short")
        }
        if rows.isEmpty { throw ResultsError(file: name, "no NVSHMEM perftest table or &&&& PERF line found") }

        var run = RunInfo(run: runID, tool: "nvshmem-perftest")
        run.importer = InputFormat.nvshmemPerftest.rawValue
        run.source = name
        if !pes.isEmpty { run.gpus = pes.keys.sorted().map { pes[$0]! } }
        var notes: [String] = []
        if let optionLine { notes.append("perftest options: \(optionLine)") }
        let ranks = options.ranks ?? (pes.isEmpty ? 0 : pes.count)
        if ranks == 0 { notes.append("The output does not say how many PEs ran (no 'mype:' lines); ranks is 0. Pass --ranks.") }
        run.notes = notes.isEmpty ? nil : notes
        let iterations = try optionLine.flatMap { option("iterations", in: $0) }.map {
            try InputNumber.small($0).value(file: name, line: optionLineNumber, field: "option 'iterations'")
        }
        for i in rows.indices {
            rows[i].ranks = ranks
            if rows[i].iterations == nil { rows[i].iterations = iterations }
        }
        return ImportedInput(set: ResultSet(runs: [run], rows: rows), format: .nvshmemPerftest, skipped: skipped)
    }

    /// Benchmark key and backend from a perftest job name.
    static func classify(job: String) -> (benchmark: String, backend: String) {
        var key = job
        var backend = "nvshmem_device"
        for suffix in ["_on_stream"] where key.hasSuffix(suffix) { key.removeLast(suffix.count); backend = "nvshmem_host" }
        if key.hasPrefix("host_") { key.removeFirst(5); backend = "nvshmem_host" }
        if key.hasSuffix("_device") { key.removeLast(7) }
        if key.hasPrefix("device_") { key.removeFirst(7) }
        if key.hasPrefix("shmem_") { key.removeFirst(6) }
        let renames = ["bcast": "broadcast", "reduction": "all_reduce", "fcollect": "all_gather",
                       "reducescatter": "reduce_scatter", "alltoall_latency": "alltoall"]
        return (renames[key] ?? key, backend)
    }

    private static func base(job: String, runID: String, options: ImportOptions) -> ResultRow {
        let (benchmark, backend) = classify(job: job)
        var row = ResultRow(run: runID, benchmark: options.benchmark ?? benchmark, backend: backend, ranks: 0)
        row.labels = ["perftest": job]
        return row
    }

    /// Header words with `(unit)` words joined to the name before them: `bw (GB/s)`.
    private static func headerColumns(_ line: String) -> [String] {
        var out: [String] = []
        for w in InputText.words(Substring(line)) {
            if w.hasPrefix("("), let last = out.popLast() { out.append("\(last) \(w)") } else { out.append(String(w)) }
        }
        return out
    }

    private static func assign(column c: String, value v: String, to row: inout ResultRow, metrics: inout [String: Double],
                               file: String, line: Int) throws {
        func number(_ range: InputNumber.Range = .nonNegative) throws -> Double? {
            if v == "NA" || v == "N/A" || v == "-nan" || v == "nan" { return nil }
            return try InputNumber.real(v, range).value(file: file, line: line, field: "column '\(InputText.quote(c, limit: 30))'")
        }
        func count() throws -> Int64? {
            if v == "NA" || v == "N/A" { return nil }
            return try InputNumber.count(v).value(file: file, line: line, field: "column '\(InputText.quote(c, limit: 30))'")
        }
        switch c {
        case "size(B)": row.sizeBytes = try count()
        case "count": row.count = try count()
        case "type": row.dtype = v
        case "redop": row.op = v
        case "scope": row.labels?["scope"] = v
        case "latency(us)": row.timeUs = try number()
        case "stddev(us)": metrics["time_stddev_us"] = try number()
        case "min_lat(us)": metrics["time_min_us"] = try number()
        case "max_lat(us)": metrics["time_max_us"] = try number()
        case "repetitions": metrics["repetitions"] = try number()
        case "algbw(GB/s)": row.algbwGBps = try number()
        case "busbw(GB/s)": row.busbwGBps = try number()
        default:
            // Plain table: `<var> (<units>)` and, with repetitions, `stddev|min|max (<units>)`.
            let parts = c.split(separator: " ", maxSplits: 1).map(String.init)
            let unit = parts.count == 2 ? String(parts[1].dropFirst().dropLast()) : ""
            let kind = parts[0]
            guard let value = try number() else { return }
            let isTime = unit == "us" || unit == "usec"
            let isBandwidth = unit == "GB/s"
            switch kind {
            case "stddev", "min", "max":
                let key = isTime ? "time_\(kind)_us" : isBandwidth ? "algbw_\(kind)_gbps" : "\(kind)_\(unit.lowercased())"
                metrics[key] = value
            default:
                if isTime { row.timeUs = value } else if isBandwidth { row.algbwGBps = value } else {
                    metrics["\(kind)_\(unit.lowercased())"] = value
                }
            }
        }
    }

    /// `&&&& PERF job___subjob___size__N___var 1.234 +GB/s` or `&&&& PERF_STATS ... +GB/s mean=.. stddev=.. min=.. max=.. repetitions=N`.
    private static func perfLine(_ body: String, line: Int, name: String, runID: String, options: ImportOptions) throws -> ResultRow? {
        let w = InputText.words(Substring(body)).map(String.init)
        let stats = w.count > 1 && w[1] == "PERF_STATS"
        let fields = w.count > 2 ? w[2].components(separatedBy: "___") : []
        guard fields.count == 4, fields[2].hasPrefix("size__") else {
            throw ResultsError(file: name, line: line, "expected '&&&& PERF <job>___<subjob>___size__<bytes>___<var> <value> <units>', found '\(InputText.quote(body))'")
        }
        let size = try InputNumber.count(fields[2].dropFirst(6)).value(file: name, line: line, field: "size__")
        var row = base(job: fields[0], runID: runID, options: options)
        row.sizeBytes = size
        row.labels?["subjob"] = fields[1]
        if ["thread", "warp", "block"].contains(fields[1]) { row.labels?["scope"] = fields[1] }
        var value: Double?
        var units = ""
        var metrics: [String: Double] = [:]
        if stats {
            guard w.count >= 5 else { throw ResultsError(file: name, line: line, "truncated &&&& PERF_STATS line (expected units and mean=...)") }
            units = w[3]
            for kv in w[4...] {
                let p = kv.split(separator: "=", maxSplits: 1)
                guard p.count == 2 else { continue }
                let d: Double? = p[1] == "nan" || p[1] == "-nan" ? nil
                    : try InputNumber.real(p[1]).value(file: name, line: line, field: InputText.quote(p[0], limit: 30))
                switch p[0] {
                case "mean": value = d
                case "repetitions": metrics["repetitions"] = d
                default: if let d { metrics["\(p[0])"] = d }
                }
            }
        } else {
            guard w.count == 5 else {
                throw ResultsError(file: name, line: line, "expected '&&&& PERF <name> <value> <units>', found '\(InputText.quote(body))': truncated or malformed")
            }
            value = try InputNumber.real(w[3]).value(file: name, line: line, field: "value")
            units = w[4]
        }
        guard let value else { throw ResultsError(file: name, line: line, "&&&& PERF_STATS line without mean=") }
        let unit = units.trimmingCharacters(in: CharacterSet(charactersIn: "+-"))
        let prefixFor: String
        if unit == "us" || unit == "usec" {
            row.timeUs = value
            prefixFor = "time"
            if size > 0, value > 0, ["alltoall", "all_gather", "reduce_scatter", "all_reduce", "broadcast"].contains(row.benchmark) {
                let bw = Double(size) / (value * 1e3)  // perftest's algbw: size / 1e9 / seconds
                if bw <= InputNumber.largestReal { row.algbwGBps = bw }
            }
        } else if unit == "GB/s" {
            row.algbwGBps = value
            prefixFor = "algbw"
        } else {
            metrics["\(fields[3])_\(unit.lowercased())"] = value
            prefixFor = fields[3]
        }
        var renamed: [String: Double] = [:]
        for (k, v) in metrics {
            renamed[k == "repetitions" ? k : "\(prefixFor)_\(k)\(prefixFor == "time" ? "_us" : prefixFor == "algbw" ? "_gbps" : "")"] = v
        }
        row.metrics = renamed.isEmpty ? nil : renamed
        return row
    }

    /// `mype: 0 mype_node: 0 device name: NVIDIA H100 80GB HBM3 bus id: 83`.
    private static func peLine(_ body: String) -> GPUInfo? {
        let w = InputText.words(Substring(body))
        guard w.count > 3, let pe = Int(w[1]) else { return nil }
        let local = Int(w[3]) ?? pe
        guard let nameStart = body.range(of: "device name: ") else { return GPUInfo(index: local, name: "") }
        let rest = body[nameStart.upperBound...]
        let busRange = rest.range(of: " bus id: ")
        var g = GPUInfo(index: local, name: String(busRange.map { rest[..<$0.lowerBound] } ?? rest).trimmingCharacters(in: .whitespaces))
        if let busRange { g.pciBusId = rest[busRange.upperBound...].trimmingCharacters(in: .whitespaces) }
        return g
    }

    private static func option(_ key: String, in line: String) -> String? {
        for part in line.components(separatedBy: ",") {
            let kv = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 && kv[0] == key { return kv[1].components(separatedBy: " ").first }
        }
        return nil
    }
}
