import Foundation

/// Reads nccl-tests text output of every 2.x layout (NVIDIA/nccl-tests, src/util.cu and common.cu).
///
/// Columns are found from the table's header line, so the old `error` column, `#wrong`, `root`
/// or its absence, `cputime` (`-C`), per-iteration columns (`-I`: i_min i_max i_p99 i_cv%) and
/// timestamps (`-S`) all read the same way. Launcher prefixes are removed and each launcher rank's
/// lines are read as their own stream; every test in a concatenated log becomes its own run.
enum NCCLTestsTextImporter {
    static func parse(text: String, name: String, options: ImportOptions) throws -> ImportedInput {
        var streams: [Substring?: [InputText.Line]] = [:]
        var order: [Substring?] = []
        for line in InputText.lines(text) {
            if streams[line.tag] == nil { order.append(line.tag) }
            streams[line.tag, default: []].append(line)
        }
        var set = ResultSet()
        var skipped: [SkippedLine] = []
        var tests: [TestLog] = []
        for tag in order {
            var parser = StreamParser(name: name, options: options)
            for line in streams[tag]! { try parser.feed(line) }
            try parser.finish()
            tests += parser.tests
            skipped += parser.skipped
        }
        tests = tests.filter { !$0.rows.isEmpty || $0.sawHeader }
        if tests.isEmpty {
            throw ResultsError(file: name, "no nccl-tests result table found (expected a '#  size  count  type ...' header)")
        }
        for (i, test) in tests.enumerated() {
            let id = InputText.runID(name: name, text: text, part: tests.count > 1 ? i + 1 : nil)
            let (run, rows) = try test.records(runID: id, name: name, options: options)
            set.runs.append(run)
            set.rows += rows
        }
        skipped.sort { $0.line < $1.line }
        return ImportedInput(set: set, format: .ncclTestsText, skipped: skipped)
    }

    /// `all_reduce` from `./build/all_reduce_perf` or `all_reduce_perf_mpi`.
    static func collective(fromProgram program: String) -> String? {
        var base = (program as NSString).lastPathComponent
        for suffix in ["_mpi", "_perf"] where base.hasSuffix(suffix) { base = String(base.dropLast(suffix.count)) }
        return base.isEmpty ? nil : base
    }

    /// NCCL's version code as a version string: 22809 → `2.28.9`, 2708 → `2.7.8`.
    static func ncclVersion(code: Int) -> String {
        if code >= 10000 { return "\(code / 10000).\(code % 10000 / 100).\(code % 100)" }
        return "\(code / 1000).\(code % 1000 / 100).\(code % 100)"
    }

    /// One test's lines as read: preamble facts, devices and table rows.
    struct TestLog {
        var firstLine = 0
        var program: String?
        var toolVersion: String?
        var ncclCode: Int?
        var parameters: [String: String] = [:]
        var parameterLine: String?
        var parameterLineNumber: Int?
        var devices: [(rank: Int, host: String, device: Int, pci: String, name: String)] = []
        var perIteration = false
        var sawHeader = false
        var columns: [String] = []
        var rows: [(line: Int, values: [Substring])] = []
        var footerSeen = false
        var notes: [String] = []

