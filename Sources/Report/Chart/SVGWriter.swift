/// Writes a `Chart` as a standalone SVG document.
///
/// Layout is fixed-width: title (wrapped), plot, x-axis title, then the legend below the plot,
/// flowed in rows, so no legend entry ever covers data. Coordinates carry one decimal and
/// elements are written in series order, so output is byte-stable.
public enum SVGWriter {
    static let width = 760.0
    static let plotLeft = 78.0
    static let plotRight = 736.0
    static let plotHeight = 300.0
    static let charWidth = 6.8  // conservative average advance of 12 px sans-serif
    static let lineHeight = 18.0

    /// SVG text of `chart`.
    public static func render(_ chart: Chart) -> String {
        let chart = chart.drawable
        var out = SVGText()
        let titleLines = wrap(chart.title, width: width - 24, charWidth: charWidth * 1.3)
        let subLines = chart.subtitle.map { wrap($0, width: width - 24, charWidth: charWidth) } ?? []
        let plotTop = 14 + Double(titleLines.count) * 20 + Double(subLines.count) * 16 + 14
        let plotBottom = plotTop + plotHeight
        let legend = legendEntries(chart)
        let legendRows = layoutLegend(legend)
        let legendTop = plotBottom + 58
        let height = legendTop + Double(legendRows.count) * lineHeight + 10

        out.line("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">")
        out.line("<title>\(esc(chart.title))</title>")
        out.line("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>")
        var ty = 14.0
        for l in titleLines {
            ty += 20
            out.line("<text x=\"\(f(width / 2))\" y=\"\(f(ty - 4))\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(esc(l))</text>")
        }
        for l in subLines {
            ty += 16
            out.line("<text x=\"\(f(width / 2))\" y=\"\(f(ty - 2))\" text-anchor=\"middle\" fill=\"#444444\">\(esc(l))</text>")
        }

        let yScale = chart.y.scale == .log2 && chart.kind == .line
            ? AxisScale.log2(min: chart.minPositiveY, max: chart.maxY)
            : AxisScale.linear(max: chart.maxY * 1.02)
        let plotW = plotRight - plotLeft
        func py(_ v: Double) -> Double { plotBottom - Swift.min(Swift.max(yScale.fraction(v), 0), 1) * plotHeight }

        // Horizontal grid and y ticks.
        for t in yScale.ticks {
            let y = py(t)
            out.line("<line x1=\"\(f(plotLeft))\" y1=\"\(f(y))\" x2=\"\(f(plotRight))\" y2=\"\(f(y))\" stroke=\"#e0e0e0\"/>")
            out.line("<text x=\"\(f(plotLeft - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(esc(yScale.log ? Fmt.trimmed(t) : Fmt.fixed(t, yScale.decimals)))</text>")
        }
        // X ticks and data.
        switch chart.kind {
        case .line:
            let xs = chart.series.flatMap(\.points).map(\.x) + chart.bands.flatMap { $0.ranges.map(\.x) }
            let xScale = chart.x.scale == .log2
                ? AxisScale.log2(min: xs.min() ?? 1, max: xs.max() ?? 2)
                : linearX(xs)
            func px(_ v: Double) -> Double { plotLeft + xScale.fraction(v) * plotW }
            for t in xScale.ticks {
                let x = px(t)
                out.line("<line x1=\"\(f(x))\" y1=\"\(f(plotTop))\" x2=\"\(f(x))\" y2=\"\(f(plotBottom))\" stroke=\"#f0f0f0\"/>")
                out.line("<text x=\"\(f(x))\" y=\"\(f(plotBottom + 18))\" text-anchor=\"middle\">\(esc(tickLabel(t, chart.x.format)))</text>")
            }
            for r in chart.references {
                out.line("<line x1=\"\(f(plotLeft))\" y1=\"\(f(py(r.y)))\" x2=\"\(f(plotRight))\" y2=\"\(f(py(r.y)))\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"8 4\"/>")
            }
            for b in chart.bands {
                let r = b.ranges.sorted { $0.x < $1.x }
                let upper = r.map { "\(f(px($0.x))),\(f(py($0.high)))" }
                let lower = r.reversed().map { "\(f(px($0.x))),\(f(py($0.low)))" }
                out.line("<polygon fill=\"\(Palette.colour(b.colour))\" fill-opacity=\"0.18\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"><title>\(esc(b.name))</title></polygon>")
            }
            for (i, s) in chart.series.enumerated() {
                let pts = s.points.sorted { $0.x < $1.x }
                let style = Style(s, i)
                let coords = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                if !s.markersOnly {
                    out.line("<polyline fill=\"none\" stroke=\"\(style.colour)\" stroke-width=\"2\"\(style.dash) points=\"\(coords)\"/>")
                }
                for p in pts {
                    let tip = "\(s.name): \(chart.x.label) \(tickLabel(p.x, chart.x.format)), \(chart.y.label) \(Fmt.value(p.y)) \(chart.y.unit)"
                    out.line(marker(style.shape, x: px(p.x), y: py(p.y), colour: style.colour, tip: tip))
                }
            }
        case .groupedBar:
            let n = max(chart.categories.count, 1), m = max(chart.series.count, 1)
            let slot = plotW / Double(n)
            let barW = slot * 0.8 / Double(m)
            for (c, label) in chart.categories.enumerated() {
                out.line("<text x=\"\(f(plotLeft + slot * (Double(c) + 0.5)))\" y=\"\(f(plotBottom + 18))\" text-anchor=\"middle\">\(esc(label))</text>")
            }
            for r in chart.references {
                out.line("<line x1=\"\(f(plotLeft))\" y1=\"\(f(py(r.y)))\" x2=\"\(f(plotRight))\" y2=\"\(f(py(r.y)))\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"8 4\"/>")
            }
            for (i, s) in chart.series.enumerated() {
                for p in s.points {
                    let x = plotLeft + slot * (p.x + 0.1) + barW * Double(i)
                    let y = py(p.y)
                    let cat = Int(p.x) < chart.categories.count ? chart.categories[Int(p.x)] : ""
                    out.line("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(barW))\" height=\"\(f(plotBottom - y))\" fill=\"\(Style(s, i).colour)\"><title>\(esc("\(s.name), \(cat): \(Fmt.value(p.y)) \(chart.y.unit)"))</title></rect>")
                }
            }
        }
        // Axes and axis titles.
        out.line("<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotBottom))\" x2=\"\(f(plotRight))\" y2=\"\(f(plotBottom))\" stroke=\"#000000\"/>")
        out.line("<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotTop))\" x2=\"\(f(plotLeft))\" y2=\"\(f(plotBottom))\" stroke=\"#000000\"/>")
        out.line("<text x=\"\(f((plotLeft + plotRight) / 2))\" y=\"\(f(plotBottom + 40))\" text-anchor=\"middle\" font-weight=\"bold\">\(esc(chart.x.title))</text>")
        let yMid = (plotTop + plotBottom) / 2
        out.line("<text x=\"18\" y=\"\(f(yMid))\" text-anchor=\"middle\" font-weight=\"bold\" transform=\"rotate(-90 18 \(f(yMid)))\">\(esc(chart.y.title))</text>")
        // Legend, below the plot.
        for (r, row) in legendRows.enumerated() {
            let y = legendTop + Double(r) * lineHeight
            for e in row {
                out.line(e.swatch(x: e.x, y: y))
                out.line("<text x=\"\(f(e.x + 30))\" y=\"\(f(y + 4))\">\(esc(e.name))</text>")
            }
        }
        out.line("</svg>")
        return out.text
    }

    // MARK: - Pieces

    /// Dash patterns by shape index: solid first, then patterns that stay apart when lines overlap.
    static let dashes = ["", "6 3", "2 3", "9 3 2 3", "4 4"]

    /// Colour, marker shape and dash of one series.
    ///
    /// Without an explicit shape, series `i` takes marker `i % 4` and dash `i % 5`, so series that
    /// lie on top of one another (the same numbers in two variants) still show both: the marker
    /// and the dash of the one beneath peek out, and the legend tells them apart without colour.
    struct Style {
        var colour: String
        var shape: Int
        var dash: String

        init(_ s: Series, _ i: Int) {
            colour = Palette.colour(s.colour ?? i)
            shape = s.shape ?? i
            let pattern = SVGWriter.dashes[shape % SVGWriter.dashes.count]
            dash = pattern.isEmpty ? "" : " stroke-dasharray=\"\(pattern)\""
        }
    }

    struct LegendEntry {
        var name: String
        var style: Style?
        var bar: Bool
        var markersOnly = false
        /// Palette index of a band's fill; nil for other entries.
        var band: Int? = nil
        var x = 0.0

        var width: Double { 30 + SVGWriter.textWidth(name) + 22 }

        func swatch(x: Double, y: Double) -> String {
            if let band {
                return "<rect x=\"\(f(x))\" y=\"\(f(y - 6))\" width=\"24\" height=\"12\" fill=\"\(Palette.colour(band))\" fill-opacity=\"0.18\"/>"
            }
            guard let style else {
                return "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 24))\" y2=\"\(f(y))\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"8 4\"/>"
            }
            if bar {
                return "<rect x=\"\(f(x + 4))\" y=\"\(f(y - 6))\" width=\"16\" height=\"12\" fill=\"\(style.colour)\"/>"
            }
            if markersOnly { return SVGWriter.marker(style.shape, x: x + 12, y: y, colour: style.colour, tip: nil) }
            return "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 24))\" y2=\"\(f(y))\" stroke=\"\(style.colour)\" stroke-width=\"2\"\(style.dash)/>"
                + SVGWriter.marker(style.shape, x: x + 12, y: y, colour: style.colour, tip: nil)
        }
    }

    static func legendEntries(_ chart: Chart) -> [LegendEntry] {
        chart.series.enumerated().map { LegendEntry(name: $1.name, style: Style($1, $0), bar: chart.kind == .groupedBar, markersOnly: $1.markersOnly) }
            + chart.bands.map { LegendEntry(name: $0.name, style: nil, bar: false, band: $0.colour) }
            + chart.references.map { LegendEntry(name: $0.name, style: nil, bar: false) }
    }

    /// Estimated advance of `s` in 12 px Helvetica/Arial, erring wide: capitals and `m`/`w`
    /// are wider than the average, spaces and `i`/`l`/punctuation narrower.
    static func textWidth(_ s: String) -> Double {
        var w = 0.0
        for c in s {
            if c == " " || c == "i" || c == "l" || c == "j" || c == "." || c == "," || c == "'" || c == "|" { w += 3.4 }
            else if c == "m" || c == "w" || c == "M" || c == "W" || c == "@" { w += 10.0 }
            else if c.isUppercase { w += 8.7 }
            else if c.isNumber || c.isLowercase { w += 6.8 }
            else { w += 7.0 }
        }
        return w
    }

    /// Flows entries left to right into rows no wider than the plot.
    static func layoutLegend(_ entries: [LegendEntry]) -> [[LegendEntry]] {
        var rows: [[LegendEntry]] = []
        var row: [LegendEntry] = []
        var x = plotLeft
        for var e in entries {
            if !row.isEmpty, x + e.width > width - 8 {
                rows.append(row)
                row = []
                x = plotLeft
            }
            e.x = x
            x += e.width
            row.append(e)
        }
        if !row.isEmpty { rows.append(row) }
        return rows
    }

    /// Marker by shape index: circle, square, triangle, diamond.
    static func marker(_ shape: Int, x: Double, y: Double, colour: String, tip: String?) -> String {
        let t = tip.map { "<title>\(esc($0))</title>" } ?? ""
        let close = tip == nil ? "/>" : ">\(t)"
        switch shape % 4 {
        case 0:
            return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"3.5\" fill=\"\(colour)\"\(close)\(tip == nil ? "" : "</circle>")"
        case 1:
            return "<rect x=\"\(f(x - 3.5))\" y=\"\(f(y - 3.5))\" width=\"7\" height=\"7\" fill=\"\(colour)\"\(close)\(tip == nil ? "" : "</rect>")"
        case 2:
            return "<path d=\"M\(f(x)) \(f(y - 4.5))L\(f(x + 4.5)) \(f(y + 3.5))L\(f(x - 4.5)) \(f(y + 3.5))Z\" fill=\"\(colour)\"\(close)\(tip == nil ? "" : "</path>")"
        default:
            return "<path d=\"M\(f(x)) \(f(y - 5))L\(f(x + 5)) \(f(y))L\(f(x)) \(f(y + 5))L\(f(x - 5)) \(f(y))Z\" fill=\"\(colour)\"\(close)\(tip == nil ? "" : "</path>")"
        }
    }

    static func linearX(_ xs: [Double]) -> AxisScale {
        let s = AxisScale.linear(max: xs.max() ?? 1)
        return s
    }

    static func tickLabel(_ v: Double, _ format: Axis.Format) -> String {
        switch format {
        case .bytes: return Fmt.sizeTick(v)
        case .number: return Fmt.number(v)
        }
    }

    /// Splits `text` at spaces into lines that fit `width` at `charWidth` per character.
    static func wrap(_ text: String, width: Double, charWidth: Double) -> [String] {
        let maxChars = max(Int(width / charWidth), 10)
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > maxChars {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

/// One decimal, the precision of every SVG coordinate.
func f(_ v: Double) -> String { Fmt.fixed(v, 1) }

/// Escapes text for XML/HTML content and attribute values.
func esc(_ s: String) -> String {
    var r = ""
    r.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": r += "&amp;"
        case "<": r += "&lt;"
        case ">": r += "&gt;"
        case "\"": r += "&quot;"
        default: r.append(c)
        }
    }
    return r
}

struct SVGText {
    var text = ""
    mutating func line(_ s: String) {
        text += s
        text += "\n"
    }
}
