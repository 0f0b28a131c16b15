import Foundation
import Kernels
import Testing

/// nvshmem_signal_wait_until (NVSHMEM 3.4) polls a volatile and returns with no fence after it, unlike
/// nvshmem_uint64_wait_until (`__threadfence`, then the proxy's consistency op). The MoE kernels load
/// data the awaited signal released right after their waits (moe_normal.cu's notify: ncount;
/// moe_nvshmem.cu's dispatch receive: recvCount), so each wait must be followed by a system fence.
@Suite struct SignalWaitTests {
    /// The statement after each `nvshmem_signal_wait_until(...);` in `source`.
    static func statementsAfterWaits(_ source: String) -> [String] {
        var out: [String] = []
        var rest = source[...]
        while let r = rest.range(of: "nvshmem_signal_wait_until(") {
            let after = rest[r.upperBound...]
            guard let end = after.firstIndex(of: ";") else { break }
            let next = after[after.index(after: end)...]
            let statement = next.prefix { $0 != ";" }.trimmingCharacters(in: .whitespacesAndNewlines)
            out.append(statement)
            rest = next
        }
        return out
    }

    @Test func everyWaitIsFollowedByASystemFence() {
        for p in [KernelSources.moeNormal, KernelSources.moeNVSHMEM] {
            let after = Self.statementsAfterWaits(p.source)
            #expect(!after.isEmpty, "\(p.name): no nvshmem_signal_wait_until found")
            for s in after { #expect(s == "__threadfence_system()", "\(p.name): after a wait comes '\(s)'") }
        }
    }

    @Test func theScannerFindsTheStatementAfterEachWait() {
        let src = "a(); nvshmem_signal_wait_until(x, NVSHMEM_CMP_GE, 1);\n  b(y);\nnvshmem_signal_wait_until(z, 0, 2); __threadfence_system(); c();"
        #expect(Self.statementsAfterWaits(src) == ["b(y)", "__threadfence_system()"])
    }
}
