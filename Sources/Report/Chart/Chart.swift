/// A chart as a plain value: axes, series, labels. `SVGWriter` turns it into SVG.
///
/// Nothing in a chart depends on time or on dictionary order, so the same data always
/// gives the same bytes (golden-file tests compare them).
public struct Chart: Sendable, Equatable {
    /// How the series are drawn.
    public enum Kind: Sendable, Equatable {
        /// One polyline with markers per series, x from the points.
        case line
        /// One bar per series in each category; a point's x is its category index.
        case groupedBar
    }

    /// File stem for the SVG (`busbw_vs_size_all_reduce_nccl`): lower-case, `[a-z0-9_]`.
    public var id: String
    public var title: String
    public var subtitle: String?
    public var kind: Kind
    public var x: Axis
    public var y: Axis
    public var series: [Series]
    /// Category labels for grouped bars, in order (`16 GPUs`, `32 GPUs`, ...).
    public var categories: [String]
    /// Horizontal reference lines (ideal speedup, link peak); drawn dashed, named in the legend.
    public var references: [Reference]
    /// Shaded ranges (a model's prediction band) drawn under the series of a line chart.
    public var bands: [Band]

    public init(id: String, title: String, subtitle: String? = nil, kind: Kind = .line,
                x: Axis, y: Axis, series: [Series], categories: [String] = [], references: [Reference] = [],
                bands: [Band] = []) {
        self.id = id
        self.title = title
        self.subtitle = subtitle
        self.kind = kind
        self.x = x
        self.y = y
        self.series = series
        self.categories = categories
        self.references = references
        self.bands = bands
    }
}

/// One axis: its name, unit and scale.
public struct Axis: Sendable, Equatable {
    /// Linear or base-2 logarithmic (the y axis of a line chart may be log2 too, when series differ by orders of magnitude).
    public enum Scale: Sendable, Equatable { case linear, log2 }
    /// How tick values are written.
    public enum Format: Sendable, Equatable {
        /// Powers of two as `1K`, `64M`, `2G` (binary multiples).
        case bytes
        /// Plain numbers (`16`, `0.5`, `2.5k` is never used: counts stay whole).
        case number
    }

    public var label: String
    /// Unit shown in parentheses after the label (`GB/s`, `bytes`, `GPUs`, `s`, `%`).
    public var unit: String
    public var scale: Scale
    public var format: Format

    public init(label: String, unit: String, scale: Scale = .linear, format: Format = .number) {
        self.label = label
        self.unit = unit
        self.scale = scale
        self.format = format
    }

    /// `label (unit)`, or the label alone when there is no unit.
    public var title: String { unit.isEmpty ? label : "\(label) (\(unit))" }
}

/// One named series of points.
public struct Series: Sendable, Equatable {
    public var name: String
    public var points: [Point]
    /// Palette index; nil uses the series' position. Series that belong together (one backend at
    /// several sizes) share a colour and differ in `shape`.
    public var colour: Int?
    /// Marker and dash style (0 solid circles, then squares, triangles, diamonds, dashed); nil uses
    /// the position (a new shape every eight series, when the palette repeats).
    public var shape: Int?
    /// Markers without the connecting line (measured points next to a model's line).
    public var markersOnly: Bool

    public init(name: String, points: [Point], colour: Int? = nil, shape: Int? = nil, markersOnly: Bool = false) {
        self.name = name
        self.points = points
        self.colour = colour
        self.shape = shape
        self.markersOnly = markersOnly
    }
}

/// One data point.
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A horizontal line across the plot at `y`.
public struct Reference: Sendable, Equatable {
    public var name: String
    public var y: Double

    public init(name: String, y: Double) {
        self.name = name
        self.y = y
    }
}

/// A shaded range between `low` and `high` over x, named in the legend.
public struct Band: Sendable, Equatable {
    public var name: String
    /// Palette index of the fill (drawn translucent).
    public var colour: Int
    /// (x, low, high), sorted by x when drawn.
    public var ranges: [BandPoint]

    public init(name: String, colour: Int, ranges: [BandPoint]) {
        self.name = name
        self.colour = colour
        self.ranges = ranges
    }
}

/// One x of a band and the range it covers there.
public struct BandPoint: Sendable, Equatable {
    public var x: Double
    public var low: Double
    public var high: Double

    public init(x: Double, low: Double, high: Double) {
        self.x = x
        self.low = low
        self.high = high
    }
}

extension Chart {
    /// The chart as it can be drawn: non-finite values dropped, and on a log axis the values
    /// at or below zero (a 0-byte row has no place on a log size axis; the report's table keeps it
    /// and a note says so).
    var drawable: Chart {
        var c = self
        let logX = kind == .line && x.scale == .log2, logY = kind == .line && y.scale == .log2
        func keep(_ p: Point) -> Bool { p.x.isFinite && p.y.isFinite && (!logX || p.x > 0) && (!logY || p.y > 0) }
        c.series = series.map { s in var s = s; s.points = s.points.filter(keep); return s }
        c.references = references.filter { $0.y.isFinite && (!logY || $0.y > 0) }
        c.bands = bands.map { b in
            var b = b
            b.ranges = b.ranges.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite && (!logX || $0.x > 0) && (!logY || $0.low > 0) }
            return b
        }
        return c
    }

    /// The largest y among series points and references; 0 for an empty chart.
    /// The smallest positive y among series points and references; 1 when there is none.
    var minPositiveY: Double {
        (series.flatMap(\.points).map(\.y) + references.map(\.y) + bands.flatMap { $0.ranges.map(\.low) })
            .filter { $0 > 0 }.min() ?? 1
    }

    var maxY: Double {
        let s = series.flatMap(\.points).map(\.y).max() ?? 0
        let r = references.map(\.y).max() ?? 0
        let b = bands.flatMap { $0.ranges.map(\.high) }.max() ?? 0
        return Swift.max(s, r, b)
    }
}

/// Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008), blue first,
/// yellow last because it is the hardest to see on white.
public enum Palette {
    public static let colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"]

    /// Colour of series `i`; repeats after eight series, when the marker shape changes.
    public static func colour(_ i: Int) -> String { colours[i % colours.count] }
}
