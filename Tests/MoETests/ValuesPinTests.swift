import Testing
@testable import MoE

/// Payload.value pinned at a few points: cuda/moe.cu (gc_moe_value) and bench/torch_moe.py (values)
/// compute the same formula; these numbers were printed by the Python one.
@Suite struct ValuesPinTests {
    @Test func pinned() {
        #expect([0, 1, 2, 3, 50, 199].map { Payload.value(source: 3, token: 300, element: $0) } == [3, 1, 44, -1, 0.5, -4])
        #expect([3, 7, 100].map { Payload.value(source: 3, token: 5, element: $0) } == [-3.5, 2, -1])
    }
}
