import Results

/// Copy matrices: rows that name their place in a matrix (`labels.row`, `labels.column`, as
/// `gpucomm copy` writes them in nvbandwidth's layout, docs/copy.md) as one table per benchmark,
/// a row per matrix row, a column per matrix column, at the largest size every cell measured.
extension FigureKit {
    /// Labels that place a cell in its matrix or describe it (the engine is in the benchmark key); the rest tell matrices apart.
    static let matrixLabels: Set<String> = ["row", "column", "copies", "limit", "engine"]

    func matrixSection(_ all: [Cell]) -> Section? {
        struct Placed { var cell: Cell; var row: String; var column: String; var copies: String?; var rest: String }
        var order: [String] = []
        var groups: [String: [Placed]] = [:]
        for c in all where c.key.sizeBytes != nil && c.key.chunkBytes == nil {
            let pairs = Grouping.labelPairs(c.key.labels)
            let labels = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
            guard let row = labels["row"], let column = labels["column"] else { continue }
            let rest = pairs.filter { !Self.matrixLabels.contains($0.0) }.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")
            let k = c.key
            let name = [k.benchmark, k.backend, k.variant ?? "", k.dtype ?? "", k.op ?? "", k.buffer ?? "", k.timing ?? "", rest].joined(separator: "\u{1}")
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append(Placed(cell: c, row: row, column: column, copies: labels["copies"], rest: rest))
        }
        guard !order.isEmpty else { return nil }
        func indexLess(_ a: String, _ b: String) -> Bool {
            if let x = Int(a), let y = Int(b) { return x < y }
            return a < b
        }
        var figures: [Figure] = []
        // One-cell matrices (one GPU, or a copy to or from every GPU at once) in one table together.
        var single: [[String]] = []
        for name in order.sorted() {
            let placed = groups[name]!
            if Set(placed.map { $0.row + "\u{1}" + $0.column }).count == 1 {
                let cells = placed.map(\.cell)
                guard let m = Self.metric(cells, prefer: [.algbw, .time]), let size = cells.compactMap(\.key.sizeBytes).max(),
                      let v = cells.filter({ $0.key.sizeBytes == size }).compactMap({ $0.median(m) }).max(by: { m.higherIsBetter ? $0 < $1 : $0 > $1 })
                else { continue }
                let k = cells[0].key
                let variant = [k.variant, k.timing.map { "\($0) timing" }, placed[0].rest.isEmpty ? nil : placed[0].rest].compactMap { $0 }.joined(separator: ", ")
                single.append([k.benchmark, k.backend, variant, placed[0].copies ?? "", Fmt.size(size), Fmt.value(v), m.unit])
                continue
            }
            let cells = placed.map(\.cell)
            guard let m = Self.metric(cells, prefer: [.algbw, .time]) else { continue }
            let rows = Set(placed.map(\.row)).sorted(by: indexLess)
            let columns = Set(placed.map(\.column)).sorted(by: indexLess)
            // nvbandwidth prints its matrix at the largest size; here the largest every cell measured.
            var sizes: [String: Set<Int64>] = [:]
            for p in placed { sizes[p.row + "\u{1}" + p.column, default: []].insert(p.cell.key.sizeBytes!) }
            let common = sizes.values.dropFirst().reduce(sizes.values.first!) { $0.intersection($1) }
            let k = cells[0].key
            let what = [k.benchmark, [k.backend, k.variant, k.timing.map { "\($0) timing" }].compactMap { $0 }.joined(separator: ", ")]
            var caption = "\(what[0]) (\(what[1])): \(m.title) (\(m.unit)), row × column as nvbandwidth prints it"
            var findings: [String] = []
            let at: (Placed) -> Bool
            if let size = common.max() {
                caption += ", at \(Fmt.size(size)), the largest size every cell measured."
                at = { $0.cell.key.sizeBytes == size }
            } else {
                caption += ", each cell at its own largest size (no size is common to every cell)."
                at = { p in p.cell.key.sizeBytes == sizes[p.row + "\u{1}" + p.column]!.max() }
            }
            findings.append(caption)
            var total = 0.0
            let table = Table(headers: ["row \\ column"] + columns, rows: rows.map { r in
                [r] + columns.map { c in
                    let here = placed.filter { $0.row == r && $0.column == c && at($0) }
                    // Several cells at one place differ in something the key keeps (GPU count): the best, as the size section's charts do.
                    guard let v = here.compactMap({ $0.cell.median(m) }).max(by: { m.higherIsBetter ? $0 < $1 : $0 > $1 }) else { return "N/A" }
                    total += v
                    return Fmt.value(v)
                }
            })
            if m != .time { findings.append("SUM \(k.benchmark) \(Fmt.value(total)) \(m.unit) (nvbandwidth's sum line); N/A: not measured.") }
            if let p = placed.sorted(by: { indexLess($0.row, $1.row) || ($0.row == $1.row && indexLess($0.column, $1.column)) }).first, let copies = p.copies {
                findings.append("Row \(p.row), column \(p.column) is the copy \(copies) (each row's `copies` label names its cell).")
            }
            findings += leftOut["\(k.benchmark)\u{1}\(k.backend)"] ?? []
            figures.append(Figure(chart: nil, findings: findings, table: table))
        }
        if !single.isEmpty {
            figures.append(Figure(chart: nil, findings: ["Matrices of one cell, each at its largest size: algorithm bandwidth, or time where the benchmark measures latency."],
                                  table: Table(headers: ["benchmark", "backend", "variant", "copies", "size", "value", "unit"], rows: single)))
        }
        guard !figures.isEmpty else { return nil }
        return Section(title: "Copy matrices", intro: [
            "Rows of `gpucomm copy` in nvbandwidth's matrix layout (docs/copy.md): one table per benchmark and memory kind, "
                + "rows and columns as the benchmark defines them (GPU ordinals, or 0 for the host). Bandwidth is algorithm bandwidth; "
                + "latency benchmarks show time.",
        ], figures: figures)
    }
}
