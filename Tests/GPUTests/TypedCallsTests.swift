import Testing
@testable import GPU

/// The Swift values GPU's typed calls take and the C values they hand the libraries.
@Suite struct TypedCallsTests {
    /// nccl.h `ncclRedOp_t`: ncclSum 0, ncclProd 1, ncclMax 2, ncclMin 3, ncclAvg 4.
    @Test func reductionsAreNcclHValues() {
        let want: [(NCCLReduction, Int32)] = [(.sum, 0), (.prod, 1), (.max, 2), (.min, 3), (.avg, 4)]
        for (op, raw) in want {
            #expect(op.rawValue == raw, "\(op)")
            #expect(NCCLReduction(rawValue: raw) == op)
        }
        #expect(Set(want.map(\.0)).count == want.count, "distinct")
    }

    @Test(arguments: [(NCCLReduceOp.sum, NCCLReduction.sum), (.prod, .prod), (.max, .max), (.min, .min), (.avg, .avg)])
    func builtinOpsMapToTheirReductions(_ op: NCCLReduceOp, _ r: NCCLReduction) {
        #expect(op.builtin == r)
    }

    @Test func premulsumIsNoBuiltin() {
        #expect(NCCLReduceOp.premulsum.builtin == nil)
    }

    /// Jacobi's norm and halos: float32 is nccl.h's ncclFloat32 (7), sum its ncclSum (0).
    @Test func jacobisTypeAndOp() {
        #expect(NCCLDataType.float32.rawValue == 7)
        #expect(NCCLReduction.sum.rawValue == 0)
        #expect(NCCLDataType.uint8.rawValue == 1, "ncclUint8: the byte all-to-alls")
    }

    /// `CUdeviceptr` is `unsigned long long`: a DeviceAddress is those 64 bits, to the driver and to kernels.
    @Test func deviceAddressIsCUdeviceptrsBits() {
        #expect(MemoryLayout<DeviceAddress>.size == 8 && MemoryLayout<DeviceAddress>.stride == 8)
        let a = DeviceAddress(bits: 0x7f00_dead_beef_1000)
        #expect(UInt64(a) == 0x7f00_dead_beef_1000)
        #expect(a.bytes == withUnsafeBytes(of: UInt64(0x7f00_dead_beef_1000)) { Array($0) })
        let args = KernelArguments([a, Int32(3), UInt64(a + 16)])
        #expect(args.params[0]!.load(as: UInt64.self) == 0x7f00_dead_beef_1000)
        #expect(args.params[1]!.load(as: Int32.self) == 3)
        #expect(args.params[2]!.load(as: UInt64.self) == 0x7f00_dead_beef_1010)
    }

    @Test func deviceAddressArithmeticAndPointers() {
        let a = DeviceAddress(bits: 0x1000)
        #expect((a + 0x234).bits == 0x1234)
        #expect((a + 0x234 + -0x34).bits == 0x1200)
        #expect(UInt(bitPattern: (a + 8).pointer) == 0x1008)
        #expect(DeviceAddress((a + 8).pointer) == a + 8, "pointer round trip")
        #expect(DeviceAddress(UnsafeRawPointer(bitPattern: 0x2000)) == DeviceAddress(bits: 0x2000))
        #expect(DeviceAddress.null.pointer == nil)
        #expect(DeviceAddress(UnsafeMutableRawPointer(bitPattern: 0)) == .null, "NULL is address 0")
        #expect(DeviceAddress(bits: 0xabc).description == "0xabc")
    }

    /// NVSHMEM's choke point: status 0 passes, anything else is an error naming the call.
    @Test(arguments: [Int32(1), 7, -1])
    func nvshmemStatusesBecomeErrors(_ status: Int32) {
        #expect(throws: Never.self) { try NVSHMEM.check(0, "nvshmemx_cumodule_init") }
        do {
            try NVSHMEM.check(status, "nvshmemx_alltoallmem_on_stream(4096 bytes per PE)")
            Issue.record("status \(status) did not throw")
        } catch let e as NVSHMEMError {
            #expect(e.code == status && e.call == "nvshmemx_alltoallmem_on_stream(4096 bytes per PE)")
            #expect(e.description == "nvshmemx_alltoallmem_on_stream(4096 bytes per PE) failed: NVSHMEM status \(status) (set NVSHMEM_DEBUG=INFO for NVSHMEM's own log)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// The choke point builds the call's name only when it fails (it runs in timed loops).
    @Test func nvshmemCallNameOnlyOnFailure() throws {
        var built = 0
        func name() -> String { built += 1; return "x" }
        try NVSHMEM.check(0, name())
        #expect(built == 0)
        _ = try? NVSHMEM.check(2, name())
        #expect(built == 1)
    }
}
