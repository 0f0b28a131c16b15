import ArgumentParser
import Foundation
import Testing
@testable import GPUCommCLI
@testable import MoE

/// `gpucomm moe`'s bad input: one line naming the field, exit 2, before any GPU work (validate()
/// runs at parse time, with no GPU).
@Suite struct MoECommandTests {
    static func problem(_ args: [String]) -> String? {
        do { _ = try GPUComm.parseAsRoot(["moe"] + args); return nil } catch {
            #expect(GPUComm.exitCode(for: error) == .validationFailure, "\(args): not a usage error")
            return GPUComm.message(for: error)
        }
    }

    @Test(arguments: [
        (["--topk", "300"], "--topk 300 is more than --experts 256"),
        (["--np", "5", "--preset", "deepep-ll"], "--experts 288 is not divisible by 5 ranks"),
        (["--dtype", "fp8", "--hidden", "1000"], "--hidden must be a multiple of 128 for --dtype fp8"),
        (["--tokens=-1"], "--tokens must be at least 0 (got -1)"),
        (["--preset", "deepep"], "--preset must be one or a comma-separated list of deepep-normal, deepep-ll, pplx, nccl-ep (got 'deepep')"),
        (["--preset", "pplx,"], "--preset must be one or a comma-separated list"),
        (["--styles", "nvshmem-put,deepep"], "--styles: unknown style 'deepep'"),
        (["--skew", "0.5"], "--skew must be a number from 1"),
        (["--np", "4", "--zero-ranks", "5"], "--zero-ranks 5 is more than the 4 ranks"),
        (["--kernels", "--hidden", "1000", "--dtype", "bf16"], "--hidden must be a multiple of 128 for --kernels"),
        (["-w", "0"], "-w must be at least 1"),
        (["--np", "64", "--styles", "nvlink-normal"], "style nvlink-normal runs on at most 32 ranks"),
        (["--styles", "nvlink-normal", "--topk", "40"], "style nvlink-normal takes --topk up to 32 (got 40)"),
        (["--chunk-tokens", "300"], "--chunk-tokens must be from 1 to --ring-tokens 256 (got 300)"),
        (["--channels=-2"], "--channels must be at least 0"),
        (["--groups", "6"], "--groups 6 does not divide --experts 256"),
        (["--groups", "0"], "--groups must be at least 1 (got 0)"),
        (["--groups", "8", "--group-topk", "9"], "--group-topk 9 is more than --groups 8"),
        (["--groups", "64", "--group-topk", "1"], "--topk 8 is more than the 4 experts of --group-topk 1 groups of 4 (--groups 64)"),
        (["--np", "64", "--group-topk", "1"], "--topk 8 is more than the 4 experts of --group-topk 1 groups of 4 (--groups (one per rank, 64))"),
        (["--group-topk=-1"], "--group-topk must be at least 1 (got -1)"),
        (["--routings", "0"], "--routings must be from 1 to 64 (got 0)"),
        (["--routings", "65"], "--routings must be from 1 to 64 (got 65)"),
        (["--dump", "moe.jsonl", "--ranks", "2", "--routings", "2"], "--dump writes one routing per rank: --routings must be 1"),
        (["--np", "2", "--styles", "nccl", "--split"], "--split splits the nvshmem-put and nvlink-ll kernels: --styles nccl has neither"),
        (["--np", "2", "--styles", "nvlink-normal,nccl", "--split"], "--split splits the nvshmem-put and nvlink-ll kernels: --styles nvlink-normal,nccl has neither"),
        (["--kernels", "--split"], "--split times the halves of dispatch and combine across ranks: not with --kernels"),
        (["--dump", "moe.jsonl", "--ranks", "2", "--split"], "--split times the halves of dispatch and combine on GPUs: not with --dump"),
    ])
    func badInputIsOneLine(_ args: [String], _ start: String) {
        let m = Self.problem(args)
        #expect(m?.contains(start) == true, "\(args): \(m ?? "accepted")")
        #expect(m?.contains("\n") == false)
    }

