import Testing
@testable import Jacobi

@Suite struct StencilShapeTests {
    @Test func parsesRowsUnrollThreadsAndVector() {
        #expect(StencilShape.parse("16x4") == StencilShape(rows: 16, unroll: 4, threads: 128, vector: false))
        #expect(StencilShape.parse("v8x1x256") == StencilShape(rows: 8, unroll: 1, threads: 256, vector: true))
        #expect(StencilShape.parse("64x8x1024")?.threads == 1024)
    }

    @Test(arguments: ["", "16", "4x8", "0x1", "16x4x100", "16x4x2048", "x16x4", "16x4x128x2", "300x1"])
    func rejectsBadShapes(_ text: String) {
        #expect(StencilShape.parse(text) == nil)
    }

    @Test func descriptionRoundTrips() {
        for t in ["16x4x128", "v32x1x256"] { #expect(StencilShape.parse(t)?.description == t) }
    }
}
