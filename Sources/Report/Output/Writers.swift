extension Table {
    /// Columns (after the first) whose non-empty cells all start with a digit (or read `N/A`, a
    /// matrix cell not measured): right-aligned.
    var numericColumns: [Bool] {
        headers.indices.map { i in
            i > 0 && rows.allSatisfy { r in
                i >= r.count || r[i].isEmpty || r[i] == "N/A" || r[i].first!.isNumber || r[i].first == "-" || r[i].first == "+"
            }
        }
    }
}

/// Writes a `ReportDocument` as Markdown (charts as `<id>.svg` images beside it) or as one
/// self-contained HTML page (charts inline, no scripts, no network).
public enum ReportWriter {
    /// Markdown text; each chart is referenced as `<chart.id>.svg`.
    public static func markdown(_ doc: ReportDocument) -> String {
        var out = "# \(doc.title)\n\n"
        for p in doc.intro { out += p + "\n\n" }
        for s in doc.sections {
            out += "## \(s.title)\n\n"
            for p in s.intro { out += p + "\n\n" }
            for fig in s.figures {
                if let c = fig.chart {
                    out += "### \(c.title)\n\n"
                    out += "![\(c.title)](\(c.id).svg)\n\n"
                }
                for f in fig.findings { out += "- \(f)\n" }
                if !fig.findings.isEmpty { out += "\n" }
                // A chart whose numbers are in a later table of its section has none of its own.
                if !fig.table.headers.isEmpty { out += markdownTable(fig.table, links: doc.links) + "\n" }
            }
        }
        return out
    }

    static func markdownTable(_ t: Table, links: [String: String] = [:]) -> String {
        func cell(_ s: String) -> String {
            if let href = links[s] { return "[\(s)](\(href))" }
            return s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var out = "| " + t.headers.map(cell).joined(separator: " | ") + " |\n"
        let numeric = t.numericColumns
        out += "|" + t.headers.indices.map { numeric[$0] ? "---:|" : "---|" }.joined() + "\n"
        for r in t.rows { out += "| " + r.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    /// One HTML page with every chart inline as SVG.
    public static func html(_ doc: ReportDocument) -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(doc.title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.45; }
        h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05rem; margin-top: 2rem; }
        figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
        .table-box { overflow-x: auto; max-width: 100%; margin: 0.5rem 0 1.5rem; }
        table { border-collapse: collapse; font-size: 0.85rem; }
        th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
        th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        th.s, td.s { white-space: nowrap; }
        th { background: #f3f3f3; }
        ul.findings { background: #f7f9fc; border-left: 3px solid #0072B2; padding: 0.5rem 0.5rem 0.5rem 1.75rem; }
        details { margin-bottom: 1rem; }
        </style>
        </head>
        <body>
        <h1>\(esc(doc.title))</h1>

        """
        for p in doc.intro { out += "<p>\(esc(p))</p>\n" }
        var n = 0
        for s in doc.sections {
            out += "<h2>\(esc(s.title))</h2>\n"
            for p in s.intro { out += "<p>\(esc(p))</p>\n" }
            for fig in s.figures {
                if let c = fig.chart {
                    n += 1
                    out += "<h3 id=\"\(c.id)\">Figure \(n). \(esc(c.title))</h3>\n<figure>\n"
                    out += SVGWriter.render(c)
                    out += "</figure>\n"
                }
                if !fig.findings.isEmpty {
                    out += "<ul class=\"findings\">\n"
                    for f in fig.findings { out += "<li>\(esc(f))</li>\n" }
                    out += "</ul>\n"
                }
                if !fig.table.headers.isEmpty { out += htmlTable(fig.table, collapsed: fig.chart != nil, links: doc.links) }
            }
        }
        out += "</body>\n</html>\n"
        return out
    }

    static func htmlTable(_ t: Table, collapsed: Bool, links: [String: String] = [:]) -> String {
        var out = collapsed ? "<details open><summary>Numbers</summary>\n" : ""
        let numeric = t.numericColumns
        // Numbers right-aligned; short text kept on one line (long text, like notes, wraps).
        func cls(_ i: Int, _ text: String) -> String {
            numeric[i] ? " class=\"n\"" : text.count <= 40 ? " class=\"s\"" : ""
        }
        // A wide table scrolls inside its own box instead of widening the page.
        out += "<div class=\"table-box\">\n<table>\n<tr>" + t.headers.enumerated().map { "<th\(cls($0, $1))>\(esc($1))</th>" }.joined() + "</tr>\n"
        func text(_ s: String) -> String { links[s].map { "<a href=\"\(esc($0))\">\(esc(s))</a>" } ?? esc(s) }
        for r in t.rows { out += "<tr>" + r.enumerated().map { "<td\(cls($0, $1))>\(text($1))</td>" }.joined() + "</tr>\n" }
        out += "</table>\n</div>\n"
        if collapsed { out += "</details>\n" }
        return out
    }
}
