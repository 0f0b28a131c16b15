import Foundation

/// A problem with a results input, naming the place.
public struct ResultsError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

extension ResultsLine: Codable {
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: TypeKey.self)
        switch try c.decode(String.self, forKey: .type) {
        case "run": self = .run(try RunInfo(from: decoder))
        case "result": self = .result(try ResultRow(from: decoder))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown line type '\(other)' (expected 'run' or 'result')")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .run(let r): try c.encode("run", forKey: .type); try r.encode(to: encoder)
        case .result(let r): try c.encode("result", forKey: .type); try r.encode(to: encoder)
        }
    }
}

/// Encodes and decodes single lines with stable key order.
public enum ResultsCodec {
    public static func encode(_ line: ResultsLine) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(line), as: UTF8.self)
    }

    public static func decode(_ text: Substring, file: String, line: Int) throws -> ResultsLine {
        do {
            let l = try JSONDecoder().decode(ResultsLine.self, from: Data(text.utf8))
            if case .run(let r) = l, !ResultsSchema.readable.contains(r.schema) {
                throw ResultsError(file: file, line: line,
                    "schema version \(r.schema) is not readable by this gpucomm (reads \(ResultsSchema.readable))")
            }
            return l
        } catch let e as ResultsError {
            throw e
        } catch let DecodingError.keyNotFound(key, _) {
            throw ResultsError(file: file, line: line, "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ResultsError(file: file, line: line, "field '\(path)': \(InputText.quote(ctx.debugDescription, limit: 80))")
        } catch let DecodingError.dataCorrupted(ctx) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if !trimmed.hasPrefix("{") {
                throw ResultsError(file: file, line: line,
                    "not a gpucomm results line: expected a JSON object starting with '{', found '\(InputText.quote(trimmed, limit: 40))'")
            }
            if ctx.codingPath.isEmpty && !trimmed.hasSuffix("}") {
                throw ResultsError(file: file, line: line,
                    "not a gpucomm results line: the JSON object has no closing '}' (the line is truncated)")
            }
            if ctx.codingPath.isEmpty {
                throw ResultsError(file: file, line: line,
                    "not a gpucomm results line: malformed JSON or a number beyond the range of a double")
            }
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ResultsError(file: file, line: line, "field '\(path)': a value of the wrong kind or out of range")
        } catch {
            throw ResultsError(file: file, line: line, "not a gpucomm results line: malformed JSON")
        }
    }
}

/// Appends lines to a JSON Lines results file, each written and flushed as it completes,
/// so a crash keeps every finished row.
public final class ResultsWriter: @unchecked Sendable {
    private let handle: FileHandle
    public let path: String

    /// Opens (creating if needed) `path` for appending.
    public init(path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ResultsError(file: path, "cannot create results file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw ResultsError(file: path, "cannot open results file for writing")
        }
        h.seekToEndOfFile()
        handle = h
    }

    public func write(_ line: ResultsLine) throws {
        let text = try ResultsCodec.encode(line) + "\n"
        handle.write(Data(text.utf8))
    }

    deinit { try? handle.close() }
}

/// Runs and rows read from gpucomm results files.
public struct ResultSet: Sendable, Equatable {
    public var runs: [RunInfo] = []
    public var rows: [ResultRow] = []

    public init(runs: [RunInfo] = [], rows: [ResultRow] = []) {
        self.runs = runs
        self.rows = rows
    }

    public mutating func append(_ other: ResultSet) {
        runs += other.runs
        rows += other.rows
    }

    /// Reads gpucomm JSON Lines text; blank lines are skipped, anything else malformed is an error naming file:line.
    ///
    /// `result` lines take a direct UTF-8 path (`FastResultLine`); `run` lines and anything the
    /// fast path does not accept go through `JSONDecoder`, which gives the precise error.
    public static func parseJSONLines(_ text: String, file: String) throws -> ResultSet {
        var text = text
        return try text.withUTF8 { try parseJSONLines(bytes: $0, file: file) }
    }

    /// Reads gpucomm JSON Lines from UTF-8 bytes; see `parseJSONLines(_:file:)`.
    ///
    /// One pass on one core: splitting a 300 MB file in two parts on the 2-core reference
    /// machine was not faster (allocation and joining the parts ate the gain), so it is not done.
    public static func parseJSONLines(bytes b: UnsafeBufferPointer<UInt8>, file: String) throws -> ResultSet {
        try parseLines(b, from: 0, to: b.count, firstLine: 1, file: file)
    }

    private static func parseLines(_ b: UnsafeBufferPointer<UInt8>, from: Int, to n: Int, firstLine: Int, file: String) throws -> ResultSet {
        var set = ResultSet()
        var lineNumber = firstLine - 1
        var start = from
        // One row per line at most: counting lines first avoids regrowing (and copying) a large array.
        var lines = 1
        if let base = b.baseAddress {
            var p = UnsafeRawPointer(base + from)
            let stopAt = UnsafeRawPointer(base + n)
            while p < stopAt, let hit = memchr(p, 0x0A, stopAt - p) {
                lines += 1
                p = UnsafeRawPointer(hit) + 1
            }
        }
        set.rows.reserveCapacity(lines)
        var fast = FastResultLine(b)
        while start < n {
            lineNumber += 1
            var stop = start
            // LF, CRLF and a lone CR all end a line.
            while stop < n, b[stop] != 0x0A, b[stop] != 0x0D { stop += 1 }
            var lo = start, hi = stop
            while lo < hi, b[lo] == 0x20 || b[lo] == 0x09 { lo += 1 }
            while hi > lo, b[hi - 1] == 0x20 || b[hi - 1] == 0x09 || b[hi - 1] == 0x0D { hi -= 1 }
            if lo < hi {
                if let row = fast.parse(from: lo, to: hi) {
                    try row.checkNumbers(file: file, line: lineNumber)
                    set.rows.append(row)
                } else {
                    let line = String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self)
                    switch try ResultsCodec.decode(Substring(line), file: file, line: lineNumber) {
                    case .run(let r): set.runs.append(r)
                    case .result(let r):
                        try r.checkNumbers(file: file, line: lineNumber)
                        set.rows.append(r)
                    }
                }
            }
            start = stop + 1
            if stop + 1 < n, b[stop] == 0x0D, b[stop + 1] == 0x0A { start += 1 }
        }
        return set
    }
}
