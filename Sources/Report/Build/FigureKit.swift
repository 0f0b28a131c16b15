/// Options that shape a report.
public struct ReportOptions: Sendable, Equatable {
    public var title: String
    /// Link peak in GB/s (unidirectional, per GPU) that overrides what runs record.
    public var linkGBps: Double?
    /// Most series a line chart draws before it picks a spread subset (tables keep all).
    public var maxSeries: Int
    /// Adds the "What if: beyond one host" section (simulator and scaling model) when set.
    public var whatIf: WhatIfOptions?
    /// Where the `docs/*.md` files named in the report are, relative to the report (`../../docs/`);
    /// nil writes their names as plain text.
    public var docsBase: String?

    public init(title: String = "gpucomm report", linkGBps: Double? = nil, maxSeries: Int = 8, whatIf: WhatIfOptions? = nil) {
        self.title = title
        self.linkGBps = linkGBps
        self.maxSeries = maxSeries
        self.whatIf = whatIf
    }
}

/// One plotted value with the link peak that applies to it.
struct Value {
    var x: Double
    var y: Double
    var peak: Double?
}

/// A named series of values, ready to become chart series and table columns.
struct Line {
    var name: String
    var values: [Value]
    /// Drawing style shared by related lines (see `Series.colour`, `Series.shape`).
    var colour: Int? = nil
    var shape: Int? = nil

    func y(at x: Double) -> Double? { values.first { $0.x == x }?.y }
    var maxValue: Value? { values.max { $0.y < $1.y } }
    var first: Value? { values.min { $0.x < $1.x } }
    var last: Value? { values.max { $0.x < $1.x } }
}

/// Shared chart and table construction for the report sections.
struct FigureKit {
    var options: ReportOptions
    /// Notes on rows left out as invalid, per `benchmark\u{1}backend` (see `RowValidity`).
    var leftOut: [String: [String]] = [:]

    init(options: ReportOptions) { self.options = options }

    /// Link peak for a cell: the command-line value, else the run's topology.
    func peak(_ c: Cell) -> Double? { options.linkGBps ?? c.linkPeak }

    /// Median of `metric` per cell as values at `x(cell)`, sorted by x.
    func values(_ cells: [Cell], metric: Metric, x: (BenchKey) -> Double?) -> [Value] {
        cells.compactMap { c in
            guard let xv = x(c.key), let y = c.median(metric) else { return nil }
            return Value(x: xv, y: y, peak: metric == .busbw || metric == .algbw ? peak(c) : nil)
        }.sorted { $0.x < $1.x }
    }

    /// `477.7` or, with a link peak, `477.7 (106.2%)`.
    func cellText(_ v: Value) -> String {
        guard let p = v.peak, p > 0 else { return Fmt.value(v.y) }
        return "\(Fmt.value(v.y)) (\(Fmt.percent(v.y / p)))"
    }

    /// A line chart and the wide table of its numbers (one row per x, one column per series).
    /// Charts draw at most `options.maxSeries` lines, spread over the list; the table has all.
    func lineFigure(id: String, title: String, subtitle: String?, x: Axis, y: Axis, lines: [Line],
                    xText: (Double) -> String, findings: [String]) -> Figure {
        let drawn = spread(lines, max: options.maxSeries)
        var subtitle = subtitle
        if drawn.count < lines.count {
            subtitle = (subtitle.map { $0 + "; " } ?? "") + "\(drawn.count) of \(lines.count) series drawn, all in the table"
        }
        // Series an order of magnitude apart: a log y axis, so the small ones stay readable.
        var y = y
        let peaks = drawn.compactMap { $0.maxValue?.y }
        if let lo = peaks.min(), let hi = peaks.max(), lo > 0, hi / lo >= 10,
           drawn.allSatisfy({ $0.values.allSatisfy { $0.y > 0 || !($0.x > 0 || x.scale == .linear) } }) {
            y.scale = .log2
            subtitle = (subtitle.map { $0 + "; " } ?? "") + "log scale"
        }
        // A log axis has no zero: rows at x ≤ 0 (0-byte sizes) stay in the table, off the chart, with a note.
        var findings = findings
        if x.scale == .log2 {
            let off = drawn.reduce(0) { $0 + $1.values.filter { !($0.x > 0) }.count }
            if off > 0 {
                let zero = x.format == .bytes ? "0 B" : "0"
                findings.append("\(off) measurement\(off == 1 ? "" : "s") at \(zero) \(off == 1 ? "is" : "are") in the table but not on the chart: "
                    + "the axis is logarithmic and starts at the smallest non-zero \(x.label)\(x.format == .bytes ? "; a 0-byte operation moves no data" : "").")
            }
        }
        let chart = Chart(id: id, title: title, subtitle: subtitle, kind: .line, x: x, y: y,
                          series: drawn.map { l in Series(name: l.name, points: l.values.map { Point(x: $0.x, y: $0.y) }, colour: l.colour, shape: l.shape) },
                          references: references(lines.flatMap(\.values), y: y))
        return Figure(chart: chart, findings: findings + peakFindings(lines, unit: y.unit), table: wideTable(lines, xHeader: x.title, xText: xText))
    }

