import Driver
import Foundation
import MoE

/// `gpucomm moe --dump FILE --ranks N`: each shape's routing and byte conventions as one JSON
/// line, with no GPU work; the byte table on stdout. bench/torch_moe.py reads the file, so the
/// PyTorch peer moves the same rows and counts the same bytes. One routing per rank: `--routings`
/// R > 1 is refused before this (the peer reuses one layout; docs/moe.md).
enum MoEDump {
    static func write(shapes: [MoEShape], ranks: Int, path: String) throws {
        precondition(shapes.allSatisfy { $0.routings == 1 }, "--dump with --routings > 1 passed validation")
        var out = Data()
        print("# bytes per rank and operation (mean over \(ranks) ranks)")
        print("#" + ["tokens", "hidden", "topk", "experts", "dtype", "op"].map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined()
              + ByteConvention.allCases.map { $0.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        for s in shapes {
            let plan = ReceivePlan(shape: s, ranks: ranks)
            let bytes = plan.meanBytes(shape: s)
            for (op, pick) in [("dispatch", { (b: (dispatch: Double, combine: Double)) in b.dispatch }), ("combine", { $0.combine })] {
                print(" " + [String(s.tokens), String(s.hidden), String(s.topK), String(s.experts), op == "combine" ? "bf16" : s.dtype.rawValue, op]
                    .map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined()
                    + ByteConvention.allCases.map { String(format: "%.0f", pick(bytes[$0]!)).padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
            }
            let record: [String: Any] = [
                "shape": ["tokens": s.tokens, "hidden": s.hidden, "topk": s.topK, "experts": s.experts, "dtype": s.dtype.rawValue,
                          "masked": s.masked, "skew": s.skew, "zero_ranks": s.zeroTokenRanks, "seed": Double(s.seed),
                          "groups": s.groupCount(ranks: ranks), "group_topk": s.keptGroups(ranks: ranks)],
                "ranks": ranks,
                "message_stride": MessageFormat(hidden: s.hidden, dtype: s.dtype).stride,
                "bytes": Dictionary(uniqueKeysWithValues: ByteConvention.allCases.map { ($0.rawValue, ["dispatch": bytes[$0]!.dispatch, "combine": bytes[$0]!.combine]) }),
                "routing": plan.routings.map { ["tokens": $0.tokens, "experts": $0.experts.map(Int.init), "weights": $0.weights.map(Double.init)] },
            ]
            out += try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            out += Data("\n".utf8)
        }
        do { try out.write(to: URL(fileURLWithPath: path)) } catch { throw Failure(.failure, "--dump \(path): \(error.localizedDescription)") }
        FileHandle.standardError.write(Data("[gpucomm] \(shapes.count) shape(s) written to \(path)\n".utf8))
    }
}
