import ArgumentParser
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
}