    /// A grouped bar chart over `categories` (x = category index) and its table.
    func barFigure(id: String, title: String, subtitle: String?, categoryHeader: String, categories: [String],
                   y: Axis, lines: [Line], findings: [String]) -> Figure {
        let chart = Chart(id: id, title: title, subtitle: subtitle, kind: .groupedBar,
                          x: Axis(label: categoryHeader, unit: ""), y: y,
                          series: lines.map { l in Series(name: l.name, points: l.values.map { Point(x: $0.x, y: $0.y) }) },
                          categories: categories,
                          references: references(lines.flatMap(\.values), y: y))
        return Figure(chart: chart, findings: findings + peakFindings(lines, unit: y.unit),
                      table: wideTable(lines, xHeader: categoryHeader, xText: { categories[Int($0)] }))
    }

    /// One row per distinct x, one column per line.
    func wideTable(_ lines: [Line], xHeader: String, xText: (Double) -> String) -> Table {
        let xs = Set(lines.flatMap { $0.values.map(\.x) }).sorted()
        let rows = xs.map { x in
            [xText(x)] + lines.map { l in l.values.first { $0.x == x }.map(cellText) ?? "" }
        }
        return Table(headers: [xHeader] + lines.map(\.name), rows: rows)
    }

    /// A dashed line at the link peak when one applies to every value and the data reaches a
    /// tenth of it (a peak far above the data would flatten the chart).
    func references(_ values: [Value], y: Axis) -> [Reference] {
        let peaks = Set(values.compactMap(\.peak))
        guard peaks.count == 1, let p = peaks.first, values.allSatisfy({ $0.peak != nil }),
              let top = values.map(\.y).max(), top >= p / 10 else { return [] }
        return [Reference(name: "link peak \(Fmt.value(p)) GB/s", y: p)]
    }

    /// The highest value as a fraction of its link peak, when a peak is known.
    func peakFindings(_ lines: [Line], unit: String) -> [String] {
        var best: (String, Value)?
        for l in lines { for v in l.values where v.peak != nil && (best == nil || v.y > best!.1.y) { best = (l.name, v) } }
        guard let (name, v) = best, let p = v.peak else { return [] }
        let source = options.linkGBps != nil ? "given with --link-gbps" : "from the run's topology"
        return ["Highest value \(Fmt.value(v.y)) \(unit) (\(name)) is \(Fmt.percent(v.y / p)) of the \(Fmt.value(p)) GB/s link peak (\(source))."]
    }

    /// At most `max` items, evenly spread, always keeping the first and last.
    func spread<T>(_ items: [T], max: Int) -> [T] {
        guard items.count > max, max >= 2 else { return items }
        let picks = (0..<max).map { Int((Double($0) * Double(items.count - 1) / Double(max - 1)).rounded()) }
        var seen = Set<Int>()
        return picks.filter { seen.insert($0).inserted }.map { items[$0] }
    }

    static let sizeAxis = Axis(label: "message size", unit: "bytes", scale: .log2, format: .bytes)
    static let gpuAxis = Axis(label: "GPUs", unit: "count", scale: .log2, format: .number)

    static func metricAxis(_ m: Metric) -> Axis { Axis(label: m.title, unit: m.unit) }

    /// Bandwidth metric to plot for these cells: busbw when every cell has it, else algbw
    /// when every cell has it, else time; nil when none applies to all.
    static func metric(_ cells: [Cell], prefer: [Metric] = [.busbw, .algbw, .time]) -> Metric? {
        prefer.first { m in cells.allSatisfy { $0.values[m] != nil } }
    }

    static func sizeText(_ x: Double) -> String { Fmt.size(Int64(x)) }
    static func gpuText(_ x: Double) -> String { Fmt.number(x) }
}
