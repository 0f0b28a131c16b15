import GPU

/// Builds backends by kind: the one place that knows every concrete backend.
public enum AlltoallBackends {
    /// Builds `kind`; throws `BackendUnavailable` when it cannot run here (the run lists it and goes on).
    /// Collective for the backends that register or allocate symmetric memory: every rank calls it in the same order.
    public static func make(_ kind: BackendKind, context c: BackendContext, shared: NVSHMEMAlltoallShared?) throws -> AlltoallBackend {
        switch kind {
        case .nccl, .ncclReg, .ncclSymm:
            guard let comm = c.comm else { throw BackendUnavailable(kind: kind, reason: "no NCCL communicator") }
            if let why = NCCLAlltoall.unavailableReason(kind, nccl: comm.nccl) { throw BackendUnavailable(kind: kind, reason: why) }
            return try NCCLAlltoall(kind: kind, comm: comm, bytes: c.maxBytesPerRank)
        case .ncclDevice:
            return try NCCLDeviceSlot.make(c)
        case .nvshmemHost, .nvshmemHostGraph:
            guard let shared else { throw BackendUnavailable(kind: kind, reason: "NVSHMEM did not start") }
            return NVSHMEMHostAlltoall(kind: kind, shared: shared, stream: c.stream)
        case .nvshmemCE:
            guard let shared else { throw BackendUnavailable(kind: kind, reason: "NVSHMEM did not start") }
            return try NVSHMEMCopyEngineAlltoall(shared: shared, split: c.kernel.copySplit, mode: c.kernel.copyMode, rounds: c.kernel.copyRounds)
        case .cudaCE:
            guard let channel = c.channel else { throw BackendUnavailable(kind: kind, reason: "no job channel to exchange IPC handles") }
            return try CUDACopyEngineAlltoall(context: c, channel: channel)
        case .cudaCE1P:
            guard let channel = c.channel else { throw BackendUnavailable(kind: kind, reason: "no job channel to exchange IPC handles") }
            return try OneProcessCopyAlltoall(context: c, channel: channel)
        case .nvshmemLib, .nvshmemPut, .nvshmemSignal, .nvshmemDirect:
            guard let shared else { throw BackendUnavailable(kind: kind, reason: "NVSHMEM did not start") }
            return try NVSHMEMDeviceAlltoall(kind: kind, shared: shared, options: c.kernel)
        case .nvshmemTMA:
            guard let shared else { throw BackendUnavailable(kind: kind, reason: "NVSHMEM did not start") }
            return try NVSHMEMTMAAlltoall(shared: shared, compiler: c.compiler, options: c.kernel)
        }
    }
}
