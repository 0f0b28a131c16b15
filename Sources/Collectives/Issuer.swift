import CGPU
import GPU

/// Issues NCCL calls on one communicator and stream, falling back to grouped send/recv where a
/// collective is missing from an older NCCL (alltoall, gather, scatter before 2.28.3).
struct CommIssuer: NCCLIssuer {
    let comm: Communicator
    let stream: Stream
    var nccl: NCCL { comm.nccl }
    var s: CUstream { stream.raw }
    var c: ncclComm_t { comm.raw }

    func allReduce(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws {
        try comm.check(nccl.allReduce(a, b, count, dtype, op, c, s), "ncclAllReduce(count \(count))")
    }
    func reduce(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32, root: Int) throws {
        try comm.check(nccl.reduce(a, b, count, dtype, op, Int32(root), c, s), "ncclReduce(count \(count), root \(root))")
    }
    func broadcast(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        try comm.check(nccl.broadcast(a, b, count, dtype, Int32(root), c, s), "ncclBroadcast(count \(count), root \(root))")
    }
    func allGather(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws {
        try comm.check(nccl.allGather(a, b, count, dtype, c, s), "ncclAllGather(count \(count))")
    }
    func reduceScatter(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws {
        try comm.check(nccl.reduceScatter(a, b, count, dtype, op, c, s), "ncclReduceScatter(count \(count))")
    }
    func alltoAll(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws {
        if let f = nccl.alltoAll {
            try comm.check(f(a, b, count, dtype, c, s), "ncclAlltoAll(count \(count))")
            return
        }
        let bytes = count * NCCLDataType(rawValue: dtype)!.size
        try grouped {
            for p in 0..<comm.size {
                try send(a + p * bytes, count: count, dtype: dtype, peer: p)
                try recv(b + p * bytes, count: count, dtype: dtype, peer: p)
            }
        }
    }
    func gather(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        if let f = nccl.gather {
            try comm.check(f(a, b, count, dtype, Int32(root), c, s), "ncclGather(count \(count), root \(root))")
            return
        }
        let bytes = count * NCCLDataType(rawValue: dtype)!.size
        try grouped {
            if comm.rank == root { for p in 0..<comm.size { try recv(b + p * bytes, count: count, dtype: dtype, peer: p) } }
            try send(a, count: count, dtype: dtype, peer: root)
        }
    }
    func scatter(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        if let f = nccl.scatter {
            try comm.check(f(a, b, count, dtype, Int32(root), c, s), "ncclScatter(count \(count), root \(root))")
            return
        }
        let bytes = count * NCCLDataType(rawValue: dtype)!.size
        try grouped {
            if comm.rank == root { for p in 0..<comm.size { try send(a + p * bytes, count: count, dtype: dtype, peer: p) } }
            try recv(b, count: count, dtype: dtype, peer: root)
        }
    }
    func send(_ a: UnsafeRawPointer, count: Int, dtype: Int32, peer: Int) throws {
        try comm.check(nccl.send(a, count, dtype, Int32(peer), c, s), "ncclSend(count \(count), peer \(peer))")
    }
    func recv(_ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, peer: Int) throws {
        try comm.check(nccl.recv(b, count, dtype, Int32(peer), c, s), "ncclRecv(count \(count), peer \(peer))")
    }
    func copy(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, bytes: Int) throws {
        try stream.copy(from: a, to: b, bytes: bytes)
    }

    private func grouped(_ body: () throws -> Void) throws {
        try comm.check(nccl.groupStart(), "ncclGroupStart")
        do { try body() } catch { _ = nccl.groupEnd(); throw error }
        try comm.check(nccl.groupEnd(), "ncclGroupEnd")
    }
}
