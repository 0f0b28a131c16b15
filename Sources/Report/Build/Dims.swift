/// A field of `BenchKey` that can tell series apart, with its label and sort order.
enum Dim: CaseIterable {
    case benchmark, backend, variant, dtype, op, root, buffer, timing, ranks, nodes, size, chunk, labels

    /// Text naming this field's value in a series name; nil when the key has no value.
    func text(_ k: BenchKey) -> String? {
        switch self {
        case .benchmark: return k.benchmark
        case .backend: return k.backend
        case .variant: return k.variant
        case .dtype: return k.dtype
        case .op: return k.op
        case .root: return k.root.map { "root \($0)" }
        case .buffer: return k.buffer.map { "\($0) buffers" }
        case .timing: return k.timing.map { "\($0) timing" }
        case .ranks: return "\(k.ranks) GPUs"
        case .nodes: return k.nodes.map { "\($0) nodes" }
        case .size: return k.sizeBytes.map(Fmt.size)
        case .chunk: return k.chunkBytes.map { "chunk \(Fmt.size($0))" }
        case .labels: return k.labels.isEmpty ? nil : k.labels
        }
    }

    /// Numeric order for numeric fields, else text order; absent values first.
    func less(_ a: BenchKey, _ b: BenchKey) -> Bool? {
        func cmp<T: Comparable>(_ x: T?, _ y: T?) -> Bool? {
            if x == y { return nil }
            guard let x else { return true }
            guard let y else { return false }
            return x < y
        }
        switch self {
        case .ranks: return cmp(a.ranks, b.ranks)
        case .nodes: return cmp(a.nodes, b.nodes)
        case .size: return cmp(a.sizeBytes, b.sizeBytes)
        case .chunk: return cmp(a.chunkBytes, b.chunkBytes)
        case .root: return cmp(a.root, b.root)
        default: return cmp(text(a), text(b))
        }
    }
}

/// Cells split into named series, in a stable order.
struct SeriesGroup {
    var name: String
    var cells: [Cell]
}

enum Grouping {
    /// Splits `cells` into series by the fields in `dims` that take more than one value;
    /// names join those fields' texts (`32 GPUs, in_place`), or use `single` when none varies.
    static func series(_ cells: [Cell], by dims: [Dim], single: String) -> [SeriesGroup] {
        // A field joins the name only when it tells apart cells the fields before it do not
        // (a Jacobi variant already implies its backend).
        var varying: [Dim] = []
        var distinct = 1
        for d in dims {
            let n = Set(cells.map { c in (varying + [d]).map { $0.text(c.key) ?? "" } }).count
            if n > distinct { varying.append(d); distinct = n }
        }
        // Of the labels, name only the pairs that differ between cells.
        let pairs = cells.map { labelPairs($0.key.labels) }
        let allKeys = Set(pairs.flatMap { $0.map(\.0) })
        let varyingLabels = allKeys.filter { k in Set(pairs.map { p in p.first { $0.0 == k }?.1 ?? "" }).count > 1 }
        func text(_ d: Dim, _ k: BenchKey) -> String? {
            guard d == .labels else { return d.text(k) }
            let shown = labelPairs(k.labels).filter { varyingLabels.contains($0.0) }.map { "\($0.0)=\($0.1)" }
            return shown.isEmpty ? nil : shown.joined(separator: ", ")
        }
        var order: [String] = []
        var groups: [String: [Cell]] = [:]
        for c in cells {
            let name = varying.compactMap { text($0, c.key) }.joined(separator: ", ")
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append(c)
        }
        let sorted = order.sorted { a, b in
            let ka = groups[a]![0].key, kb = groups[b]![0].key
            for d in varying { if let l = d.less(ka, kb) { return l } }
            return a < b
        }
        return sorted.map { SeriesGroup(name: $0.isEmpty ? single : $0, cells: groups[$0]!) }
    }

    /// `k=v, k=v` back into pairs.
    static func labelPairs(_ labels: String) -> [(String, String)] {
        guard !labels.isEmpty else { return [] }
        return labels.components(separatedBy: ", ").map { p in
            guard let eq = p.firstIndex(of: "=") else { return (p, "") }
            return (String(p[..<eq]), String(p[p.index(after: eq)...]))
        }
    }

    /// Groups cells by a string key, groups ordered by `less` on their first cell's key.
    static func split(_ cells: [Cell], by key: (BenchKey) -> String, order: [Dim]) -> [[Cell]] {
        var names: [String] = []
        var groups: [String: [Cell]] = [:]
        for c in cells {
            let k = key(c.key)
            if groups[k] == nil { names.append(k) }
            groups[k, default: []].append(c)
        }
        let sorted = names.sorted { a, b in
            let ka = groups[a]![0].key, kb = groups[b]![0].key
            for d in order { if let l = d.less(ka, kb) { return l } }
            return a < b
        }
        return sorted.map { groups[$0]! }
    }

    /// Lower-case `[a-z0-9_]` form of `parts` for chart ids and file names.
    static func slug(_ parts: [String]) -> String {
        let s = parts.joined(separator: "_").lowercased().map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber) ? c : "_"
        }
        var out = ""
        for c in s where !(c == "_" && out.last == "_") { out.append(c) }
        while out.first == "_" { out.removeFirst() }
        while out.last == "_" { out.removeLast() }
        return out
    }
}
