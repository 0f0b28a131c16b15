import Foundation
import Testing
@testable import Results

@Suite struct ResultsCSVTests {
    @Test func goldenTable() throws {
        var set = try Golden.importFixture("nccl-tests/nt_all_reduce_g4.log").set
        set.append(try Golden.importFixture("aws-efa-p5/jacobi.csv").set)
        let csv = ResultsCSV.header + "\n" + ResultsCSV.lines(set)
        #expect(csv.split(separator: "\n").count == 1 + 28 + 28)
        try Golden.check(csv, against: "csv-nccl-tests-and-jacobi.csv")
    }

    @Test func quotingAndNumbers() {
        var run = RunInfo(run: "r", tool: "t")
        run.source = "a,b.log"
        var row = ResultRow(run: "r", benchmark: "jacobi", backend: "nccl", ranks: 8)
        row.variant = "NCCL \"fast\", overlap"
        row.timeUs = 7650210
        row.algbwGBps = 0.1
        row.metrics = ["z": 2, "a": 1.5]
        let line = ResultsCSV.lines(ResultSet(runs: [run], rows: [row]))
        #expect(line == "r,t,\"a,b.log\",jacobi,nccl,\"NCCL \"\"fast\"\", overlap\",,,,,,8,,,,,,7650210,0.1,,,a=1.5;z=2,\n")
        #expect(ResultsCSV.columns.count == line.filter { $0 == "," }.count + 1 - 2)  // two commas sit inside quotes
    }
}