    @Test func presetsAndOverrides() throws {
        let c = try #require(try GPUComm.parseAsRoot(["moe", "--np", "8", "--preset", "deepep-ll", "--tokens", "32", "--dtype", "bf16"]) as? MoECommand)
        #expect(c.shapes.count == 1)
        #expect(c.shapes[0].tokens == 32 && c.shapes[0].experts == 288 && c.shapes[0].masked == 10 && c.shapes[0].dtype == .bf16)
        let p = try #require(try GPUComm.parseAsRoot(["moe", "--np", "2", "--preset", "pplx"]) as? MoECommand)
        #expect(p.shapes.count == 14)
        #expect(p.requestedStyles == MoEStyle.allCases)
        // With every style, a shape the normal style cannot take is no error: MoERun waives the style.
        #expect(Self.problem(["--np", "64", "--experts", "256"]) == nil)
        #expect(Self.problem(["--np", "8", "--preset", "pplx"]) == nil)
        #expect(Self.problem(["--kernels", "--preset", "deepep-normal"]) == nil)
        let several = try #require(try GPUComm.parseAsRoot(["moe", "--np", "4", "--preset", "deepep-ll,nccl-ep", "--tokens", "16"]) as? MoECommand)
        #expect(several.shapes.map(\.experts) == [288, 256] && several.shapes.allSatisfy { $0.tokens == 16 })
        // pplx's 14 shapes at one token count are its 2 (experts, top-k, hidden) triples.
        let pplx = try #require(try GPUComm.parseAsRoot(["moe", "--np", "4", "--preset", "deepep-ll,pplx", "--tokens", "32"]) as? MoECommand)
        #expect(pplx.shapes.count == 3)
    }

    @Test func groupAndRoutingOptionsReachEveryShape() throws {
        let g = try #require(try GPUComm.parseAsRoot(["moe", "--np", "8", "--preset", "deepep-normal,nccl-ep", "--groups", "8", "--routings", "4"]) as? MoECommand)
        #expect(g.shapes.map(\.groups) == [8, 8] && g.shapes.map(\.groupTopK) == [0, 0] && g.shapes.map(\.routings) == [4, 4])
        #expect(g.shapes[0].keptGroups(ranks: 8) == 4)  // min(8, 4), DeepEP's default
        let m = try #require(try GPUComm.parseAsRoot(["moe", "--np", "4", "--group-topk", "2"]) as? MoECommand)
        #expect(m.shapes[0].groups == 0 && m.shapes[0].groupCount(ranks: 4) == 4 && m.shapes[0].groupTopK == 2)  // one group per rank
        let plain = try #require(try GPUComm.parseAsRoot(["moe", "--np", "4"]) as? MoECommand)
        #expect(plain.shapes[0].groups == 1 && plain.shapes[0].routings == 1)
        #expect(Self.problem(["--np", "8", "--groups", "8", "--group-topk", "2", "--routings", "64"]) == nil)
        #expect(Self.problem(["--dump", "moe.jsonl", "--ranks", "2", "--groups", "4"]) == nil)
    }

    /// --split reaches the run's settings; with every style, or any list holding nvshmem-put or
    /// nvlink-ll, it is accepted (the other styles run whole).
    @Test func splitOption() throws {
        let c = try #require(try GPUComm.parseAsRoot(["moe", "--np", "4", "--split"]) as? MoECommand)
        #expect(c.settings.split)
        let plain = try #require(try GPUComm.parseAsRoot(["moe", "--np", "4"]) as? MoECommand)
        #expect(!plain.settings.split)
        #expect(Self.problem(["--np", "2", "--styles", "nccl,nvlink-ll", "--split"]) == nil)
        #expect(Self.problem(["--np", "2", "--styles", "nvshmem-put", "--split", "--timing", "host"]) == nil)
    }

    /// The dump names the groups (resolved) and its routing is the group-limited one every rank builds.
    @Test func dumpCarriesGroupLimitedRouting() throws {
        var shape = MoEShape(tokens: 16, hidden: 128, topK: 4, experts: 32)
        shape.groups = 0; shape.groupTopK = 2  // one group per rank: each token on at most 2 ranks
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moe-dump-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MoEDump.write(shapes: [shape], ranks: 4, path: path)
        let line = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first)
        let d = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let sh = try #require(d["shape"] as? [String: Any])
        #expect(sh["groups"] as? Int == 4 && sh["group_topk"] as? Int == 2)
        let routing = try #require(d["routing"] as? [[String: Any]])
        let plan = ReceivePlan(shape: shape, ranks: 4)
        for (k, r) in routing.enumerated() {
            let experts = try #require(r["experts"] as? [Int])
            #expect(experts == plan.routings[k].experts.map(Int.init))
            for t in 0..<16 { #expect(Set(experts[(t * 4)..<(t * 4 + 4)].map { $0 / 8 }).count <= 2) }
        }
    }
}
