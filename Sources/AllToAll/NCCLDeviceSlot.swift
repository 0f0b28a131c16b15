import GPU

// ─── ADAPTER SLOT: NCCL device API (LSA) all-to-all ─────────────────────────────────────────────
// The lead replaces this file after merging the branch that adds `NCCLDeviceAlltoall`
// (init(comm:compiler:maxBytesPerRank:) collective; send/recv: DeviceBuffer;
// enqueue(bytesPerRank:stream:); static unavailableReason(...) -> String?). The adapter is:
//
//   final class NCCLDeviceBackend: AlltoallBackend {
//       let kind = BackendKind.ncclDevice
//       let impl: NCCLDeviceAlltoall
//       var send: DeviceBuffer { impl.send }
//       var recv: DeviceBuffer { impl.recv }
//       init(_ c: BackendContext) throws { impl = try NCCLDeviceAlltoall(comm: c.comm!, compiler: c.compiler, maxBytesPerRank: c.maxBytesPerRank) }
//       func enqueue(bytesPerRank: Int, stream: Stream) throws { try impl.enqueue(bytesPerRank: bytesPerRank, stream: stream) }
//   }
//   enum NCCLDeviceSlot {
//       static func unavailableReason(_ c: BackendContext) -> String? { NCCLDeviceAlltoall.unavailableReason(...) }
//       static func make(_ c: BackendContext) throws -> AlltoallBackend { try NCCLDeviceBackend(c) }
//   }
// ────────────────────────────────────────────────────────────────────────────────────────────────

/// The `nccl-device` backend's hook: until the adapter is added it is listed as unavailable, never faked.
enum NCCLDeviceSlot {
    static func unavailableReason(_ c: BackendContext) -> String? { "not built into this binary yet" }
    static func make(_ c: BackendContext) throws -> AlltoallBackend {
        throw BackendUnavailable(kind: .ncclDevice, reason: "not built into this binary yet")
    }
}

/// A backend that cannot run here; the run lists it with the reason and goes on.
public struct BackendUnavailable: Error, CustomStringConvertible, Sendable {
    public var kind: BackendKind
    public var reason: String
    public var description: String { "\(kind.rawValue): \(reason)" }
}
