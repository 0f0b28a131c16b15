import CGPU
import GPU

/// NVSHMEM's `nvshmemx_float_sum_reduce_on_stream(team, dest, source, nreduce, stream)` over
/// NVSHMEM_TEAM_WORLD (0); dest and source symmetric.
struct NVSHMEMFloatSum {
    typealias Fn = @convention(c) (Int32, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, CUstream?) -> Int32
    let fn: Fn

    init(_ nv: NVSHMEM) throws {
        guard let f: Fn = nv.library.optionalFunction("nvshmemx_float_sum_reduce_on_stream") else {
            throw JacobiRunError("nvshmemx_float_sum_reduce_on_stream not found in \(nv.library.path) (NVSHMEM too old?)")
        }
        fn = f
    }

    func callAsFunction(dest: DeviceBuffer, source: DeviceBuffer, on stream: Stream) throws {
        let r = fn(0, dest.pointer(), source.pointer(), 1, stream.raw)
        guard r == 0 else { throw JacobiRunError("nvshmemx_float_sum_reduce_on_stream failed: NVSHMEM status \(r)") }
    }
}

/// A failure while running a variant, in one line (library calls outside the GPU module's tables).
public struct JacobiRunError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
