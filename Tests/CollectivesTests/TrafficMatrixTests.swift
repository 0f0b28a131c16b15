import Foundation
import Testing
@testable import Collectives

/// alltoallv's traffic matrix: shares, rounding, CSV parsing and its errors.
@Suite struct TrafficMatrixTests {
    /// A deterministic random generator (SplitMix64), so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Random non-negative weights as CSV, some zero, every row with a positive sum.
    static func randomCSV(ranks n: Int, seed: UInt64) -> String {
        var g = SplitMix(state: seed)
        return (0..<n).map { _ -> String in
            var row = (0..<n).map { _ -> Double in Int.random(in: 0..<4, using: &g) == 0 ? 0 : Double.random(in: 0.001...1000, using: &g) }
            if row.allSatisfy({ $0 == 0 }) { row[Int.random(in: 0..<n, using: &g)] = 1 }
            return row.map { String($0) }.joined(separator: ", ")
        }.joined(separator: "\n")
    }

    static let totals = [0, 1, 7, 64, 1000, 1 << 20, 123_456_789]

    @Test(arguments: [0.0, 0.5, 1, 3], rankCounts)
    func skewRowsSumToTheTotal(_ skew: Double, _ n: Int) {
        let m = TrafficMatrix(skew: skew)
        #expect(m.fixedRanks == nil)
        for total in Self.totals {
            let c = m.counts(total: total, ranks: n)
            #expect(c.count == n && c.allSatisfy { $0.count == n })
            for (s, row) in c.enumerated() {
                #expect(row.reduce(0, +) == total, "skew \(skew) n=\(n) total \(total) sender \(s): \(row)")
                #expect(row.allSatisfy { $0 >= 0 }, "skew \(skew) n=\(n) total \(total): negative count in \(row)")
            }
            // A skew gives every sender the same row.
            #expect(Set(c).count <= 1)
        }
    }

    @Test(arguments: rankCounts)
    func skewZeroIsUniform(_ n: Int) {
        let m = TrafficMatrix(skew: 0)
        #expect(m == TrafficMatrix.uniform)
        for k in [1, 5, 1000] {
            let c = m.counts(total: k * n, ranks: n)
            #expect(c.allSatisfy { $0 == Array(repeating: k, count: n) }, "n=\(n) k=\(k): \(c)")
        }
        // Not divisible: within one element of uniform, the remainder on the heaviest (receiver 0).
        let c = m.counts(total: 10 * n + n - 1, ranks: n)
        for row in c { #expect(row.max()! - row.min()! <= n - 1 && row.reduce(0, +) == 10 * n + n - 1) }
    }

    @Test(arguments: [0.5, 1, 3], [2, 3, 4, 8])
    func receiverZeroIsHeaviest(_ skew: Double, _ n: Int) {
        let c = TrafficMatrix(skew: skew).counts(total: 1 << 20, ranks: n)
        for row in c {
            #expect(row[0] == row.max()!)
            #expect(row[0] > row[n - 1], "skew \(skew) n=\(n): \(row)")
            // Weights fall with the receiver index: counts never rise.
            #expect(zip(row, row.dropFirst()).allSatisfy { $0 >= $1 }, "skew \(skew): \(row)")
        }
        // Zipf (skew 1): receiver p gets about 1/(p+1) of receiver 0.
        if skew == 1 {
            let row = c[0]
            for p in 1..<n { #expect(abs(Double(row[p]) * Double(p + 1) / Double(row[0]) - 1) < 1e-3) }
        }
    }

    @Test(arguments: rankCounts, [UInt64(1), 2, 3, 4, 5])
    func explicitRowsSumToTheTotal(_ n: Int, _ seed: UInt64) throws {
        let text = Self.randomCSV(ranks: n, seed: seed)
        let m = try TrafficMatrix(csv: text)
        #expect(m.fixedRanks == n)
        let weights = text.split(separator: "\n").map { $0.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! } }
        for total in Self.totals {
            let c = m.counts(total: total, ranks: n)
            for (s, row) in c.enumerated() {
                #expect(row.reduce(0, +) == total, "n=\(n) seed \(seed) total \(total) sender \(s)")
                #expect(row.allSatisfy { $0 >= 0 })
                let sum = weights[s].reduce(0, +)
                for (p, w) in weights[s].enumerated() {
                    if w == 0 && weights[s].contains(where: { $0 > w }) { #expect(row[p] == 0, "zero weight gets nothing") }
                    // Each share is the rounded-down proportion, plus the remainder (< n) on the heaviest.
                    #expect(abs(Double(row[p]) - Double(total) * w / sum) <= Double(n), "n=\(n) sender \(s) receiver \(p)")
                }
            }
        }
    }

    @Test func explicitExactShares() throws {
        let m = try TrafficMatrix(csv: "# sender 0 then 1\n1, 3\n\n2,2\n")
        #expect(m.counts(total: 8, ranks: 2) == [[2, 6], [4, 4]])
        #expect(m.counts(total: 9, ranks: 2) == [[2, 7], [5, 4]])  // 2.25→2, 6.75→6, +1 to the heaviest
    }

    @Test func csvTolerance() throws {
        #expect(try TrafficMatrix(csv: "1,2\r\n3,4\r\n").fixedRanks == 2)
        #expect(try TrafficMatrix(csv: "  5 ,\t0 \n 0 , 1e3 ").fixedRanks == 2)
        #expect(try TrafficMatrix(csv: "#only a comment\n7").fixedRanks == 1)
    }

    @Test(arguments: [
        ("1,2\n3", TrafficMatrix.MatrixError.notSquare(rows: 2, row: 2, columns: 1)),
        ("1,2,3\n4,5,6", .notSquare(rows: 2, row: 1, columns: 3)),
        ("1,-2\n3,4", .badValue(line: 1, text: "-2")),
        ("1,2\n3,four", .badValue(line: 2, text: "four")),
        ("1,,2\n1,1,1\n1,1,1", .badValue(line: 1, text: "")),
        ("1,nan\n1,1", .badValue(line: 1, text: "nan")),
        ("1,inf\n1,1", .badValue(line: 1, text: "inf")),
        ("1,1\n0,0", .emptyRow(2)),
        ("0\n", .emptyRow(1)),
        ("", .empty),
        ("# comments only\n\n   \n", .empty),
    ])
    func csvErrors(_ text: String, _ want: TrafficMatrix.MatrixError) {
        #expect(throws: want) { try TrafficMatrix(csv: text) }
    }

    @Test func errorDescriptionsNameTheProblem() {
        typealias E = TrafficMatrix.MatrixError
        #expect(E.badValue(line: 3, text: "x").description.contains("line 3") && E.badValue(line: 3, text: "x").description.contains("'x'"))
        #expect(E.notSquare(rows: 2, row: 1, columns: 3).description.contains("not square"))
        #expect(E.emptyRow(2).description.contains("row 2"))
        #expect(E.empty.description.contains("no rows"))
        #expect(E.wrongRanks(matrix: 3, ranks: 4).description.contains("3×3") && E.wrongRanks(matrix: 3, ranks: 4).description.contains("4 ranks"))
    }

    /// A bad value's line number should be the file's line; blank lines are dropped before counting.
    @Test func badValueLineCountsBlankLines() {
        #expect(throws: TrafficMatrix.MatrixError.badValue(line: 3, text: "x")) { try TrafficMatrix(csv: "1,2\n\n3,x\n") }
    }
}
