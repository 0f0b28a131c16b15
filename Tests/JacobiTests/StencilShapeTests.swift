import Testing
@testable import Jacobi

@Suite struct StencilShapeTests {
    @Test func parsesRowsUnrollAndThreads() {
        #expect(StencilShape.parse("16x4") == StencilShape(rows: 16, unroll: 4, threads: 128))
        #expect(StencilShape.parse("8x1x256") == StencilShape(rows: 8, unroll: 1, threads: 256))
        #expect(StencilShape.parse("64x8x1024")?.threads == 1024)
    }

    @Test(arguments: ["", "16", "4x8", "0x1", "16x4x100", "16x4x2048", "x16x4", "16x4x128x2", "300x1", "v16x1"])
    func rejectsBadShapes(_ text: String) {
        #expect(StencilShape.parse(text) == nil)
    }

    @Test func descriptionRoundTrips() {
        for t in ["16x4x128", "32x1x256"] { #expect(StencilShape.parse(t)?.description == t) }
    }
}

@Suite struct StencilGeometryTests {
    @Test func fourColumnsPerThreadWhenRowsAreSixteenByteWords() {
        #expect(StencilKernels.columnsPerThread(nx: 16384) == 4)
        #expect(StencilKernels.columnsPerThread(nx: 1030) == 1)
        #expect(StencilKernels.blocksX(nx: 16384) == 32)       // 16384 / (4 × 128)
        #expect(StencilKernels.blocksX(nx: 16388) == 33)       // column 16387 (fixed) still gets a thread
        #expect(StencilKernels.blocksX(nx: 1030) == 9)         // ceil(1028 / 128)
        #expect(StencilKernels.blocksX(nx: 16384, threads: 256) == 16)
    }

    @Test func gridIsOneWaveWhenSixteenRowBlocksWouldNeedMore() {
        // 16384² on 4 GPUs: 4096 rows, 32 block columns; 2112 resident blocks (16 per SM × 132).
        #expect(StencilKernels.grid(nx: 16384, rows: 4096, wave: 2112) == 32 * 66)
        // A small slab fits: 16-row blocks.
        #expect(StencilKernels.grid(nx: 1024, rows: 256, wave: 2112) == 2 * 16)
        // No cap.
        #expect(StencilKernels.grid(nx: 16384, rows: 4096, wave: 0) == 32 * 256)
        // A wave narrower than one block row cannot be filled exactly: 16-row blocks.
        #expect(StencilKernels.grid(nx: 16384, rows: 4096, wave: 16) == 32 * 256)
        #expect(StencilShape.parse("wave")?.rows == 0)
        // With the service block: 65 block rows of stencil blocks and one more block, within the wave.
        #expect(StencilKernels.gridWithService(nx: 16384, rows: 4096, wave: 2112, oneWave: true) == 32 * 65 + 1)
        #expect(StencilKernels.gridWithService(nx: 16384, rows: 4096, wave: 2112, oneWave: false) == 32 * 256 + 1)
    }
}