        func records(runID: String, name: String, options: ImportOptions) throws -> (RunInfo, [ResultRow]) {
            var run = RunInfo(run: runID, tool: "nccl-tests")
            run.toolVersion = toolVersion
            run.nccl = ncclCode.map(NCCLTestsTextImporter.ncclVersion(code:))
            run.importer = InputFormat.ncclTestsText.rawValue
            run.source = name
            let hosts = Array(Set(devices.map(\.host))).sorted()
            if !devices.isEmpty {
                run.gpus = devices.map { d in
                    var g = GPUInfo(index: d.device, name: d.name)
                    g.pciBusId = d.pci
                    g.host = d.host
                    return g
                }
                var topo = Topology()
                topo.nodes = hosts.count
                run.topology = topo
            }
            var notes = self.notes
            if let parameterLine { notes.insert("nccl-tests parameters: \(parameterLine)", at: 0) }
            run.notes = notes.isEmpty ? nil : notes

            func parameter(_ key: String) throws -> Int? {
                guard let text = parameters[key] else { return nil }
                return try InputNumber.small(text).value(file: name, line: parameterLineNumber, field: "parameter '\(key)'")
            }
            let (threadsTimesGPUs, overflow) = (try parameter("nThread") ?? 1).multipliedReportingOverflow(by: try parameter("nGpus") ?? 1)
            if overflow || threadsTimesGPUs > InputNumber.largestSmall {
                throw ResultsError(file: name, line: parameterLineNumber, "nThread × nGpus is out of range (at most 2^31 GPUs)")
            }
            let ranks = devices.isEmpty ? threadsTimesGPUs : (devices.map(\.rank).max()! + 1)
            let iterations = try parameter("iters")
            let warmup = try parameter("warmup_iters")
            let graph = try parameter("graph") ?? 0
            let benchmark = try options.benchmark ?? program.flatMap(NCCLTestsTextImporter.collective(fromProgram:))
                ?? StudyCSVImporter.collective(fromFileName: ((name as NSString).lastPathComponent).lowercased(), name: name)
            let table = try Layout(columns: columns, file: name, line: firstLine)
            var out: [ResultRow] = []
            for (line, values) in rows {
                var made = try table.rows(values, line: line, file: name) { variant in
                    var r = ResultRow(run: runID, benchmark: benchmark, backend: "nccl", ranks: ranks)
                    r.variant = variant
                    r.nodes = hosts.isEmpty ? nil : hosts.count
                    r.iterations = iterations
                    r.timing = perIteration ? "events" : graph > 0 ? "graph" : "host"
                    return r
                }
                // Warm-up iterations are a setting, not a result: the report keeps runs that differ in it apart.
                if let warmup { for k in made.indices { made[k].metrics = (made[k].metrics ?? [:]).merging(["warmup_iters": Double(warmup)]) { a, _ in a } } }
                out += made
            }
            return (run, out)
        }
    }

    /// Reads one launcher stream line by line.
    struct StreamParser {
        let name: String
        let options: ImportOptions
        var tests: [TestLog] = []
        var skipped: [SkippedLine] = []
        private var current: TestLog?
        private var inTable = false
        private var lastLine = 0

        init(name: String, options: ImportOptions) {
            self.name = name
            self.options = options
        }

        mutating func feed(_ line: InputText.Line) throws {
            lastLine = line.number
            let text = line.text.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { return }
            if text.hasPrefix("#") {
                try comment(String(text.dropFirst()).trimmingCharacters(in: .whitespaces), line: line.number)
                return
            }
            guard inTable, current != nil else { return }  // log noise outside a table is not a row
            let values = InputText.words(Substring(text))
            // A row starts with its size; a negative one is a row too, for the checked conversion to refuse.
            guard let first = values.first, first.allSatisfy(\.isNumber) || (first.first == "-" && first.dropFirst().first?.isNumber == true) else {
                // NCCL's own log lines (NCCL_DEBUG) may land inside the table; they are not rows.
                if text.contains(" NCCL INFO ") || text.contains(" NCCL WARN ") || text.contains(" NCCL TRACE ") { return }
                skipped.append(SkippedLine(line: line.number, reason: "not a table row: '\(InputText.quote(text))'"))
                return
            }
            current!.rows.append((line.number, values))
        }

