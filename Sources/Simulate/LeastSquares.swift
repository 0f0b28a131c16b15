import Foundation

/// Small dense least squares for the model fit (a handful of columns, tens to thousands of rows).
public enum LeastSquares {
    /// Minimises |A x − b|² with x ≥ 0: solve, drop columns whose coefficient came out negative,
    /// solve again (a simple active-set scheme; Lawson & Hanson, "Solving Least Squares Problems",
    /// 1974, ch. 23, is the full algorithm). Columns that are all zero or collinear get 0.
    public static func nonNegative(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let n = a.first?.count ?? 0
        var active = Array(0..<n)
        while true {
            let x = solve(a.map { row in active.map { row[$0] } }, b)
            var full = Array(repeating: 0.0, count: n)
            for (i, c) in active.enumerated() { full[c] = x[i] }
            let negative = active.enumerated().filter { x[$0.offset] < 0 }.map(\.element)
            if negative.isEmpty { return full }
            active.removeAll { negative.contains($0) }
            if active.isEmpty { return full.map { _ in 0 } }
        }
    }

    /// Ordinary least squares through the normal equations on column-scaled data, with
    /// Gaussian elimination and partial pivoting; a (near) zero pivot leaves that coefficient 0.
    public static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let n = a.first?.count ?? 0
        guard n > 0 else { return [] }
        let scale = (0..<n).map { c in a.map { abs($0[c]) }.max() ?? 0 }.map { $0 > 0 ? $0 : 1 }
        var m = Array(repeating: Array(repeating: 0.0, count: n + 1), count: n)
        for (row, y) in zip(a, b) {
            let s = (0..<n).map { row[$0] / scale[$0] }
            for i in 0..<n {
                for j in 0..<n { m[i][j] += s[i] * s[j] }
                m[i][n] += s[i] * y
            }
        }
        let trace = (0..<n).map { m[$0][$0] }.reduce(0, +)
        let tiny = max(trace, 1) * 1e-12
        var solvable = Array(repeating: true, count: n)
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) } ?? col
            if abs(m[pivot][col]) <= tiny { solvable[col] = false; continue }
            m.swapAt(col, pivot)
            for r in 0..<n where r != col {
                let f = m[r][col] / m[col][col]
                if f != 0 { for c in col...n { m[r][c] -= f * m[col][c] } }
            }
        }
        return (0..<n).map { i in solvable[i] && m[i][i] != 0 ? m[i][n] / m[i][i] / scale[i] : 0 }
    }
}
