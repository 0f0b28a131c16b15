import Results

/// Settings that make two rows different measurements even when everything `BenchKey` holds
/// matches: timed iterations, warm-up iterations, the measuring tool's and the libraries' versions.
///
/// Two nccl-tests runs of one collective, one with warm-up 1 and 20 iterations and one with
/// warm-up 10 and 40, are not repeats: their median is a number neither run measured. The report
/// labels such rows with the settings that differ (`iters=20, warmup=1`), so they become
/// separate series; `compare` keeps its own key (a baseline and a candidate differ in version
/// on purpose).
enum RunSettings {
    /// `set` with a label per setting that differs between rows that would otherwise be repeats.
    static func separate(_ set: ResultSet) -> ResultSet {
        var runs: [String: RunInfo] = [:]
        for r in set.runs { runs[r.run] = r }
        func settings(_ r: ResultRow) -> [(String, String)] {
            let run = runs[r.run]
            var s: [(String, String)] = []
            if let i = r.iterations { s.append(("iters", String(i))) }
            if let w = r.metrics?["warmup_iters"] { s.append(("warmup", Fmt.number(w))) }
            // Only what is recorded counts: a run that does not say its version differs in nothing.
            if let t = run?.tool { s.append(("tool", t)) }
            if let v = run?.toolVersion { s.append(("version", v)) }
            if let v = run?.nccl { s.append(("nccl", v)) }
            if let v = run?.nvshmem { s.append(("nvshmem", v)) }
            return s
        }
        // Cheap exit for the common case (one run, or runs with equal settings).
        let all = set.rows.map { settings($0).map { "\($0.0)=\($0.1)" }.joined(separator: "\u{1}") }
        guard Set(all).count > 1 else { return set }
        // What a series is: the key without its size (a setting that differs at any size of a
        // series labels every size of it, so a size measured by one run only stays in its series).
        func seriesKey(_ r: ResultRow) -> BenchKey {
            var r = r
            r.sizeBytes = nil
            return BenchKey(r)
        }
        var varying: [BenchKey: Set<String>] = [:]
        var values: [BenchKey: [String: Set<String>]] = [:]
        for r in set.rows {
            let k = seriesKey(r)
            for (name, v) in settings(r) { values[k, default: [:]][name, default: []].insert(v) }
        }
        for (k, byName) in values {
            varying[k] = Set(byName.filter { $0.value.count > 1 }.map(\.key))
        }
        var out = set
        for i in out.rows.indices {
            let k = seriesKey(out.rows[i])
            guard let names = varying[k], !names.isEmpty else { continue }
            for (name, v) in settings(out.rows[i]) where names.contains(name) {
                out.rows[i].labels = (out.rows[i].labels ?? [:]).merging([name: v]) { a, _ in a }
            }
        }
        return out
    }
}
