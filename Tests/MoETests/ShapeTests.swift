import Driver
import Testing
@testable import MoE

@Suite struct ShapeTests {
    static func shape(_ edit: (inout MoEShape) -> Void) -> MoEShape {
        var s = MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 256, dtype: .fp8)
        edit(&s)
        return s
    }

    @Test func badShapesAreOneLineNamingTheField() {
        #expect(Self.shape { $0.topK = 300 }.problem(ranks: nil)?.hasPrefix("--topk 300 is more than --experts 256") == true)
        #expect(Self.shape { $0.tokens = -1 }.problem(ranks: nil) == "--tokens must be at least 0 (got -1)")
        #expect(Self.shape { $0.hidden = 7000 }.problem(ranks: nil)?.hasPrefix("--hidden must be a multiple of 128 for --dtype fp8") == true)
        #expect(Self.shape { $0.hidden = 7000; $0.dtype = .bf16 }.problem(ranks: nil) == nil)
        #expect(Self.shape { $0.experts = 288 }.problem(ranks: 5)?.hasPrefix("--experts 288 is not divisible by 5 ranks") == true)
        #expect(Self.shape { $0.skew = .nan }.problem(ranks: nil)?.hasPrefix("--skew") == true)
        #expect(Self.shape { $0.zeroTokenRanks = 9 }.problem(ranks: 8)?.hasPrefix("--zero-ranks 9") == true)
        #expect(Self.shape { _ in }.problem(ranks: 8) == nil)
        for p in MoEPreset.allCases { for s in p.shapes { #expect(s.problem(ranks: 8) == nil, "\(p) \(s)") } }
        for s in MoEPreset.deepepLL.shapes { #expect(s.problem(ranks: 2) == nil && s.problem(ranks: 4) == nil) }
    }

    @Test func stylesParseAndSayWhatTheyNeed() throws {
        #expect(try MoEStyle.parseList("all").get() == MoEStyle.allCases)
        #expect(try MoEStyle.parseList("nccl,nvlink-ll,nccl").get() == [.nccl, .nvlinkLL])
        guard case .failure(let e) = MoEStyle.parseList("deepep") else { Issue.record("accepted a bad style"); return }
        #expect(e.description.hasPrefix("unknown style 'deepep'"))
        #expect(MoEStyle.nccl.applicability(JobShape(ranks: 4, hasNCCL: false)) == .waived("needs NCCL"))
        #expect(MoEStyle.nvlinkLL.applicability(JobShape(ranks: 4, hasNVSHMEM: false)) == .waived("needs NVSHMEM"))
        #expect(MoEStyle.nvshmemPut.applicability(JobShape(ranks: 1)) == .applies)
        #expect(MoEKernel.layout.accounting(bytes: 1, ranks: 1) == .latency)
    }
}
