import Foundation
import Results

/// A fast reader for gpucomm's own JSON Lines, used by `report` and `compare` for large files.
///
/// Why it exists: `ResultSet.parseJSONLines` decodes each line with `JSONDecoder`, which costs
/// about 30 µs a line on the 2-core build machine, so a million records took over 30 s. This
/// reader scans bytes, parses `result` lines by hand on every core, and hands every line it
/// does not fully understand (`run` lines, escapes, arrays, missing or mistyped fields) to
/// `ResultsCodec.decode`, so the rows and the errors (file:line) are the same as the regular
/// reader's (one leniency: a CRLF line end, which the Results reader rejects, is accepted).
/// It can go when the Results reader is as fast.
public enum FastResultsReader {
    /// Whether `data` looks like gpucomm JSON Lines: its first non-blank line is an object with a `"type"` key.
    public static func recognizes(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            let b = raw.bindMemory(to: UInt8.self)
            var i = 0
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return false }
            var end = i
            while end < b.count, b[end] != 0x0A { end += 1 }
            let line = String(decoding: UnsafeBufferPointer(rebasing: b[i..<end]), as: UTF8.self)
            return line.contains("\"type\"")
        }
    }

    /// Reads any supported input at `path`: gpucomm JSON Lines through this reader, everything
    /// else through `ResultInputs` (format detection and importers).
    public static func load(path: String) throws -> ImportedInput {
        // Mapped, not read: a large results file then costs no copy.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw ResultsError(file: path, "cannot read file")
        }
        if recognizes(data) {
            return ImportedInput(set: try parse(data, file: path), format: .gpucommJSONL)
        }
        return try ResultInputs.load(text: String(decoding: data, as: UTF8.self), name: path)
    }

    /// Parses gpucomm JSON Lines; blank lines are skipped, anything malformed is an error naming file:line.
    public static func parse(_ data: Data, file: String) throws -> ResultSet {
        try data.withUnsafeBytes { raw -> ResultSet in
            let bytes = raw.bindMemory(to: UInt8.self)
            let chunks = split(bytes, parts: max(1, ProcessInfo.processInfo.activeProcessorCount * 2))
            let out = ChunkResults(count: chunks.count)
            let shared = SharedBytes(buffer: bytes)
            DispatchQueue.concurrentPerform(iterations: chunks.count) { k in
                out.store(k, parseChunk(shared.buffer, chunks[k], file: file))
            }
            // Line numbers: each chunk counted its own; the first error, shifted by the lines before it, wins.
            var parts = out.results.map { $0! }
            out.results = []
            var before = 0
            for p in parts {
                if var e = p.error {
                    e.line = e.line.map { $0 + before }
                    throw e
                }
                before += p.lines
            }
            guard !parts.isEmpty else { return ResultSet() }
            // Move the first part, append the rest.
            var set = parts.removeFirst().set
            set.rows.reserveCapacity(set.rows.count + parts.reduce(0) { $0 + $1.set.rows.count })
            for part in parts {
                set.runs += part.set.runs
                set.rows += part.set.rows
            }
            return set
        }
    }

    /// A byte range that ends at a newline (or the end of the input).
    struct Chunk: Sendable {
        var start: Int
        var end: Int
    }

    /// What one chunk gave: rows, its number of lines, or the first error with a chunk-local line.
    struct ChunkResult: Sendable {
        var set = ResultSet()
        var lines = 0
        var error: ResultsError?
    }

    static func split(_ b: UnsafeBufferPointer<UInt8>, parts: Int) -> [Chunk] {
        var chunks: [Chunk] = []
        var start = 0
        let step = max(b.count / parts, 1 << 16)
        while start < b.count {
            var end = min(start + step, b.count)
            while end < b.count, b[end - 1] != 0x0A { end += 1 }
            chunks.append(Chunk(start: start, end: end))
            start = end
        }
        return chunks
    }

    /// The input bytes, read (never written) by every task while `parse` holds them alive.
    struct SharedBytes: @unchecked Sendable {
        let buffer: UnsafeBufferPointer<UInt8>
    }

    /// Per-chunk results, each slot written by exactly one task.
    final class ChunkResults: @unchecked Sendable {
        var results: [ChunkResult?]
        private let lock = NSLock()
        init(count: Int) { results = Array(repeating: nil, count: count) }
        func store(_ k: Int, _ r: ChunkResult) {
            lock.lock()
            results[k] = r
            lock.unlock()
        }
    }

    static func parseChunk(_ b: UnsafeBufferPointer<UInt8>, _ c: Chunk, file: String) -> ChunkResult {
        var out = ChunkResult()
        out.set.rows.reserveCapacity((c.end - c.start) / 200)
        var i = c.start, line = 1
        while i < c.end {
            var e = i
            while e < c.end, b[e] != 0x0A { e += 1 }
            var p = LineParser(b: b, i: i, end: e)
            p.skipSpace()
            if p.i < e {
                if let row = p.resultRow() {
                    out.set.rows.append(row)
                } else {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: b[i..<e]), as: UTF8.self)
                    let trimmed = text.trimmingCharacters(in: .whitespaces)
                    do {
                        switch try ResultsCodec.decode(Substring(trimmed), file: file, line: line) {
                        case .run(let r): out.set.runs.append(r)
                        case .result(let r): out.set.rows.append(r)
                        }
                    } catch let e as ResultsError {
                        out.error = e
                        return out
                    } catch {
                        out.error = ResultsError(file: file, line: line, "\(error)")
                        return out
                    }
                }
            }
            i = e + 1
            line += 1
        }
        out.lines = line - 1
        return out
    }
}
