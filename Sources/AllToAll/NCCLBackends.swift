import GPU

/// `ncclAlltoAll` on plain, registered (`ncclCommRegister`) or symmetric-window buffers.
final class NCCLAlltoall: AlltoallBackend {
    let kind: BackendKind
    let comm: Communicator
    let send: DeviceBuffer
    let recv: DeviceBuffer
    var handles: [UnsafeMutableRawPointer?] = []

    /// Why `kind` cannot run with this NCCL, or nil.
    static func unavailableReason(_ kind: BackendKind, nccl: NCCL) -> String? {
        if !nccl.hasAlltoAll { return "ncclAlltoAll is missing (NCCL \(nccl.version) < 2.28.3)" }
        switch kind {
        case .ncclReg where nccl.library.address("ncclCommRegister") == nil:
            return "ncclCommRegister is missing in NCCL \(nccl.version)"
        case .ncclSymm where nccl.library.address("ncclCommWindowRegister") == nil || nccl.library.address("ncclMemAlloc") == nil:
            return "ncclCommWindowRegister/ncclMemAlloc are missing (NCCL \(nccl.version) < 2.27)"
        default: return nil
        }
    }

    /// Allocates (and registers: collective for windows) both buffers of `bytes`.
    init(kind: BackendKind, comm: Communicator, bytes: Int) throws {
        precondition(kind == .nccl || kind == .ncclReg || kind == .ncclSymm)
        self.kind = kind
        self.comm = comm
        let rounded = (bytes + 4095) / 4096 * 4096  // windows need 4096-byte alignment
        try comm.device.makeCurrent()
        if kind == .ncclSymm {
            send = try comm.nccl.allocate(bytes: rounded, on: comm.device)
            recv = try comm.nccl.allocate(bytes: rounded, on: comm.device)
            handles = [try comm.registerWindow(send), try comm.registerWindow(recv)]
        } else {
            send = try DeviceBuffer(device: comm.device, bytes: rounded)
            recv = try DeviceBuffer(device: comm.device, bytes: rounded)
            if kind == .ncclReg { handles = [try comm.register(send), try comm.register(recv)] }
        }
    }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        let count = bytesPerRank / comm.size
        try comm.alltoAll(send.pointer(), recv.pointer(), count: count, type: .uint8, stream: stream, label: "\(count) bytes per peer")
    }

    func labels(bytesPerRank: Int) -> [String: String] {
        ["buffer": kind == .ncclSymm ? "symmetric" : kind == .ncclReg ? "registered" : "none"]
    }

    /// Deregisters (window deregistration is collective: every rank releases its backends in the same order).
    deinit {
        for h in handles { if kind == .ncclSymm { comm.deregisterWindow(h) } else { comm.deregister(h) } }
    }
}
