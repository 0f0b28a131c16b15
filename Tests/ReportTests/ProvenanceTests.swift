import Foundation
import Testing
@testable import Report
@testable import Results

@Suite struct ProvenanceTests {
    /// gpucomm's own runs show the command (without the binary's folder) and the git revision.
    @Test func runsShowCommandAndRevision() {
        var run = RunInfo(run: "r1", tool: "gpucomm")
        run.command = ["/tmp/gpucomm", "nccl", "all_reduce", "-b", "8", "-e", "1G", "-g", "4"]
        run.gitRevision = "81f51c4a3baf5c2979180c472ad569ef21a47ff9"
        run.host = "vm"
        let section = ReportBuilder.provenance(ResultSet(runs: [run], rows: []), inputs: [], options: ReportOptions())
        let table = section.figures.last!.table
        #expect(table.headers == ["run", "tool", "revision", "command", "host"])
        #expect(table.rows == [["r1", "gpucomm", "81f51c4a3baf", "gpucomm nccl all_reduce -b 8 -e 1G -g 4", "vm"]])
    }

    /// Columns no run fills stay out (imported study data has no command or revision).
    @Test func emptyColumnsAreLeftOut() {
        let section = ReportBuilder.provenance(ResultSet(runs: [RunInfo(run: "s", tool: "aws-efa-p5-study")], rows: []),
                                               inputs: [], options: ReportOptions())
        #expect(section.figures.last!.table.headers == ["run", "tool"])
    }
}
