import Testing
@testable import Collectives

@Suite struct TableTests {
    /// Lines taken from nccl-tests 2.19.6's real output (shared/reference/tool-output); ours must match byte for byte.
    @Test func matchesNcclTestsLayout() {
        let a = NcclTestsTable.row(size: 8, count: 2, type: "float", op: "sum", root: -1,
                                   outOfPlace: .init(timeUs: 20.58, algbw: 0.0, busbw: 0.0, wrong: 0),
                                   inPlace: .init(timeUs: 20.66, algbw: 0.0, busbw: 0.0, wrong: 0))
        #expect(a == "           8             2     float     sum      -1    20.58    0.00    0.00       0    20.66    0.00    0.00       0")
        let b = NcclTestsTable.row(size: 536_870_912, count: 134_217_728, type: "float", op: "sum", root: -1,
                                   outOfPlace: .init(timeUs: 2317.92, algbw: 231.62, busbw: 347.43, wrong: 0),
                                   inPlace: .init(timeUs: 2321.20, algbw: 231.29, busbw: 346.94, wrong: 0))
        #expect(b == "   536870912     134217728     float     sum      -1  2317.92  231.62  347.43       0  2321.20  231.29  346.94       0")
    }

    @Test func notApplicableAndUnchecked() {
        let r = NcclTestsTable.row(size: 64, count: 16, type: "float", op: "none", root: -1,
                                   outOfPlace: .init(timeUs: 30, algbw: 0, busbw: 0, wrong: nil), inPlace: nil)
        #expect(r.hasSuffix("     N/A      n/a     n/a     n/a     n/a"))
        #expect(r.count == 118)
    }

    @Test func headerHasNcclTestsColumns() {
        let lines = NcclTestsTable.header.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].contains("#wrong") && lines[2].contains("(elements)"))
    }
}
