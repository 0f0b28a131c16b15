import Foundation

/// Reads the reference study's CSV files (crazyguitar/aws-gpu-communication-benchmark, data/,
/// CC BY 4.0): NCCL collectives, NVSHMEM all-to-all (device- and host-initiated) and Jacobi.
///
/// Columns are found by header name, so column order does not matter. The study's `MB`/`KB`
/// are powers of two (its sweeps are 2^k bytes), so they are read as MiB/KiB.
enum StudyCSVImporter {
    static let tool = "aws-efa-p5-study"
    static let attribution = "Data: \"GPU Communication Over AWS EFA Benchmarking\" by chang-ning "
        + "(github.com/crazyguitar/aws-gpu-communication-benchmark, data/, commit fd167f9), "
        + "licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."

    private enum Kind { case nccl, nvshmem, jacobi }

    private static func kind(of header: [String]) -> Kind? {
        let h = Set(header.map { $0.lowercased() })
        if h.contains("experiment") && h.contains("speedup") { return .jacobi }
        guard h.contains("nodes") && h.contains("gpus") else { return nil }
        if h.contains("out algbw(gb/s)") && h.contains("in algbw(gb/s)") { return .nccl }
        if h.contains("algbw(gb/s)") { return .nvshmem }
        return nil
    }

    /// Whether `header` is the header line of one of the study's CSV shapes.
    static func recognizes(header: String) -> Bool {
        kind(of: InputText.csvFields(Substring(header))) != nil
    }

