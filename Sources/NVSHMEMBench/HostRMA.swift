import GPU

/// NVSHMEM's host-initiated on-stream puts and gets, resolved from the loaded host library.
///
/// `nvshmemx_{put,get}mem[_nbi]_on_stream(dest, source, bytes, pe, stream)` enqueue the transfer on
/// `stream` (on NVLink a copy-engine copy); `nvshmemx_quiet_on_stream` completes the `_nbi` ones.
struct HostRMA {
    typealias OnStream = @convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, Int32, OpaquePointer?) -> Void
    typealias QuietOnStream = @convention(c) (OpaquePointer?) -> Void

    let put: OnStream
    let putNBI: OnStream
    let get: OnStream
    let getNBI: OnStream
    let quiet: QuietOnStream

    init(_ nv: NVSHMEM) throws {
        put = try nv.library.function("nvshmemx_putmem_on_stream")
        putNBI = try nv.library.function("nvshmemx_putmem_nbi_on_stream")
        get = try nv.library.function("nvshmemx_getmem_on_stream")
        getNBI = try nv.library.function("nvshmemx_getmem_nbi_on_stream")
        quiet = try nv.library.function("nvshmemx_quiet_on_stream")
    }

    /// The call for an operation and completion mode.
    func call(_ op: P2POp, blocking: Bool) -> OnStream {
        switch (op, blocking) {
        case (.put, true): return put
        case (.put, false): return putNBI
        case (.get, true): return get
        case (.get, false): return getNBI
        }
    }
}
