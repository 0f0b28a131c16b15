import Foundation
import GPU

extension Job {
    /// Starts NVSHMEM on this process's one GPU over the job's rendezvous (unique-id bootstrap).
    ///
    /// On one host it sets NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME=lo and NVSHMEM_REMOTE_TRANSPORT=none
    /// unless they are set, and sizes the symmetric heap (NVSHMEM_SYMMETRIC_SIZE) to `heapBytes`
    /// unless that is set. Every rank must call it. Keep the session alive while its memory is used.
    public func startNVSHMEM(heapBytes: Int) throws -> NVSHMEMSession {
        guard devices.count == 1 else { throw Failure(.usage, "NVSHMEM runs one GPU per process: -g must be 1") }
        // A job of one process on one GPU is one PE: its own unique id, no rendezvous.
        guard group != nil || worldSize == 1 else { throw Failure(.usage, "NVSHMEM needs one process per GPU: add --np N (or start it with mpirun/srun/torchrun)") }
        let env = ProcessInfo.processInfo.environment
        let nv: NVSHMEM
        do { nv = try NVSHMEM() } catch { throw Failure(.unavailable, "NVSHMEM: \(error)") }
        if group.map({ Set($0.hosts).count == 1 }) ?? true {
            if env["NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME"] == nil { setenv("NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME", "lo", 1) }
            if env["NVSHMEM_REMOTE_TRANSPORT"] == nil { setenv("NVSHMEM_REMOTE_TRANSPORT", "none", 1) }
        }
        if env["NVSHMEM_SYMMETRIC_SIZE"] == nil { setenv("NVSHMEM_SYMMETRIC_SIZE", String(heapBytes), 1) }
        guard let group else { return try nv.start(rank: 0, pes: 1, uniqueId: try nv.uniqueId(), device: devices[0]) }
        let id = try group.broadcast(group.rank == 0 ? nv.uniqueId() : nil)
        return try nv.start(rank: group.rank, pes: group.size, uniqueId: id, device: devices[0])
    }
}
