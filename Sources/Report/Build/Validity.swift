import Results

/// Rows a chart must not draw as valid measurements: those the tool marked unsupported
/// (NCCL's in-place all-to-all, in-place send/recv) and those that failed the data check.
enum RowValidity {
    /// Why `r` is not a valid measurement; nil when it is.
    static func reason(_ r: ResultRow) -> String? {
        if let why = r.labels?["unsupported"] { return "marked unsupported by the tool that measured them: \(why)" }
        if let w = r.wrong, w > 0 { return "they failed the data check" }
        return nil
    }

    /// The valid rows, and one sentence per benchmark/backend (key `benchmark\u{1}backend`)
    /// saying which rows were left out and why.
    static func split(_ set: ResultSet) -> (valid: ResultSet, notes: [String: [String]]) {
        var valid = set
        var left: [String: [String: (count: Int, wrong: Int64, variants: Set<String>)]] = [:]
        valid.rows = set.rows.filter { r in
            guard let why = reason(r) else { return true }
            let k = "\(r.benchmark)\u{1}\(r.backend)"
            var e = left[k, default: [:]][why, default: (0, 0, [])]
            e.count += 1
            let (sum, overflow) = e.wrong.addingReportingOverflow(r.wrong ?? 0)  // each ≤ 2^62 (InputNumber); their sum may not be
            e.wrong = overflow ? .max : sum
            if let v = r.variant { e.variants.insert(v) }
            left[k, default: [:]][why] = e
            return false
        }
        var notes: [String: [String]] = [:]
        for (k, reasons) in left {
            notes[k] = reasons.keys.sorted().map { why in
                let e = reasons[why]!
                let variants = e.variants.isEmpty ? "" : " " + e.variants.sorted().map { $0.replacingOccurrences(of: "_", with: "-") }.joined(separator: "/")
                let wrong = e.wrong > 0 ? " (\(e.wrong) wrong elements in all)" : ""
                return "\(e.count)\(variants) row\(e.count == 1 ? " is" : "s are") not drawn and not in the table: \(why)\(wrong)."
            }
        }
        return (valid, notes)
    }
}
