import Foundation

/// The kinds of input gpucomm can read, named as `gpucomm import` prints them.
public enum InputFormat: String, Sendable, CaseIterable, Codable {
    /// gpucomm's own JSON Lines results (docs/results-format.md).
    case gpucommJSONL = "gpucomm-jsonl"
    /// The reference study's CSV files (aws-gpu-communication-benchmark data/).
    case studyCSV = "aws-efa-p5-csv"
    /// nccl-tests text output (every 2.x layout).
    case ncclTestsText = "nccl-tests-text"
    /// nccl-tests `-J` JSON output.
    case ncclTestsJSON = "nccl-tests-json"
    /// NVSHMEM perftest tables and `&&&& PERF` lines.
    case nvshmemPerftest = "nvshmem-perftest"
    /// multi-gpu-programming-models Jacobi output, plain or `-csv`.
    case jacobi = "mgpm-jacobi"
}

/// A line an importer read but did not turn into a row, with the reason.
public struct SkippedLine: Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number in the input; 0 where the place is not a line (it is then in the reason).
    public var line: Int
    public var reason: String
    /// Result rows the line would have given (a study CSV line of an NCCL file gives two).
    public var rows: Int

    public init(line: Int, reason: String, rows: Int = 1) {
        self.line = line
        self.reason = reason
        self.rows = rows
    }

    /// `line 12: reason`; a place without a line number (a JSON document's element) gives the reason alone.
    public var description: String {
        (line > 0 ? "line \(line): " : "") + reason + (rows == 1 ? "" : " (\(rows) rows)")
    }
}

/// What one input gave: its runs and rows, its format, and an account of what was read.
public struct ImportedInput: Sendable {
    public var set: ResultSet
    public var format: InputFormat
    /// Result rows produced (one nccl-tests table line gives two: out-of-place and in-place).
    public var rowsRead: Int
    /// Lines read but not turned into rows, each with its reason. Never dropped silently.
    public var skipped: [SkippedLine]
    /// Result rows left out: the sum of `skipped`'s row counts.
    public var rowsSkipped: Int { skipped.reduce(0) { $0 + $1.rows } }

    public init(set: ResultSet, format: InputFormat, skipped: [SkippedLine] = []) {
        self.set = set
        self.format = format
        self.rowsRead = set.rows.count
        self.skipped = skipped
    }
}

/// Choices the input itself may not hold.
public struct ImportOptions: Sendable, Equatable {
    /// Benchmark key to use where the input does not name it (e.g. a study CSV whose
    /// file name does not say which collective it holds): `all_reduce`, `all_gather`, ...
    public var benchmark: String?
    /// Force a format instead of detecting it.
    public var format: InputFormat?
    /// Participating GPUs where the input does not say (NVSHMEM perftest without `mype:` lines).
    public var ranks: Int?
    /// Variant name where the input does not say (plain mgpm Jacobi output; default: from the file name).
    public var variant: String?

    public init(benchmark: String? = nil, format: InputFormat? = nil, ranks: Int? = nil, variant: String? = nil) {
        self.benchmark = benchmark
        self.format = format
        self.ranks = ranks
        self.variant = variant
    }
}

/// Loads any supported input, detecting its format from the content.
public enum ResultInputs {
    /// Reads and imports the file at `path`; the path is recorded as the runs' `source`.
    public static func load(path: String, options: ImportOptions = ImportOptions()) throws -> ImportedInput {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw ResultsError(file: path, "cannot read file")
        }
        // gpucomm's own results can be large (a million rows): read them from the bytes directly.
        let head = InputText.normalized(String(decoding: data.prefix(64 << 10), as: UTF8.self))
        if (options.format ?? detect(text: head, name: path)) == .gpucommJSONL {
            // The byte reader takes CR before LF as space; a BOM is skipped here.
            let bom = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            let set = try data.withUnsafeBytes { raw in
                try ResultSet.parseJSONLines(bytes: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[bom...]), file: path)
            }
            return ImportedInput(set: set, format: .gpucommJSONL)
        }
        return try load(text: String(decoding: data, as: UTF8.self), name: path, options: options)
    }

    /// Imports `text`; `name` stands for the file in errors, in `source` and for format hints.
    public static func load(text: String, name: String, options: ImportOptions = ImportOptions()) throws -> ImportedInput {
        let text = InputText.normalized(text)
        if text.allSatisfy(\.isWhitespace) { throw ResultsError(file: name, "empty input (expected results or a tool's output)") }
        guard let format = options.format ?? detect(text: text, name: name) else {
            throw ResultsError(file: name, line: 1,
                "unknown input format (expected gpucomm JSON Lines, nccl-tests text or -J JSON, NVSHMEM perftest, mgpm Jacobi, or an aws-efa-p5 study CSV)")
        }
        let input = try importer(format)(text, name, options)
        // The backstop of the checked conversion: whatever an importer produced, no row carries a
        // number the report, compare or model could not handle.
        for (i, row) in input.set.rows.enumerated() {
            if let p = row.numberProblem() { throw ResultsError(file: name, "row \(i + 1): \(p)") }
        }
        return input
    }

    private static func importer(_ format: InputFormat) -> (String, String, ImportOptions) throws -> ImportedInput {
        switch format {
        case .gpucommJSONL:
            return { text, name, _ in ImportedInput(set: try ResultSet.parseJSONLines(text, file: name), format: .gpucommJSONL) }
        case .studyCSV: return StudyCSVImporter.parse
        case .ncclTestsText: return NCCLTestsTextImporter.parse
        case .ncclTestsJSON: return NCCLTestsJSONImporter.parse
        case .nvshmemPerftest: return NVSHMEMPerftestImporter.parse
        case .jacobi: return JacobiImporter.parse
        }
    }

    /// The format of `text`, from its first meaningful lines; nil when nothing matches.
    public static func detect(text: String, name: String = "") -> InputFormat? {
        var firstLine: Substring?
        var checked = 0
        // Only the head is looked at, so detecting a 300 MB file costs nothing.
        let head = String(decoding: text.utf8.prefix(64 << 10), as: UTF8.self)
        for raw in head.split(separator: "\n", omittingEmptySubsequences: true).prefix(400) {
            let line = InputText.stripLauncherPrefix(raw).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            checked += 1
            if firstLine == nil { firstLine = Substring(line) }
            if checked == 1 && line.hasPrefix("{") {
                // nccl-tests -J may write its whole document on one line, and its results hold "type" keys too.
                if line == "{" || line.contains("\"nccl_version\"") || line.contains("\"start_time\"") { return .ncclTestsJSON }
                if line.contains("\"type\"") { return .gpucommJSONL }
            }
            if checked == 1 && StudyCSVImporter.recognizes(header: line) { return .studyCSV }
            if line.hasPrefix("# nccl-tests version") || line.hasPrefix("# nThread") || line.hasPrefix("# Collective test starting")
                || line.contains("out-of-place") { return .ncclTestsText }
            if line.hasPrefix("&&&& PERF") { return .nvshmemPerftest }
            if NVSHMEMPerftestImporter.recognizes(line: line) { return .nvshmemPerftest }
            if JacobiImporter.recognizes(line: line) { return .jacobi }
        }
        return nil
    }
}
