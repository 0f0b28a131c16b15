/// A report as plain values, before it is written as Markdown or HTML.
public struct ReportDocument: Sendable, Equatable {
    public var title: String
    /// Paragraphs under the title (what the data is, attribution).
    public var intro: [String]
    public var sections: [Section]
    /// Table cells written as links: cell text (`docs/model.md`) → address. Empty: plain text.
    public var links: [String: String]

    public init(title: String, intro: [String] = [], sections: [Section] = [], links: [String: String] = [:]) {
        self.title = title
        self.intro = intro
        self.sections = sections
        self.links = links
    }

    /// Every chart in the document, in order.
    public var charts: [Chart] { sections.flatMap { $0.figures.compactMap(\.chart) } }
}

/// A titled part of the report.
public struct Section: Sendable, Equatable {
    public var title: String
    public var intro: [String]
    public var figures: [Figure]

    public init(title: String, intro: [String] = [], figures: [Figure] = []) {
        self.title = title
        self.intro = intro
        self.figures = figures
    }
}

/// A chart (optional: a section may be tables only), what the data shows, and the numbers under it.
public struct Figure: Sendable, Equatable {
    public var chart: Chart?
    /// Conclusions computed from the plotted numbers, one sentence each.
    public var findings: [String]
    public var table: Table

    public init(chart: Chart?, findings: [String] = [], table: Table) {
        self.chart = chart
        self.findings = findings
        self.table = table
    }
}

/// A table of strings; the first column is left-aligned, the rest right-aligned.
public struct Table: Sendable, Equatable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }
}

/// What one input file contributed, for the provenance section.
public struct InputSummary: Sendable, Equatable {
    public var path: String
    public var format: String
    public var rowsRead: Int
    /// One line per reason rows were skipped (`3 rows: no bandwidth column`).
    public var skipped: [String]

    public init(path: String, format: String, rowsRead: Int, skipped: [String] = []) {
        self.path = path
        self.format = format
        self.rowsRead = rowsRead
        self.skipped = skipped
    }
}