    static func parse(text: String, name: String, options: ImportOptions) throws -> ImportedInput {
        let lines = InputText.numberedLines(text).filter { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let first = lines.first else { throw ResultsError(file: name, "empty file (expected a CSV header)") }
        let header = InputText.csvFields(first.text)
        guard let kind = kind(of: header) else {
            throw ResultsError(file: name, line: first.number, "not a study CSV header: '\(InputText.quote(first.text))'")
        }
        let base = ((name as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased()
        let runID = InputText.runID(name: name, text: text)
        var table = Table(name: name, header: header)
        var rows: [ResultRow] = []
        var skipped: [SkippedLine] = []
        var nodes = Set<Int>(), perNode = Set<Int>()

        for (number, line) in lines.dropFirst() {
            let values = InputText.csvFields(line)
            do {
                try table.load(values, line: number)
                switch kind {
                case .nccl:
                    let benchmark = try options.benchmark ?? collective(fromFileName: base, name: name)
                    var row: ResultRow
                    do {
                        row = try table.commonRow(run: runID, benchmark: benchmark, backend: "nccl")
                    } catch var skip as Skip {
                        skip.rows = 2  // the line's out-of-place and in-place rows
                        throw skip
                    }
                    row.labels = ["blocking": try table.text("blocking")]
                    // An empty cell of one variant loses that variant's row only.
                    for (variant, prefix) in [("out_of_place", "out"), ("in_place", "in")] {
                        do {
                            var r = row
                            r.variant = variant
                            r.algbwGBps = try table.number("\(prefix) algbw(gb/s)")
                            r.busbwGBps = try table.number("\(prefix) busbw(gb/s)")
                            rows.append(r)
                        } catch let skip as Skip {
                            skipped.append(SkippedLine(line: number, reason: "\(variant): \(skip.reason)", rows: skip.rows))
                        }
                    }
                case .nvshmem:
                    let initiated = nvshmemBackend(fileName: base, header: header)
                    let benchmark = options.benchmark ?? nvshmemBenchmark(fileName: base)
                    var row = try table.commonRow(run: runID, benchmark: benchmark, backend: initiated.backend)
                    row.algbwGBps = try table.number("algbw(gb/s)")
                    row.labels = ["perftest": initiated.perftest]
                    rows.append(row)
                case .jacobi:
                    let experiment = try table.text("experiment")
                    let gpus = try table.small("gpus")
                    var row = ResultRow(run: runID, benchmark: options.benchmark ?? "jacobi",
                                        backend: experiment.uppercased().hasPrefix("NVSHMEM") ? "nvshmem" : "nccl", ranks: gpus)
                    row.variant = experiment
                    row.nodes = try table.small("node")
                    let baseline = try table.number("baseline(sec)"), time = try table.number("time(sec)")
                    row.timeUs = time * 1e6
                    row.metrics = ["baseline_s": baseline, "time_s": time,
                                   "speedup": try table.number("speedup"), "efficiency": try table.number("efficiency")]
                    if time * 1e6 > InputNumber.largestReal {
                        throw ResultsError(file: name, line: number, "column 'time(sec)': \(time) s is out of range")
                    }
                    row.labels = ["grid": try table.text("size"), "instance": try table.text("instance")]
                    rows.append(row)
                }
                if let n = rows.last?.nodes {
                    nodes.insert(n)
                    if let r = rows.last?.ranks, n > 0 { perNode.insert(r / n) }
                }
            } catch let skip as Skip {
                skipped.append(SkippedLine(line: number, reason: skip.reason, rows: skip.rows))
            }
        }

        if rows.isEmpty && skipped.isEmpty {
            throw ResultsError(file: name, line: first.number, "no data lines after the header: the file is empty or cut short")
        }
        var run = RunInfo(run: runID, tool: tool)
        run.importer = InputFormat.studyCSV.rawValue
        run.source = name
        var topo = Topology()
        topo.nodes = nodes.max()
        if perNode.count == 1 { topo.gpusPerNode = perNode.first }
        // No link rates: the study did not record them, and for these multi-node runs neither the
        // NVLink nor the NIC rate alone is "the" peak of a bus bandwidth (a report takes --link-gbps).
        run.topology = topo
        run.notes = [attribution,
                     "Setup: Amazon SageMaker HyperPod, p5.48xlarge (8x H100 per node, 32 EFA devices per node), "
                        + "node counts \(nodes.sorted().map(String.init).joined(separator: ", ")).",
                     "Sizes in the study's MB/KB columns are powers of two and were read as MiB/KiB."]
        return ImportedInput(set: ResultSet(runs: [run], rows: rows), format: .studyCSV, skipped: skipped)
    }

    /// The collective named by a study file name such as `nccl_all_reduce`.
    static func collective(fromFileName base: String, name: String) throws -> String {
        let known: [(String, String)] = [
            ("all_reduce", "all_reduce"), ("allreduce", "all_reduce"), ("all_gather", "all_gather"),
            ("allgather", "all_gather"), ("alltoall", "alltoall"), ("all_to_all", "alltoall"),
            ("reduce_scatter", "reduce_scatter"), ("reducescatter", "reduce_scatter"),
            ("broadcast", "broadcast"), ("sendrecv", "sendrecv"), ("reduce", "reduce"),
        ]
        for (needle, key) in known where base.contains(needle) { return key }
        throw ResultsError(file: name,
            "cannot tell the collective from the file name '\(InputText.quote(base))': name it nccl_<collective>.csv (e.g. nccl_all_gather.csv), or read it with `gpucomm import --benchmark <collective>`")
    }

    private static func nvshmemBackend(fileName: String, header: [String]) -> (backend: String, perftest: String) {
        let device = ("nvshmem_device", "alltoall_latency"), host = ("nvshmem_host", "alltoall_on_stream")
        if fileName.contains("device") { return device }
        if fileName.contains("host") { return host }
        // The study's device-initiated file counts KB, the host-initiated one MB.
        return header.contains { $0.lowercased() == "size(kb)" } ? device : host
    }

    private static func nvshmemBenchmark(fileName: String) -> String {
        for key in ["all_reduce", "allreduce", "reduce", "broadcast", "fcollect", "allgather"] where fileName.contains(key) {
            return key == "allreduce" ? "all_reduce" : key
        }
        return "alltoall"
    }

    /// A data line whose numbers are absent: reported as skipped, not an error.
    struct Skip: Error { var reason: String; var rows = 1 }

    /// One data line bound to the header's column names.
    private struct Table {
        let name: String
        let header: [String]
        let index: [String: Int]
        var values: [String] = []
        var line = 0

        init(name: String, header: [String]) {
            self.name = name
            self.header = header
            var index: [String: Int] = [:]
            for (i, h) in header.enumerated() { index[h.lowercased()] = i }
            self.index = index
        }

        mutating func load(_ values: [String], line: Int) throws {
            guard values.count == header.count else {
                throw ResultsError(file: name, line: line,
                    "expected \(header.count) comma-separated fields (\(InputText.quote(header.joined(separator: ","), limit: 120))), found \(values.count)")
            }
            self.values = values
            self.line = line
        }

        func text(_ column: String) throws -> String {
            guard let i = index[column] else { throw ResultsError(file: name, line: 1, "missing column '\(column)'") }
            return values[i]
        }

        func number(_ column: String) throws -> Double {
            let v = try text(column)
            if v.isEmpty || v.uppercased() == "N/A" || v.lowercased() == "nan" {
                throw Skip(reason: "no value in column '\(header[index[column]!])'")
            }
            return try InputNumber.real(v).value(file: name, line: line, field: "column '\(header[index[column]!])'")
        }

        /// A GPU, node or iteration count: whole, ≥ 0, at most 2^31 (`16`, `16.0` and `1e1` read; `inf`, `1e20` do not).
        func small(_ column: String) throws -> Int {
            let d = try number(column)
            let n = try InputNumber.count(exactly: d).value(file: name, line: line, field: "column '\(header[index[column]!])'")
            return try InputNumber.small(n).value(file: name, line: line, field: "column '\(header[index[column]!])'")
        }

        /// Nodes, GPUs, size and iterations, shared by the bandwidth files.
        func commonRow(run: String, benchmark: String, backend: String) throws -> ResultRow {
            var row = ResultRow(run: run, benchmark: benchmark, backend: backend, ranks: try small("gpus"))
            row.nodes = try small("nodes")
            row.iterations = try small("iterations")
            let units: [(String, Double)] = [("size(b)", 1), ("size(kb)", 1024), ("size(mb)", 1_048_576), ("size(gb)", 1_073_741_824)]
            guard let (column, scale) = units.first(where: { index[$0.0] != nil }) else {
                throw ResultsError(file: name, line: 1, "missing a size column (size(B), size(KB), size(MB) or size(GB))")
            }
            row.sizeBytes = try InputNumber.count(exactly: (try number(column) * scale).rounded())
                .value(file: name, line: line, field: "column '\(header[index[column]!])'")
            return row
        }
    }
}
