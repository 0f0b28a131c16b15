import Testing
@testable import GPU

@Suite struct KernelArgumentsTests {
    /// cuLaunchKernel gets one pointer per argument, each to a copy of the value.
    @Test func pointersHoldEachValue() {
        let a = KernelArguments([UInt64(0xdead_beef_0000_0007), Int32(-2), Double(2.5), UInt32(9)])
        #expect(a.params[0]!.load(as: UInt64.self) == 0xdead_beef_0000_0007)
        #expect(a.params[1]!.load(as: Int32.self) == -2)
        #expect(a.params[2]!.load(as: Double.self) == 2.5)
        #expect(a.params[3]!.load(as: UInt32.self) == 9)
    }
}
