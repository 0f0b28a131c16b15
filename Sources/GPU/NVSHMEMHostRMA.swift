internal import CGPU

/// NVSHMEM's host-initiated puts and gets enqueued on a stream
/// (`nvshmemx_{put,get}mem[_nbi]_on_stream(dest, source, bytes, pe, stream)`; on NVLink a
/// copy-engine copy) and `nvshmemx_quiet_on_stream`, which completes the `_nbi` ones. Resolved
/// once by `NVSHMEM.hostRMA()`. None of them reports a status.
public struct NVSHMEMHostRMA: @unchecked Sendable {
    let put: PFN_nvshmemx_rma_on_stream
    let putNBI: PFN_nvshmemx_rma_on_stream
    let get: PFN_nvshmemx_rma_on_stream
    let getNBI: PFN_nvshmemx_rma_on_stream
    let quietOnStream: PFN_nvshmemx_quiet_on_stream

    init(_ lib: DynamicLibrary) throws {
        put = try lib.function("nvshmemx_putmem_on_stream")
        putNBI = try lib.function("nvshmemx_putmem_nbi_on_stream")
        get = try lib.function("nvshmemx_getmem_on_stream")
        getNBI = try lib.function("nvshmemx_getmem_nbi_on_stream")
        quietOnStream = try lib.function("nvshmemx_quiet_on_stream")
    }

    /// `nvshmemx_putmem_on_stream` (`nonBlocking`: `_nbi`): `bytes` from local `source` to `dest` on PE `pe`.
    public func put(to dest: UnsafeMutableRawPointer, from source: UnsafeRawPointer, bytes: Int, pe: Int, on stream: Stream,
                    nonBlocking: Bool) {
        (nonBlocking ? putNBI : put)(dest, source, bytes, Int32(pe), stream.raw)
    }

    /// `nvshmemx_getmem_on_stream` (`nonBlocking`: `_nbi`): `bytes` from `source` on PE `pe` to local `dest`.
    public func get(to dest: UnsafeMutableRawPointer, from source: UnsafeRawPointer, bytes: Int, pe: Int, on stream: Stream,
                    nonBlocking: Bool) {
        (nonBlocking ? getNBI : get)(dest, source, bytes, Int32(pe), stream.raw)
    }

    /// `nvshmemx_quiet_on_stream`: the `_nbi` transfers enqueued on `stream` before are complete when it passes.
    public func quiet(on stream: Stream) { quietOnStream(stream.raw) }
}

extension NVSHMEM {
    /// The host-initiated on-stream transfers; throws `MissingSymbol` where the library lacks one.
    public func hostRMA() throws -> NVSHMEMHostRMA { try NVSHMEMHostRMA(library) }
}
