/// The checked-number rules applied to a whole row, whatever importer or reader produced it.
extension ResultRow {
    /// The first number of this row that `InputNumber` refuses, as `field 'size_bytes': …`; nil when all are fine.
    public func numberProblem() -> String? {
        func count(_ v: Int64?, _ name: String) -> String? {
            guard let v else { return nil }
            if case .failure(let p) = InputNumber.check(v) { return "field '\(name)': \(p.reason)" }
            return nil
        }
        func small(_ v: Int?, _ name: String) -> String? {
            guard let v else { return nil }
            if v < 0 { return "field '\(name)': expected a whole number ≥ 0, found \(v)" }
            if v > InputNumber.largestSmall { return "field '\(name)': \(v) is out of range (at most 2^31)" }
            return nil
        }
        func real(_ v: Double?, _ name: String, _ range: InputNumber.Range = .nonNegative) -> String? {
            guard let v else { return nil }
            if case .failure(let p) = InputNumber.check(v, range) { return "field '\(name)': \(p.reason)" }
            return nil
        }
        let smalls: [(Int?, String)] = [(ranks, "ranks"), (nodes, "nodes"), (root, "root"), (iterations, "iterations")]
        for (v, name) in smalls { if let p = small(v, name) { return p } }
        let counts: [(Int64?, String)] = [(sizeBytes, "size_bytes"), (self.count, "count"), (chunkBytes, "chunk_bytes"), (wrong, "wrong")]
        for (v, name) in counts { if let p = count(v, name) { return p } }
        let reals: [(Double?, String)] = [(timeUs, "time_us"), (algbwGBps, "algbw_gbps"), (busbwGBps, "busbw_gbps")]
        for (v, name) in reals { if let p = real(v, name) { return p } }
        if let s = stats {
            for (v, name) in [(s.min, "min"), (s.p50, "p50"), (s.p95, "p95"), (s.p99, "p99"), (s.max, "max"), (s.mean, "mean"), (s.cv, "cv")] {
                if let p = real(v, "stats.\(name)") { return p }
            }
            if let p = small(s.samples, "stats.samples") { return p }
        }
        for (k, v) in (metrics ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let p = real(v, "metrics.\(InputText.quote(k, limit: 30))", .any) { return p }
        }
        return nil
    }

    /// Throws `file:line: field …` when `numberProblem()` finds one.
    public func checkNumbers(file: String, line: Int?) throws {
        if let p = numberProblem() { throw ResultsError(file: file, line: line, p) }
    }
}
