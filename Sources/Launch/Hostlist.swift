// Slurm's compressed host lists: `node[01-04,7],gpu-a[1-2]-ib` → node01 node02 node03 node04 node7 gpu-a1-ib gpu-a2-ib.
// Syntax from Slurm's hostlist.c / `scontrol show hostnames`: comma-separated entries; each entry may hold
// bracketed ranges `[lo-hi,n,...]`; zero padding follows the width of `lo`.

/// Expansion of Slurm host lists (`SLURM_JOB_NODELIST`, `SLURM_STEP_NODELIST`).
public enum Hostlist {
    /// Expands a Slurm host list into host names, in order.
    public static func expand(_ list: String) throws(LaunchError) -> [String] {
        var hosts: [String] = []
        for entry in try splitTopLevel(list) where !entry.isEmpty {
            hosts += try expandEntry(entry, whole: list)
        }
        return hosts
    }

    /// The first host of a Slurm host list, without expanding the rest.
    public static func first(_ list: String) throws(LaunchError) -> String? {
        guard let entry = try splitTopLevel(list).first(where: { !$0.isEmpty }) else { return nil }
        return try expandEntry(entry, whole: list).first
    }

    /// Splits at commas that are outside brackets.
    static func splitTopLevel(_ list: String) throws(LaunchError) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for ch in list {
            switch ch {
            case "[": depth += 1; current.append(ch)
            case "]":
                depth -= 1
                guard depth >= 0 else { throw .badEnvironment("host list '\(list)' has an unmatched ']'") }
                current.append(ch)
            case "," where depth == 0: parts.append(current); current = ""
            case " " where depth == 0: if !current.isEmpty { parts.append(current); current = "" }
            default: current.append(ch)
            }
        }
        guard depth == 0 else { throw .badEnvironment("host list '\(list)' has an unmatched '['") }
        parts.append(current)
        return parts
    }

    /// Expands one entry, which may hold several bracket groups (`rack[1-2]-node[01-02]`).
    static func expandEntry(_ entry: String, whole: String) throws(LaunchError) -> [String] {
        guard let open = entry.firstIndex(of: "[") else { return [entry] }
        guard let close = entry[open...].firstIndex(of: "]") else {
            throw .badEnvironment("host list '\(whole)' has an unmatched '['")
        }
        let prefix = String(entry[..<open])
        let inside = entry[entry.index(after: open)..<close]
        let rest = try expandEntry(String(entry[entry.index(after: close)...]), whole: whole)
        var out: [String] = []
        for item in inside.split(separator: ",", omittingEmptySubsequences: true) {
            for value in try expandRange(item, whole: whole) {
                for suffix in rest { out.append(prefix + value + suffix) }
            }
        }
        return out
    }

    static func expandRange(_ item: Substring, whole: String) throws(LaunchError) -> [String] {
        let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let bad = LaunchError.badEnvironment("host list '\(whole)' has a bad range '\(item)'")
        guard let lo = Int(bounds[0]), lo >= 0 else { throw bad }
        let width = bounds[0].count
        var hi = lo
        if bounds.count == 2 {
            guard let h = Int(bounds[1]), h >= lo else { throw bad }
            hi = h
        }
        guard hi - lo < 1_000_000 else { throw bad }
        return (lo...hi).map { value in
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
    }
}
