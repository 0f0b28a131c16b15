import GPU

/// NVSHMEM's `nvshmemx_float_sum_reduce_on_stream(team, dest, source, nreduce, stream)` over
/// NVSHMEM_TEAM_WORLD (0) for one float; dest and source symmetric.
struct NVSHMEMFloatSum {
    let session: NVSHMEMSession

    init(_ session: NVSHMEMSession) throws {
        let nv = session.lib
        guard nv.hasFloatSumReduce else {
            throw JacobiRunError("nvshmemx_float_sum_reduce_on_stream not found in \(nv.library.path) (NVSHMEM too old?)")
        }
        self.session = session
    }

    func callAsFunction(dest: DeviceBuffer, source: DeviceBuffer, on stream: Stream) throws {
        try session.floatSumReduce(dest: dest, source: source, count: 1, on: stream)
    }
}

/// A failure while running a variant, in one line (library calls outside the GPU module's tables).
public struct JacobiRunError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