        private mutating func comment(_ body: String, line: Int) throws {
            let words = InputText.words(Substring(body))
            if body.hasPrefix("nccl-tests version") {
                newTest(line: line, when: { $0.toolVersion != nil || $0.program != nil || $0.parameterLine != nil })
                current!.toolVersion = words.count > 2 ? String(words[2]) : nil
                if let lib = words.first(where: { $0.hasPrefix("nccl-library=") }) {
                    current!.ncclCode = try InputNumber.small(lib.dropFirst("nccl-library=".count))
                        .value(file: name, line: line, field: "nccl-library")
                }
            } else if body.hasPrefix("Collective test starting:") {
                newTest(line: line, when: { $0.program != nil || $0.parameterLine != nil })
                current!.program = words.last.map(String.init)
            } else if body.hasPrefix("nThread") {
                newTest(line: line, when: { $0.parameterLine != nil })
                current!.parameterLine = body
                current!.parameterLineNumber = line
                current!.parameters = Self.parameters(words)
            } else if body.hasPrefix("Per-Iteration Report") {
                current?.perIteration = true
            } else if words.first == "Rank", current != nil {
                switch Self.device(body) {
                case .success(let d): current!.devices.append(d)
                case .failure(let p) where p.reason.hasPrefix("Rank:") || p.reason.hasPrefix("device:"):
                    throw ResultsError(file: name, line: line, "device line: \(p.reason)")
                case .failure(let p): skipped.append(SkippedLine(line: line, reason: "unreadable device line: \(p.reason)"))
                }
            } else if words.contains("size") && words.contains("algbw") && words.contains("busbw") {
                if current == nil { newTest(line: line, when: { _ in false }) }
                if current!.sawHeader { newTest(line: line, when: { _ in true }) }
                current!.sawHeader = true
                current!.columns = words.map(String.init)
                inTable = true
            } else if body.hasPrefix("Out of bounds values") {
                inTable = false
                current?.footerSeen = true
                if body.contains("FAILED") { current?.notes.append("nccl-tests reported out-of-bounds values: \(body)") }
            } else if body.hasPrefix("Avg bus bandwidth") {
                current?.notes.append("nccl-tests " + words.joined(separator: " "))
            }
        }

        /// Closes the current test if `when` says the line belongs to a new one.
        private mutating func newTest(line: Int, when: (TestLog) -> Bool) {
            if let t = current {
                if !when(t) && !t.sawHeader { return }
                tests.append(t)
            }
            var t = TestLog()
            t.firstLine = line
            current = t
            inTable = false
        }

        mutating func finish() throws {
            guard let t = current else { return }
            if t.sawHeader && t.rows.isEmpty {
                throw ResultsError(file: name, line: lastLine,
                    "table has a header but no rows: the input was cut short (expected rows of '\(InputText.quote(t.columns.joined(separator: " "), limit: 120))')")
            }
            if t.sawHeader && !t.footerSeen {
                skipped.append(SkippedLine(line: lastLine,
                    reason: "input ends before the test's footer ('# Out of bounds values'): the run was cut short"))
            }
            tests.append(t)
            current = nil
        }

        /// `nThread 1 nGpus 4 ... warmup iters: 10 iters: 40 agg iters: 1 validation: 1 graph: 0`.
        static func parameters(_ w: [Substring]) -> [String: String] {
            var p: [String: String] = [:]
            var i = 0
            while i + 1 < w.count {
                var key = String(w[i])
                if key.hasSuffix(":") { key.removeLast() }
                if (key == "warmup" || key == "agg") && w[i + 1] == "iters:" && i + 2 < w.count {
                    p["\(key)_iters"] = String(w[i + 2]); i += 3; continue
                }
                if ["nThread", "nGpus", "minBytes", "maxBytes", "step", "iters", "validation", "graph", "unalign"].contains(key) {
                    p[key] = String(w[i + 1]); i += 2; continue
                }
                i += 1
            }
            return p
        }

        /// `Rank  0 Group  0 Pid   1601 on  vm device  0 [0000:00:06] NVIDIA H200` (Group absent in old versions).
        static func device(_ body: String) -> Result<(rank: Int, host: String, device: Int, pci: String, name: String), InputNumber.Problem> {
            let w = InputText.words(Substring(body))
            func after(_ key: String) -> Substring? {
                guard let i = w.firstIndex(of: Substring(key)), i + 1 < w.count else { return nil }
                return w[i + 1]
            }
            guard let rankText = after("Rank"), let host = after("on"), let deviceText = after("device"),
                  let open = body.firstIndex(of: "["), let close = body.firstIndex(of: "]"), open < close else {
                return .failure(.init("expected 'Rank r Group g Pid p on host device d [pci] name'"))
            }
            let rank: Int, device: Int
            switch InputNumber.small(rankText) {
            case .success(let r): rank = r
            case .failure(let p): return .failure(.init("Rank: \(p.reason)"))
            }
            switch InputNumber.small(deviceText) {
            case .success(let d): device = d
            case .failure(let p): return .failure(.init("device: \(p.reason)"))
            }
            let pci = String(body[body.index(after: open)..<close])
            let gpuName = body[body.index(after: close)...].trimmingCharacters(in: .whitespaces)
            return .success((rank, String(host), device, pci, gpuName))
        }
    }
}
