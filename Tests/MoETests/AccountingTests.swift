import Testing
@testable import MoE

/// The byte conventions against the arithmetic written in docs/moe.md ("Byte accounting").
@Suite struct AccountingTests {
    static var ll: MoEShape { MoEPreset.deepepLL.shapes[0] }

    /// docs/moe.md: at the low-latency shape with all 1024 selections of a rank valid, the rank
    /// moves 128 × 8 × 7408 B = 7.59 MB to dispatch (FP8) and 128 × 8 × 14336 B = 14.68 MB to combine.
    @Test func deepEPLowLatencyAnchor() {
        var t = RankTraffic()
        t.tokens = 128; t.selections = 1024
        let s = Self.ll
        #expect(ByteConvention.deepepLL.bytes(t, shape: s, ranks: 8, combine: false) == 128 * 8 * 7408)
        #expect(ByteConvention.deepepLL.bytes(t, shape: s, ranks: 8, combine: false) == 7_585_792)
        #expect(ByteConvention.deepepLL.bytes(t, shape: s, ranks: 8, combine: true) == 14_680_064)
        var b = s
        b.dtype = .bf16
        #expect(ByteConvention.deepepLL.bytes(t, shape: b, ranks: 8, combine: false) == 1024 * 14336)
    }

    /// With no masking every rank of the LL shape has exactly 1024 valid selections: the mean over
    /// ranks computed from real routing gives the anchor exactly.
    @Test func anchorFromRouting() {
        var s = Self.ll
        s.masked = 0
        let plan = ReceivePlan(shape: s, ranks: 8)
        let m = plan.meanBytes(shape: s)
        #expect(m[.deepepLL]!.dispatch == 7_585_792)
        #expect(m[.deepepLL]!.combine == 14_680_064)
        #expect(m[.pplx]!.dispatch == 128 * 8 * (7168 + 224))
        // With 10 masked: 1014 valid selections.
        let masked = ReceivePlan(shape: Self.ll, ranks: 8)
        #expect(masked.traffic(rank: 0).selections == 1014)
        #expect(ByteConvention.deepepLL.bytes(masked.traffic(rank: 0), shape: Self.ll, ranks: 8, combine: false) == 1014 * 7408)
        #expect(ByteConvention.pplx.bytes(masked.traffic(rank: 0), shape: Self.ll, ranks: 8, combine: false) == 1024 * 7392)  // pplx counts masked ones
    }

    @Test func deepEPNormalCountsReceivedRowsOnceWithTheFP8Factor() {
        var t = RankTraffic()
        t.receivedTokens = 1000
        let s = MoEPreset.deepepNormal.shapes[0]
        let fp8 = ByteConvention.deepepNormal.bytes(t, shape: s, ranks: 8, combine: false)
        #expect(fp8 == 1000 * 7392)                                      // 7168 + 7168/32
        let factor: Double = (1 + 4.0 / 128) / 2                        // DeepEP's FP8 factor
        let bf16Bytes: Double = 1000 * 7168 * 2
        #expect(Double(fp8) == bf16Bytes * factor)
        #expect(ByteConvention.deepepNormal.bytes(t, shape: s, ranks: 8, combine: true) == 1000 * 14336)
    }

    @Test func pplxCountsTokensTimesTopK() {
        var t = RankTraffic()
        t.tokens = 128
        let s = MoEPreset.pplx.shapes[0]  // 64 experts, top-6, hidden 2048, 1 token
        #expect(s.experts == 64 && s.topK == 6 && s.hidden == 2048 && s.tokens == 1)
        #expect(ByteConvention.pplx.bytes(t, shape: s, ranks: 8, combine: false) == 128 * 6 * (2048 + 64))
        #expect(ByteConvention.pplx.bytes(t, shape: s, ranks: 8, combine: true) == 128 * 6 * 4096)
    }

    @Test func wireCountsRemoteMessagesWithHeaderScalesPaddingAndCounts() {
        var t = RankTraffic()
        t.remoteSelections = 100; t.receivedRemoteSelections = 90
        var s = MoEShape(tokens: 16, hidden: 128, topK: 2, experts: 16, dtype: .fp8)
        // 16 + 128 + 4 = 148 → stride 160; counts: 3 remote ranks × 4 local experts × 4 B.
        #expect(MessageFormat(hidden: 128, dtype: .fp8).stride == 160)
        #expect(ByteConvention.wire.bytes(t, shape: s, ranks: 4, combine: false) == 100 * 160 + 3 * 4 * 4)
        #expect(ByteConvention.wire.bytes(t, shape: s, ranks: 4, combine: true) == 90 * 256)
        s.dtype = .bf16
        #expect(ByteConvention.wire.bytes(t, shape: s, ranks: 4, combine: false) == 100 * 272 + 48)
    }

    @Test func messageFormats() {
        #expect(MessageFormat(hidden: 7168, dtype: .fp8).bytes == 7408)
        #expect(MessageFormat(hidden: 7168, dtype: .fp8).stride == 7408)
        #expect(MessageFormat(hidden: 7168, dtype: .bf16).stride == 14352)
        #expect(MessageFormat(hidden: 7168, dtype: .bf16).combineRowBytes == 14336)
    }

    @Test func presetsReproduceTheAnchors() {
        #expect(MoEPreset.deepepNormal.shapes == [MoEShape(tokens: 4096, hidden: 7168, topK: 8, experts: 256, dtype: .fp8)])
        #expect(Self.ll.tokens == 128 && Self.ll.experts == 288 && Self.ll.masked == 10 && Self.ll.dtype == .fp8)
        #expect(MoEPreset.pplx.shapes.count == 14)
        #expect(Set(MoEPreset.pplx.shapes.map { [$0.experts, $0.topK, $0.hidden] }) == [[64, 6, 2048], [256, 8, 7168]])
        #expect(MoEPreset.pplx.shapes.map(\.tokens).prefix(7) == [1, 4, 8, 16, 32, 64, 128])
        #expect(MoEPreset.ncclEP.shapes[0].dtype == .bf16 && MoEPreset.ncclEP.shapes[0].experts == 256)
    }
}
