import Foundation

/// A benchmark's numbers at one size, laid out as nvbandwidth prints them (its `output.cpp`/
/// `PeerValueMatrix`): the title, a header of column labels right-aligned in 10 characters after
/// a blank corner as wide as the widest row label (at least 2), one line per row with its label
/// and each value to two decimals (`N/A` where nothing was measured), a blank line, then
/// `SUM <key> <sum of the values>`.
public struct CopyMatrix: Sendable, Equatable {
    public var key: String
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// values[row][column]; nil prints N/A.
    public var values: [[Double?]]

    public init(key: String, title: String, rowLabels: [String], columnLabels: [String]) {
        self.key = key; self.title = title; self.rowLabels = rowLabels; self.columnLabels = columnLabels
        values = Array(repeating: Array(repeating: nil, count: columnLabels.count), count: rowLabels.count)
    }

    /// An empty matrix with the layout's labels.
    public init(_ b: CopyBenchmark, _ layout: CopyLayout) {
        self.init(key: b.key, title: layout.title, rowLabels: layout.rowLabels, columnLabels: layout.columnLabels)
    }

    public subscript(row: Int, column: Int) -> Double? {
        get { values[row][column] }
        set { values[row][column] = newValue }
    }

    public var sum: Double { values.joined().compactMap { $0 }.reduce(0, +) }

    /// The matrix as text, ending in a newline.
    public func formatted() -> String {
        let corner = max(2, rowLabels.map(\.count).max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var out = title + "\n" + String(repeating: " ", count: corner)
        for c in columnLabels { out += pad(c, 10) }
        out += "\n"
        for (r, label) in rowLabels.enumerated() {
            out += label + String(repeating: " ", count: corner - label.count)
            for v in values[r] { out += pad(v.map { String(format: "%.2f", $0) } ?? "N/A", 10) }
            out += "\n"
        }
        out += "\nSUM \(key) \(String(format: "%.2f", sum))\n"
        return out
    }
}
